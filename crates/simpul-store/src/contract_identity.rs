//! Contract checks for [`IdentityStore`](crate::IdentityStore) and
//! [`AuditStore`](crate::AuditStore), run by every backend through `contract_suite!`.

use chrono::{DateTime, Duration, TimeZone, Utc};
use zeroize::Zeroizing;

use crate::contract::TestKeys;
use crate::{
    AccessRecord, AccountRecord, AgreementRecord, AlertRecord, ClientRecord, SessionRecord, Store,
    StoreError,
};

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0)
        .single()
        .unwrap_or_default()
        + Duration::minutes(minute)
}

/// An operator account of kelurahan Madiun Lor, before enrolment.
pub fn fixture_account(username: &str) -> AccountRecord {
    AccountRecord {
        username: username.to_owned(),
        display_name: "Sri Wahyuni".into(),
        role: "operator".into(),
        scope: Some("35.77.02.1006".into()),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
        totp_secret: None,
        totp_enrolled: false,
        totp_last_step: None,
        recovery_codes: None,
        throttle: "{}".into(),
        disabled: false,
        created_at: at(0),
        version: 0,
    }
}

pub async fn accounts_round_trip_with_versions(store: &impl Store, _keys: &TestKeys) {
    let account = fixture_account("sri.madiunlor");
    store.create_account(&account).await.expect("create");
    let again = store.create_account(&account).await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    let stored = store
        .account("sri.madiunlor")
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(stored, account);
    assert!(store.account("nobody").await.expect("read").is_none());

    // Enrolment: the secret is stored (sealed) and read back opened.
    let enrolled = AccountRecord {
        totp_secret: Some(Zeroizing::new("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP".into())),
        totp_enrolled: true,
        totp_last_step: Some(59_000_000),
        recovery_codes: Some("{\"codes\":[]}".into()),
        ..stored.clone()
    };
    store.save_account(&enrolled).await.expect("save");
    let read = store
        .account("sri.madiunlor")
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(read.version, enrolled.version + 1);
    assert_eq!(
        read,
        AccountRecord {
            version: read.version,
            ..enrolled.clone()
        }
    );
    // A save from a stale read loses.
    let stale = store.save_account(&enrolled).await;
    assert!(matches!(stale, Err(StoreError::Conflict)), "{stale:?}");

    store
        .create_account(&AccountRecord {
            role: "auditor".into(),
            scope: None,
            ..fixture_account("audit.kota")
        })
        .await
        .expect("second");
    let list = store.accounts().await.expect("list");
    let names: Vec<&str> = list.iter().map(|a| a.username.as_str()).collect();
    assert_eq!(names, ["audit.kota", "sri.madiunlor"]);
    assert!(list[1].totp_enrolled);
}

/// The TOTP secret is sealed at rest: it reads back only through a vault that holds its
/// key. (Each backend's own tests scan the raw storage for it in clear.)
pub async fn totp_secrets_need_the_data_key(store: &impl Store, keys: &TestKeys) {
    let secret = "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TFOQ";
    let account = AccountRecord {
        totp_secret: Some(Zeroizing::new(secret.into())),
        ..fixture_account("enrolling")
    };
    store.create_account(&account).await.expect("create");
    keys.rotate("data-2");
    keys.drop_old_data_keys();
    let unreadable = store.account("enrolling").await;
    assert!(
        matches!(unreadable, Err(StoreError::Keys(_))),
        "a secret sealed under a dropped key must not read: {unreadable:?}"
    );
}

pub async fn sessions_live_and_end(store: &impl Store, _keys: &TestKeys) {
    store
        .create_account(&fixture_account("sri.madiunlor"))
        .await
        .expect("account");
    let session = SessionRecord {
        token_hash: "ab".repeat(32),
        username: "sri.madiunlor".into(),
        csrf_hash: "cd".repeat(32),
        second_factor_done: false,
        created_at: at(0),
        last_seen_at: at(0),
    };
    store.create_session(&session).await.expect("create");
    let other = SessionRecord {
        token_hash: "ef".repeat(32),
        ..session.clone()
    };
    store.create_session(&other).await.expect("second");
    assert_eq!(
        store.session(&session.token_hash).await.expect("read"),
        Some(session.clone())
    );
    let done = SessionRecord {
        second_factor_done: true,
        last_seen_at: at(5),
        ..session.clone()
    };
    store.update_session(&done).await.expect("update");
    assert_eq!(
        store.session(&session.token_hash).await.expect("read"),
        Some(done)
    );
    store
        .delete_session(&session.token_hash)
        .await
        .expect("delete");
    assert!(
        store
            .session(&session.token_hash)
            .await
            .expect("read")
            .is_none()
    );
    assert_eq!(
        store
            .delete_sessions_of("sri.madiunlor")
            .await
            .expect("all"),
        1
    );
    assert!(
        store
            .session(&other.token_hash)
            .await
            .expect("read")
            .is_none()
    );
}

pub async fn clients_tokens_and_agreements(store: &impl Store, _keys: &TestKeys) {
    let client = ClientRecord {
        client_id: "dinsos-bansos".into(),
        name: "Aplikasi Bansos Dinsos".into(),
        agency: "dinsos".into(),
        secret_hash: "12".repeat(32),
        scopes: "verify_nik verify_nik_batch".into(),
        rate_limit_per_minute: Some(6000),
        created_at: at(0),
        revoked_at: None,
    };
    store.create_client(&client).await.expect("create");
    let again = store.create_client(&client).await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    assert_eq!(
        store.client("dinsos-bansos").await.expect("read"),
        Some(client.clone())
    );
    assert!(
        store
            .revoke_client("dinsos-bansos", at(9))
            .await
            .expect("revoke")
    );
    assert!(!store.revoke_client("nobody", at(9)).await.expect("revoke"));
    let listed = store.clients().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].revoked_at, Some(at(9)));

    assert!(!store.token_revoked("jti-1").await.expect("read"));
    store.revoke_token("jti-1", at(10)).await.expect("revoke");
    store
        .revoke_token("jti-1", at(10))
        .await
        .expect("idempotent");
    assert!(store.token_revoked("jti-1").await.expect("read"));

    let agreement = AgreementRecord {
        agency: "dinsos".into(),
        actions: vec!["verify_nik".into(), "verify_nik_batch".into()],
        region: "35.77".into(),
        reference: "PKS/001/2026".into(),
    };
    store.put_agreement(&agreement).await.expect("put");
    let narrower = AgreementRecord {
        actions: vec!["verify_nik".into()],
        ..agreement.clone()
    };
    store.put_agreement(&narrower).await.expect("replace");
    assert_eq!(store.agreements().await.expect("list"), [narrower]);
}

fn access(minute: i64, actor: &str, residents: &[&str], outcome: &str) -> AccessRecord {
    AccessRecord {
        at: at(minute),
        actor_kind: "akun".into(),
        actor: actor.into(),
        role: "operator".into(),
        action: "read_resident".into(),
        purpose: Some("pelayanan".into()),
        residents: residents.iter().map(|r| r.to_string()).collect(),
        fields: vec!["nama_lengkap".into(), "tanggal_lahir".into()],
        outcome: outcome.into(),
        reason: (outcome == "denied").then(|| "outside_jurisdiction".into()),
        network: Some("10.0.0.0/24".into()),
        request_id: format!("req-{minute}"),
    }
}

pub async fn access_log_is_ordered_and_finds_a_resident(store: &impl Store, _keys: &TestKeys) {
    let a = "aa".repeat(32);
    let b = "bb".repeat(32);
    let first = store
        .append_access(&[access(0, "sri", &[&a], "allowed")])
        .await
        .expect("append");
    assert_eq!(first, [1]);
    let next = store
        .append_access(&[
            access(1, "sri", &[&a, &b], "allowed"),
            access(2, "budi", &[], "denied"),
        ])
        .await
        .expect("append");
    assert_eq!(next, [2, 3]);
    let all = store.access_after(0, 10).await.expect("read");
    assert_eq!(
        all.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(all[2].record, access(2, "budi", &[], "denied"));
    assert_eq!(store.access_after(2, 10).await.expect("read").len(), 1);
    let about_a = store.access_to_resident(&a, 10).await.expect("read");
    assert_eq!(
        about_a.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        store.access_to_resident(&b, 10).await.expect("read").len(),
        1
    );
    let json = all[0].canonical_json();
    assert!(
        json.starts_with("{\"v\":1,\"seq\":1,\"at\":\"2026-11-25T08:00:00.000000Z\""),
        "{json}"
    );
}

pub async fn alerts_are_raised_listed_and_acknowledged(store: &impl Store, _keys: &TestKeys) {
    let alert = |minute: i64, rule: &str| AlertRecord {
        id: 0,
        rule: rule.into(),
        subject: "sri".into(),
        at: at(minute),
        detail: "5 failed sign-ins in 600 s (threshold 5)".into(),
        acknowledged_by: None,
        acknowledged_at: None,
    };
    let raised = store
        .raise_alerts(&[alert(0, "brute_force"), alert(3, "new_network")])
        .await
        .expect("raise");
    assert_eq!(raised.len(), 2);
    assert!(raised[0].id > 0 && raised[1].id > raised[0].id);
    let open = store.alerts(true, 10).await.expect("list");
    assert_eq!(
        open.iter().map(|a| a.rule.as_str()).collect::<Vec<_>>(),
        ["new_network", "brute_force"],
        "newest first"
    );
    assert!(
        store
            .acknowledge_alert(raised[0].id, "admin", at(10))
            .await
            .expect("ack")
    );
    assert!(
        !store
            .acknowledge_alert(raised[0].id, "admin", at(11))
            .await
            .expect("twice")
    );
    assert!(
        !store
            .acknowledge_alert(999, "admin", at(11))
            .await
            .expect("none")
    );
    assert_eq!(store.alerts(true, 10).await.expect("open").len(), 1);
    let all = store.alerts(false, 10).await.expect("all");
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].acknowledged_by.as_deref(), Some("admin"));
    assert_eq!(all[1].acknowledged_at, Some(at(10)));
}
