//! A patient's coverage (spec §7a): payer category, plan, member id, from and to dates, and
//! whether it is primary or secondary. A dual-eligible patient has Medicare primary and
//! Medicaid secondary. Billing reads the primary coverage on the date of service; a report's
//! payer mix the primary coverage on the period's last day. Coverage is never deleted: one
//! entered in error stops counting, like every record.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::access::Action;
use crate::dates::{self, Date};
use crate::store::new_id;
use crate::vocab::Payer;
use crate::voids::{self, EnteredInError};
use crate::{Error, Registry, Result, audit, patients};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct Coverage {
    /// What `cocm coverage end ID` and `cocm void coverage ID` take.
    pub id: String,
    pub payer: Payer,
    pub plan: Option<String>,
    pub member_id: Option<String>,
    /// None: from before the registry knew (a payer given at registration).
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub secondary: bool,
    pub entered_in_error: Option<EnteredInError>,
}

impl Coverage {
    /// Whether the coverage is in force on `day`.
    pub fn covers(&self, day: Date) -> bool {
        self.entered_in_error.is_none() && in_force(self.from, self.to, day)
    }
}

/// Whether a coverage from `from` to `to` (none: open) is in force on `day`.
pub(crate) fn in_force(from: Option<Date>, to: Option<Date>, day: Date) -> bool {
    from.is_none_or(|f| f <= day) && to.is_none_or(|t| t >= day)
}

/// A coverage as the CLI and the patient screen enter it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct NewCoverage {
    pub payer: String,
    pub plan: Option<String>,
    pub member_id: Option<String>,
    pub from: String,
    pub to: Option<String>,
    pub secondary: bool,
}

/// The primary coverage in force on `day`, if any.
pub fn primary_on(coverages: &[Coverage], day: Date) -> Option<&Coverage> {
    coverages.iter().find(|c| !c.secondary && c.covers(day))
}

/// The patient's payer as one word for lists: the primary coverage today, else the latest.
pub fn payer_now(coverages: &[Coverage]) -> Option<Payer> {
    primary_on(coverages, dates::today())
        .or_else(|| coverages.iter().filter(|c| !c.secondary && c.entered_in_error.is_none()).max_by_key(|c| c.from))
        .map(|c| c.payer)
}

const COLUMNS: &str = "id, patient_id, payer, plan, member_id, from_date, to_date, secondary, voided_at, voided_by, void_reason";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<(String, Coverage)> {
    let (payer, from, to): (String, Option<String>, Option<String>) = (r.get(2)?, r.get(5)?, r.get(6)?);
    let coverage = Coverage {
        id: r.get(0)?,
        payer: Payer::parse("payer", &payer).unwrap_or(Payer::Other),
        plan: r.get(3)?,
        member_id: r.get(4)?,
        from: from.as_deref().and_then(dates::parse_iso),
        to: to.as_deref().and_then(dates::parse_iso),
        secondary: r.get(7)?,
        entered_in_error: voids::from_columns(r.get(8)?, r.get(9)?, r.get(10)?),
    };
    Ok((r.get(1)?, coverage))
}

/// Whose coverages [`by_patient`] reads.
#[derive(Clone, Copy)]
pub(crate) enum Whose<'a> {
    Patient(&'a str),
    /// Patients ever enrolled: billing and the program report never read the practice's other
    /// patients (seen, screened, §9), who may outnumber the caseload three to one.
    Enrolled,
    Everyone,
}

/// Every coverage (entered-in-error ones included), by patient, each by start date: billing
/// and reports read them all once.
pub(crate) fn by_patient(conn: &Connection, whose: Whose) -> Result<HashMap<String, Vec<Coverage>>> {
    let filter = match whose {
        Whose::Patient(_) => " WHERE patient_id = ?1",
        Whose::Enrolled => " WHERE patient_id IN (SELECT patient_id FROM episodes)",
        Whose::Everyone => "",
    };
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM coverages{filter} ORDER BY patient_id, secondary, from_date"))?;
    let params: Vec<&dyn rusqlite::ToSql> = match &whose {
        Whose::Patient(p) => vec![p as &dyn rusqlite::ToSql],
        _ => Vec::new(),
    };
    let mut out: HashMap<String, Vec<Coverage>> = HashMap::new();
    for row in stmt.query_map(params.as_slice(), from_row)? {
        let (patient, coverage) = row?;
        // Most patients have one coverage: a default first push would reserve four.
        out.entry(patient).or_insert_with(|| Vec::with_capacity(1)).push(coverage);
    }
    Ok(out)
}

pub(crate) fn for_patient(conn: &Connection, patient_id: &str) -> Result<Vec<Coverage>> {
    Ok(by_patient(conn, Whose::Patient(patient_id))?.remove(patient_id).unwrap_or_default())
}

fn text(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

/// Adds a coverage; a second primary (or secondary) in force on any of the same days is a
/// conflict. `from` none: from before the registry knew. The caller audits nothing more.
pub(crate) fn insert(
    conn: &Connection,
    actor: &audit::Actor,
    patient: &patients::PatientRow,
    c: &NewCoverage,
    from: Option<Date>,
) -> Result<String> {
    let payer = Payer::parse("payer", &c.payer)?;
    let to = text(c.to.as_deref()).map(|t| dates::parse_date("to", &t)).transpose()?;
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Err(Error::validation("to", format!("{to} is before {from}")));
    }
    let (plan, member_id) = (text(c.plan.as_deref()), text(c.member_id.as_deref()));
    if member_id.as_ref().is_some_and(|m| m.len() > 80) {
        return Err(Error::validation("member-id", "a member id has at most 80 characters"));
    }
    let order = if c.secondary { "secondary" } else { "primary" };
    let overlapping = for_patient(conn, &patient.id)?.into_iter().find(|x| {
        x.entered_in_error.is_none()
            && x.secondary == c.secondary
            && x.from.is_none_or(|f| to.is_none_or(|t| f <= t))
            && x.to.is_none_or(|t| from.is_none_or(|f| t >= f))
    });
    if let Some(x) = overlapping {
        let since = x.from.map_or("the start".to_string(), |f| f.to_string());
        return Err(Error::Conflict(format!(
            "the patient already has {order} coverage ({}) from {since} in those dates; end it first (cocm coverage end {})",
            x.payer, x.id
        )));
    }
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO coverages (id, patient_id, payer, plan, member_id, from_date, to_date, secondary, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(rusqlite::params![
        id,
        patient.id,
        payer.as_str(),
        plan,
        member_id,
        from.map(|f| f.to_string()),
        to.map(|t| t.to_string()),
        c.secondary,
        audit::now()
    ])?;
    // The member id is an identifier: the audit row says one was given, not what it is.
    let detail = serde_json::json!({ "patient_id": patient.id, "payer": payer.as_str(), "plan": plan, "member_id": member_id.is_some(),
                                     "from": from.map(|f| f.to_string()), "to": to.map(|t| t.to_string()), "order": order });
    audit::record(conn, actor, "create", "coverage", Some(&id), detail)?;
    Ok(id)
}

/// `patient edit --payer` (and the demographics form): the payer of a patient with at most one
/// plain primary coverage (no plan, no member id, as registration gives) is changed in place;
/// a patient with real coverage records changes them instead, so none is overwritten.
pub(crate) fn change_registration_payer(conn: &Connection, actor: &audit::Actor, patient: &patients::Patient, payer: Payer) -> Result<()> {
    let live: Vec<&Coverage> = patient.coverages.iter().filter(|c| c.entered_in_error.is_none()).collect();
    match live.as_slice() {
        [] => {
            let row =
                patients::PatientRow { id: patient.id.clone(), mrn: patient.mrn.clone(), name: patient.name.clone(), dob: patient.dob };
            insert(conn, actor, &row, &NewCoverage { payer: payer.as_str().into(), ..Default::default() }, None).map(drop)
        }
        [only] if !only.secondary && only.plan.is_none() && only.member_id.is_none() => {
            if only.payer != payer {
                conn.execute("UPDATE coverages SET payer = ?2 WHERE id = ?1", (&only.id, payer.as_str()))?;
                let detail =
                    serde_json::json!({ "patient_id": patient.id, "payer": { "from": only.payer.as_str(), "to": payer.as_str() } });
                audit::record(conn, actor, "update", "coverage", Some(&only.id), detail)?;
            }
            Ok(())
        }
        _ => Err(Error::validation("payer", "this patient has coverage records: add or end coverage instead (cocm coverage add / end)")),
    }
}

impl Registry {
    /// Adds a coverage record for the patient; returns its id.
    pub fn add_coverage(&mut self, mrn: &str, c: &NewCoverage) -> Result<String> {
        self.write(Action::EditPatient, |tx, actor| {
            let patient = patients::find_by_mrn(tx, mrn)?;
            let from = dates::parse_date("from", &c.from)?;
            if from < patient.dob {
                return Err(Error::validation("from", format!("{from} is before the patient's date of birth")));
            }
            insert(tx, actor, &patient, c, Some(from))
        })
    }

    /// The patient's coverage records, primary first, each by start date.
    pub fn coverages(&self, mrn: &str) -> Result<Vec<Coverage>> {
        let patient = patients::find_by_mrn(&self.conn, mrn)?;
        for_patient(&self.conn, &patient.id)
    }

    /// Ends a coverage on `date` (its last covered day).
    pub fn end_coverage(&mut self, id: &str, date: &str) -> Result<()> {
        self.write(Action::EditPatient, |tx, actor| {
            let patient_id: Option<String> =
                rusqlite::OptionalExtension::optional(tx.query_row("SELECT patient_id FROM coverages WHERE id = ?1", [id], |r| r.get(0)))?;
            let Some(patient_id) = patient_id else { return Err(Error::NotFound(format!("no coverage with id '{id}'"))) };
            let all = for_patient(tx, &patient_id)?;
            let this = all.iter().find(|c| c.id == id).expect("the coverage just found");
            if this.entered_in_error.is_some() {
                return Err(Error::Conflict(format!("coverage {id} was entered in error")));
            }
            let end = dates::parse_date("date", date)?;
            if let Some(from) = this.from.filter(|f| end < *f) {
                return Err(Error::validation("date", format!("{end} is before the coverage's start ({from})")));
            }
            // Moving an end later must not run into the next coverage of the same order.
            let next = all.iter().find(|c| {
                c.id != id
                    && c.entered_in_error.is_none()
                    && c.secondary == this.secondary
                    && c.from.is_some_and(|f| this.from.is_none_or(|tf| f > tf) && f <= end)
            });
            if let Some(next) = next {
                return Err(Error::Conflict(format!(
                    "coverage {} starts {} within those dates; end this one before it",
                    next.id,
                    next.from.expect("has a start")
                )));
            }
            tx.execute("UPDATE coverages SET to_date = ?2 WHERE id = ?1", (id, end.to_string()))?;
            audit::record(tx, actor, "end", "coverage", Some(id), serde_json::json!({ "patient_id": patient_id, "to": end.to_string() }))
        })
    }
}
