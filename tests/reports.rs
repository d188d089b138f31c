//! Program reports (spec §8) on a hand-built registry whose right answers are worked out below,
//! patient by patient, for October 2026: boundaries of 69/70 days, 60 days, 120/240 days,
//! 14 months and a baseline of 9/10; patients crossing the period's edges; entered-in-error
//! records; a re-enrolled patient; and empty denominators.

mod common;

use cocm::Registry;
use cocm::assessments::NewAssessment;
use cocm::contacts::NewContact;
use cocm::dates::{Date, Month, parse_date};
use cocm::episodes::Enrolment;
use cocm::patients::NewPatient;
use cocm::reports::{GuidanceStatus, Measure, Rate, Report};
use cocm::reviews::NewCaseReview;
use cocm::vocab::{DischargeReason, EpisodeStatus, Role};
use cocm::voids::RecordKind;
use common::{TempRegistry, cocm as run};

fn d(s: &str) -> Date {
    parse_date("d", s).unwrap()
}

fn add(r: &mut Registry, mrn: &str, cm: Option<&str>, start: &str) {
    let p = NewPatient {
        mrn: mrn.into(),
        name: format!("Patient {mrn}"),
        dob: "1960-01-01".into(),
        care_manager: cm.map(String::from),
        pcp: Some("PCP".into()),
        ..Default::default()
    };
    r.add_patient(&p).unwrap();
    enroll(r, mrn, start);
}

fn enroll(r: &mut Registry, mrn: &str, start: &str) {
    r.enroll(mrn, &Enrolment { start: start.into(), consent: Some(start.into()), targets: None, ..Default::default() }).unwrap();
}

/// A PHQ-9 with the given total (item 9 negative).
fn phq(r: &mut Registry, mrn: &str, date: &str, total: i64) -> String {
    let mut answers = [0i64; 9];
    for i in 0..total {
        answers[(i % 8) as usize] += 1;
    }
    r.record_assessment(mrn, &NewAssessment { date: date.into(), instrument: "phq9".into(), answers: answers.to_vec(), difficulty: None })
        .unwrap()
}

fn contact(r: &mut Registry, mrn: &str, date: &str, minutes: i64, by: &str) {
    r.log_contact(mrn, &NewContact { date: date.into(), minutes, by: by.into(), ..Default::default() }).unwrap();
}

fn review(r: &mut Registry, mrn: &str, date: &str) -> String {
    let review = NewCaseReview { date: date.into(), by: "PSY".into(), medication: "increase dose".into(), ..Default::default() };
    r.record_case_review(mrn, &review).unwrap()
}

fn status(r: &mut Registry, mrn: &str, to: EpisodeStatus, date: &str, reason: Option<DischargeReason>) {
    r.change_status(mrn, to, date, reason).unwrap();
}

/// The practice described patient by patient; ANA's are A B E G K M, BEN's C D F H I J, and L
/// has no care manager.
fn practice() -> (TempRegistry, Registry) {
    use DischargeReason::*;
    use EpisodeStatus::*;
    let (t, mut r) = TempRegistry::created("Report Clinic");
    for (name, role) in [("ANA", Role::CareManager), ("BEN", Role::CareManager), ("PSY", Role::PsychiatricConsultant), ("PCP", Role::Pcp)] {
        r.add_member(name, role).unwrap();
    }
    // A: 122 days in at Oct 31; pre-enrolment baseline 20 → 9: improved and responding, not in remission.
    add(&mut r, "A", Some("ANA"), "2026-07-01");
    phq(&mut r, "A", "2026-06-20", 20);
    phq(&mut r, "A", "2026-09-30", 8);
    phq(&mut r, "A", "2026-10-05", 9);
    contact(&mut r, "A", "2026-10-05", 30, "ANA");
    // B: 15 → 14, not improved; reviewed on Sep 1, exactly 60 days before Oct 31.
    add(&mut r, "B", Some("ANA"), "2026-08-01");
    phq(&mut r, "B", "2026-08-01", 15);
    phq(&mut r, "B", "2026-10-10", 14);
    contact(&mut r, "B", "2026-10-10", 20, "ANA");
    review(&mut r, "B", "2026-09-01");
    // C: 69 days in at Oct 31, so outside the improvement population.
    add(&mut r, "C", Some("BEN"), "2026-08-23");
    phq(&mut r, "C", "2026-08-23", 18);
    phq(&mut r, "C", "2026-10-20", 17);
    contact(&mut r, "C", "2026-10-20", 20, "BEN");
    // D: 70 days in; not improved; reviewed Aug 31 (61 days before) and Oct 15 entered in error.
    add(&mut r, "D", Some("BEN"), "2026-08-22");
    phq(&mut r, "D", "2026-08-22", 18);
    phq(&mut r, "D", "2026-10-01", 17);
    contact(&mut r, "D", "2026-10-01", 20, "BEN");
    review(&mut r, "D", "2026-08-31");
    let wrong = review(&mut r, "D", "2026-10-15");
    r.mark_entered_in_error(RecordKind::Review, &wrong, "wrong patient").unwrap();
    // E: discharged (moved) on Oct 3 after 155 days; a contact on Oct 2 but no assessment in October.
    add(&mut r, "E", Some("ANA"), "2026-05-01");
    phq(&mut r, "E", "2026-05-01", 13);
    contact(&mut r, "E", "2026-10-02", 15, "ANA");
    status(&mut r, "E", Discharged, "2026-10-03", Some(Moved));
    // F: a first episode Feb 10 – Jun 30 (baseline 16, PHQ-9 7 on Jun 20: DRR window closes
    // Oct 8), then re-enrolled on Oct 12.
    add(&mut r, "F", Some("BEN"), "2026-02-10");
    phq(&mut r, "F", "2026-02-10", 16);
    phq(&mut r, "F", "2026-06-20", 7);
    status(&mut r, "F", Discharged, "2026-06-30", Some(Other));
    enroll(&mut r, "F", "2026-10-12");
    phq(&mut r, "F", "2026-10-12", 12);
    contact(&mut r, "F", "2026-10-12", 40, "BEN");
    // G: baseline 14 on Feb 15 (DRR window Jun 15 – Oct 13); 6 on Aug 1; a 3 on Aug 20 entered in error.
    add(&mut r, "G", Some("ANA"), "2026-02-15");
    phq(&mut r, "G", "2026-02-15", 14);
    phq(&mut r, "G", "2026-08-01", 6);
    let wrong = phq(&mut r, "G", "2026-08-20", 3);
    r.mark_entered_in_error(RecordKind::Assessment, &wrong, "typed into the wrong chart").unwrap();
    // H: baseline 19 on 2025-08-15 (12-month window Jun 15 – Oct 15, 2026); 4 on Jul 10; in relapse prevention.
    add(&mut r, "H", Some("BEN"), "2025-08-15");
    phq(&mut r, "H", "2025-08-15", 19);
    phq(&mut r, "H", "2026-07-10", 4);
    status(&mut r, "H", RelapsePrevention, "2026-07-15", None);
    contact(&mut r, "H", "2026-10-20", 10, "BEN");
    // I: baseline 9, below the DRR threshold; discharged in June.
    add(&mut r, "I", Some("BEN"), "2026-02-20");
    phq(&mut r, "I", "2026-02-20", 9);
    phq(&mut r, "I", "2026-04-20", 4);
    status(&mut r, "I", RelapsePrevention, "2026-05-01", None);
    status(&mut r, "I", Discharged, "2026-06-01", Some(GoalsMet));
    // J: baseline exactly 10 on 2025-08-31 (12-month window Jun 30 – Oct 31, 2026); its last
    // PHQ-9 is on Jun 29, a day early.
    add(&mut r, "J", Some("BEN"), "2025-08-31");
    phq(&mut r, "J", "2025-08-31", 10);
    phq(&mut r, "J", "2026-06-29", 2);
    status(&mut r, "J", RelapsePrevention, "2026-07-01", None);
    status(&mut r, "J", Discharged, "2026-07-15", Some(GoalsMet));
    // K: enrolled on Oct 31, the period's last day; contact, no assessment.
    add(&mut r, "K", Some("ANA"), "2026-10-31");
    contact(&mut r, "K", "2026-10-31", 40, "ANA");
    // L: no care manager; 60 days in.
    add(&mut r, "L", None, "2026-09-01");
    phq(&mut r, "L", "2026-09-01", 12);
    phq(&mut r, "L", "2026-10-03", 11);
    contact(&mut r, "L", "2026-10-03", 20, "PCP");
    // M: baseline 18 on Feb 25 (DRR window Jun 25 – Oct 23); its PHQ-9 of 4 on Jun 24 is a day early.
    add(&mut r, "M", Some("ANA"), "2026-02-25");
    phq(&mut r, "M", "2026-02-25", 18);
    phq(&mut r, "M", "2026-06-24", 4);
    status(&mut r, "M", Discharged, "2026-07-10", Some(Disengaged));
    (t, r)
}

const AS_OF: &str = "2026-11-15";

fn october(r: &Registry, cm: Option<&str>) -> Report {
    r.report(d("2026-10-01"), d("2026-10-31"), d(AS_OF), cm).unwrap()
}

fn rate(numerator: u32, denominator: u32) -> (u32, u32) {
    (numerator, denominator)
}

fn nd(r: &Rate) -> (u32, u32) {
    (r.numerator, r.denominator)
}

#[test]
fn october_for_the_practice_as_worked_out_by_hand() {
    let (_t, r) = practice();
    let rep = october(&r, None);
    assert_eq!(rep.end, d("2026-10-31"));
    // On Oct 31: A B C D F G H K L (E, I, J, M discharged).
    assert_eq!(rep.caseload, 9);
    assert_eq!(rep.newly_enrolled, 2, "F re-enrolled Oct 12, K enrolled Oct 31");
    assert_eq!(rep.discharged, 1);
    assert_eq!(rep.discharged_by_reason.get("moved"), Some(&1));
    assert_eq!(rep.avg_weeks_to_discharge, Some(22.1), "E: 155 days");
    // On the caseload during October: the nine, and E. Contact and assessment: A B C D F L.
    assert_eq!(nd(&rep.contact_rate), rate(6, 10));
    assert_eq!(rep.contact_rate.rate, Some(0.6));
    assert_eq!(rep.contact_rate.target, Some(0.8));
    assert_eq!(rep.contact_rate.meets_target, Some(false));
    // ≥ 70 days with two PHQ-9s: A B D G H (C 69 days, F's new episode, K, L 60 days).
    // Improved A G H; response A (9 ≤ 10) G (6 ≤ 7) H; remission H (G's 3 was entered in error).
    assert_eq!(nd(&rep.improvement_rate), rate(3, 5));
    assert_eq!(nd(&rep.response_rate), rate(3, 5));
    assert_eq!(nd(&rep.remission_rate), rate(1, 5));
    // Not improved B, D: B reviewed Sep 1 (60 days), D on Aug 31 (61) and an entered-in-error review.
    assert_eq!(nd(&rep.consultation_rate), rate(1, 2));
    // DRR windows closing in October: F's first episode, G, M. Follow-up F (7) G (6); M's is a day early.
    assert_eq!(nd(&rep.drr_followup_rate), rate(2, 3));
    assert_eq!(nd(&rep.drr_response_rate), rate(2, 3));
    assert_eq!(nd(&rep.drr_remission_rate), rate(0, 3));
    // 12-month windows closing in October: H (4: remission), J (baseline 10; nothing in window).
    assert_eq!(nd(&rep.remission_12m_rate), rate(1, 2));
    // Billing, worked from §7 (2026 rules). Every October contact is its episode's first, so
    // each month is initial: A 30, B 20, C 20, D 20 → G2214 each (16–35); E 15 and H 10 → no
    // code (under 16); F 40 (its new episode) and K 40 → 99492 (36–85); L's 20 were logged by
    // the PCP and don't count. 4 × G2214 + 2 × 99492; 6 patients; 4 × $61 + 2 × $160 = $564.
    assert_eq!(rep.billing.months, vec![Month::parse("m", "2026-10").unwrap()]);
    assert_eq!(rep.billing.minutes, 30 + 20 + 20 + 20 + 15 + 40 + 10 + 40);
    let units: Vec<(&str, u32)> = rep.billing.units.iter().map(|(c, n)| (c.as_str(), *n)).collect();
    assert_eq!(units, [("99492", 2), ("G2214", 4)]);
    assert_eq!((rep.billing.patients, rep.billing.estimated_revenue), (6, 564.0));
}

/// The follow-up windows at their edges, in a practice of their own (October 2026, as of
/// 2026-11-15). Dates worked by hand: 2026-02-20 + 240 days = 2026-10-18 (Feb 20 → Oct 20 is
/// 28 + 31 + 30 + 31 + 30 + 31 + 31 + 30 = 242 days, less 2).
#[test]
fn follow_up_windows_at_their_edges() {
    let (_t, mut r) = TempRegistry::created("Edges");
    for (name, role) in [("ANA", Role::CareManager), ("PSY", Role::PsychiatricConsultant), ("PCP", Role::Pcp)] {
        r.add_member(name, role).unwrap();
    }
    // DRR (§8: baseline + 240 days falls in the period; a PHQ-9 120–240 days after baseline):
    // N1 baseline Feb 20 → closes Oct 18; its PHQ-9 of 5 on Oct 18 (day 240) counts; 5 ≤ 7.5 is
    // a response, 5 is not < 5.
    add(&mut r, "N1", Some("ANA"), "2026-02-20");
    phq(&mut r, "N1", "2026-02-20", 15);
    phq(&mut r, "N1", "2026-10-18", 5);
    // N2 baseline Feb 19 → closes Oct 17; its PHQ-9 on Oct 18 is day 241: outside.
    add(&mut r, "N2", Some("ANA"), "2026-02-19");
    phq(&mut r, "N2", "2026-02-19", 15);
    phq(&mut r, "N2", "2026-10-18", 5);
    // N3 baseline Feb 2 → closes Sep 30 (F − 1); N4 baseline Mar 6 → closes Nov 1 (L + 1):
    // neither is October's.
    add(&mut r, "N3", Some("ANA"), "2026-02-02");
    phq(&mut r, "N3", "2026-02-02", 15);
    add(&mut r, "N4", Some("ANA"), "2026-03-06");
    phq(&mut r, "N4", "2026-03-06", 15);
    // 12 months (§8: baseline + 14 calendar months falls in the period; the last PHQ-9 from +10
    // through +14 months < 5): N5 baseline 2025-08-31 → closes 2026-10-31 (L); its PHQ-9 of 3
    // on 2026-10-31, the window's last day, is a remission. N6 (2025-07-31 → 2026-09-30, F − 1)
    // and N7 (2025-09-01 → 2026-11-01, L + 1) are not October's.
    add(&mut r, "N5", Some("ANA"), "2025-08-31");
    phq(&mut r, "N5", "2025-08-31", 12);
    phq(&mut r, "N5", "2026-10-31", 3);
    add(&mut r, "N6", Some("ANA"), "2025-07-31");
    phq(&mut r, "N6", "2025-07-31", 12);
    add(&mut r, "N7", Some("ANA"), "2025-09-01");
    phq(&mut r, "N7", "2025-09-01", 12);

    let rep = october(&r, None);
    assert_eq!(nd(&rep.drr_followup_rate), rate(1, 2), "N1 and N2; N1 followed up");
    assert_eq!(nd(&rep.drr_response_rate), rate(1, 2));
    assert_eq!(nd(&rep.drr_remission_rate), rate(0, 2));
    assert_eq!(nd(&rep.remission_12m_rate), rate(1, 1), "N5 only");

    // An assessment on the discharge day is the episode's; the day after is not (§4: through
    // the discharge date). N8: baseline 16 on Jun 1, 4 on Sep 10 (discharged that day), 20 on
    // Sep 11: the chart's trend ends at 4 on Sep 10, with 50 % of baseline at 8.
    add(&mut r, "N8", Some("ANA"), "2026-06-01");
    phq(&mut r, "N8", "2026-06-01", 16);
    phq(&mut r, "N8", "2026-09-10", 4);
    status(&mut r, "N8", EpisodeStatus::Discharged, "2026-09-10", Some(DischargeReason::Moved));
    phq(&mut r, "N8", "2026-09-11", 20);
    let trend = r.patient_chart("N8", d("2026-09-15")).unwrap().trend;
    let points: Vec<(String, u8)> = trend.points.iter().map(|p| (p.date.to_string(), p.total)).collect();
    assert_eq!(points, [("2026-06-01".to_string(), 16), ("2026-09-10".to_string(), 4)]);
    assert_eq!((trend.scales[0].response_line, trend.scales[0].remission_below), (Some(8.0), Some(5)));
}

#[test]
fn each_care_manager_and_the_unassigned_add_up_to_the_practice() {
    let (_t, r) = practice();
    let ana = october(&r, Some("ANA"));
    assert_eq!(ana.care_manager.as_deref(), Some("ANA"));
    assert_eq!((ana.caseload, nd(&ana.contact_rate), nd(&ana.improvement_rate)), (4, rate(2, 5), rate(2, 3)));
    assert_eq!((nd(&ana.consultation_rate), nd(&ana.drr_followup_rate)), (rate(1, 1), rate(1, 2)));
    let ben = october(&r, Some("BEN"));
    assert_eq!((ben.caseload, nd(&ben.contact_rate), nd(&ben.improvement_rate)), (4, rate(3, 4), rate(1, 2)));
    assert_eq!((nd(&ben.consultation_rate), nd(&ben.remission_12m_rate)), (rate(0, 1), rate(1, 2)));

    let program = r.program_report(d("2026-10-01"), d("2026-10-31"), d(AS_OF)).unwrap();
    let names: Vec<&str> = program.care_managers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["ANA", "BEN", "(no care manager)"]);
    assert_eq!(program.care_managers[0].report, ana);
    assert_eq!(program.care_managers[2].report.caseload, 1, "L");
    assert_eq!(program.practice, october(&r, None));
    assert_eq!((program.guidance.min, program.guidance.max), (60, 120));
    assert_eq!(program.care_managers[0].caseload_guidance, GuidanceStatus::Below);
    let sum = |f: fn(&Report) -> u32| program.care_managers.iter().map(|c| f(&c.report)).sum::<u32>();
    assert_eq!(sum(|r| r.caseload), program.practice.caseload);
    assert_eq!(sum(|r| r.contact_rate.denominator), program.practice.contact_rate.denominator);
    assert_eq!(sum(|r| r.billing.minutes), program.practice.billing.minutes);
}

#[test]
fn every_figure_lists_the_patients_behind_it() {
    let (_t, r) = practice();
    let list = |m: Measure| {
        let (report, members) = r.report_members(d("2026-10-01"), d("2026-10-31"), d(AS_OF), None, Some(m)).unwrap();
        (report, members.iter().map(|m| format!("{}{}", m.mrn, if m.in_numerator { "+" } else { "-" })).collect::<Vec<_>>().join(" "))
    };
    assert_eq!(list(Measure::Caseload).1, "A+ B+ C+ D+ F+ G+ H+ K+ L+");
    assert_eq!(list(Measure::ContactRate).1, "A+ B+ C+ D+ E- F+ G- H- K- L+");
    assert_eq!(list(Measure::ImprovementRate).1, "A+ B- D- G+ H+");
    assert_eq!(list(Measure::ConsultationRate).1, "B+ D-");
    assert_eq!(list(Measure::DrrFollowupRate).1, "F+ G+ M-");
    assert_eq!(list(Measure::Remission12mRate).1, "H+ J-");
    assert_eq!(list(Measure::Discharged).1, "E+");
    assert_eq!(list(Measure::NewlyEnrolled).1, "F+ K+");
    // Each list has the figure's own counts.
    for m in Measure::ALL {
        let (report, members) = r.report_members(d("2026-10-01"), d("2026-10-31"), d(AS_OF), None, Some(*m)).unwrap();
        let json = serde_json::to_value(&report).unwrap();
        let figure = &json[m.as_str()];
        let counted = members.iter().filter(|x| x.in_numerator).count() as u64;
        if figure.is_object() && figure.get("denominator").is_some() {
            assert_eq!((figure["numerator"].as_u64(), figure["denominator"].as_u64()), (Some(counted), Some(members.len() as u64)), "{m}");
        } else if let Some(n) = figure.as_u64() {
            assert_eq!(n, members.len() as u64, "{m}");
        }
    }
    let (_, billed) = r.report_members(d("2026-10-01"), d("2026-10-31"), d(AS_OF), None, Some(Measure::Billing)).unwrap();
    let k = billed.iter().find(|m| m.mrn == "K").unwrap();
    assert!(k.in_numerator && k.detail.contains("99492"), "{k:?}");
    let m = billed.iter().find(|m| m.mrn == "M");
    assert!(m.is_none(), "no minutes in October");
}

#[test]
fn an_unfinished_period_is_judged_as_of_today_and_billing_covers_its_months() {
    let (_t, r) = practice();
    let rep = r.report(d("2026-10-01"), d("2026-11-30"), d(AS_OF), None).unwrap();
    assert_eq!(rep.end, d(AS_OF));
    let months: Vec<String> = rep.billing.months.iter().map(|m| m.to_string()).collect();
    assert_eq!(months, ["2026-10", "2026-11"]);
    // Nothing was discharged or enrolled in November, so the two months' counts are October's.
    assert_eq!((rep.newly_enrolled, rep.discharged), (2, 1));
    // A report cannot start after the as-of date, nor end before it starts.
    let e = r.report(d("2026-11-16"), d("2026-11-30"), d(AS_OF), None).unwrap_err();
    assert_eq!((e.code(), e.to_string().starts_with("from:")), ("validation", true), "{e}");
    let e = r.report(d("2026-10-31"), d("2026-10-01"), d(AS_OF), None).unwrap_err();
    assert_eq!(e.code(), "validation");
    let e = r.report(d("2026-10-01"), d("2026-10-31"), d(AS_OF), Some("NOBODY")).unwrap_err();
    assert!(e.to_string().contains("care_manager"), "{e}");
}

#[test]
fn empty_denominators_are_none_not_zero() {
    let (_t, r) = practice();
    let rep = r.report(d("2025-01-01"), d("2025-01-31"), d(AS_OF), None).unwrap();
    assert_eq!((rep.caseload, rep.newly_enrolled, rep.avg_weeks_to_discharge), (0, 0, None));
    for rate in [rep.contact_rate, rep.improvement_rate, rep.consultation_rate, rep.drr_followup_rate, rep.remission_12m_rate] {
        assert_eq!((rate.denominator, rate.rate, rate.meets_target), (0, None, None));
    }
    let json = serde_json::to_value(&rep).unwrap();
    assert!(json["improvement_rate"]["rate"].is_null());
}

#[test]
fn monthly_reports_are_each_months_report() {
    let (_t, r) = practice();
    let m = |s: &str| Month::parse("m", s).unwrap();
    let months = r.monthly_reports(m("2026-09"), m("2026-11"), d(AS_OF), None).unwrap();
    assert_eq!(months.len(), 3);
    assert_eq!(months[1], october(&r, None));
    assert_eq!(months[0], r.report(d("2026-09-01"), d("2026-09-30"), d(AS_OF), None).unwrap());
    assert_eq!(months[2].end, d(AS_OF));
    let view = r.reports_view(d("2026-10-01"), d("2026-10-31"), d(AS_OF)).unwrap();
    assert_eq!(view.trend.len(), 12);
    assert_eq!(view.trend[11], october(&r, None));
    assert_eq!(view.trend[0].from, d("2025-11-01"));
    // A period ending mid-month still shows that whole month in its trend.
    let view = r.reports_view(d("2026-10-01"), d("2026-10-15"), d(AS_OF)).unwrap();
    assert_eq!(view.program.practice.end, d("2026-10-15"));
    assert_eq!(view.trend[11], october(&r, None));
}

#[test]
fn report_cli_json_csv_and_lists() {
    let (t, r) = practice();
    drop(r);
    let out = run(&t.path, &["report", "--from", "2026-10-01", "--to", "2026-10-31", "--as-of", AS_OF, "--json"]);
    assert!(out.ok, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    // One report is one object (the contract); the lists are `--monthly` and `--by-care-manager`.
    assert!(json.is_object(), "{json}");
    let report = &json;
    for key in ["caseload", "newly_enrolled", "discharged"] {
        assert!(report[key].is_u64(), "{key}");
    }
    assert_eq!(report["discharged_by_reason"]["moved"], 1);
    for key in [
        "contact_rate",
        "improvement_rate",
        "response_rate",
        "remission_rate",
        "consultation_rate",
        "drr_followup_rate",
        "drr_response_rate",
        "drr_remission_rate",
        "remission_12m_rate",
    ] {
        let rate = &report[key];
        assert!(
            rate["numerator"].is_u64() && rate["denominator"].is_u64() && (rate["rate"].is_f64() || rate["rate"].is_null()),
            "{key}: {rate}"
        );
    }
    assert_eq!(report["consultation_rate"]["rate"], 0.5);
    for key in ["patients", "minutes", "estimated_revenue"] {
        assert!(report["billing"][key].is_number(), "billing.{key}");
    }
    assert_eq!(report["billing"]["units"]["99492"].as_u64().map(|n| n >= 1), Some(true));

    let out = run(&t.path, &["report", "--from", "2026-10", "--care-manager", "BEN", "--as-of", AS_OF, "--csv"]);
    assert!(out.ok, "{}", out.stderr);
    let mut csv = csv::Reader::from_reader(out.stdout.as_bytes());
    let headers = csv.headers().unwrap().clone();
    let row = csv.records().next().unwrap().unwrap();
    let cell =
        |name: &str| row.get(headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"))).unwrap().to_string();
    assert_eq!(
        (cell("care_manager"), cell("caseload"), cell("contact_rate_numerator"), cell("contact_rate")),
        ("BEN".into(), "4".into(), "3".into(), "0.7500".into())
    );

    let out = run(&t.path, &["report", "--monthly", "--from", "2026-08", "--to", "2026-10", "--as-of", AS_OF, "--csv"]);
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 4, "a header and one row per month:\n{}", out.stdout);
    assert!(out.stdout.lines().nth(3).unwrap().starts_with("2026-10-01,2026-10-31,2026-10-31,practice,9,2,1,"), "{}", out.stdout);

    let out = run(&t.path, &["report", "--from", "2026-10", "--as-of", AS_OF, "--list", "consultation_rate"]);
    assert!(out.ok && out.stdout.contains("no case review since 2026-09-01"), "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("consultation_rate, 2026-10-01 to 2026-10-31: 1 of 2 patients"), "{}", out.stdout);

    let out = run(&t.path, &["report", "--from", "2026-10", "--as-of", AS_OF, "--by-care-manager"]);
    assert!(out.ok && out.stdout.contains("ANA") && out.stdout.contains("below"), "{}", out.stdout);
    let out = run(&t.path, &["report", "--from", "2026-10", "--as-of", AS_OF, "--by-care-manager", "--json"]);
    let lines: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(lines.is_array(), "--by-care-manager --json is the array of care-manager lines: {lines}");
    assert_eq!((lines[0]["name"].as_str(), lines[0]["report"]["caseload"].as_u64()), (Some("ANA"), Some(4)));

    let out = run(&t.path, &["report", "--from", "2026-10", "--as-of", AS_OF, "--list", "everything"]);
    assert!(!out.ok && out.stderr.starts_with("error[validation]: list: must be one of caseload"), "{}", out.stderr);
}

#[test]
fn targets_and_guidance_are_practice_settings() {
    let (_t, mut r) = practice();
    r.set_setting("target_contact_rate_pct", "50").unwrap();
    let rep = october(&r, None);
    assert_eq!((rep.contact_rate.target, rep.contact_rate.meets_target), (Some(0.5), Some(true)));
    r.set_setting("caseload_guidance_min", "3").unwrap();
    let program = r.program_report(d("2026-10-01"), d("2026-10-31"), d(AS_OF)).unwrap();
    assert_eq!(program.care_managers[0].caseload_guidance, GuidanceStatus::Within, "ANA has 4");
    // The labels read the settings the rules read: a 45-day review window says 45 days.
    let about = |r: &Registry| {
        let view = r.reports_view(d("2026-10-01"), d("2026-10-31"), d(AS_OF)).unwrap();
        view.labels.into_iter().find(|l| l.measure == Measure::ConsultationRate).unwrap().about
    };
    assert!(about(&r).contains("in the 60 days up to"), "{}", about(&r));
    r.set_setting("review_overdue_days", "45").unwrap();
    assert!(about(&r).contains("in the 45 days up to"), "{}", about(&r));
    let e = r.set_setting("caseload_guidance_max", "2").unwrap_err();
    assert_eq!(e.code(), "validation");
    assert_eq!(r.settings().unwrap().caseload_guidance_max, 120, "unchanged");
}

/// §8 by the primary scale (spec §3a): three PTSD patients on the PCL-5, enrolled 2026-06-01
/// (152 days before Oct 31, past 70), baseline 48 (elevated: ≥ 33) on Jun 2, latest in October.
/// P1 48 → 37 is 11 points: not improved. P2 → 36 is 12: improved, no remission (36 ≥ 33).
/// P3 → 32: improved, and remission (below 33). No PHQ-9, so the DRR measures count no one.
#[test]
fn a_ptsd_program_is_reported_by_the_pcl5s_rules() {
    let (_t, mut r) = TempRegistry::created("PTSD Clinic");
    r.add_member("ANA", Role::CareManager).unwrap();
    // Twenty answers totalling `total`: as many 4s as fit, then the rest on one item.
    let pcl = |r: &mut Registry, mrn: &str, date: &str, total: i64| {
        let answers: Vec<i64> = (0..20).map(|i| (total - 4 * i).clamp(0, 4)).collect();
        r.record_assessment(mrn, &NewAssessment { date: date.into(), instrument: "pcl5".into(), answers, difficulty: None }).unwrap();
    };
    for (mrn, latest) in [("P1", 37), ("P2", 36), ("P3", 32)] {
        let p = NewPatient { mrn: mrn.into(), name: format!("Patient {mrn}"), dob: "1980-01-01".into(), ..Default::default() };
        r.add_patient(&p).unwrap();
        let e = Enrolment {
            start: "2026-06-01".into(),
            consent: Some("2026-06-01".into()),
            targets: Some("ptsd".into()),
            ..Default::default()
        };
        r.enroll(mrn, &e).unwrap();
        pcl(&mut r, mrn, "2026-06-02", 48);
        pcl(&mut r, mrn, "2026-10-10", latest);
    }
    let rep = october(&r, None);
    assert_eq!(nd(&rep.improvement_rate), rate(2, 3));
    assert_eq!(nd(&rep.response_rate), rate(2, 3));
    assert_eq!(nd(&rep.remission_rate), rate(1, 3));
    assert_eq!(nd(&rep.drr_followup_rate), rate(0, 0));
}
