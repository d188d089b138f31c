//! What a patient's months are billed as (spec §7a): the episode's program (`cocm` or
//! `general-bhi`) from its enrolment, changed from a month on; and the periods in which the PCP
//! bills Advanced Primary Care Management for the patient, whose months turn the episode's
//! codes into the APCM add-ons.

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::Program;
use crate::access::Action;
use crate::dates::{self, Date, Month};
use crate::store::new_id;
use crate::voids::{self, EnteredInError};
use crate::{Error, Registry, Result, audit, episodes, patients};

/// An episode's program from a month on.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct ProgramFrom {
    #[ts(type = "string")]
    pub from_month: Month,
    pub program: Program,
}

/// A period in which the PCP bills APCM for the patient.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct ApcmPeriod {
    pub id: String,
    pub from: Date,
    pub to: Option<Date>,
    pub entered_in_error: Option<EnteredInError>,
}

/// The patient's billing programs, as the patient screen shows them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct BillingPrograms {
    /// The open (else the latest) episode's program history, its enrolment's first; empty
    /// without an episode.
    pub episode_programs: Vec<ProgramFrom>,
    pub apcm: Vec<ApcmPeriod>,
}

/// An episode's program, as enrolment and `cocm program` accept it.
pub fn parse_episode_program(field: &str, text: &str) -> Result<Program> {
    match Program::parse(field, text)? {
        Program::ApcmBhi => Err(Error::validation(field, "apcm-bhi is not an episode's program: record APCM months with `cocm apcm`")),
        p => Ok(p),
    }
}

/// Every episode's program changes, by episode, each in month order (billing reads them all once).
pub(crate) fn changes(conn: &Connection, patient_id: Option<&str>) -> Result<std::collections::HashMap<String, Vec<ProgramFrom>>> {
    let sql = format!(
        "SELECT c.episode_id, c.from_month, c.program FROM episode_program_changes c{} ORDER BY c.episode_id, c.from_month",
        if patient_id.is_some() { " JOIN episodes e ON e.id = c.episode_id WHERE e.patient_id = ?1" } else { "" }
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let params: Vec<&dyn rusqlite::ToSql> = patient_id.iter().map(|p| p as &dyn rusqlite::ToSql).collect();
    let mut out: std::collections::HashMap<String, Vec<ProgramFrom>> = std::collections::HashMap::new();
    let mut rows = stmt.query(params.as_slice())?;
    while let Some(r) = rows.next()? {
        let (month, program): (String, String) = (r.get(1)?, r.get(2)?);
        let change = ProgramFrom { from_month: Month::parse("from_month", &month)?, program: Program::parse("program", &program)? };
        out.entry(r.get(0)?).or_default().push(change);
    }
    Ok(out)
}

/// The program in `month` of an episode enrolled as `enrolled`, with its changes in month order.
pub(crate) fn program_in(enrolled: Program, changes: &[ProgramFrom], month: Month) -> Program {
    changes.iter().rev().find(|c| c.from_month <= month).map_or(enrolled, |c| c.program)
}

/// A period's first and last day (none: open).
pub(crate) type Span = (Date, Option<Date>);

/// Every live APCM period, by patient (billing reads them all once).
pub(crate) fn apcm_by_patient(conn: &Connection, patient_id: Option<&str>) -> Result<std::collections::HashMap<String, Vec<Span>>> {
    let sql = format!(
        "SELECT patient_id, from_date, to_date FROM apcm_periods WHERE voided_at IS NULL{}",
        if patient_id.is_some() { " AND patient_id = ?1" } else { "" }
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let params: Vec<&dyn rusqlite::ToSql> = patient_id.iter().map(|p| p as &dyn rusqlite::ToSql).collect();
    let mut out: std::collections::HashMap<String, Vec<Span>> = std::collections::HashMap::new();
    let mut rows = stmt.query(params.as_slice())?;
    while let Some(r) = rows.next()? {
        let (from, to): (String, Option<String>) = (r.get(1)?, r.get(2)?);
        let from = dates::parse_iso(&from).unwrap_or_default();
        out.entry(r.get(0)?).or_default().push((from, to.as_deref().and_then(dates::parse_iso)));
    }
    Ok(out)
}

/// Whether APCM is billed in `month`: a period covers any day of it (APCM is billed monthly).
pub(crate) fn apcm_in(periods: &[Span], month: Month) -> bool {
    periods.iter().any(|(from, to)| *from <= month.last_day() && to.is_none_or(|to| to >= month.first_day()))
}

fn episode_for_program(conn: &Connection, mrn: &str) -> Result<(patients::PatientRow, episodes::Episode)> {
    let patient = patients::find_by_mrn(conn, mrn)?;
    let episode = episodes::open_episode(conn, &patient)?.ok_or_else(|| {
        Error::validation("mrn", format!("{} (MRN {}) has no open episode to change the program of", patient.name, patient.mrn))
    })?;
    Ok((patient, episode))
}

impl Registry {
    /// Bills the open episode as `to` from `from` on (until another change); audited. A change
    /// in a month already changed replaces it.
    pub fn change_program(&mut self, mrn: &str, to: Program, from: Month) -> Result<()> {
        let to = parse_episode_program("to", to.as_str())?;
        self.write(Action::ChangeBillingProgram, |tx, actor| {
            let (patient, episode) = episode_for_program(tx, mrn)?;
            if from < Month::of(episode.start_date) {
                return Err(Error::validation(
                    "from",
                    format!("{from} is before the episode's first month ({})", Month::of(episode.start_date)),
                ));
            }
            let before = program_in(episode.program, changes(tx, Some(&patient.id))?.get(&episode.id).map_or(&[], |c| c), from);
            tx.execute(
                "INSERT INTO episode_program_changes (id, episode_id, from_month, program, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (episode_id, from_month) DO UPDATE SET program = excluded.program",
                (new_id(), &episode.id, from.to_string(), to.as_str(), audit::now()),
            )?;
            let detail =
                serde_json::json!({ "patient_id": patient.id, "from_month": from.to_string(), "from": before.as_str(), "to": to.as_str() });
            audit::record(tx, actor, "program", "episode", Some(&episode.id), detail)
        })
    }

    /// Records that the PCP bills APCM for the patient from `from` (to `to`, or open); returns
    /// the period's id.
    pub fn record_apcm(&mut self, mrn: &str, from: &str, to: Option<&str>) -> Result<String> {
        self.write(Action::ChangeBillingProgram, |tx, actor| {
            let patient = patients::find_by_mrn(tx, mrn)?;
            let from = dates::parse_date("from", from)?;
            if from < patient.dob {
                return Err(Error::validation("from", format!("{from} is before the patient's date of birth")));
            }
            let to = to.map(|t| dates::parse_date("to", t)).transpose()?;
            if let Some(to) = to.filter(|to| *to < from) {
                return Err(Error::validation("to", format!("{to} is before {from}")));
            }
            let overlaps =
                live_periods(tx, &patient.id)?.iter().any(|p| p.from <= to.unwrap_or(Date::MAX) && p.to.is_none_or(|t| t >= from));
            if overlaps {
                return Err(Error::Conflict(format!("{} (MRN {}) already has APCM recorded in those dates", patient.name, patient.mrn)));
            }
            let id = new_id();
            tx.execute(
                "INSERT INTO apcm_periods (id, patient_id, from_date, to_date, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                (&id, &patient.id, from.to_string(), to.map(|t| t.to_string()), audit::now()),
            )?;
            let detail = serde_json::json!({ "patient_id": patient.id, "from": from.to_string(), "to": to.map(|t| t.to_string()) });
            audit::record(tx, actor, "create", "apcm_period", Some(&id), detail)?;
            Ok(id)
        })
    }

    /// Ends the patient's open APCM period on `end` (its last APCM day).
    pub fn end_apcm(&mut self, mrn: &str, end: &str) -> Result<()> {
        self.write(Action::ChangeBillingProgram, |tx, actor| {
            let patient = patients::find_by_mrn(tx, mrn)?;
            let end = dates::parse_date("end", end)?;
            let open = live_periods(tx, &patient.id)?.into_iter().find(|p| p.to.is_none()).ok_or_else(|| {
                Error::validation("mrn", format!("{} (MRN {}) has no open APCM period to end", patient.name, patient.mrn))
            })?;
            if end < open.from {
                return Err(Error::validation("end", format!("{end} is before the period's start ({})", open.from)));
            }
            tx.execute("UPDATE apcm_periods SET to_date = ?2 WHERE id = ?1", (&open.id, end.to_string()))?;
            audit::record(
                tx,
                actor,
                "end",
                "apcm_period",
                Some(&open.id),
                serde_json::json!({ "patient_id": patient.id, "to": end.to_string() }),
            )
        })
    }

    /// The patient's episode programs and APCM periods (entered-in-error ones included, marked).
    pub fn billing_programs(&self, mrn: &str) -> Result<BillingPrograms> {
        let patient = patients::find_by_mrn(&self.conn, mrn)?;
        let episode: Option<(String, String, String)> = self
            .conn
            .query_row(
                "SELECT id, start_date, program FROM episodes WHERE patient_id = ?1 AND voided_at IS NULL
                 ORDER BY discharge_date IS NULL DESC, start_date DESC LIMIT 1",
                [&patient.id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let mut episode_programs = Vec::new();
        if let Some((id, start, program)) = episode {
            let start = Month::of(dates::parse_iso(&start).unwrap_or_default());
            episode_programs.push(ProgramFrom { from_month: start, program: Program::parse("program", &program)? });
            episode_programs.extend(changes(&self.conn, Some(&patient.id))?.remove(&id).unwrap_or_default());
        }
        let mut stmt = self.conn.prepare(
            "SELECT id, from_date, to_date, voided_at, voided_by, void_reason FROM apcm_periods WHERE patient_id = ?1 ORDER BY from_date",
        )?;
        let apcm = stmt
            .query_map([&patient.id], |r| {
                let (from, to): (String, Option<String>) = (r.get(1)?, r.get(2)?);
                Ok(ApcmPeriod {
                    id: r.get(0)?,
                    from: dates::parse_iso(&from).unwrap_or_default(),
                    to: to.as_deref().and_then(dates::parse_iso),
                    entered_in_error: voids::from_columns(r.get(3)?, r.get(4)?, r.get(5)?),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(BillingPrograms { episode_programs, apcm })
    }
}

fn live_periods(conn: &Connection, patient_id: &str) -> Result<Vec<ApcmPeriod>> {
    let mut stmt = conn.prepare_cached("SELECT id, from_date, to_date FROM apcm_periods WHERE patient_id = ?1 AND voided_at IS NULL")?;
    let rows = stmt
        .query_map([patient_id], |r| {
            let (from, to): (String, Option<String>) = (r.get(1)?, r.get(2)?);
            Ok(ApcmPeriod {
                id: r.get(0)?,
                from: dates::parse_iso(&from).unwrap_or_default(),
                to: to.as_deref().and_then(dates::parse_iso),
                entered_in_error: None,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}
