//! The problem+json code table (RFC 9457): every failure a client can see is one row here.
//!
//! A handler returns [`ApiError`]; the one `IntoResponse` impl turns it into
//! `application/problem+json` with a stable `code` extension member, the HTTP status from
//! the table, and a message safe to show. Internal causes are logged once, here, and never
//! sent to the client. Extractor rejections (bad JSON, bad path, bad query) are mapped into
//! the same table by [`crate::extract`].

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use simpul_store::StoreError;

/// Every stable problem code a client can see. The wire name is the snake_case variant
/// name (`invalid_nik`); [`ProblemCode::status`] and [`ProblemCode::title`] complete the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    /// A NIK broke one of its layout rules; `reason` names the rule.
    InvalidNik,
    /// A KK number broke one of its layout rules; `reason` names the rule.
    InvalidNoKk,
    /// A region code is not of the form `35`, `35.77`, `35.77.01` or `35.77.01.1001`.
    InvalidRegionCode,
    /// A query parameter is missing, unknown, unreadable or out of range.
    InvalidQuery,
    /// A path segment could not be read (for example, invalid UTF-8 once decoded).
    InvalidPath,
    /// The body is not syntactically valid JSON.
    MalformedJson,
    /// The body is JSON but does not fit the request schema.
    InvalidBody,
    /// The body was sent without `Content-Type: application/json`.
    UnsupportedMediaType,
    /// The body is larger than the server accepts.
    PayloadTooLarge,
    /// A batch holds more claims than one request may.
    BatchTooLarge,
    /// A batch holds no claims.
    BatchEmpty,
    /// No resident has this NIK.
    ResidentNotFound,
    /// No family has this KK number.
    FamilyNotFound,
    /// No region has this code.
    RegionNotFound,
    /// No route has this path.
    RouteNotFound,
    /// The route exists but not for this HTTP method (see the `Allow` header).
    MethodNotAllowed,
    /// A registry event breaks a registry rule; `reason` names the rule.
    RuleViolation,
    /// A concurrent write got there first; sending again is safe.
    WriteConflict,
    /// The database does not answer; try again later.
    StoreUnavailable,
    /// Our fault; the cause is logged, never sent.
    Internal,
    /// No valid session cookie or bearer token came with the request.
    Unauthenticated,
    /// The session ended (idle or absolute timeout, or signed out).
    SessionExpired,
    /// The bearer token is malformed, expired, revoked or not ours; `reason` says which.
    InvalidToken,
    /// The user name or password is wrong (never says which).
    InvalidCredentials,
    /// The TOTP or recovery code is wrong or already used.
    InvalidSecondFactor,
    /// Signed in with the password only: enrol or enter the second factor first.
    SecondFactorRequired,
    /// The authorization gate refused; `reason` is the deny code.
    Forbidden,
    /// A cookie-authenticated change came without the session's CSRF token.
    CsrfFailed,
    /// A read of personal data must state its purpose (`X-Tujuan` header).
    PurposeRequired,
    /// Too many failed sign-ins: wait for `Retry-After`.
    AccountLocked,
    /// Too many requests from this caller: wait for `Retry-After`.
    RateLimited,
    /// A new password breaks the password policy; `reason` names the rule.
    PasswordRejected,
    /// An account or client with this name exists.
    AlreadyExists,
    /// No account, client or alert has this id.
    NotFound,
    /// An e-LAMPID report does not fit the registry; `reason` names the rule, `field` the
    /// field at fault (`anggota[2]` for the second member of a list).
    InvalidReport,
    /// A workflow step that is not possible in the submission's state, or not this role's;
    /// `reason` says which.
    InvalidTransition,
    /// The submission changed since the version the client sent: reload and decide again.
    VersionConflict,
    /// No submission has this tracking code.
    SubmissionNotFound,
    /// A tracking code is mistyped (length, character or check symbol); `reason` says which.
    InvalidTrackingCode,
    /// The `Idempotency-Key` was already used, by this caller, for a different report.
    IdempotencyKeyReused,
    /// The ledger has no checkpoint of this size (or none yet).
    CheckpointNotFound,
    /// A cosignature from a key the hub does not list among its witnesses.
    UnknownWitness,
    /// A cosignature line that is malformed or does not verify for the checkpoint named.
    InvalidCosignature,
}

impl ProblemCode {
    /// The whole table, so tests can check that every row is reachable and documented.
    pub const ALL: &'static [ProblemCode] = &[
        Self::InvalidNik,
        Self::InvalidNoKk,
        Self::InvalidRegionCode,
        Self::InvalidQuery,
        Self::InvalidPath,
        Self::MalformedJson,
        Self::InvalidBody,
        Self::UnsupportedMediaType,
        Self::PayloadTooLarge,
        Self::BatchTooLarge,
        Self::BatchEmpty,
        Self::ResidentNotFound,
        Self::FamilyNotFound,
        Self::RegionNotFound,
        Self::RouteNotFound,
        Self::MethodNotAllowed,
        Self::RuleViolation,
        Self::WriteConflict,
        Self::StoreUnavailable,
        Self::Internal,
        Self::Unauthenticated,
        Self::SessionExpired,
        Self::InvalidToken,
        Self::InvalidCredentials,
        Self::InvalidSecondFactor,
        Self::SecondFactorRequired,
        Self::Forbidden,
        Self::CsrfFailed,
        Self::PurposeRequired,
        Self::AccountLocked,
        Self::RateLimited,
        Self::PasswordRejected,
        Self::AlreadyExists,
        Self::NotFound,
        Self::InvalidReport,
        Self::InvalidTransition,
        Self::VersionConflict,
        Self::SubmissionNotFound,
        Self::InvalidTrackingCode,
        Self::IdempotencyKeyReused,
        Self::CheckpointNotFound,
        Self::UnknownWitness,
        Self::InvalidCosignature,
    ];

    /// The HTTP status every response with this code carries.
    pub fn status(self) -> StatusCode {
        use ProblemCode::*;
        match self {
            InvalidNik | InvalidNoKk | InvalidRegionCode | InvalidQuery | InvalidPath
            | MalformedJson | BatchEmpty => StatusCode::BAD_REQUEST,
            InvalidBody | RuleViolation => StatusCode::UNPROCESSABLE_ENTITY,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PayloadTooLarge | BatchTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ResidentNotFound | FamilyNotFound | RegionNotFound | RouteNotFound => {
                StatusCode::NOT_FOUND
            }
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            WriteConflict => StatusCode::CONFLICT,
            StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Unauthenticated => StatusCode::UNAUTHORIZED,
            SessionExpired => StatusCode::UNAUTHORIZED,
            InvalidToken => StatusCode::UNAUTHORIZED,
            InvalidCredentials => StatusCode::UNAUTHORIZED,
            InvalidSecondFactor => StatusCode::UNAUTHORIZED,
            SecondFactorRequired => StatusCode::FORBIDDEN,
            Forbidden => StatusCode::FORBIDDEN,
            CsrfFailed => StatusCode::FORBIDDEN,
            PurposeRequired => StatusCode::BAD_REQUEST,
            AccountLocked => StatusCode::TOO_MANY_REQUESTS,
            RateLimited => StatusCode::TOO_MANY_REQUESTS,
            PasswordRejected => StatusCode::UNPROCESSABLE_ENTITY,
            AlreadyExists => StatusCode::CONFLICT,
            NotFound => StatusCode::NOT_FOUND,
            InvalidReport | IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            InvalidTransition | VersionConflict => StatusCode::CONFLICT,
            SubmissionNotFound => StatusCode::NOT_FOUND,
            InvalidTrackingCode => StatusCode::BAD_REQUEST,
            CheckpointNotFound => StatusCode::NOT_FOUND,
            UnknownWitness => StatusCode::FORBIDDEN,
            InvalidCosignature => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    /// Short human title (Bahasa Indonesia, the API's language).
    pub fn title(self) -> &'static str {
        use ProblemCode::*;
        match self {
            InvalidNik => "NIK tidak valid",
            InvalidNoKk => "Nomor KK tidak valid",
            InvalidRegionCode => "Kode wilayah tidak valid",
            InvalidQuery => "Parameter kueri tidak valid",
            InvalidPath => "Segmen alamat tidak valid",
            MalformedJson => "JSON tidak dapat dibaca",
            InvalidBody => "Isi permintaan tidak sesuai skema",
            UnsupportedMediaType => "Content-Type harus application/json",
            PayloadTooLarge => "Isi permintaan terlalu besar",
            BatchTooLarge => "Jumlah klaim melebihi batas",
            BatchEmpty => "Daftar klaim kosong",
            ResidentNotFound => "Penduduk tidak ditemukan",
            FamilyNotFound => "Keluarga tidak ditemukan",
            RegionNotFound => "Wilayah tidak ditemukan",
            RouteNotFound => "Alamat API tidak ditemukan",
            MethodNotAllowed => "Metode HTTP tidak diizinkan",
            RuleViolation => "Melanggar aturan registrasi",
            WriteConflict => "Bentrok dengan perubahan lain",
            StoreUnavailable => "Basis data tidak tersedia",
            Internal => "Kesalahan internal",
            Unauthenticated => "Belum masuk",
            SessionExpired => "Sesi berakhir",
            InvalidToken => "Token akses tidak sah",
            InvalidCredentials => "Nama pengguna atau kata sandi salah",
            InvalidSecondFactor => "Kode verifikasi salah",
            SecondFactorRequired => "Verifikasi dua langkah diperlukan",
            Forbidden => "Akses ditolak",
            CsrfFailed => "Token CSRF tidak cocok",
            PurposeRequired => "Tujuan akses wajib diisi",
            AccountLocked => "Akun dikunci sementara",
            RateLimited => "Terlalu banyak permintaan",
            PasswordRejected => "Kata sandi tidak memenuhi kebijakan",
            AlreadyExists => "Sudah ada",
            NotFound => "Tidak ditemukan",
            InvalidReport => "Laporan tidak memenuhi aturan",
            InvalidTransition => "Langkah tidak dapat dilakukan",
            VersionConflict => "Laporan telah diubah orang lain",
            SubmissionNotFound => "Laporan tidak ditemukan",
            InvalidTrackingCode => "Kode lacak tidak valid",
            IdempotencyKeyReused => "Kunci idempotensi sudah dipakai",
            CheckpointNotFound => "Checkpoint ledger tidak ditemukan",
            UnknownWitness => "Saksi tidak dikenal",
            InvalidCosignature => "Tanda tangan saksi tidak sah",
        }
    }

    /// The stable wire name, as serde writes it (a unit test keeps the two in step).
    pub fn as_str(self) -> &'static str {
        use ProblemCode::*;
        match self {
            InvalidNik => "invalid_nik",
            InvalidNoKk => "invalid_no_kk",
            InvalidRegionCode => "invalid_region_code",
            InvalidQuery => "invalid_query",
            InvalidPath => "invalid_path",
            MalformedJson => "malformed_json",
            InvalidBody => "invalid_body",
            UnsupportedMediaType => "unsupported_media_type",
            PayloadTooLarge => "payload_too_large",
            BatchTooLarge => "batch_too_large",
            BatchEmpty => "batch_empty",
            ResidentNotFound => "resident_not_found",
            FamilyNotFound => "family_not_found",
            RegionNotFound => "region_not_found",
            RouteNotFound => "route_not_found",
            MethodNotAllowed => "method_not_allowed",
            RuleViolation => "rule_violation",
            WriteConflict => "write_conflict",
            StoreUnavailable => "store_unavailable",
            Internal => "internal",
            Unauthenticated => "unauthenticated",
            SessionExpired => "session_expired",
            InvalidToken => "invalid_token",
            InvalidCredentials => "invalid_credentials",
            InvalidSecondFactor => "invalid_second_factor",
            SecondFactorRequired => "second_factor_required",
            Forbidden => "forbidden",
            CsrfFailed => "csrf_failed",
            PurposeRequired => "purpose_required",
            AccountLocked => "account_locked",
            RateLimited => "rate_limited",
            PasswordRejected => "password_rejected",
            AlreadyExists => "already_exists",
            NotFound => "not_found",
            InvalidReport => "invalid_report",
            InvalidTransition => "invalid_transition",
            VersionConflict => "version_conflict",
            SubmissionNotFound => "submission_not_found",
            InvalidTrackingCode => "invalid_tracking_code",
            IdempotencyKeyReused => "idempotency_key_reused",
            CheckpointNotFound => "checkpoint_not_found",
            UnknownWitness => "unknown_witness",
            InvalidCosignature => "invalid_cosignature",
        }
    }

    /// The RFC 9457 `type` member: a URN naming the problem type. It is an identifier, not
    /// a locator (RFC 9457 section 3.1.1 allows non-resolvable type URIs); the table itself
    /// is published in the OpenAPI document under the `ProblemCode` schema.
    pub fn type_uri(self) -> String {
        format!("urn:simpul:problem:{}", self.as_str())
    }
}

/// The RFC 9457 body (<https://www.rfc-editor.org/rfc/rfc9457#section-3>). `code` and the
/// optional `field` and `reason` are extension members.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`urn:simpul:problem:<code>`).
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short title of the code, the same for every occurrence.
    pub title: &'static str,
    /// The HTTP status, repeated for clients that only keep the body.
    pub status: u16,
    /// What went wrong in this request. Never carries personal data or internal causes.
    pub detail: String,
    /// The stable code clients match on.
    pub code: ProblemCode,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Machine-readable reason inside the code (e.g. the NIK rule that failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A failure on its way to becoming a problem response. Handlers return it; only its
/// `IntoResponse` impl builds a body.
#[derive(Debug)]
pub struct ApiError {
    /// The table row.
    pub code: ProblemCode,
    /// Safe-to-show explanation for this occurrence.
    pub detail: String,
    /// The request field at fault, when there is one.
    pub field: Option<String>,
    /// Machine-readable reason inside the code.
    pub reason: Option<String>,
    /// Our own fault's cause; logged, never sent.
    pub cause: Option<Box<dyn std::error::Error + Send + Sync>>,
    /// Seconds to wait, sent as `Retry-After` (429 and 503 answers).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// A client-visible failure with no internal cause.
    pub fn new(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            field: None,
            reason: None,
            cause: None,
            retry_after: None,
        }
    }

    /// Asks the client to wait `seconds` before trying again (`Retry-After`).
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// Our own failure: a generic 500 body; `cause` is logged once, when the response is made.
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            cause: Some(cause.into()),
            ..Self::new(ProblemCode::Internal, "terjadi kesalahan pada server")
        }
    }

    /// Names the request field at fault.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Adds a machine-readable reason inside the code.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// A NIK that failed one of the domain's rules.
    pub fn invalid_nik(field: &str, error: &simpul_domain::IdNumberError) -> Self {
        Self::new(ProblemCode::InvalidNik, format!("NIK {error}"))
            .field(field)
            .reason(error.kind())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Rejected { index, violation } => {
                Self::new(ProblemCode::RuleViolation, violation.to_string())
                    .reason(violation.code())
                    .field(format!("/{index}"))
            }
            StoreError::Conflict => {
                Self::new(ProblemCode::WriteConflict, "coba kirim ulang permintaan")
            }
            StoreError::Unavailable(cause) => Self {
                cause: Some(cause),
                ..Self::new(
                    ProblemCode::StoreUnavailable,
                    "coba lagi beberapa saat lagi",
                )
            },
            StoreError::Invalid(error) => {
                let field = match error.index() {
                    Some(index) => format!("{}[{index}]", error.field()),
                    None => error.field().to_owned(),
                };
                Self::new(ProblemCode::InvalidReport, error.to_string())
                    .reason(error.code())
                    .field(field)
            }
            StoreError::Workflow(error) => {
                use simpul_domain::lampid::WorkflowError as W;
                let code = match &error {
                    W::VersionConflict { .. } => ProblemCode::VersionConflict,
                    W::ReasonRequired | W::ReasonTooLong => {
                        return Self::new(ProblemCode::InvalidReport, error.to_string())
                            .reason(error.code())
                            .field("alasan");
                    }
                    _ => ProblemCode::InvalidTransition,
                };
                Self::new(code, error.to_string()).reason(error.code())
            }
            StoreError::Registration(error) => {
                use simpul_domain::lampid::RegistrationError as R;
                match error {
                    R::Report(report) => StoreError::Invalid(report).into(),
                    R::NumbersExhausted => Self::new(ProblemCode::RuleViolation, error.to_string())
                        .reason("numbers_exhausted"),
                }
            }
            StoreError::NotFound => Self::new(
                ProblemCode::SubmissionNotFound,
                "tidak ada laporan dengan kode lacak ini",
            )
            .field("kode_lacak"),
            StoreError::IdempotencyMismatch => Self::new(
                ProblemCode::IdempotencyKeyReused,
                "kunci idempotensi ini sudah dipakai untuk laporan lain",
            )
            .field("Idempotency-Key"),
            StoreError::Corrupt(what) | StoreError::Keys(what) => Self::internal(what),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        if let Some(cause) = &self.cause {
            // The one place an internal failure is logged, with its cause chain.
            tracing::error!(code = ?self.code, error = %ErrorChain(cause.as_ref()), "request failed");
        }
        let body = Problem {
            type_uri: self.code.type_uri(),
            title: self.code.title(),
            status: status.as_u16(),
            detail: self.detail,
            code: self.code,
            field: self.field,
            reason: self.reason,
        };
        let mut response = (status, axum::Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"simpul\""),
            );
        }
        response
    }
}

/// Displays an error with its sources, `a: b: c`.
struct ErrorChain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(next) = source {
            write!(f, ": {next}")?;
            source = next.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn wire_names_agree_with_serde() {
        for code in ProblemCode::ALL {
            assert_eq!(
                serde_json::to_value(code).ok(),
                Some(serde_json::Value::from(code.as_str()))
            );
        }
    }

    #[test]
    fn rows_are_distinct_and_errors_only() {
        let names: HashSet<_> = ProblemCode::ALL.iter().map(|c| c.as_str()).collect();
        let titles: HashSet<_> = ProblemCode::ALL.iter().map(|c| c.title()).collect();
        assert_eq!(names.len(), ProblemCode::ALL.len());
        assert_eq!(titles.len(), ProblemCode::ALL.len());
        // The exhaustive match in `as_str` has one arm per variant; `ALL` must list each.
        assert_eq!(ProblemCode::ALL.len(), 43);
        for code in ProblemCode::ALL {
            let status = code.status();
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{code:?}: {status}"
            );
        }
    }

    #[test]
    fn internal_causes_stay_out_of_the_body() {
        let error = ApiError::from(StoreError::Corrupt("row for NIK 3577011403800001".into()));
        assert_eq!(error.code, ProblemCode::Internal);
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
    }
}
