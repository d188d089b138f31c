//! Episodes of collaborative care (spec §2): enrolment, consent, targets and the status path
//! active → relapse-prevention → discharged. Every status change is kept with its date, so the
//! status on any date can be answered.

use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::audit;
use crate::dates::{self, Date};
use crate::patients::{self, PatientRow};
use crate::store::new_id;
use crate::vocab::{DischargeReason, EpisodeStatus, Target, parse_targets, targets_to_string};
use crate::{Error, Registry, Result};

#[derive(Clone, Debug, Serialize, PartialEq, ts_rs::TS)]
pub struct Episode {
    pub id: String,
    pub start_date: Date,
    pub consent_date: Option<Date>,
    pub targets: Vec<Target>,
    pub status: EpisodeStatus,
    pub discharge_date: Option<Date>,
    pub discharge_reason: Option<DischargeReason>,
    pub status_history: Vec<StatusChange>,
}

#[derive(Clone, Debug, Serialize, PartialEq, ts_rs::TS)]
pub struct StatusChange {
    pub date: Date,
    pub status: EpisodeStatus,
    pub reason: Option<DischargeReason>,
}

const EPISODE_COLUMNS: &str = "id, start_date, consent_date, targets, status, discharge_date, discharge_reason";

fn from_row(r: &Row) -> rusqlite::Result<Episode> {
    let date = |i: usize| -> rusqlite::Result<Option<Date>> {
        Ok(r.get::<_, Option<String>>(i)?.and_then(|s| dates::parse_date("date", &s).ok()))
    };
    let targets: String = r.get(3)?;
    let status: String = r.get(4)?;
    let reason: Option<String> = r.get(6)?;
    Ok(Episode {
        id: r.get(0)?,
        start_date: date(1)?.unwrap_or_default(),
        consent_date: date(2)?,
        targets: parse_targets("targets", &targets).unwrap_or_default(),
        status: EpisodeStatus::parse("status", &status).unwrap_or(EpisodeStatus::Active),
        discharge_date: date(5)?,
        discharge_reason: reason.and_then(|s| DischargeReason::parse("reason", &s).ok()),
        status_history: Vec::new(),
    })
}

fn with_history(conn: &Connection, mut e: Episode) -> Result<Episode> {
    let mut stmt =
        conn.prepare_cached("SELECT date, status, reason FROM episode_status_changes WHERE episode_id = ?1 ORDER BY date, seq")?;
    e.status_history = stmt
        .query_map([&e.id], |r| {
            let (d, s, reason): (String, String, Option<String>) = (r.get(0)?, r.get(1)?, r.get(2)?);
            Ok(StatusChange {
                date: dates::parse_date("date", &d).unwrap_or_default(),
                status: EpisodeStatus::parse("status", &s).unwrap_or(EpisodeStatus::Active),
                reason: reason.and_then(|s| DischargeReason::parse("reason", &s).ok()),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(e)
}

/// All of a patient's episodes, oldest first.
pub(crate) fn for_patient(conn: &Connection, patient_id: &str) -> Result<Vec<Episode>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {EPISODE_COLUMNS} FROM episodes WHERE patient_id = ?1 ORDER BY start_date"))?;
    let episodes: Vec<Episode> = stmt.query_map([patient_id], from_row)?.collect::<rusqlite::Result<_>>()?;
    episodes.into_iter().map(|e| with_history(conn, e)).collect()
}

pub(crate) fn open_episode(conn: &Connection, patient: &PatientRow) -> Result<Option<Episode>> {
    let e = conn
        .prepare_cached(&format!("SELECT {EPISODE_COLUMNS} FROM episodes WHERE patient_id = ?1 AND discharge_date IS NULL"))?
        .query_row([&patient.id], from_row)
        .optional()?;
    e.map(|e| with_history(conn, e)).transpose()
}

/// The episode a record dated `date` belongs to: the latest one started on or before it.
/// A patient who was never enrolled, or not yet on that date, has none: that is an error.
pub(crate) fn episode_on(conn: &Connection, patient: &PatientRow, field: &str, date: Date) -> Result<Episode> {
    let found = conn
        .prepare_cached(&format!(
            "SELECT {EPISODE_COLUMNS} FROM episodes WHERE patient_id = ?1 AND start_date <= ?2 ORDER BY start_date DESC LIMIT 1"
        ))?
        .query_row((&patient.id, date.to_string()), from_row)
        .optional()?;
    if let Some(e) = found {
        return Ok(e);
    }
    let first: Option<String> =
        conn.query_row("SELECT MIN(start_date) FROM episodes WHERE patient_id = ?1", [&patient.id], |r| r.get(0))?;
    Err(match first {
        None => Error::Conflict(format!("{} (MRN {}) was never enrolled; enrol them first", patient.name, patient.mrn)),
        Some(first) => Error::validation(field, format!("{date} is before {}'s enrolment on {first}", patient.name)),
    })
}

/// Enrolment options; `consent` and `targets` may be left out.
#[derive(Clone, Debug, Default, serde::Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct Enrolment {
    pub start: String,
    pub consent: Option<String>,
    /// Comma-separated targets; depression when left out.
    pub targets: Option<String>,
}

pub(crate) fn enroll(conn: &Connection, actor: &audit::Actor, mrn: &str, e: &Enrolment) -> Result<String> {
    let patient = patients::find_by_mrn(conn, mrn)?;
    let start = patients::clinical_date("date", &e.start, &patient)?;
    let consent = e.consent.as_deref().map(|c| patients::clinical_date("consent", c, &patient)).transpose()?;
    let targets = parse_targets("targets", e.targets.as_deref().unwrap_or("depression"))?;
    if let Some(open) = open_episode(conn, &patient)? {
        return Err(Error::Conflict(format!(
            "{} (MRN {}) already has an open episode since {}; discharge it before enrolling again",
            patient.name, patient.mrn, open.start_date
        )));
    }
    let last_discharge: Option<String> =
        conn.query_row("SELECT MAX(discharge_date) FROM episodes WHERE patient_id = ?1", [&patient.id], |r| r.get(0))?;
    if let Some(last) = last_discharge.filter(|d| *d > start.to_string()) {
        return Err(Error::validation("date", format!("{start} is before the previous episode's discharge on {last}")));
    }
    let id = new_id();
    conn.execute(
        "INSERT INTO episodes (id, patient_id, start_date, consent_date, targets, status, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6)",
        (&id, &patient.id, start.to_string(), consent.map(|c| c.to_string()), targets_to_string(&targets), audit::now()),
    )?;
    conn.execute("INSERT INTO episode_status_changes (episode_id, date, status) VALUES (?1, ?2, 'active')", (&id, start.to_string()))?;
    audit::record(
        conn,
        actor,
        "enroll",
        "episode",
        Some(&id),
        serde_json::json!({ "mrn": patient.mrn, "start": start, "consent": consent, "targets": targets }),
    )?;
    Ok(id)
}

pub(crate) fn record_consent(conn: &Connection, actor: &audit::Actor, mrn: &str, date: &str) -> Result<()> {
    let patient = patients::find_by_mrn(conn, mrn)?;
    let date = patients::clinical_date("date", date, &patient)?;
    let episode = open_episode(conn, &patient)?
        .ok_or_else(|| Error::Conflict(format!("{} (MRN {}) has no open episode to record consent for", patient.name, patient.mrn)))?;
    conn.execute("UPDATE episodes SET consent_date = ?2 WHERE id = ?1", (&episode.id, date.to_string()))?;
    audit::record(conn, actor, "consent", "episode", Some(&episode.id), serde_json::json!({ "from": episode.consent_date, "to": date }))
}

/// The allowed status path (spec §2). Relapse prevention may return to active (a relapse).
/// A patient whose goals were met is discharged from relapse prevention, after their relapse
/// prevention plan; any other discharge reason may end an active episode directly.
fn check_transition(from: EpisodeStatus, to: EpisodeStatus, reason: Option<DischargeReason>) -> Result<()> {
    use EpisodeStatus::*;
    if from == to {
        return Err(Error::Conflict(format!("status: the episode is already {to}")));
    }
    match (to, reason) {
        (Discharged, None) => {
            let reasons: Vec<&str> = DischargeReason::ALL.iter().map(|r| r.as_str()).collect();
            return Err(Error::validation("reason", format!("a discharge needs a reason: {}", reasons.join(", "))));
        }
        (Active | RelapsePrevention, Some(_)) => {
            return Err(Error::validation("reason", "a reason is only given for a discharge"));
        }
        _ => {}
    }
    if from == Active && to == Discharged && reason == Some(DischargeReason::GoalsMet) {
        return Err(Error::validation(
            "to",
            "a patient who met their goals moves to relapse-prevention before discharge; change the status to relapse-prevention first",
        ));
    }
    Ok(())
}

pub(crate) fn change_status(
    conn: &Connection,
    actor: &audit::Actor,
    mrn: &str,
    to: EpisodeStatus,
    date: &str,
    reason: Option<DischargeReason>,
) -> Result<()> {
    let patient = patients::find_by_mrn(conn, mrn)?;
    let date = patients::clinical_date("date", date, &patient)?;
    let episode = open_episode(conn, &patient)?.ok_or_else(|| {
        Error::Conflict(format!(
            "{} (MRN {}) has no open episode; a discharged patient is enrolled again to open a new one",
            patient.name, patient.mrn
        ))
    })?;
    check_transition(episode.status, to, reason)?;
    let last_change = episode.status_history.last().map(|c| c.date).unwrap_or(episode.start_date);
    if date < last_change {
        return Err(Error::validation("date", format!("{date} is before the episode's last status change on {last_change}")));
    }
    conn.execute(
        "INSERT INTO episode_status_changes (episode_id, date, status, reason) VALUES (?1, ?2, ?3, ?4)",
        (&episode.id, date.to_string(), to.as_str(), reason.map(|r| r.as_str())),
    )?;
    let discharge = (to == EpisodeStatus::Discharged).then(|| date.to_string());
    conn.execute(
        "UPDATE episodes SET status = ?2, discharge_date = ?3, discharge_reason = ?4 WHERE id = ?1",
        (&episode.id, to.as_str(), discharge, reason.map(|r| r.as_str())),
    )?;
    audit::record(
        conn,
        actor,
        "status",
        "episode",
        Some(&episode.id),
        serde_json::json!({ "from": episode.status, "to": to, "date": date, "reason": reason }),
    )
}

impl Registry {
    /// Opens a new episode; returns its id.
    pub fn enroll(&mut self, mrn: &str, e: &Enrolment) -> Result<String> {
        self.write(|tx, actor| enroll(tx, actor, mrn, e))
    }

    /// Adds a new patient and enrols them, in one transaction: both happen or neither does.
    /// Returns the new episode's id.
    pub fn enroll_new_patient(&mut self, patient: &crate::patients::NewPatient, e: &Enrolment) -> Result<String> {
        self.write(|tx, actor| {
            patients::insert(tx, actor, patient)?;
            enroll(tx, actor, &patient.mrn, e)
        })
    }

    /// Records (verbal) consent for the patient's open episode.
    pub fn record_consent(&mut self, mrn: &str, date: &str) -> Result<()> {
        self.write(|tx, actor| record_consent(tx, actor, mrn, date))
    }

    pub fn change_status(&mut self, mrn: &str, to: EpisodeStatus, date: &str, reason: Option<DischargeReason>) -> Result<()> {
        self.write(|tx, actor| change_status(tx, actor, mrn, to, date, reason))
    }

    pub fn episodes(&self, mrn: &str) -> Result<Vec<Episode>> {
        let patient = patients::find_by_mrn(&self.conn, mrn)?;
        for_patient(&self.conn, &patient.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EpisodeStatus::*;

    #[test]
    fn status_path() {
        assert!(check_transition(Active, RelapsePrevention, None).is_ok());
        assert!(check_transition(RelapsePrevention, Active, None).is_ok());
        assert!(check_transition(RelapsePrevention, Discharged, Some(DischargeReason::GoalsMet)).is_ok());
        assert!(check_transition(Active, Discharged, Some(DischargeReason::Moved)).is_ok());
        assert_eq!(check_transition(Active, Discharged, Some(DischargeReason::GoalsMet)).unwrap_err().code(), "validation");
        assert_eq!(check_transition(Active, Discharged, None).unwrap_err().code(), "validation");
        assert_eq!(check_transition(Active, Active, None).unwrap_err().code(), "conflict");
        assert_eq!(check_transition(Active, RelapsePrevention, Some(DischargeReason::Other)).unwrap_err().code(), "validation");
    }
}
