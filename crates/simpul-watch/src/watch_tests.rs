//! Tests of the detector, rule by rule: each fires exactly at its threshold and not one
//! below, forgets events outside its window, and does not repeat itself; then thresholds
//! from TOML, expiry of state, and a property test against a naive re-count.

use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use rstest::rstest;

use super::*;
use crate::event::{AccessOutcome, ActorKind, LoginOutcome};
use crate::thresholds::BruteForceThresholds;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Monday 2024-03-04 09:00 in Madiun (UTC+7): inside working hours.
fn monday_morning() -> DateTime<Utc> {
    utc("2024-03-04T02:00:00Z")
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("test timestamp")
}

fn secs(n: i64) -> TimeDelta {
    TimeDelta::seconds(n)
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("test address")
}

fn watch() -> Watch {
    Watch::new(Thresholds::default()).expect("defaults are valid")
}

fn watch_from(toml_text: &str) -> Result<Watch, Box<dyn std::error::Error>> {
    Ok(Watch::new(toml::from_str(toml_text)?)?)
}

fn login(at: DateTime<Utc>, account: &str, address: &str, outcome: LoginOutcome) -> LoginEvent {
    LoginEvent {
        at,
        account: account.to_owned(),
        network: ip(address),
        outcome,
    }
}

fn fail(at: DateTime<Utc>, account: &str, address: &str) -> LoginEvent {
    login(at, account, address, LoginOutcome::BadPassword)
}

fn success(at: DateTime<Utc>, account: &str, address: &str) -> LoginEvent {
    login(at, account, address, LoginOutcome::Success)
}

fn read(at: DateTime<Utc>, actor: &str, role: &str, residents: u32) -> AccessEvent {
    AccessEvent {
        at,
        actor: actor.to_owned(),
        actor_kind: ActorKind::Operator,
        role: role.to_owned(),
        residents_read: residents,
        outcome: AccessOutcome::Allowed,
    }
}

fn denied(at: DateTime<Utc>, actor: &str) -> AccessEvent {
    AccessEvent {
        outcome: AccessOutcome::Denied,
        residents_read: 0,
        ..read(at, actor, "operator", 0)
    }
}

fn rules(alerts: &[Alert]) -> Vec<Rule> {
    alerts.iter().map(|a| a.rule).collect()
}

/// Feeds logins and collects every alert of `rule`.
fn logins_raising(w: &mut Watch, events: &[LoginEvent], rule: Rule) -> Vec<Alert> {
    events
        .iter()
        .flat_map(|e| w.observe_login(e))
        .filter(|a| a.rule == rule)
        .collect()
}

fn accesses_raising(w: &mut Watch, events: &[AccessEvent], rule: Rule) -> Vec<Alert> {
    events
        .iter()
        .flat_map(|e| w.observe_access(e))
        .filter(|a| a.rule == rule)
        .collect()
}

// ---------------------------------------------------------------- brute force

#[test]
fn brute_force_fires_on_the_fifth_failure_not_the_fourth() {
    let mut w = watch();
    let t = monday_morning();
    for i in 0..4 {
        assert!(
            w.observe_login(&fail(t + secs(i * 10), "siti", "203.0.113.5"))
                .is_empty(),
            "failure {} alone must not fire",
            i + 1
        );
    }
    let alerts = w.observe_login(&fail(t + secs(40), "siti", "203.0.113.5"));
    assert_eq!(rules(&alerts), [Rule::BruteForce]);
    assert_eq!(alerts[0].subject, "siti");
    assert_eq!(alerts[0].at, t + secs(40));
    assert_eq!(
        alerts[0].detail,
        "5 failed sign-ins within 10 min (threshold 5)"
    );
}

#[rstest]
#[case(LoginOutcome::BadPassword)]
#[case(LoginOutcome::BadSecondFactor)]
#[case(LoginOutcome::Locked)]
#[case(LoginOutcome::UnknownAccount)]
fn every_kind_of_failure_counts(#[case] outcome: LoginOutcome) {
    let mut w = watch();
    let t = monday_morning();
    let events: Vec<_> = (0..5)
        .map(|i| login(t + secs(i), "budi", "198.51.100.1", outcome))
        .collect();
    assert_eq!(logins_raising(&mut w, &events, Rule::BruteForce).len(), 1);
}

#[test]
fn brute_force_failures_wider_than_the_window_do_not_fire() {
    let t = monday_morning();
    // Five failures 150 s apart span exactly 600 s: the first is out of the window.
    let spread: Vec<_> = (0..5)
        .map(|i| fail(t + secs(i * 150), "siti", "203.0.113.5"))
        .collect();
    assert!(logins_raising(&mut watch(), &spread, Rule::BruteForce).is_empty());
    // One second tighter and they are within it.
    let tight: Vec<_> = (0..5)
        .map(|i| fail(t + secs(i * 149), "siti", "203.0.113.5"))
        .collect();
    assert_eq!(
        logins_raising(&mut watch(), &tight, Rule::BruteForce).len(),
        1
    );
}

#[test]
fn brute_force_counts_per_account() {
    let t = monday_morning();
    let events: Vec<_> = (0..8)
        .map(|i| {
            let account = if i % 2 == 0 { "siti" } else { "budi" };
            fail(t + secs(i), account, "203.0.113.5")
        })
        .collect();
    assert!(logins_raising(&mut watch(), &events, Rule::BruteForce).is_empty());
}

#[test]
fn brute_force_does_not_repeat_within_its_window_then_fires_again() {
    let mut w = watch();
    let t = monday_morning();
    // A failure every 30 s for 20 minutes.
    let events: Vec<_> = (0..40)
        .map(|i| fail(t + secs(i * 30), "siti", "203.0.113.5"))
        .collect();
    let alerts = logins_raising(&mut w, &events, Rule::BruteForce);
    let times: Vec<_> = alerts.iter().map(|a| a.at).collect();
    // First at the fifth failure (120 s), again once 600 s have passed since it.
    assert_eq!(times, [t + secs(120), t + secs(720)]);
}

// ---------------------------------------------------------------- password spraying

#[test]
fn spraying_fires_on_the_fifth_account_from_one_network() {
    let mut w = watch();
    let t = monday_morning();
    for (i, account) in ["a1", "a2", "a3", "a4"].iter().enumerate() {
        let address = format!("203.0.113.{}", 10 + i);
        assert!(
            w.observe_login(&fail(t + secs(i as i64), account, &address))
                .is_empty()
        );
    }
    let alerts = w.observe_login(&fail(t + secs(4), "a5", "203.0.113.99"));
    assert_eq!(rules(&alerts), [Rule::PasswordSpraying]);
    assert_eq!(alerts[0].subject, "203.0.113.0/24");
    assert_eq!(
        alerts[0].detail,
        "failed sign-ins for 5 distinct accounts within 10 min (threshold 5)"
    );
}

#[test]
fn spraying_counts_distinct_accounts_not_attempts() {
    let t = monday_morning();
    // Four accounts, many attempts each: brute force for some, but never spraying.
    let events: Vec<_> = (0..20)
        .map(|i| fail(t + secs(i), &format!("a{}", i % 4), "203.0.113.7"))
        .collect();
    assert!(logins_raising(&mut watch(), &events, Rule::PasswordSpraying).is_empty());
}

#[test]
fn spraying_from_different_ipv4_networks_does_not_add_up() {
    let t = monday_morning();
    let events: Vec<_> = (0..10)
        .map(|i| {
            fail(
                t + secs(i),
                &format!("a{i}"),
                &format!("203.0.{}.7", 100 + i),
            )
        })
        .collect();
    assert!(logins_raising(&mut watch(), &events, Rule::PasswordSpraying).is_empty());
}

#[test]
fn spraying_groups_ipv6_by_48() {
    let t = monday_morning();
    // Five /64s inside 2001:db8:1::/48: one network.
    let same_48: Vec<_> = (1..=5)
        .map(|i| {
            fail(
                t + secs(i),
                &format!("a{i}"),
                &format!("2001:db8:1:{i:x}::{i}"),
            )
        })
        .collect();
    let alerts = logins_raising(&mut watch(), &same_48, Rule::PasswordSpraying);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].subject, "2001:db8:1::/48");
    // Five /48s: five networks.
    let different_48: Vec<_> = (1..=5)
        .map(|i| fail(t + secs(i), &format!("a{i}"), &format!("2001:db8:{i:x}::1")))
        .collect();
    assert!(logins_raising(&mut watch(), &different_48, Rule::PasswordSpraying).is_empty());
}

#[test]
fn spraying_wider_than_the_window_does_not_fire_and_repeats_only_after_it() {
    let t = monday_morning();
    let spread: Vec<_> = (0..5)
        .map(|i| fail(t + secs(i * 150), &format!("a{i}"), "203.0.113.7"))
        .collect();
    assert!(logins_raising(&mut watch(), &spread, Rule::PasswordSpraying).is_empty());

    // A new account every 20 s for 15 minutes.
    let mut w = watch();
    let steady: Vec<_> = (0..45)
        .map(|i| fail(t + secs(i * 20), &format!("a{i}"), "203.0.113.7"))
        .collect();
    let times: Vec<_> = logins_raising(&mut w, &steady, Rule::PasswordSpraying)
        .iter()
        .map(|a| a.at)
        .collect();
    assert_eq!(times, [t + secs(80), t + secs(680)]);
}

// ---------------------------------------------------------------- out of hours

#[rstest]
#[case::monday_0659("2024-03-03T23:59:00Z", true)]
#[case::monday_0700("2024-03-04T00:00:00Z", false)]
#[case::friday_1659("2024-03-08T09:59:00Z", false)]
#[case::friday_1700("2024-03-08T10:00:00Z", true)]
#[case::saturday_1000("2024-03-09T03:00:00Z", true)]
#[case::sunday_1200("2024-03-10T05:00:00Z", true)]
#[case::friday_utc_saturday_local("2024-03-08T17:30:00Z", true)]
#[case::monday_0800("2024-03-04T01:00:00Z", false)]
fn out_of_hours_follows_local_time(#[case] at: &str, #[case] fires: bool) {
    let alerts = watch().observe_access(&read(utc(at), "op-1", "operator", 1));
    assert_eq!(
        rules(&alerts),
        if fires {
            vec![Rule::OutOfHours]
        } else {
            vec![]
        },
        "{at}"
    );
}

#[test]
fn out_of_hours_detail_names_local_time_and_hours() {
    let alerts = watch().observe_access(&read(utc("2024-03-08T17:30:00Z"), "op-1", "operator", 3));
    assert_eq!(
        alerts[0].detail,
        "read 3 resident record(s) at 00:30 local time (UTC+07:00) on a Sat; working hours \
         are 07:00-17:00 on Mon, Tue, Wed, Thu, Fri"
    );
}

#[test]
fn out_of_hours_fires_once_per_actor_per_local_day() {
    let mut w = watch();
    let events = [
        // Tue 05:00 local, UTC Monday.
        read(utc("2024-03-04T22:00:00Z"), "op-1", "operator", 1),
        // Tue 06:30 local: same local day.
        read(utc("2024-03-04T23:30:00Z"), "op-1", "operator", 1),
        // Another actor the same night: its own alert.
        read(utc("2024-03-04T23:31:00Z"), "op-2", "operator", 1),
        // Tue 18:00 local, UTC Tuesday: a different UTC date, the same local day.
        read(utc("2024-03-05T11:00:00Z"), "op-1", "operator", 1),
        // Wed 00:30 local, still UTC Tuesday: the same UTC date, a new local day.
        read(utc("2024-03-05T17:30:00Z"), "op-1", "operator", 1),
    ];
    let alerts = accesses_raising(&mut w, &events, Rule::OutOfHours);
    let got: Vec<_> = alerts.iter().map(|a| (a.subject.as_str(), a.at)).collect();
    assert_eq!(
        got,
        [
            ("op-1", utc("2024-03-04T22:00:00Z")),
            ("op-2", utc("2024-03-04T23:31:00Z")),
            ("op-1", utc("2024-03-05T17:30:00Z")),
        ]
    );
}

#[test]
fn out_of_hours_ignores_requests_that_read_no_resident() {
    let night = utc("2024-03-04T20:00:00Z");
    let mut w = watch();
    assert!(
        w.observe_access(&read(night, "op-1", "operator", 0))
            .is_empty()
    );
    assert!(w.observe_access(&denied(night, "op-1")).is_empty());
}

#[test]
fn out_of_hours_leaves_clients_alone_unless_configured() -> TestResult {
    let night = utc("2024-03-04T20:00:00Z");
    let client = AccessEvent {
        actor_kind: ActorKind::Client,
        ..read(night, "bank-x", "agency_analyst", 1)
    };
    assert!(watch().observe_access(&client).is_empty());
    let mut w = watch_from("[out_of_hours]\ninclude_clients = true")?;
    assert_eq!(rules(&w.observe_access(&client)), [Rule::OutOfHours]);
    Ok(())
}

#[test]
fn configured_working_days_and_offset_override_the_defaults() -> TestResult {
    // Saturday 10:00 WIB is 11:00 WITA (UTC+8).
    let saturday = utc("2024-03-09T03:00:00Z");
    let mut w = watch_from(
        r#"
        [out_of_hours]
        utc_offset_minutes = 480
        start = "08:00"
        end = "12:00"
        days = ["Sat"]
        "#,
    )?;
    assert!(
        w.observe_access(&read(saturday, "op-1", "operator", 1))
            .is_empty()
    );
    // 12:00 WITA: the (shortened) day has ended.
    let noon = utc("2024-03-09T04:00:00Z");
    assert_eq!(
        rules(&w.observe_access(&read(noon, "op-1", "operator", 1))),
        [Rule::OutOfHours]
    );
    // Monday is no longer a working day.
    let monday = monday_morning() + TimeDelta::days(7);
    assert_eq!(
        rules(&w.observe_access(&read(monday, "op-1", "operator", 1))),
        [Rule::OutOfHours]
    );
    Ok(())
}

// ---------------------------------------------------------------- volume outlier

#[test]
fn volume_without_peers_uses_the_floor() {
    let t = monday_morning();
    let mut w = watch();
    // 5 × 100 = 500: at the floor, not above it.
    for i in 0..5 {
        assert!(
            w.observe_access(&read(t + secs(i), "op-1", "operator", 100))
                .is_empty()
        );
    }
    let alerts = w.observe_access(&read(t + secs(5), "op-1", "operator", 1));
    assert_eq!(rules(&alerts), [Rule::VolumeOutlier]);
    assert_eq!(alerts[0].subject, "op-1");
    assert_eq!(
        alerts[0].detail,
        "read 501 resident record(s) within 1 h, above the limit 500 (the floor 500; no peer \
         with the same role active)"
    );
}

/// Peers read 100, 200 and 300 (median 200, limit 2,000); registrars read 10 each, which
/// would drag the median to 55 (limit 550) if roles were mixed.
fn peers_then(w: &mut Watch, t: DateTime<Utc>) {
    for (actor, role, n) in [
        ("op-a", "operator", 100),
        ("op-b", "operator", 200),
        ("op-c", "operator", 300),
        ("reg-a", "registrar", 10),
        ("reg-b", "registrar", 10),
        ("reg-c", "registrar", 10),
    ] {
        assert!(w.observe_access(&read(t, actor, role, n)).is_empty());
    }
    let client = AccessEvent {
        actor_kind: ActorKind::Client,
        ..read(t, "bank-x", "operator", 1)
    };
    // A client with the same role string is not an operator's peer either.
    assert!(w.observe_access(&client).is_empty());
}

#[test]
fn volume_compares_with_the_median_of_peers_of_the_same_role() {
    let t = monday_morning();
    let mut w = watch();
    peers_then(&mut w, t);
    assert!(
        w.observe_access(&read(t + secs(1), "op-x", "operator", 2000))
            .is_empty(),
        "2,000 is 10 x the median 200: not above it"
    );
    let alerts = w.observe_access(&read(t + secs(2), "op-x", "operator", 1));
    assert_eq!(rules(&alerts), [Rule::VolumeOutlier]);
    assert_eq!(
        alerts[0].detail,
        "read 2001 resident record(s) within 1 h, above the limit 2000 (10 x the median 200 \
         of 3 peer(s) with the same role, floor 500)"
    );
}

#[test]
fn volume_median_of_an_even_number_of_peers_averages_the_middle_two() {
    let t = monday_morning();
    let mut w = watch();
    for (actor, n) in [("a", 100), ("b", 150), ("c", 151), ("d", 400)] {
        w.observe_access(&read(t, actor, "operator", n));
    }
    // Median 150.5, limit 1,505.
    assert!(w.observe_access(&read(t, "x", "operator", 1505)).is_empty());
    let alerts = w.observe_access(&read(t, "x", "operator", 1));
    assert_eq!(rules(&alerts), [Rule::VolumeOutlier]);
    assert!(alerts[0].detail.contains("median 150.5 of 4 peer(s)"));
}

#[test]
fn volume_leaves_the_actor_out_of_its_own_median() {
    let t = monday_morning();
    let mut w = watch();
    w.observe_access(&read(t, "quiet", "operator", 60));
    // Limit max(10 x 60, 500) = 600. Counting the actor itself, the median of 60 and 601
    // would be 330.5 and the limit 3,305.
    assert!(
        w.observe_access(&read(t, "heavy", "operator", 600))
            .is_empty()
    );
    assert_eq!(
        rules(&w.observe_access(&read(t, "heavy", "operator", 1))),
        [Rule::VolumeOutlier]
    );
}

#[test]
fn volume_forgets_reads_older_than_the_window() {
    let t = monday_morning();
    // 300 + 300 an hour apart never make 600 within the hour...
    let spread = [
        read(t, "op-1", "operator", 300),
        read(t + secs(3600), "op-1", "operator", 300),
    ];
    assert!(accesses_raising(&mut watch(), &spread, Rule::VolumeOutlier).is_empty());
    // ... one second earlier they do.
    let tight = [
        read(t, "op-1", "operator", 300),
        read(t + secs(3599), "op-1", "operator", 300),
    ];
    assert_eq!(
        accesses_raising(&mut watch(), &tight, Rule::VolumeOutlier).len(),
        1
    );
}

#[test]
fn volume_peers_whose_reads_expired_no_longer_count() {
    let t = monday_morning();
    let mut w = watch();
    // A peer reading 1,000 makes the limit 10,000 for the next hour...
    w.observe_access(&read(t, "busy", "operator", 1000));
    assert!(
        w.observe_access(&read(t + secs(1800), "op-1", "operator", 600))
            .is_empty()
    );
    // ... and once its reads leave the window, only the floor is left.
    assert_eq!(
        rules(&w.observe_access(&read(t + secs(3600), "op-1", "operator", 1))),
        [Rule::VolumeOutlier]
    );
}

#[test]
fn volume_peers_with_nothing_left_in_the_window_are_not_counted_before_a_sweep() {
    let t = monday_morning();
    let mut w = watch();
    w.observe_access(&read(t, "gone-a", "operator", 1000));
    w.observe_access(&read(t, "gone-b", "operator", 1000));
    w.observe_access(&read(t + secs(3000), "steady", "operator", 100));
    // This event sweeps (a minute has passed) while the first two are still in the window...
    w.observe_access(&read(t + secs(3599), "op-1", "operator", 1));
    // ... and this one, a second later, does not sweep, but their reads have left the
    // window. Peers are `steady` alone (limit 1,000), not 0, 0, 100 (median 0, limit 500).
    assert!(
        w.observe_access(&read(t + secs(3600), "op-1", "operator", 599))
            .is_empty()
    );
}

#[test]
fn volume_fires_once_per_window_per_actor() {
    let t = monday_morning();
    let mut w = watch();
    // 11 residents a minute for three hours.
    let events: Vec<_> = (0..180)
        .map(|i| read(t + secs(i * 60), "op-1", "operator", 11))
        .collect();
    let times: Vec<_> = accesses_raising(&mut w, &events, Rule::VolumeOutlier)
        .iter()
        .map(|a| a.at)
        .collect();
    // 46 reads of 11 = 506 > 500 at minute 45; then every hour after it.
    assert_eq!(
        times,
        [t + secs(45 * 60), t + secs(105 * 60), t + secs(165 * 60)]
    );
}

// ---------------------------------------------------------------- new network

#[test]
fn new_network_is_silent_on_the_first_success_and_known_networks() {
    let t = monday_morning();
    let mut w = watch();
    assert!(
        w.observe_login(&success(t, "siti", "203.0.113.5"))
            .is_empty()
    );
    // Another host of the same /24.
    assert!(
        w.observe_login(&success(t + secs(60), "siti", "203.0.113.77"))
            .is_empty()
    );
    let alerts = w.observe_login(&success(t + secs(120), "siti", "198.51.100.2"));
    assert_eq!(rules(&alerts), [Rule::NewNetwork]);
    assert_eq!(alerts[0].subject, "siti");
    assert_eq!(
        alerts[0].detail,
        "successful sign-in from a network not among the 1 remembered from the account's \
         earlier sign-ins"
    );
    assert!(
        !alerts[0].detail.contains("198.51"),
        "no address in the detail"
    );
    // Now known.
    assert!(
        w.observe_login(&success(t + secs(180), "siti", "198.51.100.3"))
            .is_empty()
    );
    // Another account's first success is silent too, even from that network.
    assert!(
        w.observe_login(&success(t + secs(240), "budi", "198.51.100.4"))
            .is_empty()
    );
}

#[test]
fn new_network_learns_only_from_successes() {
    let t = monday_morning();
    let mut w = watch();
    w.observe_login(&success(t, "siti", "203.0.113.5"));
    w.observe_login(&fail(t + secs(1), "siti", "198.51.100.2"));
    assert_eq!(
        rules(&w.observe_login(&success(t + secs(2), "siti", "198.51.100.2"))),
        [Rule::NewNetwork]
    );
}

#[test]
fn new_network_groups_ipv6_by_48() {
    let t = monday_morning();
    let mut w = watch();
    w.observe_login(&success(t, "siti", "2001:db8:1:1::10"));
    assert!(
        w.observe_login(&success(t + secs(1), "siti", "2001:db8:1:ff::20"))
            .is_empty()
    );
    assert_eq!(
        rules(&w.observe_login(&success(t + secs(2), "siti", "2001:db8:2::1"))),
        [Rule::NewNetwork]
    );
}

#[test]
fn new_network_remembers_a_bounded_number_of_networks() -> TestResult {
    let t = monday_morning();
    let mut w = watch_from("[new_network]\nremembered = 2")?;
    let alerts: Vec<_> = [
        "10.0.1.1", // first: silent
        "10.0.2.1", // new
        "10.0.1.9", // known, and now the most recent
        "10.0.3.1", // new; forgets 10.0.2.0/24, the least recently used
        "10.0.1.5", // still known
        "10.0.2.1", // forgotten, so new again
    ]
    .iter()
    .enumerate()
    .map(|(i, address)| {
        let alerts = w.observe_login(&success(t + secs(i as i64), "siti", address));
        !alerts.is_empty()
    })
    .collect();
    assert_eq!(alerts, [false, true, false, true, false, true]);
    assert!(w.known_networks.get("siti").is_some_and(|k| k.len() == 2));
    Ok(())
}

// ---------------------------------------------------------------- denied burst

#[test]
fn denied_burst_fires_on_the_twentieth_denial() {
    let t = monday_morning();
    let mut w = watch();
    for i in 0..19 {
        assert!(w.observe_access(&denied(t + secs(i), "op-1")).is_empty());
        // Allowed requests in between do not count.
        assert!(
            w.observe_access(&read(t + secs(i), "op-1", "operator", 1))
                .is_empty()
        );
    }
    let alerts = w.observe_access(&denied(t + secs(19), "op-1"));
    assert_eq!(rules(&alerts), [Rule::DeniedBurst]);
    assert_eq!(alerts[0].subject, "op-1");
    assert_eq!(
        alerts[0].detail,
        "20 denied requests within 10 min (threshold 20)"
    );
}

#[test]
fn denied_burst_wider_than_the_window_does_not_fire() {
    let t = monday_morning();
    // 20 denials 32 s apart span 608 s, more than the window; 31 s apart, 589 s.
    let spread: Vec<_> = (0..20).map(|i| denied(t + secs(i * 32), "op-1")).collect();
    assert!(accesses_raising(&mut watch(), &spread, Rule::DeniedBurst).is_empty());
    let tight: Vec<_> = (0..20).map(|i| denied(t + secs(i * 31), "op-1")).collect();
    assert_eq!(
        accesses_raising(&mut watch(), &tight, Rule::DeniedBurst).len(),
        1
    );
}

#[test]
fn denied_burst_counts_per_actor_and_does_not_repeat() {
    let t = monday_morning();
    let mut w = watch();
    let events: Vec<_> = (0..60)
        .map(|i| denied(t + secs(i), if i % 2 == 0 { "op-1" } else { "op-2" }))
        .collect();
    let alerts = accesses_raising(&mut w, &events, Rule::DeniedBurst);
    let got: Vec<_> = alerts.iter().map(|a| (a.subject.as_str(), a.at)).collect();
    // Each reaches 20 at its 20th denial (op-1 at 38 s, op-2 at 39 s), and only once.
    assert_eq!(got, [("op-1", t + secs(38)), ("op-2", t + secs(39))]);
}

// ---------------------------------------------------------------- thresholds, clock, memory

#[test]
fn thresholds_from_toml_replace_the_defaults() -> TestResult {
    let t = monday_morning();
    let mut w = watch_from(
        r#"
        [brute_force]
        failures = 3
        window_secs = 60

        [denied_burst]
        denials = 2

        [volume_outlier]
        floor = 10
        "#,
    )?;
    assert_eq!(w.thresholds().brute_force.failures, 3);
    assert_eq!(w.thresholds().password_spraying.accounts, 5);
    w.observe_login(&fail(t, "siti", "203.0.113.5"));
    w.observe_login(&fail(t + secs(1), "siti", "203.0.113.5"));
    assert_eq!(
        rules(&w.observe_login(&fail(t + secs(2), "siti", "203.0.113.5"))),
        [Rule::BruteForce]
    );
    // 60 s window: three more spread over 60 s are not within it.
    let later = t + secs(1000);
    w.observe_login(&fail(later, "budi", "203.0.113.6"));
    w.observe_login(&fail(later + secs(30), "budi", "203.0.113.6"));
    assert!(
        w.observe_login(&fail(later + secs(60), "budi", "203.0.113.6"))
            .is_empty()
    );
    assert!(w.observe_access(&denied(t, "op-1")).is_empty());
    assert_eq!(
        rules(&w.observe_access(&denied(t, "op-1"))),
        [Rule::DeniedBurst]
    );
    assert_eq!(
        rules(&w.observe_access(&read(later, "op-1", "operator", 11))),
        [Rule::VolumeOutlier]
    );
    Ok(())
}

#[test]
fn invalid_thresholds_refuse_to_build_a_detector() {
    let zero = Thresholds {
        brute_force: BruteForceThresholds {
            failures: 0,
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(matches!(
        Watch::new(zero),
        Err(ThresholdsError::Zero {
            section: "brute_force",
            field: "failures"
        })
    ));
}

#[test]
fn one_event_can_raise_several_rules_in_rule_order() {
    let t = monday_morning();
    let mut w = watch();
    // `target` fails four times from one network, four other accounts from another...
    for i in 0..4 {
        assert!(
            w.observe_login(&fail(t, "target", "198.51.100.1"))
                .is_empty()
        );
        assert!(
            w.observe_login(&fail(t, &format!("a{i}"), "203.0.113.1"))
                .is_empty()
        );
    }
    // ... then `target`'s fifth failure is that network's fifth account.
    let alerts = w.observe_login(&fail(t, "target", "203.0.113.1"));
    assert_eq!(rules(&alerts), [Rule::BruteForce, Rule::PasswordSpraying]);
}

#[test]
fn late_events_are_taken_at_the_latest_time_seen() {
    let t = monday_morning();
    let mut w = watch();
    for i in 0..4 {
        w.observe_login(&fail(t + secs(100 + i), "siti", "203.0.113.5"));
    }
    // Stamped 100 s earlier than the last: counted at the latest time, so still inside.
    let alerts = w.observe_login(&fail(t, "siti", "203.0.113.5"));
    assert_eq!(rules(&alerts), [Rule::BruteForce]);
    assert_eq!(alerts[0].at, t + secs(103));
}

#[test]
fn state_older_than_the_longest_window_is_dropped() {
    let t = monday_morning();
    let mut w = watch();
    // Activity for every rule, including alerts, in the small hours.
    let night = utc("2024-03-04T20:00:00Z");
    for i in 0..30 {
        let at = night + secs(i);
        w.observe_login(&fail(at, &format!("user{i}"), &format!("198.51.{i}.1")));
        w.observe_login(&fail(at, "siti", "203.0.113.5"));
        w.observe_access(&denied(at, &format!("op-{i}")));
        w.observe_access(&denied(at, "op-x"));
        w.observe_access(&read(at, &format!("op-{i}"), "operator", 40));
    }
    w.observe_login(&success(night, "siti", "203.0.113.5"));
    assert!(w.windowed_entries() > 100);
    // A day later (past the longest window and the local day), one unrelated event.
    w.observe_login(&success(t + TimeDelta::days(2), "budi", "10.0.0.1"));
    assert_eq!(w.windowed_entries(), 0);
    // The known networks outlive the windows: siti's history is still there, so a new
    // network alerts (a forgotten account's success would be a silent first one).
    assert_eq!(
        rules(&w.observe_login(&success(t + TimeDelta::days(2), "siti", "192.0.2.1"))),
        [Rule::NewNetwork]
    );
}

#[test]
fn state_inside_the_window_survives_a_sweep() {
    let t = monday_morning();
    let mut w = watch();
    for i in 0..4 {
        w.observe_login(&fail(t + secs(i), "siti", "203.0.113.5"));
    }
    // Several sweeps happen in between (one per minute of event time).
    for m in 1..9 {
        w.observe_access(&read(t + secs(m * 60), "op-1", "operator", 1));
    }
    assert_eq!(
        rules(&w.observe_login(&fail(t + secs(590), "siti", "203.0.113.5"))),
        [Rule::BruteForce]
    );
}

// ---------------------------------------------------------------- property: against a re-count

#[derive(Debug, Clone)]
struct Attempt {
    gap_secs: i64,
    account: u8,
    network: u8,
    failed: bool,
}

fn attempt() -> impl Strategy<Value = Attempt> {
    (0i64..90, 0u8..6, 0u8..3, proptest::bool::weighted(0.8)).prop_map(
        |(gap_secs, account, network, failed)| Attempt {
            gap_secs,
            account,
            network,
            failed,
        },
    )
}

/// The windowed count rules, re-counted naively from the whole history at every event.
fn recount(
    events: &[LoginEvent],
    failures: usize,
    accounts: usize,
    window: TimeDelta,
) -> Vec<(Rule, String, DateTime<Utc>)> {
    let mut out = Vec::new();
    let mut last: std::collections::HashMap<(Rule, String), DateTime<Utc>> = Default::default();
    for (i, e) in events.iter().enumerate() {
        if !e.outcome.is_failure() {
            continue;
        }
        let recent: Vec<&LoginEvent> = events[..=i]
            .iter()
            .filter(|p| p.outcome.is_failure() && e.at - p.at < window)
            .collect();
        let network = Network::of(e.network);
        let same_account = recent.iter().filter(|p| p.account == e.account).count();
        let mut distinct: Vec<&str> = recent
            .iter()
            .filter(|p| Network::of(p.network) == network)
            .map(|p| p.account.as_str())
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        for (rule, subject, reached) in [
            (
                Rule::BruteForce,
                e.account.clone(),
                same_account >= failures,
            ),
            (
                Rule::PasswordSpraying,
                network.to_string(),
                distinct.len() >= accounts,
            ),
        ] {
            let key = (rule, subject.clone());
            if reached && last.get(&key).is_none_or(|&l| e.at - l >= window) {
                last.insert(key, e.at);
                out.push((rule, subject, e.at));
            }
        }
    }
    out
}

proptest! {
    #[test]
    fn count_rules_agree_with_a_naive_recount(attempts in proptest::collection::vec(attempt(), 1..200)) {
        let mut w = watch_from(
            "[brute_force]\nfailures = 3\nwindow_secs = 120\n[password_spraying]\naccounts = 3\nwindow_secs = 120",
        ).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut at = monday_morning();
        let events: Vec<LoginEvent> = attempts
            .iter()
            .map(|a| {
                at += secs(a.gap_secs);
                login(
                    at,
                    &format!("user{}", a.account),
                    &format!("203.0.{}.{}", a.network, a.account),
                    if a.failed { LoginOutcome::BadPassword } else { LoginOutcome::Success },
                )
            })
            .collect();
        let got: Vec<_> = events
            .iter()
            .flat_map(|e| w.observe_login(e))
            .filter(|a| a.rule != Rule::NewNetwork)
            .map(|a| (a.rule, a.subject, a.at))
            .collect();
        prop_assert_eq!(got, recount(&events, 3, 3, secs(120)));
    }
}
