//! Practice-local calendar dates and months. Dates are ISO `YYYY-MM-DD` everywhere.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Serialize, Serializer};
use std::fmt;

use crate::{Error, Result};

pub type Date = NaiveDate;

/// Parses a strict ISO date; `field` names the input in the error.
pub fn parse_date(field: &str, s: &str) -> Result<Date> {
    let s = s.trim();
    parse_iso(s).ok_or_else(|| Error::validation(field, format!("'{s}' is not a date (use YYYY-MM-DD)")))
}

/// `YYYY-MM-DD` by fixed positions: the registry reads hundreds of thousands of stored dates
/// per caseload, so this avoids a general-purpose format parser.
pub fn parse_iso(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + (c - b'0') as u32))
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

/// Today's practice-local date, from the machine's clock.
pub fn today() -> Date {
    chrono::Local::now().date_naive()
}

/// Clinical events cannot be recorded ahead of time.
pub fn not_in_future(field: &str, d: Date) -> Result<()> {
    if d > today() {
        return Err(Error::validation(field, format!("{d} is in the future")));
    }
    Ok(())
}

pub fn days_between(from: Date, to: Date) -> i64 {
    (to - from).num_days()
}

pub fn add_days(d: Date, days: i64) -> Date {
    d + chrono::Duration::days(days)
}

/// `d` plus whole calendar months; the day is clamped to the end of a shorter month.
pub fn add_months(d: Date, months: i32) -> Date {
    if months >= 0 {
        d.checked_add_months(Months::new(months as u32)).expect("date in range")
    } else {
        d.checked_sub_months(Months::new(months.unsigned_abs())).expect("date in range")
    }
}

/// Whole weeks from `start` to `as_of` (spec §4: floor((T − S) / 7 days)).
/// Age in whole years on `on` (a birthday counts from its day; 29 February from 1 March).
pub fn age_on(dob: Date, on: Date) -> i64 {
    use chrono::Datelike;
    let mut years = i64::from(on.year() - dob.year());
    if (on.month(), on.day()) < (dob.month(), dob.day()) {
        years -= 1;
    }
    years
}

pub fn whole_weeks(start: Date, as_of: Date) -> i64 {
    days_between(start, as_of).div_euclid(7)
}

/// A calendar month, the unit of billing (spec §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn of(d: Date) -> Month {
        Month { year: d.year(), month: d.month() }
    }

    pub fn parse(field: &str, s: &str) -> Result<Month> {
        let bad = || Error::validation(field, format!("'{s}' is not a month (use YYYY-MM)"));
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Month { year, month })
    }

    pub fn first_day(self) -> Date {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("valid month")
    }

    pub fn last_day(self) -> Date {
        self.next().first_day().pred_opt().expect("date in range")
    }

    pub fn next(self) -> Month {
        self.plus(1)
    }

    pub fn plus(self, months: i32) -> Month {
        Month::of(add_months(self.first_day(), months))
    }

    /// Months from `self` to `later` (0 for the same month).
    pub fn months_until(self, later: Month) -> i32 {
        (later.year - self.year) * 12 + later.month as i32 - self.month as i32
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Serialize for Month {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Read back from its JSON (a practice server's answer to `cocm --server`).
impl<'de> serde::Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Month::parse("month", &text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        parse_date("d", s).unwrap()
    }

    #[test]
    fn parses_only_strict_iso_dates() {
        assert_eq!(d("2026-02-28"), NaiveDate::from_ymd_opt(2026, 2, 28).unwrap());
        for bad in ["2026-02-30", "2026-2-3", "26-02-03", "yesterday", "", "2026/02/03"] {
            let e = parse_date("date", bad).unwrap_err();
            assert_eq!(e.code(), "validation");
            assert!(e.to_string().starts_with("date:"), "{e}");
        }
    }

    #[test]
    fn whole_weeks_floor() {
        assert_eq!(whole_weeks(d("2026-01-01"), d("2026-01-07")), 0);
        assert_eq!(whole_weeks(d("2026-01-01"), d("2026-01-08")), 1);
        assert_eq!(whole_weeks(d("2026-01-01"), d("2026-03-12")), 10); // 70 days
        assert_eq!(whole_weeks(d("2026-01-01"), d("2026-03-11")), 9); // 69 days
    }

    #[test]
    fn month_arithmetic_and_ends() {
        let m = Month::parse("month", "2026-02").unwrap();
        assert_eq!(m.last_day(), d("2026-02-28"));
        assert_eq!(Month::parse("m", "2024-02").unwrap().last_day(), d("2024-02-29"));
        assert_eq!(Month::parse("m", "2026-12").unwrap().next().to_string(), "2027-01");
        assert_eq!(m.plus(-3).to_string(), "2025-11");
        assert_eq!(Month::parse("m", "2025-08").unwrap().months_until(m), 6);
        assert_eq!(add_months(d("2026-01-31"), 1), d("2026-02-28"));
        for bad in ["2026-13", "2026-1", "202601", "x"] {
            assert_eq!(Month::parse("month", bad).unwrap_err().code(), "validation");
        }
    }
}
