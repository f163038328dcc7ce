//! What the detector raises: an [`Alert`] naming its [`Rule`], its subject and why.
//!
//! The subject is the account, actor or network the rule counted, which an auditor needs to
//! act. The detail is English for the alert list and says only counts, thresholds and times
//! of day: no address of a person, no NIK, no name, so an alert can be shown, logged and
//! exported without becoming personal data itself.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One detection rule. [`Rule::code`] is the stable identifier stored with alerts and used
/// in metrics labels; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Many failed sign-ins for one account.
    BruteForce,
    /// Failed sign-ins against many accounts from one network.
    PasswordSpraying,
    /// Resident data read outside the city's working hours.
    OutOfHours,
    /// An actor reading far more residents than its peers.
    VolumeOutlier,
    /// A successful sign-in from a network the account has not used before.
    NewNetwork,
    /// Many refused requests by one actor.
    DeniedBurst,
}

impl Rule {
    /// Every rule, in the order alerts raised by one event are returned.
    pub const ALL: [Rule; 6] = [
        Rule::BruteForce,
        Rule::PasswordSpraying,
        Rule::OutOfHours,
        Rule::VolumeOutlier,
        Rule::NewNetwork,
        Rule::DeniedBurst,
    ];

    /// The stable snake_case code (the serde name too).
    pub fn code(self) -> &'static str {
        match self {
            Rule::BruteForce => "brute_force",
            Rule::PasswordSpraying => "password_spraying",
            Rule::OutOfHours => "out_of_hours",
            Rule::VolumeOutlier => "volume_outlier",
            Rule::NewNetwork => "new_network",
            Rule::DeniedBurst => "denied_burst",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A suspicion raised by one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// The rule that fired.
    pub rule: Rule,
    /// What it is about: the account (brute force, new network), the network in CIDR
    /// notation (password spraying) or the actor (the access rules).
    pub subject: String,
    /// The time of the event that made the rule fire.
    pub at: DateTime<Utc>,
    /// Why, in English: counts, thresholds, times of day. Never personal data.
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Deserialize)]
    struct Stored {
        rule: Rule,
    }

    #[test]
    fn codes_are_stable_and_are_the_serde_names() -> Result<(), toml::de::Error> {
        let codes: Vec<&str> = Rule::ALL.iter().map(|rule| rule.code()).collect();
        assert_eq!(
            codes,
            [
                "brute_force",
                "password_spraying",
                "out_of_hours",
                "volume_outlier",
                "new_network",
                "denied_burst"
            ]
        );
        for rule in Rule::ALL {
            let stored: Stored = toml::from_str(&format!("rule = \"{}\"", rule.code()))?;
            assert_eq!(stored, Stored { rule });
            assert_eq!(rule.to_string(), rule.code());
        }
        Ok(())
    }
}
