//! Sign-in throttling for one account, as a pure state machine: exponential back-off after
//! a few failures, then a temporary lockout; a success resets it.
//!
//! The caller keeps one [`LoginThrottle`] per account (serialized into its row), asks
//! [`LoginThrottle::check`] before looking at the submitted password, and reports the
//! outcome with [`LoginThrottle::record_failure`] or [`LoginThrottle::record_success`].
//! A refused attempt is answered without verifying anything and is not itself recorded as
//! a failure, so an attacker hammering a locked account does not extend the lockout of its
//! rightful owner. Per-address limits (password spraying across accounts) belong to the
//! API's rate limiter and the suspicious-access rules, not here.
//!
//! The default numbers follow OWASP's Authentication Cheat Sheet ("Account lockout"):
//! a handful of free attempts, growing delays, a lockout long enough to make online
//! guessing useless (10 guesses per 15 minutes) and short enough that an attacker cannot
//! keep a legitimate operator locked out for a whole working day with a few requests.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// The numbers of the throttle. `Default` is what the hub uses; settings may override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottlePolicy {
    /// The consecutive failure at which waiting starts: with 3, the first two failures (a
    /// mistyped password, a Caps Lock) are answered at once and the third waits
    /// `base_delay_secs`, without helping a guesser.
    pub free_failures: u32,
    /// Wait after failure number `free_failures`, in seconds; each further failure
    /// doubles it.
    pub base_delay_secs: u64,
    /// The doubling stops here, in seconds.
    pub max_delay_secs: u64,
    /// Consecutive failures that lock the account.
    pub lockout_failures: u32,
    /// How long a lockout lasts, in seconds.
    pub lockout_secs: u64,
    /// Failures older than this many seconds (counted from the last one) are forgotten, so
    /// a mistype a week ago does not shorten today's free attempts.
    pub forget_after_secs: u64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            free_failures: 3,
            base_delay_secs: 1,
            // 1, 2, 4, ..., 64 s would be reached at the ninth failure; capping at 60 s
            // keeps the longest wait short of "is the system broken?".
            max_delay_secs: 60,
            lockout_failures: 10,
            lockout_secs: 15 * 60,
            forget_after_secs: 24 * 60 * 60,
        }
    }
}

impl ThrottlePolicy {
    /// The wait imposed after `failures` consecutive failures (zero below `free_failures`).
    pub fn delay_after(&self, failures: u32) -> TimeDelta {
        let Some(doublings) = failures.checked_sub(self.free_failures) else {
            return TimeDelta::zero();
        };
        let factor = 1u64.checked_shl(doublings).unwrap_or(u64::MAX);
        let secs = self
            .base_delay_secs
            .saturating_mul(factor)
            .min(self.max_delay_secs);
        seconds(secs)
    }
}

/// A duration of `secs` seconds, saturating at chrono's maximum.
fn seconds(secs: u64) -> TimeDelta {
    i64::try_from(secs)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .unwrap_or(TimeDelta::MAX)
}

/// What the throttle says about an attempt at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleDecision {
    /// Go ahead and verify the credentials.
    Allowed,
    /// Refuse without verifying; answer 429 with `Retry-After: seconds`.
    RetryAfter {
        /// Whole seconds to wait, rounded up, at least 1.
        seconds: u64,
    },
    /// The account is locked; refuse without verifying until `until`.
    LockedUntil {
        /// When the lockout ends.
        until: DateTime<Utc>,
    },
}

/// One account's sign-in failure history: all the state the throttle needs. Store it with
/// the account (serde) and write it back after every `record_*` call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginThrottle {
    consecutive_failures: u32,
    last_failure_at: Option<DateTime<Utc>>,
    locked_until: Option<DateTime<Utc>>,
}

impl LoginThrottle {
    /// A throttle with no failures.
    pub fn new() -> Self {
        Self::default()
    }

    /// Consecutive failures counted now (for the suspicious-access rules and the console).
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    /// Whether an attempt at `now` may proceed.
    pub fn check(&self, policy: &ThrottlePolicy, now: DateTime<Utc>) -> ThrottleDecision {
        if let Some(until) = self.locked_until
            && now < until
        {
            return ThrottleDecision::LockedUntil { until };
        }
        let Some(last) = self.last_failure_at else {
            return ThrottleDecision::Allowed;
        };
        if self.is_stale(policy, now) {
            return ThrottleDecision::Allowed;
        }
        let retry_at = last
            .checked_add_signed(policy.delay_after(self.consecutive_failures))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if now < retry_at {
            return ThrottleDecision::RetryAfter {
                seconds: whole_seconds_until(now, retry_at),
            };
        }
        ThrottleDecision::Allowed
    }

    /// Records a failed attempt at `now` (wrong password, wrong TOTP or recovery code) and
    /// returns the decision that now applies to the next attempt.
    ///
    /// Once `lockout_failures` is reached the account is locked; when the lockout ends, the
    /// count is *not* reset, so each further failure locks it again at once: after a
    /// lockout, only a success (or a day without failures) restores the free attempts.
    pub fn record_failure(
        &mut self,
        policy: &ThrottlePolicy,
        now: DateTime<Utc>,
    ) -> ThrottleDecision {
        if self.is_stale(policy, now) {
            *self = Self::default();
        }
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.last_failure_at = Some(now);
        if self.consecutive_failures >= policy.lockout_failures {
            self.locked_until = Some(
                now.checked_add_signed(seconds(policy.lockout_secs))
                    .unwrap_or(DateTime::<Utc>::MAX_UTC),
            );
        }
        self.check(policy, now)
    }

    /// Records a successful sign-in: all failures are forgotten.
    pub fn record_success(&mut self) {
        *self = Self::default();
    }

    /// Whether the failures are old enough to forget (and no lockout is running).
    fn is_stale(&self, policy: &ThrottlePolicy, now: DateTime<Utc>) -> bool {
        let locked = self.locked_until.is_some_and(|until| now < until);
        let forgotten = self.last_failure_at.is_some_and(|last| {
            last.checked_add_signed(seconds(policy.forget_after_secs))
                .is_some_and(|forget_at| now >= forget_at)
        });
        !locked && forgotten
    }
}

/// Seconds from `now` to `later`, rounded up and at least one (a `Retry-After: 0` would
/// invite an immediate retry that is still refused).
fn whole_seconds_until(now: DateTime<Utc>, later: DateTime<Utc>) -> u64 {
    let wait = later - now;
    let whole = wait.num_seconds();
    let rounded = if wait > TimeDelta::seconds(whole) {
        whole.saturating_add(1)
    } else {
        whole
    };
    u64::try_from(rounded).unwrap_or(0).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000, 0).expect("valid timestamp")
    }

    fn after(secs: i64) -> DateTime<Utc> {
        t0() + TimeDelta::seconds(secs)
    }

    #[test]
    fn three_failures_are_free_then_delays_double_up_to_the_cap() {
        let policy = ThrottlePolicy::default();
        let mut throttle = LoginThrottle::new();
        let mut now = t0();
        for _ in 0..2 {
            assert_eq!(
                throttle.record_failure(&policy, now),
                ThrottleDecision::Allowed
            );
        }
        // Third failure: 1 s, then 2, 4, ... 32, then the 60 s cap at the ninth.
        let expected = [1, 2, 4, 8, 16, 32, 60];
        for wait in expected {
            assert_eq!(
                throttle.record_failure(&policy, now),
                ThrottleDecision::RetryAfter { seconds: wait }
            );
            assert_eq!(
                throttle.check(&policy, now + TimeDelta::seconds(wait as i64 - 1)),
                ThrottleDecision::RetryAfter { seconds: 1 }
            );
            now += TimeDelta::seconds(wait as i64);
            assert_eq!(throttle.check(&policy, now), ThrottleDecision::Allowed);
        }
        assert_eq!(throttle.consecutive_failures(), 9);
    }

    #[test]
    fn the_tenth_failure_locks_for_fifteen_minutes_and_then_releases() {
        let policy = ThrottlePolicy::default();
        let mut throttle = LoginThrottle::new();
        for i in 0..9 {
            throttle.record_failure(&policy, after(i * 100));
        }
        let until = after(900 + 15 * 60);
        assert_eq!(
            throttle.record_failure(&policy, after(900)),
            ThrottleDecision::LockedUntil { until }
        );
        assert_eq!(
            throttle.check(&policy, until - TimeDelta::seconds(1)),
            ThrottleDecision::LockedUntil { until }
        );
        assert_eq!(throttle.check(&policy, until), ThrottleDecision::Allowed);
        // One more failure after the release locks again at once.
        let again = until + TimeDelta::seconds(15 * 60);
        assert_eq!(
            throttle.record_failure(&policy, until),
            ThrottleDecision::LockedUntil { until: again }
        );
    }

    #[test]
    fn success_resets_everything() {
        let policy = ThrottlePolicy::default();
        let mut throttle = LoginThrottle::new();
        for _ in 0..5 {
            throttle.record_failure(&policy, t0());
        }
        throttle.record_success();
        assert_eq!(throttle, LoginThrottle::new());
        assert_eq!(throttle.check(&policy, t0()), ThrottleDecision::Allowed);
        // The free attempts are back.
        for _ in 0..2 {
            assert_eq!(
                throttle.record_failure(&policy, t0()),
                ThrottleDecision::Allowed
            );
        }
    }

    #[test]
    fn old_failures_are_forgotten_but_not_during_a_lockout() {
        let policy = ThrottlePolicy {
            lockout_secs: 2 * 24 * 60 * 60,
            ..ThrottlePolicy::default()
        };
        let mut throttle = LoginThrottle::new();
        for _ in 0..5 {
            throttle.record_failure(&policy, t0());
        }
        // A day later the next failure counts as the first.
        assert_eq!(
            throttle.record_failure(&policy, after(24 * 60 * 60)),
            ThrottleDecision::Allowed
        );
        assert_eq!(throttle.consecutive_failures(), 1);

        let mut locked = LoginThrottle::new();
        for _ in 0..10 {
            locked.record_failure(&policy, t0());
        }
        // The two-day lockout outlives the one-day memory.
        assert!(matches!(
            locked.check(&policy, after(36 * 60 * 60)),
            ThrottleDecision::LockedUntil { .. }
        ));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let policy = ThrottlePolicy {
            base_delay_secs: 4,
            ..ThrottlePolicy::default()
        };
        let mut throttle = LoginThrottle::new();
        for _ in 0..3 {
            throttle.record_failure(&policy, t0());
        }
        assert_eq!(
            throttle.check(&policy, t0() + TimeDelta::milliseconds(500)),
            ThrottleDecision::RetryAfter { seconds: 4 }
        );
    }

    #[test]
    fn extreme_policies_do_not_overflow() {
        let policy = ThrottlePolicy {
            free_failures: 0,
            base_delay_secs: u64::MAX,
            max_delay_secs: u64::MAX,
            lockout_failures: u32::MAX,
            lockout_secs: u64::MAX,
            forget_after_secs: u64::MAX,
        };
        assert_eq!(policy.delay_after(200), TimeDelta::MAX);
        let mut throttle = LoginThrottle::new();
        assert!(matches!(
            throttle.record_failure(&policy, t0()),
            ThrottleDecision::RetryAfter { .. }
        ));
    }

    #[test]
    fn state_and_policy_survive_serialization() {
        let policy = ThrottlePolicy::default();
        let mut throttle = LoginThrottle::new();
        for _ in 0..10 {
            throttle.record_failure(&policy, t0());
        }
        let json = serde_json::to_string(&throttle).expect("serialize");
        let back: LoginThrottle = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, throttle);
        assert_eq!(
            back.check(&policy, after(60)),
            throttle.check(&policy, after(60))
        );

        let partial: ThrottlePolicy =
            serde_json::from_str(r#"{"lockout_secs": 60}"#).expect("defaults fill the rest");
        assert_eq!(partial.lockout_failures, 10);
        assert_eq!(partial.lockout_secs, 60);
        assert!(serde_json::from_str::<ThrottlePolicy>(r#"{"lockout": 1}"#).is_err());
    }
}
