//! New York State OMH collaborative care metrics (spec §9, 2025 definitions), read from the
//! same facts as every other report: episodes, coverage, clinical contacts, scores on each
//! episode's primary scales, case reviews and the team's CoCM FTE. `load` reads them
//! set-based; `evaluate` is pure, so each metric's boundaries are unit-tested on hand-made facts.
//! Where §9 leaves a choice, the reading is in `READINGS`, printed as the report's footnote.

use rusqlite::Connection;
use serde::Serialize;
use std::collections::HashMap;

use super::Rate;
use super::csv::err;
use crate::coverage::Coverage;
use crate::dates::{self, Date, Month};
use crate::instruments::Instrument;
use crate::measures::{self, Point, PrimaryScale};
use crate::vocab::{Payer, parse_targets};
use crate::{Result, assessments};

/// The state's own targets (not the practice's settings): contact 80 %, improvement 60 %,
/// consultation 80 %, screening 85 %.
const CONTACT_TARGET: u32 = 80;
const IMPROVEMENT_TARGET: u32 = 60;
const CONSULTATION_TARGET: u32 = 80;
const SCREENING_TARGET: u32 = 85;
/// "70 days or greater" in treatment for the improvement rate.
const TREATED_DAYS: i64 = 70;
/// A case review counts for the consultation rate within the 60 days ending on L.
const REVIEW_DAYS: i64 = 60;
/// The depression screening yield's "initial": no other PHQ-9 or PHQ-A in the 365 days before.
const INITIAL_LOOKBACK_DAYS: i64 = 365;
/// Metric 9 counts patients from this age on the visit date.
const SCREENING_FROM_AGE: i64 = 12;
/// Metric 9: a screen in the 12 months ending on L counts.
const SCREENING_MONTHS: i32 = 12;

/// How the report reads §9 where the source is silent (its footnote).
pub const READINGS: &[&str] = &[
    "Medicaid: any Medicaid coverage (fee-for-service or a managed-care plan, primary or secondary) active on the month's first day.",
    "A clinical contact is an initial assessment, follow-up, safety check or relapse-prevention plan, in person, by phone or video.",
    "An episode without a clinical contact for the inactivity days (a practice setting, 90) counts as discharged on the last one plus those days.",
    "Baseline: the first primary-scale score on or after enrolment; current: the latest after it, on or before the month's last day.",
    "Improvement and remission follow the catalogue's published rules for each scale; a patient with several targets needs every elevated one.",
    "Improvement, remission and consultation are judged on the patient's latest episode enrolled this month.",
];

/// One episode as the metrics need it.
#[derive(Clone, Debug, Default)]
pub(crate) struct NysEpisode {
    pub patient: usize,
    pub start: Date,
    pub discharge: Option<Date>,
    pub primary_scales: Vec<PrimaryScale>,
    /// Clinical contact dates (§9), in order.
    pub clinical_contacts: Vec<Date>,
    /// Case reviews with a recommendation, in order.
    pub reviews: Vec<Date>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct NysPatient {
    pub mrn: String,
    pub name: String,
    pub dob: Date,
    /// Qualifying medical visits (`visits::qualifies_for_screening`), by date.
    pub medical_visits: Vec<Date>,
    pub care_manager_id: Option<String>,
    pub coverages: Vec<Coverage>,
    /// Every score (entered in error left out), by date.
    pub scores: Vec<(Instrument, Point)>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct NysFacts {
    pub patients: Vec<NysPatient>,
    pub episodes: Vec<NysEpisode>,
    /// Care manager id → CoCM FTE (metric 11).
    pub care_manager_fte: HashMap<String, f64>,
    pub inactivity_days: i64,
}

/// Metric 4's per-patient days, for the lead to check.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct DischargedDays {
    pub mrn: String,
    pub name: String,
    pub start: Date,
    /// The discharge, or the inactivity discharge (`inactive` true).
    pub discharge: Date,
    pub inactive: bool,
    #[ts(type = "number")]
    pub days: i64,
}

/// The eleven metrics of one month, JSON keys as the issue names them.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct NysReport {
    #[ts(type = "string")]
    pub month: Month,
    pub care_manager: Option<String>,
    pub total_enrollment: u32,
    pub medicaid_enrollment: u32,
    pub newly_enrolled: u32,
    pub average_weeks_in_treatment: Option<f64>,
    pub discharged_days: Vec<DischargedDays>,
    pub monthly_contact_rate: Rate,
    pub improvement_rate: Rate,
    pub remission_rate: Rate,
    pub psychiatric_consultation_rate: Rate,
    pub depression_screening_rate: Rate,
    pub depression_screening_yield: Rate,
    pub bhcm_fte: f64,
    pub readings: Vec<String>,
}

/// The day an episode ends for the metrics: its discharge, or the first day it had gone
/// `inactivity_days` without a clinical contact (counted from the start when there was none),
/// whichever is earlier; none while it is open on `last`.
pub(crate) fn effective_discharge(e: &NysEpisode, inactivity_days: i64, last: Date) -> Option<(Date, bool)> {
    let mut since = e.start;
    let mut inactive = None;
    for c in e.clinical_contacts.iter().copied().filter(|c| *c <= last) {
        if c > dates::add_days(since, inactivity_days) {
            break;
        }
        since = since.max(c);
    }
    let lapse = dates::add_days(since, inactivity_days);
    if lapse <= last {
        inactive = Some(lapse);
    }
    match (e.discharge.filter(|d| *d <= last), inactive) {
        (Some(d), Some(i)) if i < d => Some((i, true)),
        (Some(d), _) => Some((d, false)),
        (None, Some(i)) => Some((i, true)),
        (None, None) => None,
    }
}

/// Any Medicaid coverage, primary or secondary, in force on `day` (§9: the month's first).
fn medicaid_on(coverages: &[Coverage], day: Date) -> bool {
    coverages.iter().any(|c| c.payer == Payer::Medicaid && c.covers(day))
}

/// One target's forms judged from enrolment on: (elevated, improved, in remission in the month).
fn judge(scale: &PrimaryScale, scores: &[(Instrument, Point)], start: Date, month: Month) -> (bool, bool, bool) {
    let (first, last) = (month.first_day(), month.last_day());
    let (mut elevated, mut improved, mut remission) = (false, false, false);
    // The scale's latest score in the month, across its forms ("the last one in M decides").
    let mut last_in_month: Option<(Instrument, Point)> = None;
    for form in crate::instruments::scale_forms(scale.scale) {
        let points: Vec<Point> = scores.iter().filter(|(i, p)| *i == form && p.date >= start && p.date <= last).map(|(_, p)| *p).collect();
        let Some(baseline) = points.first() else { continue };
        let rules = form.rules();
        let form_elevated = rules.elevated_baseline.is_some_and(|e| baseline.total >= e);
        elevated |= form_elevated;
        if let Some(current) = points.iter().skip(1).last()
            && form_elevated
            && measures::is_improved(rules, baseline.total, current.total)
        {
            improved = true;
        }
        if let Some(p) = points.iter().rfind(|p| p.date >= first)
            && last_in_month.is_none_or(|(_, q)| p.date >= q.date)
        {
            last_in_month = Some((form, *p));
        }
    }
    if let Some((form, p)) = last_in_month {
        remission = elevated && measures::is_remission(form.rules(), p.total);
    }
    (elevated, improved, remission)
}

/// An episode enrolled this month and the day it ends for the metrics (if it has).
type Enrolled<'a> = (&'a NysEpisode, Option<(Date, bool)>);

/// The report for `month`, for the practice or the patients of one care manager.
pub(crate) fn evaluate(facts: &NysFacts, month: Month, care_manager: Option<(&str, &str)>) -> NysReport {
    let (first, last) = (month.first_day(), month.last_day());
    let in_scope = |p: &NysPatient| care_manager.is_none_or(|(id, _)| p.care_manager_id.as_deref() == Some(id));

    // Episodes enrolled this month (overlapping M), with their effective discharge.
    let mut enrolled: Vec<Enrolled> = Vec::new();
    for e in &facts.episodes {
        let end = effective_discharge(e, facts.inactivity_days, last);
        if e.start <= last && end.is_none_or(|(d, _)| d >= first) && in_scope(&facts.patients[e.patient]) {
            enrolled.push((e, end));
        }
    }
    let medicaid = |e: &NysEpisode| medicaid_on(&facts.patients[e.patient].coverages, first);
    let mut patients_enrolled: Vec<usize> = enrolled.iter().map(|(e, _)| e.patient).collect();
    patients_enrolled.sort_unstable();
    patients_enrolled.dedup();
    // Each Medicaid patient's latest episode enrolled this month.
    let mut latest: HashMap<usize, Enrolled> = HashMap::new();
    for (e, end) in enrolled.iter().filter(|(e, _)| medicaid(e)) {
        let slot = latest.entry(e.patient).or_insert((e, *end));
        if e.start >= slot.0.start {
            *slot = (e, *end);
        }
    }
    let mut medicaid_patients: Vec<usize> = latest.keys().copied().collect();
    medicaid_patients.sort_unstable();
    let newly =
        medicaid_patients.iter().filter(|p| enrolled.iter().any(|(e, _)| e.patient == **p && Month::of(e.start) == month)).count() as u32;

    // 4: discharged in M (inactivity discharges included), days from enrolment.
    let mut discharged_days = Vec::new();
    for (e, end) in enrolled.iter().filter(|(e, _)| medicaid(e)) {
        if let Some((d, inactive)) = end.filter(|(d, _)| *d >= first && *d <= last) {
            let p = &facts.patients[e.patient];
            let days = dates::days_between(e.start, d);
            discharged_days.push(DischargedDays { mrn: p.mrn.clone(), name: p.name.clone(), start: e.start, discharge: d, inactive, days });
        }
    }
    discharged_days.sort_by(|a, b| (&a.mrn, a.discharge).cmp(&(&b.mrn, b.discharge)));
    let average_weeks_in_treatment = (!discharged_days.is_empty()).then(|| {
        let mean = discharged_days.iter().map(|d| d.days as f64).sum::<f64>() / discharged_days.len() as f64;
        (mean / 7.0 * 10.0).round() / 10.0
    });

    // 5: a clinical contact and a scored scale in M, on or after enrolment.
    let contacted = medicaid_patients
        .iter()
        .filter(|p| {
            let eps: Vec<&NysEpisode> = enrolled.iter().filter(|(e, _)| e.patient == **p).map(|(e, _)| *e).collect();
            let contact = eps.iter().any(|e| e.clinical_contacts.iter().any(|c| *c >= first.max(e.start) && *c <= last));
            let from = eps.iter().map(|e| e.start).min().unwrap_or(first).max(first);
            let scored = facts.patients[**p].scores.iter().any(|(i, s)| !i.is_screen() && s.date >= from && s.date <= last);
            contact && scored
        })
        .count() as u32;

    // 6–8 on each Medicaid patient's latest episode.
    let (mut improvement_denominator, mut improved, mut remitted, mut consulted, mut not_improved) = (0, 0, 0, 0, 0);
    for p in &medicaid_patients {
        let (e, end) = latest[p];
        let scores = &facts.patients[*p].scores;
        let judged: Vec<(bool, bool, bool)> = e.primary_scales.iter().map(|s| judge(s, scores, e.start, month)).collect();
        let elevated: Vec<&(bool, bool, bool)> = judged.iter().filter(|j| j.0).collect();
        if !elevated.is_empty() && elevated.iter().all(|j| j.2) {
            remitted += 1;
        }
        let until = end.map_or(last, |(d, _)| d.min(last));
        if elevated.is_empty() || dates::days_between(e.start, until) < TREATED_DAYS {
            continue;
        }
        improvement_denominator += 1;
        if elevated.iter().all(|j| j.1) {
            improved += 1;
            continue;
        }
        not_improved += 1;
        let from = dates::add_days(last, -(REVIEW_DAYS - 1));
        if e.reviews.iter().any(|r| *r >= from && *r <= last) {
            consulted += 1;
        }
    }

    // 9: patients 12 or older on a qualifying visit in M, screened (PHQ-2, PHQ-9, PHQ-A) in
    // the 12 months ending on L, by anyone.
    let screened_from = dates::add_days(dates::add_months(last, -SCREENING_MONTHS), 1);
    let (mut visited, mut screened) = (0, 0);
    for p in facts.patients.iter().filter(|p| in_scope(p)) {
        let counted = p.medical_visits.iter().any(|v| *v >= first && *v <= last && dates::age_on(p.dob, *v) >= SCREENING_FROM_AGE);
        if !counted {
            continue;
        }
        visited += 1;
        let screens = p
            .scores
            .iter()
            .any(|(i, s)| crate::assessments::SCREENING_FORMS.contains(&i.as_str()) && s.date >= screened_from && s.date <= last);
        if screens {
            screened += 1;
        }
    }

    // 10: initial PHQ-9 or PHQ-A in M (no other in the 365 days before it), scoring ≥ 10.
    let depression_forms = [Instrument::PHQ9, Instrument::by_id("phq-a").unwrap_or(Instrument::PHQ9)];
    let (mut initial, mut positive) = (0, 0);
    for p in facts.patients.iter().filter(|p| in_scope(p)) {
        let phq: Vec<&Point> = p.scores.iter().filter(|(i, _)| depression_forms.contains(i)).map(|(_, s)| s).collect();
        let first_initial = phq.iter().enumerate().find(|(k, s)| {
            s.date >= first
                && s.date <= last
                && !phq[..*k].iter().any(|o| o.date >= dates::add_days(s.date, -INITIAL_LOOKBACK_DAYS) && o.date < s.date)
                && !phq[..*k].iter().any(|o| o.date == s.date)
        });
        if let Some((_, s)) = first_initial {
            initial += 1;
            if s.total >= 10 {
                positive += 1;
            }
        }
    }

    let bhcm_fte = match care_manager {
        Some((id, _)) => facts.care_manager_fte.get(id).copied().unwrap_or(0.0),
        None => facts.care_manager_fte.values().sum(),
    };
    let medicaid_enrollment = medicaid_patients.len() as u32;
    NysReport {
        month,
        care_manager: care_manager.map(|(_, name)| name.to_string()),
        total_enrollment: patients_enrolled.len() as u32,
        medicaid_enrollment,
        newly_enrolled: newly,
        average_weeks_in_treatment,
        discharged_days,
        monthly_contact_rate: Rate::new(contacted, medicaid_enrollment, Some(CONTACT_TARGET)),
        improvement_rate: Rate::new(improved, improvement_denominator, Some(IMPROVEMENT_TARGET)),
        remission_rate: Rate::new(remitted, medicaid_enrollment, None),
        psychiatric_consultation_rate: Rate::new(consulted, not_improved, Some(CONSULTATION_TARGET)),
        depression_screening_rate: Rate::new(screened, visited, Some(SCREENING_TARGET)),
        depression_screening_yield: Rate::new(positive, initial, None),
        bhcm_fte: (bhcm_fte * 100.0).round() / 100.0,
        readings: READINGS.iter().map(|r| r.to_string()).collect(),
    }
}

/// Reads the facts up to `last`, set-based.
pub(crate) fn load(conn: &Connection, last: Date) -> Result<NysFacts> {
    let settings = crate::settings::load(conn)?;
    let mut facts = NysFacts { inactivity_days: settings.inactivity_days, ..Default::default() };
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut coverages = crate::coverage::by_patient(conn, None)?;
    {
        let mut stmt = conn.prepare_cached("SELECT id, mrn, name, care_manager_id, dob FROM patients ORDER BY mrn")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            index.insert(id.clone(), facts.patients.len());
            let dob: String = r.get(4)?;
            facts.patients.push(NysPatient {
                mrn: r.get(1)?,
                name: r.get(2)?,
                dob: dates::parse_iso(&dob).unwrap_or_default(),
                medical_visits: Vec::new(),
                care_manager_id: r.get(3)?,
                coverages: coverages.remove(&id).unwrap_or_default(),
                scores: Vec::new(),
            });
        }
    }
    let mut episode_index: HashMap<String, usize> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT id, patient_id, start_date, discharge_date, targets, primary_scales FROM episodes
             WHERE voided_at IS NULL AND start_date <= ?1 ORDER BY start_date",
        )?;
        let mut rows = stmt.query([last.to_string()])?;
        while let Some(r) = rows.next()? {
            let Some(&patient) = index.get(&r.get::<_, String>(1)?) else { continue };
            let (start, discharge, targets, scales): (String, Option<String>, String, Option<String>) =
                (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?);
            let targets = parse_targets("targets", &targets).unwrap_or_default();
            episode_index.insert(r.get(0)?, facts.episodes.len());
            facts.episodes.push(NysEpisode {
                patient,
                start: dates::parse_iso(&start).unwrap_or_default(),
                discharge: discharge.as_deref().and_then(dates::parse_iso),
                primary_scales: measures::parse_primary_scales(&targets, scales.as_deref().unwrap_or(""), crate::episodes::fallback_scale),
                ..Default::default()
            });
        }
    }
    let mut by_episode = |sql: &str, push: &mut dyn FnMut(&mut NysEpisode, Date)| -> Result<()> {
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query([last.to_string()])?;
        while let Some(r) = rows.next()? {
            let (episode, date): (String, String) = (r.get(0)?, r.get(1)?);
            if let (Some(&i), Some(d)) = (episode_index.get(&episode), dates::parse_iso(&date)) {
                push(&mut facts.episodes[i], d);
            }
        }
        Ok(())
    };
    by_episode(
        &format!(
            "SELECT c.episode_id, c.date FROM contacts c INDEXED BY contacts_clinical_by_episode
             WHERE c.voided_at IS NULL AND c.date <= ?1 AND {} ORDER BY c.date",
            crate::vocab::clinical_contact_sql("c")
        ),
        &mut |e, d| e.clinical_contacts.push(d),
    )?;
    by_episode(
        "SELECT episode_id, date FROM case_reviews WHERE voided_at IS NULL AND date <= ?1
           AND (medication <> '' OR psychotherapy <> '' OR referral <> '' OR other <> '') ORDER BY date",
        &mut |e, d| e.reviews.push(d),
    )?;
    let mut current: (String, Option<usize>) = (String::new(), None);
    assessments::for_each_score(conn, "", &[&last.to_string()], |pid, instrument, point| {
        if pid != current.0 {
            current = (pid.to_string(), index.get(pid).copied());
        }
        if let Some(i) = current.1 {
            facts.patients[i].scores.push((instrument, point));
        }
        Ok(())
    })?;
    {
        let mut stmt = conn.prepare_cached(
            "SELECT patient_id, date, category, codes FROM visits WHERE voided_at IS NULL AND date <= ?1 ORDER BY patient_id, date",
        )?;
        let mut rows = stmt.query([last.to_string()])?;
        while let Some(r) = rows.next()? {
            let (pid, date, category, codes): (String, String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            let category = crate::visits::VisitCategory::parse("category", &category).unwrap_or(crate::visits::VisitCategory::Other);
            let codes: Vec<String> = codes.split(',').map(str::to_string).collect();
            if let (Some(&i), Some(d)) = (index.get(&pid), dates::parse_iso(&date))
                && crate::visits::qualifies_for_screening(category, &codes)
            {
                facts.patients[i].medical_visits.push(d);
            }
        }
    }
    let mut stmt = conn.prepare_cached("SELECT id, cocm_fte_hundredths FROM team_members WHERE role = 'care-manager'")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let fte: Option<i64> = r.get(1)?;
        facts.care_manager_fte.insert(r.get(0)?, fte.unwrap_or(0) as f64 / 100.0);
    }
    Ok(facts)
}

/// A quarter's three months side by side, as submitted (`--quarter 2026-Q4`).
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct NysQuarter {
    pub quarter: String,
    pub months: Vec<NysReport>,
}

/// "2026-Q4" → October, November and December 2026.
pub fn quarter_months(field: &str, text: &str) -> Result<[Month; 3]> {
    let refusal = || crate::Error::validation(field, format!("'{text}' is not a quarter such as 2026-Q4"));
    let (year, q) = text.trim().split_once(['-', ' ']).ok_or_else(refusal)?;
    let q: i32 = q.trim_start_matches(['Q', 'q']).parse().map_err(|_| refusal())?;
    if !(1..=4).contains(&q) || year.len() != 4 {
        return Err(refusal());
    }
    let first = Month::parse(field, &format!("{year}-{:02}", (q - 1) * 3 + 1))?;
    Ok([first, first.plus(1), first.plus(2)])
}

/// The quarter's CSV: one row per metric, a column per month.
pub fn quarter_csv(q: &NysQuarter) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["quarter".to_string(), "metric".into(), "name".into()];
    header.extend(q.months.iter().map(|m| m.month.to_string()));
    w.write_record(&header).map_err(err)?;
    let columns: Vec<Vec<Metric>> = q.months.iter().map(NysReport::metrics).collect();
    for (i, (n, name, _, _)) in columns[0].iter().enumerate() {
        let mut row = vec![q.quarter.clone(), n.to_string(), name.to_string()];
        row.extend(columns.iter().map(|c| match c[i].3 {
            Some(rate) => format!("{} of {}", rate.numerator, rate.denominator),
            None => c[i].2.clone(),
        }));
        w.write_record(&row).map_err(err)?;
    }
    super::csv::finish(w)
}

/// One metric as a row: its number, name, value as text, and its rate where it is one.
pub type Metric<'a> = (u8, &'static str, String, Option<&'a Rate>);

impl NysReport {
    /// The eleven metrics as rows.
    pub fn metrics(&self) -> Vec<Metric<'_>> {
        let count = |n: u32| n.to_string();
        vec![
            (1, "total_enrollment", count(self.total_enrollment), None),
            (2, "medicaid_enrollment", count(self.medicaid_enrollment), None),
            (3, "newly_enrolled", count(self.newly_enrolled), None),
            (4, "average_weeks_in_treatment", self.average_weeks_in_treatment.map_or(String::new(), |w| format!("{w:.1}")), None),
            (5, "monthly_contact_rate", rate_text(&self.monthly_contact_rate), Some(&self.monthly_contact_rate)),
            (6, "improvement_rate", rate_text(&self.improvement_rate), Some(&self.improvement_rate)),
            (7, "remission_rate", rate_text(&self.remission_rate), Some(&self.remission_rate)),
            (8, "psychiatric_consultation_rate", rate_text(&self.psychiatric_consultation_rate), Some(&self.psychiatric_consultation_rate)),
            (9, "depression_screening_rate", rate_text(&self.depression_screening_rate), Some(&self.depression_screening_rate)),
            (10, "depression_screening_yield", rate_text(&self.depression_screening_yield), Some(&self.depression_screening_yield)),
            (11, "bhcm_fte", format!("{:.2}", self.bhcm_fte), None),
        ]
    }
}

fn rate_text(r: &Rate) -> String {
    r.percent.map_or(String::new(), |p| format!("{p} %"))
}

/// The report as CSV: one row per metric, as submitted.
pub fn to_csv(report: &NysReport) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "month",
        "care_manager",
        "metric",
        "name",
        "value",
        "numerator",
        "denominator",
        "percent",
        "target_percent",
        "meets_target",
    ])
    .map_err(err)?;
    for (n, name, value, rate) in report.metrics() {
        let opt = |v: Option<String>| v.unwrap_or_default();
        w.write_record([
            report.month.to_string(),
            report.care_manager.clone().unwrap_or_default(),
            n.to_string(),
            name.to_string(),
            value,
            opt(rate.map(|r| r.numerator.to_string())),
            opt(rate.map(|r| r.denominator.to_string())),
            opt(rate.and_then(|r| r.percent).map(|p| p.to_string())),
            opt(rate.and_then(|r| r.target_percent).map(|p| p.to_string())),
            opt(rate.and_then(|r| r.meets_target).map(|m| m.to_string())),
        ])
        .map_err(err)?;
    }
    super::csv::finish(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Target;

    fn d(s: &str) -> Date {
        dates::parse_date("d", s).unwrap()
    }
    fn month(s: &str) -> Month {
        Month::parse("m", s).unwrap()
    }
    fn medicaid(from: &str, secondary: bool) -> Coverage {
        Coverage {
            id: "c".into(),
            payer: Payer::Medicaid,
            plan: None,
            member_id: None,
            from: Some(d(from)),
            to: None,
            secondary,
            entered_in_error: None,
        }
    }
    fn phq(date: &str, total: u8) -> (Instrument, Point) {
        (Instrument::PHQ9, Point { date: d(date), total, safety: Some(false) })
    }
    fn form(id: &str, date: &str, total: u8) -> (Instrument, Point) {
        (Instrument::by_id(id).unwrap(), Point { date: d(date), total, safety: None })
    }
    fn depression() -> Vec<PrimaryScale> {
        vec![PrimaryScale { target: Target::Depression, scale: "phq9" }]
    }
    /// One Medicaid patient (from 2026-01-01) enrolled on `start`, with a phone follow-up
    /// every 30 days from the start to the end of October 2026 unless `contacts` is given.
    fn practice(start: &str, scores: Vec<(Instrument, Point)>) -> NysFacts {
        let start = d(start);
        let contacts = (0..).map(|k| dates::add_days(start, 30 * k)).take_while(|c| *c <= d("2026-10-31")).collect();
        NysFacts {
            patients: vec![NysPatient {
                mrn: "N1".into(),
                name: "Pat".into(),
                dob: d("1980-01-01"),
                coverages: vec![medicaid("2026-01-01", false)],
                scores,
                ..Default::default()
            }],
            episodes: vec![NysEpisode {
                patient: 0,
                start,
                primary_scales: depression(),
                clinical_contacts: contacts,
                ..Default::default()
            }],
            inactivity_days: 90,
            ..Default::default()
        }
    }

    #[test]
    fn seventy_days_in_treatment_and_an_elevated_baseline_make_the_improvement_denominator() {
        // Enrolled 2026-08-22: to 10-31 is 9 (08-22 → 08-31) + 30 + 31 = 70 days → counted
        // (as 1 January reaches 70 days on 12 March: 30 + 28 + 12).
        let facts = practice("2026-08-22", vec![phq("2026-08-22", 16), phq("2026-10-20", 8)]);
        let r = evaluate(&facts, month("2026-10"), None);
        // 8 ≤ 50 % of 16: improved, 1 of 1.
        assert_eq!((r.improvement_rate.numerator, r.improvement_rate.denominator), (1, 1));
        // Enrolled 2026-08-23: 69 days on 10-31 → not yet in the denominator.
        let facts = practice("2026-08-23", vec![phq("2026-08-23", 16), phq("2026-10-20", 8)]);
        assert_eq!(evaluate(&facts, month("2026-10"), None).improvement_rate.denominator, 0);
        // A baseline of 9 is not elevated (PHQ-9 ≥ 10): neither improvement nor remission counts it.
        let facts = practice("2026-06-01", vec![phq("2026-06-01", 9), phq("2026-10-20", 3)]);
        let r = evaluate(&facts, month("2026-10"), None);
        assert_eq!((r.improvement_rate.denominator, r.remission_rate.numerator, r.remission_rate.denominator), (0, 0, 1));
        // A score before enrolment is not the NYS baseline: 2026-05-25 (20) is before the
        // 06-01 start, so the baseline is 06-03's 12; 10-20's 10 is above half of 12 (6) and
        // not below 10: not improved (against 20 it would have been: 10 ≤ 50 % of 20).
        let facts = practice("2026-06-01", vec![phq("2026-05-25", 20), phq("2026-06-03", 12), phq("2026-10-20", 10)]);
        let r = evaluate(&facts, month("2026-10"), None);
        assert_eq!((r.improvement_rate.numerator, r.improvement_rate.denominator), (0, 1));
    }

    #[test]
    fn pcl5_improves_from_12_points_and_a_remission_needs_the_last_score_in_the_month() {
        let ptsd = vec![PrimaryScale { target: Target::Ptsd, scale: "pcl5" }];
        // PCL-5 baseline 50 (elevated from 33): 39 is 11 points better (not improved), 38 is 12.
        for (current, improved) in [(39, 0), (38, 1)] {
            let mut facts = practice("2026-06-01", vec![form("pcl5", "2026-06-01", 50), form("pcl5", "2026-10-10", current)]);
            facts.episodes[0].primary_scales = ptsd.clone();
            assert_eq!(evaluate(&facts, month("2026-10"), None).improvement_rate.numerator, improved, "{current}");
        }
        // PHQ-9 remission (< 5): 10-05's 4 then 10-25's 6 → the last one in October decides: not.
        let facts = practice("2026-06-01", vec![phq("2026-06-01", 15), phq("2026-10-05", 4), phq("2026-10-25", 6)]);
        assert_eq!(evaluate(&facts, month("2026-10"), None).remission_rate.numerator, 0);
        let facts = practice("2026-06-01", vec![phq("2026-06-01", 15), phq("2026-10-05", 6), phq("2026-10-25", 4)]);
        let r = evaluate(&facts, month("2026-10"), None);
        assert_eq!((r.remission_rate.numerator, r.remission_rate.denominator), (1, 1));
    }

    #[test]
    fn paired_smfq_forms_are_each_judged_against_their_own_baseline() {
        let scales = vec![PrimaryScale { target: Target::Depression, scale: "smfq" }];
        // Child form 20 → 12 (8 points: improved); the parent form 18 → 13 (5 points: not)
        // does not undo the child's.
        let scores = vec![
            form("smfq-c", "2026-06-01", 20),
            form("smfq-p", "2026-06-01", 18),
            form("smfq-c", "2026-10-10", 12),
            form("smfq-p", "2026-10-10", 13),
        ];
        let mut facts = practice("2026-06-01", scores);
        facts.episodes[0].primary_scales = scales.clone();
        assert_eq!(evaluate(&facts, month("2026-10"), None).improvement_rate.numerator, 1);
        // Child 20 → 13 (7 points) and parent 18 → 13 (5, under its 6): not improved.
        let scores = vec![
            form("smfq-c", "2026-06-01", 20),
            form("smfq-p", "2026-06-01", 18),
            form("smfq-c", "2026-10-10", 13),
            form("smfq-p", "2026-10-10", 13),
        ];
        let mut facts = practice("2026-06-01", scores);
        facts.episodes[0].primary_scales = scales;
        assert_eq!(evaluate(&facts, month("2026-10"), None).improvement_rate.numerator, 0);
    }

    #[test]
    fn medicaid_is_any_medicaid_coverage_on_the_first_of_the_month() {
        let scores = vec![phq("2026-06-01", 15)];
        // Coverage from 10-01: Medicaid in October. From 10-02: not (the first decides).
        for (from, secondary, counted) in [("2026-10-01", false, 1), ("2026-10-02", false, 0), ("2026-01-01", true, 1)] {
            let mut facts = practice("2026-06-01", scores.clone());
            facts.patients[0].coverages = vec![medicaid(from, secondary)];
            let r = evaluate(&facts, month("2026-10"), None);
            assert_eq!((r.total_enrollment, r.medicaid_enrollment), (1, counted), "{from} secondary {secondary}");
        }
        // A managed-care plan is Medicaid too; a dual-eligible (Medicare primary, Medicaid
        // secondary) patient counts, as the third case shows.
        let mut facts = practice("2026-06-01", scores);
        facts.patients[0].coverages[0].plan = Some("Fidelis Care".into());
        assert_eq!(evaluate(&facts, month("2026-10"), None).medicaid_enrollment, 1);
    }

    #[test]
    fn an_inactive_episode_is_discharged_90_days_after_its_last_clinical_contact() {
        // Enrolled 2026-06-01, clinical contacts on 06-01 and 07-10 only: 07-10 + 90 = 10-08
        // (21 + 31 + 30 + 8). October: discharged on 10-08 after 129 days (06-01 → 10-08:
        // 29 + 31 + 31 + 30 + 8 = 129) → 129 / 7 = 18.43 → 18.4 weeks.
        let mut facts = practice("2026-06-01", vec![phq("2026-06-01", 15)]);
        facts.episodes[0].clinical_contacts = vec![d("2026-06-01"), d("2026-07-10")];
        let r = evaluate(&facts, month("2026-10"), None);
        assert_eq!(r.discharged_days.len(), 1);
        let dd = &r.discharged_days[0];
        assert_eq!((dd.discharge, dd.inactive, dd.days), (d("2026-10-08"), true, 129));
        assert_eq!(r.average_weeks_in_treatment, Some(18.4));
        // In November it is no longer enrolled (discharged before 11-01).
        assert_eq!(evaluate(&facts, month("2026-11"), None).total_enrollment, 0);
        // A contact on 10-08 itself (day 90) keeps it open: no discharge in October.
        facts.episodes[0].clinical_contacts.push(d("2026-10-08"));
        assert!(evaluate(&facts, month("2026-10"), None).discharged_days.is_empty());
        // A real discharge on 09-15, earlier than any lapse, is the discharge.
        let e = &mut facts.episodes[0];
        e.discharge = Some(d("2026-09-15"));
        assert_eq!(effective_discharge(e, 90, d("2026-10-31")), Some((d("2026-09-15"), false)));
    }

    #[test]
    fn the_consultation_rate_counts_a_review_on_the_60th_day_back_not_the_61st() {
        // Not improved (16 → 14) after 70+ days. L = 10-31; the 60 days ending on L start on
        // 09-02 (10-31 − 59). A review on 09-02 counts; on 09-01 it does not.
        for (review, counted) in [("2026-09-02", 1), ("2026-09-01", 0)] {
            let mut facts = practice("2026-06-01", vec![phq("2026-06-01", 16), phq("2026-10-20", 14)]);
            facts.episodes[0].reviews = vec![d(review)];
            let r = evaluate(&facts, month("2026-10"), None);
            let c = &r.psychiatric_consultation_rate;
            assert_eq!((c.numerator, c.denominator), (counted, 1), "{review}");
        }
    }

    #[test]
    fn the_contact_rate_needs_a_clinical_contact_and_a_scored_scale_in_the_month() {
        // Phone follow-ups every 30 days from 06-01: October's is on 10-29.
        let mut facts = practice("2026-06-01", vec![phq("2026-06-01", 15), phq("2026-10-12", 12)]);
        assert_eq!(evaluate(&facts, month("2026-10"), None).monthly_contact_rate.numerator, 1);
        // The only October score is a PHQ-2 (a screen): not a scored scale for metric 5.
        facts.patients[0].scores = vec![phq("2026-06-01", 15), form("phq2", "2026-10-12", 4)];
        let r = evaluate(&facts, month("2026-10"), None);
        assert_eq!((r.monthly_contact_rate.numerator, r.monthly_contact_rate.denominator), (0, 1));
    }

    #[test]
    fn screening_counts_patients_12_or_older_on_a_medical_visit_and_the_yield_needs_an_initial_phq9() {
        let mut facts = practice("2026-06-01", vec![]);
        facts.episodes.clear();
        // Born 2014-10-15: 11 on a 10-14 visit (not counted), 12 on a 10-15 visit (counted).
        facts.patients[0].dob = d("2014-10-15");
        facts.patients[0].medical_visits = vec![d("2026-10-14")];
        assert_eq!(evaluate(&facts, month("2026-10"), None).depression_screening_rate.denominator, 0);
        facts.patients[0].medical_visits = vec![d("2026-10-15")];
        assert_eq!(evaluate(&facts, month("2026-10"), None).depression_screening_rate.denominator, 1);
        // A PHQ-2 on 2025-11-01 is within the 12 months ending 10-31 (from 2025-11-01); 10-31 is not.
        for (day, screened) in [("2025-11-01", 1), ("2025-10-31", 0)] {
            facts.patients[0].scores = vec![form("phq2", day, 1)];
            assert_eq!(evaluate(&facts, month("2026-10"), None).depression_screening_rate.numerator, screened, "{day}");
        }
        // Yield: a PHQ-9 of 12 on 2026-10-10 with another 364 days before (2025-10-11) is not
        // initial; with the other 366 days before (2025-10-09) it is, and 12 ≥ 10 is positive.
        for (before, initial) in [("2025-10-11", 0), ("2025-10-09", 1)] {
            facts.patients[0].scores = vec![phq(before, 5), phq("2026-10-10", 12)];
            let y = evaluate(&facts, month("2026-10"), None).depression_screening_yield;
            assert_eq!((y.numerator, y.denominator), (initial, initial), "{before}");
        }
    }

    #[test]
    fn staffing_sums_the_care_managers_fte() {
        let mut facts = practice("2026-06-01", vec![]);
        facts.care_manager_fte = HashMap::from([("a".to_string(), 0.6), ("b".to_string(), 1.0)]);
        assert_eq!(evaluate(&facts, month("2026-10"), None).bhcm_fte, 1.6);
        assert_eq!(evaluate(&facts, month("2026-10"), Some(("a", "Ana"))).bhcm_fte, 0.6);
    }
}
