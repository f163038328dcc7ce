//! The storage contract suite: written once, run against every backend.
//!
//! Each check is a public async function taking a fresh, migrated, empty store. A backend's
//! test file expands [`contract_suite!`](crate::contract_suite) with a constructor, getting
//! one `#[tokio::test]` per check, so SQLite and PostgreSQL are held to identical behaviour.
//! Checks panic with a message on failure, like any test.

use chrono::NaiveDate;
use simpul_domain::registry::InMemoryRegistry;
use simpul_domain::wilayah::{self, Region};
use simpul_domain::{
    Address, Citizenship, Education, Family, FamilyRelationship, KodeWilayah, MaritalStatus, Nik,
    NoKk, RegistryEvent, Religion, Resident, ResidentStatus, RuleViolation, Sex,
};

use std::sync::{Arc, Mutex};

use simpul_crypto::{BlindIndexKey, DataKey, KeyId};

use crate::{KeySource, ResidentQuery, Store, StoreError, Vault, VaultKeys, reseal_all};

pub use crate::contract_identity::*;
pub use crate::contract_lampid::*;
pub use crate::contract_ledger::*;

/// Key rings for a contract run, held as key-file texts so a check can rotate the data
/// key the way an operator does: add a new active key, reseal, drop the old one.
pub struct TestKeys {
    texts: Arc<KeyTexts>,
    vault: Arc<Vault>,
}

struct KeyTexts(Mutex<(String, String)>);

impl KeySource for KeyTexts {
    fn load(&self) -> Result<VaultKeys, String> {
        let texts = self.0.lock().map_err(|_| "poisoned".to_owned())?;
        Ok(VaultKeys {
            data: simpul_crypto::DataKeyRing::parse(&texts.0).map_err(|e| e.to_string())?,
            blind: simpul_crypto::BlindKeyRing::parse(&texts.1).map_err(|e| e.to_string())?,
        })
    }
}

fn key_id(id: &str) -> KeyId {
    KeyId::parse(id).unwrap_or_else(|e| panic!("fixture key id: {e}"))
}

fn data_key_line(id: &str) -> String {
    DataKey::generate(&mut rand::rng())
        .to_key_line(&key_id(id))
        .to_string()
}

impl TestKeys {
    pub fn new() -> Self {
        let blind = BlindIndexKey::generate(&mut rand::rng()).to_key_line(&key_id("blind-1"));
        let texts = Arc::new(KeyTexts(Mutex::new((
            data_key_line("data-1"),
            blind.to_string(),
        ))));
        let vault = Vault::from_source(texts.clone()).unwrap_or_else(|e| panic!("keys: {e}"));
        Self {
            texts,
            vault: Arc::new(vault),
        }
    }

    /// The vault the store under test must use.
    pub fn vault(&self) -> Arc<Vault> {
        self.vault.clone()
    }

    fn set_data_ring(&self, text: String) {
        self.texts.0.lock().unwrap_or_else(|p| p.into_inner()).0 = text;
        self.vault
            .reload()
            .unwrap_or_else(|e| panic!("reload: {e}"));
    }

    /// Adds a new data key as the active one; the old one still opens what it sealed.
    pub fn rotate(&self, new_id: &str) {
        let old = self
            .texts
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .clone();
        let new = data_key_line(new_id);
        self.set_data_ring(format!("*{new}\n{old}"));
    }

    /// Removes every data key but the active one.
    pub fn drop_old_data_keys(&self) {
        let text = self
            .texts
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .clone();
        let active = text
            .lines()
            .find(|l| l.starts_with('*'))
            .unwrap_or_else(|| panic!("no active key"))
            .to_owned();
        self.set_data_ring(active);
    }
}

impl Default for TestKeys {
    fn default() -> Self {
        Self::new()
    }
}

/// Expands to one `#[tokio::test]` per contract check. `$make` is an async function
/// taking the vault the store must seal with and yielding `Option<guard>`, where the guard
/// derefs to a fresh store and cleans it up on drop; `None` skips the test (a backend that
/// is not configured here).
#[macro_export]
macro_rules! contract_suite {
    ($make:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let keys = $crate::contract::TestKeys::new();
                let Some(store) = ($make)(keys.vault()).await else { return };
                $crate::contract::$check(&*store, &keys).await;
            }
        )*
    };
    ($make:expr) => {
        $crate::contract_suite!($make;
            regions_round_trip,
            append_then_read_back,
            append_batch_is_atomic,
            duplicate_family_is_rejected,
            journal_is_ordered_and_gap_free,
            search_by_name_date_and_region,
            verification_reads_only_known_niks,
            missing_rows_are_none,
            decisions_match_the_domain_model,
            rotation_reseals_every_value,
            accounts_round_trip_with_versions,
            totp_secrets_need_the_data_key,
            sessions_live_and_end,
            clients_tokens_and_agreements,
            access_log_is_ordered_and_finds_a_resident,
            alerts_are_raised_listed_and_acknowledged,
            a_birth_goes_through_three_levels,
            the_workflow_refuses_what_it_must,
            random_histories_match_the_model_and_rebuild,
            the_ledger_seals_both_sources_and_verifies,
            a_second_sealer_conflicts_then_catches_up,
            rotating_the_data_key_keeps_the_ledger_valid,
            a_forged_or_foreign_checkpoint_is_refused,
            an_exported_bundle_verifies_with_the_key_alone,
        );
    };
}

/// The date every fixture is checked against, so results never depend on the clock.
pub fn fixture_today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default()
}

fn code(text: &str) -> KodeWilayah {
    KodeWilayah::parse(text).unwrap_or_else(|e| panic!("fixture code {text}: {e}"))
}

/// A person for fixtures. `serial` makes the NIK unique for a given birth date and sex.
pub fn fixture_resident(
    no_kk: &NoKk,
    name: &str,
    sex: Sex,
    birth: NaiveDate,
    serial: u16,
    relationship: FamilyRelationship,
) -> Resident {
    let nik = Nik::compose(&code("35.77.01"), birth, sex, serial)
        .unwrap_or_else(|| panic!("fixture NIK"));
    Resident {
        nik,
        no_kk: no_kk.clone(),
        full_name: name.to_owned(),
        sex,
        birth_place: "Madiun".into(),
        birth_date: birth,
        religion: Religion::Islam,
        marital_status: if relationship == FamilyRelationship::Anak {
            MaritalStatus::BelumKawin
        } else {
            MaritalStatus::KawinTercatat
        },
        relationship,
        education: Education::Slta,
        occupation: "Wiraswasta".into(),
        father_name: "Sastro".into(),
        mother_name: "Painem".into(),
        citizenship: Citizenship::Wni,
        status: ResidentStatus::Hidup,
        departure: None,
    }
}

/// A family of a head, a wife and a child in `kelurahan`, numbered by `serial`.
pub fn fixture_family(kelurahan: &str, serial: u16, head_name: &str) -> Family {
    let kk_date = NaiveDate::from_ymd_opt(2015, 1, 25).unwrap_or_default();
    let no_kk =
        NoKk::compose(&code("35.77.01"), kk_date, serial).unwrap_or_else(|| panic!("fixture KK"));
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let members = vec![
        fixture_resident(
            &no_kk,
            head_name,
            Sex::LakiLaki,
            date(1980, 3, 14),
            serial,
            FamilyRelationship::KepalaKeluarga,
        ),
        fixture_resident(
            &no_kk,
            "Siti Aminah",
            Sex::Perempuan,
            date(1983, 7, 2),
            serial,
            FamilyRelationship::Istri,
        ),
        fixture_resident(
            &no_kk,
            "Dewi Lestari",
            Sex::Perempuan,
            date(2010, 5, 9),
            serial,
            FamilyRelationship::Anak,
        ),
    ];
    let address = Address {
        street: format!("Jl. Pahlawan No. {serial}"),
        rt: 3,
        rw: 5,
        kelurahan: code(kelurahan),
    };
    Family::new(no_kk, address, members, fixture_today())
        .unwrap_or_else(|e| panic!("fixture family: {e}"))
}

fn registered(family: &Family) -> RegistryEvent {
    RegistryEvent::KeluargaTerdaftar(family.clone())
}

/// Kota Madiun with its parents and descendants, plus one other province.
fn madiun_regions() -> Vec<Region> {
    let madiun = code("35.77");
    let mut regions: Vec<Region> = wilayah::embedded()
        .iter()
        .filter(|r| {
            r.code.is_within(&madiun) || madiun.is_within(&r.code) || r.code.as_str() == "11"
        })
        .cloned()
        .collect();
    regions.sort_by(|a, b| a.code.cmp(&b.code));
    regions
}

pub async fn regions_round_trip(store: &impl Store, _keys: &TestKeys) {
    let regions = madiun_regions();
    assert_eq!(
        store.load_regions(&regions).await.expect("load"),
        regions.len() as u64
    );
    // Loading twice is harmless: master data is reloaded on every start.
    store.load_regions(&regions).await.expect("reload");
    let city = store
        .region(&code("35.77"))
        .await
        .expect("read")
        .expect("Kota Madiun exists");
    assert_eq!(city.name, "Kota Madiun");
    let kecamatan: Vec<String> = store
        .region_children(&code("35.77"))
        .await
        .expect("children")
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(kecamatan, ["Kartoharjo", "Manguharjo", "Taman"]);
    assert_eq!(
        store
            .region_children(&code("35.77.01"))
            .await
            .expect("children")
            .len(),
        9
    );
    let found = store
        .search_regions("madiun lor", 10)
        .await
        .expect("search");
    assert_eq!(
        found.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
        ["35.77.02.1006"]
    );
    let by_case = store
        .search_regions("KARTOHARJO", 10)
        .await
        .expect("search");
    assert_eq!(
        by_case.len(),
        2,
        "the kecamatan and the kelurahan: {by_case:?}"
    );
    assert_eq!(
        store.counts().await.expect("counts").regions,
        regions.len() as u64
    );
}

pub async fn append_then_read_back(store: &impl Store, _keys: &TestKeys) {
    let family = fixture_family("35.77.01.1001", 1, "Budi Santoso");
    let receipt = store.append(&[registered(&family)]).await.expect("append");
    assert_eq!(receipt.sequences, [1]);
    for member in &family.members {
        let record = store
            .resident(&member.nik)
            .await
            .expect("read")
            .expect("resident exists");
        assert_eq!(&record.resident, member);
        assert_eq!(record.address, family.address);
    }
    let stored = store
        .family(&family.no_kk)
        .await
        .expect("read")
        .expect("family exists");
    assert_eq!(stored, family);
    let counts = store.counts().await.expect("counts");
    assert_eq!(
        (counts.residents, counts.families, counts.journal),
        (3, 1, 1)
    );
}

pub async fn append_batch_is_atomic(store: &impl Store, _keys: &TestKeys) {
    let first = fixture_family("35.77.01.1001", 1, "Budi Santoso");
    store.append(&[registered(&first)]).await.expect("first");
    let fresh = fixture_family("35.77.01.1002", 2, "Joko Widodo");
    let mut clash = fixture_family("35.77.01.1003", 3, "Agus Salim");
    // Same NIK as a living resident, on a new KK: the whole batch must be refused.
    clash.members[0].nik = first.members[0].nik.clone();
    let error = store
        .append(&[registered(&fresh), registered(&clash)])
        .await
        .expect_err("refused");
    match error {
        StoreError::Rejected {
            index: 1,
            violation: RuleViolation::NikAlreadyLiving { index: 1 },
        } => {}
        other => panic!("expected rejection of event 1, got {other:?}"),
    }
    assert!(
        store.family(&fresh.no_kk).await.expect("read").is_none(),
        "batch was half applied"
    );
    assert!(
        store
            .resident(&fresh.members[0].nik)
            .await
            .expect("read")
            .is_none()
    );
    assert_eq!(store.counts().await.expect("counts").journal, 1);
}

pub async fn duplicate_family_is_rejected(store: &impl Store, _keys: &TestKeys) {
    let family = fixture_family("35.77.01.1001", 1, "Budi Santoso");
    store.append(&[registered(&family)]).await.expect("first");
    let error = store
        .append(&[registered(&family)])
        .await
        .expect_err("second refused");
    assert!(
        matches!(
            error,
            StoreError::Rejected {
                index: 0,
                violation: RuleViolation::FamilyExists
            }
        ),
        "{error:?}"
    );
    // Two events of one batch clashing with each other are caught too.
    let other = fixture_family("35.77.01.1002", 2, "Joko");
    let error = store
        .append(&[registered(&other), registered(&other)])
        .await
        .expect_err("refused");
    assert!(
        matches!(error, StoreError::Rejected { index: 1, .. }),
        "{error:?}"
    );
}

pub async fn journal_is_ordered_and_gap_free(store: &impl Store, _keys: &TestKeys) {
    let families: Vec<Family> = (1..=5)
        .map(|i| fixture_family("35.77.01.1001", i, &format!("Kepala {i}")))
        .collect();
    let receipt = store
        .append(&[registered(&families[0]), registered(&families[1])])
        .await
        .expect("batch");
    assert_eq!(receipt.sequences, [1, 2]);
    let _ = store
        .append(&[registered(&families[0])])
        .await
        .expect_err("refused, no gap");
    let receipt = store
        .append(&families[2..].iter().map(registered).collect::<Vec<_>>())
        .await
        .expect("batch");
    assert_eq!(receipt.sequences, [3, 4, 5]);
    let entries = store.journal_after(1, 10).await.expect("journal");
    assert_eq!(
        entries.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        [2, 3, 4, 5]
    );
    assert_eq!(entries[0].event_type, "id.simpul.keluarga.terdaftar.v1");
    assert_eq!(entries[0].subject, "35.77.01.1001");
    let decoded: RegistryEvent = serde_json::from_value(entries[0].data.clone()).expect("decodes");
    assert_eq!(decoded, registered(&families[1]));
    assert_eq!(store.journal_after(3, 1).await.expect("journal").len(), 1);
}

pub async fn search_by_name_date_and_region(store: &impl Store, _keys: &TestKeys) {
    let a = fixture_family("35.77.01.1001", 1, "Budi Santoso");
    let b = fixture_family("35.77.02.1006", 2, "Budi Hartono");
    let c = fixture_family("35.77.02.1006", 3, "Slamet Santoso");
    store
        .append(&[registered(&a), registered(&b), registered(&c)])
        .await
        .expect("append");
    let query = |tokens: &[&str]| ResidentQuery {
        name_tokens: tokens.iter().map(|t| t.to_string()).collect(),
        limit: 10,
        ..ResidentQuery::default()
    };
    let budi = store
        .search_residents(&query(&["BUDI"]))
        .await
        .expect("search");
    assert_eq!(budi.total, 2);
    let both = store
        .search_residents(&query(&["BUDI", "SANTOSO"]))
        .await
        .expect("search");
    assert_eq!(
        both.items.iter().map(|r| r.nik.clone()).collect::<Vec<_>>(),
        [a.members[0].nik.clone()]
    );
    let in_kelurahan = ResidentQuery {
        region: Some(code("35.77.02.1006")),
        ..query(&["SANTOSO"])
    };
    let found = store.search_residents(&in_kelurahan).await.expect("search");
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].nama_lengkap, "Slamet Santoso");
    let in_kecamatan = ResidentQuery {
        region: Some(code("35.77.02")),
        limit: 2,
        ..Default::default()
    };
    let page = store.search_residents(&in_kecamatan).await.expect("search");
    assert_eq!((page.total, page.items.len()), (6, 2));
    let next = store
        .search_residents(&ResidentQuery {
            offset: 2,
            ..in_kecamatan.clone()
        })
        .await
        .expect("p2");
    assert!(
        next.items.iter().all(|r| !page.items.contains(r)),
        "pages overlap"
    );
    let by_date = ResidentQuery {
        birth_date: a.members[2].birth_date.into(),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        store
            .search_residents(&by_date)
            .await
            .expect("search")
            .total,
        3
    );
    assert_eq!(
        store
            .search_residents(&query(&["TIDAKADA"]))
            .await
            .expect("search")
            .total,
        0
    );
}

pub async fn verification_reads_only_known_niks(store: &impl Store, _keys: &TestKeys) {
    let family = fixture_family("35.77.01.1001", 1, "Budi Santoso");
    store.append(&[registered(&family)]).await.expect("append");
    let unknown = Nik::compose(&code("35.77.03"), fixture_today(), Sex::LakiLaki, 9).expect("nik");
    let niks = vec![
        family.members[0].nik.clone(),
        unknown.clone(),
        family.members[2].nik.clone(),
    ];
    let records = store.verification_records(&niks).await.expect("records");
    assert_eq!(records.len(), 2);
    let head = &records[&family.members[0].nik];
    assert_eq!(head.full_name, "Budi Santoso");
    assert_eq!(head.birth_date, family.members[0].birth_date);
    assert_eq!(head.mother_name, "Painem");
    assert_eq!(head.status, ResidentStatus::Hidup);
    assert!(!records.contains_key(&unknown));
    assert!(
        store
            .verification_records(&[])
            .await
            .expect("empty")
            .is_empty()
    );
}

pub async fn missing_rows_are_none(store: &impl Store, _keys: &TestKeys) {
    let family = fixture_family("35.77.01.1001", 1, "Budi Santoso");
    assert!(
        store
            .resident(&family.members[0].nik)
            .await
            .expect("read")
            .is_none()
    );
    assert!(store.family(&family.no_kk).await.expect("read").is_none());
    assert!(store.region(&code("35.77")).await.expect("read").is_none());
    assert!(store.journal_after(0, 10).await.expect("read").is_empty());
    store.ping().await.expect("ping");
}

/// A scripted history with clashes: the store accepts and refuses exactly what the
/// in-memory domain model does, and ends with the same residents.
pub async fn decisions_match_the_domain_model(store: &impl Store, _keys: &TestKeys) {
    let mut model = InMemoryRegistry::default();
    let mut families: Vec<Family> = (1..=12)
        .map(|i| {
            fixture_family(
                ["35.77.01.1001", "35.77.03.1009"][i as usize % 2],
                i,
                &format!("Warga {i}"),
            )
        })
        .collect();
    families[4].members[1].nik = families[1].members[1].nik.clone(); // NIK clash
    families[7] = families[3].clone(); // KK clash
    for (step, family) in families.iter().enumerate() {
        let event = registered(family);
        let expected = model.apply(&event, fixture_today());
        let actual = store.append(std::slice::from_ref(&event)).await;
        match (&expected, &actual) {
            (Ok(()), Ok(_)) => {}
            (Err(want), Err(StoreError::Rejected { violation, .. })) if want == violation => {}
            _ => panic!("step {step}: model said {expected:?}, store said {actual:?}"),
        }
    }
    for family in &families {
        for member in &family.members {
            let stored = store
                .resident(&member.nik)
                .await
                .expect("read")
                .map(|r| r.resident);
            assert_eq!(
                stored.as_ref(),
                model.resident(&member.nik),
                "resident differs"
            );
        }
    }
    assert_eq!(
        store.counts().await.expect("counts").journal,
        model.applied()
    );
}

/// The strings of `families` that must never be found in clear in a database: every NIK
/// and KK number, and every full name of two words or more (a single word could be part of
/// a village's name in the region master data, which is public).
pub fn sensitive_strings(families: &[Family]) -> Vec<String> {
    let mut found = Vec::new();
    for family in families {
        found.push(family.no_kk.as_str().to_owned());
        for member in &family.members {
            found.push(member.nik.as_str().to_owned());
            for name in [&member.full_name, &member.mother_name, &member.father_name] {
                if name.split_whitespace().count() >= 2 {
                    found.push(name.clone());
                }
            }
        }
    }
    found
}

/// The sensitive strings that occur in `haystack` (raw database bytes or a table dump).
pub fn plaintext_found(haystack: &[u8], sensitive: &[String]) -> Vec<String> {
    let Ok(matcher) = aho_corasick::AhoCorasick::new(sensitive) else {
        panic!("probes do not build a matcher");
    };
    let mut found: Vec<String> = matcher
        .find_overlapping_iter(haystack)
        .map(|m| sensitive[m.pattern().as_usize()].clone())
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Rotating the data key and resealing leaves every value readable under the new key
/// alone; a second pass finds nothing left to do.
pub async fn rotation_reseals_every_value(store: &impl Store, keys: &TestKeys) {
    let families: Vec<Family> = (1..=3)
        .map(|i| fixture_family("35.77.01.1001", i, &format!("Warga {i}")))
        .collect();
    store
        .append(&families.iter().map(registered).collect::<Vec<_>>())
        .await
        .expect("append");
    let draft = store
        .lampid(crate::LampidCommand::Create {
            kelurahan: code("35.77.01.1001"),
            payload: crate::contract_lampid::birth_report(&families[0]),
            actor: "operator-1".into(),
            idempotency_key: None,
            submit: false,
        })
        .await
        .expect("draft")
        .submission;
    keys.rotate("data-2");
    let mut steps = 0;
    let resealed = reseal_all(store, 2, |_, _| steps += 1)
        .await
        .expect("reseal");
    // 9 residents, 3 families, 4 journal entries, 1 submission; batches of 2 take several
    // steps.
    assert_eq!(resealed, 9 + 3 + 4 + 1);
    assert!(steps >= 8, "{steps} steps");
    keys.drop_old_data_keys();
    for family in &families {
        assert_eq!(
            store.family(&family.no_kk).await.expect("read"),
            Some(family.clone())
        );
        let records = store
            .verification_records(&[family.members[1].nik.clone()])
            .await
            .expect("verify");
        assert_eq!(records.len(), 1);
    }
    let journal = store.journal_after(0, 10).await.expect("journal");
    assert_eq!(journal.len(), 4);
    let reopened = store
        .submission(draft.submission.tracking_code())
        .await
        .expect("read");
    assert_eq!(reopened, Some(draft));
    assert_eq!(reseal_all(store, 100, |_, _| {}).await.expect("again"), 0);
}
