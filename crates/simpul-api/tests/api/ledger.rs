//! The ledger over HTTP: the published key checks the checkpoint, every proof the API
//! hands out verifies, witnesses' cosignatures are accepted only when they verify, and a
//! resident's access history comes with proofs that check against the checkpoint given.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use simpul_ledger::{
    Checkpoint, Hash, NoteVerifier, cosign_checkpoint, verify_checkpoint, verify_consistency,
    verify_cosignatures, verify_inclusion,
};
use simpul_store::ledger::LeafRecord;

use crate::helpers::{TestApp, TestResponse, test_witness};

fn hashes(value: &Value) -> Vec<Hash> {
    value
        .as_array()
        .expect("a list of hashes")
        .iter()
        .map(|h| Hash::from_base64(h.as_str().expect("text")).expect("base64 hash"))
        .collect()
}

async fn published_key(app: &TestApp) -> NoteVerifier {
    let answer = app
        .send_as(None, Method::GET, "/api/v1/ledger/key", None, Vec::new())
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.content_type().starts_with("text/plain"));
    NoteVerifier::from_vkey(answer.text().trim()).expect("a vkey")
}

async fn checkpoint(app: &TestApp, key: &NoteVerifier) -> (String, Checkpoint) {
    let answer = app
        .send_as(
            None,
            Method::GET,
            "/api/v1/ledger/checkpoint",
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let note = answer.text();
    let checkpoint = verify_checkpoint(&note, std::slice::from_ref(key)).expect("signed");
    (note, checkpoint)
}

/// Leaves as an auditor lists them.
async fn leaves(app: &TestApp) -> Vec<LeafRecord> {
    let auditor = app.signed_in("auditor.kota", "auditor", None).await;
    let answer = app
        .send_as(
            Some(&auditor),
            Method::GET,
            "/api/v1/ledger/entri?batas=1000",
            None,
            Vec::new(),
        )
        .await;
    answer
        .ok_json()
        .as_array()
        .expect("list")
        .iter()
        .map(|e| {
            LeafRecord::parse_entry(
                e["leaf_index"].as_u64().expect("index"),
                e["entry"].as_str().expect("entry"),
            )
            .expect("a well-formed entry")
        })
        .collect()
}

#[tokio::test]
async fn the_checkpoint_and_every_proof_verify_with_the_published_key() {
    let app = TestApp::spawn().await;
    let key = published_key(&app).await;
    // Nothing sealed yet.
    app.send_as(
        None,
        Method::GET,
        "/api/v1/ledger/checkpoint",
        None,
        Vec::new(),
    )
    .await
    .problem(StatusCode::NOT_FOUND, "checkpoint_not_found");

    // Fixture families are in the journal; a read adds an access entry.
    app.get(&format!("/api/v1/penduduk/{}", app.nik(0, 0)))
        .await
        .ok_json();
    assert!(app.seal().await >= 4);
    let (_, first) = checkpoint(&app, &key).await;
    app.get(&format!("/api/v1/penduduk/{}", app.nik(1, 0)))
        .await
        .ok_json();
    assert!(app.seal().await >= 1);
    let (_, latest) = checkpoint(&app, &key).await;
    assert!(latest.size() > first.size());

    let leaves = leaves(&app).await;
    assert_eq!(leaves.len() as u64, latest.size());
    for leaf in &leaves {
        let uri = format!("/api/v1/ledger/proof/inclusion?leaf={}", leaf.index);
        let proof = app
            .send_as(None, Method::GET, &uri, None, Vec::new())
            .await
            .ok_json();
        assert_eq!(proof["tree_size"], latest.size());
        verify_inclusion(
            &leaf.leaf_hash(),
            leaf.index,
            latest.size(),
            &hashes(&proof["inclusion_path"]),
            latest.root(),
        )
        .unwrap_or_else(|e| panic!("leaf {}: {e}", leaf.index));
    }
    let uri = format!(
        "/api/v1/ledger/proof/consistency?from={}&to={}",
        first.size(),
        latest.size()
    );
    let proof = app
        .send_as(None, Method::GET, &uri, None, Vec::new())
        .await
        .ok_json();
    verify_consistency(
        first.size(),
        latest.size(),
        &hashes(&proof["consistency_path"]),
        first.root(),
        latest.root(),
    )
    .expect("consistent");

    for uri in [
        format!("/api/v1/ledger/proof/inclusion?leaf={}", latest.size()),
        format!(
            "/api/v1/ledger/proof/inclusion?leaf=0&size={}",
            latest.size() + 1
        ),
        format!(
            "/api/v1/ledger/proof/consistency?from=1&to={}",
            latest.size() + 1
        ),
        "/api/v1/ledger/proof/consistency?from=3&to=2".to_owned(),
    ] {
        app.send_as(None, Method::GET, &uri, None, Vec::new())
            .await
            .problem(StatusCode::BAD_REQUEST, "invalid_query");
    }
}

#[tokio::test]
async fn a_witness_cosignature_is_published_only_when_it_verifies() {
    let app = TestApp::spawn().await;
    let key = published_key(&app).await;
    app.seal().await;
    let (_, checkpoint) = checkpoint(&app, &key).await;
    let witness = test_witness();
    let line = cosign_checkpoint(&checkpoint, &witness, 1_790_000_000)
        .expect("cosign")
        .to_line();
    let answer = app
        .post_json(
            "/api/v1/ledger/cosignature",
            &json!({"size": checkpoint.size(), "signature": line}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let (note, _) = self::checkpoint(&app, &key).await;
    let cosigned = verify_cosignatures(&note, &[witness.verifier()]).expect("cosignatures");
    assert_eq!(cosigned.len(), 1);
    assert_eq!(cosigned[0].timestamp, 1_790_000_000);
    for answer in refusals_with(&app, &checkpoint).await {
        assert!(answer.status.is_client_error(), "{}", answer.text());
    }
}

/// Requests the ledger must refuse, for the problem-code table: an unknown witness, a
/// cosignature that does not verify, and a checkpoint that does not exist.
pub async fn refusals(app: &TestApp) -> Vec<TestResponse> {
    let mut answers = vec![
        app.send_as(
            None,
            Method::GET,
            "/api/v1/ledger/checkpoint",
            None,
            Vec::new(),
        )
        .await,
    ];
    app.seal().await;
    let key = published_key(app).await;
    let (_, checkpoint) = checkpoint(app, &key).await;
    answers.extend(refusals_with(app, &checkpoint).await);
    answers
}

async fn refusals_with(app: &TestApp, checkpoint: &Checkpoint) -> Vec<TestResponse> {
    let stranger = simpul_ledger::CosignatureSigner::from_seed(
        simpul_ledger::KeyName::new("witness.test/stranger").expect("name"),
        &[3; 32],
    );
    let strange = cosign_checkpoint(checkpoint, &stranger, 1)
        .expect("cosign")
        .to_line();
    let unknown = app
        .post_json(
            "/api/v1/ledger/cosignature",
            &json!({"size": checkpoint.size(), "signature": strange}),
        )
        .await;
    unknown.problem(StatusCode::FORBIDDEN, "unknown_witness");
    // The known witness's line for another body: timestamp changed after signing.
    let other =
        Checkpoint::new(checkpoint.origin(), checkpoint.size(), Hash::from([5; 32])).expect("body");
    let forged = cosign_checkpoint(&other, &test_witness(), 1)
        .expect("cosign")
        .to_line();
    let invalid = app
        .post_json(
            "/api/v1/ledger/cosignature",
            &json!({"size": checkpoint.size(), "signature": forged}),
        )
        .await;
    invalid.problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_cosignature");
    let line = cosign_checkpoint(checkpoint, &test_witness(), 1)
        .expect("cosign")
        .to_line();
    let missing = app
        .post_json(
            "/api/v1/ledger/cosignature",
            &json!({"size": checkpoint.size() + 100, "signature": line}),
        )
        .await;
    missing.problem(StatusCode::NOT_FOUND, "checkpoint_not_found");
    vec![unknown, invalid, missing]
}

#[tokio::test]
async fn a_residents_access_history_comes_with_proofs() {
    let app = TestApp::spawn().await;
    let key = published_key(&app).await;
    let nik = app.nik(0, 0);
    // The registrar reads Budi twice; an operator of another kelurahan is refused.
    for _ in 0..2 {
        app.get(&format!("/api/v1/penduduk/{nik}")).await.ok_json();
    }
    app.get(&format!("/api/v1/penduduk/{}", app.nik(1, 0)))
        .await
        .ok_json();
    app.seal().await;

    // Budi asks at his kelurahan's counter.
    let operator = app
        .signed_in("operator.1001", "operator", Some("35.77.01.1001"))
        .await;
    let uri = format!("/api/v1/ledger/akses?nik={nik}");
    let history = app
        .send_as(Some(&operator), Method::GET, &uri, None, Vec::new())
        .await
        .ok_json();
    let note = history["checkpoint"].as_str().expect("a checkpoint");
    let checkpoint = verify_checkpoint(note, std::slice::from_ref(&key)).expect("signed");
    let entries = history["akses"].as_array().expect("list");
    // The two reads, sealed with proofs; then this very request, logged before the answer
    // left and not yet sealed.
    assert_eq!(entries.len(), 3, "{history}");
    assert_eq!(entries[2]["actor"], "operator.1001");
    assert_eq!(entries[2]["action"], "read_access_history");
    assert!(entries[2]["leaf_index"].is_null() && entries[2]["inclusion_path"].is_null());
    for entry in &entries[..2] {
        assert_eq!(entry["actor"], "registrar.kota");
        assert_eq!(entry["purpose"], "pengujian");
        // The canonical record hashes to the leaf's digest, and the leaf is in the log.
        let canonical = entry["kanonik"].as_str().expect("canonical");
        let leaf = LeafRecord::parse_entry(
            entry["leaf_index"].as_u64().expect("sealed"),
            entry["leaf_entry"].as_str().expect("entry"),
        )
        .expect("entry");
        let digest = Hash::from(<[u8; 32]>::from(Sha256::digest(canonical.as_bytes())));
        assert_eq!(leaf.digest, digest);
        verify_inclusion(
            &leaf.leaf_hash(),
            leaf.index,
            checkpoint.size(),
            &hashes(&entry["inclusion_path"]),
            checkpoint.root(),
        )
        .expect("inclusion");
    }
    // Once sealed, that request has its proof too.
    app.seal().await;
    let again = app
        .send_as(Some(&operator), Method::GET, &uri, None, Vec::new())
        .await
        .ok_json();
    let again = again["akses"].as_array().expect("list");
    let actors: Vec<&str> = again
        .iter()
        .map(|e| e["actor"].as_str().expect("actor"))
        .collect();
    assert_eq!(
        actors,
        [
            "registrar.kota",
            "registrar.kota",
            "operator.1001",
            "operator.1001"
        ]
    );
    assert!(again[2]["inclusion_path"].is_array(), "{again:?}");
}
