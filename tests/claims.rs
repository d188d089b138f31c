//! Diagnoses and claim lines (spec §7a) on real registry files: ICD-10-CM chapter 5 codes on
//! an episode, the date of service both ways on hand-worked contact dates, every held reason,
//! and the CLI. Expected values are worked from §7's table in comments.

mod common;

use cocm::Registry;
use cocm::billing::ClaimLine;
use cocm::coverage::NewCoverage;
use cocm::episodes::Enrolment;
use cocm::patients::NewPatient;
use cocm::team::MemberEdit;
use cocm::voids::RecordKind;
use common::{contact, dump_skipping, json, month, ok, setup, sign_in_as};

/// A Medicare patient with PCP "PCP", enrolled on `start`, consent as given.
fn patient(r: &mut Registry, mrn: &str, start: &str, consent: Option<&str>, diagnosis: Option<&str>) {
    let p = NewPatient {
        mrn: mrn.into(),
        name: format!("Patient {mrn}"),
        dob: "1960-02-03".into(),
        care_manager: Some("CM".into()),
        pcp: Some("PCP".into()),
        ..Default::default()
    };
    let e = Enrolment { start: start.into(), consent: consent.map(Into::into), diagnosis: diagnosis.map(Into::into), ..Default::default() };
    r.enroll_new_patient(&p, &e).unwrap();
    let c =
        NewCoverage { payer: "medicare".into(), member_id: Some(format!("MBI-{mrn}")), from: "2026-01-01".into(), ..Default::default() };
    r.add_coverage(mrn, &c).unwrap();
}

fn lines(r: &Registry, mrn: &str, m: &str) -> Vec<ClaimLine> {
    r.billing_claims(month(m)).unwrap().into_iter().filter(|l| l.mrn == mrn).collect()
}

/// "date code×units held" per line.
fn brief(lines: &[ClaimLine]) -> Vec<String> {
    lines.iter().map(|l| format!("{} {}×{} {}", l.date_of_service, l.code, l.units, l.held).trim_end().to_string()).collect()
}

#[test]
fn diagnoses_are_chapter_5_codes_on_the_open_episode_and_refusals_change_nothing() {
    let (t, mut r) = setup();
    // At enrolment: F33.1 then F41.1, the first primary.
    patient(&mut r, "X1", "2026-01-05", Some("2026-01-05"), Some("F33.1,F41.1"));
    let id = r.add_diagnosis("X1", "f4310", Some("2026-02-01")).unwrap();
    let list = r.diagnoses("X1").unwrap();
    let codes: Vec<(&str, String)> = list.iter().map(|d| (d.code.as_str(), d.date.to_string())).collect();
    assert_eq!(codes, [("F33.1", "2026-01-05".to_string()), ("F41.1", "2026-01-05".into()), ("F43.10", "2026-02-01".into())]);
    assert_eq!(list[2].description, "Post-traumatic stress disorder, unspecified");

    let mut psy = sign_in_as(&mut r, "PSY");
    let before = dump_skipping(&t.path, &["refused"]);
    let refused = [
        ("validation", r.add_diagnosis("X1", "F33.7", None).unwrap_err()),
        ("validation", r.add_diagnosis("X1", "Z00.00", None).unwrap_err()),
        ("validation", r.add_diagnosis("X1", "F33", None).unwrap_err()),
        ("conflict", r.add_diagnosis("X1", "F33.1", None).unwrap_err()),
        ("validation", r.add_diagnosis("X1", "F32.0", Some("2025-12-31")).unwrap_err()),
        ("not_found", r.add_diagnosis("NOPE", "F32.0", None).unwrap_err()),
        (
            "validation",
            r.enroll("P1", &Enrolment { start: "2026-01-01".into(), diagnosis: Some("F32.0,Z00.00".into()), ..Default::default() })
                .unwrap_err(),
        ),
    ];
    for (code, e) in &refused {
        assert_eq!(e.code(), *code, "{e}");
    }
    let e = &refused[0].1;
    assert!(e.to_string().starts_with("code: F33.7 is not an ICD-10-CM code of chapter 5"), "{e}");
    // A patient never enrolled has no episode to diagnose.
    common::add_patient(&mut r, "N1");
    let before_n1 = dump_skipping(&t.path, &["refused"]);
    assert_eq!(r.add_diagnosis("N1", "F32.0", None).unwrap_err().code(), "validation");
    assert!(dump_skipping(&t.path, &["refused"]) == before_n1, "a refused diagnosis changed the registry");
    assert!(before.len() < before_n1.len());
    // A consultant may record one (their review names it); voiding makes it stop counting.
    psy.add_diagnosis("X1", "F32.1", None).unwrap();
    r.mark_entered_in_error(RecordKind::Diagnosis, &id, "wrong code").unwrap();
    assert!(r.diagnoses("X1").unwrap().iter().any(|d| d.id == id && d.entered_in_error.is_some()));
}

#[test]
fn the_date_of_service_is_the_month_end_or_the_day_each_threshold_was_met() {
    let (_t, mut r) = setup();
    r.edit_member("PCP", &MemberEdit { npi: Some("1234567893".into()), ..Default::default() }).unwrap();
    patient(&mut r, "S1", "2026-03-02", Some("2026-03-02"), Some("F33.1"));
    // March is the initial month. Contacts: 03-03 20, 03-10 20, 03-17 50, 03-24 30 (120).
    // Running total: 20, 40 (≥ 36: 99492 reached 03-10), 90 (≥ 86: 99494 #1 on 03-17),
    // 120 (≥ 116: 99494 #2 on 03-24). Codes: 99492 + 99494 × (floor((120 − 86) / 30) + 1 = 2).
    for (day, minutes) in [("2026-03-03", 20), ("2026-03-10", 20), ("2026-03-17", 50), ("2026-03-24", 30)] {
        contact(&mut r, "S1", day, minutes, "CM");
    }
    let month_end = lines(&r, "S1", "2026-03");
    assert_eq!(brief(&month_end), ["2026-03-31 99492×1", "2026-03-31 99494×2"]);
    let l = &month_end[0];
    assert_eq!(
        (l.payer.map(|p| p.to_string()), l.member_id.as_deref(), l.billing_npi.as_deref()),
        (Some("medicare".into()), Some("MBI-S1"), Some("1234567893"))
    );
    assert_eq!(
        (l.place_of_service.as_str(), l.diagnoses.clone(), l.dob.to_string()),
        ("11", vec!["F33.1".to_string()], "1960-02-03".into())
    );
    // Charges from the 2026 default fees: 99492 $160, 99494 $61 × 2 = $122.
    assert_eq!((month_end[0].charge, month_end[1].charge), (160.0, 122.0));

    r.set_setting("claim_date_of_service", "threshold-met").unwrap();
    r.set_setting("place_of_service", "02").unwrap();
    let met = lines(&r, "S1", "2026-03");
    assert_eq!(brief(&met), ["2026-03-10 99492×1", "2026-03-17 99494×1", "2026-03-24 99494×1"]);
    assert!(met.iter().all(|l| l.place_of_service == "02" && l.held.is_empty()));
    // Two units reached on one day are one line of two: April (subsequent) 03-… 10 + 100 on
    // 04-20 → 110: 99493 (31) and 99494 #1 (76) and #2 (106) all on 04-20.
    contact(&mut r, "S1", "2026-04-02", 10, "CM");
    contact(&mut r, "S1", "2026-04-20", 100, "CM");
    assert_eq!(brief(&lines(&r, "S1", "2026-04")), ["2026-04-20 99493×1", "2026-04-20 99494×2"]);
    assert_eq!(r.set_setting("claim_date_of_service", "weekly").unwrap_err().code(), "validation");
    assert_eq!(r.set_setting("place_of_service", "111").unwrap_err().code(), "validation");
}

#[test]
fn a_line_missing_what_a_claim_needs_is_held_with_every_reason() {
    let (_t, mut r) = setup();
    // The PCP has no NPI yet; H1 has everything else.
    patient(&mut r, "H1", "2026-05-04", Some("2026-05-04"), Some("F41.1"));
    contact(&mut r, "H1", "2026-05-10", 40, "CM");
    // H2: no diagnosis. H3: no consent (40 minutes would bill 99492). H4: no coverage.
    patient(&mut r, "H2", "2026-05-04", Some("2026-05-04"), None);
    contact(&mut r, "H2", "2026-05-10", 40, "CM");
    patient(&mut r, "H3", "2026-05-04", None, Some("F41.1"));
    contact(&mut r, "H3", "2026-05-10", 40, "CM");
    common::add_patient(&mut r, "H4");
    r.enroll(
        "H4",
        &Enrolment {
            start: "2026-05-04".into(),
            consent: Some("2026-05-04".into()),
            diagnosis: Some("F32.1".into()),
            ..Default::default()
        },
    )
    .unwrap();
    contact(&mut r, "H4", "2026-05-10", 40, "CM");
    assert_eq!(brief(&lines(&r, "H1", "2026-05")), ["2026-05-31 99492×1 no NPI"]);
    assert_eq!(brief(&lines(&r, "H2", "2026-05")), ["2026-05-31 99492×1 no diagnosis; no NPI"]);
    assert_eq!(brief(&lines(&r, "H3", "2026-05")), ["2026-05-31 99492×1 no consent; no NPI"]);
    assert_eq!(brief(&lines(&r, "H4", "2026-05")), ["2026-05-31 99492×1 no NPI; no coverage"]);
    // The billing row itself still bills nothing without consent (§7): only the claim shows it.
    assert_eq!(r.patient_billing("H3", month("2026-05")).unwrap().unwrap().codes_text, "");

    // Setting the PCP's NPI releases H1; an invalid NPI is refused and releases nothing.
    assert_eq!(
        r.edit_member("PCP", &MemberEdit { npi: Some("1234567890".into()), ..Default::default() }).unwrap_err().code(),
        "validation"
    );
    assert_eq!(brief(&lines(&r, "H1", "2026-05")), ["2026-05-31 99492×1 no NPI"]);
    r.edit_member("PCP", &MemberEdit { npi: Some("1234567893".into()), ..Default::default() }).unwrap();
    assert_eq!(brief(&lines(&r, "H1", "2026-05")), ["2026-05-31 99492×1"]);
    r.add_diagnosis("H2", "F33.1", Some("2026-05-04")).unwrap();
    assert_eq!(brief(&lines(&r, "H2", "2026-05")), ["2026-05-31 99492×1"]);
    // Held lines come first.
    let all = r.billing_claims(month("2026-05")).unwrap();
    let held: Vec<bool> = all.iter().map(|l| !l.held.is_empty()).collect();
    assert!(held.windows(2).all(|w| w[0] >= w[1]), "{held:?}");
}

#[test]
fn the_cli_prints_claim_lines_as_json_and_csv_and_audits_the_csv() {
    let (t, mut r) = setup();
    r.edit_member("PCP", &MemberEdit { npi: Some("1234567893".into()), ..Default::default() }).unwrap();
    common::add_patient(&mut r, "K1");
    drop(r);
    let db = &t.path;
    let lead = |args: &[&str]| ok(db, &[&["--as", "LEAD"], args].concat());
    lead(&["enroll", "K1", "--date", "2026-06-01", "--consent", "2026-06-01", "--diagnosis", "F33.1,F41.1"]);
    lead(&["coverage", "add", "K1", "--payer", "medicaid", "--plan", "Tailored", "--member-id", "NC-77", "--from", "2026-06-01"]);
    lead(&["diagnosis", "add", "K1", "--code", "F43.10", "--date", "2026-06-05"]);
    let listed = lead(&["diagnosis", "list", "K1"]);
    assert!(listed.contains("F43.10") && listed.contains("Major depressive disorder, recurrent, moderate"), "{listed}");
    lead(&["contact", "K1", "--date", "2026-06-10", "--minutes", "40", "--by", "CM"]);
    let lines = json(db, &["--as", "LEAD", "billing", "--month", "2026-06", "--claims", "--json"]);
    let line = &lines.as_array().unwrap()[0];
    assert_eq!(
        (&line["code"], &line["member_id"], &line["plan"], &line["held"]),
        (&"99492".into(), &"NC-77".into(), &"Tailored".into(), &"".into())
    );
    assert_eq!(line["diagnoses"], serde_json::json!(["F33.1", "F41.1", "F43.10"]));
    let csv = lead(&["billing", "--month", "2026-06", "--claims", "--csv"]);
    let mut rows = csv.lines();
    assert_eq!(
        rows.next().unwrap(),
        "mrn,name,dob,payer,plan,member_id,billing_npi,billing_practitioner,date_of_service,place_of_service,diagnoses,code,units,charge,program,held"
    );
    assert_eq!(
        rows.next().unwrap(),
        "K1,Patient K1,1970-05-05,medicaid,Tailored,NC-77,1234567893,PCP,2026-06-30,11,F33.1;F41.1;F43.10,99492,1,160.00,cocm,"
    );
    let audit = json(db, &["--as", "LEAD", "audit", "--json"]);
    assert!(
        audit.as_array().unwrap().iter().any(|e| e["action"] == "export" && e["record_type"] == "claims-csv"),
        "the CSV export is audited"
    );
    let search = ok(db, &["diagnosis", "search", "generalized", "anxiety"]);
    assert!(search.contains("F41.1"), "{search}");
    let refused = common::cocm(db, &["--as", "LEAD", "diagnosis", "add", "K1", "--code", "Z00.00"]);
    assert!(!refused.ok && refused.stderr.contains("chapter 5"), "{}", refused.stderr);
}

#[test]
fn the_caseload_suggests_discharge_after_90_days_without_a_clinical_contact() {
    use cocm::contacts::NewContact;
    use cocm::flags::Flag;
    let (_t, mut r) = setup();
    patient(&mut r, "I1", "2026-01-05", Some("2026-01-05"), Some("F33.1"));
    // A phone follow-up on 01-10 is clinical (§9); an unanswered call on 03-01 and a portal
    // message on 03-15 are not. 01-10 + 90 days = 04-10 (Jan 21 + Feb 28 + Mar 31 + 10 = 90).
    common::contact(&mut r, "I1", "2026-01-10", 20, "CM");
    for (date, kind, mode) in [("2026-03-01", "outreach-attempt", "phone"), ("2026-03-15", "follow-up", "portal")] {
        let c = NewContact {
            date: date.into(),
            minutes: 5,
            by: "CM".into(),
            kind: Some(kind.into()),
            mode: Some(mode.into()),
            ..Default::default()
        };
        r.log_contact("I1", &c).unwrap();
    }
    let flags = |r: &Registry, day: &str| -> Vec<Flag> {
        r.caseload(common::d(day), None).unwrap().into_iter().find(|row| row.mrn == "I1").unwrap().flags
    };
    assert!(!flags(&r, "2026-04-09").contains(&Flag::Inactive), "89 days");
    assert!(flags(&r, "2026-04-10").contains(&Flag::Inactive), "90 days");
    // A video follow-up on 04-12 clears it; it never discharges the episode itself.
    let c = NewContact { date: "2026-04-12".into(), minutes: 15, by: "CM".into(), mode: Some("video".into()), ..Default::default() };
    r.log_contact("I1", &c).unwrap();
    assert!(!flags(&r, "2026-04-12").contains(&Flag::Inactive));
    assert_eq!(r.episodes("I1").unwrap()[0].discharge_date, None);
}
