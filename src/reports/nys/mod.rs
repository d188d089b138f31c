//! New York State OMH collaborative care metrics (spec §9, 2025 definitions), read from the
//! same facts as every other report: episodes, coverage, clinical contacts, scores on each
//! episode's primary scales, case reviews and the team's CoCM FTE. `load` reads them
//! set-based; `evaluate` is pure, so each metric's boundaries are unit-tested on hand-made facts.
//! Where §9 leaves a choice, the reading is in `READINGS`, printed as the report's footnote.

use serde::Serialize;
use std::collections::HashMap;

use super::{Rate, ReportMember};
use crate::coverage::Coverage;
use crate::dates::{self, Date, Month};
use crate::instruments::Instrument;
use crate::measures::{self, Point, PrimaryScale};
use crate::vocab::Payer;

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
    /// Care manager id → name, for the patients behind a figure.
    pub care_manager_names: HashMap<String, String>,
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

/// One target's forms judged from enrolment on, with the scores it was judged on (for the
/// patients behind a figure).
#[derive(Clone, Copy, Default)]
struct Judged {
    elevated: bool,
    improved: bool,
    /// In remission by the last score in the month.
    remission: bool,
    /// The elevated form's baseline and its latest score after it, on or before L.
    baseline: Option<(Instrument, Point)>,
    current: Option<Point>,
    last_in_month: Option<(Instrument, Point)>,
}

impl Judged {
    /// "PHQ-9 16 on 2026-06-01 → 8 on 2026-10-20".
    fn scores(&self) -> String {
        match (self.baseline, self.current) {
            (Some((form, b)), Some(c)) => format!("{} {} on {} → {} on {}", form.label(), b.total, b.date, c.total, c.date),
            (Some((form, b)), None) => format!("{} {} on {}, no score since", form.label(), b.total, b.date),
            _ => "no score since enrolment".to_string(),
        }
    }
}

fn judge(scale: &PrimaryScale, scores: &[(Instrument, Point)], start: Date, month: Month) -> Judged {
    let (first, last) = (month.first_day(), month.last_day());
    let mut j = Judged::default();
    // The scale's latest score in the month, across its forms ("the last one in M decides").
    for form in crate::instruments::scale_forms(scale.scale) {
        let points: Vec<Point> = scores.iter().filter(|(i, p)| *i == form && p.date >= start && p.date <= last).map(|(_, p)| *p).collect();
        let Some(baseline) = points.first() else { continue };
        let rules = form.rules();
        let form_elevated = rules.elevated_baseline.is_some_and(|e| baseline.total >= e);
        let current = points.iter().skip(1).last().copied();
        if j.baseline.is_none() || (form_elevated && !j.elevated) {
            (j.baseline, j.current) = (Some((form, *baseline)), current);
        }
        j.elevated |= form_elevated;
        if let Some(current) = current
            && form_elevated
            && measures::is_improved(rules, baseline.total, current.total)
        {
            j.improved = true;
            (j.baseline, j.current) = (Some((form, *baseline)), Some(current));
        }
        if let Some(p) = points.iter().rfind(|p| p.date >= first)
            && j.last_in_month.is_none_or(|(_, q)| p.date >= q.date)
        {
            j.last_in_month = Some((form, *p));
        }
    }
    if let Some((form, p)) = j.last_in_month {
        j.remission = j.elevated && measures::is_remission(form.rules(), p.total);
    }
    j
}

/// The metrics `--list` can open, by number or JSON key (11, the team's FTE, has no patients).
pub const LISTED_METRICS: [&str; 10] = [
    "total_enrollment",
    "medicaid_enrollment",
    "newly_enrolled",
    "average_weeks_in_treatment",
    "monthly_contact_rate",
    "improvement_rate",
    "remission_rate",
    "psychiatric_consultation_rate",
    "depression_screening_rate",
    "depression_screening_yield",
];

/// A metric's number from `6` or `improvement_rate`.
pub fn metric_number(field: &str, text: &str) -> crate::Result<u8> {
    let text = text.trim();
    if let Ok(n) = text.parse::<u8>()
        && (1..=10).contains(&n)
    {
        return Ok(n);
    }
    if let Some(i) = LISTED_METRICS.iter().position(|m| *m == text.replace('-', "_")) {
        return Ok(i as u8 + 1);
    }
    if text == "11" || text == "bhcm_fte" {
        return Err(crate::Error::validation(
            field,
            "bhcm_fte is the care managers' CoCM FTE, not patients: `cocm team list` shows each one",
        ));
    }
    Err(crate::Error::validation(field, format!("'{text}' is not a metric; give 1 to 10 or one of {}", LISTED_METRICS.join(", "))))
}

/// The patients behind one metric, gathered while the metrics are counted.
struct Listing<'f> {
    metric: Option<u8>,
    facts: &'f NysFacts,
    members: Vec<ReportMember>,
}

impl Listing<'_> {
    fn note(&mut self, metric: u8, patient: usize, counted: bool, detail: impl FnOnce() -> String) {
        if self.metric != Some(metric) {
            return;
        }
        let p = &self.facts.patients[patient];
        let care_manager = p.care_manager_id.as_ref().and_then(|id| self.facts.care_manager_names.get(id)).cloned();
        self.members.push(ReportMember { mrn: p.mrn.clone(), name: p.name.clone(), care_manager, in_numerator: counted, detail: detail() });
    }
}

/// An episode enrolled this month and the day it ends for the metrics (if it has).
type Enrolled<'a> = (&'a NysEpisode, Option<(Date, bool)>);

/// The report for `month`, for the practice or the patients of one care manager.
pub(crate) fn evaluate(facts: &NysFacts, month: Month, care_manager: Option<(&str, &str)>) -> NysReport {
    evaluate_listing(facts, month, care_manager, None).0
}

/// The report, and the patients behind metric `list` (1–10): everyone in its denominator (for
/// a count, everyone counted), each marked counted or not, with what they were judged on.
pub(crate) fn evaluate_listing(
    facts: &NysFacts,
    month: Month,
    care_manager: Option<(&str, &str)>,
    list: Option<u8>,
) -> (NysReport, Vec<ReportMember>) {
    let (first, last) = (month.first_day(), month.last_day());
    let in_scope = |p: &NysPatient| care_manager.is_none_or(|(id, _)| p.care_manager_id.as_deref() == Some(id));
    let mut listing = Listing { metric: list, facts, members: Vec::new() };

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
    for p in &patients_enrolled {
        let eps = || enrolled.iter().filter(|(e, _)| e.patient == *p);
        listing.note(1, *p, true, || eps().map(|(e, end)| episode_text(e, *end)).collect::<Vec<_>>().join("; "));
        let on_medicaid = latest.contains_key(p);
        listing.note(2, *p, on_medicaid, || {
            if on_medicaid { format!("Medicaid coverage on {first}") } else { format!("no Medicaid coverage on {first}") }
        });
    }
    let mut newly = 0;
    for p in &medicaid_patients {
        let new_episode = enrolled.iter().find(|(e, _)| e.patient == *p && Month::of(e.start) == month);
        newly += u32::from(new_episode.is_some());
        listing.note(3, *p, new_episode.is_some(), || match new_episode {
            Some((e, _)) => format!("enrolled {}", e.start),
            None => format!("enrolled {}, before {month}", latest[p].0.start),
        });
    }

    // 4: discharged in M (inactivity discharges included), days from enrolment.
    let mut discharged_days = Vec::new();
    for (e, end) in enrolled.iter().filter(|(e, _)| medicaid(e)) {
        if let Some((d, inactive)) = end.filter(|(d, _)| *d >= first && *d <= last) {
            let p = &facts.patients[e.patient];
            let days = dates::days_between(e.start, d);
            listing.note(4, e.patient, true, || {
                let how = if inactive { " (inactivity discharge)" } else { "" };
                format!("{} to {d}{how}: {days} days", e.start)
            });
            discharged_days.push(DischargedDays { mrn: p.mrn.clone(), name: p.name.clone(), start: e.start, discharge: d, inactive, days });
        }
    }
    discharged_days.sort_by(|a, b| (&a.mrn, a.discharge).cmp(&(&b.mrn, b.discharge)));
    let average_weeks_in_treatment = (!discharged_days.is_empty()).then(|| {
        let mean = discharged_days.iter().map(|d| d.days as f64).sum::<f64>() / discharged_days.len() as f64;
        (mean / 7.0 * 10.0).round() / 10.0
    });

    // 5: a clinical contact and a scored scale in M, on or after enrolment.
    let mut contacted = 0;
    for p in &medicaid_patients {
        let eps: Vec<&NysEpisode> = enrolled.iter().filter(|(e, _)| e.patient == *p).map(|(e, _)| *e).collect();
        let contact = eps.iter().flat_map(|e| e.clinical_contacts.iter().filter(move |c| **c >= first.max(e.start) && **c <= last)).next();
        let from = eps.iter().map(|e| e.start).min().unwrap_or(first).max(first);
        let scored = facts.patients[*p].scores.iter().find(|(i, s)| !i.is_screen() && s.date >= from && s.date <= last);
        contacted += u32::from(contact.is_some() && scored.is_some());
        listing.note(5, *p, contact.is_some() && scored.is_some(), || {
            let contact = contact.map_or_else(|| format!("no clinical contact in {month}"), |c| format!("clinical contact {c}"));
            let scored =
                scored.map_or_else(|| format!("no scale scored in {month}"), |(i, s)| format!("{} {} on {}", i.label(), s.total, s.date));
            format!("{contact}; {scored}")
        });
    }

    // 6–8 on each Medicaid patient's latest episode.
    let (mut improvement_denominator, mut improved, mut remitted, mut consulted, mut not_improved) = (0, 0, 0, 0, 0);
    for p in &medicaid_patients {
        let (e, end) = latest[p];
        let scores = &facts.patients[*p].scores;
        let judged: Vec<Judged> = e.primary_scales.iter().map(|s| judge(s, scores, e.start, month)).collect();
        let elevated: Vec<&Judged> = judged.iter().filter(|j| j.elevated).collect();
        let all_remitted = !elevated.is_empty() && elevated.iter().all(|j| j.remission);
        remitted += u32::from(all_remitted);
        listing.note(7, *p, all_remitted, || {
            if elevated.is_empty() {
                return "no elevated baseline".to_string();
            }
            let last_scores = elevated.iter().map(|j| match j.last_in_month {
                Some((form, s)) => format!("{} {} on {}", form.label(), s.total, s.date),
                None => format!("no {} in {month}", j.baseline.map_or("score", |(f, _)| f.label())),
            });
            last_scores.collect::<Vec<_>>().join("; ")
        });
        let until = end.map_or(last, |(d, _)| d.min(last));
        let days = dates::days_between(e.start, until);
        if elevated.is_empty() || days < TREATED_DAYS {
            continue;
        }
        improvement_denominator += 1;
        let all_improved = elevated.iter().all(|j| j.improved);
        let scores_text = || elevated.iter().map(|j| j.scores()).collect::<Vec<_>>().join("; ");
        listing.note(6, *p, all_improved, || format!("{days} days in treatment; {}", scores_text()));
        if all_improved {
            improved += 1;
            continue;
        }
        not_improved += 1;
        let from = dates::add_days(last, -(REVIEW_DAYS - 1));
        let review = e.reviews.iter().rfind(|r| **r >= from && **r <= last);
        consulted += u32::from(review.is_some());
        listing.note(8, *p, review.is_some(), || {
            let review = review.map_or_else(|| format!("no case review from {from} to {last}"), |r| format!("case review {r}"));
            format!("not improved ({}); {review}", scores_text())
        });
    }

    // 9: patients 12 or older on a qualifying visit in M, screened (PHQ-2, PHQ-9, PHQ-A) in
    // the 12 months ending on L, by anyone.
    let screened_from = dates::add_days(dates::add_months(last, -SCREENING_MONTHS), 1);
    let (mut visited, mut screened) = (0, 0);
    for (k, p) in facts.patients.iter().enumerate().filter(|(_, p)| in_scope(p)) {
        let Some(visit) = p.medical_visits.iter().find(|v| **v >= first && **v <= last && dates::age_on(p.dob, **v) >= SCREENING_FROM_AGE)
        else {
            continue;
        };
        visited += 1;
        let screen = p
            .scores
            .iter()
            .rfind(|(i, s)| crate::assessments::SCREENING_FORMS.contains(&i.as_str()) && s.date >= screened_from && s.date <= last);
        screened += u32::from(screen.is_some());
        listing.note(9, k, screen.is_some(), || {
            let screen = screen
                .map_or_else(|| format!("no PHQ-2, PHQ-9 or PHQ-A from {screened_from}"), |(i, s)| format!("{} on {}", i.label(), s.date));
            format!("visit {visit} at {}; {screen}", dates::age_on(p.dob, *visit))
        });
    }

    // 10: initial PHQ-9 or PHQ-A in M (no other in the 365 days before it), scoring ≥ 10.
    let depression_forms = [Instrument::PHQ9, Instrument::by_id("phq-a").unwrap_or(Instrument::PHQ9)];
    let (mut initial, mut positive) = (0, 0);
    for (k, p) in facts.patients.iter().enumerate().filter(|(_, p)| in_scope(p)) {
        let phq: Vec<&(Instrument, Point)> = p.scores.iter().filter(|(i, _)| depression_forms.contains(i)).collect();
        let first_initial = phq.iter().enumerate().find(|(k, (_, s))| {
            s.date >= first
                && s.date <= last
                && !phq[..*k].iter().any(|(_, o)| o.date >= dates::add_days(s.date, -INITIAL_LOOKBACK_DAYS) && o.date < s.date)
                && !phq[..*k].iter().any(|(_, o)| o.date == s.date)
        });
        if let Some((_, (form, s))) = first_initial {
            initial += 1;
            positive += u32::from(s.total >= 10);
            listing.note(10, k, s.total >= 10, || format!("initial {} {} on {}", form.label(), s.total, s.date));
        }
    }

    let bhcm_fte = match care_manager {
        Some((id, _)) => facts.care_manager_fte.get(id).copied().unwrap_or(0.0),
        None => facts.care_manager_fte.values().sum(),
    };
    let medicaid_enrollment = medicaid_patients.len() as u32;
    let report = NysReport {
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
    };
    (report, listing.members)
}

/// "enrolled 2026-06-01, open" / "…, discharged 2026-10-08" / "…, inactive from 2026-10-08".
fn episode_text(e: &NysEpisode, end: Option<(Date, bool)>) -> String {
    match end {
        None => format!("enrolled {}, open", e.start),
        Some((d, false)) => format!("enrolled {}, discharged {d}", e.start),
        Some((d, true)) => format!("enrolled {}, inactivity discharge {d}", e.start),
    }
}

mod load;
mod output;
#[cfg(test)]
mod tests;

pub(crate) use load::load;
pub use output::{Metric, NysQuarter, quarter_csv, quarter_months, to_csv};
