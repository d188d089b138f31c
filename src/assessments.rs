//! Assessments (spec §2, §3, §3a): one administration of a catalogue instrument on a date,
//! stored with every item's answer and the total and safety verdict the core derived from them.

use rusqlite::Connection;
use serde::Serialize;

use crate::access::Action;
use crate::audit;
use crate::dates::{self, Date};
use crate::episodes;
use crate::instruments::{self, Difficulty, Instrument, Severity};
use crate::measures;
use crate::patients;
use crate::snapshot::text;
use crate::store::new_id;
use crate::{Error, Registry, Result};

#[derive(Clone, Debug, Default, serde::Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct NewAssessment {
    pub date: String,
    pub instrument: String,
    /// Item answers, item 1 first.
    pub answers: Vec<i64>,
    /// The optional functional question of an instrument that has one (the PHQ-9).
    pub difficulty: Option<String>,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct Assessment {
    pub id: String,
    pub date: Date,
    pub instrument: Instrument,
    /// Empty for an imported total-only score.
    pub items: Vec<u8>,
    pub total: u8,
    /// Imported with its total alone (items and item 9 unknown): it counts for the measures,
    /// never for the safety flag.
    pub total_only: bool,
    pub severity: Severity,
    /// A safety item is positive (PHQ-9 item 9; named for it).
    pub item9_positive: bool,
    pub difficulty: Option<Difficulty>,
    pub recorded_by: Option<String>,
    pub entered_in_error: Option<crate::voids::EnteredInError>,
    /// Who answered (spec §10): `staff`, `patient` or `caregiver`.
    pub source: String,
    /// A patient's or caregiver's answers that no team member has marked reviewed yet.
    pub new: bool,
}

/// `cocm assess` and the app's form: a score in (or up to the lookback before) an episode.
pub(crate) fn insert(conn: &Connection, actor: &audit::Actor, mrn: &str, a: &NewAssessment) -> Result<String> {
    let patient = patients::find_by_mrn(conn, mrn)?;
    insert_dated(conn, actor, &patient, a, |date| assessment_date(conn, &patient, date, lookback_days(conn)?))
}

/// The baseline lookback (spec §4), which decides the episode a score may fall before.
pub(crate) fn lookback_days(conn: &Connection) -> Result<i64> {
    Ok(crate::settings::load(conn)?.baseline_lookback_days)
}

/// An import's score, for a patient already found, with the lookback read once (an import
/// stores hundreds of thousands of scores in one transaction). An EHR extract's depression
/// screens (PHQ-2, PHQ-9, PHQ-A) may be of any patient, enrolled or not (§9); every other
/// form needs an episode as `insert` does.
pub(crate) fn insert_for(
    conn: &Connection,
    actor: &audit::Actor,
    patient: &patients::PatientRow,
    lookback_days: i64,
    a: &NewAssessment,
) -> Result<String> {
    let instrument = Instrument::parse("instrument", &a.instrument)?;
    insert_dated(conn, actor, patient, a, |date| imported_date(conn, patient, date, lookback_days, instrument))
}

/// An imported score's date: any clinical date of the patient's for a depression screen, else
/// as `assessment_date`.
fn imported_date(
    conn: &Connection,
    patient: &patients::PatientRow,
    date: &str,
    lookback_days: i64,
    instrument: Instrument,
) -> Result<Date> {
    if SCREENING_FORMS.contains(&instrument.as_str()) {
        return patients::clinical_date("date", date, patient);
    }
    assessment_date(conn, patient, date, lookback_days)
}

fn insert_dated(
    conn: &Connection,
    actor: &audit::Actor,
    patient: &patients::PatientRow,
    a: &NewAssessment,
    check_date: impl FnOnce(&str) -> Result<Date>,
) -> Result<String> {
    let instrument = Instrument::parse("instrument", &a.instrument)?;
    let score = instruments::score(instrument, &a.answers)?;
    let difficulty = a.difficulty.as_deref().map(|d| Difficulty::parse("difficulty", d)).transpose()?;
    if difficulty.is_some() && instrument.form().difficulty.is_none() {
        return Err(Error::validation("difficulty", format!("the {} has no difficulty question", instrument.label())));
    }
    let date = check_date(&a.date)?;
    write(conn, actor, patient, (instrument, score), date, a, difficulty, Provenance::STAFF)
}

/// The depression screens a practice records for any patient, enrolled or not (spec §9).
pub const SCREENING_FORMS: [&str; 3] = ["phq2", "phq9", "phq-a"];

/// Records a screening score (PHQ-2, PHQ-9 or PHQ-A) for any practice patient: no episode
/// needed. Inside an episode's baseline window it is that episode's baseline, as §4 reads.
pub(crate) fn insert_screening(conn: &Connection, actor: &audit::Actor, mrn: &str, a: &NewAssessment) -> Result<String> {
    let patient = patients::find_by_mrn(conn, mrn)?;
    let instrument = Instrument::parse("instrument", &a.instrument)?;
    if !SCREENING_FORMS.contains(&instrument.as_str()) {
        return Err(Error::validation("instrument", format!("a screening is a PHQ-2, PHQ-9 or PHQ-A, not the {}", instrument.label())));
    }
    let score = instruments::score(instrument, &a.answers)?;
    let difficulty = a.difficulty.as_deref().map(|d| Difficulty::parse("difficulty", d)).transpose()?;
    if difficulty.is_some() && instrument.form().difficulty.is_none() {
        return Err(Error::validation("difficulty", format!("the {} has no difficulty question", instrument.label())));
    }
    let date = patients::clinical_date("date", &a.date, &patient)?;
    write(conn, actor, &patient, (instrument, score), date, a, difficulty, Provenance::STAFF)
}

/// Who answered an assessment (spec §10): staff entered it, or a patient or caregiver answered
/// a questionnaire request themselves.
#[derive(Clone, Copy)]
pub(crate) struct Provenance<'a> {
    /// `staff`, `patient` or `caregiver` (the column `source`).
    pub source: &'a str,
    pub request_id: Option<&'a str>,
}

impl Provenance<'_> {
    pub const STAFF: Provenance<'static> = Provenance { source: "staff", request_id: None };
}

/// A questionnaire request's answers, already scored by the caller's checks: dated today by
/// the respondent, in the request's episode. `answers` are one instrument's.
pub(crate) fn insert_self_reported(
    conn: &Connection,
    actor: &audit::Actor,
    patient: &patients::PatientRow,
    instrument: Instrument,
    answers: &[i64],
    date: Date,
    provenance: Provenance,
) -> Result<(String, instruments::Score)> {
    let score = instruments::score(instrument, answers)?;
    let a = NewAssessment { date: date.to_string(), instrument: instrument.as_str().into(), answers: answers.to_vec(), difficulty: None };
    let id = write(conn, actor, patient, (instrument, score.clone()), date, &a, None, provenance)?;
    Ok((id, score))
}

#[allow(clippy::too_many_arguments)]
fn write(
    conn: &Connection,
    actor: &audit::Actor,
    patient: &patients::PatientRow,
    (instrument, score): (Instrument, instruments::Score),
    date: Date,
    a: &NewAssessment,
    difficulty: Option<Difficulty>,
    provenance: Provenance,
) -> Result<String> {
    let items: Vec<String> = a.answers.iter().map(|x| x.to_string()).collect();
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO assessments (id, patient_id, date, instrument, items, total, safety, difficulty, recorded_by, created_at,
                                  source, request_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(rusqlite::params![
        id,
        patient.id,
        date.to_string(),
        instrument.as_str(),
        items.join(","),
        score.total,
        score.safety,
        difficulty.map(|d| d.as_str()),
        actor.name,
        audit::now(),
        provenance.source,
        provenance.request_id
    ])?;
    let mut details =
        serde_json::json!({ "mrn": patient.mrn, "date": date, "instrument": instrument, "items": items.join(","), "total": score.total });
    if let Some(request) = provenance.request_id {
        details["answered_by"] = provenance.source.into();
        details["request"] = request.into();
    }
    audit::record(conn, actor, "create", "assessment", Some(&id), details)?;
    Ok(id)
}

pub(crate) fn for_patient(conn: &Connection, patient_id: &str) -> Result<Vec<Assessment>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, date, instrument, items, total, difficulty, recorded_by, voided_at, voided_by, void_reason, total_only, safety,
                source, reviewed_at IS NULL
         FROM assessments WHERE patient_id = ?1 ORDER BY date, created_at",
    )?;
    let rows = stmt.query_map([patient_id], |r| {
        let safety: Option<bool> = r.get(11)?;
        let (date, instrument, items): (String, String, String) = (r.get(1)?, r.get(2)?, r.get(3)?);
        let instrument = Instrument::parse("instrument", &instrument)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e)))?;
        let items: Vec<u8> = items.split(',').filter_map(|x| x.parse().ok()).collect();
        let total: u8 = r.get(4)?;
        let difficulty: Option<String> = r.get(5)?;
        Ok(Assessment {
            id: r.get(0)?,
            date: dates::parse_date("date", &date).unwrap_or_default(),
            instrument,
            item9_positive: safety == Some(true),
            items,
            total,
            total_only: r.get(10)?,
            severity: instrument.severity(total),
            difficulty: difficulty.and_then(|d| Difficulty::parse("difficulty", &d).ok()),
            recorded_by: r.get(6)?,
            entered_in_error: crate::voids::from_columns(r.get(7)?, r.get(8)?, r.get(9)?),
            new: r.get::<_, String>(12)? != "staff" && r.get::<_, bool>(13)? && r.get::<_, Option<String>>(7)?.is_none(),
            source: r.get(12)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An assessment's date, checked: a clinical date of the patient's, in an episode or before one.
/// Pre-enrolment screening (from S − lookback days) is the episode's baseline, so an assessment
/// may come up to that many days before the start of the patient's first episode.
fn assessment_date(conn: &Connection, patient: &patients::PatientRow, date: &str, lookback_days: i64) -> Result<Date> {
    let date = patients::clinical_date("date", date, patient)?;
    episodes::episode_on(conn, patient, "date", dates::add_days(date, lookback_days))?;
    Ok(date)
}

/// Stores a historical score whose items are unknown (an import's), marked total-only: item 9
/// is unknown, so it never raises or clears the safety flag (spec §3, §5). The same date rules
/// as an imported assessment with items; the total must be one the instrument can reach.
pub(crate) fn insert_total_only(
    conn: &Connection,
    actor: &audit::Actor,
    patient: &patients::PatientRow,
    lookback_days: i64,
    date: Date,
    instrument: Instrument,
    total: i64,
) -> Result<String> {
    let max = i64::from(instrument.max_total());
    if !(0..=max).contains(&total) {
        return Err(Error::validation("total", format!("{total} is outside the {}'s 0–{max}", instrument.label())));
    }
    let date = imported_date(conn, patient, &date.to_string(), lookback_days, instrument)?;
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO assessments (id, patient_id, date, instrument, items, total, safety, recorded_by, created_at, total_only)
         VALUES (?1, ?2, ?3, ?4, '', ?5, NULL, ?6, ?7, 1)",
    )?
    .execute(rusqlite::params![id, patient.id, date.to_string(), instrument.as_str(), total, actor.name, audit::now()])?;
    audit::record(
        conn,
        actor,
        "create",
        "assessment",
        Some(&id),
        serde_json::json!({ "mrn": patient.mrn, "date": date, "instrument": instrument, "total": total, "total_only": true }),
    )?;
    Ok(id)
}

impl Registry {
    /// Scores and stores an assessment; returns its id. Nothing is stored when any item is wrong.
    pub fn record_assessment(&mut self, mrn: &str, a: &NewAssessment) -> Result<String> {
        self.write(Action::RecordAssessment, |tx, actor| insert(tx, actor, mrn, a))
    }

    /// Records a depression screen (PHQ-2, PHQ-9, PHQ-A) for any patient, enrolled or not.
    pub fn record_screening(&mut self, mrn: &str, a: &NewAssessment) -> Result<String> {
        self.write(Action::RecordAssessment, |tx, actor| insert_screening(tx, actor, mrn, a))
    }
}

/// Every live assessment's score dated on or before `until`, grouped by patient, in date order
/// and, within a day, in the order entered; `filter` narrows the patients (extra SQL on `a`,
/// its parameters after `until`). For the set-based readers (caseload, queue, reports): the
/// covering `assessments_by_patient` index alone is read, which orders a day's entries by
/// instrument and score, so each patient-day's few rows are put back in rowid (entry) order
/// here; asking SQL for that order would sort the whole table.
pub(crate) fn for_each_score(
    conn: &Connection,
    filter: &str,
    params: &[&dyn rusqlite::ToSql],
    mut each: impl FnMut(&str, Instrument, measures::Point) -> Result<()>,
) -> Result<()> {
    let sql = format!(
        "SELECT a.patient_id, a.date, a.instrument, a.total, a.safety, a.rowid FROM assessments a
         WHERE a.voided_at IS NULL AND a.date <= ?1{filter} ORDER BY a.patient_id, a.date"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params)?;
    // The current patient-day's rows: (rowid, instrument, point).
    let mut day: Vec<(i64, Instrument, measures::Point)> = Vec::new();
    let (mut day_patient, mut day_date) = (String::new(), String::new());
    let mut flush = |patient: &str, day: &mut Vec<(i64, Instrument, measures::Point)>| -> Result<()> {
        day.sort_unstable_by_key(|(rowid, _, _)| *rowid);
        for (_, instrument, point) in day.drain(..) {
            each(patient, instrument, point)?;
        }
        Ok(())
    };
    while let Some(r) = rows.next()? {
        let (patient, date) = (text(r, 0)?, text(r, 1)?);
        if patient != day_patient || date != day_date {
            flush(&day_patient, &mut day)?;
            day_patient.clear();
            day_patient.push_str(patient);
            day_date.clear();
            day_date.push_str(date);
        }
        // An id the catalogue does not know (a newer version's instrument) counts in no rule.
        let Some(instrument) = Instrument::by_id(text(r, 2)?) else { continue };
        let date = dates::parse_iso(date).unwrap_or_default();
        day.push((r.get(5)?, instrument, measures::Point { date, total: r.get(3)?, safety: r.get(4)? }));
    }
    flush(&day_patient, &mut day)
}
