//! The write workloads: births taken from report to registration, and the ceiling beside
//! them; and the mothers the births are drawn from.
//!
//! A birth is what a kelurahan operator, a kecamatan supervisor and a Dukcapil registrar do
//! through e-LAMPID: the report is created and submitted (one transaction: `laporan.dibuat`
//! and the `ajukan` step), verified (one: the `verifikasi` step), and registered (one: the
//! `catat` step and `kelahiran.tercatat`, which gives the child a NIK, adds it to the family
//! card, moves the statistics counters and numbers the certificate). Five journal events in
//! three transactions, each validated against the registry as it then is.
//!
//! The ceiling is the cheapest durable write the store offers through the same path: one
//! `laporan.dibuat` event appended on its own (one event, one transaction, no registry
//! facts to load).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use chrono::NaiveDate;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use simpul_domain::access::RoleKind;
use simpul_domain::event::SubmissionCreated;
use simpul_domain::lampid::{Kelahiran, LampidPayload, TrackingCode, Transition};
use simpul_domain::{KodeWilayah, Nik, NoKk, RegionLevel, RegistryEvent, ResidentStatus, Sex};
use simpul_store::{LampidCommand, ResidentQuery, ResidentSummary, Store, StoreError};

use super::measure::{CpuMeter, Window, sleep_until};

/// Youngest and oldest mother's age on the birth date, in completed years.
pub const MOTHER_AGES: std::ops::RangeInclusive<i32> = 16..=44;

/// Residents read per page while looking for mothers.
const PAGE: u32 = 2_000;

/// Failed operations after which a worker stops: a store that keeps refusing is a broken
/// run, not a slow one.
const MAX_WORKER_ERRORS: u64 = 100;

/// A woman who can be reported as giving birth: her NIK, her family card and its kelurahan
/// (where the report must be submitted).
#[derive(Debug, Clone)]
pub struct Mother {
    pub nik: Nik,
    pub no_kk: NoKk,
    pub kelurahan: KodeWilayah,
}

/// The days births fall on: the last `days` days up to `today`, never in the future.
#[derive(Debug, Clone, Copy)]
pub struct BirthDays {
    pub today: NaiveDate,
    pub days: u32,
}

impl BirthDays {
    pub fn earliest(&self) -> NaiveDate {
        self.today - chrono::Duration::days(i64::from(self.days.saturating_sub(1)))
    }

    /// A birth date `back` days before today, folded into the window.
    pub fn date(&self, back: u32) -> NaiveDate {
        self.today - chrono::Duration::days(i64::from(back % self.days.max(1)))
    }
}

/// Age in completed years on `on` of someone born on `born` (a 29 February birthday falls
/// on 1 March in other years).
pub fn age_on(born: NaiveDate, on: NaiveDate) -> i32 {
    use chrono::Datelike;
    let years = on.year() - born.year();
    if (on.month(), on.day()) < (born.month(), born.day()) {
        years - 1
    } else {
        years
    }
}

/// Whether `resident` can be the mother of a child born on any day of `days`.
pub fn eligible(resident: &ResidentSummary, days: BirthDays) -> bool {
    resident.jenis_kelamin == Sex::Perempuan
        && resident.status == ResidentStatus::Hidup
        && MOTHER_AGES.contains(&age_on(resident.tanggal_lahir, days.earliest()))
        && MOTHER_AGES.contains(&age_on(resident.tanggal_lahir, days.today))
}

/// The kelurahan in `region` (itself when it is one), in code order.
pub async fn kelurahan_in(
    store: &dyn Store,
    region: &KodeWilayah,
) -> anyhow::Result<Vec<KodeWilayah>> {
    let mut level = vec![region.clone()];
    while level
        .first()
        .is_some_and(|c| c.level() != RegionLevel::KelurahanDesa)
    {
        let mut below = Vec::new();
        for code in &level {
            below.extend(
                store
                    .region_children(code)
                    .await?
                    .into_iter()
                    .map(|r| r.code),
            );
        }
        level = below;
    }
    Ok(level)
}

/// Up to about `wanted` mothers, taken evenly from each kelurahan of `region`.
pub async fn gather_mothers(
    store: &dyn Store,
    region: &KodeWilayah,
    wanted: usize,
    days: BirthDays,
) -> anyhow::Result<Vec<Mother>> {
    let kelurahan = kelurahan_in(store, region).await?;
    ensure!(!kelurahan.is_empty(), "no kelurahan in region {region}");
    let per_kelurahan = wanted.div_ceil(kelurahan.len());
    let mut mothers = Vec::new();
    for code in &kelurahan {
        let mut found = 0;
        let mut offset = 0u64;
        while found < per_kelurahan {
            let page = store
                .search_residents(&ResidentQuery {
                    region: Some(code.clone()),
                    offset,
                    limit: PAGE,
                    ..ResidentQuery::default()
                })
                .await?;
            if page.items.is_empty() {
                break;
            }
            offset += page.items.len() as u64;
            for resident in page.items.iter().filter(|r| eligible(r, days)) {
                if found == per_kelurahan {
                    break;
                }
                mothers.push(Mother {
                    nik: resident.nik.clone(),
                    no_kk: resident.no_kk.clone(),
                    kelurahan: resident.kelurahan.clone(),
                });
                found += 1;
            }
        }
    }
    Ok(mothers)
}

/// The birth report a kelurahan operator enters for `mother`'s child.
pub fn birth_report(mother: &Mother, born: NaiveDate, sex: Sex) -> LampidPayload {
    LampidPayload::Kelahiran(Kelahiran {
        child_name: "Bayi Pengukuran".into(),
        sex,
        birth_date: born,
        birth_time: chrono::NaiveTime::from_hms_opt(7, 15, 0).unwrap_or_default(),
        birth_place: "Rumah Sakit Umum Daerah".into(),
        mother_nik: mother.nik.clone(),
        father_nik: None,
        mother_name: None,
        father_name: None,
        no_kk: mother.no_kk.clone(),
        reporter: mother.nik.clone(),
    })
}

/// Which write a loop repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Workload {
    /// A birth from report to registration: 3 transactions, 5 journal events.
    Births,
    /// The same births while the ledger's sealer runs beside them, as it does in the hub:
    /// what the ledger costs the registry's writes.
    BirthsSealed,
    /// One `laporan.dibuat` appended alone: 1 transaction, 1 journal event.
    Ceiling,
}

impl Workload {
    pub fn label(self) -> &'static str {
        match self {
            Self::Births => "simpul: births (submit → verify → register)",
            Self::BirthsSealed => "simpul: births, ledger sealing beside them",
            Self::Ceiling => "ceiling: one-event append",
        }
    }
}

/// What one loop completed: in the measured window, and over the whole run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    /// Operations (births, or ceiling appends) whose last transaction committed in the window.
    pub operations: u64,
    pub transactions: u64,
    pub events: u64,
    /// Transactions and events committed over the whole run, warm-up included.
    pub transactions_total: u64,
    pub events_total: u64,
    /// Failed operations by step and error, over the whole run.
    pub errors: BTreeMap<String, u64>,
}

impl Tally {
    fn committed(&mut self, window: &Window, events: u64) {
        self.transactions_total += 1;
        self.events_total += events;
        if window.measures(Instant::now()) {
            self.transactions += 1;
            self.events += events;
        }
    }

    fn failed(&mut self, step: &str, error: &StoreError) {
        *self.errors.entry(format!("{step}: {error}")).or_default() += 1;
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    fn merge(&mut self, other: Self) {
        self.operations += other.operations;
        self.transactions += other.transactions;
        self.events += other.events;
        self.transactions_total += other.transactions_total;
        self.events_total += other.events_total;
        for (error, n) in other.errors {
            *self.errors.entry(error).or_default() += n;
        }
    }
}

/// One closed-loop run of a workload.
#[derive(Debug, Clone, Serialize)]
pub struct ClosedRun {
    pub workload: Workload,
    pub workers: usize,
    pub window_secs: f64,
    /// Births (or ceiling appends) per second.
    pub operations_per_sec: f64,
    pub events_per_sec: f64,
    pub transactions_per_sec: f64,
    /// CPU of this process (store and load together), percent of one core.
    pub cpu_pct: Option<f64>,
    pub tally: Tally,
}

/// What every worker of a run shares.
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub mothers: Arc<Vec<Mother>>,
    pub days: BirthDays,
    /// The next mother to use, across workers, so that concurrent births rarely share one.
    pub next: Arc<AtomicUsize>,
}

impl Shared {
    fn mother(&self) -> &Mother {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        &self.mothers[i % self.mothers.len()]
    }
}

/// Runs one birth through its three transactions, counting each commit.
async fn one_birth(
    shared: &Shared,
    rng: &mut StdRng,
    worker: usize,
    window: &Window,
    tally: &mut Tally,
) -> Result<(), (&'static str, StoreError)> {
    let mother = shared.mother();
    let born = shared
        .days
        .date(rng.random_range(0..shared.days.days.max(1)));
    let sex = if rng.random_bool(0.5) {
        Sex::LakiLaki
    } else {
        Sex::Perempuan
    };
    let created = shared
        .store
        .lampid(LampidCommand::Create {
            kelurahan: mother.kelurahan.clone(),
            payload: birth_report(mother, born, sex),
            actor: format!("bench-operator-{worker}"),
            idempotency_key: None,
            submit: true,
        })
        .await
        .map_err(|e| ("create and submit", e))?;
    tally.committed(window, 2);
    let code = created.submission.submission.tracking_code().clone();
    let steps = [
        (Transition::Verifikasi, 2, RoleKind::Supervisor, 1, "verify"),
        (Transition::Catat, 3, RoleKind::Registrar, 2, "register"),
    ];
    for (transition, version, role, events, step) in steps {
        shared
            .store
            .lampid(LampidCommand::Step {
                tracking_code: code.clone(),
                transition,
                version,
                actor: format!("bench-{}-{worker}", role.code()),
                role,
            })
            .await
            .map_err(|e| (step, e))?;
        tally.committed(window, events);
    }
    Ok(())
}

/// Appends one minimal event: a fresh draft report, nothing validated or registered.
async fn one_append(
    shared: &Shared,
    rng: &mut StdRng,
    worker: usize,
    window: &Window,
    tally: &mut Tally,
) -> Result<(), (&'static str, StoreError)> {
    let mother = shared.mother();
    let event = RegistryEvent::LaporanDibuat(SubmissionCreated {
        tracking_code: TrackingCode::from_random(rng.random()),
        kelurahan: mother.kelurahan.clone(),
        payload: birth_report(mother, shared.days.today, Sex::Perempuan),
        actor: format!("bench-ceiling-{worker}"),
        at: simpul_store::now(),
        idempotency_key: None,
    });
    shared
        .store
        .append(&[event])
        .await
        .map_err(|e| ("append", e))?;
    tally.committed(window, 1);
    Ok(())
}

async fn worker(
    shared: Arc<Shared>,
    workload: Workload,
    index: usize,
    window: Window,
    seed: u64,
) -> Tally {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut tally = Tally::default();
    while Instant::now() < window.end {
        let outcome = match workload {
            Workload::Births | Workload::BirthsSealed => {
                one_birth(&shared, &mut rng, index, &window, &mut tally).await
            }
            Workload::Ceiling => one_append(&shared, &mut rng, index, &window, &mut tally).await,
        };
        match outcome {
            Ok(()) => {
                if window.measures(Instant::now()) {
                    tally.operations += 1;
                }
            }
            Err((step, error)) => {
                tally.failed(step, &error);
                if tally.error_count() >= MAX_WORKER_ERRORS {
                    break;
                }
            }
        }
    }
    tally
}

/// Runs `workload` with `workers` concurrent tasks over `window`, each back to back.
pub async fn saturate(
    shared: &Arc<Shared>,
    workload: Workload,
    workers: usize,
    window: Window,
    seed: u64,
) -> anyhow::Result<ClosedRun> {
    let tasks: Vec<_> = (0..workers)
        .map(|i| {
            tokio::spawn(worker(
                Arc::clone(shared),
                workload,
                i,
                window,
                seed.wrapping_add(i as u64),
            ))
        })
        .collect();
    sleep_until(window.measure_from).await;
    let meter = CpuMeter::start();
    sleep_until(window.end).await;
    let cpu_pct = meter.stop();
    let mut tally = Tally::default();
    for task in tasks {
        tally.merge(task.await.context("a load worker panicked")?);
    }
    let secs = window.measured_secs();
    Ok(ClosedRun {
        workload,
        workers,
        window_secs: secs,
        operations_per_sec: tally.operations as f64 / secs,
        events_per_sec: tally.events as f64 / secs,
        transactions_per_sec: tally.transactions as f64 / secs,
        cpu_pct,
        tally,
    })
}

/// One birth and one ceiling append, one after the other, before anything is measured: a
/// refusal here (a mother the rules reject, a store that cannot write) stops the run with
/// its reason instead of producing a table of errors.
pub async fn preflight(shared: &Arc<Shared>) -> anyhow::Result<()> {
    let window = Window::starting_now(std::time::Duration::ZERO, std::time::Duration::ZERO);
    let mut rng = StdRng::seed_from_u64(0);
    let mut tally = Tally::default();
    if let Err((step, error)) = one_birth(shared, &mut rng, 0, &window, &mut tally).await {
        bail!("a birth failed at {step}: {error:#}");
    }
    if let Err((step, error)) = one_append(shared, &mut rng, 0, &window, &mut tally).await {
        bail!("the ceiling failed at {step}: {error:#}");
    }
    ensure!(
        tally.transactions_total == 4 && tally.events_total == 6,
        "pre-flight counted {} transactions and {} events, expected 4 and 6",
        tally.transactions_total,
        tally.events_total
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn ages_count_completed_years() {
        assert_eq!(age_on(day(2000, 6, 15), day(2016, 6, 14)), 15);
        assert_eq!(age_on(day(2000, 6, 15), day(2016, 6, 15)), 16);
        assert_eq!(age_on(day(2000, 2, 29), day(2016, 2, 28)), 15);
        assert_eq!(age_on(day(2000, 2, 29), day(2016, 3, 1)), 16);
        assert_eq!(age_on(day(2000, 1, 1), day(1999, 12, 31)), -1);
    }

    #[test]
    fn birth_days_stay_in_the_window_and_never_in_the_future() {
        let days = BirthDays {
            today: day(2026, 3, 10),
            days: 30,
        };
        assert_eq!(days.earliest(), day(2026, 2, 9));
        assert_eq!(days.date(0), day(2026, 3, 10));
        assert_eq!(days.date(29), day(2026, 2, 9));
        assert_eq!(
            days.date(30),
            day(2026, 3, 10),
            "folded back into the window"
        );
        let one = BirthDays {
            today: day(2026, 3, 10),
            days: 1,
        };
        assert_eq!((one.earliest(), one.date(5)), (one.today, one.today));
    }

    /// A mother in kelurahan 35.77.01.1001, born on `born`.
    fn mother(born: NaiveDate) -> anyhow::Result<Mother> {
        let kecamatan = KodeWilayah::parse("35.77.01")?;
        Ok(Mother {
            nik: Nik::compose(&kecamatan, born, Sex::Perempuan, 1).context("nik")?,
            no_kk: NoKk::compose(&kecamatan, day(2020, 1, 1), 1).context("no_kk")?,
            kelurahan: KodeWilayah::parse("35.77.01.1001")?,
        })
    }

    fn summary(
        sex: Sex,
        born: NaiveDate,
        status: ResidentStatus,
    ) -> anyhow::Result<ResidentSummary> {
        let mother = mother(born)?;
        Ok(ResidentSummary {
            nik: mother.nik,
            no_kk: mother.no_kk,
            nama_lengkap: "Sri Wahyuni".into(),
            jenis_kelamin: sex,
            tanggal_lahir: born,
            kelurahan: mother.kelurahan,
            status,
        })
    }

    #[test]
    fn mothers_are_living_women_of_16_to_44_on_every_birth_day() -> anyhow::Result<()> {
        let days = BirthDays {
            today: day(2026, 3, 10),
            days: 30,
        };
        let living = ResidentStatus::Hidup;
        assert!(eligible(
            &summary(Sex::Perempuan, day(1996, 1, 1), living)?,
            days
        ));
        assert!(!eligible(
            &summary(Sex::LakiLaki, day(1996, 1, 1), living)?,
            days
        ));
        assert!(!eligible(
            &summary(Sex::Perempuan, day(1996, 1, 1), ResidentStatus::Meninggal)?,
            days
        ));
        // Turns 16 inside the window: too young for its first days.
        assert!(!eligible(
            &summary(Sex::Perempuan, day(2010, 3, 1), living)?,
            days
        ));
        assert!(eligible(
            &summary(Sex::Perempuan, day(2010, 2, 9), living)?,
            days
        ));
        // Turns 45 inside the window: too old for its last days.
        assert!(!eligible(
            &summary(Sex::Perempuan, day(1981, 3, 1), living)?,
            days
        ));
        assert!(eligible(
            &summary(Sex::Perempuan, day(1981, 3, 11), living)?,
            days
        ));
        Ok(())
    }

    #[test]
    fn the_report_names_the_mother_and_her_family() -> anyhow::Result<()> {
        let mother = mother(day(1996, 5, 5))?;
        let LampidPayload::Kelahiran(k) = birth_report(&mother, day(2026, 3, 1), Sex::LakiLaki)
        else {
            bail!("not a birth report");
        };
        assert_eq!((k.mother_nik, k.reporter), (mother.nik.clone(), mother.nik));
        assert_eq!(k.no_kk, mother.no_kk);
        assert_eq!((k.birth_date, k.sex), (day(2026, 3, 1), Sex::LakiLaki));
        Ok(())
    }

    #[test]
    fn tallies_count_only_commits_inside_the_window() {
        let open = Window::starting_now(
            std::time::Duration::ZERO,
            std::time::Duration::from_secs(60),
        );
        let closed = Window::starting_now(
            std::time::Duration::from_secs(60),
            std::time::Duration::from_secs(1),
        );
        let mut a = Tally::default();
        a.committed(&open, 2);
        a.committed(&closed, 1);
        a.failed("verify", &StoreError::NotFound);
        let mut b = Tally::default();
        b.committed(&open, 2);
        b.failed("verify", &StoreError::NotFound);
        b.merge(a);
        assert_eq!((b.transactions, b.events), (2, 4));
        assert_eq!((b.transactions_total, b.events_total), (3, 5));
        assert_eq!(b.error_count(), 2);
        assert_eq!(b.errors.len(), 1);
    }
}
