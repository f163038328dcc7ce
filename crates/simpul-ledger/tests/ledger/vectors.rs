//! Runs every transparency-dev Merkle proof vector in `tests/vectors/` (source, commit and
//! licence in its README) through [`verify_inclusion`] and [`verify_consistency`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use simpul_ledger::{Hash, verify_consistency, verify_inclusion};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InclusionVector {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyVector {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    #[serde(rename = "wantErr")]
    want_err: bool,
}

/// Vectors whose expectation we knowingly do not meet, with the reason.
///
/// `sizes-are-equal-one-and-proof-is-empty` gives two equal 12-byte "roots" and expects
/// success, because the Go verifier compares byte strings when the sizes are equal. Our
/// hashes are 32-byte values parsed at the boundary, so a 12-byte root is refused before
/// any proof logic runs; accepting it would mean accepting a root that no tree has.
const KNOWN_DIVERGENCES: &[&str] =
    &["consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"];

fn vector_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            json_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// Many "wrong root" and "garbage" vectors change a hash's length, so they are refused
/// here, at the type boundary, before verification; same-length corruption of every
/// hash is covered by the bit-flip properties in `properties.rs`.
///
/// Parses the hashes of a vector; `None` when one is not a 32-byte base64 hash, which
/// [`Hash::from_base64`] refuses and so counts as a rejection.
fn parse_hashes<'a>(texts: impl IntoIterator<Item = &'a String>) -> Option<Vec<Hash>> {
    texts
        .into_iter()
        .map(|t| Hash::from_base64(t).ok())
        .collect()
}

fn check_inclusion(v: &InclusionVector) -> bool {
    let proof = v.proof.clone().unwrap_or_default();
    let (Some(proof), Some(pair)) = (parse_hashes(&proof), parse_hashes([&v.leaf_hash, &v.root]))
    else {
        return false;
    };
    verify_inclusion(&pair[0], v.leaf_idx, v.tree_size, &proof, &pair[1]).is_ok()
}

fn check_consistency(v: &ConsistencyVector) -> bool {
    let proof = v.proof.clone().unwrap_or_default();
    let (Some(proof), Some(roots)) = (parse_hashes(&proof), parse_hashes([&v.root1, &v.root2]))
    else {
        return false;
    };
    verify_consistency(v.size1, v.size2, &proof, &roots[0], &roots[1]).is_ok()
}

#[test]
fn every_transparency_dev_vector_gives_the_expected_verdict() -> anyhow::Result<()> {
    let mut files = Vec::new();
    json_files(&vector_dir(), &mut files)?;
    files.sort();
    let mut counts = (0usize, 0usize);
    let mut diverging = BTreeSet::new();
    let mut failures = Vec::new();
    for path in &files {
        let name = path
            .strip_prefix(vector_dir())?
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(path)?;
        let (accepted, want_err, desc) = if name.starts_with("inclusion/") {
            let v: InclusionVector = serde_json::from_str(&text)?;
            counts.0 += 1;
            (check_inclusion(&v), v.want_err, v.desc)
        } else if name.starts_with("consistency/") {
            let v: ConsistencyVector = serde_json::from_str(&text)?;
            counts.1 += 1;
            (check_consistency(&v), v.want_err, v.desc)
        } else {
            anyhow::bail!("unexpected vector file {name}");
        };
        if accepted == want_err {
            if KNOWN_DIVERGENCES.contains(&name.as_str()) {
                diverging.insert(name);
            } else {
                failures.push(format!("{name} ({desc}): accepted = {accepted}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "vectors with the wrong verdict:\n{}",
        failures.join("\n")
    );
    // Every listed divergence must still diverge, so the list cannot go stale.
    assert_eq!(
        diverging,
        KNOWN_DIVERGENCES.iter().map(|s| s.to_string()).collect()
    );
    // The copied set: 98 inclusion and 98 consistency files. A lost directory would
    // otherwise pass silently.
    assert_eq!(counts, (98, 98));
    Ok(())
}
