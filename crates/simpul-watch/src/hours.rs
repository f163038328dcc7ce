//! Working hours in the city's local time: whether an instant falls inside them, and which
//! local day it belongs to (the unit of the out-of-hours rule's de-duplication).
//!
//! Everything is computed in local time, never UTC: 23:30 UTC on a Sunday is 06:30 on
//! Monday in Madiun, so it is a Monday read, before opening.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc, Weekday};

use crate::thresholds::Limits;

/// Where an instant falls in the city's week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LocalMoment {
    pub date: NaiveDate,
    pub weekday: Weekday,
    pub time: NaiveTime,
    pub in_hours: bool,
}

pub(crate) fn classify(limits: &Limits, at: DateTime<Utc>) -> LocalMoment {
    let local = at.with_timezone(&limits.offset);
    let weekday = local.weekday();
    let time = local.time();
    let working_day = limits
        .working_days
        .get(weekday.num_days_from_monday() as usize)
        .copied()
        .unwrap_or(false);
    LocalMoment {
        date: local.date_naive(),
        weekday,
        time,
        in_hours: working_day && limits.day_start <= time && time < limits.day_end,
    }
}

/// The working days as text for alert details, e.g. `Mon, Tue, Wed, Thu, Fri`.
pub(crate) fn describe_days(limits: &Limits) -> String {
    let names: Vec<String> = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ]
    .into_iter()
    .filter(|day| {
        limits
            .working_days
            .get(day.num_days_from_monday() as usize)
            .copied()
            .unwrap_or(false)
    })
    .map(|day| day.to_string())
    .collect();
    if names.is_empty() {
        "no day".to_owned()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::thresholds::{Thresholds, ThresholdsError};
    use rstest::rstest;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().expect("test timestamp")
    }

    // 2024-03-04 is a Monday; 2024-03-08 a Friday.
    #[rstest]
    #[case("2024-03-03T23:59:00Z", false, "2024-03-04")] // Mon 06:59 local
    #[case("2024-03-04T00:00:00Z", true, "2024-03-04")] // Mon 07:00 local
    #[case("2024-03-08T09:59:59Z", true, "2024-03-08")] // Fri 16:59:59 local
    #[case("2024-03-08T10:00:00Z", false, "2024-03-08")] // Fri 17:00 local
    #[case("2024-03-09T03:00:00Z", false, "2024-03-09")] // Sat 10:00 local
    #[case("2024-03-08T17:30:00Z", false, "2024-03-09")] // Fri UTC, Sat 00:30 local
    fn local_time_decides(
        #[case] at: &str,
        #[case] in_hours: bool,
        #[case] local_date: &str,
    ) -> Result<(), ThresholdsError> {
        let limits = Limits::new(&Thresholds::default())?;
        let moment = classify(&limits, utc(at));
        assert_eq!(moment.in_hours, in_hours, "{at}");
        assert_eq!(moment.date.to_string(), local_date, "{at}");
        Ok(())
    }

    #[test]
    fn days_are_described_in_week_order() -> Result<(), ThresholdsError> {
        let limits = Limits::new(&Thresholds::default())?;
        assert_eq!(describe_days(&limits), "Mon, Tue, Wed, Thu, Fri");
        Ok(())
    }
}
