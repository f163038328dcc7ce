//! The gate every protected handler asks, and the access log it writes.
//!
//! [`AppState::authorize`] decides with the domain's one policy
//! (`simpul_domain::access::authorize`), the agreements in force and, for machine clients,
//! the token's scopes; a refusal is written to the access log *before* the 403 leaves.
//! [`AppState::record_read`] writes what an allowed personal-data read disclosed (the
//! residents as blind indexes, the fields) before the handler returns its body. Both feed
//! the suspicious-access rules, whose alerts are stored at once.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use simpul_domain::access::{Action, AgencyGrant, AgencyId, Decision, Resource, authorize};
use simpul_domain::{KodeWilayah, Nik};
use simpul_store::{AccessRecord, AlertRecord};
use simpul_watch::{AccessEvent, AccessOutcome, ActorKind, Alert, Watch};

use super::{Caller, CallerKind};
use crate::problem::{ApiError, ProblemCode};
use crate::state::AppState;

/// How long agreements read from the store are reused before being read again.
const AGREEMENTS_TTL: Duration = Duration::from_secs(5);

/// Shared state of the gate: the agreements cache and the suspicious-access rules.
pub struct GateState {
    agreements: Mutex<Option<(Instant, Arc<Vec<AgencyGrant>>)>>,
    watch: Mutex<Watch>,
}

impl GateState {
    pub fn new(watch: Watch) -> Self {
        Self {
            agreements: Mutex::new(None),
            watch: Mutex::new(watch),
        }
    }

    /// Forgets cached agreements (after an administrator changed them).
    pub fn agreements_changed(&self) {
        *self.agreements.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    pub(crate) fn observe_access(&self, event: &AccessEvent) -> Vec<Alert> {
        self.watch
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .observe_access(event)
    }

    pub(crate) fn observe_login(&self, event: &simpul_watch::LoginEvent) -> Vec<Alert> {
        self.watch
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .observe_login(event)
    }
}

/// How an access ended, as the log writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Denied,
    NotFound,
}

impl Outcome {
    fn code(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
            Self::NotFound => "not_found",
        }
    }
}

impl AppState {
    async fn grants(&self) -> Result<Arc<Vec<AgencyGrant>>, ApiError> {
        if let Some((at, grants)) = self
            .gate
            .agreements
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            && at.elapsed() < AGREEMENTS_TTL
        {
            return Ok(grants.clone());
        }
        let grants: Arc<Vec<AgencyGrant>> = Arc::new(
            self.store
                .agreements()
                .await?
                .into_iter()
                .filter_map(|a| {
                    Some(AgencyGrant {
                        agency: AgencyId::parse(&a.agency).ok()?,
                        actions: a
                            .actions
                            .iter()
                            .filter_map(|code| Action::from_code(code))
                            .collect(),
                        region: KodeWilayah::parse(&a.region).ok()?,
                    })
                })
                .collect(),
        );
        *self
            .gate
            .agreements
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), grants.clone()));
        Ok(grants)
    }

    /// Lets `caller` do `action` on `resource`, or records the refusal and answers 403.
    /// Reads of personal data must state a purpose.
    pub async fn authorize(
        &self,
        caller: &Caller,
        action: Action,
        resource: Resource<'_>,
    ) -> Result<(), ApiError> {
        if action.involves_personal_data() && caller.purpose.is_none() {
            return Err(ApiError::new(
                ProblemCode::PurposeRequired,
                "nyatakan tujuan akses data pribadi di header X-Tujuan",
            )
            .field("X-Tujuan"));
        }
        let scope_allows = match &caller.kind {
            CallerKind::Client { scope } => scope.contains(action.code()),
            CallerKind::Account => true,
        };
        let decision = if scope_allows {
            authorize(&caller.actor, action, resource, &self.grants().await?)
        } else {
            Decision::Denied(simpul_domain::access::DenyReason::RoleLacksAction)
        };
        match decision {
            Decision::Allowed => Ok(()),
            Decision::Denied(reason) => {
                let code = if scope_allows {
                    reason.code()
                } else {
                    "insufficient_scope"
                };
                self.log_access(caller, action, Vec::new(), &[], Outcome::Denied, Some(code))
                    .await?;
                let detail = if scope_allows {
                    reason.to_string()
                } else {
                    "token akses tidak memuat cakupan untuk tindakan ini".to_owned()
                };
                Err(ApiError::new(ProblemCode::Forbidden, detail).reason(code))
            }
        }
    }

    /// Records what an allowed (or not found) personal-data read disclosed, before the
    /// answer is sent; if the log cannot be written, nothing is sent.
    pub async fn record_read(
        &self,
        caller: &Caller,
        action: Action,
        residents: &[&Nik],
        fields: &[&str],
        outcome: Outcome,
    ) -> Result<(), ApiError> {
        let indexes = residents.iter().map(|n| self.vault.nik_index(n)).collect();
        self.log_access(caller, action, indexes, fields, outcome, None)
            .await
    }

    async fn log_access(
        &self,
        caller: &Caller,
        action: Action,
        residents: Vec<String>,
        fields: &[&str],
        outcome: Outcome,
        reason: Option<&str>,
    ) -> Result<(), ApiError> {
        let record = AccessRecord {
            at: simpul_store::now(),
            actor_kind: caller.kind_code().to_owned(),
            actor: caller.actor.id.as_str().to_owned(),
            role: caller.actor.role.kind().code().to_owned(),
            action: action.code().to_owned(),
            purpose: caller.purpose.clone(),
            residents,
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            outcome: outcome.code().to_owned(),
            reason: reason.map(str::to_owned),
            network: caller.network.clone(),
            request_id: caller.request_id.clone(),
        };
        self.access_log.append(vec![record.clone()]).await?;
        let event = AccessEvent {
            at: record.at,
            actor: record.actor.clone(),
            actor_kind: match caller.kind {
                CallerKind::Account => ActorKind::Operator,
                CallerKind::Client { .. } => ActorKind::Client,
            },
            role: record.role.clone(),
            residents_read: if outcome == Outcome::Allowed {
                u32::try_from(record.residents.len()).unwrap_or(u32::MAX)
            } else {
                0
            },
            outcome: if outcome == Outcome::Denied {
                AccessOutcome::Denied
            } else {
                AccessOutcome::Allowed
            },
        };
        let alerts = self.gate.observe_access(&event);
        self.raise(alerts).await
    }

    /// Stores alerts raised by the rules.
    pub(crate) async fn raise(&self, alerts: Vec<Alert>) -> Result<(), ApiError> {
        if alerts.is_empty() {
            return Ok(());
        }
        let records: Vec<AlertRecord> = alerts
            .into_iter()
            .map(|a| AlertRecord {
                id: 0,
                rule: a.rule.code().to_owned(),
                subject: a.subject,
                at: a.at,
                detail: a.detail,
                acknowledged_by: None,
                acknowledged_at: None,
            })
            .collect();
        for alert in &records {
            tracing::warn!(rule = %alert.rule, "suspicious access");
        }
        self.store.raise_alerts(&records).await?;
        Ok(())
    }

    /// The region the caller works in, for a search or a check that names no region: the
    /// role's own region, or (for an agency) the first agreement's region.
    pub async fn home_region(&self, caller: &Caller) -> Result<Option<KodeWilayah>, ApiError> {
        if let Some(region) = caller.actor.role.region() {
            return Ok(Some(region.clone()));
        }
        if let simpul_domain::access::Role::AgencyAnalyst { agency } = &caller.actor.role {
            return Ok(self
                .grants()
                .await?
                .iter()
                .find(|g| g.agency == *agency)
                .map(|g| g.region.clone()));
        }
        Ok(None)
    }
}
