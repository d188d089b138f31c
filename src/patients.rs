//! Patients (spec §2): MRN, name, date of birth, their care team and coverage (`coverage`).

use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::access::Action;
use crate::audit;
use crate::dates::{self, Date};
use crate::store::new_id;
use crate::team::{self, TeamMember};
use crate::vocab::{Payer, Role};
use crate::{Error, Registry, Result};

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct Patient {
    pub id: String,
    pub mrn: String,
    pub name: String,
    pub dob: Date,
    /// The primary coverage's payer today (else the latest): one word for lists.
    pub payer: Option<Payer>,
    /// Every coverage record, primary first (spec §7a).
    pub coverages: Vec<crate::coverage::Coverage>,
    pub pcp: Option<TeamMember>,
    pub care_manager: Option<TeamMember>,
    pub consultant: Option<TeamMember>,
    /// The audit sequence number of the last change to the patient's record: an edit made from
    /// an older version is refused as a conflict (another workstation saved in between).
    #[ts(type = "number")]
    pub version: i64,
}

/// A new patient. Team members are named by id or exact name.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct NewPatient {
    pub mrn: String,
    pub name: String,
    pub dob: String,
    /// Adds a primary coverage of this payer (its start unknown; `cocm coverage add` dates one).
    pub payer: Option<String>,
    pub pcp: Option<String>,
    pub care_manager: Option<String>,
    pub consultant: Option<String>,
}

/// Changes to a patient's demographics or team; `None` leaves a field as it is,
/// `Some("")` clears a team member.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct PatientChanges {
    pub name: Option<String>,
    pub dob: Option<String>,
    pub payer: Option<String>,
    pub pcp: Option<String>,
    pub care_manager: Option<String>,
    pub consultant: Option<String>,
    /// The `Patient::version` the form was filled from; a later change by anyone else makes
    /// this save a `conflict`. Absent, the save applies whatever changed since (the CLI).
    #[ts(optional, type = "number")]
    pub version: Option<i64>,
}

/// The stored columns of a patient, for rules that need them.
#[derive(Clone, Debug)]
pub(crate) struct PatientRow {
    pub id: String,
    pub mrn: String,
    pub name: String,
    pub dob: Date,
}

pub(crate) fn find_by_mrn(conn: &Connection, mrn: &str) -> Result<PatientRow> {
    let mrn = mrn.trim();
    conn.prepare_cached("SELECT id, mrn, name, dob FROM patients WHERE mrn = ?1")?
        .query_row([mrn], |r| {
            let dob: String = r.get(3)?;
            Ok(PatientRow { id: r.get(0)?, mrn: r.get(1)?, name: r.get(2)?, dob: dates::parse_date("dob", &dob).unwrap_or_default() })
        })
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no patient with MRN '{mrn}'")))
}

/// A clinical date: a real date, not in the future, not before the patient was born.
pub(crate) fn clinical_date(field: &str, value: &str, patient: &PatientRow) -> Result<Date> {
    let d = dates::parse_date(field, value)?;
    dates::not_in_future(field, d)?;
    if d < patient.dob {
        return Err(Error::validation(field, format!("{d} is before {}'s date of birth ({})", patient.name, patient.dob)));
    }
    Ok(d)
}

fn team_member(conn: &Connection, field: &str, key: Option<&str>, role: Role) -> Result<Option<TeamMember>> {
    let Some(key) = key.map(str::trim).filter(|k| !k.is_empty()) else { return Ok(None) };
    let m = team::find(conn, field, key)?;
    if m.role != role {
        return Err(Error::validation(field, format!("{} is a {}, not a {role}", m.name, m.role)));
    }
    Ok(Some(m))
}

fn valid_dob(value: &str) -> Result<Date> {
    let dob = dates::parse_date("dob", value)?;
    dates::not_in_future("dob", dob)?;
    if dob < Date::from_ymd_opt(1900, 1, 1).expect("valid") {
        return Err(Error::validation("dob", format!("{dob} is before 1900")));
    }
    Ok(dob)
}

fn valid_name(value: &str) -> Result<&str> {
    let name = value.trim();
    if name.is_empty() {
        return Err(Error::validation("name", "a patient needs a name"));
    }
    Ok(name)
}

pub(crate) fn insert(conn: &Connection, actor: &audit::Actor, p: &NewPatient) -> Result<String> {
    let mrn = p.mrn.trim();
    if mrn.is_empty() {
        return Err(Error::validation("mrn", "a patient needs an MRN"));
    }
    let name = valid_name(&p.name)?;
    let dob = valid_dob(&p.dob)?;
    let payer = p.payer.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(|p| Payer::parse("payer", p)).transpose()?;
    let pcp = team_member(conn, "pcp", p.pcp.as_deref(), Role::Pcp)?;
    let cm = team_member(conn, "care-manager", p.care_manager.as_deref(), Role::CareManager)?;
    let psy = team_member(conn, "consultant", p.consultant.as_deref(), Role::PsychiatricConsultant)?;
    let taken: bool = conn.query_row("SELECT EXISTS (SELECT 1 FROM patients WHERE mrn = ?1)", [mrn], |r| r.get(0))?;
    if taken {
        return Err(Error::Conflict(format!("mrn: a patient with MRN '{mrn}' already exists")));
    }
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO patients (id, mrn, name, dob, pcp_id, care_manager_id, consultant_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(rusqlite::params![
        id,
        mrn,
        name,
        dob.to_string(),
        pcp.as_ref().map(|m| &m.id),
        cm.as_ref().map(|m| &m.id),
        psy.as_ref().map(|m| &m.id),
        audit::now()
    ])?;
    audit::record(conn, actor, "create", "patient", Some(&id), serde_json::json!({ "mrn": mrn, "name": name }))?;
    if let Some(payer) = payer {
        let row = PatientRow { id: id.clone(), mrn: mrn.to_string(), name: name.to_string(), dob };
        let coverage = crate::coverage::NewCoverage { payer: payer.as_str().into(), ..Default::default() };
        crate::coverage::insert(conn, actor, &row, &coverage, None)?;
    }
    Ok(id)
}

fn member_from(r: &Row, at: usize) -> rusqlite::Result<Option<TeamMember>> {
    let id: Option<String> = r.get(at)?;
    let Some(id) = id else { return Ok(None) };
    let role: String = r.get(at + 2)?;
    Ok(Some(TeamMember::named(id, r.get(at + 1)?, Role::parse("role", &role).unwrap_or(Role::Pcp))))
}

pub(crate) fn load(conn: &Connection, mrn: &str) -> Result<Patient> {
    let row = find_by_mrn(conn, mrn)?;
    let patient = conn.query_row(
        "SELECT pcp.id, pcp.name, pcp.role, cm.id, cm.name, cm.role, psy.id, psy.name, psy.role
         FROM patients p
         LEFT JOIN team_members pcp ON pcp.id = p.pcp_id
         LEFT JOIN team_members cm ON cm.id = p.care_manager_id
         LEFT JOIN team_members psy ON psy.id = p.consultant_id
         WHERE p.id = ?1",
        [&row.id],
        |r| {
            Ok(Patient {
                id: row.id.clone(),
                mrn: row.mrn.clone(),
                name: row.name.clone(),
                dob: row.dob,
                payer: None,
                coverages: Vec::new(),
                pcp: member_from(r, 0)?,
                care_manager: member_from(r, 3)?,
                consultant: member_from(r, 6)?,
                version: 0,
            })
        },
    )?;
    let version = crate::audit::last_change(conn, "patient", &patient.id)?.map_or(0, |c| c.seq);
    let coverages = crate::coverage::for_patient(conn, &patient.id)?;
    Ok(Patient { version, payer: crate::coverage::payer_now(&coverages), coverages, ..patient })
}

impl Registry {
    /// Adds a patient; returns the new patient's id.
    pub fn add_patient(&mut self, p: &NewPatient) -> Result<String> {
        self.write(Action::AddPatient, |tx, actor| insert(tx, actor, p))
    }

    pub fn patient(&self, mrn: &str) -> Result<Patient> {
        load(&self.conn, mrn)
    }

    /// Edits demographics or the care team; the audit row records each old and new value.
    pub fn update_patient(&mut self, mrn: &str, c: &PatientChanges) -> Result<Patient> {
        self.write(Action::EditPatient, |tx, actor| {
            let before = load(tx, mrn)?;
            if c.version.is_some_and(|seen| before.version > seen) {
                return Err(crate::audit::last_change(tx, "patient", &before.id)?
                    .map_or_else(|| Error::Conflict("changed since you opened it; reload".into()), |c| c.conflict()));
            }
            let mut changed = serde_json::Map::new();
            let mut set = |column: &str, old: serde_json::Value, new: Option<String>| -> Result<()> {
                let new_json = serde_json::json!(new);
                if old != new_json {
                    tx.execute(&format!("UPDATE patients SET {column} = ?2 WHERE id = ?1"), (&before.id, &new))?;
                    changed.insert(column.to_string(), serde_json::json!({ "from": old, "to": new_json }));
                }
                Ok(())
            };
            if let Some(name) = &c.name {
                set("name", serde_json::json!(before.name), Some(valid_name(name)?.to_string()))?;
            }
            if let Some(dob) = &c.dob {
                set("dob", serde_json::json!(before.dob.to_string()), Some(valid_dob(dob)?.to_string()))?;
            }
            // The form sends the payer it showed: unchanged is no change, even with coverage records.
            if let Some(payer) = c.payer.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
                let payer = Payer::parse("payer", payer)?;
                if before.payer != Some(payer) {
                    crate::coverage::change_registration_payer(tx, actor, &before, payer)?;
                }
            }
            let teams = [
                ("pcp_id", "pcp", &c.pcp, &before.pcp, Role::Pcp),
                ("care_manager_id", "care-manager", &c.care_manager, &before.care_manager, Role::CareManager),
                ("consultant_id", "consultant", &c.consultant, &before.consultant, Role::PsychiatricConsultant),
            ];
            for (column, field, change, old, role) in teams {
                if let Some(key) = change {
                    let new = team_member(tx, field, Some(key), role)?.map(|m| m.id);
                    set(column, serde_json::json!(old.as_ref().map(|m| &m.id)), new)?;
                }
            }
            if !changed.is_empty() {
                audit::record(tx, actor, "update", "patient", Some(&before.id), serde_json::Value::Object(changed))?;
            }
            load(tx, mrn)
        })
    }
}
