//! Small windows that answer "were there at least N within the last W?" in constant memory.
//!
//! The count rules (brute force, spraying, denied bursts) only need to know whether the N-th
//! most recent occurrence still lies inside the window, so each subject keeps the last N
//! timestamps and nothing more: a subject hammered with a million attempts costs the same N
//! slots as one with N. Written by hand because it is a dozen lines over `VecDeque`.
//!
//! An occurrence at `t` is inside the window at `now` while `now - t < window`: the window is
//! half-open, so N events spanning exactly the window do not count as "within" it.

use std::collections::VecDeque;

use chrono::{DateTime, TimeDelta, Utc};

/// Whether `t` is still inside `window` at `now`.
pub(crate) fn within(t: DateTime<Utc>, now: DateTime<Utc>, window: TimeDelta) -> bool {
    now - t < window
}

/// The last `cap` timestamps of one subject, oldest first.
#[derive(Debug, Clone)]
pub(crate) struct RecentTimes {
    cap: usize,
    times: VecDeque<DateTime<Utc>>,
}

impl RecentTimes {
    pub fn new(cap: usize) -> Self {
        Self {
            cap,
            times: VecDeque::with_capacity(cap.min(64)),
        }
    }

    /// Records an occurrence at `now` and says whether `cap` of them lie within `window`.
    pub fn record(&mut self, now: DateTime<Utc>, window: TimeDelta) -> bool {
        self.times.push_back(now);
        while self.times.len() > self.cap {
            self.times.pop_front();
        }
        self.times.len() >= self.cap
            && self
                .times
                .front()
                .is_some_and(|&oldest| within(oldest, now, window))
    }

    /// Whether nothing recorded can count any more: the newest is outside the window.
    pub fn is_stale(&self, now: DateTime<Utc>, window: TimeDelta) -> bool {
        self.times
            .back()
            .is_none_or(|&newest| !within(newest, now, window))
    }
}

/// The last `cap` distinct keys of one subject with the time each was last seen, oldest
/// first. "At least N distinct keys within the window" holds exactly when the N-th most
/// recently seen distinct key was seen within it, so `cap = N` is enough.
#[derive(Debug, Clone)]
pub(crate) struct RecentKeys {
    cap: usize,
    keys: VecDeque<(String, DateTime<Utc>)>,
}

impl RecentKeys {
    pub fn new(cap: usize) -> Self {
        Self {
            cap,
            keys: VecDeque::with_capacity(cap.min(64)),
        }
    }

    /// Records `key` at `now` and says whether `cap` distinct keys lie within `window`.
    pub fn record(&mut self, key: &str, now: DateTime<Utc>, window: TimeDelta) -> bool {
        if let Some(index) = self.keys.iter().position(|(k, _)| k == key) {
            self.keys.remove(index);
        }
        self.keys.push_back((key.to_owned(), now));
        while self.keys.len() > self.cap {
            self.keys.pop_front();
        }
        self.keys.len() >= self.cap
            && self
                .keys
                .front()
                .is_some_and(|&(_, oldest)| within(oldest, now, window))
    }

    /// Whether nothing recorded can count any more.
    pub fn is_stale(&self, now: DateTime<Utc>, window: TimeDelta) -> bool {
        self.keys
            .back()
            .is_none_or(|&(_, newest)| !within(newest, now, window))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + TimeDelta::seconds(secs)
    }

    #[test]
    fn times_count_only_inside_the_half_open_window() {
        let w = TimeDelta::seconds(10);
        let mut r = RecentTimes::new(3);
        assert!(!r.record(t(0), w));
        assert!(!r.record(t(5), w));
        // 0, 5, 10 span exactly the window: the first has left it.
        assert!(!r.record(t(10), w));
        assert!(r.record(t(11), w));
        assert!(!r.is_stale(t(20), w));
        assert!(r.is_stale(t(21), w));
    }

    #[test]
    fn keys_count_distinct_keys_only() {
        let w = TimeDelta::seconds(10);
        let mut r = RecentKeys::new(3);
        assert!(!r.record("a", t(0), w));
        assert!(!r.record("a", t(1), w));
        assert!(!r.record("b", t(2), w));
        assert!(!r.record("b", t(3), w));
        assert!(r.record("c", t(4), w));
        // "a" seen again refreshes it rather than adding a fourth slot.
        assert!(r.record("a", t(12), w));
        assert!(!r.record("d", t(14), w));
    }
}
