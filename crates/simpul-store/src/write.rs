//! The one write path, written once for every backend.
//!
//! A backend opens a transaction and hands it over as a [`RegistryTx`]: a small set of
//! reads and writes of rows. Everything between them is here: loading the part of the
//! registry a batch of events names into an [`InMemoryRegistry`], checking and applying the
//! events there, turning the changes into sealed rows, counters and journal rows; running
//! an e-LAMPID command (validation, workflow, registration with its new numbers); and
//! rebuilding every read model from the journal alone. The backend commits.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use simpul_domain::access::RoleKind;
use simpul_domain::event::{Registration, SubmissionAmended, SubmissionCreated, SubmissionStep};
use simpul_domain::lampid::{
    DocumentKind, LampidPayload, RegistrationError, Submission, TrackingCode, Transition,
    nik_candidates, no_kk_candidates, serials_after,
};
use simpul_domain::registry::InMemoryRegistry;
use simpul_domain::statistics::ancestry;
use simpul_domain::{KodeWilayah, Nik, NoKk, RegistryEvent};

use crate::decide::{JournalRow, journal_rows, receipt};
use crate::lampid::{
    CounterRow, DocumentRow, LampidCommand, LampidOutcome, SubmissionRecord, SubmissionRow,
    SubmissionTimes,
};
use crate::rows::{FamilyRow, ResidentRow};
use crate::vault::Vault;
use crate::{AppendReceipt, StoreError};

/// The row reads and writes of one open transaction. Lists of keys are blind indexes.
#[async_trait]
pub trait RegistryTx: Send {
    /// Resident rows (any status) with these NIK indexes.
    async fn residents(&mut self, nik_indexes: &[String]) -> Result<Vec<ResidentRow>, StoreError>;
    /// Family rows with these KK indexes.
    async fn families(&mut self, no_kk_indexes: &[String]) -> Result<Vec<FamilyRow>, StoreError>;
    /// The living members of these families, ordered by family and card position.
    async fn living_members(
        &mut self,
        no_kk_indexes: &[String],
    ) -> Result<Vec<ResidentRow>, StoreError>;
    /// Of these region codes, those the master data holds.
    async fn known_regions(&mut self, codes: &[String]) -> Result<Vec<String>, StoreError>;
    /// The highest journal sequence (0 when empty).
    async fn last_sequence(&mut self) -> Result<i64, StoreError>;
    async fn insert_journal(
        &mut self,
        rows: &[JournalRow],
        recorded_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Journal rows after `after`, oldest first: `(sequence, sealed data)`.
    async fn journal_batch(
        &mut self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, String)>, StoreError>;
    /// Inserts or replaces whole rows.
    async fn put_families(&mut self, rows: &[FamilyRow]) -> Result<(), StoreError>;
    async fn put_residents(&mut self, rows: &[ResidentRow]) -> Result<(), StoreError>;
    /// Adds `(name word index, NIK index)` pairs not yet present.
    async fn add_name_tokens(&mut self, pairs: &[(String, String)]) -> Result<(), StoreError>;
    /// Adds each delta to its counter (a missing counter starts at 0).
    async fn add_counters(&mut self, rows: &[CounterRow]) -> Result<(), StoreError>;
    async fn submission(
        &mut self,
        tracking_code: &str,
    ) -> Result<Option<SubmissionRow>, StoreError>;
    async fn submission_by_key(
        &mut self,
        idempotency_key: &str,
    ) -> Result<Option<SubmissionRow>, StoreError>;
    /// Inserts or replaces the row.
    async fn put_submission(&mut self, row: &SubmissionRow) -> Result<(), StoreError>;
    /// Whether a document with this number was issued.
    async fn document_exists(&mut self, number: &str) -> Result<bool, StoreError>;
    async fn insert_document(&mut self, row: &DocumentRow) -> Result<(), StoreError>;
    /// The last serial handed out under `key` (a blind index or a document prefix), if
    /// recorded. Only a hint: allocation still checks the number is free.
    async fn serial_hint(&mut self, key: &str) -> Result<Option<i64>, StoreError>;
    async fn set_serial_hint(&mut self, key: &str, serial: i64) -> Result<(), StoreError>;
    /// Empties every read model (residents, families, name words, counters, submissions,
    /// documents, serial hints); the journal stays.
    async fn clear_read_models(&mut self) -> Result<(), StoreError>;
}

/// Checks and appends `events` in order: journaled and applied, or the first refused one
/// reported (the caller then rolls back).
pub async fn append(
    tx: &mut dyn RegistryTx,
    vault: &Vault,
    events: &[RegistryEvent],
    today: NaiveDate,
) -> Result<AppendReceipt, StoreError> {
    if events.is_empty() {
        return Ok(receipt(1, 0));
    }
    journal(tx, vault, events, today, None)
        .await
        .map(|(r, _)| r)
}

/// Applies and journals `events`; `loaded` is a slice already holding what they name (it
/// saves reading it again). Returns the receipt and the submissions the events changed.
async fn journal(
    tx: &mut dyn RegistryTx,
    vault: &Vault,
    events: &[RegistryEvent],
    today: NaiveDate,
    loaded: Option<InMemoryRegistry>,
) -> Result<(AppendReceipt, BTreeMap<String, SubmissionRecord>), StoreError> {
    let submissions = apply(tx, vault, events, today, loaded).await?;
    let first = tx.last_sequence().await? + 1;
    let rows = journal_rows(first, events, vault)?;
    tx.insert_journal(&rows, crate::now()).await?;
    Ok((receipt(first as u64, events.len()), submissions))
}

/// Applies `events` to the read models without journaling them (an append's second half,
/// and a rebuild's replay), on `loaded` or on a slice read for them. Returns the
/// submissions they changed.
async fn apply(
    tx: &mut dyn RegistryTx,
    vault: &Vault,
    events: &[RegistryEvent],
    today: NaiveDate,
    loaded: Option<InMemoryRegistry>,
) -> Result<BTreeMap<String, SubmissionRecord>, StoreError> {
    let mut registry = match loaded {
        Some(registry) => registry,
        None => {
            let mut registry = InMemoryRegistry::default();
            let niks: Vec<&Nik> = events
                .iter()
                .flat_map(RegistryEvent::referenced_niks)
                .collect();
            let kks: Vec<&NoKk> = events
                .iter()
                .flat_map(RegistryEvent::referenced_families)
                .collect();
            load(tx, vault, &niks, &kks, &mut registry).await?;
            registry
        }
    };
    let mut submissions = SubmissionCache::default();
    for (index, event) in events.iter().enumerate() {
        registry
            .apply(event, today)
            .map_err(|violation| StoreError::Rejected { index, violation })?;
        submissions.apply(tx, vault, event).await?;
    }
    write_changes(tx, vault, &mut registry).await?;
    submissions.write(tx, vault).await
}

/// Loads the residents with `niks` (any status), their families, and the families `kks`
/// with their living members into `registry`.
async fn load(
    tx: &mut dyn RegistryTx,
    vault: &Vault,
    niks: &[&Nik],
    kks: &[&NoKk],
    registry: &mut InMemoryRegistry,
) -> Result<(), StoreError> {
    let nik_indexes: Vec<String> = niks
        .iter()
        .map(|n| vault.nik_index(n))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let residents = if nik_indexes.is_empty() {
        Vec::new()
    } else {
        tx.residents(&nik_indexes).await?
    };
    let kk_indexes: Vec<String> = kks
        .iter()
        .map(|kk| vault.no_kk_index(kk))
        .chain(residents.iter().map(|r| r.no_kk_index.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !kk_indexes.is_empty() {
        let families = tx.families(&kk_indexes).await?;
        if !families.is_empty() {
            let mut members: HashMap<String, Vec<simpul_domain::Resident>> = HashMap::new();
            for row in tx.living_members(&kk_indexes).await? {
                let key = row.no_kk_index.clone();
                members
                    .entry(key)
                    .or_default()
                    .push(row.into_resident(vault)?);
            }
            for row in families {
                let key = row.no_kk_index.clone();
                let (no_kk, address) = row.into_card(vault)?;
                registry.load_family(no_kk, address, members.remove(&key).unwrap_or_default());
            }
        }
    }
    for row in residents {
        if row.status != simpul_domain::ResidentStatus::Hidup.as_code() {
            registry.load_resident(row.into_resident(vault)?);
        }
    }
    Ok(())
}

/// Writes what `registry` changed: resident and family rows, name words, counters.
async fn write_changes(
    tx: &mut dyn RegistryTx,
    vault: &Vault,
    registry: &mut InMemoryRegistry,
) -> Result<(), StoreError> {
    let changes = registry.take_changes();
    let mut families = Vec::with_capacity(changes.families.len());
    for (no_kk, card) in &changes.families {
        families.push(FamilyRow::from_card(
            no_kk,
            &card.address,
            registry.head(no_kk),
            vault,
        )?);
    }
    let mut residents = Vec::with_capacity(changes.residents.len());
    let mut tokens = Vec::new();
    for (resident, position) in &changes.residents {
        let card = registry
            .card(&resident.no_kk)
            .ok_or_else(|| StoreError::Corrupt("resident without family card".into()))?;
        let (row, words) = ResidentRow::from_domain(resident, &card.address, *position, vault)?;
        tokens.extend(words.into_iter().map(|w| (w, row.nik_index.clone())));
        residents.push(row);
    }
    let mut counters: BTreeMap<(String, &'static str, String), i64> = BTreeMap::new();
    for (counter, delta) in &changes.counters {
        for region in ancestry(&counter.kelurahan) {
            *counters
                .entry((
                    region.as_str().to_owned(),
                    counter.dimension.code(),
                    counter.key.clone(),
                ))
                .or_default() += delta;
        }
    }
    let counters: Vec<CounterRow> = counters
        .into_iter()
        .filter(|(_, delta)| *delta != 0)
        .map(|((region, dimension, key), delta)| CounterRow {
            parent: parent_code(&region),
            region,
            dimension,
            key,
            delta,
        })
        .collect();
    if !families.is_empty() {
        tx.put_families(&families).await?;
    }
    if !residents.is_empty() {
        tx.put_residents(&residents).await?;
        tx.add_name_tokens(&tokens).await?;
    }
    if !counters.is_empty() {
        tx.add_counters(&counters).await?;
    }
    Ok(())
}

fn parent_code(region: &str) -> String {
    KodeWilayah::parse(region)
        .ok()
        .and_then(|c| c.parent())
        .map(String::from)
        .unwrap_or_default()
}

/// Submissions a batch of events changes, read once and written once at the end.
#[derive(Default)]
struct SubmissionCache {
    rows: BTreeMap<String, (SubmissionRecord, Option<String>)>,
    documents: Vec<DocumentRow>,
}

impl SubmissionCache {
    async fn get<'a>(
        &'a mut self,
        tx: &mut dyn RegistryTx,
        vault: &Vault,
        code: &TrackingCode,
    ) -> Result<&'a mut (SubmissionRecord, Option<String>), StoreError> {
        let key = code.as_str().to_owned();
        if !self.rows.contains_key(&key) {
            let row = tx
                .submission(&key)
                .await?
                .ok_or_else(|| StoreError::Corrupt("journal names an unknown submission".into()))?;
            let idempotency = row.idempotency_key.clone();
            self.rows
                .insert(key.clone(), (row.into_record(vault)?, idempotency));
        }
        self.rows
            .get_mut(&key)
            .ok_or_else(|| StoreError::Corrupt("submission cache".into()))
    }

    /// Applies a workflow event to its submission, and records a registration's document.
    async fn apply(
        &mut self,
        tx: &mut dyn RegistryTx,
        vault: &Vault,
        event: &RegistryEvent,
    ) -> Result<(), StoreError> {
        match event {
            RegistryEvent::LaporanDibuat(e) => self.create(tx, e).await,
            RegistryEvent::LaporanDiubah(SubmissionAmended {
                tracking_code,
                payload,
                at,
                ..
            }) => {
                let (record, _) = self.get(tx, vault, tracking_code).await?;
                record
                    .submission
                    .amend(payload.clone(), RoleKind::Operator)
                    .map_err(StoreError::Workflow)?;
                record.times.state_since = *at;
                Ok(())
            }
            RegistryEvent::LangkahLaporan(SubmissionStep {
                tracking_code,
                transition,
                role,
                at,
                ..
            }) => {
                let (record, _) = self.get(tx, vault, tracking_code).await?;
                record
                    .submission
                    .apply(transition.clone(), *role)
                    .map_err(StoreError::Workflow)?;
                let times = &mut record.times;
                times.state_since = *at;
                match transition {
                    Transition::Ajukan | Transition::AjukanUlang => {
                        times.submitted.get_or_insert(*at);
                    }
                    Transition::Verifikasi => times.verified = Some(*at),
                    Transition::Catat => times.registered = Some(*at),
                    Transition::Tolak { .. } => {}
                }
                Ok(())
            }
            other => match other.registration() {
                Some(registration) => self.issue(tx, vault, other, registration).await,
                None => Ok(()),
            },
        }
    }

    async fn create(
        &mut self,
        tx: &mut dyn RegistryTx,
        e: &SubmissionCreated,
    ) -> Result<(), StoreError> {
        let key = e.tracking_code.as_str().to_owned();
        if self.rows.contains_key(&key) || tx.submission(&key).await?.is_some() {
            // A drawn tracking code that is taken: the caller draws again.
            return Err(StoreError::Conflict);
        }
        let submission = Submission::new(
            e.tracking_code.clone(),
            e.kelurahan.clone(),
            e.payload.clone(),
        );
        let record = SubmissionRecord {
            submission,
            times: SubmissionTimes {
                created: e.at,
                state_since: e.at,
                submitted: None,
                verified: None,
                registered: None,
            },
            document: None,
        };
        self.rows.insert(key, (record, e.idempotency_key.clone()));
        Ok(())
    }

    /// Records a registration's document, and on its submission when it came through the
    /// workflow (a registration imported from a legacy register has none).
    async fn issue(
        &mut self,
        tx: &mut dyn RegistryTx,
        vault: &Vault,
        event: &RegistryEvent,
        registration: &Registration,
    ) -> Result<(), StoreError> {
        let key = registration.tracking_code.as_str();
        if self.rows.contains_key(key) || tx.submission(key).await?.is_some() {
            let (record, _) = self.get(tx, vault, &registration.tracking_code).await?;
            record.document = Some(registration.document.clone());
        }
        self.documents.push(DocumentRow {
            number: registration.document.clone(),
            kind: event
                .document_kind()
                .map(|k| k.code().to_owned())
                .unwrap_or_default(),
            tracking_code: key.to_owned(),
            issued_at: registration.at,
        });
        Ok(())
    }

    /// Writes the changed submissions and issued documents; returns the submissions.
    async fn write(
        self,
        tx: &mut dyn RegistryTx,
        vault: &Vault,
    ) -> Result<BTreeMap<String, SubmissionRecord>, StoreError> {
        for (record, key) in self.rows.values() {
            tx.put_submission(&SubmissionRow::from_record(record, key.clone(), vault)?)
                .await?;
        }
        for document in &self.documents {
            tx.insert_document(document).await?;
        }
        Ok(self
            .rows
            .into_iter()
            .map(|(code, (record, _))| (code, record))
            .collect())
    }
}

/// Runs an e-LAMPID command: checks it, journals its events, applies them. A new
/// submission's tracking code is drawn at random; if it is taken the result is
/// [`StoreError::Conflict`] and the caller runs the command again in a new transaction.
pub async fn run_lampid(
    tx: &mut dyn RegistryTx,
    vault: &Vault,
    command: LampidCommand,
) -> Result<LampidOutcome, StoreError> {
    let now = crate::now();
    let today = simpul_domain::today();
    // The slice validation read, reused by a registration's event (it names the same people).
    let mut loaded = None;
    let (code, events) = match command {
        LampidCommand::Create {
            kelurahan,
            payload,
            actor,
            idempotency_key,
            submit,
        } => {
            let key = idempotency_key.map(|k| format!("{actor}:{k}"));
            let earlier = match &key {
                Some(key) => tx.submission_by_key(key).await?,
                None => None,
            };
            if let Some(row) = earlier {
                let record = row.into_record(vault)?;
                if record.submission.payload() != &payload {
                    return Err(StoreError::IdempotencyMismatch);
                }
                return Ok(LampidOutcome {
                    submission: record,
                    created: false,
                });
            }
            if submit {
                validate(tx, vault, &payload, &kelurahan, today).await?;
            }
            let code = TrackingCode::from_random(rand::random());
            let mut events = vec![RegistryEvent::LaporanDibuat(SubmissionCreated {
                tracking_code: code.clone(),
                kelurahan: kelurahan.clone(),
                payload,
                actor: actor.clone(),
                at: now,
                idempotency_key: key,
            })];
            if submit {
                events.push(RegistryEvent::LangkahLaporan(SubmissionStep {
                    tracking_code: code.clone(),
                    kelurahan,
                    transition: Transition::Ajukan,
                    role: RoleKind::Operator,
                    actor,
                    at: now,
                }));
            }
            (code, events)
        }
        LampidCommand::Amend {
            tracking_code,
            payload,
            version,
            actor,
            role,
        } => {
            let record = current(tx, vault, &tracking_code, version).await?;
            record
                .submission
                .clone()
                .amend(payload.clone(), role)
                .map_err(StoreError::Workflow)?;
            let event = RegistryEvent::LaporanDiubah(SubmissionAmended {
                tracking_code: tracking_code.clone(),
                kelurahan: record.submission.kelurahan().clone(),
                payload,
                actor,
                at: now,
            });
            (tracking_code, vec![event])
        }
        LampidCommand::Step {
            tracking_code,
            transition,
            version,
            actor,
            role,
        } => {
            let record = current(tx, vault, &tracking_code, version).await?;
            record
                .submission
                .clone()
                .apply(transition.clone(), role)
                .map_err(StoreError::Workflow)?;
            let kelurahan = record.submission.kelurahan().clone();
            let payload = record.submission.payload();
            let mut events = vec![RegistryEvent::LangkahLaporan(SubmissionStep {
                tracking_code: tracking_code.clone(),
                kelurahan: kelurahan.clone(),
                transition: transition.clone(),
                role,
                actor,
                at: now,
            })];
            match transition {
                Transition::Tolak { .. } => {}
                Transition::Catat => {
                    let registry = validate(tx, vault, payload, &kelurahan, today).await?;
                    let registration = Registration {
                        tracking_code: tracking_code.clone(),
                        document: next_document(tx, payload, &kelurahan, now).await?,
                        kelurahan: kelurahan.clone(),
                        at: now,
                    };
                    let (nik, no_kk) = new_numbers(tx, vault, payload, &registry, today).await?;
                    let event = payload
                        .registration_event(&registry, registration, nik, no_kk)
                        .map_err(StoreError::Registration)?;
                    events.push(event);
                    loaded = Some(registry);
                }
                _ => {
                    validate(tx, vault, payload, &kelurahan, today).await?;
                }
            }
            (tracking_code, events)
        }
    };
    let (_, mut submissions) = journal(tx, vault, &events, today, loaded).await?;
    let submission = submissions
        .remove(code.as_str())
        .ok_or_else(|| StoreError::Corrupt("submission vanished".into()))?;
    Ok(LampidOutcome {
        submission,
        created: true,
    })
}

/// The submission as stored, if `version` is still its version.
async fn current(
    tx: &mut dyn RegistryTx,
    vault: &Vault,
    code: &TrackingCode,
    version: u64,
) -> Result<SubmissionRecord, StoreError> {
    let record = tx
        .submission(code.as_str())
        .await?
        .ok_or(StoreError::NotFound)?
        .into_record(vault)?;
    record
        .submission
        .check_version(version)
        .map_err(StoreError::Workflow)?;
    Ok(record)
}

/// Validates `payload` against the registry as it is now; returns the loaded slice.
async fn validate(
    tx: &mut dyn RegistryTx,
    vault: &Vault,
    payload: &LampidPayload,
    kelurahan: &KodeWilayah,
    today: NaiveDate,
) -> Result<InMemoryRegistry, StoreError> {
    let mut registry = InMemoryRegistry::default();
    load(
        tx,
        vault,
        &payload.referenced_niks(),
        &payload.referenced_families(),
        &mut registry,
    )
    .await?;
    let codes: Vec<String> = payload
        .referenced_regions()
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    let known: HashSet<KodeWilayah> = if codes.is_empty() {
        HashSet::new()
    } else {
        tx.known_regions(&codes)
            .await?
            .iter()
            .filter_map(|c| KodeWilayah::parse(c).ok())
            .collect()
    };
    let facts = registry.lampid_facts(payload, kelurahan.clone(), known);
    payload
        .validate(&facts, today)
        .map_err(StoreError::Invalid)?;
    Ok(registry)
}

/// The next free document number of the payload's kind, for the kelurahan's city, today.
async fn next_document(
    tx: &mut dyn RegistryTx,
    payload: &LampidPayload,
    kelurahan: &KodeWilayah,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let kota = kelurahan
        .parent()
        .and_then(|k| k.parent())
        .ok_or_else(|| StoreError::Corrupt("kelurahan without city".into()))?;
    let date = (now + chrono::Duration::hours(7)).date_naive();
    let prefix = payload.document_kind().prefix(&kota, date);
    let key = format!("dokumen:{prefix}");
    for serial in serials_after(hint(tx, &key).await?) {
        let number = DocumentKind::number(&prefix, u32::from(serial));
        if !tx.document_exists(&number).await? {
            tx.set_serial_hint(&key, i64::from(serial)).await?;
            return Ok(number);
        }
    }
    Err(StoreError::Registration(
        RegistrationError::NumbersExhausted,
    ))
}

/// The recorded hint for `key`, as a serial (0 when there is none).
async fn hint(tx: &mut dyn RegistryTx, key: &str) -> Result<u16, StoreError> {
    Ok(tx
        .serial_hint(key)
        .await?
        .and_then(|h| u16::try_from(h).ok())
        .unwrap_or(0))
}

/// The first free NIK (birth) or KK number (arrivals founding a family), starting after
/// the last one handed out for the same kecamatan, date (and sex). Writers are serialised
/// by the backend's transaction, so a number found free here stays free.
async fn new_numbers(
    tx: &mut dyn RegistryTx,
    vault: &Vault,
    payload: &LampidPayload,
    registry: &InMemoryRegistry,
    today: NaiveDate,
) -> Result<(Option<Nik>, Option<NoKk>), StoreError> {
    let exhausted = || StoreError::Registration(RegistrationError::NumbersExhausted);
    let Some(kecamatan) = payload.numbering_kecamatan(registry) else {
        return Ok((None, None));
    };
    match payload {
        LampidPayload::Kelahiran(k) => {
            // The hint is keyed by the blind index of serial 1's NIK: the kecamatan, birth
            // date and sex stay out of the table in clear.
            let first = nik_candidates(&kecamatan, k.birth_date, k.sex, 0)
                .next()
                .ok_or_else(exhausted)?;
            let key = format!("nik:{}", vault.nik_index(&first));
            for nik in nik_candidates(&kecamatan, k.birth_date, k.sex, hint(tx, &key).await?) {
                if tx.residents(&[vault.nik_index(&nik)]).await?.is_empty() {
                    tx.set_serial_hint(&key, i64::from(nik.serial())).await?;
                    return Ok((Some(nik), None));
                }
            }
            Err(exhausted())
        }
        _ => {
            let first = no_kk_candidates(&kecamatan, today, 0)
                .next()
                .ok_or_else(exhausted)?;
            let key = format!("kk:{}", vault.no_kk_index(&first));
            for no_kk in no_kk_candidates(&kecamatan, today, hint(tx, &key).await?) {
                if tx.families(&[vault.no_kk_index(&no_kk)]).await?.is_empty() {
                    tx.set_serial_hint(&key, i64::from(no_kk.serial())).await?;
                    return Ok((None, Some(no_kk)));
                }
            }
            Err(exhausted())
        }
    }
}

/// Events replayed per batch during a rebuild.
const REPLAY_BATCH: u32 = 2_000;

/// Empties every read model and replays the whole journal into them, in the caller's
/// transaction. Returns the events replayed.
pub async fn rebuild(tx: &mut dyn RegistryTx, vault: &Vault) -> Result<u64, StoreError> {
    tx.clear_read_models().await?;
    let today = simpul_domain::today();
    let mut after = 0;
    let mut replayed = 0;
    loop {
        let batch = tx.journal_batch(after, REPLAY_BATCH).await?;
        let Some((last, _)) = batch.last() else {
            return Ok(replayed);
        };
        after = *last;
        let events = batch
            .iter()
            .map(|(sequence, sealed)| {
                let value = crate::rows::open_journal_data(*sequence, sealed, vault)?;
                serde_json::from_value::<RegistryEvent>(value).map_err(|e| {
                    StoreError::Corrupt(format!(
                        "journal entry {sequence} does not decode ({:?})",
                        e.classify()
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        apply(tx, vault, &events, today, None)
            .await
            .map_err(|e| match e {
                StoreError::Rejected { index, violation } => StoreError::Corrupt(format!(
                    "journal entry {} does not replay: {}",
                    batch[index].0,
                    violation.code()
                )),
                other => other,
            })?;
        replayed += events.len() as u64;
    }
}
