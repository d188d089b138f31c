//! Measurement-based care (spec §4): baseline, latest, change %, improved, response,
//! remission, per instrument and per patient, and the colours the registry shows them in.

use serde::Serialize;

use crate::dates::Date;
use crate::instruments::{Instrument, Severity, item9_positive};
use crate::vocab::{Target, string_enum};

/// One scored assessment, as the rules see it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub date: Date,
    pub total: u8,
    /// PHQ-9 item 9; `None` for the GAD-7.
    pub item9: Option<u8>,
}

string_enum!(
    /// Cell colours (spec §4): score ≥ 15 red, 10–14 amber, < 10 green; change ≤ −50 % green.
    Colour {
        Red => "red",
        Amber => "amber",
        Green => "green",
    }
);

/// The derived numbers of one instrument within an episode.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct InstrumentMeasures {
    pub count: usize,
    pub baseline: u8,
    pub baseline_date: Date,
    pub latest: u8,
    pub latest_date: Date,
    #[ts(type = "number | null")]
    pub change_pct: Option<i64>,
    pub improved: bool,
    pub response: bool,
    pub remission: bool,
    pub latest_severity: Severity,
    pub baseline_colour: Colour,
    pub latest_colour: Colour,
    pub change_colour: Option<Colour>,
    /// The baseline PHQ-9 has item 9 positive: outlined red wherever it is shown (spec §4).
    pub baseline_item9_positive: bool,
    /// The latest PHQ-9 has item 9 positive: outlined red wherever it is shown.
    pub latest_item9_positive: bool,
}

pub fn instrument_for(target: Target) -> Instrument {
    match target {
        Target::Depression => Instrument::Phq9,
        Target::Anxiety => Instrument::Gad7,
    }
}

/// (latest − baseline) / baseline × 100, rounded half away from zero; none when baseline is 0.
pub fn change_pct(baseline: u8, latest: u8) -> Option<i64> {
    if baseline == 0 {
        return None;
    }
    let (num, den) = ((latest as i64 - baseline as i64) * 100, baseline as i64);
    let magnitude = (2 * num.abs() + den) / (2 * den);
    Some(if num < 0 { -magnitude } else { magnitude })
}

/// Spec §4: the episode's assessments are those dated from S − lookback days through the
/// discharge date or T, whichever is first. The one definition of the window, read by the
/// caseload snapshot, the reports and the chart.
pub fn episode_window(start: Date, discharge: Option<Date>, as_of: Date, lookback_days: i64) -> (Date, Date) {
    (crate::dates::add_days(start, -lookback_days), discharge.map_or(as_of, |d| d.min(as_of)))
}

/// Latest ≤ 50 % of baseline.
pub fn is_response(baseline: u8, latest: u8) -> bool {
    2 * latest as u32 <= baseline as u32
}

/// The response line the trend chart draws: half the baseline (at or below it is a response).
pub fn response_line(baseline: u8) -> f64 {
    baseline as f64 / 2.0
}

/// Spec §4: remission is a latest score below this.
pub const REMISSION_BELOW: u8 = 5;

/// Response, or latest below 10.
pub fn is_improved(baseline: u8, latest: u8) -> bool {
    is_response(baseline, latest) || latest < 10
}

pub fn is_remission(latest: u8) -> bool {
    latest < REMISSION_BELOW
}

pub fn score_colour(total: u8) -> Colour {
    match total {
        15.. => Colour::Red,
        10..=14 => Colour::Amber,
        _ => Colour::Green,
    }
}

pub fn change_colour(change_pct: Option<i64>) -> Option<Colour> {
    change_pct.filter(|c| *c <= -50).map(|_| Colour::Green)
}

/// Measures of one instrument from the episode's assessments of it, oldest first.
/// Improved, response and remission need at least two assessments.
pub fn measure(instrument: Instrument, points: &[Point]) -> Option<InstrumentMeasures> {
    let (first, last) = (points.first()?, points.last()?);
    let count = points.len();
    let two = count >= 2;
    let change = if two { change_pct(first.total, last.total) } else { None };
    Some(InstrumentMeasures {
        count,
        baseline: first.total,
        baseline_date: first.date,
        latest: last.total,
        latest_date: last.date,
        change_pct: change,
        improved: two && is_improved(first.total, last.total),
        response: two && is_response(first.total, last.total),
        remission: two && is_remission(last.total),
        latest_severity: instrument.severity(last.total),
        baseline_colour: score_colour(first.total),
        latest_colour: score_colour(last.total),
        change_colour: change_colour(change),
        baseline_item9_positive: item9_positive(first.item9),
        latest_item9_positive: item9_positive(last.item9),
    })
}

/// Whether the patient (not one instrument) is improved, responding, in remission.
#[derive(Clone, Copy, Debug, Default, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct PatientOutcome {
    pub improved: bool,
    pub response: bool,
    pub remission: bool,
}

/// Holds when it holds for every target instrument with at least two assessments; a patient
/// with no such instrument is neither.
pub fn patient_outcome(targets: &[Target], measures_of: impl Fn(Instrument) -> Option<InstrumentMeasures>) -> PatientOutcome {
    let judged: Vec<InstrumentMeasures> = targets.iter().filter_map(|t| measures_of(instrument_for(*t))).filter(|m| m.count >= 2).collect();
    if judged.is_empty() {
        return PatientOutcome::default();
    }
    PatientOutcome {
        improved: judged.iter().all(|m| m.improved),
        response: judged.iter().all(|m| m.response),
        remission: judged.iter().all(|m| m.remission),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::parse_date;

    fn pts(totals: &[u8]) -> Vec<Point> {
        let start = parse_date("d", "2026-01-01").unwrap();
        totals
            .iter()
            .enumerate()
            .map(|(i, t)| Point { date: start + chrono::Duration::days(14 * i as i64), total: *t, item9: Some(0) })
            .collect()
    }

    #[test]
    fn change_pct_rounds_and_needs_a_baseline() {
        assert_eq!(change_pct(20, 10), Some(-50));
        assert_eq!(change_pct(15, 8), Some(-47)); // -46.67
        assert_eq!(change_pct(8, 9), Some(13)); // 12.5 rounds away from zero
        assert_eq!(change_pct(8, 7), Some(-13)); // -12.5
        assert_eq!(change_pct(0, 5), None);
        assert_eq!(measure(Instrument::Phq9, &pts(&[18])).unwrap().change_pct, None, "one assessment has no change");
    }

    #[test]
    fn response_at_exactly_half_of_baseline() {
        // 50 % boundary: 10 of 20 is a response, 11 is not.
        assert!(is_response(20, 10));
        assert!(!is_response(20, 11));
        assert!(is_response(19, 9)); // 9 ≤ 9.5
        assert!(!is_response(19, 10)); // 10 > 9.5
    }

    #[test]
    fn improved_below_ten_or_half() {
        // 9/10 points boundary.
        assert!(is_improved(12, 9));
        assert!(!is_improved(12, 10));
        assert!(is_improved(24, 12)); // ≥ 10 but half
        assert!(!is_improved(24, 13));
    }

    #[test]
    fn remission_below_five() {
        assert!(is_remission(4));
        assert!(!is_remission(5));
    }

    #[test]
    fn outcomes_need_two_assessments() {
        let one = measure(Instrument::Phq9, &pts(&[3])).unwrap();
        assert!(!one.improved && !one.response && !one.remission);
        let two = measure(Instrument::Phq9, &pts(&[20, 4])).unwrap();
        assert!(two.improved && two.response && two.remission);
        assert_eq!((two.baseline, two.latest, two.count), (20, 4, 2));
    }

    #[test]
    fn colours() {
        assert_eq!(score_colour(15), Colour::Red);
        assert_eq!(score_colour(14), Colour::Amber);
        assert_eq!(score_colour(10), Colour::Amber);
        assert_eq!(score_colour(9), Colour::Green);
        assert_eq!(change_colour(Some(-50)), Some(Colour::Green));
        assert_eq!(change_colour(Some(-49)), None);
        assert_eq!(change_colour(None), None);
    }

    #[test]
    fn patient_outcome_needs_every_judged_target() {
        let phq = measure(Instrument::Phq9, &pts(&[20, 4]));
        let gad_bad = measure(Instrument::Gad7, &pts(&[15, 14]));
        let gad_single = measure(Instrument::Gad7, &pts(&[15]));
        let both = [Target::Depression, Target::Anxiety];
        let pick = |gad: &Option<InstrumentMeasures>, i: Instrument| if i == Instrument::Phq9 { phq.clone() } else { gad.clone() };
        assert!(!patient_outcome(&both, |i| pick(&gad_bad, i)).improved);
        assert!(patient_outcome(&both, |i| pick(&gad_single, i)).remission, "a single GAD-7 is not judged");
        assert_eq!(patient_outcome(&[Target::Anxiety], |i| pick(&gad_single, i)), PatientOutcome::default());
    }
}
