//! Deadlines counted the way urban-management standards count them: in calendar hours,
//! working hours or working days, on a working calendar where weekdays work and weekends
//! rest unless the city says otherwise (public holidays, and the make-up working days that
//! China's holiday schedule moves onto weekends, 调休). Office hours are 08:30–12:00 and
//! 13:30–17:30 in the city's time zone.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};

use crate::domain::Severity;

pub use entity::vocabulary::DeadlineUnit;

pub use entity::vocabulary::DayKind;

fn at(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

/// The office periods of a working day.
fn periods() -> [(NaiveTime, NaiveTime); 2] {
    [(at(8, 30), at(12, 0)), (at(13, 30), at(17, 30))]
}

#[derive(Clone, Debug, Default)]
pub struct WorkingCalendar {
    overrides: HashMap<NaiveDate, DayKind>,
}

impl WorkingCalendar {
    pub fn new(overrides: impl IntoIterator<Item = (NaiveDate, DayKind)>) -> Self {
        Self {
            overrides: overrides.into_iter().collect(),
        }
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        match self.overrides.get(&day) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// When a case filed at `start` with a limit of `amount` `unit`s is due.
    pub fn deadline(
        &self,
        start: DateTime<Utc>,
        amount: i64,
        unit: DeadlineUnit,
        city: chrono_tz::Tz,
    ) -> DateTime<Utc> {
        let amount = amount.max(1);
        let to_utc = |date: NaiveDate, time: NaiveTime| {
            city.from_local_datetime(&date.and_time(time))
                .earliest()
                .map_or(start, |t| t.with_timezone(&Utc))
        };
        match unit {
            DeadlineUnit::CalendarHours => start + Duration::hours(amount),
            DeadlineUnit::WorkingDays => {
                // The close of office on the amount-th working day after the filing day.
                let mut day = start.with_timezone(&city).date_naive();
                let mut left = amount;
                for _ in 0..3660 {
                    day = day.succ_opt().unwrap_or(day);
                    if self.is_working_day(day) {
                        left -= 1;
                        if left == 0 {
                            break;
                        }
                    }
                }
                to_utc(day, periods()[1].1)
            }
            DeadlineUnit::WorkingHours => {
                let local = start.with_timezone(&city).naive_local();
                let mut left = Duration::hours(amount);
                let mut day = local.date();
                for _ in 0..3660 {
                    if self.is_working_day(day) {
                        for (open, close) in periods() {
                            let from = if day == local.date() {
                                open.max(local.time())
                            } else {
                                open
                            };
                            if from >= close {
                                continue;
                            }
                            let available = close - from;
                            if left <= available {
                                return to_utc(day, from + left);
                            }
                            left -= available;
                        }
                    }
                    day = day.succ_opt().unwrap_or(day);
                }
                start + Duration::hours(amount)
            }
        }
    }
}

/// Urgent cases get half the category's limit (at least one unit).
pub fn amount_for(severity: Severity, amount: i64) -> i64 {
    match severity {
        Severity::Urgent => (amount + 1) / 2,
        _ => amount,
    }
    .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CITY: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        CITY.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// National Day 2025: 1–8 October off; Sunday 28 September and Saturday 11 October
    /// worked instead (调休).
    fn national_day_2025() -> WorkingCalendar {
        let mut overrides: Vec<(NaiveDate, DayKind)> = (1..=8)
            .map(|d| (day(2025, 10, d), DayKind::Holiday))
            .collect();
        overrides.push((day(2025, 9, 28), DayKind::Workday));
        overrides.push((day(2025, 10, 11), DayKind::Workday));
        WorkingCalendar::new(overrides)
    }

    #[test]
    fn calendar_hours_ignore_the_calendar() {
        let start = local(2025, 10, 1, 9, 0);
        assert_eq!(
            national_day_2025().deadline(start, 24, DeadlineUnit::CalendarHours, CITY),
            start + Duration::hours(24)
        );
    }

    #[test]
    fn working_hours_skip_lunch_nights_and_weekends() {
        let calendar = WorkingCalendar::default();
        // Friday 2026-11-20 11:00 + 2 working hours: 1 h before lunch, 1 h after → 14:30.
        assert_eq!(
            calendar.deadline(
                local(2026, 11, 20, 11, 0),
                2,
                DeadlineUnit::WorkingHours,
                CITY
            ),
            local(2026, 11, 20, 14, 30)
        );
        // Friday 17:00 + 1 h: 30 min on Friday, 30 min on Monday → Monday 09:00.
        assert_eq!(
            calendar.deadline(
                local(2026, 11, 20, 17, 0),
                1,
                DeadlineUnit::WorkingHours,
                CITY
            ),
            local(2026, 11, 23, 9, 0)
        );
        // Filed at night: counting starts next morning.
        assert_eq!(
            calendar.deadline(
                local(2026, 11, 18, 22, 0),
                4,
                DeadlineUnit::WorkingHours,
                CITY
            ),
            local(2026, 11, 19, 14, 0)
        );
    }

    #[test]
    fn holidays_pause_and_make_up_days_count() {
        let calendar = national_day_2025();
        assert!(!calendar.is_working_day(day(2025, 10, 3)));
        assert!(
            calendar.is_working_day(day(2025, 9, 28)),
            "a Sunday worked (调休)"
        );
        // Filed Tuesday 30 September 16:00 with 4 working hours: 1.5 h that day, then the
        // holiday; Thursday 9 October (a normal Thursday) 08:30 + 2.5 h = 11:00.
        assert_eq!(
            calendar.deadline(
                local(2025, 9, 30, 16, 0),
                4,
                DeadlineUnit::WorkingHours,
                CITY
            ),
            local(2025, 10, 9, 11, 0)
        );
        // Filed Friday 26 September, 2 working days: Sunday 28 (make-up) and Monday 29.
        assert_eq!(
            calendar.deadline(
                local(2025, 9, 26, 10, 0),
                2,
                DeadlineUnit::WorkingDays,
                CITY
            ),
            local(2025, 9, 29, 17, 30)
        );
        // Filed on a holiday, 3 working days: 9, 10 and Saturday 11 October (make-up).
        assert_eq!(
            calendar.deadline(
                local(2025, 10, 2, 10, 0),
                3,
                DeadlineUnit::WorkingDays,
                CITY
            ),
            local(2025, 10, 11, 17, 30)
        );
    }

    #[test]
    fn urgent_cases_get_half_the_limit() {
        assert_eq!(amount_for(Severity::Urgent, 24), 12);
        assert_eq!(amount_for(Severity::Urgent, 1), 1);
        assert_eq!(amount_for(Severity::Normal, 24), 24);
    }
}
