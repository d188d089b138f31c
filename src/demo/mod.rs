//! The demo practice: `seeds/` (readable CSV files, dates relative to the as-of date) loaded
//! through the same validated inserts as every other write, plus optional synthetic patients
//! for scale (`synthetic`).
//!
//! Relative dates in the seeds: `d-N` is N days before the as-of date (`d0` is the date
//! itself); `mK/DD` is day DD of the month K months from the as-of date's month (`m-1/05` is
//! the 5th of last month), so that billing months hold whole, whatever the as-of day. Dates of
//! birth may be relative too, so the demo's adolescent and child keep their ages.

mod synthetic;

use chrono::Datelike;
use serde::Deserialize;
use std::path::Path;

use crate::access::Action;
use crate::accounts;
use crate::assessments::{self, NewAssessment};
use crate::audit::{self, Actor};
use crate::contacts::{self, NewContact};
use crate::dates::{self, Date, Month};
use crate::episodes::{self, Enrolment};
use crate::instruments;
use crate::patients::{self, NewPatient};
use crate::reviews::{self, NewCaseReview, NewReviewRequest};
use crate::team;
use crate::treatment::{self, NewTreatmentChange};
use crate::vocab::{DischargeReason, EpisodeStatus, Role};
use crate::voids::{self, RecordKind};
use crate::{Error, Registry, Result};

pub const DEMO_PRACTICE: &str = "Riverside Family Medicine (demo)";

/// The demo practice's lead, who creates the demo registry (and so enters its seeded records).
pub const DEMO_LEAD: &str = "Morgan Grant";

/// Every demo member's password (README). The start screen offers it for a demo registry only.
pub const DEMO_PASSWORD: &str = "cocm-demo-password";

#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// The date the demo's histories are written relative to (today by default).
    pub as_of: Date,
    /// Synthetic patients added on top of the seeded practice.
    pub synthetic_patients: usize,
    /// Synthetic practice patients who are not in collaborative care: a year of primary care
    /// visits each, most with a depression screen (the state report's metric 9 and 10, §9).
    pub practice_patients: usize,
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions { as_of: dates::today(), synthetic_patients: 0, practice_patients: 0, seed: 1 }
    }
}

/// Creates a new registry at `path` filled with the demo practice. Every demo member has an
/// account with `DEMO_PASSWORD`, already changed (no first-sign-in change in a demo).
pub fn create_demo(path: &Path, options: &DemoOptions) -> Result<Registry> {
    dates::not_in_future("as-of", options.as_of)?;
    let (mut registry, _recovery) = Registry::create_with(path, DEMO_PRACTICE, DEMO_LEAD, DEMO_PASSWORD, true)?;
    let result = registry.write(Action::ManageTeam, |tx, actor| {
        let seeded = load_seeds(tx, actor, options.as_of)?;
        let synthetic = synthetic::generate(tx, options)? + synthetic::practice_patients(tx, options)?;
        audit::record(
            tx,
            actor,
            "demo",
            "registry",
            None,
            serde_json::json!({ "as_of": options.as_of, "seeded_patients": seeded, "synthetic": synthetic }),
        )
    });
    let result = result.and_then(|_| {
        for member in registry.list_members()? {
            if member.name != DEMO_LEAD {
                registry.set_password(&member.id, DEMO_PASSWORD)?;
            }
        }
        accounts::update_keyring(path, |ring| ring.slots.iter_mut().for_each(|s| s.must_change_password = false))
    });
    if let Err(e) = result {
        drop(registry);
        let _ = std::fs::remove_file(path);
        let _ = std::fs::remove_file(crate::keyring::key_file_path(path));
        return Err(e);
    }
    Ok(registry)
}

/// Resolves a seed date (`d-N`, `mK/DD`, or an ISO date) against the as-of date.
pub fn resolve_date(spec: &str, as_of: Date) -> Result<String> {
    let bad = || Error::validation("seeds", format!("'{spec}' is not a seed date (d-N, mK/DD or YYYY-MM-DD)"));
    let spec = spec.trim();
    if let Some(days) = spec.strip_prefix('d') {
        let n: i64 = days.parse().map_err(|_| bad())?;
        return Ok(dates::add_days(as_of, n).to_string());
    }
    if let Some(rest) = spec.strip_prefix('m') {
        let (k, day) = rest.split_once('/').ok_or_else(bad)?;
        let (k, day): (i32, u32) = (k.parse().map_err(|_| bad())?, day.parse().map_err(|_| bad())?);
        let month = Month::of(as_of).plus(k);
        let last = month.last_day();
        let d = Date::from_ymd_opt(month.year, month.month, day.clamp(1, last.day0() + 1)).ok_or_else(bad)?;
        return Ok(d.min(last).to_string());
    }
    dates::parse_date("seeds", spec).map(|d| d.to_string())
}

const TEAM: &str = include_str!("../../seeds/team.csv");
const PATIENTS: &str = include_str!("../../seeds/patients.csv");
const EPISODES: &str = include_str!("../../seeds/episodes.csv");
const STATUS_CHANGES: &str = include_str!("../../seeds/status_changes.csv");
const ASSESSMENTS: &str = include_str!("../../seeds/assessments.csv");
const CONTACTS: &str = include_str!("../../seeds/contacts.csv");
const REVIEW_REQUESTS: &str = include_str!("../../seeds/review_requests.csv");
const CASE_REVIEWS: &str = include_str!("../../seeds/case_reviews.csv");
const TREATMENT_CHANGES: &str = include_str!("../../seeds/treatment_changes.csv");
const VISITS: &str = include_str!("../../seeds/visits.csv");
const SCREENINGS: &str = include_str!("../../seeds/screenings.csv");

fn rows<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<Vec<T>> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .collect::<std::result::Result<Vec<T>, _>>()
        .map_err(|e| Error::Storage(format!("seeds/{file}: {e}")))
}

#[derive(Deserialize)]
struct TeamRow {
    name: String,
    role: String,
}
#[derive(Deserialize)]
struct PatientRow {
    mrn: String,
    name: String,
    dob: String,
    payer: String,
    pcp: String,
    care_manager: String,
    consultant: String,
}
#[derive(Deserialize)]
struct EpisodeRow {
    mrn: String,
    start: String,
    consent: String,
    targets: String,
    /// ICD-10-CM codes, comma separated; a few are empty, so the demo holds their claims.
    #[serde(default)]
    diagnosis: String,
}
#[derive(Deserialize)]
struct StatusRow {
    mrn: String,
    date: String,
    to: String,
    reason: String,
}
#[derive(Deserialize)]
struct AssessmentRow {
    mrn: String,
    date: String,
    instrument: String,
    items: String,
    entered_in_error: String,
}
#[derive(Deserialize)]
struct ContactRow {
    mrn: String,
    date: String,
    by: String,
    kind: String,
    mode: String,
    minutes: i64,
    note: String,
    entered_in_error: String,
}
#[derive(Deserialize)]
struct RequestRow {
    mrn: String,
    date: String,
    by: String,
    reason: String,
}
#[derive(Deserialize)]
struct ReviewRow {
    mrn: String,
    date: String,
    by: String,
    medication: String,
    psychotherapy: String,
    referral: String,
    note: String,
}
#[derive(Deserialize)]
struct VisitRow {
    mrn: String,
    date: String,
    category: String,
    codes: String,
    modality: String,
}
#[derive(Deserialize)]
struct ScreeningRow {
    mrn: String,
    date: String,
    instrument: String,
    items: String,
}
#[derive(Deserialize)]
struct ChangeRow {
    mrn: String,
    date: String,
    kind: String,
    description: String,
}

/// Loads `seeds/` through the core's validated inserts; returns the number of patients.
fn load_seeds(conn: &rusqlite::Connection, actor: &Actor, as_of: Date) -> Result<usize> {
    let at = |s: &str| resolve_date(s, as_of);
    for t in rows::<TeamRow>("team.csv", TEAM)? {
        if t.name != DEMO_LEAD {
            team::insert(conn, actor, &t.name, Role::parse("role", &t.role)?)?;
        }
    }
    let people = rows::<PatientRow>("patients.csv", PATIENTS)?;
    for p in &people {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let new = NewPatient {
            mrn: p.mrn.clone(),
            name: p.name.clone(),
            dob: at(&p.dob)?,
            payer: some(&p.payer),
            pcp: some(&p.pcp),
            care_manager: some(&p.care_manager),
            consultant: some(&p.consultant),
        };
        patients::insert(conn, actor, &new)?;
    }

    // Enrolments and status changes in date order, so each one meets the episode it expects.
    enum Step {
        Status(StatusRow),
        Enroll(EpisodeRow),
    }
    let mut steps: Vec<(String, u8, Step)> = Vec::new();
    for e in rows::<EpisodeRow>("episodes.csv", EPISODES)? {
        steps.push((at(&e.start)?, 1, Step::Enroll(e)));
    }
    for s in rows::<StatusRow>("status_changes.csv", STATUS_CHANGES)? {
        steps.push((at(&s.date)?, 0, Step::Status(s)));
    }
    steps.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    for (date, _, step) in steps {
        match step {
            Step::Enroll(e) => {
                let consent = if e.consent.is_empty() { None } else { Some(at(&e.consent)?) };
                let diagnosis = (!e.diagnosis.is_empty()).then_some(e.diagnosis);
                episodes::enroll(
                    conn,
                    actor,
                    &e.mrn,
                    &Enrolment { start: date, consent, targets: Some(e.targets), diagnosis, ..Default::default() },
                )?;
            }
            Step::Status(s) => {
                let reason = if s.reason.is_empty() { None } else { Some(DischargeReason::parse("reason", &s.reason)?) };
                episodes::change_status(conn, actor, &s.mrn, EpisodeStatus::parse("to", &s.to)?, &date, reason).map(drop)?;
            }
        }
    }

    // The demo's payers as a migrated registry has them: primary coverage from the first
    // enrolment, with a member id a biller would see (fictional, like everything here).
    conn.execute_batch(
        "UPDATE coverages SET
             from_date = (SELECT MIN(e.start_date) FROM episodes e WHERE e.patient_id = coverages.patient_id),
             member_id = (SELECT 'DM-' || p.mrn FROM patients p WHERE p.id = coverages.patient_id)
         WHERE from_date IS NULL",
    )?;

    for a in rows::<AssessmentRow>("assessments.csv", ASSESSMENTS)? {
        let new = NewAssessment {
            date: at(&a.date)?,
            instrument: a.instrument,
            answers: instruments::parse_answers(&a.items)?,
            difficulty: None,
        };
        let id = assessments::insert(conn, actor, &a.mrn, &new)?;
        if !a.entered_in_error.is_empty() {
            voids::mark(conn, actor, RecordKind::Assessment, &id, &a.entered_in_error)?;
        }
    }
    for c in rows::<ContactRow>("contacts.csv", CONTACTS)? {
        let new = NewContact { date: at(&c.date)?, minutes: c.minutes, by: c.by, kind: Some(c.kind), mode: Some(c.mode), note: c.note };
        let id = contacts::insert(conn, actor, &c.mrn, &new)?;
        if !c.entered_in_error.is_empty() {
            voids::mark(conn, actor, RecordKind::Contact, &id, &c.entered_in_error)?;
        }
    }
    for r in rows::<RequestRow>("review_requests.csv", REVIEW_REQUESTS)? {
        reviews::insert_request(conn, actor, &r.mrn, &NewReviewRequest { date: Some(at(&r.date)?), by: r.by, reason: r.reason })?;
    }
    for r in rows::<ReviewRow>("case_reviews.csv", CASE_REVIEWS)? {
        let new = NewCaseReview {
            date: at(&r.date)?,
            by: r.by,
            medication: r.medication,
            psychotherapy: r.psychotherapy,
            referral: r.referral,
            other: String::new(),
            note: r.note,
        };
        reviews::insert_review(conn, actor, &r.mrn, &new)?;
    }
    for t in rows::<ChangeRow>("treatment_changes.csv", TREATMENT_CHANGES)? {
        treatment::insert(conn, actor, &t.mrn, &NewTreatmentChange { date: at(&t.date)?, kind: t.kind, description: t.description })?;
    }
    // §9: the practice's visits and the screens of patients out of care (discharged), so the
    // NYS report's screening metrics and the referral candidates have something to show.
    for v in rows::<VisitRow>("visits.csv", VISITS)? {
        let patient = patients::find_by_mrn(conn, &v.mrn)?;
        let new = crate::visits::NewVisit { date: at(&v.date)?, category: v.category, codes: v.codes, modality: Some(v.modality) };
        crate::visits::insert(conn, actor, &patient, &new)?;
    }
    for s in rows::<ScreeningRow>("screenings.csv", SCREENINGS)? {
        let new = NewAssessment {
            date: at(&s.date)?,
            instrument: s.instrument,
            answers: instruments::parse_answers(&s.items)?,
            difficulty: None,
        };
        assessments::insert_screening(conn, actor, &s.mrn, &new)?;
    }
    // A New York practice: the NYS OMH tab on the Reports screen, and each care manager's
    // CoCM FTE for its metric 11 and the caseload guidance.
    conn.execute_batch(
        "INSERT INTO settings (key, value) VALUES ('state_reporting', 'nys-omh') ON CONFLICT (key) DO UPDATE SET value = 'nys-omh';
         UPDATE team_members SET cocm_fte_hundredths = CASE name WHEN 'Chloe Nguyen' THEN 60 ELSE 100 END WHERE role = 'care-manager';",
    )?;
    Ok(people.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_seed_dates() {
        let t = dates::parse_date("d", "2026-03-31").unwrap();
        assert_eq!(resolve_date("d0", t).unwrap(), "2026-03-31");
        assert_eq!(resolve_date("d-31", t).unwrap(), "2026-02-28");
        assert_eq!(resolve_date("m-1/05", t).unwrap(), "2026-02-05");
        assert_eq!(resolve_date("m-1/30", t).unwrap(), "2026-02-28", "clamped to the month's end");
        assert_eq!(resolve_date("m-3/01", t).unwrap(), "2025-12-01");
        assert_eq!(resolve_date("m0/01", t).unwrap(), "2026-03-01");
        assert!(resolve_date("yesterday", t).is_err());
    }
}
