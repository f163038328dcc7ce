//! The approval workflow across levels: states, transitions, versions.

use super::*;

/// Longest rejection reason: a few sentences telling the kelurahan what to correct.
pub const MAX_REASON_LEN: usize = 500;

/// The level that sent a submission back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewLevel {
    /// The kecamatan supervisor, while verifying.
    Kecamatan,
    /// The Dukcapil registrar, after verification.
    Dukcapil,
}

/// Where a submission stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kode", rename_all = "snake_case")]
pub enum SubmissionState {
    /// Being entered at the kelurahan; nobody else sees it yet.
    Draf,
    /// Submitted by the kelurahan, waiting for the kecamatan.
    Diajukan,
    /// Verified by the kecamatan, waiting for Dukcapil.
    Diverifikasi,
    /// Registered by Dukcapil. Final.
    Tercatat,
    /// Sent back to the kelurahan to correct and resubmit. The reason is shown to staff
    /// only: it may mention the person, so the public status shows [`Self::code`] alone.
    Ditolak {
        #[serde(rename = "tingkat")]
        level: ReviewLevel,
        #[serde(rename = "alasan")]
        reason: String,
    },
}

/// A step someone asks to take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "aksi", rename_all = "snake_case")]
pub enum Transition {
    /// The kelurahan operator submits a draft.
    Ajukan,
    /// The kecamatan supervisor verifies.
    Verifikasi,
    /// The Dukcapil registrar registers.
    Catat,
    /// The supervisor or registrar, whichever holds the submission, sends it back.
    Tolak {
        #[serde(rename = "alasan")]
        reason: String,
    },
    /// The kelurahan operator submits a rejected submission again, corrected.
    AjukanUlang,
}

impl SubmissionState {
    /// Stable snake_case code; all a citizen with the tracking code is shown.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Draf => "draf",
            Self::Diajukan => "diajukan",
            Self::Diverifikasi => "diverifikasi",
            Self::Tercatat => "tercatat",
            Self::Ditolak { .. } => "ditolak",
        }
    }

    /// The state `transition` by a role of kind `role` leads to. The state is checked
    /// first (is the step possible at all now), then the level (is it this role's step),
    /// then the step's own input (a rejection's reason).
    pub fn next(&self, transition: &Transition, role: RoleKind) -> Result<Self, WorkflowError> {
        use RoleKind::{Operator, Registrar, Supervisor};
        let (expected, next) = match (self, transition) {
            (Self::Draf, Transition::Ajukan) => (Operator, Self::Diajukan),
            (Self::Diajukan, Transition::Verifikasi) => (Supervisor, Self::Diverifikasi),
            (Self::Diverifikasi, Transition::Catat) => (Registrar, Self::Tercatat),
            (Self::Diajukan, Transition::Tolak { reason }) => (
                Supervisor,
                Self::Ditolak {
                    level: ReviewLevel::Kecamatan,
                    reason: reason.trim().to_owned(),
                },
            ),
            (Self::Diverifikasi, Transition::Tolak { reason }) => (
                Registrar,
                Self::Ditolak {
                    level: ReviewLevel::Dukcapil,
                    reason: reason.trim().to_owned(),
                },
            ),
            (Self::Ditolak { .. }, Transition::AjukanUlang) => (Operator, Self::Diajukan),
            _ => {
                return Err(WorkflowError::InvalidTransition {
                    from: self.code(),
                    transition: transition.code(),
                });
            }
        };
        if role != expected {
            return Err(WorkflowError::WrongLevel { role, expected });
        }
        if let Self::Ditolak { reason, .. } = &next {
            if reason.is_empty() {
                return Err(WorkflowError::ReasonRequired);
            }
            if reason.chars().count() > MAX_REASON_LEN {
                return Err(WorkflowError::ReasonTooLong);
            }
        }
        Ok(next)
    }
}

impl Transition {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Ajukan => "ajukan",
            Self::Verifikasi => "verifikasi",
            Self::Catat => "catat",
            Self::Tolak { .. } => "tolak",
            Self::AjukanUlang => "ajukan_ulang",
        }
    }

    /// The action the authorization gate must allow before the step is tried.
    pub fn action(&self) -> Action {
        match self {
            Self::Ajukan | Self::AjukanUlang => Action::SubmitLampid,
            Self::Verifikasi => Action::VerifyLampid,
            Self::Catat => Action::RegisterLampid,
            Self::Tolak { .. } => Action::RejectLampid,
        }
    }
}

/// Why a workflow step was refused. Messages name states and roles, never a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("langkah {transition} tidak dapat dilakukan pada status {from}")]
    InvalidTransition {
        from: &'static str,
        transition: &'static str,
    },
    #[error("langkah ini milik peran {expected}, bukan {role}")]
    WrongLevel { role: RoleKind, expected: RoleKind },
    #[error("alasan penolakan wajib diisi")]
    ReasonRequired,
    #[error("alasan penolakan lebih dari {MAX_REASON_LEN} karakter")]
    ReasonTooLong,
    #[error("laporan telah diubah orang lain (versi {actual}, bukan {expected}); muat ulang")]
    VersionConflict { expected: u64, actual: u64 },
    #[error("nomor versi laporan telah habis")]
    VersionExhausted,
}

impl WorkflowError {
    /// Stable machine-readable code for the problem+json body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::WrongLevel { .. } => "wrong_level",
            Self::ReasonRequired => "reason_required",
            Self::ReasonTooLong => "reason_too_long",
            Self::VersionConflict { .. } => "version_conflict",
            Self::VersionExhausted => "version_exhausted",
        }
    }
}

/// One e-LAMPID report and where it stands. Every successful change raises
/// [`version`](Self::version) by one, so a store can write with `WHERE version = ?` and a
/// client that read an older version is told to reload instead of overwriting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Submission {
    #[serde(rename = "kode_lacak")]
    tracking_code: TrackingCode,
    /// The submitting kelurahan: the region the gate checks every step against.
    kelurahan: KodeWilayah,
    #[serde(rename = "laporan")]
    payload: LampidPayload,
    status: SubmissionState,
    #[serde(rename = "versi")]
    version: u64,
}

impl Submission {
    /// The version of a new draft.
    pub const FIRST_VERSION: u64 = 1;

    /// A new draft at the given kelurahan.
    pub fn new(
        tracking_code: TrackingCode,
        kelurahan: KodeWilayah,
        payload: LampidPayload,
    ) -> Self {
        Self::restore(
            tracking_code,
            kelurahan,
            payload,
            SubmissionState::Draf,
            Self::FIRST_VERSION,
        )
    }

    /// Rebuilds a submission from its stored parts.
    pub fn restore(
        tracking_code: TrackingCode,
        kelurahan: KodeWilayah,
        payload: LampidPayload,
        status: SubmissionState,
        version: u64,
    ) -> Self {
        Self {
            tracking_code,
            kelurahan,
            payload,
            status,
            version,
        }
    }

    /// The public tracking code.
    pub fn tracking_code(&self) -> &TrackingCode {
        &self.tracking_code
    }

    /// The submitting kelurahan.
    pub fn kelurahan(&self) -> &KodeWilayah {
        &self.kelurahan
    }

    /// The report as last entered or amended.
    pub fn payload(&self) -> &LampidPayload {
        &self.payload
    }

    /// Where the submission stands.
    pub fn state(&self) -> &SubmissionState {
        &self.status
    }

    /// The version, raised by every change; [`Self::FIRST_VERSION`] for a new draft.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Refuses a change based on a version other than the current one.
    pub fn check_version(&self, expected: u64) -> Result<(), WorkflowError> {
        if expected == self.version {
            Ok(())
        } else {
            Err(WorkflowError::VersionConflict {
                expected,
                actual: self.version,
            })
        }
    }

    /// Takes one workflow step as a role of kind `role`. On error nothing changes.
    pub fn apply(
        &mut self,
        transition: Transition,
        role: RoleKind,
    ) -> Result<&SubmissionState, WorkflowError> {
        let next = self.status.next(&transition, role)?;
        self.version = self.next_version()?;
        self.status = next;
        Ok(&self.status)
    }

    /// Replaces the report while the kelurahan holds it (a draft, or sent back), so a
    /// rejected submission can be corrected before it is resubmitted.
    pub fn amend(&mut self, payload: LampidPayload, role: RoleKind) -> Result<(), WorkflowError> {
        if !matches!(
            self.status,
            SubmissionState::Draf | SubmissionState::Ditolak { .. }
        ) {
            return Err(WorkflowError::InvalidTransition {
                from: self.status.code(),
                transition: "ubah",
            });
        }
        if role != RoleKind::Operator {
            return Err(WorkflowError::WrongLevel {
                role,
                expected: RoleKind::Operator,
            });
        }
        self.version = self.next_version()?;
        self.payload = payload;
        Ok(())
    }

    fn next_version(&self) -> Result<u64, WorkflowError> {
        self.version
            .checked_add(1)
            .ok_or(WorkflowError::VersionExhausted)
    }
}
