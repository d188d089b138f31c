//! Coverage records (spec §7a) on real registry files: a dual-eligible patient bills to
//! Medicare, a coverage change mid-month, a plan's own rule set, registration's payer, the
//! guards (roles, overlapping and impossible dates change nothing) and the CLI.

mod common;

use cocm::Registry;
use cocm::billing::{Program, RuleSetKey, preset};
use cocm::coverage::NewCoverage;
use cocm::episodes::Enrolment;
use cocm::patients::{NewPatient, PatientChanges};
use cocm::vocab::Payer;
use cocm::voids::RecordKind;
use common::{contact, dump_skipping, json, month, ok, setup, sign_in_as};

/// A patient with no payer at registration (so no coverage), enrolled with consent.
fn patient(r: &mut Registry, mrn: &str, start: &str) {
    let p = NewPatient {
        mrn: mrn.into(),
        name: format!("Patient {mrn}"),
        dob: "1950-05-05".into(),
        care_manager: Some("CM".into()),
        pcp: Some("PCP".into()),
        ..Default::default()
    };
    r.enroll_new_patient(&p, &Enrolment { start: start.into(), consent: Some(start.into()), ..Default::default() }).unwrap();
}

fn cover(payer: &str, plan: Option<&str>, from: &str, to: Option<&str>, secondary: bool) -> NewCoverage {
    NewCoverage {
        payer: payer.into(),
        plan: plan.map(Into::into),
        member_id: Some("M-0001".into()),
        from: from.into(),
        to: to.map(Into::into),
        secondary,
    }
}

/// "payer plan rule-set codes" of the patient's month.
fn billed(r: &Registry, mrn: &str, m: &str) -> String {
    let b = r.patient_billing(mrn, month(m)).unwrap().expect("a billing row");
    let payer = b.payer.map_or("none".to_string(), |p| p.to_string());
    format!("{payer} {} {} {}", b.plan.unwrap_or("-".into()), b.rule_set.unwrap_or_default(), b.codes_text).trim_end().to_string()
}

#[test]
fn a_dual_eligible_patient_bills_to_medicare_and_a_plan_s_rule_set_beats_the_default() {
    let (_t, mut r) = setup();
    // North Carolina's Medicaid rules (99494 at most 4 units) are on for payer medicaid.
    r.apply_rules_preset("nc-medicaid").unwrap();
    patient(&mut r, "D1", "2026-01-05");
    r.add_coverage("D1", &cover("medicare", None, "2026-01-01", None, false)).unwrap();
    r.add_coverage("D1", &cover("medicaid", None, "2026-01-01", None, true)).unwrap();
    patient(&mut r, "M1", "2026-01-05");
    r.add_coverage("M1", &cover("medicaid", None, "2026-01-01", None, false)).unwrap();
    for mrn in ["D1", "M1"] {
        contact(&mut r, mrn, "2026-01-10", 40, "CM");
        contact(&mut r, mrn, "2026-02-10", 250, "CM");
    }
    // D1 is Medicare primary: Medicare's default rules. A subsequent month's 250 minutes:
    // 99493 for 31–75, then 99494 per 30 from 76: floor((250 − 76) / 30) + 1 = 5 + 1 = 6.
    assert_eq!(billed(&r, "D1", "2026-02"), "medicare - cocm/default/2026 99493 + 99494×6");
    // M1 is Medicaid primary: North Carolina's cap, min(6, 4) = 4.
    assert_eq!(billed(&r, "M1", "2026-02"), "medicaid - cocm/medicaid/2026 99493 + 99494×4");

    // A plan's own rule set (here: the cap at 2 units for the "Tailored" plan) beats its
    // payer's; a Medicaid patient without that plan keeps the payer's. February is T1's
    // subsequent month: 99493 + 99494 × min(6, 2).
    let base = r.billing_rules(2026).unwrap().rules;
    let mut tailored = preset("nc-medicaid", &base).unwrap().remove(0).rules;
    tailored.subsequent.addon.as_mut().unwrap().max_units = Some(2);
    tailored.initial.addon.as_mut().unwrap().max_units = Some(2);
    let key = RuleSetKey { program: Program::Cocm, payer: Some(Payer::Medicaid), plan: Some("Tailored".into()), effective_year: 2026 };
    r.set_rule_set_if(&key, &tailored, None).unwrap();
    patient(&mut r, "T1", "2026-01-05");
    r.add_coverage("T1", &cover("medicaid", Some("Tailored"), "2026-01-01", None, false)).unwrap();
    contact(&mut r, "T1", "2026-01-10", 40, "CM");
    contact(&mut r, "T1", "2026-02-10", 250, "CM");
    assert_eq!(billed(&r, "T1", "2026-02"), "medicaid Tailored cocm/medicaid:Tailored/2026 99493 + 99494×2");
    assert_eq!(billed(&r, "M1", "2026-02"), "medicaid - cocm/medicaid/2026 99493 + 99494×4");
}

#[test]
fn a_coverage_change_mid_month_bills_the_coverage_on_the_date_of_service() {
    let (_t, mut r) = setup();
    patient(&mut r, "C1", "2026-01-05");
    contact(&mut r, "C1", "2026-01-10", 40, "CM");
    // No coverage at all: the row still shows the minutes and codes, with no payer.
    assert_eq!(billed(&r, "C1", "2026-01"), "none - cocm/default/2026 99492");
    let medicaid = r.add_coverage("C1", &cover("medicaid", None, "2026-01-01", None, false)).unwrap();
    // Medicaid ends on 03-15; commercial from 03-16. The date of service is the month's last
    // day (the default `claim_date_of_service`), so March bills commercial, February Medicaid.
    r.end_coverage(&medicaid, "2026-03-15").unwrap();
    r.add_coverage("C1", &cover("commercial", Some("Acme PPO"), "2026-03-16", None, false)).unwrap();
    contact(&mut r, "C1", "2026-02-10", 40, "CM");
    contact(&mut r, "C1", "2026-03-10", 40, "CM");
    assert_eq!(billed(&r, "C1", "2026-02"), "medicaid - cocm/default/2026 99493");
    assert_eq!(billed(&r, "C1", "2026-03"), "commercial Acme PPO cocm/default/2026 99493");
    // A coverage ending on the month's last day still covers it: 03-31 ends, April has none.
    let commercial = r.coverages("C1").unwrap().into_iter().find(|c| c.payer == Payer::Commercial).unwrap().id;
    r.end_coverage(&commercial, "2026-03-31").unwrap();
    contact(&mut r, "C1", "2026-04-10", 40, "CM");
    assert_eq!(billed(&r, "C1", "2026-03"), "commercial Acme PPO cocm/default/2026 99493");
    assert_eq!(billed(&r, "C1", "2026-04"), "none - cocm/default/2026 99493");
    // Entered in error, a coverage stops counting.
    r.mark_entered_in_error(RecordKind::Coverage, &medicaid, "wrong patient").unwrap();
    assert_eq!(billed(&r, "C1", "2026-02"), "none - cocm/default/2026 99493");
    assert!(r.coverages("C1").unwrap().iter().any(|c| c.id == medicaid && c.entered_in_error.is_some()));
}

#[test]
fn registration_s_payer_is_one_coverage_and_the_demographics_form_changes_only_that() {
    let (_t, mut r) = setup();
    let p = NewPatient {
        mrn: "R1".into(),
        name: "Patient R1".into(),
        dob: "1960-01-01".into(),
        payer: Some("medicaid".into()),
        ..Default::default()
    };
    r.add_patient(&p).unwrap();
    let chart = r.patient("R1").unwrap();
    assert_eq!((chart.payer, chart.coverages.len()), (Some(Payer::Medicaid), 1));
    assert_eq!(chart.coverages[0].from, None, "registration does not know when the coverage started");
    // Changing the payer on the form changes that one coverage in place.
    let changes = PatientChanges { payer: Some("medicare".into()), ..Default::default() };
    r.update_patient("R1", &changes).unwrap();
    let chart = r.patient("R1").unwrap();
    assert_eq!((chart.payer, chart.coverages.len()), (Some(Payer::Medicare), 1));
    // Once there are real coverage records, the form refuses a different payer (but resends
    // of the payer it showed are no change).
    r.add_coverage("R1", &cover("medicaid", None, "2026-01-01", None, true)).unwrap();
    let same = PatientChanges { payer: Some("medicare".into()), name: Some("Patient R-one".into()), ..Default::default() };
    r.update_patient("R1", &same).unwrap();
    let e = r.update_patient("R1", &PatientChanges { payer: Some("commercial".into()), ..Default::default() }).unwrap_err();
    assert_eq!((e.code(), e.to_string().starts_with("payer: ")), ("validation", true), "{e}");
}

#[test]
fn refused_coverage_changes_nothing() {
    let (t, mut r) = setup();
    patient(&mut r, "G1", "2026-01-05");
    let first = r.add_coverage("G1", &cover("medicare", None, "2026-01-01", Some("2026-06-30"), false)).unwrap();
    r.add_coverage("G1", &cover("commercial", None, "2026-08-01", None, false)).unwrap();
    r.add_coverage("G1", &cover("medicaid", None, "2026-01-01", None, true)).unwrap();
    let mut pcp = sign_in_as(&mut r, "PCP");
    let before = dump_skipping(&t.path, &["refused"]);
    let refused = [
        // A second primary in force on 03-01 (the first runs to 06-30).
        ("conflict", r.add_coverage("G1", &cover("commercial", None, "2026-03-01", Some("2026-03-31"), false)).unwrap_err()),
        // Open-ended from 07-01 runs into the commercial coverage from 08-01.
        ("conflict", r.add_coverage("G1", &cover("medicare", None, "2026-07-01", None, false)).unwrap_err()),
        // A second secondary.
        ("conflict", r.add_coverage("G1", &cover("other", None, "2026-02-01", None, true)).unwrap_err()),
        ("validation", r.add_coverage("G1", &cover("medicare", None, "2026-07-10", Some("2026-07-01"), false)).unwrap_err()),
        ("validation", r.add_coverage("G1", &cover("medicare", None, "1940-01-01", Some("1940-12-31"), false)).unwrap_err()),
        ("validation", r.add_coverage("G1", &cover("tricare", None, "2026-07-01", Some("2026-07-31"), false)).unwrap_err()),
        ("validation", r.add_coverage("G1", &cover("medicare", None, "July", None, false)).unwrap_err()),
        ("not_found", r.add_coverage("NOPE", &cover("medicare", None, "2026-07-01", None, false)).unwrap_err()),
        // Ending before its start; moving its end into the next primary's months.
        ("validation", r.end_coverage(&first, "2025-12-31").unwrap_err()),
        ("conflict", r.end_coverage(&first, "2026-08-15").unwrap_err()),
        ("not_found", r.end_coverage("no-such-id", "2026-08-15").unwrap_err()),
        // A PCP may not edit a patient's coverage.
        ("permission_denied", pcp.add_coverage("G1", &cover("medicare", None, "2026-07-01", Some("2026-07-31"), false)).unwrap_err()),
        ("permission_denied", pcp.end_coverage(&first, "2026-05-31").unwrap_err()),
    ];
    for (code, e) in &refused {
        assert_eq!(e.code(), *code, "{e}");
    }
    assert!(dump_skipping(&t.path, &["refused"]) == before, "a refused coverage change changed the registry");
    // A member id is an identifier: the audit row says one was given, never what it is.
    let audit = r.patient_audit("G1").unwrap();
    let created: Vec<_> = audit.iter().filter(|e| e.record_type == "coverage" && e.action == "create").collect();
    assert_eq!(created.len(), 3);
    assert!(created.iter().all(|e| e.details["member_id"] == true && !e.details.to_string().contains("M-0001")));
}

#[test]
fn the_cli_adds_lists_ends_and_voids_coverage() {
    let (t, mut r) = setup();
    patient(&mut r, "L1", "2026-01-05");
    drop(r);
    let db = &t.path;
    let lead = |args: &[&str]| ok(db, &[&["--as", "LEAD"], args].concat());
    let id = lead(&["coverage", "add", "L1", "--payer", "medicare", "--member-id", "1EG4-TE5-MK73", "--from", "2026-01-01"]);
    let id = id.trim();
    lead(&["coverage", "add", "L1", "--payer", "medicaid", "--plan", "Tailored", "--from", "2026-01-01", "--secondary"]);
    lead(&["coverage", "end", id, "--date", "2026-06-30"]);
    let list = json(db, &["--as", "LEAD", "coverage", "list", "L1", "--json"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        (&list[0]["payer"], &list[0]["to"], &list[0]["member_id"]),
        (&"medicare".into(), &"2026-06-30".into(), &"1EG4-TE5-MK73".into())
    );
    assert_eq!((&list[1]["payer"], &list[1]["plan"], &list[1]["secondary"]), (&"medicaid".into(), &"Tailored".into(), &true.into()));
    let table = lead(&["coverage", "list", "L1"]);
    assert!(table.contains("primary") && table.contains("secondary") && table.contains("2026-06-30"), "{table}");
    lead(&["void", "coverage", id, "--reason", "wrong member id"]);
    let table = lead(&["coverage", "list", "L1"]);
    assert!(table.contains("entered in error"), "{table}");
    // Billing shows the payer of the coverage in force: the secondary is never billed.
    lead(&["contact", "L1", "--date", "2026-02-10", "--minutes", "40", "--by", "CM"]);
    let rows = json(db, &["--as", "LEAD", "billing", "--month", "2026-02", "--json"]);
    let row = rows.as_array().unwrap().iter().find(|r| r["mrn"] == "L1").unwrap().clone();
    assert_eq!(row["payer"], serde_json::Value::Null, "the primary was voided; the secondary does not bill");
}
