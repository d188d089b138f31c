//! The caseload (spec §4–§5): one row per patient whose episode is active or in relapse
//! prevention on the as-of date, with the columns a CoCM registry is known for.

use serde::Serialize;

use crate::dates::Date;
use crate::flags::{self, Evaluation, Flag};
use crate::measures::{InstrumentMeasures, TargetMeasure};
use crate::snapshot::{self, EpisodeSnapshot, Scope};
use crate::vocab::{EpisodeStatus, Target};
use crate::{Registry, Result, team};

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct CaseloadRow {
    pub mrn: String,
    pub name: String,
    pub patient_id: String,
    pub care_manager: Option<String>,
    pub status: EpisodeStatus,
    pub start_date: Date,
    pub consent_date: Option<Date>,
    pub targets: Vec<Target>,
    #[ts(type = "number")]
    pub weeks_in_treatment: i64,
    pub last_contact: Option<Date>,
    pub follow_up_due: Date,
    #[ts(type = "number")]
    pub contacts: i64,
    pub last_review: Option<Date>,
    pub latest_measurement: Option<Date>,
    pub phq9: Option<InstrumentMeasures>,
    pub gad7: Option<InstrumentMeasures>,
    /// Each target's primary scale, first → latest, judged by that scale's rules (spec §3a);
    /// a target its scale has not measured yet has no entry.
    pub measures: Vec<TargetMeasure>,
    pub improved: bool,
    pub response: bool,
    pub remission: bool,
    /// In the order a care manager acts on them.
    pub flags: Vec<Flag>,
    /// Scores the patient or a caregiver sent (spec §10) that no team member has reviewed yet.
    pub new_answers: u32,
}

/// The caseload row of an episode from its snapshot and evaluation.
pub(crate) fn row(s: &EpisodeSnapshot, e: Evaluation) -> CaseloadRow {
    CaseloadRow {
        mrn: s.mrn.clone(),
        name: s.name.clone(),
        patient_id: s.patient_id.clone(),
        care_manager: s.care_manager.clone(),
        status: e.status,
        start_date: s.start,
        consent_date: s.consent,
        targets: s.targets.clone(),
        weeks_in_treatment: e.weeks_in_treatment,
        last_contact: e.last_contact,
        follow_up_due: e.follow_up_due,
        contacts: e.contacts,
        last_review: e.last_review,
        latest_measurement: e.latest_measurement,
        phq9: e.phq9,
        gad7: e.gad7,
        measures: e.measures,
        improved: e.outcome.improved,
        response: e.outcome.response,
        remission: e.outcome.remission,
        flags: e.flags,
        new_answers: 0,
    }
}

/// The caseload screen's data: the rows, their counts, and the date they are as of.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct CaseloadView {
    pub rows: Vec<CaseloadRow>,
    pub counts: CaseloadCounts,
    pub as_of: Date,
}

/// The counts shown above the caseload.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct CaseloadCounts {
    pub on_caseload: usize,
    pub flagged: usize,
    pub safety: usize,
    pub contact_overdue: usize,
    pub measurement_overdue: usize,
    pub not_improving: usize,
    /// Patients with self-reported answers not yet reviewed.
    pub new_answers: usize,
}

pub fn counts(rows: &[CaseloadRow]) -> CaseloadCounts {
    let with = |f: Flag| rows.iter().filter(|r| r.flags.contains(&f)).count();
    CaseloadCounts {
        on_caseload: rows.len(),
        flagged: with(Flag::Flagged),
        safety: with(Flag::Safety),
        contact_overdue: with(Flag::ContactOverdue),
        measurement_overdue: with(Flag::MeasurementOverdue),
        not_improving: with(Flag::NotImproving),
        new_answers: rows.iter().filter(|r| r.new_answers > 0).count(),
    }
}

impl CaseloadView {
    /// The view with one patient's row replaced by `row` (or taken out when `None`), in action
    /// order and recounted: what a change to that one patient does to the whole caseload.
    pub fn with_row(&self, patient_id: &str, row: Option<CaseloadRow>) -> CaseloadView {
        let mut rows: Vec<CaseloadRow> = self.rows.iter().filter(|r| r.patient_id != patient_id).cloned().chain(row).collect();
        sort_by_action(&mut rows);
        CaseloadView { counts: counts(&rows), rows, as_of: self.as_of }
    }

    /// One care manager's part of the practice's view (by name, as rows name them).
    pub fn of_care_manager(&self, name: &str) -> CaseloadView {
        let rows: Vec<CaseloadRow> = self.rows.iter().filter(|r| r.care_manager.as_deref() == Some(name)).cloned().collect();
        CaseloadView { counts: counts(&rows), rows, as_of: self.as_of }
    }
}

/// Patients who need action today first: by their most pressing flag, then new self-reported
/// answers, then the longest overdue follow-up, then name.
pub fn sort_by_action(rows: &mut [CaseloadRow]) {
    // Flagged rows before unflagged ones, then by the first (most pressing) flag; within a flag,
    // answers the patient just sent (not yet reviewed) first (spec §10: a new safety answer tops the caseload).
    let key = |r: &CaseloadRow| {
        (r.flags.is_empty(), r.flags.first().copied(), r.new_answers == 0, r.follow_up_due, r.name.clone(), r.mrn.clone())
    };
    rows.sort_by_cached_key(key);
}

impl Registry {
    /// The caseload on `as_of`, for the whole practice or one care manager (id or exact name),
    /// patients who need action first.
    pub fn caseload(&self, as_of: Date, care_manager: Option<&str>) -> Result<Vec<CaseloadRow>> {
        let settings = self.settings()?;
        let member = care_manager.map(|m| team::find(&self.conn, "care-manager", m)).transpose()?;
        let scope = member.as_ref().map_or(Scope::Practice, |m| Scope::CareManager(&m.id));
        let snaps = snapshot::load(&self.conn, as_of, scope, &settings)?;
        let new_answers = crate::questionnaires::new_answers_by_patient(&self.conn)?;
        let mut rows: Vec<CaseloadRow> = snaps
            .iter()
            .map(|s| CaseloadRow {
                new_answers: new_answers.get(&s.patient_id).copied().unwrap_or(0),
                ..row(s, flags::evaluate(s, &settings, as_of))
            })
            .collect();
        sort_by_action(&mut rows);
        Ok(rows)
    }

    /// One patient's caseload row on `as_of`, if they are on the caseload then (with their id).
    pub fn caseload_row(&self, mrn: &str, as_of: Date) -> Result<(String, Option<CaseloadRow>)> {
        let patient = crate::patients::find_by_mrn(&self.conn, mrn)?;
        let settings = self.settings()?;
        let snap = snapshot::load(&self.conn, as_of, Scope::Patient(&patient.id), &settings)?.pop();
        let new_answers = crate::questionnaires::new_answers_of(&self.conn, &patient.id)?;
        Ok((patient.id.clone(), snap.map(|s| CaseloadRow { new_answers, ..row(&s, flags::evaluate(&s, &settings, as_of)) })))
    }

    /// The caseload with its counts, as the caseload screen shows it.
    pub fn caseload_view(&self, as_of: Date, care_manager: Option<&str>) -> Result<CaseloadView> {
        let rows = self.caseload(as_of, care_manager)?;
        Ok(CaseloadView { counts: counts(&rows), rows, as_of })
    }
}
