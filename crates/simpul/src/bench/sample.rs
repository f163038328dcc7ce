//! Before measuring: fetch a sample of real residents, and check that the server's verdicts
//! on a few claims of each kind are the expected ones.
//!
//! The sample is spread over the whole result list (pages evenly spaced across the total),
//! so claims name residents of every kelurahan rather than the first few hundred rows.

use std::collections::BTreeMap;

use anyhow::{Context, bail, ensure};
use futures::{StreamExt, TryStreamExt};
use hyper::body::Bytes;
use hyper::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use super::claims::{ClaimKind, ClaimPool, Resident};
use super::http::{Conn, VERIFY, request};
use super::target::Target;

/// Rows per page; the API's maximum, so the sample takes the fewest requests.
const PAGE_SIZE: u64 = 100;
/// Pages fetched at once: enough to overlap round trips without loading the server.
const PAGE_CONCURRENCY: usize = 4;
/// A search page may be slow on a large city (deep offsets); this only bounds a hang.
const PAGE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// Claims of each kind checked before measuring.
const PREFLIGHT_PER_KIND: usize = 40;

#[derive(Deserialize)]
struct Page {
    total: u64,
    data: Vec<Resident>,
}

/// Fetches up to `wanted` residents living under `wilayah`, spread across the result list.
pub async fn fetch_sample(
    target: &Target,
    wilayah: &str,
    wanted: usize,
) -> anyhow::Result<Vec<Resident>> {
    ensure!(
        !wilayah.is_empty() && wilayah.bytes().all(|b| b.is_ascii_digit() || b == b'.'),
        "--wilayah must be a region code such as 35.77"
    );
    let first = fetch_page(target, wilayah, 1).await?;
    ensure!(
        first.total > 0,
        "the server lists no residents under wilayah {wilayah}"
    );
    let pages = page_numbers(first.total, wanted as u64);
    let mut residents = first.data;
    let rest: Vec<Vec<Resident>> = futures::stream::iter(pages.into_iter().skip(1))
        .map(|page| async move { fetch_page(target, wilayah, page).await.map(|p| p.data) })
        .buffered(PAGE_CONCURRENCY)
        .try_collect()
        .await?;
    residents.extend(rest.into_iter().flatten());
    residents.truncate(wanted);
    Ok(residents)
}

/// Page numbers (from 1) spread evenly over `total` rows to yield about `wanted` rows.
/// Always starts at page 1.
fn page_numbers(total: u64, wanted: u64) -> Vec<u64> {
    let available = total.div_ceil(PAGE_SIZE);
    let needed = wanted.min(total).div_ceil(PAGE_SIZE).max(1);
    (0..needed).map(|k| 1 + k * available / needed).collect()
}

async fn fetch_page(target: &Target, wilayah: &str, page: u64) -> anyhow::Result<Page> {
    let path =
        format!("/api/v1/penduduk?kelurahan={wilayah}&halaman={page}&per_halaman={PAGE_SIZE}");
    let mut req = request(Method::GET, "/", &target.host_header, Bytes::new());
    *req.uri_mut() = path.parse().context("building the search URL")?;
    let mut conn = Conn::open(target.addr).await?;
    let (status, body) = conn.send_within(req, PAGE_TIMEOUT).await?;
    if status != StatusCode::OK {
        bail!("GET /api/v1/penduduk page {page} answered {status}");
    }
    serde_json::from_slice(&body).context("the resident search answered an unexpected shape")
}

/// The parts of a verification answer the pre-flight check reads.
#[derive(Debug, Deserialize)]
struct Verdicts {
    status_nik: String,
    nama: Option<Field>,
    tanggal_lahir: Option<Field>,
}

#[derive(Debug, Deserialize)]
struct Field {
    hasil: String,
    kecocokan: Option<String>,
}

/// Whether `answer` is what a claim of `kind` should get.
fn as_expected(kind: ClaimKind, answer: &Verdicts) -> bool {
    let name = answer
        .nama
        .as_ref()
        .map(|f| (f.hasil.as_str(), f.kecocokan.as_deref()));
    let date = answer.tanggal_lahir.as_ref().map(|f| f.hasil.as_str());
    let registered = answer.status_nik == "terdaftar";
    match kind {
        ClaimKind::Exact => {
            registered && name == Some(("sesuai", Some("persis"))) && date == Some("sesuai")
        }
        ClaimKind::Reformatted => {
            registered && name == Some(("sesuai", Some("normalisasi"))) && date == Some("sesuai")
        }
        ClaimKind::WrongName => {
            registered
                && name.map(|(hasil, _)| hasil) == Some("tidak_sesuai")
                && date == Some("sesuai")
        }
        ClaimKind::WrongDate => {
            registered
                && name.map(|(hasil, _)| hasil) == Some("sesuai")
                && date == Some("tidak_sesuai")
        }
        ClaimKind::UnknownNik => answer.status_nik == "tidak_terdaftar",
    }
}

/// Pre-flight result for one kind of claim.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KindCheck {
    pub checked: usize,
    pub as_expected: usize,
}

/// Sends up to [`PREFLIGHT_PER_KIND`] claims of each kind, one by one, and counts the
/// verdicts that match the kind. A non-200 answer stops the run: measuring an endpoint
/// that fails would produce a meaningless figure.
pub async fn preflight(
    target: &Target,
    pool: &ClaimPool,
) -> anyhow::Result<BTreeMap<ClaimKind, KindCheck>> {
    let mut conn = Conn::open(target.addr).await?;
    let mut checks: BTreeMap<ClaimKind, KindCheck> = BTreeMap::new();
    for (claim, body) in pool.claims.iter().zip(&pool.bodies) {
        let check = checks.entry(claim.kind).or_default();
        if check.checked >= PREFLIGHT_PER_KIND {
            continue;
        }
        let req = request(Method::POST, VERIFY, &target.host_header, body.clone());
        let (status, answer) = conn.send_within(req, super::http::REQUEST_TIMEOUT).await?;
        if status != StatusCode::OK {
            bail!(
                "pre-flight: POST {VERIFY} answered {status} for a {:?} claim",
                claim.kind
            );
        }
        let verdicts: Verdicts = serde_json::from_slice(&answer)
            .context("pre-flight: unexpected verification answer")?;
        check.checked += 1;
        check.as_expected += usize::from(as_expected(claim.kind, &verdicts));
    }
    Ok(checks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_spread_over_the_total() {
        assert_eq!(page_numbers(200_000, 20_000).len(), 200);
        let pages = page_numbers(200_000, 20_000);
        assert_eq!(pages[0], 1);
        assert_eq!(pages[1], 11);
        assert_eq!(pages[199], 1991);
        // Fewer residents than wanted: every page once.
        assert_eq!(page_numbers(250, 20_000), vec![1, 2, 3]);
        assert_eq!(page_numbers(5, 1), vec![1]);
        let pages = page_numbers(1_000_001, 1_000);
        assert!(pages.windows(2).all(|w| w[0] < w[1]));
        assert!(pages.iter().all(|&p| p <= 10_001));
    }

    fn verdicts(json: &str) -> Verdicts {
        serde_json::from_str(json).unwrap_or(Verdicts {
            status_nik: "unparsed".into(),
            nama: None,
            tanggal_lahir: None,
        })
    }

    #[test]
    fn reads_verdicts_per_kind() {
        let exact = verdicts(
            r#"{"status_nik":"terdaftar","status_penduduk":"hidup",
                "nama":{"hasil":"sesuai","kecocokan":"persis"},"tanggal_lahir":{"hasil":"sesuai"}}"#,
        );
        let normalised = verdicts(
            r#"{"status_nik":"terdaftar","nama":{"hasil":"sesuai","kecocokan":"normalisasi"},
                "tanggal_lahir":{"hasil":"sesuai"}}"#,
        );
        let wrong_name = verdicts(
            r#"{"status_nik":"terdaftar","nama":{"hasil":"tidak_sesuai","kecocokan":"berbeda"},
                "tanggal_lahir":{"hasil":"sesuai"}}"#,
        );
        let wrong_date = verdicts(
            r#"{"status_nik":"terdaftar","nama":{"hasil":"sesuai","kecocokan":"persis"},
                "tanggal_lahir":{"hasil":"tidak_sesuai"}}"#,
        );
        let unknown = verdicts(r#"{"status_nik":"tidak_terdaftar"}"#);
        let answers = [
            (ClaimKind::Exact, &exact),
            (ClaimKind::Reformatted, &normalised),
            (ClaimKind::WrongName, &wrong_name),
            (ClaimKind::WrongDate, &wrong_date),
            (ClaimKind::UnknownNik, &unknown),
        ];
        for (kind, _) in answers {
            for (other, answer) in answers {
                assert_eq!(
                    as_expected(kind, answer),
                    kind == other,
                    "{kind:?} vs answer for {other:?}"
                );
            }
        }
    }
}
