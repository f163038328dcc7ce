//! The ledger over HTTP: the log's key, its latest checkpoint with witnesses'
//! cosignatures, inclusion and consistency proofs, witnesses posting cosignatures, leaf
//! entries for auditors, and a resident's access history with inclusion proofs.
//!
//! The key, checkpoints and proofs are public, as in Certificate Transparency: they hold
//! hashes only, and anyone must be able to check the log without an account. Leaf entries
//! need `read_ledger`; a resident's access history needs `read_access_history` and is
//! itself recorded in the access log.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use simpul_domain::access::{Action, Resource};
use simpul_ledger::{Hash, Note, NoteSignature, verify_cosignature};
use simpul_store::ledger::{LeafKind, LeafRecord, access_digest, consistency_path, inclusion_path};
use simpul_store::{AccessEntry, CheckpointRecord, CosignatureRecord};
use utoipa::{IntoParams, ToSchema};

use super::parse_nik;
use crate::auth::Caller;
use crate::auth::gate::Outcome;
use crate::extract::{Json, Query};
use crate::problem::{ApiError, ProblemCode};
use crate::state::AppState;

const TEXT: &str = "text/plain; charset=utf-8";

fn text(body: String) -> Response {
    ([(header::CONTENT_TYPE, TEXT)], body).into_response()
}

fn base64_all(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(Hash::to_base64).collect()
}

async fn latest(state: &AppState) -> Result<CheckpointRecord, ApiError> {
    state.store.latest_checkpoint().await?.ok_or_else(|| {
        ApiError::new(
            ProblemCode::CheckpointNotFound,
            "ledger belum memiliki checkpoint",
        )
    })
}

/// A published tree size: no larger than the latest checkpoint.
async fn published_size(state: &AppState, field: &str, size: u64) -> Result<(), ApiError> {
    let latest = latest(state).await?;
    if size > latest.size {
        return Err(ApiError::new(
            ProblemCode::InvalidQuery,
            format!(
                "ukuran {size} melebihi checkpoint terakhir ({})",
                latest.size
            ),
        )
        .field(field));
    }
    Ok(())
}

/// `GET /api/v1/ledger/key`: the log's public key as a signed-note vkey.
#[utoipa::path(get, path = "/api/v1/ledger/key", tag = "ledger",
    responses((status = 200, content_type = "text/plain", body = String,
        description = "`<origin>+<key id>+<base64 key>`, with a newline")))]
pub async fn key(State(state): State<AppState>) -> Response {
    text(format!("{}\n", state.ledger.log_key.to_vkey()))
}

/// `GET /api/v1/ledger/checkpoint`: the latest signed checkpoint (C2SP tlog-checkpoint),
/// with the cosignatures witnesses added to it.
#[utoipa::path(get, path = "/api/v1/ledger/checkpoint", tag = "ledger",
    responses((status = 200, content_type = "text/plain", body = String),
        (status = 404, body = crate::problem::Problem)))]
pub async fn checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    let latest = latest(&state).await?;
    let mut note = latest.note;
    for cosignature in state.store.cosignatures(latest.size).await? {
        note.push_str(&cosignature.line);
        note.push('\n');
    }
    Ok(text(note))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InclusionParams {
    /// The leaf's index, from 0.
    pub leaf: u64,
    /// The tree size to prove against (default: the latest checkpoint's).
    pub size: Option<u64>,
}

/// An inclusion proof (RFC 9162 §2.1.3).
#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProof {
    pub leaf_index: u64,
    pub tree_size: u64,
    /// Sibling hashes from the leaf up, base64.
    pub inclusion_path: Vec<String>,
}

/// `GET /api/v1/ledger/proof/inclusion?leaf=…&size=…`
#[utoipa::path(get, path = "/api/v1/ledger/proof/inclusion", tag = "ledger",
    params(InclusionParams),
    responses((status = 200, body = InclusionProof), (status = 400, body = crate::problem::Problem)))]
pub async fn inclusion(
    State(state): State<AppState>,
    Query(params): Query<InclusionParams>,
) -> Result<Json<InclusionProof>, ApiError> {
    let size = match params.size {
        Some(size) => {
            published_size(&state, "size", size).await?;
            size
        }
        None => latest(&state).await?.size,
    };
    if params.leaf >= size {
        return Err(ApiError::new(
            ProblemCode::InvalidQuery,
            format!("leaf {} tidak ada pada pohon berukuran {size}", params.leaf),
        )
        .field("leaf"));
    }
    let path = inclusion_path(state.store.as_ref(), params.leaf, size).await?;
    Ok(Json(InclusionProof {
        leaf_index: params.leaf,
        tree_size: size,
        inclusion_path: base64_all(&path),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyParams {
    /// The older tree size.
    pub from: u64,
    /// The newer tree size, at most the latest checkpoint's.
    pub to: u64,
}

/// A consistency proof (RFC 9162 §2.1.4).
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub first: u64,
    pub second: u64,
    /// base64 hashes.
    pub consistency_path: Vec<String>,
}

/// `GET /api/v1/ledger/proof/consistency?from=…&to=…`
#[utoipa::path(get, path = "/api/v1/ledger/proof/consistency", tag = "ledger",
    params(ConsistencyParams),
    responses((status = 200, body = ConsistencyProof), (status = 400, body = crate::problem::Problem)))]
pub async fn consistency(
    State(state): State<AppState>,
    Query(params): Query<ConsistencyParams>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    published_size(&state, "to", params.to).await?;
    if params.from > params.to {
        return Err(ApiError::new(
            ProblemCode::InvalidQuery,
            "from tidak boleh lebih besar dari to",
        )
        .field("from"));
    }
    let path = consistency_path(state.store.as_ref(), params.from, params.to).await?;
    Ok(Json(ConsistencyProof {
        first: params.from,
        second: params.to,
        consistency_path: base64_all(&path),
    }))
}

/// A witness's cosignature of one checkpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CosignatureBody {
    /// The size of the checkpoint cosigned.
    pub size: u64,
    /// The signature line (`— <witness name> <base64>`), C2SP tlog-cosignature.
    pub signature: String,
}

/// `POST /api/v1/ledger/cosignature`: a witness hands back its cosignature. Accepted only
/// from the witnesses the hub is configured with, and only when it verifies.
#[utoipa::path(post, path = "/api/v1/ledger/cosignature", tag = "ledger",
    request_body = CosignatureBody,
    responses((status = 201), (status = 403, body = crate::problem::Problem),
        (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn cosign(
    State(state): State<AppState>,
    Json(body): Json<CosignatureBody>,
) -> Result<StatusCode, ApiError> {
    let invalid =
        |detail: String| ApiError::new(ProblemCode::InvalidCosignature, detail).field("signature");
    let signature = NoteSignature::from_line(body.signature.trim_end())
        .map_err(|e| invalid(format!("baris tanda tangan tidak terbaca: {e}")))?;
    let Some(witness) = state
        .ledger
        .witnesses
        .iter()
        .find(|w| *w.name() == signature.name && w.key_id() == signature.key_id)
    else {
        return Err(ApiError::new(
            ProblemCode::UnknownWitness,
            format!("kunci saksi {} tidak terdaftar", signature.name),
        ));
    };
    let Some(checkpoint) = state
        .store
        .checkpoints(body.size.checked_sub(1), 1)
        .await?
        .into_iter()
        .find(|c| c.size == body.size)
    else {
        return Err(ApiError::new(
            ProblemCode::CheckpointNotFound,
            format!("tidak ada checkpoint berukuran {}", body.size),
        )
        .field("size"));
    };
    let note = Note::parse(&checkpoint.note).map_err(ApiError::internal)?;
    verify_cosignature(note.text(), &signature, witness)
        .map_err(|e| invalid(format!("tanda tangan tidak sah: {e}")))?;
    state
        .store
        .add_cosignature(&CosignatureRecord {
            size: checkpoint.size,
            witness: witness.name().to_string(),
            line: signature.to_line(),
            at: simpul_store::now(),
        })
        .await?;
    Ok(StatusCode::CREATED)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntryParams {
    /// The first leaf index (default 0).
    pub dari: Option<u64>,
    /// At most this many (default 100, at most 1,000).
    pub batas: Option<u32>,
}

/// One leaf of the ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeafEntry {
    pub leaf_index: u64,
    /// `journal` or `akses`.
    pub kind: &'static str,
    /// The source row's sequence number.
    pub sequence: u64,
    /// The leaf's entry: the exact bytes its hash covers.
    pub entry: String,
}

impl From<&LeafRecord> for LeafEntry {
    fn from(leaf: &LeafRecord) -> Self {
        Self {
            leaf_index: leaf.index,
            kind: leaf.kind.code(),
            sequence: leaf.sequence,
            entry: leaf.entry(),
        }
    }
}

/// `GET /api/v1/ledger/entri`: leaf entries, in order.
#[utoipa::path(get, path = "/api/v1/ledger/entri", tag = "ledger", params(EntryParams),
    responses((status = 200, body = Vec<LeafEntry>)))]
pub async fn entries(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<EntryParams>,
) -> Result<Json<Vec<LeafEntry>>, ApiError> {
    state
        .authorize(&caller, Action::ReadLedger, Resource::Hub)
        .await?;
    let limit = params.batas.unwrap_or(100).clamp(1, 1_000);
    let leaves = state
        .store
        .ledger_leaves(params.dari.unwrap_or(0), limit)
        .await?;
    Ok(Json(leaves.iter().map(LeafEntry::from).collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// The resident's NIK.
    pub nik: String,
}

/// One access to the resident's data, with the proof that the ledger holds it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProvenAccess {
    #[serde(flatten)]
    pub akses: AccessEntry,
    /// The entry's canonical JSON, whose SHA-256 is the leaf's digest.
    pub kanonik: String,
    /// The leaf's entry, or null while the entry waits (about a second) to be sealed.
    pub leaf_entry: Option<String>,
    pub leaf_index: Option<u64>,
    /// Against `checkpoint`; null while not sealed or not yet in a checkpoint.
    pub inclusion_path: Option<Vec<String>>,
}

/// A resident's access history, proven against one checkpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessHistory {
    /// The signed checkpoint the proofs are against (null before the first).
    pub checkpoint: Option<String>,
    pub akses: Vec<ProvenAccess>,
}

/// Most entries one history answer lists.
const HISTORY_LIMIT: u32 = 1_000;

/// `GET /api/v1/ledger/akses?nik=…`: who read this resident's data, when and for which
/// purpose, each entry with its inclusion proof.
#[utoipa::path(get, path = "/api/v1/ledger/akses", tag = "ledger", params(HistoryParams),
    responses((status = 200, body = AccessHistory), (status = 404, body = crate::problem::Problem)))]
pub async fn access_history(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HistoryParams>,
) -> Result<Json<AccessHistory>, ApiError> {
    let nik = parse_nik("nik", &params.nik)?;
    let Some(resident) = state.store.resident(&nik).await? else {
        super::not_found_in_home_region(&state, &caller, Action::ReadAccessHistory).await?;
        return Err(
            ApiError::new(ProblemCode::ResidentNotFound, "NIK tidak terdaftar").field("nik"),
        );
    };
    state
        .authorize(
            &caller,
            Action::ReadAccessHistory,
            Resource::Region(&resident.address.kelurahan),
        )
        .await?;
    state
        .record_read(
            &caller,
            Action::ReadAccessHistory,
            &[&nik],
            &["riwayat_akses"],
            Outcome::Allowed,
        )
        .await?;
    let checkpoint = state.store.latest_checkpoint().await?;
    let entries = state
        .store
        .access_to_resident(&state.vault.nik_index(&nik), HISTORY_LIMIT)
        .await?;
    let mut akses = Vec::with_capacity(entries.len());
    for entry in entries {
        let leaf_index = state
            .store
            .ledger_leaf_of(LeafKind::Access, entry.sequence)
            .await?;
        let leaf = leaf_index.map(|index| LeafRecord {
            index,
            kind: LeafKind::Access,
            sequence: entry.sequence,
            digest: access_digest(&entry),
        });
        let inclusion_path = match (&leaf, &checkpoint) {
            (Some(leaf), Some(checkpoint)) if leaf.index < checkpoint.size => Some(base64_all(
                &inclusion_path(state.store.as_ref(), leaf.index, checkpoint.size).await?,
            )),
            _ => None,
        };
        akses.push(ProvenAccess {
            kanonik: entry.canonical_json(),
            leaf_entry: leaf.as_ref().map(LeafRecord::entry),
            leaf_index,
            inclusion_path,
            akses: entry,
        });
    }
    Ok(Json(AccessHistory {
        checkpoint: checkpoint.map(|c| c.note),
        akses,
    }))
}
