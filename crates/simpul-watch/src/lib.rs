//! Suspicious-access detection over the access log and sign-in events.
//!
//! A [`Watch`] is a deterministic state machine: the caller feeds it every [`LoginEvent`]
//! and every [`AccessEvent`] in time order, with their timestamps, and stores or shows the
//! [`Alert`]s it returns. It reads no clock, does no I/O and keeps its state in memory, so a
//! replayed log raises the same alerts it raised live, and the crate stays free of sqlx,
//! axum and async runtimes like `simpul-domain`. Actors, roles and accounts are plain
//! strings, so the crate depends on no other simpul crate.
//!
//! # Rules and their defaults
//! Each rule's numbers are a section of [`Thresholds`] (TOML-deserializable, unknown keys
//! refused). Windows are half-open: an event `W` or more before the current one is outside.
//!
//! | rule ([`Rule::code`]) | fires when | default | subject |
//! |---|---|---|---|
//! | `brute_force` | ≥ N failed sign-ins (any outcome but success) for one username within W | N = 5, W = 10 min | account |
//! | `password_spraying` | failed sign-ins for ≥ M distinct usernames from one network (IPv4 /24, IPv6 /48) within W | M = 5, W = 10 min | network, CIDR |
//! | `out_of_hours` | an allowed request reading ≥ 1 resident outside working hours in the city's local time; operators only unless `include_clients` | Mon–Fri 07:00–17:00, UTC+7 (WIB) | actor |
//! | `volume_outlier` | an actor's residents read within W exceed max(k × median of its peers' totals, floor); peers = other actors of the same kind and role reading in W; floor alone without peers | W = 1 h, k = 10, floor = 500 | actor |
//! | `new_network` | a successful sign-in from a network not among the account's remembered ones; an account's first success is silent | 32 networks remembered | account |
//! | `denied_burst` | ≥ D denied requests by one actor within W | D = 20, W = 10 min | actor |
//!
//! # De-duplication
//! A windowed rule does not fire again for the same subject within its window after
//! firing; `out_of_hours` fires at most once per actor per local day; `new_network` fires
//! once per network, which it then remembers.
//!
//! # Memory
//! Per-subject state is a handful of timestamps (the count rules keep only the last N) or
//! one-second buckets (the volume rule), and everything older than the longest window is
//! swept as event time advances. Only the known networks outlive the windows, bounded per
//! account. See [`watch`].
//!
//! # Personal data
//! Alert details carry counts, thresholds and times of day only. Subjects are the account,
//! actor or network the auditor must look at; the client address of a sign-in never
//! appears, only its /24 or /48 for spraying.
//!
//! # Layout
//! - [`event`]: the inputs.
//! - [`network`]: addresses grouped into /24 and /48 networks.
//! - [`thresholds`]: the configurable numbers, their defaults and validation.
//! - [`alert`]: the output and the rule codes.
//! - [`watch`]: the detector.

pub mod alert;
pub mod event;
mod hours;
pub mod network;
mod recent;
pub mod thresholds;
mod volume;
pub mod watch;

pub use alert::{Alert, Rule};
pub use event::{AccessEvent, AccessOutcome, ActorKind, LoginEvent, LoginOutcome};
pub use network::Network;
pub use thresholds::{
    BruteForceThresholds, DeniedBurstThresholds, NewNetworkThresholds, SprayingThresholds,
    Thresholds, ThresholdsError, VolumeThresholds, WorkingHours,
};
pub use watch::Watch;
