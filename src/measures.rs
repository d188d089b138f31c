//! Measurement-based care (spec §4, §3a): baseline, latest, change %, improved, response,
//! remission, per instrument, per target (by its primary scale) and per patient, and the
//! colours the registry shows them in. Each instrument's thresholds are the practice's
//! (`Settings::rules`: its catalogue entry's defaults as changed), never a branch on its name.

use serde::Serialize;

use crate::dates::Date;
use crate::instruments::{self, Instrument, Rules, Severity};
use crate::vocab::{Target, string_enum};

/// One scored assessment, as the rules see it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub date: Date,
    pub total: u8,
    /// The form's safety items: positive or not; `None` when it has none or they are unknown
    /// (a total-only import).
    pub safety: Option<bool>,
}

string_enum!(
    /// Cell colours (spec §4): score ≥ 15 red, 10–14 amber, < 10 green (the PHQ-9 and GAD-7;
    /// other instruments colour by their bands); change ≤ −50 % green.
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
    /// The baseline's safety item is positive (PHQ-9 item 9): outlined red wherever it is shown.
    pub baseline_item9_positive: bool,
    /// The latest's safety item is positive: outlined red wherever it is shown (spec §4).
    pub latest_item9_positive: bool,
}

/// A target and the scale that judges it, fixed for the episode at enrolment (spec §3a).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct PrimaryScale {
    pub target: Target,
    /// A form's id, or the id a child and a parent form share (`smfq`, `scared`).
    #[ts(type = "string")]
    pub scale: &'static str,
}

impl<'de> serde::Deserialize<'de> for PrimaryScale {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        struct Stored {
            target: Target,
            scale: String,
        }
        let s = Stored::deserialize(d)?;
        let scale = instruments::parse_scale("scale", &s.scale).map_err(serde::de::Error::custom)?;
        Ok(PrimaryScale { target: s.target, scale })
    }
}

/// One target's numbers by its primary scale. For a paired scale the numbers are the form
/// answered last, and improved, response and remission are the target's: either form, each
/// against its own baseline (spec §3a).
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct TargetMeasure {
    pub target: Target,
    pub scale: String,
    pub instrument: Instrument,
    /// Some form of the scale has two assessments, so the target is judged.
    pub judged: bool,
    #[serde(flatten)]
    pub numbers: InstrumentMeasures,
}

/// An episode's primary scales as stored: `depression=phq9,anxiety=gad7`.
pub fn primary_scales_text(scales: &[PrimaryScale]) -> String {
    scales.iter().map(|p| format!("{}={}", p.target, p.scale)).collect::<Vec<_>>().join(",")
}

/// Reads `depression=phq9,anxiety=gad7`; a target missing from it takes `fallback(target)`.
pub fn parse_primary_scales(targets: &[Target], text: &str, fallback: impl Fn(Target) -> &'static str) -> Vec<PrimaryScale> {
    targets
        .iter()
        .map(|t| {
            let stored = text.split(',').filter_map(|pair| pair.split_once('=')).find(|(k, _)| *k == t.as_str()).map(|(_, v)| v);
            let scale = stored.and_then(|v| instruments::parse_scale("primary-scale", v).ok()).unwrap_or_else(|| fallback(*t));
            PrimaryScale { target: *t, scale }
        })
        .collect()
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

/// Latest at most `percent` % of baseline (50: 10 of 20 is, 11 is not).
fn within_percent(baseline: u8, latest: u8, percent: u8) -> bool {
    100 * u32::from(latest) <= u32::from(percent) * u32::from(baseline)
}

/// Response (spec §3a): ≤ 50 % of baseline for a percentage rule; for a point-change scale,
/// the improvement rule itself.
pub fn is_response(rules: &Rules, baseline: u8, latest: u8) -> bool {
    match &rules.improvement {
        Some(i) => match (i.percent, i.points) {
            (Some(p), _) => within_percent(baseline, latest, p),
            (None, Some(points)) => u32::from(latest) + u32::from(points) <= u32::from(baseline),
            _ => false,
        },
        None => false,
    }
}

/// Improved (spec §4, §3a): the response, or (PHQ-9, GAD-7, PHQ-A) a latest below 10.
pub fn is_improved(rules: &Rules, baseline: u8, latest: u8) -> bool {
    let below = rules.improvement.as_ref().and_then(|i| i.or_below);
    is_response(rules, baseline, latest) || below.is_some_and(|b| latest < b)
}

/// Remission: a latest score below the instrument's remission line (5 for the PHQ-9).
pub fn is_remission(rules: &Rules, latest: u8) -> bool {
    rules.remission_below.is_some_and(|r| latest < r)
}

/// The line the trend chart draws for the response: half the baseline for a percentage rule,
/// the baseline less the points for a point-change scale.
pub fn response_line(rules: &Rules, baseline: u8) -> Option<f64> {
    let i = rules.improvement.as_ref()?;
    match (i.percent, i.points) {
        (Some(p), _) => Some(f64::from(baseline) * f64::from(p) / 100.0),
        (None, Some(points)) => Some(f64::from(baseline) - f64::from(points)),
        _ => None,
    }
}

pub fn change_colour(change_pct: Option<i64>) -> Option<Colour> {
    change_pct.filter(|c| *c <= -50).map(|_| Colour::Green)
}

/// Measures of one instrument from the episode's assessments of it, oldest first.
/// Improved, response and remission need at least two assessments.
pub fn measure(instrument: Instrument, rules: &Rules, points: &[Point]) -> Option<InstrumentMeasures> {
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
        improved: two && is_improved(rules, first.total, last.total),
        response: two && is_response(rules, first.total, last.total),
        remission: two && is_remission(rules, last.total),
        latest_severity: instrument.severity(last.total),
        baseline_colour: instrument.colour(first.total),
        latest_colour: instrument.colour(last.total),
        change_colour: change_colour(change),
        baseline_item9_positive: first.safety == Some(true),
        latest_item9_positive: last.safety == Some(true),
    })
}

/// A target's measure by its primary scale, from each form's measures (spec §3a): a paired
/// scale's target is improved, responding or in remission when either form is, each form
/// judged against its own baseline. `None` before any form of the scale has a score.
pub fn target_measure(scale: PrimaryScale, measures_of: impl Fn(Instrument) -> Option<InstrumentMeasures>) -> Option<TargetMeasure> {
    let forms: Vec<(Instrument, InstrumentMeasures)> =
        instruments::scale_forms(scale.scale).into_iter().filter_map(|i| measures_of(i).map(|m| (i, m))).collect();
    let judged: Vec<&InstrumentMeasures> = forms.iter().map(|(_, m)| m).filter(|m| m.count >= 2).collect();
    let any = |f: fn(&InstrumentMeasures) -> bool| judged.iter().any(|m| f(m));
    let (improved, response, remission) = (any(|m| m.improved), any(|m| m.response), any(|m| m.remission));
    // The form answered last (the first in catalogue order on a tie).
    let (instrument, mut numbers) = forms.iter().rev().max_by_key(|(_, m)| m.latest_date).cloned()?;
    numbers.improved = improved;
    numbers.response = response;
    numbers.remission = remission;
    Some(TargetMeasure { target: scale.target, scale: scale.scale.to_string(), instrument, judged: !judged.is_empty(), numbers })
}

/// Whether the patient (not one instrument) is improved, responding, in remission.
#[derive(Clone, Copy, Debug, Default, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct PatientOutcome {
    pub improved: bool,
    pub response: bool,
    pub remission: bool,
}

/// Holds when it holds for every judged target (one whose primary scale has two assessments);
/// a patient with no judged target is neither.
pub fn patient_outcome(targets: &[TargetMeasure]) -> PatientOutcome {
    let judged: Vec<&InstrumentMeasures> = targets.iter().filter(|t| t.judged).map(|t| &t.numbers).collect();
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

    const PHQ9: Instrument = Instrument::PHQ9;
    const GAD7: Instrument = Instrument::GAD7;

    fn form(id: &str) -> Instrument {
        Instrument::by_id(id).unwrap()
    }

    fn pts(totals: &[u8]) -> Vec<Point> {
        let start = parse_date("d", "2026-01-01").unwrap();
        totals
            .iter()
            .enumerate()
            .map(|(i, t)| Point { date: start + chrono::Duration::days(14 * i as i64), total: *t, safety: Some(false) })
            .collect()
    }

    #[test]
    fn change_pct_rounds_and_needs_a_baseline() {
        assert_eq!(change_pct(20, 10), Some(-50));
        assert_eq!(change_pct(15, 8), Some(-47)); // -46.67
        assert_eq!(change_pct(8, 9), Some(13)); // 12.5 rounds away from zero
        assert_eq!(change_pct(8, 7), Some(-13)); // -12.5
        assert_eq!(change_pct(0, 5), None);
        assert_eq!(measure(PHQ9, PHQ9.rules(), &pts(&[18])).unwrap().change_pct, None, "one assessment has no change");
    }

    #[test]
    fn response_at_exactly_half_of_baseline() {
        // 50 % boundary: 10 of 20 is a response, 11 is not.
        assert!(is_response(PHQ9.rules(), 20, 10));
        assert!(!is_response(PHQ9.rules(), 20, 11));
        assert!(is_response(PHQ9.rules(), 19, 9)); // 9 ≤ 9.5
        assert!(!is_response(PHQ9.rules(), 19, 10)); // 10 > 9.5
        assert!(is_response(GAD7.rules(), 14, 7) && !is_response(GAD7.rules(), 14, 8)); // 7 = 14/2; 8 > 7
    }

    #[test]
    fn improved_below_ten_or_half() {
        // 9/10 points boundary.
        assert!(is_improved(PHQ9.rules(), 12, 9));
        assert!(!is_improved(PHQ9.rules(), 12, 10));
        assert!(is_improved(PHQ9.rules(), 24, 12)); // ≥ 10 but half
        assert!(!is_improved(PHQ9.rules(), 24, 13));
        assert!(is_improved(form("phq-a").rules(), 12, 9) && !is_improved(form("phq-a").rules(), 12, 10), "the PHQ-A as the PHQ-9");
    }

    #[test]
    fn remission_below_five() {
        assert!(is_remission(PHQ9.rules(), 4));
        assert!(!is_remission(PHQ9.rules(), 5));
        assert!(is_remission(GAD7.rules(), 4) && !is_remission(GAD7.rules(), 5));
    }

    #[test]
    fn pcl5_improves_by_twelve_points_and_remits_below_33() {
        // §3a: at least 12 points below baseline. 48 → 37 is 11 points: not improved; 48 → 36
        // is 12: improved (and, for a point-change scale, the response is the same rule).
        let pcl5 = form("pcl5");
        assert!(!is_improved(pcl5.rules(), 48, 37) && !is_response(pcl5.rules(), 48, 37));
        assert!(is_improved(pcl5.rules(), 48, 36) && is_response(pcl5.rules(), 48, 36));
        // No "or below 10" for the PCL-5: 20 → 9 is 11 points, not improved.
        assert!(!is_improved(pcl5.rules(), 20, 9));
        // Remission below 33: 32 is, 33 is not.
        assert!(is_remission(pcl5.rules(), 32) && !is_remission(pcl5.rules(), 33));
        let m = measure(pcl5, pcl5.rules(), &pts(&[48, 36])).unwrap();
        assert!(m.improved && m.response && !m.remission);
        assert_eq!(response_line(pcl5.rules(), 48), Some(36.0)); // 48 − 12
        assert_eq!(response_line(PHQ9.rules(), 19), Some(9.5));
    }

    #[test]
    fn smfq_point_rules_differ_by_form() {
        // §3a: child form ≥ 8 points better, parent form ≥ 6; remission below 8 on the child form.
        let (child, parent) = (form("smfq-c"), form("smfq-p"));
        assert!(is_improved(child.rules(), 20, 12) && !is_improved(child.rules(), 20, 13)); // 8 and 7 points
        assert!(is_improved(parent.rules(), 20, 14) && !is_improved(parent.rules(), 20, 15)); // 6 and 5 points
        assert!(is_remission(child.rules(), 7) && !is_remission(child.rules(), 8));
        assert!(!is_remission(parent.rules(), 0), "the parent form has no remission line");
    }

    #[test]
    fn percent_scales_need_half_with_no_floor() {
        // PSC-17 and SCARED: ≤ 50 % of baseline, nothing else.
        let psc = form("psc17");
        assert!(is_improved(psc.rules(), 20, 10) && !is_improved(psc.rules(), 20, 11));
        assert!(!is_improved(psc.rules(), 16, 9), "9 > 8: below 10 is not improvement on the PSC-17");
        assert!(is_remission(psc.rules(), 14) && !is_remission(psc.rules(), 15)); // below 15
        let scared = form("scared-c");
        assert!(is_improved(scared.rules(), 40, 20) && !is_improved(scared.rules(), 40, 21));
        assert!(is_remission(scared.rules(), 24) && !is_remission(scared.rules(), 25));
    }

    #[test]
    fn screens_are_never_improved() {
        let phq2 = form("phq2");
        assert!(!is_improved(phq2.rules(), 6, 0) && !is_response(phq2.rules(), 6, 0) && !is_remission(phq2.rules(), 0));
        assert_eq!(response_line(phq2.rules(), 6), None);
    }

    #[test]
    fn outcomes_need_two_assessments() {
        let one = measure(PHQ9, PHQ9.rules(), &pts(&[3])).unwrap();
        assert!(!one.improved && !one.response && !one.remission);
        let two = measure(PHQ9, PHQ9.rules(), &pts(&[20, 4])).unwrap();
        assert!(two.improved && two.response && two.remission);
        assert_eq!((two.baseline, two.latest, two.count), (20, 4, 2));
    }

    #[test]
    fn colours() {
        // §4 for the PHQ-9 and GAD-7: ≥ 15 red, 10–14 amber, < 10 green, at every total.
        for i in [PHQ9, GAD7] {
            for total in 0..=i.max_total() {
                let expected = match total {
                    15.. => Colour::Red,
                    10..=14 => Colour::Amber,
                    _ => Colour::Green,
                };
                assert_eq!(i.colour(total), expected, "{i} {total}");
            }
        }
        assert_eq!(form("pcl5").colour(32), Colour::Green);
        assert_eq!(form("pcl5").colour(33), Colour::Red);
        assert_eq!(change_colour(Some(-50)), Some(Colour::Green));
        assert_eq!(change_colour(Some(-49)), None);
        assert_eq!(change_colour(None), None);
    }

    fn scale(target: Target, scale: &'static str) -> PrimaryScale {
        PrimaryScale { target, scale }
    }

    #[test]
    fn patient_outcome_needs_every_judged_target() {
        let phq = measure(PHQ9, PHQ9.rules(), &pts(&[20, 4]));
        let gad_bad = measure(GAD7, GAD7.rules(), &pts(&[15, 14]));
        let gad_single = measure(GAD7, GAD7.rules(), &pts(&[15]));
        let both = [scale(Target::Depression, "phq9"), scale(Target::Anxiety, "gad7")];
        let with = |gad: &Option<InstrumentMeasures>| -> Vec<TargetMeasure> {
            let of = |i: Instrument| {
                if i == PHQ9 {
                    phq.clone()
                } else if i == GAD7 {
                    gad.clone()
                } else {
                    None
                }
            };
            both.iter().filter_map(|s| target_measure(*s, of)).collect()
        };
        assert!(!patient_outcome(&with(&gad_bad)).improved);
        assert!(patient_outcome(&with(&gad_single)).remission, "a single GAD-7 is not judged");
        let anxiety_only: Vec<TargetMeasure> = with(&gad_single).into_iter().filter(|t| t.target == Target::Anxiety).collect();
        assert_eq!(patient_outcome(&anxiety_only), PatientOutcome::default());
    }

    #[test]
    fn a_paired_scale_improves_when_either_form_does() {
        // SMFQ child 20 → 14 (6 points: not the child form's 8); parent 18 → 12 (6 points: the
        // parent form's 6). The depression target is improved, by the parent form, each form
        // against its own baseline.
        let (child, parent) = (form("smfq-c"), form("smfq-p"));
        let c = measure(child, child.rules(), &pts(&[20, 14]));
        let p = measure(parent, parent.rules(), &pts(&[18, 12]));
        // The measures of the pair's two forms, and of nothing else.
        let pair = |c: &Option<InstrumentMeasures>, p: &Option<InstrumentMeasures>| {
            let (c, p) = (c.clone(), p.clone());
            move |i: Instrument| {
                if i == child {
                    c.clone()
                } else if i == parent {
                    p.clone()
                } else {
                    None
                }
            }
        };
        let t = target_measure(scale(Target::Depression, "smfq"), pair(&c, &p)).unwrap();
        assert!(t.judged && t.numbers.improved && t.numbers.response);
        assert!(!t.numbers.remission, "14 is not below the child form's 8");
        // Neither form improved: the child 20 → 14, the parent 18 → 13 (5 points).
        let p = measure(parent, parent.rules(), &pts(&[18, 13]));
        assert!(!target_measure(scale(Target::Depression, "smfq"), pair(&c, &p)).unwrap().numbers.improved);
        // Nothing measured yet: no target measure.
        assert!(target_measure(scale(Target::Depression, "smfq"), |_| None).is_none());
    }

    #[test]
    fn primary_scales_read_back_with_a_fallback() {
        let targets = [Target::Depression, Target::Ptsd];
        let read = parse_primary_scales(&targets, "depression=phq-a,ptsd=pcl5", |_| "phq9");
        assert_eq!(read, vec![scale(Target::Depression, "phq-a"), scale(Target::Ptsd, "pcl5")]);
        assert_eq!(primary_scales_text(&read), "depression=phq-a,ptsd=pcl5");
        // An episode stored before the catalogue (no scales): the fallback.
        assert_eq!(parse_primary_scales(&[Target::Anxiety], "", |_| "gad7"), vec![scale(Target::Anxiety, "gad7")]);
    }
}
