//! Contacts (spec §2): care-team activity for a patient on a date, with minutes that become
//! billing (spec §7). A contact belongs to the episode it falls in.

use rusqlite::Connection;
use serde::Serialize;

use crate::access::Action;
use crate::audit;
use crate::dates::{self, Date};
use crate::episodes;
use crate::patients::{self, PatientRow};
use crate::store::new_id;
use crate::team::{self, TeamMember};
use crate::vocab::{ContactKind, ContactMode, Role};
use crate::voids::{self, EnteredInError};
use crate::{Error, Registry, Result};

pub const MAX_MINUTES: i64 = 600;

#[derive(Clone, Debug, Default, serde::Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct NewContact {
    pub date: String,
    #[ts(type = "number")]
    pub minutes: i64,
    /// Team member by id or exact name.
    pub by: String,
    /// `follow-up` when left out.
    pub kind: Option<String>,
    /// `phone` when left out.
    pub mode: Option<String>,
    pub note: String,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct Contact {
    pub id: String,
    pub episode_id: String,
    pub date: Date,
    pub author: TeamMember,
    pub kind: ContactKind,
    pub mode: ContactMode,
    #[ts(type = "number")]
    pub minutes: i64,
    pub note: String,
    pub entered_in_error: Option<EnteredInError>,
}

pub(crate) fn check_minutes(minutes: i64) -> Result<()> {
    if !(1..=MAX_MINUTES).contains(&minutes) {
        return Err(Error::validation("minutes", format!("must be from 1 to {MAX_MINUTES} (got {minutes})")));
    }
    Ok(())
}

pub(crate) fn insert(conn: &Connection, actor: &audit::Actor, mrn: &str, c: &NewContact) -> Result<String> {
    let patient = patients::find_by_mrn(conn, mrn)?;
    let author = team::find(conn, "by", &c.by)?;
    insert_for(conn, actor, &patient, &author, c)
}

/// `insert` for a patient and author already found (an import's rows, which found them to
/// match the contact against what is there); `c.by` is not read again.
pub(crate) fn insert_for(
    conn: &Connection,
    actor: &audit::Actor,
    patient: &PatientRow,
    author: &TeamMember,
    c: &NewContact,
) -> Result<String> {
    check_minutes(c.minutes)?;
    let kind = ContactKind::parse("kind", c.kind.as_deref().unwrap_or("follow-up"))?;
    let mode = ContactMode::parse("mode", c.mode.as_deref().unwrap_or("phone"))?;
    crate::access::require_own_name(actor, &author.id, Action::LogContact)?;
    let date = patients::clinical_date("date", &c.date, patient)?;
    let episode = episodes::episode_on(conn, patient, "date", date)?;
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO contacts (id, patient_id, episode_id, date, author_id, kind, mode, minutes, note, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(rusqlite::params![
        id,
        patient.id,
        episode.id,
        date.to_string(),
        author.id,
        kind.as_str(),
        mode.as_str(),
        c.minutes,
        c.note.trim(),
        audit::now()
    ])?;
    audit::record(
        conn,
        actor,
        "create",
        "contact",
        Some(&id),
        serde_json::json!({ "mrn": patient.mrn, "date": date, "by": author.name, "kind": kind, "minutes": c.minutes }),
    )?;
    Ok(id)
}

pub(crate) fn for_patient(conn: &Connection, patient_id: &str) -> Result<Vec<Contact>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.episode_id, c.date, t.id, t.name, t.role, c.kind, c.mode, c.minutes, c.note, c.voided_at, c.voided_by, c.void_reason
         FROM contacts c JOIN team_members t ON t.id = c.author_id
         WHERE c.patient_id = ?1 ORDER BY c.date, c.created_at",
    )?;
    let rows = stmt.query_map([patient_id], |r| {
        let (date, role, kind, mode): (String, String, String, String) = (r.get(2)?, r.get(5)?, r.get(6)?, r.get(7)?);
        Ok(Contact {
            id: r.get(0)?,
            episode_id: r.get(1)?,
            date: dates::parse_date("date", &date).unwrap_or_default(),
            author: TeamMember::named(r.get(3)?, r.get(4)?, Role::parse("role", &role).unwrap_or(Role::CareManager)),
            kind: ContactKind::parse("kind", &kind).unwrap_or(ContactKind::Other),
            mode: ContactMode::parse("mode", &mode).unwrap_or(ContactMode::None),
            minutes: r.get(8)?,
            note: r.get(9)?,
            entered_in_error: voids::from_columns(r.get(10)?, r.get(11)?, r.get(12)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl Registry {
    /// Logs a contact; returns its id.
    pub fn log_contact(&mut self, mrn: &str, c: &NewContact) -> Result<String> {
        self.write(Action::LogContact, |tx, actor| insert(tx, actor, mrn, c))
    }
}
