//! The numbers of the rules: [`Thresholds`], one section per rule, with the defaults the hub
//! uses and their reasons, and the check that turns them into the validated limits the
//! detector runs on.
//!
//! Settings deserialize it from a `[watch]`-style TOML table; every section and field may be
//! left out (`#[serde(default)]`) and an unknown key is an error (`deny_unknown_fields`), so a
//! misspelt threshold stops start-up instead of silently keeping the default:
//!
//! ```toml
//! [brute_force]
//! failures = 5
//! window_secs = 600
//!
//! [out_of_hours]
//! utc_offset_minutes = 420    # WIB; 480 for WITA, 540 for WIT
//! start = "07:00"
//! end = "17:00"
//! days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
//! ```

use chrono::{FixedOffset, NaiveTime, TimeDelta, Weekday};
use serde::{Deserialize, Serialize};

/// The longest window any rule accepts, in seconds (31 days). State is kept for the longest
/// window, so this bounds memory; a rule that needs more history belongs in a batch report.
pub const MAX_WINDOW_SECS: u64 = 31 * 24 * 60 * 60;

/// All thresholds. `Default` is what the hub uses; settings may override any field.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Rule `brute_force`.
    pub brute_force: BruteForceThresholds,
    /// Rule `password_spraying`.
    pub password_spraying: SprayingThresholds,
    /// Rule `out_of_hours`.
    pub out_of_hours: WorkingHours,
    /// Rule `volume_outlier`.
    pub volume_outlier: VolumeThresholds,
    /// Rule `new_network`.
    pub new_network: NewNetworkThresholds,
    /// Rule `denied_burst`.
    pub denied_burst: DeniedBurstThresholds,
}

/// Failed sign-ins for one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BruteForceThresholds {
    /// Failures within the window that raise the alert. Default 5: the throttle
    /// (`simpul-identity`) starts delaying after 3, so 5 means someone kept going.
    pub failures: u32,
    /// The window, in seconds. Default 600 (10 minutes).
    pub window_secs: u64,
}

impl Default for BruteForceThresholds {
    fn default() -> Self {
        Self {
            failures: 5,
            window_secs: 10 * 60,
        }
    }
}

/// Failed sign-ins against many accounts from one network (/24 or /48).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SprayingThresholds {
    /// Distinct accounts (usernames, known or not) failing from one network within the
    /// window. Default 5: one office shares a network, but five colleagues all mistyping
    /// within ten minutes is rare.
    pub accounts: u32,
    /// The window, in seconds. Default 600 (10 minutes).
    pub window_secs: u64,
}

impl Default for SprayingThresholds {
    fn default() -> Self {
        Self {
            accounts: 5,
            window_secs: 10 * 60,
        }
    }
}

/// The city's working hours, outside which reading resident data raises `out_of_hours`.
/// A read is inside working hours when its local weekday is one of `days` and its local
/// time is at or after `start` and before `end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkingHours {
    /// The city's offset from UTC, in minutes. Default 420 (UTC+7, WIB, Asia/Jakarta).
    /// Indonesia has kept fixed offsets without daylight saving since 1988, so a fixed
    /// offset is exact and needs no time-zone database.
    pub utc_offset_minutes: i32,
    /// Local start of the working day, `"HH:MM"`. Default `"07:00"`.
    pub start: NaiveTime,
    /// Local end of the working day, `"HH:MM"`, exclusive: a read at exactly this time is
    /// out of hours. Default `"17:00"`.
    pub end: NaiveTime,
    /// Working weekdays (`"Mon"` or `"Monday"`, any case). Default Monday to Friday;
    /// Saturday and Sunday are out of hours unless listed. Public holidays are not modelled.
    pub days: Vec<Weekday>,
    /// Whether machine clients are checked too. Default `false`: agency systems (a bank's
    /// account opening, BPJS) verify NIKs around the clock by design, so flagging them every
    /// night would bury the alerts about people.
    pub include_clients: bool,
}

impl Default for WorkingHours {
    fn default() -> Self {
        Self {
            utc_offset_minutes: 7 * 60,
            start: NaiveTime::MIN + TimeDelta::hours(7),
            end: NaiveTime::MIN + TimeDelta::hours(17),
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            include_clients: false,
        }
    }
}

/// An actor reading far more residents than its peers (same kind, same role).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VolumeThresholds {
    /// The sliding window, in seconds. Default 3600 (1 hour).
    pub window_secs: u64,
    /// An actor is an outlier above `peer_factor` × the median of its peers' totals (whole
    /// number). Default 10: a busy counter reads a few times more than a quiet one, never
    /// ten times more.
    pub peer_factor: u32,
    /// The limit is never below this many residents in the window, and is exactly this
    /// when the actor has no peer active. Default 500: about a kelurahan counter's busiest
    /// day, read within one hour.
    pub floor: u64,
}

impl Default for VolumeThresholds {
    fn default() -> Self {
        Self {
            window_secs: 60 * 60,
            peer_factor: 10,
            floor: 500,
        }
    }
}

/// A successful sign-in from a network the account has not used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewNetworkThresholds {
    /// How many networks are remembered per account, most recently used first; older
    /// ones are forgotten and alert again. Default 32: an office, a home, a few mobile
    /// carriers' blocks, with room to spare, at a few hundred bytes per account.
    pub remembered: u32,
}

impl Default for NewNetworkThresholds {
    fn default() -> Self {
        Self { remembered: 32 }
    }
}

/// Many refused requests by one actor: someone probing residents outside their region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeniedBurstThresholds {
    /// Denials within the window that raise the alert. Default 20: a misconfigured screen
    /// produces a few, a script walking NIKs of another kecamatan produces dozens.
    pub denials: u32,
    /// The window, in seconds. Default 600 (10 minutes).
    pub window_secs: u64,
}

impl Default for DeniedBurstThresholds {
    fn default() -> Self {
        Self {
            denials: 20,
            window_secs: 10 * 60,
        }
    }
}

/// Why [`Thresholds`] were refused. Names the setting, never a value from elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdsError {
    /// A count that must be positive is zero.
    #[error("{section}.{field} must be at least 1")]
    Zero {
        section: &'static str,
        field: &'static str,
    },
    /// A window is zero or longer than [`MAX_WINDOW_SECS`].
    #[error("{section}.window_secs must be between 1 and {MAX_WINDOW_SECS}")]
    Window { section: &'static str },
    /// The UTC offset is a day or more.
    #[error("out_of_hours.utc_offset_minutes must lie strictly between -1440 and 1440")]
    UtcOffset,
    /// The working day ends before it starts (or is empty).
    #[error("out_of_hours.start must be earlier than out_of_hours.end")]
    WorkingDay,
}

impl Thresholds {
    /// Checks every section; the detector refuses thresholds that fail this.
    pub fn validate(&self) -> Result<(), ThresholdsError> {
        Limits::new(self).map(|_| ())
    }
}

/// Validated thresholds in the units the detector computes with.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub brute_force_failures: usize,
    pub brute_force_window: TimeDelta,
    pub spraying_accounts: usize,
    pub spraying_window: TimeDelta,
    pub offset: FixedOffset,
    pub day_start: NaiveTime,
    pub day_end: NaiveTime,
    /// Indexed by `Weekday::num_days_from_monday`.
    pub working_days: [bool; 7],
    pub out_of_hours_clients: bool,
    pub volume_window: TimeDelta,
    pub peer_factor: u32,
    pub volume_floor: u64,
    pub remembered_networks: usize,
    pub denials: usize,
    pub denied_window: TimeDelta,
}

impl Limits {
    pub fn new(t: &Thresholds) -> Result<Self, ThresholdsError> {
        let offset = FixedOffset::east_opt(
            t.out_of_hours
                .utc_offset_minutes
                .checked_mul(60)
                .ok_or(ThresholdsError::UtcOffset)?,
        )
        .ok_or(ThresholdsError::UtcOffset)?;
        if t.out_of_hours.start >= t.out_of_hours.end {
            return Err(ThresholdsError::WorkingDay);
        }
        let mut working_days = [false; 7];
        for day in &t.out_of_hours.days {
            if let Some(slot) = working_days.get_mut(day.num_days_from_monday() as usize) {
                *slot = true;
            }
        }
        Ok(Self {
            brute_force_failures: count(t.brute_force.failures, "brute_force", "failures")?,
            brute_force_window: window(t.brute_force.window_secs, "brute_force")?,
            spraying_accounts: count(
                t.password_spraying.accounts,
                "password_spraying",
                "accounts",
            )?,
            spraying_window: window(t.password_spraying.window_secs, "password_spraying")?,
            offset,
            day_start: t.out_of_hours.start,
            day_end: t.out_of_hours.end,
            working_days,
            out_of_hours_clients: t.out_of_hours.include_clients,
            volume_window: window(t.volume_outlier.window_secs, "volume_outlier")?,
            peer_factor: t.volume_outlier.peer_factor,
            volume_floor: t.volume_outlier.floor,
            remembered_networks: count(t.new_network.remembered, "new_network", "remembered")?,
            denials: count(t.denied_burst.denials, "denied_burst", "denials")?,
            denied_window: window(t.denied_burst.window_secs, "denied_burst")?,
        })
    }
}

fn count(value: u32, section: &'static str, field: &'static str) -> Result<usize, ThresholdsError> {
    match usize::try_from(value) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ThresholdsError::Zero { section, field }),
    }
}

fn window(secs: u64, section: &'static str) -> Result<TimeDelta, ThresholdsError> {
    if !(1..=MAX_WINDOW_SECS).contains(&secs) {
        return Err(ThresholdsError::Window { section });
    }
    i64::try_from(secs)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .ok_or(ThresholdsError::Window { section })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn defaults_are_the_documented_numbers() {
        let t = Thresholds::default();
        assert_eq!(
            (t.brute_force.failures, t.brute_force.window_secs),
            (5, 600)
        );
        assert_eq!(
            (
                t.password_spraying.accounts,
                t.password_spraying.window_secs
            ),
            (5, 600)
        );
        assert_eq!(t.out_of_hours.utc_offset_minutes, 420);
        assert_eq!(t.out_of_hours.start.to_string(), "07:00:00");
        assert_eq!(t.out_of_hours.end.to_string(), "17:00:00");
        assert_eq!(
            t.out_of_hours.days,
            [
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri
            ]
        );
        assert!(!t.out_of_hours.include_clients);
        assert_eq!(
            (
                t.volume_outlier.window_secs,
                t.volume_outlier.peer_factor,
                t.volume_outlier.floor
            ),
            (3600, 10, 500)
        );
        assert_eq!(t.new_network.remembered, 32);
        assert_eq!(
            (t.denied_burst.denials, t.denied_burst.window_secs),
            (20, 600)
        );
        assert_eq!(t.validate(), Ok(()));
    }

    #[test]
    fn toml_overrides_only_what_it_names() -> Result<(), toml::de::Error> {
        let t: Thresholds = toml::from_str(
            r#"
            [brute_force]
            failures = 3

            [out_of_hours]
            utc_offset_minutes = 480
            start = "08:30"
            end = "16:00"
            days = ["Mon", "tuesday", "WED", "Thu", "Fri", "Sat"]
            include_clients = true

            [volume_outlier]
            floor = 50
            "#,
        )?;
        let d = Thresholds::default();
        assert_eq!(t.brute_force.failures, 3);
        assert_eq!(t.brute_force.window_secs, d.brute_force.window_secs);
        assert_eq!(t.out_of_hours.utc_offset_minutes, 480);
        assert_eq!(t.out_of_hours.start.to_string(), "08:30:00");
        assert_eq!(t.out_of_hours.end.to_string(), "16:00:00");
        assert_eq!(t.out_of_hours.days.len(), 6);
        assert_eq!(t.out_of_hours.days[1], Weekday::Tue);
        assert!(t.out_of_hours.include_clients);
        assert_eq!(t.volume_outlier.floor, 50);
        assert_eq!(t.volume_outlier.peer_factor, d.volume_outlier.peer_factor);
        assert_eq!(t.password_spraying, d.password_spraying);
        assert_eq!(t.denied_burst, d.denied_burst);
        assert_eq!(t.new_network, d.new_network);
        Ok(())
    }

    #[test]
    fn an_empty_table_is_the_defaults() -> Result<(), toml::de::Error> {
        assert_eq!(toml::from_str::<Thresholds>("")?, Thresholds::default());
        Ok(())
    }

    #[rstest]
    #[case("bruteforce = {}")]
    #[case("[brute_force]\nfailure = 3")]
    #[case("[out_of_hours]\nstart = \"7 am\"")]
    #[case("[out_of_hours]\ndays = [\"Funday\"]")]
    fn unknown_or_malformed_keys_are_refused(#[case] text: &str) {
        assert!(toml::from_str::<Thresholds>(text).is_err(), "{text}");
    }

    #[rstest]
    #[case("[brute_force]\nfailures = 0", ThresholdsError::Zero { section: "brute_force", field: "failures" })]
    #[case("[password_spraying]\naccounts = 0", ThresholdsError::Zero { section: "password_spraying", field: "accounts" })]
    #[case("[new_network]\nremembered = 0", ThresholdsError::Zero { section: "new_network", field: "remembered" })]
    #[case("[denied_burst]\ndenials = 0", ThresholdsError::Zero { section: "denied_burst", field: "denials" })]
    #[case("[denied_burst]\nwindow_secs = 0", ThresholdsError::Window { section: "denied_burst" })]
    #[case("[volume_outlier]\nwindow_secs = 2678401", ThresholdsError::Window { section: "volume_outlier" })]
    #[case(
        "[out_of_hours]\nutc_offset_minutes = 1440",
        ThresholdsError::UtcOffset
    )]
    #[case(
        "[out_of_hours]\nutc_offset_minutes = -2147483648",
        ThresholdsError::UtcOffset
    )]
    #[case(
        "[out_of_hours]\nstart = \"17:00\"\nend = \"07:00\"",
        ThresholdsError::WorkingDay
    )]
    #[case(
        "[out_of_hours]\nstart = \"09:00\"\nend = \"09:00\"",
        ThresholdsError::WorkingDay
    )]
    fn invalid_numbers_are_refused(
        #[case] text: &str,
        #[case] expected: ThresholdsError,
    ) -> Result<(), toml::de::Error> {
        let t: Thresholds = toml::from_str(text)?;
        assert_eq!(t.validate(), Err(expected));
        Ok(())
    }
}
