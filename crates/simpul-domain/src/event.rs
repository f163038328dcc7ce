//! Registry events: everything the journal records, and the rules that decide whether one
//! may be appended.
//!
//! Two families of events share the one journal:
//! - **registry changes** (a family registered, a birth, a death, a move out, a move in),
//!   which change residents and families. Each carries the decisions already taken (the
//!   child's new NIK, the document number), so replaying the journal never decides again;
//! - **workflow steps** of an e-LAMPID submission (created, amended, a transition taken),
//!   which change only the submission.
//!
//! A store loads the part of the registry an event names into an
//! [`InMemoryRegistry`](crate::registry::InMemoryRegistry) inside its transaction and applies
//! the event there ([`InMemoryRegistry::apply`](crate::registry::InMemoryRegistry::apply)),
//! which checks it first. The decision is made here, once, for every backend; the
//! database's unique indexes are only a second line.
//!
//! # Encoding
//! Serde encodes an event as `{"jenis": "<snake_case variant>", "data": {…}}`; the journal
//! stores it with CloudEvents 1.0 attributes beside it ([`RegistryEvent::event_type`] is the
//! CloudEvents `type`, versioned by its `.v1` suffix; [`RegistryEvent::kelurahan`] is the
//! `subject`). A change to a variant's fields that old readers cannot ignore gets a new
//! variant and a new type, never an edit of this one.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::access::RoleKind;
use crate::family::{Family, FamilyError};
use crate::lampid::{LampidPayload, TrackingCode, Transition};
use crate::nik::{Nik, NoKk};
use crate::resident::{Address, BiodataError, Resident};
use crate::wilayah::KodeWilayah;

/// A change recorded in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "jenis", content = "data", rename_all = "snake_case")]
pub enum RegistryEvent {
    /// A family and its members enter the registry as they already are (initial load, or a
    /// migration from a legacy system). Births and moves in arrive as their own events.
    KeluargaTerdaftar(Family),
    /// A registered birth: the child, with the NIK registration assigned, joins a family.
    KelahiranTercatat(BirthRegistered),
    /// A registered death: the resident is deceased and leaves the active family.
    KematianTercatat(DeathRegistered),
    /// A registered move out: the residents have moved to the destination.
    PindahTercatat(MoveOutRegistered),
    /// A registered move in: residents arrive into an existing or a new family.
    DatangTercatat(MoveInRegistered),
    /// A kelurahan operator created an e-LAMPID submission (a draft).
    LaporanDibuat(SubmissionCreated),
    /// The operator replaced the report of a draft or of a rejected submission.
    LaporanDiubah(SubmissionAmended),
    /// Someone took a workflow step on a submission.
    LangkahLaporan(SubmissionStep),
}

/// What every registration carries: which submission it registers and the document issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    #[serde(rename = "kode_lacak")]
    pub tracking_code: TrackingCode,
    /// Birth or death certificate number, or move letter number.
    #[serde(rename = "nomor_dokumen")]
    pub document: String,
    /// The submitting kelurahan.
    pub kelurahan: KodeWilayah,
    /// When the registrar registered it.
    #[serde(rename = "waktu")]
    pub at: DateTime<Utc>,
}

impl Registration {
    /// The registration's calendar date in Western Indonesia Time (UTC+7).
    pub fn local_date(&self) -> NaiveDate {
        (self.at + chrono::Duration::hours(7)).date_naive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BirthRegistered {
    #[serde(rename = "pencatatan")]
    pub registration: Registration,
    /// The child's record as it enters the family (new NIK, the family's KK, *anak*).
    #[serde(rename = "anak")]
    pub child: Resident,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeathRegistered {
    #[serde(rename = "pencatatan")]
    pub registration: Registration,
    pub nik: Nik,
    #[serde(rename = "tanggal_kematian")]
    pub date: NaiveDate,
    /// The new head of those who remain, when the deceased headed a family.
    #[serde(
        rename = "nik_kepala_baru",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub new_head: Option<Nik>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveOutRegistered {
    #[serde(rename = "pencatatan")]
    pub registration: Registration,
    pub no_kk: NoKk,
    /// Those who move: every living member when the whole family moves.
    #[serde(rename = "anggota")]
    pub movers: Vec<Nik>,
    #[serde(rename = "alamat_tujuan")]
    pub destination: Address,
    #[serde(
        rename = "nik_kepala_baru",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub new_head: Option<Nik>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveInRegistered {
    #[serde(rename = "pencatatan")]
    pub registration: Registration,
    /// The family the arrivals join (a new KK number when they found one).
    pub no_kk: NoKk,
    /// The address of a new family; absent when the arrivals join an existing one.
    #[serde(
        rename = "alamat_baru",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub new_family: Option<Address>,
    /// The arrivals' records as they will be: on `no_kk`, living, with their relationship.
    #[serde(rename = "anggota")]
    pub arrivals: Vec<Resident>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionCreated {
    #[serde(rename = "kode_lacak")]
    pub tracking_code: TrackingCode,
    pub kelurahan: KodeWilayah,
    #[serde(rename = "laporan")]
    pub payload: LampidPayload,
    /// Who created it (an account id; never a resident).
    #[serde(rename = "aktor")]
    pub actor: String,
    #[serde(rename = "waktu")]
    pub at: DateTime<Utc>,
    /// The creator's idempotency key, scoped to the creator.
    #[serde(
        rename = "kunci_idempotensi",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionAmended {
    #[serde(rename = "kode_lacak")]
    pub tracking_code: TrackingCode,
    pub kelurahan: KodeWilayah,
    #[serde(rename = "laporan")]
    pub payload: LampidPayload,
    #[serde(rename = "aktor")]
    pub actor: String,
    #[serde(rename = "waktu")]
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionStep {
    #[serde(rename = "kode_lacak")]
    pub tracking_code: TrackingCode,
    pub kelurahan: KodeWilayah,
    #[serde(rename = "langkah")]
    pub transition: Transition,
    #[serde(rename = "peran")]
    pub role: RoleKind,
    #[serde(rename = "aktor")]
    pub actor: String,
    #[serde(rename = "waktu")]
    pub at: DateTime<Utc>,
}

impl RegistryEvent {
    /// The journal's event type, stable across releases (CloudEvents `type`).
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::KeluargaTerdaftar(_) => "id.simpul.keluarga.terdaftar.v1",
            Self::KelahiranTercatat(_) => "id.simpul.kelahiran.tercatat.v1",
            Self::KematianTercatat(_) => "id.simpul.kematian.tercatat.v1",
            Self::PindahTercatat(_) => "id.simpul.pindah.tercatat.v1",
            Self::DatangTercatat(_) => "id.simpul.datang.tercatat.v1",
            Self::LaporanDibuat(_) => "id.simpul.laporan.dibuat.v1",
            Self::LaporanDiubah(_) => "id.simpul.laporan.diubah.v1",
            Self::LangkahLaporan(_) => "id.simpul.laporan.langkah.v1",
        }
    }

    /// The region the event belongs to (its kelurahan), for routing and authorization.
    pub fn kelurahan(&self) -> &KodeWilayah {
        match self {
            Self::KeluargaTerdaftar(family) => &family.address.kelurahan,
            Self::KelahiranTercatat(e) => &e.registration.kelurahan,
            Self::KematianTercatat(e) => &e.registration.kelurahan,
            Self::PindahTercatat(e) => &e.registration.kelurahan,
            Self::DatangTercatat(e) => &e.registration.kelurahan,
            Self::LaporanDibuat(e) => &e.kelurahan,
            Self::LaporanDiubah(e) => &e.kelurahan,
            Self::LangkahLaporan(e) => &e.kelurahan,
        }
    }

    /// The registration an event records, for registry changes that come from a submission.
    pub fn registration(&self) -> Option<&Registration> {
        match self {
            Self::KelahiranTercatat(e) => Some(&e.registration),
            Self::KematianTercatat(e) => Some(&e.registration),
            Self::PindahTercatat(e) => Some(&e.registration),
            Self::DatangTercatat(e) => Some(&e.registration),
            _ => None,
        }
    }

    /// The kind of document a registration issued; `None` for other events.
    pub fn document_kind(&self) -> Option<crate::lampid::DocumentKind> {
        use crate::lampid::DocumentKind;
        Some(match self {
            Self::KelahiranTercatat(_) => DocumentKind::AktaKelahiran,
            Self::KematianTercatat(_) => DocumentKind::AktaKematian,
            Self::PindahTercatat(_) => DocumentKind::SuratPindah,
            Self::DatangTercatat(_) => DocumentKind::SuratDatang,
            _ => return None,
        })
    }

    /// NIKs whose records (and families) a store must load before applying the event.
    pub fn referenced_niks(&self) -> Vec<&Nik> {
        match self {
            Self::KeluargaTerdaftar(family) => family.member_niks().collect(),
            Self::KelahiranTercatat(e) => vec![&e.child.nik],
            Self::KematianTercatat(e) => std::iter::once(&e.nik).chain(&e.new_head).collect(),
            Self::PindahTercatat(e) => e.movers.iter().chain(&e.new_head).collect(),
            Self::DatangTercatat(e) => e.arrivals.iter().map(|r| &r.nik).collect(),
            Self::LaporanDibuat(_) | Self::LaporanDiubah(_) | Self::LangkahLaporan(_) => Vec::new(),
        }
    }

    /// KK numbers whose families a store must load before applying the event.
    pub fn referenced_families(&self) -> Vec<&NoKk> {
        match self {
            Self::KeluargaTerdaftar(family) => vec![&family.no_kk],
            Self::KelahiranTercatat(e) => vec![&e.child.no_kk],
            Self::PindahTercatat(e) => vec![&e.no_kk],
            Self::DatangTercatat(e) => vec![&e.no_kk],
            Self::KematianTercatat(_)
            | Self::LaporanDibuat(_)
            | Self::LaporanDiubah(_)
            | Self::LangkahLaporan(_) => Vec::new(),
        }
    }

    /// True for events that change residents or families (the rest change submissions).
    pub fn changes_registry(&self) -> bool {
        !matches!(
            self,
            Self::LaporanDibuat(_) | Self::LaporanDiubah(_) | Self::LangkahLaporan(_)
        )
    }
}

/// Why an event may not be appended. Each maps to one stable API problem code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleViolation {
    #[error(transparent)]
    Family(#[from] FamilyError),
    #[error("nomor KK sudah terdaftar")]
    FamilyExists,
    #[error("NIK anggota ke-{index} sudah dimiliki penduduk yang hidup")]
    NikAlreadyLiving { index: usize },
    #[error("NIK baru sudah pernah dipakai")]
    NikAlreadyUsed,
    #[error("nomor KK tidak terdaftar atau tidak lagi aktif")]
    FamilyNotFound,
    #[error("penduduk ke-{index} tidak terdaftar hidup")]
    NotLiving { index: usize },
    #[error("penduduk ke-{index} bukan anggota KK ini")]
    NotMember { index: usize },
    #[error("kepala keluarga baru wajib ditunjuk dari anggota yang tetap")]
    NewHeadRequired,
    #[error("kepala keluarga baru tidak sah")]
    NewHeadInvalid,
    #[error("penduduk ke-{index} adalah kepala keluarga yang masih memiliki anggota")]
    HeadLeavesMembers { index: usize },
    #[error("data anggota ke-{index}: {source}")]
    Biodata { index: usize, source: BiodataError },
}

impl RuleViolation {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Family(_) => "invalid_family",
            Self::FamilyExists => "family_exists",
            Self::NikAlreadyLiving { .. } => "nik_already_living",
            Self::NikAlreadyUsed => "nik_already_used",
            Self::FamilyNotFound => "family_not_found",
            Self::NotLiving { .. } => "not_living",
            Self::NotMember { .. } => "not_family_member",
            Self::NewHeadRequired => "new_head_required",
            Self::NewHeadInvalid => "new_head_invalid",
            Self::HeadLeavesMembers { .. } => "head_leaves_members",
            Self::Biodata { .. } => "invalid_biodata",
        }
    }
}
