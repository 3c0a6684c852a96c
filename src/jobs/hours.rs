//! Working hours: a mediator's phone should not buzz at 2 am.

use crate::config::WorkingHours;
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The first instant at or after `now` that falls inside working hours in
/// zone `tz`: `now` itself during working hours, otherwise the next start.
pub fn next_working_instant(now: DateTime<Utc>, tz: Tz, hours: WorkingHours) -> DateTime<Utc> {
    let local = now.with_timezone(&tz);
    let time = local.time();
    if time >= hours.start && time < hours.end {
        return now;
    }
    let day = if time >= hours.end {
        local.date_naive() + Duration::days(1)
    } else {
        local.date_naive()
    };
    let naive = NaiveDateTime::new(day, hours.start);
    // A start time that falls into a DST gap resolves to the earliest valid
    // instant after it; China has no DST, other zones may.
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
        chrono::LocalResult::None => {
            let later = naive + Duration::hours(1);
            tz.from_local_datetime(&later)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(now)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours() -> WorkingHours {
        "08:00-20:00".parse().unwrap()
    }

    fn shanghai(s: &str) -> DateTime<Utc> {
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        chrono_tz::Asia::Shanghai
            .from_local_datetime(&naive)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn during_working_hours_the_moment_is_now() {
        let t = shanghai("2026-11-21 10:30");
        assert_eq!(
            next_working_instant(t, chrono_tz::Asia::Shanghai, hours()),
            t
        );
    }

    #[test]
    fn at_two_in_the_morning_it_waits_until_eight() {
        let t = shanghai("2026-11-21 02:00");
        assert_eq!(
            next_working_instant(t, chrono_tz::Asia::Shanghai, hours()),
            shanghai("2026-11-21 08:00")
        );
    }

    #[test]
    fn in_the_evening_it_waits_until_the_next_morning() {
        let t = shanghai("2026-11-21 21:15");
        assert_eq!(
            next_working_instant(t, chrono_tz::Asia::Shanghai, hours()),
            shanghai("2026-11-22 08:00")
        );
    }
}
