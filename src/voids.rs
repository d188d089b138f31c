//! Entered in error (spec §2): clinical records are never deleted. A wrong entry is marked
//! with a reason and who did it, and from then on every rule passes over it.

use rusqlite::OptionalExtension;
use serde::Serialize;

use crate::access::{self, Action};
use crate::vocab::string_enum;
use crate::{Error, Registry, Result};
use crate::{audit, episodes};

string_enum!(
    /// The kinds of record that can be marked entered in error.
    RecordKind {
        Assessment => "assessment",
        Contact => "contact",
        Review => "review",
        Flag => "flag",
        TreatmentChange => "treatment-change",
        Enrolment => "enrolment",
        Consent => "consent",
        StatusChange => "status-change",
        ApcmPeriod => "apcm-period",
        Coverage => "coverage",
        Diagnosis => "diagnosis",
        Visit => "visit",
    }
);

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct EnteredInError {
    pub at: String,
    pub by: String,
    pub reason: String,
}

pub(crate) fn from_columns(at: Option<String>, by: Option<String>, reason: Option<String>) -> Option<EnteredInError> {
    at.map(|at| EnteredInError { at, by: by.unwrap_or_default(), reason: reason.unwrap_or_default() })
}

pub(crate) fn mark(conn: &rusqlite::Connection, actor: &audit::Actor, kind: RecordKind, id: &str, reason: &str) -> Result<()> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::validation("reason", "say why the entry is in error"));
    }
    check_author(conn, actor, kind, id)?;
    let table = match kind {
        RecordKind::Enrolment => return episodes::void_enrolment(conn, actor, id, reason),
        RecordKind::Consent => return episodes::void_consent(conn, actor, id, reason),
        RecordKind::StatusChange => return episodes::void_status_change(conn, actor, id, reason),
        RecordKind::Assessment => "assessments",
        RecordKind::Contact => "contacts",
        RecordKind::Review => "case_reviews",
        RecordKind::Flag => "review_requests",
        RecordKind::TreatmentChange => "treatment_changes",
        RecordKind::ApcmPeriod => "apcm_periods",
        RecordKind::Coverage => "coverages",
        RecordKind::Diagnosis => "episode_diagnoses",
        RecordKind::Visit => "visits",
    };
    set_voided(conn, actor, table, "id", kind.as_str(), id, reason)?;
    audit::record(conn, actor, "entered-in-error", kind.as_str(), Some(id), serde_json::json!({ "reason": reason }))
}

/// Only the member who entered a record, or a practice lead, marks it in error (ARCHITECTURE.md,
/// "Roles"). The author is the actor of the record's creating audit row. A record that does not
/// exist is `not_found` before it is anyone's to refuse.
fn check_author(conn: &rusqlite::Connection, actor: &audit::Actor, kind: RecordKind, id: &str) -> Result<()> {
    if actor.role == crate::vocab::Role::PracticeLead {
        return Ok(());
    }
    let (table, key, record_type, actions, detail_key): (&str, &str, &str, &[&str], Option<&str>) = match kind {
        RecordKind::Assessment => ("assessments", "id", "assessment", &["create"], None),
        RecordKind::Contact => ("contacts", "id", "contact", &["create"], None),
        RecordKind::Review => ("case_reviews", "id", "case_review", &["create"], None),
        RecordKind::Flag => ("review_requests", "id", "review_request", &["create"], None),
        RecordKind::TreatmentChange => ("treatment_changes", "id", "treatment_change", &["create"], None),
        RecordKind::Enrolment => ("episodes", "id", "episode", &["enroll"], None),
        RecordKind::Consent => ("episode_consents", "id", "episode", &["enroll", "consent"], Some("consent_id")),
        RecordKind::StatusChange => ("episode_status_changes", "id", "episode", &["status"], Some("change")),
        RecordKind::ApcmPeriod => ("apcm_periods", "id", "apcm_period", &["create"], None),
        RecordKind::Coverage => ("coverages", "id", "coverage", &["create"], None),
        RecordKind::Diagnosis => ("episode_diagnoses", "id", "diagnosis", &["create"], None),
        RecordKind::Visit => ("visits", "id", "visit", &["create"], None),
    };
    let exists: bool =
        conn.query_row(&format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE CAST({key} AS TEXT) = ?1)"), [id], |r| r.get(0))?;
    if !exists {
        return Err(Error::NotFound(format!("no {kind} with id '{id}'")));
    }
    let author = audit::author_of(conn, record_type, actions, id, detail_key)?;
    access::require_author_or_lead(actor, author.as_deref())
}

/// Sets the entered-in-error columns of one row (`key` = `id`), after checking it exists and
/// is not marked already. The caller audits.
pub(crate) fn set_voided(
    conn: &rusqlite::Connection,
    actor: &audit::Actor,
    table: &str,
    key: &str,
    kind: &str,
    id: &str,
    reason: &str,
) -> Result<()> {
    let voided: Option<Option<String>> =
        conn.query_row(&format!("SELECT voided_at FROM {table} WHERE {key} = ?1"), [id], |r| r.get(0)).optional()?;
    match voided {
        None => return Err(Error::NotFound(format!("no {kind} with id '{id}'"))),
        Some(Some(at)) => return Err(Error::Conflict(format!("{kind} {id} was already marked entered in error at {at}"))),
        Some(None) => {}
    }
    conn.execute(
        &format!("UPDATE {table} SET voided_at = ?2, voided_by = ?3, void_reason = ?4 WHERE {key} = ?1"),
        (id, audit::now(), &actor.name, reason),
    )?;
    Ok(())
}

impl Registry {
    /// Marks a record entered in error. It stays in the registry and the audit log, and stops
    /// counting in every score, flag, queue and billing figure.
    pub fn mark_entered_in_error(&mut self, kind: RecordKind, id: &str, reason: &str) -> Result<()> {
        self.write(Action::MarkEnteredInError, |tx, actor| mark(tx, actor, kind, id, reason))
    }
}
