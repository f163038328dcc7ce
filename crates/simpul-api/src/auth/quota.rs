//! Per-caller request quotas: a GCRA limiter (the `governor` crate) per user name or client
//! id, each with its own rate, answering `rate_limited` with `Retry-After` when exhausted.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::problem::{ApiError, ProblemCode};

/// One limiter per caller, created on first use with the caller's rate.
#[derive(Default)]
pub struct Quotas {
    limiters: Mutex<HashMap<String, (u32, Arc<DefaultDirectRateLimiter>)>>,
}

impl Quotas {
    /// Counts one request of `caller`, allowed `per_minute` a minute (bursts up to that
    /// many); refuses with the wait until the next one would be allowed.
    pub fn check(&self, caller: &str, per_minute: u32) -> Result<(), ApiError> {
        let limiter = {
            let mut limiters = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
            match limiters.get(caller) {
                Some((rate, limiter)) if *rate == per_minute => limiter.clone(),
                _ => {
                    let rate = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
                    let limiter = Arc::new(RateLimiter::direct(Quota::per_minute(rate)));
                    limiters.insert(caller.to_owned(), (per_minute, limiter.clone()));
                    limiter
                }
            }
        };
        limiter.check().map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::new(
                ProblemCode::RateLimited,
                format!("batas {per_minute} permintaan per menit terlampaui"),
            )
            .retry_after(wait.as_secs_f64().ceil() as u64)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quota_refuses_past_its_rate_with_a_wait_and_callers_are_apart() {
        let quotas = Quotas::default();
        for _ in 0..3 {
            quotas.check("dinsos-bansos", 3).expect("within quota");
        }
        let refused = quotas.check("dinsos-bansos", 3).expect_err("over quota");
        assert_eq!(refused.code, ProblemCode::RateLimited);
        // One request every 20 s at 3 a minute.
        assert!(
            (1..=20).contains(&refused.retry_after.unwrap_or(0)),
            "{:?}",
            refused.retry_after
        );
        quotas
            .check("other", 3)
            .expect("another caller has its own quota");
    }
}
