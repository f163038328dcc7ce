//! The detector: [`Watch`] keeps the rules' state, takes events in time order and returns
//! the alerts each one raises.
//!
//! It reads no clock: time is whatever the events say, so a replay of yesterday's access log
//! raises exactly the alerts it raised live, and every rule is tested without waiting. An
//! event stamped earlier than one already seen (concurrent requests finish a few
//! milliseconds out of order) is taken as happening at the latest time seen, so windows
//! only ever move forward.
//!
//! State lives for the longest window and no more: every minute of event time a sweep drops
//! what can no longer count. The exceptions are bounded otherwise: the out-of-hours rule
//! remembers one local date per actor alerted today, and the new-network rule remembers up
//! to `new_network.remembered` networks per account that has signed in successfully, for
//! as long as the process lives (a restart forgets them, so each account's first sign-in
//! afterwards is silent again).

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use crate::alert::{Alert, Rule};
use crate::event::{AccessEvent, AccessOutcome, ActorKind, LoginEvent};
use crate::hours::{classify, describe_days};
use crate::network::Network;
use crate::recent::{RecentKeys, RecentTimes, within};
use crate::thresholds::{Limits, Thresholds, ThresholdsError};
use crate::volume::{VolumeLimits, VolumeState};

/// How much event time passes between sweeps of expired state. Short against every window
/// worth configuring, long enough that sweeping costs nothing per event.
const SWEEP_EVERY: TimeDelta = TimeDelta::seconds(60);

/// The suspicious-access detector. One per hub; feed it every sign-in attempt and every
/// access-log entry, in time order, and store or show the alerts it returns.
#[derive(Debug)]
pub struct Watch {
    thresholds: Thresholds,
    limits: Limits,
    now: Option<DateTime<Utc>>,
    next_sweep: Option<DateTime<Utc>>,
    failures_by_account: HashMap<String, RecentTimes>,
    failures_by_network: HashMap<Network, RecentKeys>,
    known_networks: HashMap<String, VecDeque<Network>>,
    denials_by_actor: HashMap<String, RecentTimes>,
    volume: VolumeState,
    /// The local date of each actor's last out-of-hours alert, for actors alerted today.
    out_of_hours_alerted: HashMap<String, NaiveDate>,
    /// When each (rule, subject) last fired, for the windowed rules' de-duplication.
    last_alert: HashMap<(Rule, String), DateTime<Utc>>,
}

impl Watch {
    /// A detector with no history, running on `thresholds` once they pass
    /// [`Thresholds::validate`].
    pub fn new(thresholds: Thresholds) -> Result<Self, ThresholdsError> {
        let limits = Limits::new(&thresholds)?;
        Ok(Self {
            thresholds,
            limits,
            now: None,
            next_sweep: None,
            failures_by_account: HashMap::new(),
            failures_by_network: HashMap::new(),
            known_networks: HashMap::new(),
            denials_by_actor: HashMap::new(),
            volume: VolumeState::default(),
            out_of_hours_alerted: HashMap::new(),
            last_alert: HashMap::new(),
        })
    }

    /// The thresholds it runs on.
    pub fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }

    /// Takes one sign-in attempt; returns the alerts it raises (brute force, password
    /// spraying, new network), in [`Rule::ALL`] order.
    pub fn observe_login(&mut self, event: &LoginEvent) -> Vec<Alert> {
        let now = self.advance(event.at);
        let network = Network::of(event.network);
        let mut alerts = Vec::new();
        if event.outcome.is_failure() {
            self.brute_force(&event.account, now, &mut alerts);
            self.password_spraying(network, &event.account, now, &mut alerts);
        } else {
            self.new_network(network, &event.account, now, &mut alerts);
        }
        alerts
    }

    /// Takes one access-log entry; returns the alerts it raises (out of hours, volume
    /// outlier, denied burst), in [`Rule::ALL`] order.
    pub fn observe_access(&mut self, event: &AccessEvent) -> Vec<Alert> {
        let now = self.advance(event.at);
        let mut alerts = Vec::new();
        if event.reads_residents() {
            self.out_of_hours(event, now, &mut alerts);
            self.volume_outlier(event, now, &mut alerts);
        }
        if event.outcome == AccessOutcome::Denied {
            self.denied_burst(&event.actor, now, &mut alerts);
        }
        alerts
    }

    fn brute_force(&mut self, account: &str, now: DateTime<Utc>, out: &mut Vec<Alert>) {
        let (failures, window) = (
            self.limits.brute_force_failures,
            self.limits.brute_force_window,
        );
        let reached = self
            .failures_by_account
            .entry(account.to_owned())
            .or_insert_with(|| RecentTimes::new(failures))
            .record(now, window);
        if reached {
            let detail = format!(
                "{failures} failed sign-ins within {} (threshold {failures})",
                duration(window)
            );
            self.raise(Rule::BruteForce, account, now, window, detail, out);
        }
    }

    fn password_spraying(
        &mut self,
        network: Network,
        account: &str,
        now: DateTime<Utc>,
        out: &mut Vec<Alert>,
    ) {
        let (accounts, window) = (self.limits.spraying_accounts, self.limits.spraying_window);
        let reached = self
            .failures_by_network
            .entry(network)
            .or_insert_with(|| RecentKeys::new(accounts))
            .record(account, now, window);
        if reached {
            let detail = format!(
                "failed sign-ins for {accounts} distinct accounts within {} (threshold {accounts})",
                duration(window)
            );
            let subject = network.to_string();
            self.raise(Rule::PasswordSpraying, &subject, now, window, detail, out);
        }
    }

    fn new_network(
        &mut self,
        network: Network,
        account: &str,
        now: DateTime<Utc>,
        out: &mut Vec<Alert>,
    ) {
        let cap = self.limits.remembered_networks;
        let known = self.known_networks.entry(account.to_owned()).or_default();
        if let Some(index) = known.iter().position(|&n| n == network) {
            // Most recently used last, so the oldest is the one forgotten.
            known.remove(index);
            known.push_back(network);
            return;
        }
        let first_sign_in = known.is_empty();
        let remembered = known.len();
        known.push_back(network);
        while known.len() > cap {
            known.pop_front();
        }
        // The first success only teaches the account's first network: nothing to compare.
        if !first_sign_in {
            out.push(Alert {
                rule: Rule::NewNetwork,
                subject: account.to_owned(),
                at: now,
                detail: format!(
                    "successful sign-in from a network not among the {remembered} remembered \
                     from the account's earlier sign-ins"
                ),
            });
        }
    }

    fn out_of_hours(&mut self, event: &AccessEvent, now: DateTime<Utc>, out: &mut Vec<Alert>) {
        if event.actor_kind == ActorKind::Client && !self.limits.out_of_hours_clients {
            return;
        }
        let moment = classify(&self.limits, now);
        if moment.in_hours || self.out_of_hours_alerted.get(&event.actor) == Some(&moment.date) {
            return;
        }
        self.out_of_hours_alerted
            .insert(event.actor.clone(), moment.date);
        out.push(Alert {
            rule: Rule::OutOfHours,
            subject: event.actor.clone(),
            at: now,
            detail: format!(
                "read {} resident record(s) at {} local time (UTC{}) on a {}; working hours \
                 are {}-{} on {}",
                event.residents_read,
                moment.time.format("%H:%M"),
                self.limits.offset,
                moment.weekday,
                self.limits.day_start.format("%H:%M"),
                self.limits.day_end.format("%H:%M"),
                describe_days(&self.limits),
            ),
        });
    }

    fn volume_outlier(&mut self, event: &AccessEvent, now: DateTime<Utc>, out: &mut Vec<Alert>) {
        let limits = VolumeLimits {
            window: self.limits.volume_window,
            peer_factor: self.limits.peer_factor,
            floor: self.limits.volume_floor,
        };
        let Some(excess) = self.volume.record(
            &event.actor,
            event.actor_kind,
            &event.role,
            event.residents_read,
            now,
            limits,
        ) else {
            return;
        };
        let window = duration(limits.window);
        let basis = match excess.median_x2 {
            Some(m2) => format!(
                "{} x the median {} of {} peer(s) with the same role, floor {}",
                limits.peer_factor,
                half(m2),
                excess.peers,
                limits.floor
            ),
            None => format!(
                "the floor {}; no peer with the same role active",
                limits.floor
            ),
        };
        let detail = format!(
            "read {} resident record(s) within {window}, above the limit {} ({basis})",
            excess.total, excess.limit
        );
        self.raise(
            Rule::VolumeOutlier,
            &event.actor,
            now,
            limits.window,
            detail,
            out,
        );
    }

    fn denied_burst(&mut self, actor: &str, now: DateTime<Utc>, out: &mut Vec<Alert>) {
        let (denials, window) = (self.limits.denials, self.limits.denied_window);
        let reached = self
            .denials_by_actor
            .entry(actor.to_owned())
            .or_insert_with(|| RecentTimes::new(denials))
            .record(now, window);
        if reached {
            let detail = format!(
                "{denials} denied requests within {} (threshold {denials})",
                duration(window)
            );
            self.raise(Rule::DeniedBurst, actor, now, window, detail, out);
        }
    }

    /// Emits the alert unless the same rule fired for the same subject within `window`.
    fn raise(
        &mut self,
        rule: Rule,
        subject: &str,
        now: DateTime<Utc>,
        window: TimeDelta,
        detail: String,
        out: &mut Vec<Alert>,
    ) {
        let key = (rule, subject.to_owned());
        if self
            .last_alert
            .get(&key)
            .is_some_and(|&last| within(last, now, window))
        {
            return;
        }
        self.last_alert.insert(key, now);
        out.push(Alert {
            rule,
            subject: subject.to_owned(),
            at: now,
            detail,
        });
    }

    /// Moves the clock to `at` (never backwards) and sweeps when one is due.
    fn advance(&mut self, at: DateTime<Utc>) -> DateTime<Utc> {
        let now = match self.now {
            Some(latest) if latest > at => latest,
            _ => at,
        };
        self.now = Some(now);
        if self.next_sweep.is_none_or(|due| now >= due) {
            self.sweep(now);
            self.next_sweep = now.checked_add_signed(SWEEP_EVERY);
        }
        now
    }

    /// Drops every piece of state that can no longer contribute to an alert at `now`.
    fn sweep(&mut self, now: DateTime<Utc>) {
        let limits = &self.limits;
        self.failures_by_account
            .retain(|_, r| !r.is_stale(now, limits.brute_force_window));
        self.failures_by_network
            .retain(|_, r| !r.is_stale(now, limits.spraying_window));
        self.denials_by_actor
            .retain(|_, r| !r.is_stale(now, limits.denied_window));
        self.volume.sweep(now, limits.volume_window);
        let today = classify(limits, now).date;
        self.out_of_hours_alerted.retain(|_, date| *date >= today);
        self.last_alert.retain(|(rule, _), at| {
            dedup_window(limits, *rule).is_some_and(|window| within(*at, now, window))
        });
    }

    /// Entries held for the windowed rules (everything but the known networks), so tests
    /// can see that state expires.
    #[cfg(test)]
    fn windowed_entries(&self) -> usize {
        self.failures_by_account.len()
            + self.failures_by_network.len()
            + self.denials_by_actor.len()
            + self.volume.tracked_actors()
            + self.out_of_hours_alerted.len()
            + self.last_alert.len()
    }
}

/// The de-duplication window of a rule that uses `last_alert`.
fn dedup_window(limits: &Limits, rule: Rule) -> Option<TimeDelta> {
    match rule {
        Rule::BruteForce => Some(limits.brute_force_window),
        Rule::PasswordSpraying => Some(limits.spraying_window),
        Rule::VolumeOutlier => Some(limits.volume_window),
        Rule::DeniedBurst => Some(limits.denied_window),
        // De-duplicated by local day and by network instead.
        Rule::OutOfHours | Rule::NewNetwork => None,
    }
}

/// A window for alert details: `10 min`, `1 h`, `90 s`.
fn duration(window: TimeDelta) -> String {
    let secs = window.num_seconds();
    if secs % 3600 == 0 {
        format!("{} h", secs / 3600)
    } else if secs % 60 == 0 {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} s")
    }
}

/// Half of `x2`, written with `.5` when odd (a median of an even count).
fn half(x2: u64) -> String {
    if x2.is_multiple_of(2) {
        (x2 / 2).to_string()
    } else {
        format!("{}.5", x2 / 2)
    }
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
