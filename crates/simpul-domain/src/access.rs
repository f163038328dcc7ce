//! The one authorization gate: who may do what, where.
//!
//! Every handler, CLI command and worker that acts on behalf of someone asks [`authorize`]
//! with the [`Actor`] (who), the [`Action`] (what) and the [`Resource`] (the region or owner
//! of the thing acted on), plus the [`AgencyGrant`]s in force, and obeys the [`Decision`].
//! Nothing else decides; the policy is the one table in `rule` below, and the test matrix
//! at the end of this file spells out every role × action × resource cell.
//!
//! # The policy in words
//! - Region master data and statistics (aggregates, no person in them) are open to every role.
//! - An **operator** works one kelurahan: reads its residents and families, checks NIKs,
//!   reads and submits e-LAMPID events there. Never verifies, registers or rejects.
//! - A **supervisor** works one kecamatan: reads there, verifies or rejects submissions.
//! - A **registrar** is the city's Dukcapil: reads across the city, registers or rejects.
//! - An **agency analyst** does only what an agreement of their agency grants ([`AgencyGrant`]),
//!   inside the grant's region, and an agreement can only grant reads and NIK checks.
//! - An **auditor** reads the access log, the ledger and the alerts, and nothing else.
//! - An **administrator** manages users, machine clients, keys and alerts, and nothing else.
//!
//! # Separation of duties
//! No role both holds a power and checks it. Each e-LAMPID step belongs to one level (the
//! kelurahan submits, the kecamatan verifies, Dukcapil registers), so one person cannot take
//! an event through the workflow alone. Auditors and administrators see no personal data and
//! take no part in the registry: administrators create the accounts that read data, so they
//! must not read it themselves, and they do not read the trail that records their own acts;
//! auditors change nothing they audit. Such refusals carry
//! [`DenyReason::SeparationOfDuties`], so the access log and the alert rules can tell them
//! apart from a role simply lacking an action.
//!
//! # What the gate does not decide
//! It sees no clock, no session and no workflow state. Callers build an [`Actor`] only for a
//! fully authenticated session (password and TOTP) or a valid client token; they pass only
//! the grants in force now; and the e-LAMPID workflow checks the submission's state (one can
//! verify only a *diajukan* submission) after the gate has allowed the role.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::wilayah::{KodeWilayah, RegionCodeError, RegionLevel};

/// Why an actor or agency identifier was refused. The input is not echoed: an actor id may
/// be a person's user name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("ID aktor harus 1-64 karakter: huruf, angka, atau . _ - @ :")]
    Actor,
    #[error("ID instansi harus 2-32 karakter: huruf kecil, angka atau -, diawali huruf")]
    Agency,
}

/// Who acts: a user account or a machine client. Limited to printable ASCII without spaces
/// so it can be written into access-log lines and JWT claims without escaping.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ActorId(String);

impl ActorId {
    /// Longest accepted id; room for a UUID with a prefix or a typical e-mail address.
    pub const MAX_LEN: usize = 64;

    /// Accepts 1 to [`Self::MAX_LEN`] ASCII letters, digits and `.`, `_`, `-`, `@`, `:`.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let ok = (1..=Self::MAX_LEN).contains(&input.len())
            && input
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-@:".contains(&b));
        if ok {
            Ok(Self(input.to_owned()))
        } else {
            Err(IdError::Actor)
        }
    }

    /// The id as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A partner agency (BPJS, a bank, a city office), named by a short lowercase slug such as
/// `bpjs-kesehatan`. Lowercase only, so two spellings can never name the same agency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "bpjs-kesehatan"))]
#[serde(try_from = "String", into = "String")]
pub struct AgencyId(String);

impl AgencyId {
    /// Longest accepted slug: it appears in token scopes and URLs.
    pub const MAX_LEN: usize = 32;

    /// Accepts 2 to [`Self::MAX_LEN`] lowercase ASCII letters, digits and `-`, starting
    /// with a letter.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let ok = (2..=Self::MAX_LEN).contains(&input.len())
            && input.starts_with(|c: char| c.is_ascii_lowercase())
            && input
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(input.to_owned()))
        } else {
            Err(IdError::Agency)
        }
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_conversions {
    ($($ty:ty),*) => {$(
        impl TryFrom<String> for $ty {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
        impl From<$ty> for String {
            fn from(value: $ty) -> Self {
                value.0
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
string_conversions!(ActorId, AgencyId);

/// The kind of a [`Role`], without its scope: what stores, tokens and the access log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RoleKind {
    Operator,
    Supervisor,
    Registrar,
    AgencyAnalyst,
    Auditor,
    Administrator,
}

impl RoleKind {
    /// Every kind, in the order of the policy table.
    pub const ALL: [Self; 6] = [
        Self::Operator,
        Self::Supervisor,
        Self::Registrar,
        Self::AgencyAnalyst,
        Self::Auditor,
        Self::Administrator,
    ];

    /// Stable snake_case code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::Supervisor => "supervisor",
            Self::Registrar => "registrar",
            Self::AgencyAnalyst => "agency_analyst",
            Self::Auditor => "auditor",
            Self::Administrator => "administrator",
        }
    }

    /// The kind with this code, if any.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// The region level a role of this kind is scoped to, if it is scoped to a region.
    pub fn region_level(self) -> Option<RegionLevel> {
        match self {
            Self::Operator => Some(RegionLevel::KelurahanDesa),
            Self::Supervisor => Some(RegionLevel::Kecamatan),
            Self::Registrar => Some(RegionLevel::KabupatenKota),
            Self::AgencyAnalyst | Self::Auditor | Self::Administrator => None,
        }
    }
}

impl fmt::Display for RoleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a role could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    /// An operator scoped to a kecamatan, and the like.
    #[error("peran {role} harus dibatasi pada kode tingkat {}, bukan {}", .expected.as_code(), .found.as_code())]
    WrongLevel {
        role: RoleKind,
        expected: RegionLevel,
        found: RegionLevel,
    },
    #[error("peran {role} memerlukan cakupan (kode wilayah atau instansi)")]
    MissingScope { role: RoleKind },
    #[error("peran {role} tidak memiliki cakupan")]
    UnexpectedScope { role: RoleKind },
    #[error(transparent)]
    Region(#[from] RegionCodeError),
    #[error(transparent)]
    Id(#[from] IdError),
}

/// A role with its scope. One actor holds one role: a person with two duties holds two
/// accounts, so each act is logged under the duty it was done in.
///
/// The regional variants are `#[non_exhaustive]` so that, outside this crate, they can only
/// be built by the constructors, which check the scope's level.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    /// Kelurahan staff.
    #[non_exhaustive]
    Operator { kelurahan: KodeWilayah },
    /// Kecamatan staff who verify the kelurahan's submissions.
    #[non_exhaustive]
    Supervisor { kecamatan: KodeWilayah },
    /// The city's Dukcapil, who register.
    #[non_exhaustive]
    Registrar { kota: KodeWilayah },
    /// Staff (or a machine client) of a partner agency.
    AgencyAnalyst { agency: AgencyId },
    /// Reads the trail: access log, ledger, alerts.
    Auditor,
    /// Manages users, machine clients, keys and alerts.
    Administrator,
}

impl Role {
    /// An operator of one kelurahan or desa.
    pub fn operator(kelurahan: KodeWilayah) -> Result<Self, RoleError> {
        check_level(RoleKind::Operator, &kelurahan)?;
        Ok(Self::Operator { kelurahan })
    }

    /// A supervisor of one kecamatan.
    pub fn supervisor(kecamatan: KodeWilayah) -> Result<Self, RoleError> {
        check_level(RoleKind::Supervisor, &kecamatan)?;
        Ok(Self::Supervisor { kecamatan })
    }

    /// A registrar of one kabupaten or kota.
    pub fn registrar(kota: KodeWilayah) -> Result<Self, RoleError> {
        check_level(RoleKind::Registrar, &kota)?;
        Ok(Self::Registrar { kota })
    }

    /// Rebuilds a role from its stored form: the kind and its scope (a region code for the
    /// regional roles, an agency slug for analysts, nothing for the others).
    pub fn from_parts(kind: RoleKind, scope: Option<&str>) -> Result<Self, RoleError> {
        let region = || -> Result<KodeWilayah, RoleError> {
            let scope = scope.ok_or(RoleError::MissingScope { role: kind })?;
            Ok(KodeWilayah::parse(scope)?)
        };
        match kind {
            RoleKind::Operator => Self::operator(region()?),
            RoleKind::Supervisor => Self::supervisor(region()?),
            RoleKind::Registrar => Self::registrar(region()?),
            RoleKind::AgencyAnalyst => {
                let scope = scope.ok_or(RoleError::MissingScope { role: kind })?;
                Ok(Self::AgencyAnalyst {
                    agency: AgencyId::parse(scope)?,
                })
            }
            RoleKind::Auditor | RoleKind::Administrator if scope.is_some() => {
                Err(RoleError::UnexpectedScope { role: kind })
            }
            RoleKind::Auditor => Ok(Self::Auditor),
            RoleKind::Administrator => Ok(Self::Administrator),
        }
    }

    /// The role's kind.
    pub fn kind(&self) -> RoleKind {
        match self {
            Self::Operator { .. } => RoleKind::Operator,
            Self::Supervisor { .. } => RoleKind::Supervisor,
            Self::Registrar { .. } => RoleKind::Registrar,
            Self::AgencyAnalyst { .. } => RoleKind::AgencyAnalyst,
            Self::Auditor => RoleKind::Auditor,
            Self::Administrator => RoleKind::Administrator,
        }
    }

    /// The stored form of the scope; [`Role::from_parts`] reverses it.
    pub fn scope(&self) -> Option<&str> {
        match self {
            Self::AgencyAnalyst { agency } => Some(agency.as_str()),
            _ => self.region().map(KodeWilayah::as_str),
        }
    }

    /// The region a regional role works in. A handler uses it to narrow a request that
    /// names no region (a search over "everything") to what the actor may see.
    pub fn region(&self) -> Option<&KodeWilayah> {
        match self {
            Self::Operator { kelurahan: code }
            | Self::Supervisor { kecamatan: code }
            | Self::Registrar { kota: code } => Some(code),
            Self::AgencyAnalyst { .. } | Self::Auditor | Self::Administrator => None,
        }
    }
}

fn check_level(role: RoleKind, code: &KodeWilayah) -> Result<(), RoleError> {
    match role.region_level() {
        Some(expected) if expected == code.level() => Ok(()),
        Some(expected) => Err(RoleError::WrongLevel {
            role,
            expected,
            found: code.level(),
        }),
        None => Err(RoleError::UnexpectedScope { role }),
    }
}

/// Who is asking: an authenticated account or client and the role it acts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: ActorId,
    pub role: Role,
}

/// What the actor wants to do. One action per kind of request, existing or planned, so the
/// access log names it by [`Action::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `GET /api/v1/wilayah…`: the region master data.
    ReadRegions,
    /// `GET /api/v1/statistik/…`: aggregate counts (issue 4).
    ReadStatistics,
    /// `GET /api/v1/penduduk/{nik}`: one resident's record.
    ReadResident,
    /// `GET /api/v1/penduduk?…`: search by name, birth date, region.
    SearchResidents,
    /// `GET /api/v1/keluarga/{no_kk}`: one family card.
    ReadFamily,
    /// `POST /api/v1/nik/verifikasi`: one identity claim.
    VerifyNik,
    /// `POST /api/v1/nik/verifikasi/batch`: many claims at once. Its own action so an
    /// agreement can allow single checks at the counter without bulk matching.
    VerifyNikBatch,
    /// Read an e-LAMPID submission or a queue of them.
    ReadLampid,
    /// Submit (or resubmit) an e-LAMPID event: *diajukan*.
    SubmitLampid,
    /// Verify a submission: *diverifikasi*.
    VerifyLampid,
    /// Register a verified submission: *tercatat*.
    RegisterLampid,
    /// Send a submission back with a reason: *ditolak*.
    RejectLampid,
    /// Read the access log.
    ReadAccessLog,
    /// Read the tamper-evident ledger.
    ReadLedger,
    /// `GET /api/v1/ledger/akses?nik=…`: who read one resident's data, when and why. The
    /// resident's right to know (UU 27/2022): asked for at the counter by the resident in
    /// person, identity checked, or by an auditor.
    ReadAccessHistory,
    /// Create, change, lock or remove user accounts and their roles.
    ManageUsers,
    /// Register, change or revoke agency machine clients and their secrets.
    ManageClients,
    /// Rotate token-signing and data-encryption keys.
    ManageKeys,
    /// List suspicious-access alerts.
    ReadAlerts,
    /// Acknowledge an alert.
    AcknowledgeAlerts,
}

impl Action {
    /// Every action, in the order of the policy table.
    pub const ALL: [Self; 20] = [
        Self::ReadRegions,
        Self::ReadStatistics,
        Self::ReadResident,
        Self::SearchResidents,
        Self::ReadFamily,
        Self::VerifyNik,
        Self::VerifyNikBatch,
        Self::ReadLampid,
        Self::SubmitLampid,
        Self::VerifyLampid,
        Self::RegisterLampid,
        Self::RejectLampid,
        Self::ReadAccessLog,
        Self::ReadLedger,
        Self::ReadAccessHistory,
        Self::ManageUsers,
        Self::ManageClients,
        Self::ManageKeys,
        Self::ReadAlerts,
        Self::AcknowledgeAlerts,
    ];

    /// Stable snake_case code for the access log and token scopes.
    pub fn code(self) -> &'static str {
        match self {
            Self::ReadRegions => "read_regions",
            Self::ReadStatistics => "read_statistics",
            Self::ReadResident => "read_resident",
            Self::SearchResidents => "search_residents",
            Self::ReadFamily => "read_family",
            Self::VerifyNik => "verify_nik",
            Self::VerifyNikBatch => "verify_nik_batch",
            Self::ReadLampid => "read_lampid",
            Self::SubmitLampid => "submit_lampid",
            Self::VerifyLampid => "verify_lampid",
            Self::RegisterLampid => "register_lampid",
            Self::RejectLampid => "reject_lampid",
            Self::ReadAccessLog => "read_access_log",
            Self::ReadLedger => "read_ledger",
            Self::ReadAccessHistory => "read_access_history",
            Self::ManageUsers => "manage_users",
            Self::ManageClients => "manage_clients",
            Self::ManageKeys => "manage_keys",
            Self::ReadAlerts => "read_alerts",
            Self::AcknowledgeAlerts => "acknowledge_alerts",
        }
    }

    /// The action with this code, if any.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.code() == code)
    }

    /// True when the action reads or processes a person's data (UU 27/2022): the access log
    /// records each such request with its purpose.
    pub fn involves_personal_data(self) -> bool {
        use Action::*;
        matches!(
            self,
            ReadResident
                | SearchResidents
                | ReadFamily
                | VerifyNik
                | VerifyNikBatch
                | ReadLampid
                | SubmitLampid
                | VerifyLampid
                | RegisterLampid
                | RejectLampid
                | ReadAccessHistory
        )
    }
}

/// What the action touches, by where it lies or who owns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    /// Something in a region: the resident's or family's kelurahan, the submission's
    /// kelurahan, or the region a search is asked over (any level). Batch verification asks
    /// once per claim, with the kelurahan of the record it is checked against.
    Region(&'a KodeWilayah),
    /// Data an agency owns: its machine clients, its agreements, its share of the log.
    Agency(&'a AgencyId),
    /// The hub as a whole: accounts, keys, the ledger, alerts, a search over no region.
    Hub,
}

/// One agreement's permission: analysts of `agency` may do `actions` on what lies within
/// `region`. Agreements will be stored later; until then callers build these and pass the
/// ones in force. A grant naming an action the policy never lets agencies do (managing
/// users, say) has no effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyGrant {
    pub agency: AgencyId,
    pub actions: BTreeSet<Action>,
    pub region: KodeWilayah,
}

impl AgencyGrant {
    /// True when this grant lets `agency` do `action` on `resource`. Only regional
    /// resources can be covered: an agreement is about residents, not the hub.
    pub fn covers(&self, agency: &AgencyId, action: Action, resource: Resource<'_>) -> bool {
        self.agency == *agency
            && self.actions.contains(&action)
            && matches!(resource, Resource::Region(code) if code.is_within(&self.region))
    }
}

/// Why a request was refused. Each reason has a stable [`code`](DenyReason::code) for the
/// problem+json body and the access log; the message is safe to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    /// The role may do this, but not here: another kelurahan, kecamatan or city, or beyond
    /// the region the role works in.
    #[error("data ini berada di luar wilayah kerja Anda")]
    OutsideJurisdiction,
    /// The role never does this action.
    #[error("peran Anda tidak mencakup tindakan ini")]
    RoleLacksAction,
    /// The role is kept from this action so no one both holds a power and checks it.
    #[error("tindakan ini dipisahkan dari peran Anda (pemisahan tugas)")]
    SeparationOfDuties,
    /// No agreement of the analyst's agency grants this action.
    #[error("tidak ada perjanjian kerja sama instansi Anda yang mencakup tindakan ini")]
    NoAgreement,
    /// An agreement grants the action, but not for this resource's region.
    #[error("perjanjian kerja sama instansi Anda tidak mencakup wilayah ini")]
    OutsideAgreement,
}

impl DenyReason {
    /// Every reason.
    pub const ALL: [Self; 5] = [
        Self::OutsideJurisdiction,
        Self::RoleLacksAction,
        Self::SeparationOfDuties,
        Self::NoAgreement,
        Self::OutsideAgreement,
    ];

    /// Stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Self::OutsideJurisdiction => "outside_jurisdiction",
            Self::RoleLacksAction => "role_lacks_action",
            Self::SeparationOfDuties => "separation_of_duties",
            Self::NoAgreement => "no_agreement",
            Self::OutsideAgreement => "outside_agreement",
        }
    }
}

/// The gate's answer.
#[must_use = "a decision that is not checked authorizes nothing"]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Denied(DenyReason),
}

impl Decision {
    /// True when allowed.
    pub fn is_allowed(self) -> bool {
        self == Self::Allowed
    }

    /// `Ok(())` when allowed, so a handler can write `authorize(..).into_result()?`.
    pub fn into_result(self) -> Result<(), DenyReason> {
        match self {
            Self::Allowed => Ok(()),
            Self::Denied(reason) => Err(reason),
        }
    }
}

/// Decides whether `actor` may do `action` on `resource`. `grants` are the agreements in
/// force; only an agency analyst's own agency's grants are consulted, so callers may pass
/// all of them.
pub fn authorize(
    actor: &Actor,
    action: Action,
    resource: Resource<'_>,
    grants: &[AgencyGrant],
) -> Decision {
    match rule(actor.role.kind(), action) {
        Rule::Anywhere => Decision::Allowed,
        Rule::InJurisdiction => match (actor.role.region(), resource) {
            (Some(scope), Resource::Region(code)) if code.is_within(scope) => Decision::Allowed,
            // Agency data and the hub as a whole lie outside every region.
            _ => Decision::Denied(DenyReason::OutsideJurisdiction),
        },
        Rule::UnderAgreement => {
            // Only analysts reach this rule; anyone else fails closed.
            let Role::AgencyAnalyst { agency } = &actor.role else {
                return Decision::Denied(DenyReason::NoAgreement);
            };
            let mut naming = grants
                .iter()
                .filter(|g| g.agency == *agency && g.actions.contains(&action))
                .peekable();
            if naming.peek().is_none() {
                Decision::Denied(DenyReason::NoAgreement)
            } else if naming.any(|g| g.covers(agency, action, resource)) {
                Decision::Allowed
            } else {
                Decision::Denied(DenyReason::OutsideAgreement)
            }
        }
        Rule::Never(reason) => Decision::Denied(reason),
    }
}

/// How one (role, action) pair is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Allowed on any resource.
    Anywhere,
    /// Allowed on regions within the role's own region.
    InJurisdiction,
    /// Allowed where an agreement of the analyst's agency grants it.
    UnderAgreement,
    /// Refused everywhere, for this reason.
    Never(DenyReason),
}

/// The policy. The regional roles are listed without a wildcard, so a new action does not
/// compile until someone decides it for them; the other roles end in a refusing wildcard,
/// so a new action is closed to them until granted here.
fn rule(role: RoleKind, action: Action) -> Rule {
    use Action::*;
    use DenyReason::{RoleLacksAction, SeparationOfDuties};
    use RoleKind::*;
    use Rule::*;
    match (role, action) {
        // Region master data is public (Kemendagri codes, ODbL), and statistics are
        // aggregates with no person in them.
        (_, ReadRegions | ReadStatistics) => Anywhere,

        // The kelurahan counter serves its own residents and enters their events.
        (
            Operator,
            ReadResident | SearchResidents | ReadFamily | VerifyNik | VerifyNikBatch | ReadLampid
            | SubmitLampid,
        ) => InJurisdiction,
        // Four eyes: the kelurahan that submits never decides on its own submission.
        (Operator, VerifyLampid | RegisterLampid | RejectLampid) => Never(SeparationOfDuties),

        // The kecamatan checks what its kelurahan submit, and may send it back.
        (
            Supervisor,
            ReadResident | SearchResidents | ReadFamily | VerifyNik | VerifyNikBatch | ReadLampid
            | VerifyLampid | RejectLampid,
        ) => InJurisdiction,
        // The verifier neither writes what it verifies nor gives the final registration.
        (Supervisor, SubmitLampid | RegisterLampid) => Never(SeparationOfDuties),

        // Dukcapil registers across the city, and may send a submission back.
        (
            Registrar,
            ReadResident | SearchResidents | ReadFamily | VerifyNik | VerifyNikBatch | ReadLampid
            | RegisterLampid | RejectLampid,
        ) => InJurisdiction,
        // Registration is the third pair of eyes: Dukcapil neither submits nor verifies.
        (Registrar, SubmitLampid | VerifyLampid) => Never(SeparationOfDuties),

        // Staff at a counter answer a resident's request for their own access history.
        (Operator | Supervisor | Registrar, ReadAccessHistory) => InJurisdiction,
        // Registry staff serve residents; running and auditing the hub is not their job.
        (
            Operator | Supervisor | Registrar,
            ReadAccessLog | ReadLedger | ManageUsers | ManageClients | ManageKeys | ReadAlerts
            | AcknowledgeAlerts,
        ) => Never(RoleLacksAction),

        // An agency gets only what its agreement grants, and an agreement can grant only
        // reads and checks: agencies never enter events or run the hub.
        (
            AgencyAnalyst,
            ReadResident | SearchResidents | ReadFamily | VerifyNik | VerifyNikBatch,
        ) => UnderAgreement,
        (AgencyAnalyst, _) => Never(RoleLacksAction),

        // The auditor reads the trail and the alerts across the hub...
        (Auditor, ReadAccessLog | ReadLedger | ReadAccessHistory | ReadAlerts) => Anywhere,
        // ...sees no personal data, and changes nothing it audits.
        (Auditor, _) => Never(SeparationOfDuties),

        // The administrator runs accounts, clients, keys and alerts across the hub...
        (
            Administrator,
            ManageUsers | ManageClients | ManageKeys | ReadAlerts | AcknowledgeAlerts,
        ) => Anywhere,
        // ...but reads no personal data (it creates the accounts that do), takes no part in
        // the registry, and does not read the trail of its own acts.
        (Administrator, _) => Never(SeparationOfDuties),
    }
}

#[cfg(test)]
mod tests;
