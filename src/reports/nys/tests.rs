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
        episodes: vec![NysEpisode { patient: 0, start, primary_scales: depression(), clinical_contacts: contacts, ..Default::default() }],
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
