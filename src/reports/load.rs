//! Loads, set-based, everything the program report needs up to the last day it looks at: every
//! episode with its status history, and per patient the assessments, contact days and case
//! reviews (contact days come from the billing months). A handful of queries over the whole practice, never one per patient; `evaluate`
//! then judges any period ending on or before that day from memory, so twelve monthly rows
//! cost one load.

use rusqlite::Connection;
use std::collections::HashMap;

use crate::Result;
use crate::assessments;
use crate::coverage::Coverage;
use crate::dates::{self, Date};
use crate::instruments::Instrument;
use crate::measures::Point;
use crate::measures::{self, PrimaryScale};
use crate::snapshot::text;
use crate::vocab::{DischargeReason, EpisodeStatus, Payer, parse_targets};

/// One patient, with their dated records (entered-in-error excluded), oldest first.
#[derive(Debug, Default)]
pub(super) struct PatientRecords {
    pub mrn: String,
    pub name: String,
    /// Their primary coverages in force on some day, in the order `coverage::primary_on`
    /// tries them (a report's payer mix reads the primary on the period's last day); filled in
    /// from billing's load (see `billing::BillingMonths::attach`), which reads every coverage.
    pub primary_coverage: PrimaryCoverage,
    pub care_manager_id: Option<String>,
    pub assessments: Vec<(Instrument, Point)>,
    /// Days with at least one contact (not entered in error), in the months loaded.
    pub contact_days: Vec<Date>,
    pub reviews: Vec<Date>,
}

/// A patient's primary coverages as the payer mix reads them: the first kept next to the
/// patient (most have one), since each month's report asks each patient on the caseload.
#[derive(Debug, Default)]
pub(super) struct PrimaryCoverage {
    first: Option<PayerSpan>,
    more: Vec<PayerSpan>,
}

#[derive(Clone, Copy, Debug)]
struct PayerSpan {
    from: Option<Date>,
    to: Option<Date>,
    payer: Payer,
}

impl PrimaryCoverage {
    pub fn of(coverages: &[Coverage]) -> PrimaryCoverage {
        let mut spans = coverages.iter().filter(|c| !c.secondary && c.entered_in_error.is_none()).map(|c| PayerSpan {
            from: c.from,
            to: c.to,
            payer: c.payer,
        });
        PrimaryCoverage { first: spans.next(), more: spans.collect() }
    }

    /// The payer of the primary coverage in force on `day` ([`crate::coverage::primary_on`]'s).
    pub fn payer_on(&self, day: Date) -> Option<Payer> {
        self.first.iter().chain(&self.more).find(|s| crate::coverage::in_force(s.from, s.to, day)).map(|s| s.payer)
    }
}

/// One episode and every status it has had.
#[derive(Debug)]
pub(super) struct EpisodeRecord {
    /// Index into [`ReportData::patients`].
    pub patient: usize,
    pub start: Date,
    /// Each target and its primary scale (spec §3a).
    pub primary_scales: Vec<PrimaryScale>,
    /// Every form of those scales, the ones judged (worked out once, not once a month).
    pub primary_forms: Vec<Instrument>,
    pub discharge: Option<(Date, Option<DischargeReason>)>,
    /// (date, status) in the order they were recorded; the first is `active` on the start date.
    pub statuses: Vec<(Date, EpisodeStatus)>,
}

impl EpisodeRecord {
    /// The status on day `d` (none before the episode started).
    pub fn status_on(&self, d: Date) -> Option<EpisodeStatus> {
        self.statuses.iter().take_while(|(date, _)| *date <= d).last().map(|(_, s)| *s)
    }

    /// `active` or `relapse-prevention` on `d`.
    pub fn open_on(&self, d: Date) -> bool {
        matches!(self.status_on(d), Some(EpisodeStatus::Active | EpisodeStatus::RelapsePrevention))
    }

    /// Open on at least one day from `from` to `to` (spec §8 "on the caseload during the period").
    pub fn open_during(&self, from: Date, to: Date) -> bool {
        self.open_on(from)
            || self
                .statuses
                .iter()
                .any(|(d, s)| *d > from && *d <= to && matches!(s, EpisodeStatus::Active | EpisodeStatus::RelapsePrevention))
    }
}

#[derive(Debug, Default)]
pub(super) struct ReportData {
    pub patients: Vec<PatientRecords>,
    pub episodes: Vec<EpisodeRecord>,
    /// Care manager id → name.
    pub care_managers: HashMap<String, String>,
    /// Care manager id → CoCM FTE, where the lead set one (`cocm team edit --cocm-fte`).
    pub care_manager_fte: HashMap<String, f64>,
    pub patient_index: HashMap<String, usize>,
}

fn date(s: &str) -> Date {
    dates::parse_iso(s).unwrap_or_default()
}

/// Everything dated on or before `last`, but contact days: the contact rate needs them only in
/// the report's months, whose billing summaries list every contact already (see
/// `billing::BillingMonths::attach`).
pub(super) fn load(conn: &Connection, last: Date) -> Result<ReportData> {
    let last_text = last.to_string();
    let mut data = ReportData::default();

    {
        let mut stmt = conn.prepare_cached("SELECT id, name, cocm_fte_hundredths FROM team_members WHERE role = 'care-manager'")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            data.care_managers.insert(r.get(0)?, r.get(1)?);
            if let Some(hundredths) = r.get::<_, Option<i64>>(2)? {
                data.care_manager_fte.insert(r.get(0)?, hundredths as f64 / 100.0);
            }
        }
    }
    {
        // Only patients ever enrolled: a practice's other patients (seen, screened, §9) are
        // never in a program report, and may outnumber the caseload three to one.
        let mut stmt = conn.prepare_cached(
            "SELECT id, mrn, name, care_manager_id FROM patients
             WHERE id IN (SELECT patient_id FROM episodes WHERE start_date <= ?1 AND voided_at IS NULL) ORDER BY mrn",
        )?;
        let mut rows = stmt.query([&last_text])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            data.patient_index.insert(id.clone(), data.patients.len());
            data.patients.push(PatientRecords { mrn: r.get(1)?, name: r.get(2)?, care_manager_id: r.get(3)?, ..Default::default() });
        }
    }

    let mut episode_index: HashMap<String, usize> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT id, patient_id, start_date, targets, discharge_date, discharge_reason, primary_scales FROM episodes
             WHERE start_date <= ?1 AND voided_at IS NULL ORDER BY start_date, id",
        )?;
        let mut rows = stmt.query([&last_text])?;
        while let Some(r) = rows.next()? {
            let Some(&patient) = data.patient_index.get(&r.get::<_, String>(1)?) else { continue };
            let (start, targets, discharge, reason): (String, String, Option<String>, Option<String>) =
                (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?);
            // A discharge after `last` is in the future as far as the report can see.
            let discharge = discharge.map(|d| date(&d)).filter(|d| *d <= last);
            episode_index.insert(r.get(0)?, data.episodes.len());
            let targets = parse_targets("targets", &targets).unwrap_or_default();
            let primary_scales = measures::parse_primary_scales(&targets, text(r, 6)?, crate::episodes::fallback_scale);
            let primary_forms = primary_scales.iter().flat_map(|s| crate::instruments::scale_forms(s.scale)).collect();
            data.episodes.push(EpisodeRecord {
                patient,
                start: date(&start),
                primary_scales,
                primary_forms,
                discharge: discharge.map(|d| (d, reason.and_then(|r| DischargeReason::parse("reason", &r).ok()))),
                statuses: Vec::new(),
            });
        }
    }
    {
        let mut stmt = conn.prepare_cached(
            "SELECT episode_id, date, status FROM episode_status_changes WHERE date <= ?1 AND voided_at IS NULL
             ORDER BY episode_id, date, seq",
        )?;
        let mut rows = stmt.query([&last_text])?;
        while let Some(r) = rows.next()? {
            let Some(&i) = episode_index.get(text(r, 0)?) else { continue };
            if let Ok(status) = EpisodeStatus::parse("status", text(r, 2)?) {
                data.episodes[i].statuses.push((date(text(r, 1)?), status));
            }
        }
    }

    // No lower date bound, so that SQLite reads the covering `assessments_by_patient` index in
    // order rather than sorting rows fetched by date.
    {
        let mut current: (String, Option<usize>) = (String::new(), None);
        assessments::for_each_score(conn, "", &[&last_text], |pid, instrument, point| {
            if pid != current.0 {
                current = (pid.to_string(), data.patient_index.get(pid).copied());
            }
            if let Some(i) = current.1 {
                data.patients[i].assessments.push((instrument, point));
            }
            Ok(())
        })?;
    }

    // The rows of each query arrive grouped by patient: look each one up once, not per row.
    let mut grouped =
        |sql: &str, params: &[&str], push: &mut dyn FnMut(&mut PatientRecords, &rusqlite::Row) -> rusqlite::Result<()>| -> Result<()> {
            let mut stmt = conn.prepare_cached(sql)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
            let mut current: (String, Option<usize>) = (String::new(), None);
            while let Some(r) = rows.next()? {
                let pid = text(r, 0)?;
                if pid != current.0 {
                    current = (pid.to_string(), data.patient_index.get(pid).copied());
                }
                if let Some(i) = current.1 {
                    push(&mut data.patients[i], r)?;
                }
            }
            Ok(())
        };
    grouped(
        "SELECT patient_id, date FROM case_reviews WHERE voided_at IS NULL AND date <= ?1 ORDER BY patient_id, date",
        &[&last_text],
        &mut |p, r| {
            p.reviews.push(date(text(r, 1)?));
            Ok(())
        },
    )?;
    Ok(data)
}
