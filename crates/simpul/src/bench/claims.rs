//! The claim mix: what agencies would really send, built from a sample of real residents.
//!
//! Most claims are exact copies of the record; some change case and spacing (a clerk typing
//! a name differently), some carry another person's name or a wrong birth date, and a few
//! carry a well-formed NIK that no one has. Every claim knows its kind, so the pre-flight
//! check and the batch run can say whether the server's verdicts were the expected ones.
//!
//! The mix is deterministic for a given sample and seed: two runs against the same city
//! send the same claims, which keeps runs comparable.

use chrono::{Days, NaiveDate};
use hyper::body::Bytes;
use serde::{Deserialize, Serialize};
use simpul_domain::name;

/// One resident as `GET /api/v1/penduduk` lists them; only the fields a claim needs.
#[derive(Debug, Clone, Deserialize)]
pub struct Resident {
    pub nik: String,
    pub nama_lengkap: String,
    pub tanggal_lahir: NaiveDate,
}

/// The kinds of claim in the mix, with their share in percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimKind {
    /// Name and birth date exactly as recorded.
    Exact,
    /// The recorded name with case or spacing changed; the server should say `normalisasi`.
    Reformatted,
    /// Another resident's name.
    WrongName,
    /// The recorded name with a birth date some days earlier.
    WrongDate,
    /// A well-formed NIK whose serial (`99xx`) no demo resident has.
    UnknownNik,
}

impl ClaimKind {
    /// Every kind with its share of the mix, in percent (they add up to 100).
    pub const MIX: [(ClaimKind, u32); 5] = [
        (Self::Exact, 70),
        (Self::Reformatted, 15),
        (Self::WrongName, 5),
        (Self::WrongDate, 5),
        (Self::UnknownNik, 5),
    ];
}

/// One claim as sent, with its kind kept beside it (not serialised).
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    #[serde(skip)]
    pub kind: ClaimKind,
    pub nik: String,
    pub nama: String,
    pub tanggal_lahir: NaiveDate,
}

/// A small, seedable generator (SplitMix64): the crate has no `rand`, and a benchmark
/// needs reproducibility, not cryptographic quality.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0), by multiply-shift, without modulo bias worth
    /// the name at these sizes.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// Builds one claim per resident, kinds assigned by the exact quotas of [`ClaimKind::MIX`],
/// then shuffled so kinds and kelurahan interleave over time.
pub fn mix(residents: &[Resident], seed: u64) -> Vec<Claim> {
    let mut rng = Rng::new(seed);
    let kinds = quota_kinds(residents.len());
    let mut claims: Vec<Claim> = residents
        .iter()
        .zip(kinds)
        .enumerate()
        .map(|(i, (resident, kind))| make_claim(resident, kind, i, residents, &mut rng))
        .collect();
    for i in (1..claims.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        claims.swap(i, j);
    }
    claims
}

/// `len` kinds in the proportions of [`ClaimKind::MIX`], by cumulative rounding so every
/// kind gets its share even for a small sample.
fn quota_kinds(len: usize) -> Vec<ClaimKind> {
    let mut kinds = Vec::with_capacity(len);
    let mut cumulative = 0u64;
    for (kind, percent) in ClaimKind::MIX {
        cumulative += u64::from(percent);
        let until = (len as u64 * cumulative).div_ceil(100) as usize;
        kinds.resize(until.min(len), kind);
    }
    kinds
}

fn make_claim(
    resident: &Resident,
    kind: ClaimKind,
    index: usize,
    all: &[Resident],
    rng: &mut Rng,
) -> Claim {
    let exact = Claim {
        kind: ClaimKind::Exact,
        nik: resident.nik.clone(),
        nama: resident.nama_lengkap.clone(),
        tanggal_lahir: resident.tanggal_lahir,
    };
    match kind {
        ClaimKind::Exact => exact,
        ClaimKind::Reformatted => Claim {
            kind,
            nama: reformat(&resident.nama_lengkap, rng.below(3)),
            ..exact
        },
        ClaimKind::WrongName => match other_name(resident, index, all, rng) {
            Some(nama) => Claim {
                kind,
                nama,
                ..exact
            },
            None => exact,
        },
        ClaimKind::WrongDate => {
            let days = 1 + rng.below(365);
            match resident.tanggal_lahir.checked_sub_days(Days::new(days)) {
                Some(tanggal_lahir) => Claim {
                    kind,
                    tanggal_lahir,
                    ..exact
                },
                None => exact,
            }
        }
        ClaimKind::UnknownNik => match unknown_nik(&resident.nik, rng.below(100)) {
            Some(nik) => Claim { kind, nik, ..exact },
            None => exact,
        },
    }
}

/// The name written differently but equal after normalisation. Leading and trailing spaces
/// are added when the chosen variant would leave it unchanged (a name already in lower case).
fn reformat(name: &str, variant: u64) -> String {
    let changed = match variant {
        0 => name.to_lowercase(),
        1 => name.to_uppercase(),
        _ => name.split_whitespace().collect::<Vec<_>>().join("  "),
    };
    if changed == name {
        format!(" {changed} ")
    } else {
        changed
    }
}

/// Another resident's name that differs after normalisation; a few tries, since a sample
/// of a city has many namesakes.
fn other_name(
    resident: &Resident,
    index: usize,
    all: &[Resident],
    rng: &mut Rng,
) -> Option<String> {
    let own = name::normalise(&resident.nama_lengkap);
    for _ in 0..8 {
        let j = rng.below(all.len() as u64) as usize;
        if j != index && name::normalise(&all[j].nama_lengkap) != own {
            return Some(all[j].nama_lengkap.clone());
        }
    }
    None
}

/// The NIK with its serial replaced by `99xx`. The demo city hands out serials well below
/// that (home serials stop at 4999, and the sibling range would need hundreds of
/// same-day births to reach it), so the NIK is valid but unknown.
fn unknown_nik(nik: &str, low: u64) -> Option<String> {
    if nik.len() != 16 || !nik.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("{}99{:02}", &nik[..12], low % 100))
}

/// The claims, serialised once, with their kinds.
pub struct ClaimPool {
    /// The claims in sending order.
    pub claims: Vec<Claim>,
    /// Each claim as a JSON object, in the same order.
    pub bodies: Vec<Bytes>,
}

impl ClaimPool {
    /// Serialises `claims`.
    pub fn new(claims: Vec<Claim>) -> anyhow::Result<Self> {
        let bodies = claims
            .iter()
            .map(|c| serde_json::to_vec(c).map(Bytes::from))
            .collect::<Result<_, _>>()?;
        Ok(Self { claims, bodies })
    }

    /// How many claims of each kind, in the order of [`ClaimKind::MIX`].
    pub fn counts(&self) -> Vec<(ClaimKind, usize)> {
        ClaimKind::MIX
            .iter()
            .map(|(kind, _)| {
                (
                    *kind,
                    self.claims.iter().filter(|c| c.kind == *kind).count(),
                )
            })
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A synthetic sample: distinct names, valid-looking NIKs.
    pub(crate) fn residents(n: usize) -> Vec<Resident> {
        (0..n)
            .map(|i| Resident {
                nik: format!("357701{:02}0190{:04}", 1 + i % 28, 1 + i % 4999),
                nama_lengkap: format!("Budi Santoso {}", word(i)),
                tanggal_lahir: NaiveDate::from_ymd_opt(1990, 1, 1 + (i % 28) as u32)
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// A distinct alphabetic word per index (names are compared without digits).
    fn word(mut i: usize) -> String {
        let mut w = String::new();
        loop {
            w.push((b'a' + (i % 26) as u8) as char);
            i /= 26;
            if i == 0 {
                return w;
            }
        }
    }

    #[test]
    fn quotas_follow_the_mix_exactly() {
        let kinds = quota_kinds(1000);
        for (kind, percent) in ClaimKind::MIX {
            assert_eq!(
                kinds.iter().filter(|k| **k == kind).count(),
                percent as usize * 10,
                "{kind:?}"
            );
        }
        assert_eq!(quota_kinds(0).len(), 0);
        assert_eq!(quota_kinds(7).len(), 7);
        assert_eq!(ClaimKind::MIX.iter().map(|(_, p)| p).sum::<u32>(), 100);
    }

    #[test]
    fn every_kind_changes_what_it_says() {
        let sample = residents(2000);
        let by_nik: std::collections::HashMap<&str, &Resident> =
            sample.iter().map(|r| (r.nik.as_str(), r)).collect();
        let claims = mix(&sample, 7);
        assert_eq!(claims.len(), sample.len());
        let mut seen = std::collections::HashSet::new();
        for claim in &claims {
            seen.insert(claim.kind);
            if claim.kind == ClaimKind::UnknownNik {
                assert_eq!(claim.nik.len(), 16);
                assert!(
                    claim.nik[12..].starts_with("99"),
                    "serial {}",
                    &claim.nik[12..]
                );
                assert!(!by_nik.contains_key(claim.nik.as_str()));
                continue;
            }
            let Some(record) = by_nik.get(claim.nik.as_str()) else {
                panic!("claim NIK not from the sample");
            };
            let same_name = claim.nama == record.nama_lengkap;
            let same_normalised =
                name::normalise(&claim.nama) == name::normalise(&record.nama_lengkap);
            let same_date = claim.tanggal_lahir == record.tanggal_lahir;
            match claim.kind {
                ClaimKind::Exact => assert!(same_name && same_date),
                ClaimKind::Reformatted => assert!(!same_name && same_normalised && same_date),
                ClaimKind::WrongName => assert!(!same_normalised && same_date),
                ClaimKind::WrongDate => {
                    assert!(same_name && claim.tanggal_lahir < record.tanggal_lahir)
                }
                ClaimKind::UnknownNik => unreachable!(),
            }
        }
        assert_eq!(seen.len(), ClaimKind::MIX.len());
    }

    #[test]
    fn the_mix_is_shuffled_and_reproducible() -> anyhow::Result<()> {
        let sample = residents(500);
        let first = ClaimPool::new(mix(&sample, 1))?;
        let again = ClaimPool::new(mix(&sample, 1))?;
        let other = ClaimPool::new(mix(&sample, 2))?;
        assert_eq!(first.bodies, again.bodies);
        assert_ne!(first.bodies, other.bodies);
        // Shuffled: the unmixed order would put all exact claims first.
        assert!(
            first.claims[..350]
                .iter()
                .any(|c| c.kind != ClaimKind::Exact)
        );
        let counts: Vec<usize> = first.counts().into_iter().map(|(_, n)| n).collect();
        assert_eq!(counts, vec![350, 75, 25, 25, 25]);
        Ok(())
    }

    #[test]
    fn claims_serialise_with_the_api_field_names() -> anyhow::Result<()> {
        let claim = Claim {
            kind: ClaimKind::WrongDate,
            nik: "3577014708900001".into(),
            nama: "Siti".into(),
            tanggal_lahir: NaiveDate::from_ymd_opt(1990, 8, 7).unwrap_or_default(),
        };
        let json: serde_json::Value = serde_json::to_value(&claim)?;
        assert_eq!(
            json,
            serde_json::json!({"nik": "3577014708900001", "nama": "Siti", "tanggal_lahir": "1990-08-07"})
        );
        Ok(())
    }

    #[test]
    fn reformatting_never_returns_the_name_unchanged() {
        for name in ["Budi Santoso", "budi santoso", "BUDI SANTOSO", "Ani"] {
            for variant in 0..3 {
                let changed = reformat(name, variant);
                assert_ne!(changed, name);
                assert_eq!(name::normalise(&changed), name::normalise(name));
            }
        }
    }

    #[test]
    fn unknown_nik_refuses_malformed_input() {
        assert_eq!(
            unknown_nik("3577014708900001", 7).as_deref(),
            Some("3577014708909907")
        );
        assert_eq!(unknown_nik("35770147089000", 7), None);
        assert_eq!(unknown_nik("35770147089000x1", 7), None);
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = Rng::new(3);
        let mut hits = [0u32; 10];
        for _ in 0..10_000 {
            hits[rng.below(10) as usize] += 1;
        }
        assert!(hits.iter().all(|&h| (800..1200).contains(&h)), "{hits:?}");
        assert_eq!(rng.below(0), 0);
    }
}
