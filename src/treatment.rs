//! Treatment changes (spec §2): dated records that medication or psychotherapy was started or
//! changed, so that "treatment actively changed until target" is visible.

use rusqlite::Connection;
use serde::Serialize;

use crate::access::Action;
use crate::audit;
use crate::dates::{self, Date};
use crate::episodes;
use crate::patients;
use crate::store::new_id;
use crate::vocab::TreatmentChangeKind;
use crate::voids::{self, EnteredInError};
use crate::{Error, Registry, Result};

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct NewTreatmentChange {
    pub date: String,
    pub kind: String,
    pub description: String,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct TreatmentChange {
    pub id: String,
    pub date: Date,
    pub kind: TreatmentChangeKind,
    pub description: String,
    pub recorded_by: Option<String>,
    pub entered_in_error: Option<EnteredInError>,
}

pub(crate) fn insert(conn: &Connection, actor: &audit::Actor, mrn: &str, t: &NewTreatmentChange) -> Result<String> {
    let patient = patients::find_by_mrn(conn, mrn)?;
    let kind = TreatmentChangeKind::parse("kind", &t.kind)?;
    let description = t.description.trim();
    if description.is_empty() {
        return Err(Error::validation("description", "say what was started or changed"));
    }
    let date = patients::clinical_date("date", &t.date, &patient)?;
    let episode = episodes::episode_on(conn, &patient, "date", date)?;
    let id = new_id();
    conn.execute(
        "INSERT INTO treatment_changes (id, patient_id, episode_id, date, kind, description, recorded_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        rusqlite::params![id, patient.id, episode.id, date.to_string(), kind.as_str(), description, actor.name, audit::now()],
    )?;
    audit::record(
        conn,
        actor,
        "create",
        "treatment_change",
        Some(&id),
        serde_json::json!({ "mrn": patient.mrn, "date": date, "kind": kind }),
    )?;
    Ok(id)
}

pub(crate) fn for_patient(conn: &Connection, patient_id: &str) -> Result<Vec<TreatmentChange>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, date, kind, description, recorded_by, voided_at, voided_by, void_reason
         FROM treatment_changes WHERE patient_id = ?1 ORDER BY date, created_at",
    )?;
    let rows = stmt.query_map([patient_id], |r| {
        let (date, kind): (String, String) = (r.get(1)?, r.get(2)?);
        Ok(TreatmentChange {
            id: r.get(0)?,
            date: dates::parse_date("date", &date).unwrap_or_default(),
            kind: TreatmentChangeKind::parse("kind", &kind).unwrap_or(TreatmentChangeKind::Other),
            description: r.get(3)?,
            recorded_by: r.get(4)?,
            entered_in_error: voids::from_columns(r.get(5)?, r.get(6)?, r.get(7)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl Registry {
    pub fn record_treatment_change(&mut self, mrn: &str, t: &NewTreatmentChange) -> Result<String> {
        self.write(Action::RecordTreatmentChange, |tx, actor| insert(tx, actor, mrn, t))
    }
}
