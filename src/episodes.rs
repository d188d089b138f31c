//! Episodes of collaborative care (spec §2): enrolment, consent, targets and the status path
//! active → relapse-prevention → discharged. Every status change is kept with its date, so the
//! status on any date can be answered.

use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::access::Action;
use crate::audit;
use crate::billing::Program;
use crate::dates::{self, Date};
use crate::instruments::{self, AgeGroups};
use crate::measures::{self, PrimaryScale};
use crate::patients::{self, PatientRow};
use crate::store::new_id;
use crate::vocab::{DischargeReason, EpisodeStatus, Target, parse_targets, targets_to_string};
use crate::voids::{self, EnteredInError};
use crate::{Error, Registry, Result};

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct Episode {
    pub id: String,
    pub start_date: Date,
    pub consent_date: Option<Date>,
    pub targets: Vec<Target>,
    /// Each target's primary scale, fixed at enrolment (spec §3a).
    pub primary_scales: Vec<PrimaryScale>,
    pub status: EpisodeStatus,
    pub discharge_date: Option<Date>,
    pub discharge_reason: Option<DischargeReason>,
    /// Every status, the enrolment's `active` first; those entered in error are kept, marked.
    pub status_history: Vec<StatusChange>,
    /// Every consent date recorded, oldest first; `consent_date` is the latest not in error.
    pub consents: Vec<Consent>,
    /// The enrolment itself was entered in error: the episode counts in no rule.
    pub entered_in_error: Option<EnteredInError>,
    /// What the episode was enrolled to be billed as (§7a); `cocm program` changes it from a
    /// month on (`billing::programs`).
    pub program: Program,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct StatusChange {
    /// What `cocm void status-change ID` takes.
    pub id: String,
    pub date: Date,
    pub status: EpisodeStatus,
    pub reason: Option<DischargeReason>,
    pub entered_in_error: Option<EnteredInError>,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct Consent {
    pub id: String,
    pub date: Date,
    pub entered_in_error: Option<EnteredInError>,
}

const EPISODE_COLUMNS: &str = "id, start_date, consent_date, targets, status, discharge_date, discharge_reason, voided_at, voided_by, void_reason, primary_scales, program";

/// The scale a target falls back to where none is stored: the adult default (an episode
/// written before the catalogue had PHQ-9 for depression and GAD-7 for anxiety; migration
/// 0010 stores those).
pub(crate) fn fallback_scale(target: Target) -> &'static str {
    instruments::default_scale(target, i64::MAX, instruments::AgeGroups { adolescent_from: 0, adult_from: 0 })
}

fn from_row(r: &Row) -> rusqlite::Result<Episode> {
    let date = |i: usize| -> rusqlite::Result<Option<Date>> {
        Ok(r.get::<_, Option<String>>(i)?.and_then(|s| dates::parse_date("date", &s).ok()))
    };
    let targets = parse_targets("targets", &r.get::<_, String>(3)?).unwrap_or_default();
    let primary_scales = measures::parse_primary_scales(&targets, &r.get::<_, String>(10)?, fallback_scale);
    let status: String = r.get(4)?;
    let reason: Option<String> = r.get(6)?;
    Ok(Episode {
        id: r.get(0)?,
        start_date: date(1)?.unwrap_or_default(),
        consent_date: date(2)?,
        targets,
        primary_scales,
        status: EpisodeStatus::parse("status", &status).unwrap_or(EpisodeStatus::Active),
        discharge_date: date(5)?,
        discharge_reason: reason.and_then(|s| DischargeReason::parse("reason", &s).ok()),
        status_history: Vec::new(),
        consents: Vec::new(),
        entered_in_error: voids::from_columns(r.get(7)?, r.get(8)?, r.get(9)?),
        program: Program::parse("program", &r.get::<_, String>(11)?).unwrap_or(Program::Cocm),
    })
}

fn with_history(conn: &Connection, mut e: Episode) -> Result<Episode> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, date, status, reason, voided_at, voided_by, void_reason FROM episode_status_changes
         WHERE episode_id = ?1 ORDER BY date, seq",
    )?;
    e.status_history = stmt
        .query_map([&e.id], |r| {
            let (id, d, s, reason): (String, String, String, Option<String>) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            Ok(StatusChange {
                id,
                date: dates::parse_date("date", &d).unwrap_or_default(),
                status: EpisodeStatus::parse("status", &s).unwrap_or(EpisodeStatus::Active),
                reason: reason.and_then(|s| DischargeReason::parse("reason", &s).ok()),
                entered_in_error: voids::from_columns(r.get(4)?, r.get(5)?, r.get(6)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, date, voided_at, voided_by, void_reason FROM episode_consents WHERE episode_id = ?1 ORDER BY created_at, rowid",
    )?;
    e.consents = stmt
        .query_map([&e.id], |r| {
            let d: String = r.get(1)?;
            Ok(Consent {
                id: r.get(0)?,
                date: dates::parse_date("date", &d).unwrap_or_default(),
                entered_in_error: voids::from_columns(r.get(2)?, r.get(3)?, r.get(4)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(e)
}

impl Episode {
    /// The status changes that count (not entered in error), oldest first.
    pub fn valid_history(&self) -> impl Iterator<Item = &StatusChange> {
        self.status_history.iter().filter(|c| c.entered_in_error.is_none())
    }

    /// The episode as it stood on `as_of`: its status, discharge and consent then (an enrolment
    /// entered in error keeps its mark). None when it had not started.
    pub fn as_of(&self, as_of: Date) -> Option<Episode> {
        if self.start_date > as_of {
            return None;
        }
        let mut e = self.clone();
        e.status_history.retain(|c| c.date <= as_of);
        e.consents.retain(|c| c.date <= as_of);
        let last = e.valid_history().last().cloned();
        e.status = last.as_ref().map_or(EpisodeStatus::Active, |c| c.status);
        let discharged = last.filter(|c| c.status == EpisodeStatus::Discharged);
        e.discharge_date = discharged.as_ref().map(|c| c.date);
        e.discharge_reason = discharged.and_then(|c| c.reason);
        e.consent_date = e.consents.iter().rev().find(|c| c.entered_in_error.is_none()).map(|c| c.date);
        Some(e)
    }
}

/// All of a patient's episodes, oldest first.
pub(crate) fn for_patient(conn: &Connection, patient_id: &str) -> Result<Vec<Episode>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {EPISODE_COLUMNS} FROM episodes WHERE patient_id = ?1 ORDER BY start_date"))?;
    let episodes: Vec<Episode> = stmt.query_map([patient_id], from_row)?.collect::<rusqlite::Result<_>>()?;
    episodes.into_iter().map(|e| with_history(conn, e)).collect()
}

pub(crate) fn open_episode(conn: &Connection, patient: &PatientRow) -> Result<Option<Episode>> {
    let e = conn
        .prepare_cached(&format!(
            "SELECT {EPISODE_COLUMNS} FROM episodes WHERE patient_id = ?1 AND discharge_date IS NULL AND voided_at IS NULL"
        ))?
        .query_row([&patient.id], from_row)
        .optional()?;
    e.map(|e| with_history(conn, e)).transpose()
}

/// The episode a record dated `date` belongs to: the latest one started on or before it.
/// A patient who was never enrolled, or not yet on that date, has none: that is an error.
pub(crate) fn episode_on(conn: &Connection, patient: &PatientRow, field: &str, date: Date) -> Result<Episode> {
    let found = conn
        .prepare_cached(&format!(
            "SELECT {EPISODE_COLUMNS} FROM episodes WHERE patient_id = ?1 AND start_date <= ?2 AND voided_at IS NULL
             ORDER BY start_date DESC LIMIT 1"
        ))?
        .query_row((&patient.id, date.to_string()), from_row)
        .optional()?;
    if let Some(e) = found {
        return Ok(e);
    }
    let first: Option<String> =
        conn.query_row("SELECT MIN(start_date) FROM episodes WHERE patient_id = ?1 AND voided_at IS NULL", [&patient.id], |r| r.get(0))?;
    Err(match first {
        None => Error::Conflict(format!(
            "{} (MRN {}) was never enrolled; enrol them first (a depression screen of a patient not enrolled is `cocm screen`)",
            patient.name, patient.mrn
        )),
        Some(first) => Error::validation(field, format!("{date} is before {}'s enrolment on {first}", patient.name)),
    })
}

/// Enrolment options; `consent` and `targets` may be left out.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct Enrolment {
    pub start: String,
    pub consent: Option<String>,
    /// Comma-separated targets; depression when left out.
    pub targets: Option<String>,
    /// Comma-separated scales for the targets (`pcl5`, `phq-a,scared`); a target left out
    /// takes its default for the patient's age on the start date (spec §3a).
    pub primary_scale: Option<String>,
    /// `cocm` (when left out) or `general-bhi` (spec §7a).
    #[serde(default)]
    pub program: Option<String>,
    /// Comma-separated ICD-10-CM chapter 5 codes, the first primary (spec §7a).
    #[serde(default)]
    pub diagnosis: Option<String>,
}

/// Each target's primary scale: the one named for it, else its default for the patient's age
/// on the start date. A named scale that serves none of the targets, or two for one target,
/// is a validation error on `primary-scale`.
pub(crate) fn choose_primary_scales(targets: &[Target], named: Option<&str>, age: i64, groups: AgeGroups) -> Result<Vec<PrimaryScale>> {
    let mut chosen: Vec<PrimaryScale> = Vec::new();
    for part in named.unwrap_or("").split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let scale = instruments::parse_scale("primary-scale", part)?;
        let serves: Vec<Target> = instruments::scale_forms(scale)[0].form().targets.clone();
        let Some(target) = targets.iter().copied().find(|t| serves.contains(t)) else {
            let names: Vec<&str> = serves.iter().map(|t| t.as_str()).collect();
            return Err(Error::validation(
                "primary-scale",
                format!("{part} measures {}, which is not a target of this episode", names.join(" or ")),
            ));
        };
        if chosen.iter().any(|c| c.target == target) {
            return Err(Error::validation("primary-scale", format!("two scales were named for {target}")));
        }
        chosen.push(PrimaryScale { target, scale });
    }
    Ok(targets
        .iter()
        .map(|t| {
            chosen
                .iter()
                .find(|c| c.target == *t)
                .copied()
                .unwrap_or(PrimaryScale { target: *t, scale: instruments::default_scale(*t, age, groups) })
        })
        .collect())
}

pub(crate) fn enroll(conn: &Connection, actor: &audit::Actor, mrn: &str, e: &Enrolment) -> Result<String> {
    let patient = patients::find_by_mrn(conn, mrn)?;
    let start = patients::clinical_date("date", &e.start, &patient)?;
    let consent = e.consent.as_deref().map(|c| patients::clinical_date("consent", c, &patient)).transpose()?;
    let targets = parse_targets("targets", e.targets.as_deref().unwrap_or("depression"))?;
    let settings = crate::settings::load(conn)?;
    let groups = AgeGroups { adolescent_from: settings.adolescent_from_age, adult_from: settings.adult_from_age };
    let scales = choose_primary_scales(&targets, e.primary_scale.as_deref(), dates::age_on(patient.dob, start), groups)?;
    let diagnoses = crate::diagnoses::parse_codes("diagnosis", e.diagnosis.as_deref().unwrap_or(""))?;
    if let Some(open) = open_episode(conn, &patient)? {
        return Err(Error::Conflict(format!(
            "{} (MRN {}) already has an open episode since {}; discharge it before enrolling again",
            patient.name, patient.mrn, open.start_date
        )));
    }
    let last_discharge: Option<String> =
        conn.query_row("SELECT MAX(discharge_date) FROM episodes WHERE patient_id = ?1 AND voided_at IS NULL", [&patient.id], |r| {
            r.get(0)
        })?;
    if let Some(last) = last_discharge.filter(|d| *d > start.to_string()) {
        return Err(Error::validation("date", format!("{start} is before the previous episode's discharge on {last}")));
    }
    let program = e.program.as_deref().map(|p| crate::billing::parse_episode_program("program", p)).transpose()?.unwrap_or(Program::Cocm);
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO episodes (id, patient_id, start_date, consent_date, targets, primary_scales, status, created_at, program)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'active', ?7, ?8)",
    )?
    .execute((
        &id,
        &patient.id,
        start.to_string(),
        consent.map(|c| c.to_string()),
        targets_to_string(&targets),
        measures::primary_scales_text(&scales),
        audit::now(),
        program.as_str(),
    ))?;
    conn.prepare_cached("INSERT INTO episode_status_changes (id, episode_id, date, status) VALUES (?1, ?2, ?3, 'active')")?.execute((
        new_id(),
        &id,
        start.to_string(),
    ))?;
    let consent_id = consent.map(|consent| insert_consent(conn, &id, consent)).transpose()?;
    audit::record(
        conn,
        actor,
        "enroll",
        "episode",
        Some(&id),
        serde_json::json!({ "mrn": patient.mrn, "start": start, "consent": consent, "consent_id": consent_id, "targets": targets,
                            "primary_scales": measures::primary_scales_text(&scales), "program": program.as_str() }),
    )?;
    crate::diagnoses::insert(conn, actor, &id, &diagnoses, start)?;
    Ok(id)
}

pub(crate) fn record_consent(conn: &Connection, actor: &audit::Actor, mrn: &str, date: &str) -> Result<()> {
    let patient = patients::find_by_mrn(conn, mrn)?;
    let date = patients::clinical_date("date", date, &patient)?;
    let episode = open_episode(conn, &patient)?
        .ok_or_else(|| Error::Conflict(format!("{} (MRN {}) has no open episode to record consent for", patient.name, patient.mrn)))?;
    let consent_id = insert_consent(conn, &episode.id, date)?;
    audit::record(
        conn,
        actor,
        "consent",
        "episode",
        Some(&episode.id),
        serde_json::json!({ "from": episode.consent_date, "to": date, "consent_id": consent_id }),
    )
}

/// Records a consent date, and makes it the episode's consent date.
fn insert_consent(conn: &Connection, episode_id: &str, date: Date) -> Result<String> {
    let id = new_id();
    conn.prepare_cached("INSERT INTO episode_consents (id, episode_id, date, created_at) VALUES (?1, ?2, ?3, ?4)")?.execute((
        &id,
        episode_id,
        date.to_string(),
        audit::now(),
    ))?;
    conn.execute("UPDATE episodes SET consent_date = ?2 WHERE id = ?1", (episode_id, date.to_string()))?;
    Ok(id)
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
) -> Result<String> {
    let patient = patients::find_by_mrn(conn, mrn)?;
    let date = patients::clinical_date("date", date, &patient)?;
    let episode = open_episode(conn, &patient)?.ok_or_else(|| {
        Error::Conflict(format!(
            "{} (MRN {}) has no open episode; a discharged patient is enrolled again to open a new one",
            patient.name, patient.mrn
        ))
    })?;
    check_transition(episode.status, to, reason)?;
    let last_change = episode.valid_history().last().map(|c| c.date).unwrap_or(episode.start_date);
    if date < last_change {
        return Err(Error::validation("date", format!("{date} is before the episode's last status change on {last_change}")));
    }
    let change = new_id();
    conn.prepare_cached("INSERT INTO episode_status_changes (id, episode_id, date, status, reason) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute((&change, &episode.id, date.to_string(), to.as_str(), reason.map(|r| r.as_str())))?;
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
        serde_json::json!({ "from": episode.status, "to": to, "date": date, "reason": reason, "change": change }),
    )?;
    Ok(change)
}

/// Corrects a target's primary scale on the patient's open episode (spec §3a): a practice lead's
/// fix of a wrong choice at enrolment, allowed until the scale it replaces has a second score
/// in the episode (after that, the episode's measures already stand on it). Audited.
pub(crate) fn correct_primary_scale(conn: &Connection, actor: &audit::Actor, mrn: &str, target: &str, scale: &str) -> Result<()> {
    let patient = patients::find_by_mrn(conn, mrn)?;
    let target = Target::parse("target", target)?;
    let scale = instruments::parse_scale("scale", scale)?;
    let episode = open_episode(conn, &patient)?
        .ok_or_else(|| Error::Conflict(format!("{} (MRN {}) has no open episode", patient.name, patient.mrn)))?;
    let Some(current) = episode.primary_scales.iter().copied().find(|p| p.target == target) else {
        return Err(Error::validation("target", format!("{target} is not a target of this episode")));
    };
    if !instruments::scale_forms(scale)[0].form().targets.contains(&target) {
        return Err(Error::validation("scale", format!("{scale} does not measure {target}")));
    }
    if current.scale == scale {
        return Err(Error::validation("scale", format!("{scale} is already {target}'s primary scale")));
    }
    let lookback = crate::settings::load(conn)?.baseline_lookback_days;
    let (from, _) = measures::episode_window(episode.start_date, None, dates::today(), lookback);
    let forms: Vec<&str> = instruments::scale_forms(current.scale).into_iter().map(|i| i.as_str()).collect();
    let mut scores = 0;
    for form in &forms {
        scores += conn.query_row(
            "SELECT count(*) FROM assessments WHERE patient_id = ?1 AND instrument = ?2 AND date >= ?3 AND voided_at IS NULL",
            (&patient.id, form, from.to_string()),
            |r| r.get::<_, i64>(0),
        )?;
    }
    if scores >= 2 {
        return Err(Error::Conflict(format!(
            "{target} already has {scores} scores on {} in this episode; its primary scale is fixed",
            instruments::scale_label(current.scale)
        )));
    }
    let scales: Vec<PrimaryScale> =
        episode.primary_scales.iter().map(|p| if p.target == target { PrimaryScale { target, scale } } else { *p }).collect();
    conn.execute("UPDATE episodes SET primary_scales = ?2 WHERE id = ?1", (&episode.id, measures::primary_scales_text(&scales)))?;
    audit::record(
        conn,
        actor,
        "primary-scale",
        "episode",
        Some(&episode.id),
        serde_json::json!({ "target": target, "from": current.scale, "to": scale }),
    )
}

/// Marks an enrolment entered in error (spec §2): the episode is kept, and leaves every rule;
/// its contacts' minutes are reported as excluded.
pub(crate) fn void_enrolment(conn: &Connection, actor: &audit::Actor, episode_id: &str, reason: &str) -> Result<()> {
    voids::set_voided(conn, actor, "episodes", "id", "enrolment", episode_id, reason)?;
    audit::record(conn, actor, "entered-in-error", "enrolment", Some(episode_id), serde_json::json!({ "reason": reason }))
}

/// Marks a consent date entered in error; the episode's consent date becomes the one recorded
/// before it, or none.
pub(crate) fn void_consent(conn: &Connection, actor: &audit::Actor, consent_id: &str, reason: &str) -> Result<()> {
    voids::set_voided(conn, actor, "episode_consents", "id", "consent", consent_id, reason)?;
    let episode_id: String = conn.query_row("SELECT episode_id FROM episode_consents WHERE id = ?1", [consent_id], |r| r.get(0))?;
    conn.execute(
        "UPDATE episodes SET consent_date = (SELECT date FROM episode_consents WHERE episode_id = ?1 AND voided_at IS NULL
                                             ORDER BY created_at DESC, rowid DESC LIMIT 1)
         WHERE id = ?1",
        [&episode_id],
    )?;
    audit::record(conn, actor, "entered-in-error", "consent", Some(consent_id), serde_json::json!({ "reason": reason }))
}

/// Marks a status change entered in error and restores the status before it (spec §2): voiding
/// a discharge reopens the episode as it was. Only the latest status change that counts can be
/// voided, so the path stays one the rules allow; the enrolment's own `active` is voided by
/// voiding the enrolment.
pub(crate) fn void_status_change(conn: &Connection, actor: &audit::Actor, id: &str, reason: &str) -> Result<()> {
    let id = id.trim();
    let episode_id: Option<String> =
        conn.query_row("SELECT episode_id FROM episode_status_changes WHERE id = ?1", [id], |r| r.get(0)).optional()?;
    let episode_id = episode_id.ok_or_else(|| Error::NotFound(format!("no status-change with id '{id}'")))?;
    let episode =
        with_history(conn, conn.query_row(&format!("SELECT {EPISODE_COLUMNS} FROM episodes WHERE id = ?1"), [&episode_id], from_row)?)?;
    if episode.entered_in_error.is_some() {
        return Err(Error::Conflict(format!("the enrolment of status-change {id} was already entered in error")));
    }
    let id = id.to_string();
    let valid: Vec<&StatusChange> = episode.valid_history().collect();
    if valid.first().is_some_and(|c| c.id == id) {
        return Err(Error::validation(
            "id",
            format!("status-change {id} is the enrolment itself; void the enrolment {episode_id} instead"),
        ));
    }
    let last = valid.last().expect("an episode has its enrolment's active");
    if valid.iter().any(|c| c.id == id) && last.id != id {
        return Err(Error::Conflict(format!(
            "only the latest status change can be entered in error; void {} ({} on {}) first",
            last.id, last.status, last.date
        )));
    }
    voids::set_voided(conn, actor, "episode_status_changes", "id", "status-change", &id, reason)?;
    let before = valid.iter().rev().nth(1).expect("the enrolment's active stays");
    if before.status != EpisodeStatus::Discharged {
        let patient_id: String = conn.query_row("SELECT patient_id FROM episodes WHERE id = ?1", [&episode_id], |r| r.get(0))?;
        let other: Option<String> = conn
            .query_row(
                "SELECT start_date FROM episodes WHERE patient_id = ?1 AND id <> ?2 AND discharge_date IS NULL AND voided_at IS NULL",
                (&patient_id, &episode_id),
                |r| r.get(0),
            )
            .optional()?;
        if let Some(start) = other {
            return Err(Error::Conflict(format!(
                "the patient was enrolled again on {start}; only one episode can be open, so void that enrolment first"
            )));
        }
    }
    let discharged = before.status == EpisodeStatus::Discharged;
    conn.execute(
        "UPDATE episodes SET status = ?2, discharge_date = ?3, discharge_reason = ?4 WHERE id = ?1",
        (
            &episode_id,
            before.status.as_str(),
            discharged.then(|| before.date.to_string()),
            before.reason.filter(|_| discharged).map(|r| r.as_str()),
        ),
    )?;
    audit::record(
        conn,
        actor,
        "entered-in-error",
        "status-change",
        Some(&id),
        serde_json::json!({ "reason": reason, "restored": before.status }),
    )
}

impl Registry {
    /// Opens a new episode; returns its id.
    pub fn enroll(&mut self, mrn: &str, e: &Enrolment) -> Result<String> {
        self.write(Action::Enrol, |tx, actor| enroll(tx, actor, mrn, e))
    }

    /// Adds a new patient and enrols them, in one transaction: both happen or neither does.
    /// Returns the new episode's id.
    pub fn enroll_new_patient(&mut self, patient: &crate::patients::NewPatient, e: &Enrolment) -> Result<String> {
        self.permit(Action::AddPatient)?;
        self.write(Action::Enrol, |tx, actor| {
            patients::insert(tx, actor, patient)?;
            enroll(tx, actor, &patient.mrn, e)
        })
    }

    /// Records (verbal) consent for the patient's open episode.
    pub fn record_consent(&mut self, mrn: &str, date: &str) -> Result<()> {
        self.write(Action::RecordConsent, |tx, actor| record_consent(tx, actor, mrn, date))
    }

    /// Moves the open episode to `to`; returns the status change's id.
    pub fn change_status(&mut self, mrn: &str, to: EpisodeStatus, date: &str, reason: Option<DischargeReason>) -> Result<String> {
        self.write(Action::ChangeStatus, |tx, actor| change_status(tx, actor, mrn, to, date, reason))
    }

    /// A practice lead corrects a target's primary scale before its second score (spec §3a).
    pub fn correct_primary_scale(&mut self, mrn: &str, target: &str, scale: &str) -> Result<()> {
        self.write(Action::CorrectPrimaryScale, |tx, actor| correct_primary_scale(tx, actor, mrn, target, scale))
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
