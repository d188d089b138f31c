//! The rules of spec §8, judged from memory over [`ReportData`] for one period and one scope.
//! Counting and drill-down share one path: every patient counted into a measure goes through
//! [`Tally::count`], which also records who they are when that measure's list was asked for,
//! so a figure and the patients behind it cannot disagree.

use std::collections::BTreeMap;

use super::load::{EpisodeRecord, PatientRecords, ReportData};
use super::{Measure, Rate, Report, ReportBilling, ReportMember};
use crate::dates::{self, Date};
use crate::instruments::Instrument;
use crate::measures::{self, Point, patient_outcome};
use crate::settings::Settings;

/// §8: the improvement population has at least this many days in treatment.
pub(super) const IMPROVEMENT_MIN_DAYS: i64 = 70;
/// §8 DRR-style follow-up window, in days after the baseline PHQ-9.
pub(super) const DRR_WINDOW_DAYS: (i64, i64) = (120, 240);
/// §8 CMS159-style remission window, in calendar months after the baseline PHQ-9.
pub(super) const REMISSION_12M_WINDOW_MONTHS: (i32, i32) = (10, 14);
/// §8: a baseline PHQ-9 at or above this opens the DRR and 12-month measures.
pub(super) const ELEVATED_PHQ9: u8 = 10;

/// A reporting period from `from` to `to`, judged as far as `end` (the as-of date, when the
/// period has not finished yet).
#[derive(Clone, Copy, Debug)]
pub(super) struct Period {
    pub from: Date,
    pub to: Date,
    pub as_of: Date,
    pub end: Date,
}

/// Whose patients a report covers, by the patient's care manager.
#[derive(Clone, Copy, Debug)]
pub(super) enum Who<'a> {
    Practice,
    CareManager(&'a str),
    /// Patients with no care manager assigned.
    Unassigned,
}

impl<'a> Who<'a> {
    pub fn of(care_manager_id: Option<&'a str>) -> Who<'a> {
        care_manager_id.map_or(Who::Practice, Who::CareManager)
    }

    pub fn includes(&self, p: &PatientRecords) -> bool {
        match self {
            Who::Practice => true,
            Who::CareManager(id) => p.care_manager_id.as_deref() == Some(*id),
            Who::Unassigned => p.care_manager_id.is_none(),
        }
    }
}

/// Numerators and denominators as they are counted, and the members of the one measure whose
/// list was asked for.
struct Tally<'a> {
    counts: BTreeMap<Measure, (u32, u32)>,
    want: Option<Measure>,
    members: Vec<ReportMember>,
    data: &'a ReportData,
}

impl Tally<'_> {
    fn count(&mut self, measure: Measure, patient: usize, in_numerator: bool, detail: impl FnOnce() -> String) {
        let c = self.counts.entry(measure).or_default();
        c.1 += 1;
        c.0 += u32::from(in_numerator);
        if self.want == Some(measure) {
            let p = &self.data.patients[patient];
            self.members.push(ReportMember {
                mrn: p.mrn.clone(),
                name: p.name.clone(),
                care_manager: p.care_manager_id.as_ref().and_then(|id| self.data.care_managers.get(id).cloned()),
                in_numerator,
                detail: detail(),
            });
        }
    }

    fn rate(&self, measure: Measure, target_pct: Option<i64>) -> Rate {
        let (numerator, denominator) = self.counts.get(&measure).copied().unwrap_or_default();
        Rate::new(numerator, denominator, target_pct.map(|t| t.clamp(0, 100) as u32))
    }

    fn total(&self, measure: Measure) -> u32 {
        self.counts.get(&measure).map_or(0, |c| c.1)
    }
}

fn in_range(d: Date, from: Date, to: Date) -> bool {
    from <= d && d <= to
}

/// The episode's assessments of one instrument as of `end` (spec §4: from S − lookback through
/// the discharge date or `end`, whichever is first).
fn episode_points(e: &EpisodeRecord, p: &PatientRecords, instrument: Instrument, lookback: i64, end: Date) -> Vec<Point> {
    let (first, last) = measures::episode_window(e.start, e.discharge.map(|(d, _)| d), end, lookback);
    p.assessments.iter().filter(|(i, pt)| *i == instrument && in_range(pt.date, first, last)).map(|(_, pt)| *pt).collect()
}

fn describe(instrument: Instrument, settings: &Settings, points: &[Point]) -> String {
    match measures::measure(instrument, settings.rules(instrument), points) {
        Some(m) => {
            let change = m.change_pct.map(|c| format!(" ({c:+} %)")).unwrap_or_default();
            format!("{} {} on {} → {} on {}{change}", instrument.label(), m.baseline, m.baseline_date, m.latest, m.latest_date)
        }
        None => format!("no {}", instrument.label()),
    }
}

/// The report for one period and scope, billing aside; the members of `want` go to `members`.
pub(super) fn evaluate(
    data: &ReportData,
    settings: &Settings,
    period: Period,
    who: Who,
    want: Option<Measure>,
) -> (Report, Vec<ReportMember>) {
    let Period { from, end, .. } = period;
    let mut t = Tally { counts: BTreeMap::new(), want, members: Vec::new(), data };
    let mut discharged_by_reason: BTreeMap<String, u32> = BTreeMap::new();
    let mut payer_mix: BTreeMap<&str, u32> = BTreeMap::new();
    let mut weeks_to_discharge: Vec<f64> = Vec::new();
    let mut counted_for_contact = vec![false; data.patients.len()];

    for e in &data.episodes {
        let p = &data.patients[e.patient];
        if !who.includes(p) || e.start > end {
            continue;
        }
        let open_at_end = e.open_on(end);

        // Caseload statistics.
        if open_at_end {
            let status = e.status_on(end).map(|s| s.as_str()).unwrap_or_default();
            t.count(Measure::Caseload, e.patient, true, || format!("{status}, enrolled {}", e.start));
            // §7a: the primary coverage on the period's last day.
            let payer = p.primary_coverage.payer_on(end).map_or("none", |payer| payer.as_str());
            *payer_mix.entry(payer).or_default() += 1;
        }
        if in_range(e.start, from, end) {
            t.count(Measure::NewlyEnrolled, e.patient, true, || format!("enrolled {}", e.start));
        }
        if let Some((d, reason)) = e.discharge.filter(|(d, _)| in_range(*d, from, end)) {
            let reason = reason.map_or("unknown", |r| r.as_str());
            let weeks = dates::days_between(e.start, d) as f64 / 7.0;
            weeks_to_discharge.push(weeks);
            *discharged_by_reason.entry(reason.to_string()).or_default() += 1;
            t.count(Measure::Discharged, e.patient, true, || format!("discharged {d} ({reason}) after {weeks:.1} weeks"));
        }

        // Monthly contact rate: per patient, once however many episodes they had in the period.
        if e.open_during(from, end) && !counted_for_contact[e.patient] {
            counted_for_contact[e.patient] = true;
            let contact = p.contact_days.iter().rev().find(|d| in_range(**d, from, end));
            let assessment = p.assessments.iter().rev().find(|(_, pt)| in_range(pt.date, from, end));
            t.count(Measure::ContactRate, e.patient, contact.is_some() && assessment.is_some(), || {
                let contact = contact.map_or("no contact in the period".to_string(), |d| format!("last contact {d}"));
                let assessment =
                    assessment.map_or("no assessment in the period".to_string(), |(i, pt)| format!("last {} {}", i.label(), pt.date));
                format!("{contact}; {assessment}")
            });
        }

        // Improvement, response, remission and consultation, at the period's end.
        if open_at_end && dates::days_between(e.start, end) >= IMPROVEMENT_MIN_DAYS {
            // Each target by its primary scale's rules (spec §3a), every form of the scale.
            let judged: Vec<(Instrument, Vec<Point>)> = e
                .primary_forms
                .iter()
                .map(|i| (*i, episode_points(e, p, *i, settings.baseline_lookback_days, end)))
                .filter(|(_, points)| points.len() >= 2)
                .collect();
            if !judged.is_empty() {
                let measures_of = |i: Instrument| {
                    judged.iter().find(|(j, _)| *j == i).and_then(|(_, points)| measures::measure(i, settings.rules(i), points))
                };
                let targets: Vec<measures::TargetMeasure> =
                    e.primary_scales.iter().filter_map(|s| measures::target_measure(*s, measures_of)).collect();
                let outcome = patient_outcome(&targets);
                let detail = || judged.iter().map(|(i, points)| describe(*i, settings, points)).collect::<Vec<_>>().join("; ");
                t.count(Measure::ImprovementRate, e.patient, outcome.improved, detail);
                t.count(Measure::ResponseRate, e.patient, outcome.response, detail);
                t.count(Measure::RemissionRate, e.patient, outcome.remission, detail);
                if !outcome.improved {
                    let since = dates::add_days(end, -settings.review_overdue_days);
                    let review = p.reviews.iter().rev().find(|d| in_range(**d, since, end));
                    t.count(Measure::ConsultationRate, e.patient, review.is_some(), || match review {
                        Some(d) => format!("case review {d}; {}", detail()),
                        None => format!("no case review since {since}; {}", detail()),
                    });
                }
            }
        }

        // DRR-style and CMS159-style measures, from an elevated baseline PHQ-9 (a PHQ-A counts
        // as one: its catalogue entry says so). Their response and remission are the measures'
        // published PHQ-9 definitions (the catalogue's), not the practice's changed thresholds.
        let phq9 = Instrument::PHQ9.rules();
        let (window_from, window_to) = measures::episode_window(e.start, e.discharge.map(|(d, _)| d), end, settings.baseline_lookback_days);
        let baseline =
            p.assessments.iter().find(|(i, pt)| i.counts_as_phq9() && in_range(pt.date, window_from, window_to)).map(|(_, pt)| *pt);
        if let Some(b) = baseline.filter(|b| b.total >= ELEVATED_PHQ9) {
            let phq9_between = |first: Date, last: Date| {
                p.assessments.iter().filter(|(i, pt)| i.counts_as_phq9() && in_range(pt.date, first, last)).map(|(_, pt)| *pt).next_back()
            };
            let (first, last) = (dates::add_days(b.date, DRR_WINDOW_DAYS.0), dates::add_days(b.date, DRR_WINDOW_DAYS.1));
            if in_range(last, from, end) {
                let follow_up = phq9_between(first, last);
                let detail = || match follow_up {
                    Some(f) => format!("baseline PHQ-9 {} on {}; last in {first}…{last}: {} on {}", b.total, b.date, f.total, f.date),
                    None => format!("baseline PHQ-9 {} on {}; no PHQ-9 from {first} to {last}", b.total, b.date),
                };
                t.count(Measure::DrrFollowupRate, e.patient, follow_up.is_some(), detail);
                t.count(
                    Measure::DrrResponseRate,
                    e.patient,
                    follow_up.is_some_and(|f| measures::is_response(phq9, b.total, f.total)),
                    detail,
                );
                t.count(Measure::DrrRemissionRate, e.patient, follow_up.is_some_and(|f| measures::is_remission(phq9, f.total)), detail);
            }
            let (first, last) =
                (dates::add_months(b.date, REMISSION_12M_WINDOW_MONTHS.0), dates::add_months(b.date, REMISSION_12M_WINDOW_MONTHS.1));
            if in_range(last, from, end) {
                let follow_up = phq9_between(first, last);
                t.count(Measure::Remission12mRate, e.patient, follow_up.is_some_and(|f| measures::is_remission(phq9, f.total)), || {
                    match follow_up {
                        Some(f) => format!("baseline PHQ-9 {} on {}; last in {first}…{last}: {} on {}", b.total, b.date, f.total, f.date),
                        None => format!("baseline PHQ-9 {} on {}; no PHQ-9 from {first} to {last}", b.total, b.date),
                    }
                });
            }
        }
    }

    let avg_weeks_to_discharge = (!weeks_to_discharge.is_empty())
        .then(|| (weeks_to_discharge.iter().sum::<f64>() / weeks_to_discharge.len() as f64 * 10.0).round() / 10.0);
    let caseload = t.total(Measure::Caseload);
    let report = Report {
        from: period.from,
        to: period.to,
        as_of: period.as_of,
        end,
        care_manager: match who {
            Who::Practice => None,
            Who::CareManager(id) => data.care_managers.get(id).cloned(),
            Who::Unassigned => Some("(no care manager)".to_string()),
        },
        caseload,
        newly_enrolled: t.total(Measure::NewlyEnrolled),
        discharged: t.total(Measure::Discharged),
        discharged_by_reason,
        avg_weeks_to_discharge,
        payer_mix_percent: payer_mix.iter().filter_map(|(k, n)| Some((k.to_string(), super::whole_percent(*n, caseload)?))).collect(),
        payer_mix: payer_mix.into_iter().map(|(k, n)| (k.to_string(), n)).collect(),
        contact_rate: t.rate(Measure::ContactRate, Some(settings.target_contact_rate_pct)),
        improvement_rate: t.rate(Measure::ImprovementRate, Some(settings.target_improvement_rate_pct)),
        response_rate: t.rate(Measure::ResponseRate, None),
        remission_rate: t.rate(Measure::RemissionRate, None),
        consultation_rate: t.rate(Measure::ConsultationRate, Some(settings.target_consultation_rate_pct)),
        drr_followup_rate: t.rate(Measure::DrrFollowupRate, None),
        drr_response_rate: t.rate(Measure::DrrResponseRate, None),
        drr_remission_rate: t.rate(Measure::DrrRemissionRate, None),
        remission_12m_rate: t.rate(Measure::Remission12mRate, None),
        billing: ReportBilling::default(),
    };
    let mut members = t.members;
    members.sort_by(|a, b| a.mrn.cmp(&b.mrn));
    (report, members)
}
