//! The volume rule's state: residents read per actor over a sliding window, and who the
//! actor's peers are.
//!
//! Peers are the other actors of the same kind and role (an operator is compared with
//! operators, a bank's client with other agency clients) that read at least one resident
//! inside the window. The actor itself is left out of its own median, or a lone heavy
//! reader among two would pull the median up to half its own total and hide. With no peer
//! active, only the floor applies.
//!
//! Reads are kept per actor in one-second buckets, so an actor's memory is bounded by the
//! window in seconds however fast a machine client calls; windows are measured to the
//! second.

use std::collections::{BTreeSet, HashMap, VecDeque};

use chrono::{DateTime, TimeDelta, Utc};

use crate::event::ActorKind;
use crate::recent::within;

/// The peer group: same kind, same role string.
type Group = (ActorKind, String);

#[derive(Debug, Default)]
pub(crate) struct VolumeState {
    actors: HashMap<String, ActorReads>,
    groups: HashMap<Group, BTreeSet<String>>,
}

#[derive(Debug)]
struct ActorReads {
    group: Group,
    /// (start of a one-second bucket, residents read in it), oldest first.
    reads: VecDeque<(DateTime<Utc>, u64)>,
    total: u64,
}

impl ActorReads {
    fn expire(&mut self, now: DateTime<Utc>, window: TimeDelta) {
        while let Some(&(t, n)) = self.reads.front() {
            if within(t, now, window) {
                break;
            }
            self.reads.pop_front();
            self.total = self.total.saturating_sub(n);
        }
    }
}

/// What the rule found for an actor over the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Excess {
    /// Residents the actor read within the window.
    pub total: u64,
    /// The limit it exceeded.
    pub limit: u64,
    /// Peers with reads in the window.
    pub peers: usize,
    /// Twice the peers' median (twice, so an even count's median stays whole), if any.
    pub median_x2: Option<u64>,
}

/// The thresholds the volume rule runs on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VolumeLimits {
    pub window: TimeDelta,
    pub peer_factor: u32,
    pub floor: u64,
}

impl VolumeState {
    /// Records `residents` read by `actor` at `now` and says whether its total within the
    /// window is above `max(peer_factor × peers' median, floor)`.
    pub fn record(
        &mut self,
        actor: &str,
        kind: ActorKind,
        role: &str,
        residents: u32,
        now: DateTime<Utc>,
        limits: VolumeLimits,
    ) -> Option<Excess> {
        let total = self.add(actor, kind, role, u64::from(residents), now, limits.window);
        // Every limit is at least the floor, so most reads end here without a median.
        if total <= limits.floor {
            return None;
        }
        let group: Group = (kind, role.to_owned());
        let mut peer_totals: Vec<u64> = Vec::new();
        if let Some(members) = self.groups.get(&group) {
            for member in members {
                if member == actor {
                    continue;
                }
                if let Some(reads) = self.actors.get_mut(member) {
                    reads.expire(now, limits.window);
                    if reads.total > 0 {
                        peer_totals.push(reads.total);
                    }
                }
            }
        }
        let median_x2 = median_x2(&mut peer_totals);
        // total > factor × median  ⇔  2 × total > factor × (2 × median), in exact integers.
        let over_peers = median_x2.is_none_or(|m2| {
            u128::from(total) * 2 > u128::from(limits.peer_factor) * u128::from(m2)
        });
        if !over_peers {
            return None;
        }
        let limit = median_x2
            .map(|m2| u64::from(limits.peer_factor).saturating_mul(m2) / 2)
            .unwrap_or(0)
            .max(limits.floor);
        Some(Excess {
            total,
            limit,
            peers: peer_totals.len(),
            median_x2,
        })
    }

    /// Adds the read to the actor's window (moving it to a new peer group if its role
    /// changed) and returns its total within the window.
    fn add(
        &mut self,
        actor: &str,
        kind: ActorKind,
        role: &str,
        residents: u64,
        now: DateTime<Utc>,
        window: TimeDelta,
    ) -> u64 {
        let group: Group = (kind, role.to_owned());
        let reads = match self.actors.get_mut(actor) {
            Some(reads) => {
                if reads.group != group {
                    remove_member(&mut self.groups, &reads.group, actor);
                    self.groups
                        .entry(group.clone())
                        .or_default()
                        .insert(actor.to_owned());
                    reads.group = group;
                }
                reads
            }
            None => {
                self.groups
                    .entry(group.clone())
                    .or_default()
                    .insert(actor.to_owned());
                self.actors.entry(actor.to_owned()).or_insert(ActorReads {
                    group,
                    reads: VecDeque::new(),
                    total: 0,
                })
            }
        };
        reads.expire(now, window);
        match reads.reads.back_mut() {
            Some((start, n)) if now - *start < TimeDelta::seconds(1) => {
                *n = n.saturating_add(residents);
            }
            _ => reads.reads.push_back((now, residents)),
        }
        reads.total = reads.total.saturating_add(residents);
        reads.total
    }

    /// Forgets actors with no read inside the window.
    pub fn sweep(&mut self, now: DateTime<Utc>, window: TimeDelta) {
        let groups = &mut self.groups;
        self.actors.retain(|actor, reads| {
            reads.expire(now, window);
            let keep = !reads.reads.is_empty();
            if !keep {
                remove_member(groups, &reads.group, actor);
            }
            keep
        });
    }

    #[cfg(test)]
    pub fn tracked_actors(&self) -> usize {
        debug_assert_eq!(
            self.groups.values().map(BTreeSet::len).sum::<usize>(),
            self.actors.len()
        );
        self.actors.len()
    }
}

fn remove_member(groups: &mut HashMap<Group, BTreeSet<String>>, group: &Group, actor: &str) {
    if let Some(members) = groups.get_mut(group) {
        members.remove(actor);
        if members.is_empty() {
            groups.remove(group);
        }
    }
}

/// Twice the median of `values` (sorts them), or `None` if empty.
fn median_x2(values: &mut [u64]) -> Option<u64> {
    values.sort_unstable();
    let len = values.len();
    let mid = len / 2;
    if len == 0 {
        None
    } else if len.is_multiple_of(2) {
        match (values.get(mid - 1), values.get(mid)) {
            (Some(a), Some(b)) => Some(a.saturating_add(*b)),
            _ => None,
        }
    } else {
        values.get(mid).map(|m| m.saturating_mul(2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median_x2(&mut []), None);
        assert_eq!(median_x2(&mut [7]), Some(14));
        assert_eq!(median_x2(&mut [30, 10, 20]), Some(40));
        assert_eq!(median_x2(&mut [40, 10, 30, 20]), Some(50));
    }
}
