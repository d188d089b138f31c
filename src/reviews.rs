//! Review requests ("flags") and the psychiatric consultant's case reviews (spec §2, §6).
//! A request stays open until a case review dated on or after it.

use rusqlite::Connection;
use serde::Serialize;

use crate::access::Action;
use crate::audit;
use crate::dates::{self, Date};
use crate::episodes;
use crate::patients;
use crate::store::new_id;
use crate::team;
use crate::vocab::Role;
use crate::voids::{self, EnteredInError};
use crate::{Error, Registry, Result};

#[derive(Clone, Debug, Default, serde::Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct NewReviewRequest {
    /// Today when left out.
    pub date: Option<String>,
    pub by: String,
    pub reason: String,
}

#[derive(Clone, Debug, Default, serde::Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct NewCaseReview {
    pub date: String,
    /// The psychiatric consultant, by id or exact name.
    pub by: String,
    pub medication: String,
    pub psychotherapy: String,
    pub referral: String,
    pub other: String,
    pub note: String,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct ReviewRequest {
    pub id: String,
    pub date: Date,
    pub requested_by: String,
    pub reason: String,
    /// The date of the case review that closed it, if one has.
    pub closed_by_review_on: Option<Date>,
    pub entered_in_error: Option<EnteredInError>,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct CaseReview {
    pub id: String,
    pub date: Date,
    pub consultant: String,
    pub medication: String,
    pub psychotherapy: String,
    pub referral: String,
    pub other: String,
    pub note: String,
    pub entered_in_error: Option<EnteredInError>,
}

pub(crate) fn insert_request(conn: &Connection, actor: &audit::Actor, mrn: &str, r: &NewReviewRequest) -> Result<String> {
    let patient = patients::find_by_mrn(conn, mrn)?;
    let reason = r.reason.trim();
    if reason.is_empty() {
        return Err(Error::validation("reason", "say why the consultant should review this patient"));
    }
    let by = team::find(conn, "by", &r.by)?;
    let today = dates::today().to_string();
    let date = patients::clinical_date("date", r.date.as_deref().unwrap_or(&today), &patient)?;
    let episode = episodes::episode_on(conn, &patient, "date", date)?;
    let id = new_id();
    conn.execute(
        "INSERT INTO review_requests (id, patient_id, episode_id, date, requested_by, reason, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        (&id, &patient.id, &episode.id, date.to_string(), &by.id, reason, audit::now()),
    )?;
    audit::record(
        conn,
        actor,
        "create",
        "review_request",
        Some(&id),
        serde_json::json!({ "mrn": patient.mrn, "date": date, "by": by.name, "reason": reason }),
    )?;
    Ok(id)
}

pub(crate) fn insert_review(conn: &Connection, actor: &audit::Actor, mrn: &str, r: &NewCaseReview) -> Result<String> {
    let patient = patients::find_by_mrn(conn, mrn)?;
    let consultant = team::find_with_role(conn, "by", &r.by, Role::PsychiatricConsultant, "a case review")?;
    let date = patients::clinical_date("date", &r.date, &patient)?;
    let episode = episodes::episode_on(conn, &patient, "date", date)?;
    let id = new_id();
    conn.execute(
        "INSERT INTO case_reviews (id, patient_id, episode_id, date, consultant_id, medication, psychotherapy, referral, other, note, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        rusqlite::params![
            id, patient.id, episode.id, date.to_string(), consultant.id, r.medication.trim(), r.psychotherapy.trim(),
            r.referral.trim(), r.other.trim(), r.note.trim(), audit::now()
        ],
    )?;
    audit::record(
        conn,
        actor,
        "create",
        "case_review",
        Some(&id),
        serde_json::json!({ "mrn": patient.mrn, "date": date, "by": consultant.name }),
    )?;
    Ok(id)
}

pub(crate) fn case_reviews_for_patient(conn: &Connection, patient_id: &str) -> Result<Vec<CaseReview>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.date, t.name, c.medication, c.psychotherapy, c.referral, c.other, c.note, c.voided_at, c.voided_by, c.void_reason
         FROM case_reviews c JOIN team_members t ON t.id = c.consultant_id WHERE c.patient_id = ?1 ORDER BY c.date, c.created_at",
    )?;
    let rows = stmt.query_map([patient_id], |r| {
        let date: String = r.get(1)?;
        Ok(CaseReview {
            id: r.get(0)?,
            date: dates::parse_date("date", &date).unwrap_or_default(),
            consultant: r.get(2)?,
            medication: r.get(3)?,
            psychotherapy: r.get(4)?,
            referral: r.get(5)?,
            other: r.get(6)?,
            note: r.get(7)?,
            entered_in_error: voids::from_columns(r.get(8)?, r.get(9)?, r.get(10)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Spec §2, §6: the date of the case review that closes review request `r` as of `?1`: the
/// earliest review of the patient, not entered in error, dated on or after the request and no
/// later than the as-of date. NULL while the request is open. The one definition of open and
/// closed, read by the snapshot (flags, queue) and the chart.
pub(crate) const CLOSED_BY_REVIEW_SQL: &str = "(SELECT MIN(c.date) FROM case_reviews c
      WHERE c.patient_id = r.patient_id AND c.voided_at IS NULL AND c.date >= r.date AND c.date <= ?1)";

/// A patient's review requests dated on or before `as_of`, each closed or open as of that day.
pub(crate) fn requests_for_patient(conn: &Connection, patient_id: &str, as_of: Date) -> Result<Vec<ReviewRequest>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT r.id, r.date, t.name, r.reason, r.voided_at, r.voided_by, r.void_reason, {CLOSED_BY_REVIEW_SQL}
         FROM review_requests r JOIN team_members t ON t.id = r.requested_by
         WHERE r.patient_id = ?2 AND r.date <= ?1 ORDER BY r.date, r.created_at"
    ))?;
    let rows = stmt.query_map((as_of.to_string(), patient_id), |r| {
        let date: String = r.get(1)?;
        let closed: Option<String> = r.get(7)?;
        Ok(ReviewRequest {
            id: r.get(0)?,
            date: dates::parse_date("date", &date).unwrap_or_default(),
            requested_by: r.get(2)?,
            reason: r.get(3)?,
            closed_by_review_on: closed.and_then(|d| dates::parse_date("date", &d).ok()),
            entered_in_error: voids::from_columns(r.get(4)?, r.get(5)?, r.get(6)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl Registry {
    /// Asks the psychiatric consultant to review a patient; returns the request's id.
    pub fn request_review(&mut self, mrn: &str, r: &NewReviewRequest) -> Result<String> {
        self.write(Action::RequestReview, |tx, actor| insert_request(tx, actor, mrn, r))
    }

    /// Records a case review by a psychiatric consultant; returns its id.
    pub fn record_case_review(&mut self, mrn: &str, r: &NewCaseReview) -> Result<String> {
        self.write(Action::RecordCaseReview, |tx, actor| insert_review(tx, actor, mrn, r))
    }
}
