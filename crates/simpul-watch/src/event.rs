//! The two inputs of the detector: sign-in attempts and access-log entries.
//!
//! Both are plain values the caller builds from what it already records (the sign-in
//! handler's outcome, the access-log middleware's line). They carry identifiers and counts
//! only: no NIK, no name, no request body. The detector owns no clock, so each event says
//! when it happened; the caller feeds them in time order.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How a sign-in attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginOutcome {
    /// Password and second factor accepted; a session was issued.
    Success,
    /// The password did not match.
    BadPassword,
    /// The password matched but the TOTP or recovery code did not.
    BadSecondFactor,
    /// The account was locked (throttle or administrator), so nothing was verified.
    Locked,
    /// No account has this username.
    UnknownAccount,
}

impl LoginOutcome {
    /// Whether the attempt counts as a failure for the brute-force and spraying rules: every
    /// outcome but [`LoginOutcome::Success`]. Attempts on a locked account count, because an
    /// attacker who keeps trying is exactly what the rules look for; attempts on unknown
    /// usernames count, because guessing usernames is how spraying starts.
    pub fn is_failure(self) -> bool {
        !matches!(self, Self::Success)
    }

    /// Stable snake_case code, as the access log writes it.
    pub fn code(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::BadPassword => "bad_password",
            Self::BadSecondFactor => "bad_second_factor",
            Self::Locked => "locked",
            Self::UnknownAccount => "unknown_account",
        }
    }
}

/// One sign-in attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginEvent {
    /// When the attempt was answered.
    pub at: DateTime<Utc>,
    /// The username as submitted (it may name no account).
    pub account: String,
    /// The client address the attempt came from.
    pub network: IpAddr,
    /// How it ended.
    pub outcome: LoginOutcome,
}

/// Who made a request: a person at a console, or an agency's machine client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A user account (kelurahan operator, supervisor, registrar, auditor, ...).
    Operator,
    /// A machine client of a partner agency.
    Client,
}

/// What the authorization gate decided for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessOutcome {
    /// The gate allowed it.
    Allowed,
    /// The gate refused it (wrong role, outside the actor's region, no grant).
    Denied,
}

/// One access-log entry, as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEvent {
    /// When the request was answered.
    pub at: DateTime<Utc>,
    /// The actor id (account username or client id).
    pub actor: String,
    /// Person or machine.
    pub actor_kind: ActorKind,
    /// The actor's role, as a plain string (e.g. `operator`, `agency_analyst`): actors of the
    /// same kind and role are each other's peers for the volume rule.
    pub role: String,
    /// How many residents' records the response disclosed (0 for region lookups, statistics,
    /// a refused request; 1 for a record or a NIK check; the page size for a search).
    pub residents_read: u32,
    /// The gate's decision.
    pub outcome: AccessOutcome,
}

impl AccessEvent {
    /// Whether the request disclosed resident data: allowed and at least one resident read.
    pub fn reads_residents(&self) -> bool {
        self.outcome == AccessOutcome::Allowed && self.residents_read > 0
    }
}
