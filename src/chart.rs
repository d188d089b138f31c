//! The patient's chart: demographics, episodes, every record with its entered-in-error marks,
//! and what the rules derive today (flags, queue reasons, this month's billing minutes).

use serde::Serialize;

use crate::assessments::{self, Assessment};
use crate::billing::BillingRow;
use crate::caseload::{self, CaseloadRow};
use crate::contacts::{self, Contact};
use crate::dates::Date;
use crate::episodes::{self, Episode};
use crate::flags;
use crate::instruments::{self, Band, Instrument};
use crate::measures;
use crate::patients::{self, Patient};
use crate::queue::{self, ReasonSince};
use crate::reviews::{self, CaseReview, ReviewRequest};
use crate::settings::Settings;
use crate::snapshot::{self, Scope};
use crate::treatment::{self, TreatmentChange};
use crate::{Registry, Result};

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct PatientChart {
    pub as_of: Date,
    pub patient: Patient,
    /// Oldest first; the last may be open.
    pub episodes: Vec<Episode>,
    /// The derived caseload row, when the patient is on the caseload on `as_of`.
    pub current: Option<CaseloadRow>,
    pub queue_reasons: Vec<ReasonSince>,
    /// This month's billing (minutes, codes, minutes to the next tier), when any minutes.
    pub billing_this_month: Option<BillingRow>,
    pub assessments: Vec<Assessment>,
    pub contacts: Vec<Contact>,
    pub review_requests: Vec<ReviewRequest>,
    pub case_reviews: Vec<CaseReview>,
    pub treatment_changes: Vec<TreatmentChange>,
    /// The current (latest) episode's trajectory, for the trend chart.
    pub trend: Trend,
}

/// What the trend chart draws (spec §4): the episode's assessments from S − lookback through
/// discharge or the as-of date (entered-in-error excluded), each instrument on its own scale
/// with its bands, its response line and its remission line, and the dates of treatment
/// changes and case reviews.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct Trend {
    pub points: Vec<TrendPoint>,
    /// The episode's primary scales' forms first, then any other instrument with a point.
    pub scales: Vec<TrendScale>,
    pub markers: Vec<Marker>,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct TrendPoint {
    pub date: Date,
    pub instrument: Instrument,
    pub total: u8,
    pub item9_positive: bool,
}

/// One instrument's axis: 0 to its maximum, its bands, and its lines.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct TrendScale {
    pub instrument: Instrument,
    pub label: String,
    pub max_total: u8,
    /// A primary scale of the episode (its target is judged by it).
    pub primary: bool,
    pub bands: Vec<Band>,
    /// At or below it is a response (half the baseline, or the baseline less the points).
    pub response_line: Option<f64>,
    /// What the response line is, in words: "50% of baseline", "baseline − 10".
    pub response_label: Option<String>,
    /// Remission is a latest score below this.
    pub remission_below: Option<u8>,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct Marker {
    pub date: Date,
    /// `treatment-change` or `case-review`.
    pub kind: String,
    pub label: String,
}

fn trend(
    episodes: &[Episode],
    assessments: &[Assessment],
    reviews: &[CaseReview],
    changes: &[TreatmentChange],
    settings: &Settings,
    as_of: Date,
) -> Trend {
    // The latest episode that counts; the chart's episodes are already as of `as_of`.
    let Some(e) = episodes.iter().rev().find(|e| e.entered_in_error.is_none()) else {
        return Trend { points: vec![], scales: vec![], markers: vec![] };
    };
    let (from, to) = measures::episode_window(e.start_date, e.discharge_date, as_of, settings.baseline_lookback_days);
    let in_window = |d: Date| d >= from && d <= to;
    let points: Vec<TrendPoint> = assessments
        .iter()
        .filter(|a| a.entered_in_error.is_none() && in_window(a.date))
        .map(|a| TrendPoint { date: a.date, instrument: a.instrument, total: a.total, item9_positive: a.item9_positive })
        .collect();
    let primary: Vec<Instrument> = e.primary_scales.iter().flat_map(|s| instruments::scale_forms(s.scale)).collect();
    let mut shown = primary.clone();
    for p in &points {
        if !shown.contains(&p.instrument) {
            shown.push(p.instrument);
        }
    }
    let scales = shown
        .into_iter()
        .map(|i| TrendScale {
            instrument: i,
            label: i.label().to_string(),
            max_total: i.max_total(),
            primary: primary.contains(&i),
            bands: i.bands().to_vec(),
            response_line: points.iter().find(|p| p.instrument == i).and_then(|p| measures::response_line(settings.rules(i), p.total)),
            response_label: settings.rules(i).improvement.as_ref().and_then(|r| match (r.percent, r.points) {
                (Some(percent), _) => Some(format!("{percent}% of baseline")),
                (None, Some(points)) => Some(format!("baseline − {points}")),
                _ => None,
            }),
            remission_below: settings.rules(i).remission_below,
        })
        .collect();
    let mut markers: Vec<Marker> = changes
        .iter()
        .filter(|c| c.entered_in_error.is_none() && in_window(c.date))
        .map(|c| Marker { date: c.date, kind: "treatment-change".into(), label: c.description.clone() })
        .chain(reviews.iter().filter(|r| r.entered_in_error.is_none() && in_window(r.date)).map(|r| Marker {
            date: r.date,
            kind: "case-review".into(),
            label: format!("Case review by {}", r.consultant),
        }))
        .collect();
    markers.sort_by_key(|m| m.date);
    Trend { points, scales, markers }
}

impl Registry {
    /// The chart as it stood on `as_of`: no record, status change or minute dated after it.
    pub fn patient_chart(&self, mrn: &str, as_of: Date) -> Result<PatientChart> {
        let patient = patients::load(&self.conn, mrn)?;
        self.audit_chart_view(&patient.id, as_of)?;
        let settings = self.settings()?;
        let snap = snapshot::load(&self.conn, as_of, Scope::Patient(&patient.id), &settings)?.pop();
        let (current, queue_reasons) = match snap {
            None => (None, Vec::new()),
            Some(s) => {
                let e = flags::evaluate(&s, &settings, as_of);
                let reasons = queue::reasons(&s, &e, &settings, as_of);
                let row = caseload::row(&s, e);
                (Some(row), reasons)
            }
        };
        let up_to = |d: Date| d <= as_of;
        let episodes: Vec<Episode> = episodes::for_patient(&self.conn, &patient.id)?.iter().filter_map(|e| e.as_of(as_of)).collect();
        let mut assessments = assessments::for_patient(&self.conn, &patient.id)?;
        assessments.retain(|a| up_to(a.date));
        let mut case_reviews = reviews::case_reviews_for_patient(&self.conn, &patient.id)?;
        case_reviews.retain(|r| up_to(r.date));
        let mut treatment_changes = treatment::for_patient(&self.conn, &patient.id)?;
        treatment_changes.retain(|c| up_to(c.date));
        let mut contacts = contacts::for_patient(&self.conn, &patient.id)?;
        contacts.retain(|c| up_to(c.date));
        Ok(PatientChart {
            as_of,
            trend: trend(&episodes, &assessments, &case_reviews, &treatment_changes, &settings, as_of),
            episodes,
            current,
            queue_reasons,
            billing_this_month: self.patient_billing_so_far(mrn, as_of)?,
            assessments,
            contacts,
            review_requests: reviews::requests_for_patient(&self.conn, &patient.id, as_of)?,
            case_reviews,
            treatment_changes,
            patient,
        })
    }
}
