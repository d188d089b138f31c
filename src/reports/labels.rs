//! What each rate of a report counts, in words, built from the same constants and settings the
//! rules in `evaluate` read (spec §8): a practice that changes a setting sees the label change.

use serde::Serialize;

use super::Measure;
use super::evaluate::{DRR_WINDOW_DAYS, ELEVATED_PHQ9, IMPROVEMENT_MIN_DAYS, REMISSION_12M_WINDOW_MONTHS};
use crate::instruments::Instrument;
use crate::settings::Settings;

/// A rate's title and what it counts.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct RateLabel {
    pub measure: Measure,
    pub title: String,
    pub about: String,
}

/// The labels of the nine rates, in the order a report shows them.
pub fn rate_labels(settings: &Settings) -> Vec<RateLabel> {
    let (drr_from, drr_to) = DRR_WINDOW_DAYS;
    let (rem_from, rem_to) = REMISSION_12M_WINDOW_MONTHS;
    let phq9_remission = Instrument::PHQ9.rules().remission_below.unwrap_or_default();
    let label = |measure: Measure, title: &str, about: String| RateLabel { measure, title: title.to_string(), about };
    vec![
        label(
            Measure::ContactRate,
            "Contact rate",
            "had a contact and an assessment in the period, of those on the caseload during it".into(),
        ),
        label(
            Measure::ImprovementRate,
            "Improvement rate",
            format!("improved, of those ≥ {IMPROVEMENT_MIN_DAYS} days in treatment with two target assessments"),
        ),
        label(Measure::ResponseRate, "Response rate", "≤ 50 % of baseline, same population".into()),
        label(
            Measure::RemissionRate,
            "Remission rate",
            "latest score below its scale's remission line (PHQ-9 and GAD-7 < 5), same population".into(),
        ),
        label(
            Measure::ConsultationRate,
            "Psychiatric consultation",
            format!("case review in the {} days up to the period's end, of those not improved", settings.review_overdue_days),
        ),
        label(
            Measure::DrrFollowupRate,
            "Follow-up at 4–8 months",
            format!("PHQ-9 {drr_from}–{drr_to} days after a baseline ≥ {ELEVATED_PHQ9} (HEDIS DRR-style)"),
        ),
        label(Measure::DrrResponseRate, "Response at 4–8 months", "last PHQ-9 in that window ≤ 50 % of baseline".into()),
        label(Measure::DrrRemissionRate, "Remission at 4–8 months", format!("last PHQ-9 in that window < {phq9_remission}")),
        label(
            Measure::Remission12mRate,
            "Remission at 12 months",
            format!("last PHQ-9 {rem_from}–{rem_to} months after a baseline ≥ {ELEVATED_PHQ9} is < {phq9_remission} (CMS159-style)"),
        ),
    ]
}
