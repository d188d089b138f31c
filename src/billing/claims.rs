//! Claim lines (spec §7a): the month's billing as a biller keys or uploads it, one line per
//! code with the patient, their primary coverage on the date of service, the billing
//! practitioner (the PCP) and NPI, place of service, the episode's diagnoses, units and the
//! estimated charge. A line missing something a claim needs is held with its reasons, never
//! left out silently.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::{BillingRow, CodeUnits, Program, month, rule_book};
use crate::dates::{Date, Month};
use crate::reports::csv::{err, finish};
use crate::settings::{self, ClaimDateOfService};
use crate::vocab::Payer;
use crate::{Result, coverage, diagnoses};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct ClaimLine {
    pub mrn: String,
    pub name: String,
    pub dob: Date,
    /// The primary coverage on the date of service; none when there is none (held).
    pub payer: Option<Payer>,
    pub plan: Option<String>,
    pub member_id: Option<String>,
    /// The billing practitioner (the patient's PCP) and their NPI.
    pub billing_npi: Option<String>,
    pub billing_practitioner: Option<String>,
    pub date_of_service: Date,
    pub place_of_service: String,
    /// The episode's ICD-10-CM codes on the date of service, the primary first.
    pub diagnoses: Vec<String>,
    pub code: String,
    pub units: u32,
    /// Estimated: the rule set's fee × units, in dollars.
    pub charge: f64,
    pub program: Program,
    /// Empty, or why the line cannot go out yet ("no consent; no NPI").
    pub held: String,
}

/// The month's claim lines: held ones first, then by MRN, date of service and code.
pub(crate) fn lines(conn: &Connection, m: Month) -> Result<Vec<ClaimLine>> {
    // The patients (coverage, date of birth, PCP's NPI) come with the rows, read once.
    let (rows, patients) = month::rows_and_patients(conn, m)?;
    let settings = settings::load(conn)?;
    let book = rule_book(conn)?;
    let diagnoses = diagnoses::by_episode(conn, None)?;
    let mut out = Vec::new();
    for row in &rows {
        let patient = patients.get(&row.patient_id);
        let covered = patient.map_or(&[][..], |p| p.coverages.as_slice());
        let fees = book.find(row.program, row.payer, row.plan.as_deref(), m.year).map(|s| &s.rules);
        let no_consent = row.codes.is_empty();
        let codes: &[CodeUnits] = if no_consent { &row.held_for_consent } else { &row.codes };
        for (i, code) in codes.iter().enumerate() {
            // One line per code, or per unit when units reach their thresholds on different days.
            let dates: Vec<(Date, u32)> = match settings.claim_date_of_service {
                ClaimDateOfService::ThresholdMet if !no_consent => {
                    let reached = row.unit_minutes.get(i).cloned().unwrap_or_default();
                    let mut by_day: Vec<(Date, u32)> = Vec::new();
                    for threshold in reached {
                        let day = threshold_day(row, threshold).unwrap_or(m.last_day());
                        match by_day.last_mut() {
                            Some((d, units)) if *d == day => *units += 1,
                            _ => by_day.push((day, 1)),
                        }
                    }
                    by_day
                }
                _ => vec![(m.last_day(), code.units)],
            };
            for (day, units) in dates {
                let primary = coverage::primary_on(covered, day);
                let codes_on: Vec<String> = diagnoses
                    .get(&row.episode_id)
                    .map(|list| list.iter().filter(|d| d.entered_in_error.is_none() && d.date <= day).map(|d| d.code.clone()).collect())
                    .unwrap_or_default();
                let npi = patient.and_then(|p| p.pcp_npi.clone());
                let mut held = Vec::new();
                if no_consent {
                    held.push("no consent");
                }
                if codes_on.is_empty() {
                    held.push("no diagnosis");
                }
                if npi.is_none() {
                    held.push("no NPI");
                }
                if primary.is_none() {
                    held.push("no coverage");
                }
                let fee = fees.and_then(|r| r.fees.get(&code.code)).copied().unwrap_or(0.0);
                out.push(ClaimLine {
                    mrn: row.mrn.clone(),
                    name: row.name.clone(),
                    dob: patient.map_or_else(Date::default, |p| p.dob),
                    payer: primary.map(|c| c.payer),
                    plan: primary.and_then(|c| c.plan.clone()),
                    member_id: primary.and_then(|c| c.member_id.clone()),
                    billing_npi: npi,
                    billing_practitioner: row.pcp.clone(),
                    date_of_service: day,
                    place_of_service: settings.place_of_service.clone(),
                    diagnoses: codes_on,
                    code: code.code.clone(),
                    units,
                    charge: ((fee * 100.0).round() as i64 * units as i64) as f64 / 100.0,
                    program: row.program,
                    held: held.join("; "),
                });
            }
        }
    }
    out.sort_by(|a, b| {
        (a.held.is_empty(), &a.mrn, a.date_of_service, &a.code).cmp(&(b.held.is_empty(), &b.mrn, b.date_of_service, &b.code))
    });
    Ok(out)
}

/// The day the row's countable minutes, added up in date order, first reached `threshold`.
fn threshold_day(row: &BillingRow, threshold: u32) -> Option<Date> {
    let mut counted: Vec<(Date, u32)> = row.contacts.iter().filter(|c| c.excluded.is_none()).map(|c| (c.date, c.minutes)).collect();
    counted.sort_by_key(|(d, _)| *d);
    let mut total = 0;
    counted.into_iter().find_map(|(day, minutes)| {
        total += minutes;
        (total >= threshold).then_some(day)
    })
}

/// The claim lines as CSV, the columns in order.
pub fn claims_csv(lines: &[ClaimLine]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "mrn",
        "name",
        "dob",
        "payer",
        "plan",
        "member_id",
        "billing_npi",
        "billing_practitioner",
        "date_of_service",
        "place_of_service",
        "diagnoses",
        "code",
        "units",
        "charge",
        "program",
        "held",
    ])
    .map_err(err)?;
    for l in lines {
        w.write_record([
            l.mrn.clone(),
            l.name.clone(),
            l.dob.to_string(),
            l.payer.map(|p| p.to_string()).unwrap_or_default(),
            l.plan.clone().unwrap_or_default(),
            l.member_id.clone().unwrap_or_default(),
            l.billing_npi.clone().unwrap_or_default(),
            l.billing_practitioner.clone().unwrap_or_default(),
            l.date_of_service.to_string(),
            l.place_of_service.clone(),
            l.diagnoses.join(";"),
            l.code.clone(),
            l.units.to_string(),
            format!("{:.2}", l.charge),
            l.program.to_string(),
            l.held.clone(),
        ])
        .map_err(err)?;
    }
    finish(w)
}
