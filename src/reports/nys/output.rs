//! The NYS report as rows, and as the CSVs submitted: a month's, and a quarter's side by side.

use serde::Serialize;

use super::NysReport;
use crate::Result;
use crate::dates::Month;
use crate::reports::Rate;
use crate::reports::csv::err;

/// A quarter's three months side by side, as submitted (`--quarter 2026-Q4`).
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct NysQuarter {
    pub quarter: String,
    pub months: Vec<NysReport>,
}

/// "2026-Q4" → October, November and December 2026.
pub fn quarter_months(field: &str, text: &str) -> Result<[Month; 3]> {
    let refusal = || crate::Error::validation(field, format!("'{text}' is not a quarter such as 2026-Q4"));
    let (year, q) = text.trim().split_once(['-', ' ']).ok_or_else(refusal)?;
    let q: i32 = q.trim_start_matches(['Q', 'q']).parse().map_err(|_| refusal())?;
    if !(1..=4).contains(&q) || year.len() != 4 {
        return Err(refusal());
    }
    let first = Month::parse(field, &format!("{year}-{:02}", (q - 1) * 3 + 1))?;
    Ok([first, first.plus(1), first.plus(2)])
}

/// The quarter's CSV: one row per metric, a column per month.
pub fn quarter_csv(q: &NysQuarter) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["quarter".to_string(), "metric".into(), "name".into()];
    header.extend(q.months.iter().map(|m| m.month.to_string()));
    w.write_record(&header).map_err(err)?;
    let columns: Vec<Vec<Metric>> = q.months.iter().map(NysReport::metrics).collect();
    for (i, (n, name, _, _)) in columns[0].iter().enumerate() {
        let mut row = vec![q.quarter.clone(), n.to_string(), name.to_string()];
        row.extend(columns.iter().map(|c| match c[i].3 {
            Some(rate) => format!("{} of {}", rate.numerator, rate.denominator),
            None => c[i].2.clone(),
        }));
        w.write_record(&row).map_err(err)?;
    }
    crate::reports::csv::finish(w)
}

/// One metric as a row: its number, name, value as text, and its rate where it is one.
pub type Metric<'a> = (u8, &'static str, String, Option<&'a Rate>);

impl NysReport {
    /// The eleven metrics as rows.
    pub fn metrics(&self) -> Vec<Metric<'_>> {
        let count = |n: u32| n.to_string();
        vec![
            (1, "total_enrollment", count(self.total_enrollment), None),
            (2, "medicaid_enrollment", count(self.medicaid_enrollment), None),
            (3, "newly_enrolled", count(self.newly_enrolled), None),
            (4, "average_weeks_in_treatment", self.average_weeks_in_treatment.map_or(String::new(), |w| format!("{w:.1}")), None),
            (5, "monthly_contact_rate", rate_text(&self.monthly_contact_rate), Some(&self.monthly_contact_rate)),
            (6, "improvement_rate", rate_text(&self.improvement_rate), Some(&self.improvement_rate)),
            (7, "remission_rate", rate_text(&self.remission_rate), Some(&self.remission_rate)),
            (8, "psychiatric_consultation_rate", rate_text(&self.psychiatric_consultation_rate), Some(&self.psychiatric_consultation_rate)),
            (9, "depression_screening_rate", rate_text(&self.depression_screening_rate), Some(&self.depression_screening_rate)),
            (10, "depression_screening_yield", rate_text(&self.depression_screening_yield), Some(&self.depression_screening_yield)),
            (11, "bhcm_fte", format!("{:.2}", self.bhcm_fte), None),
        ]
    }
}

fn rate_text(r: &Rate) -> String {
    r.percent.map_or(String::new(), |p| format!("{p} %"))
}

/// The report as CSV: one row per metric, as submitted.
pub fn to_csv(report: &NysReport) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "month",
        "care_manager",
        "metric",
        "name",
        "value",
        "numerator",
        "denominator",
        "percent",
        "target_percent",
        "meets_target",
    ])
    .map_err(err)?;
    for (n, name, value, rate) in report.metrics() {
        let opt = |v: Option<String>| v.unwrap_or_default();
        w.write_record([
            report.month.to_string(),
            report.care_manager.clone().unwrap_or_default(),
            n.to_string(),
            name.to_string(),
            value,
            opt(rate.map(|r| r.numerator.to_string())),
            opt(rate.map(|r| r.denominator.to_string())),
            opt(rate.and_then(|r| r.percent).map(|p| p.to_string())),
            opt(rate.and_then(|r| r.target_percent).map(|p| p.to_string())),
            opt(rate.and_then(|r| r.meets_target).map(|m| m.to_string())),
        ])
        .map_err(err)?;
    }
    crate::reports::csv::finish(w)
}
