//! New York State OMH metrics (spec §9) through the CLI on a real registry file: a small
//! practice whose figures are worked by hand below, screens and visits of patients who are
//! not enrolled, the CSV (audited), and who may run the report.

mod common;

use common::{cocm, dump_skipping, json, ok, setup, sign_in_as};

#[test]
fn a_small_practice_s_october_through_the_cli() {
    let (t, mut r) = setup();
    r.edit_member("CM", &cocm::team::MemberEdit { cocm_fte: Some(0.6), ..Default::default() }).unwrap();
    for mrn in ["A1", "A2", "A3", "S1", "S2"] {
        common::add_patient(&mut r, mrn);
    }
    drop(r);
    let db = &t.path;
    let lead = |args: &[&str]| ok(db, &[&["--as", "LEAD"], args].concat());
    // A1: Medicaid, enrolled 2026-07-01 (122 days to 10-31), PHQ-9 18 → 8 on 10-20 (≤ 50 %):
    // improved; a phone follow-up on 10-20 and the score make October's contact.
    // A2: Medicaid managed care as secondary (dual-eligible), enrolled 2026-10-05 (new this
    // month, 26 days: outside the improvement denominator), PHQ-9 14 on 10-05, follow-up 10-05.
    // A3: commercial only, enrolled 2026-07-01: counted in total enrollment alone.
    lead(&["coverage", "add", "A1", "--payer", "medicaid", "--from", "2026-01-01"]);
    lead(&["coverage", "add", "A2", "--payer", "medicare", "--from", "2026-01-01"]);
    lead(&["coverage", "add", "A2", "--payer", "medicaid", "--plan", "Fidelis Care", "--from", "2026-01-01", "--secondary"]);
    lead(&["coverage", "add", "A3", "--payer", "commercial", "--from", "2026-01-01"]);
    for (mrn, start) in [("A1", "2026-07-01"), ("A2", "2026-10-05"), ("A3", "2026-07-01")] {
        lead(&["enroll", mrn, "--date", start, "--consent", start]);
    }
    for (mrn, date, items) in
        [("A1", "2026-07-01", "2,2,2,2,2,2,2,2,2"), ("A1", "2026-10-20", "1,1,1,1,1,1,1,1,0"), ("A2", "2026-10-05", "2,2,2,2,2,1,1,1,1")]
    {
        lead(&["assess", mrn, "--date", date, "--instrument", "phq9", "--items", items]);
    }
    for (mrn, date) in [
        ("A1", "2026-07-15"),
        ("A1", "2026-08-20"),
        ("A1", "2026-09-25"),
        ("A1", "2026-10-20"),
        ("A2", "2026-10-05"),
        ("A3", "2026-08-01"),
        ("A3", "2026-09-01"),
        ("A3", "2026-10-06"),
    ] {
        lead(&["contact", mrn, "--date", date, "--minutes", "20", "--by", "CM"]);
    }
    // Screening (metrics 9, 10): S1 had an office visit (99213) and a PHQ-2 on the same day;
    // S2 an annual wellness visit (G0439) and no screen; A3's nurse visit does not count.
    // A2's PHQ-9 on 10-05 is their first ever: an initial PHQ-9, 14 ≥ 10.
    lead(&["visit", "add", "S1", "--date", "2026-10-08", "--category", "primary-care", "--codes", "99213"]);
    lead(&["visit", "add", "S2", "--date", "2026-10-09", "--category", "primary-care", "--codes", "G0439", "--modality", "telehealth"]);
    lead(&["visit", "add", "A3", "--date", "2026-10-09", "--category", "nursing-only", "--codes", "99211"]);
    lead(&["screen", "S1", "--date", "2026-10-08", "--instrument", "phq2", "--items", "1,0"]);
    // A patient never enrolled gets a depression screen with `screen`; `assess` points there.
    let refused =
        cocm(db, &["--as", "LEAD", "assess", "S2", "--date", "2026-10-09", "--instrument", "phq9", "--items", "0,0,0,0,0,0,0,0,0"]);
    assert!(!refused.ok && refused.stderr.contains("cocm screen"), "{}", refused.stderr);

    let r = json(db, &["--as", "LEAD", "report", "--nys-omh", "--month", "2026-10", "--json"]);
    let rate = |k: &str| (r[k]["numerator"].as_u64().unwrap(), r[k]["denominator"].as_u64().unwrap());
    // 1: A1, A2, A3 = 3. 2: A1, A2 (dual-eligible, plan) = 2. 3: A2 = 1. 4: none discharged.
    assert_eq!(
        (r["total_enrollment"].as_u64(), r["medicaid_enrollment"].as_u64(), r["newly_enrolled"].as_u64()),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(r["average_weeks_in_treatment"], serde_json::Value::Null);
    // 5: both Medicaid patients had a follow-up and a PHQ-9 in October: 2 of 2.
    assert_eq!(rate("monthly_contact_rate"), (2, 2));
    // 6: only A1 is 70+ days in with an elevated baseline (18): improved, 1 of 1. 7: no
    // October score below 5 (A1's 8, A2's 14): 0 of 2. 8: nobody not improved: 0 of 0.
    assert_eq!((rate("improvement_rate"), rate("remission_rate"), rate("psychiatric_consultation_rate")), ((1, 1), (0, 2), (0, 0)));
    // 9: S1 and S2 (12 or older, a medical visit), S1 screened: 1 of 2. 10: A1's October PHQ-9
    // had another 111 days before; A2's is initial and ≥ 10: 1 of 1. 11: 0.6.
    assert_eq!((rate("depression_screening_rate"), rate("depression_screening_yield")), ((1, 2), (1, 1)));
    assert_eq!(r["bhcm_fte"].as_f64(), Some(0.6));
    assert_eq!(r["depression_screening_rate"]["target_percent"].as_u64(), Some(85));

    let csv = ok(db, &["--as", "LEAD", "report", "--nys-omh", "--month", "2026-10", "--csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "month,care_manager,metric,name,value,numerator,denominator,percent,target_percent,meets_target");
    assert_eq!(lines[5], "2026-10,,5,monthly_contact_rate,100 %,2,2,100,80,true");
    assert_eq!(lines.len(), 12, "a header and eleven metrics");
    let audit = json(db, &["--as", "LEAD", "audit", "--json"]);
    assert!(audit.as_array().unwrap().iter().any(|e| e["action"] == "export" && e["record_type"] == "nys-omh-csv"));
    // The quarter: October is the month above; the JSON's months are the monthly reports.
    let q = json(db, &["--as", "LEAD", "report", "--nys-omh", "--quarter", "2026-Q4", "--json"]);
    assert_eq!(q["quarter"], "2026-Q4");
    let months: Vec<&str> = q["months"].as_array().unwrap().iter().map(|m| m["month"].as_str().unwrap()).collect();
    assert_eq!(months, ["2026-10", "2026-11", "2026-12"]);
    assert_eq!(q["months"][0], r);
    let csv = ok(db, &["--as", "LEAD", "report", "--nys-omh", "--quarter", "2026-Q4", "--csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "quarter,metric,name,2026-10,2026-11,2026-12");
    assert!(lines[5].starts_with("2026-Q4,5,monthly_contact_rate,2 of 2,"), "{}", lines[5]);
    let bad = cocm(db, &["--as", "LEAD", "report", "--nys-omh", "--quarter", "2026-Q5"]);
    assert!(!bad.ok && bad.stderr.contains("quarter"), "{}", bad.stderr);
    let none = cocm(db, &["--as", "LEAD", "report", "--nys-omh"]);
    assert!(!none.ok && none.stderr.contains("--month"), "{}", none.stderr);
    let text = ok(db, &["--as", "LEAD", "report", "--nys-omh", "--month", "2026-10"]);
    assert!(text.contains("depression screening rate") && text.contains("Medicaid:"), "{text}");

    // The patients behind a figure, by key or number, each with the reason.
    let list = |metric: &str| -> Vec<(String, bool, String)> {
        let m = json(db, &["--as", "LEAD", "report", "--nys-omh", "--month", "2026-10", "--list", metric, "--json"]);
        let row = |m: &serde_json::Value| (m["mrn"].as_str().unwrap().to_string(), m["in_numerator"] == true, m["detail"].to_string());
        m.as_array().unwrap().iter().map(row).collect()
    };
    // 2: everyone enrolled; A3 (commercial only) is not Medicaid on the first.
    let medicaid = list("medicaid_enrollment");
    let counted: Vec<(&str, bool)> = medicaid.iter().map(|(mrn, c, _)| (mrn.as_str(), *c)).collect();
    assert_eq!(counted, [("A1", true), ("A2", true), ("A3", false)]);
    assert!(medicaid[2].2.contains("no Medicaid coverage on 2026-10-01"), "{}", medicaid[2].2);
    // 6 names the scores: PHQ-9 18 (nine 2s) on the start → 8 (eight 1s and a 0) on 10-20,
    // 122 days in (07-01 → 10-31: 30 + 31 + 30 + 31).
    let improvement = list("6");
    assert_eq!(improvement.len(), 1);
    assert!(
        improvement[0].1 && improvement[0].2.contains("122 days in treatment; PHQ-9 18 on 2026-07-01 → 8 on 2026-10-20"),
        "{improvement:?}"
    );
    // 9: S1 screened (PHQ-2 on the visit's day), S2 not.
    let screening = list("depression_screening_rate");
    let counted: Vec<(&str, bool)> = screening.iter().map(|(mrn, c, _)| (mrn.as_str(), *c)).collect();
    assert_eq!(counted, [("S1", true), ("S2", false)]);
    assert!(screening[1].2.contains("no PHQ-2, PHQ-9 or PHQ-A from 2025-11-01"), "{}", screening[1].2);
    let table = ok(db, &["--as", "LEAD", "report", "--nys-omh", "--month", "2026-10", "--list", "10"]);
    assert!(table.contains("initial PHQ-9 14 on 2026-10-05") && table.contains("1 of 1 patients"), "{table}");
    for (metric, says) in [("bhcm_fte", "cocm team list"), ("12", "give 1 to 10")] {
        let refused = cocm(db, &["--as", "LEAD", "report", "--nys-omh", "--month", "2026-10", "--list", metric]);
        assert!(!refused.ok && refused.stderr.contains(says), "{metric}: {}", refused.stderr);
    }
}

#[test]
fn a_pcp_may_not_run_the_state_report_and_bad_visits_change_nothing() {
    let (t, mut r) = setup();
    let mut pcp = sign_in_as(&mut r, "PCP");
    let before = dump_skipping(&t.path, &["refused"]);
    let month = cocm::dates::Month::parse("m", "2026-10").unwrap();
    assert_eq!(pcp.nys_report(month, None).unwrap_err().code(), "permission_denied");
    let visit = |category: &str, codes: &str, date: &str| cocm::visits::NewVisit {
        date: date.into(),
        category: category.into(),
        codes: codes.into(),
        modality: None,
    };
    for (v, code) in [
        (visit("urgent-care", "99213", "2026-10-01"), "validation"),
        (visit("primary-care", "9921", "2026-10-01"), "validation"),
        (visit("primary-care", "99213", "1960-01-01"), "validation"),
    ] {
        assert_eq!(r.add_visit("P1", &v).unwrap_err().code(), code);
    }
    assert_eq!(pcp.add_visit("P1", &visit("primary-care", "99213", "2026-10-01")).unwrap_err().code(), "permission_denied");
    let screen =
        cocm::assessments::NewAssessment { date: "2026-10-01".into(), instrument: "gad7".into(), answers: vec![0; 7], difficulty: None };
    assert_eq!(r.record_screening("P1", &screen).unwrap_err().code(), "validation", "a GAD-7 is not a depression screen");
    assert!(dump_skipping(&t.path, &["refused"]) == before, "a refusal changed the registry");
    // A care manager may run it for their own patients.
    let mut cm = sign_in_as(&mut r, "CM");
    assert_eq!(cm.nys_report(month, Some("CM")).unwrap().care_manager.as_deref(), Some("CM"));
}
