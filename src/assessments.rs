//! Assessments (spec §2, §3): one administration of the PHQ-9 or GAD-7 on a date, stored with
//! every item's answer and the total and item 9 the core derived from them.

use rusqlite::Connection;
use serde::Serialize;

use crate::access::Action;
use crate::audit;
use crate::dates::{self, Date};
use crate::episodes;
use crate::instruments::{self, Difficulty, Instrument, Severity};
use crate::patients;
use crate::store::new_id;
use crate::{Error, Registry, Result};

#[derive(Clone, Debug, Default, serde::Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct NewAssessment {
    pub date: String,
    pub instrument: String,
    /// Item answers, item 1 first.
    pub answers: Vec<i64>,
    /// The PHQ-9's optional functional question.
    pub difficulty: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq, ts_rs::TS)]
pub struct Assessment {
    pub id: String,
    pub date: Date,
    pub instrument: Instrument,
    pub items: Vec<u8>,
    pub total: u8,
    pub severity: Severity,
    pub item9_positive: bool,
    pub difficulty: Option<Difficulty>,
    pub recorded_by: Option<String>,
    pub entered_in_error: Option<crate::voids::EnteredInError>,
}

pub(crate) fn insert(conn: &Connection, actor: &audit::Actor, mrn: &str, a: &NewAssessment) -> Result<String> {
    let patient = patients::find_by_mrn(conn, mrn)?;
    let instrument = Instrument::parse("instrument", &a.instrument)?;
    let score = instruments::score(instrument, &a.answers)?;
    let difficulty = a.difficulty.as_deref().map(|d| Difficulty::parse("difficulty", d)).transpose()?;
    if difficulty.is_some() && instrument != Instrument::Phq9 {
        return Err(Error::validation("difficulty", "the difficulty question belongs to the PHQ-9"));
    }
    let date = patients::clinical_date("date", &a.date, &patient)?;
    // Pre-enrolment screening (from S − lookback days) is the episode's baseline, so an
    // assessment may come up to that many days before the start of the patient's first episode.
    let lookback = crate::settings::load(conn)?.baseline_lookback_days;
    episodes::episode_on(conn, &patient, "date", dates::add_days(date, lookback))?;
    let items: Vec<String> = a.answers.iter().map(|x| x.to_string()).collect();
    let id = new_id();
    conn.execute(
        "INSERT INTO assessments (id, patient_id, date, instrument, items, total, item9, difficulty, recorded_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        rusqlite::params![
            id,
            patient.id,
            date.to_string(),
            instrument.as_str(),
            items.join(","),
            score.total,
            score.item9,
            difficulty.map(|d| d.as_str()),
            actor.name,
            audit::now()
        ],
    )?;
    audit::record(
        conn,
        actor,
        "create",
        "assessment",
        Some(&id),
        serde_json::json!({ "mrn": patient.mrn, "date": date, "instrument": instrument, "items": items.join(","), "total": score.total }),
    )?;
    Ok(id)
}

pub(crate) fn for_patient(conn: &Connection, patient_id: &str) -> Result<Vec<Assessment>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, date, instrument, items, total, difficulty, recorded_by, voided_at, voided_by, void_reason
         FROM assessments WHERE patient_id = ?1 ORDER BY date, created_at",
    )?;
    let rows = stmt.query_map([patient_id], |r| {
        let (date, instrument, items): (String, String, String) = (r.get(1)?, r.get(2)?, r.get(3)?);
        let instrument = Instrument::parse("instrument", &instrument).unwrap_or(Instrument::Phq9);
        let items: Vec<u8> = items.split(',').filter_map(|x| x.parse().ok()).collect();
        let total: u8 = r.get(4)?;
        let difficulty: Option<String> = r.get(5)?;
        Ok(Assessment {
            id: r.get(0)?,
            date: dates::parse_date("date", &date).unwrap_or_default(),
            instrument,
            item9_positive: instrument == Instrument::Phq9 && instruments::item9_positive(items.get(8).copied()),
            items,
            total,
            severity: instrument.severity(total),
            difficulty: difficulty.and_then(|d| Difficulty::parse("difficulty", &d).ok()),
            recorded_by: r.get(6)?,
            entered_in_error: crate::voids::from_columns(r.get(7)?, r.get(8)?, r.get(9)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl Registry {
    /// Scores and stores an assessment; returns its id. Nothing is stored when any item is wrong.
    pub fn record_assessment(&mut self, mrn: &str, a: &NewAssessment) -> Result<String> {
        self.write(Action::RecordAssessment, |tx, actor| insert(tx, actor, mrn, a))
    }
}
