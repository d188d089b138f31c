//! Billing programs and payer rule sets (spec §7a) on real registry files: general BHI, the
//! APCM add-ons, a program changed from a month on, the Texas and North Carolina presets, and
//! the guards (roles, bad input changing nothing). Every expected code is worked from §7a's
//! table in a comment.

mod common;

use cocm::Registry;
use cocm::billing::{BillingRow, Program};
use cocm::episodes::Enrolment;
use cocm::patients::NewPatient;
use cocm::team::MemberEdit;
use cocm::voids::RecordKind;
use common::{contact, dump, month, ok, setup, sign_in_as};

fn patient(r: &mut Registry, mrn: &str, payer: &str, start: &str, program: Option<&str>) {
    let p = NewPatient {
        mrn: mrn.into(),
        name: format!("Patient {mrn}"),
        dob: "1970-05-05".into(),
        payer: Some(payer.into()),
        care_manager: Some("CM".into()),
        pcp: Some("PCP".into()),
        ..Default::default()
    };
    let e = Enrolment { start: start.into(), consent: Some(start.into()), program: program.map(Into::into), ..Default::default() };
    r.enroll_new_patient(&p, &e).unwrap();
}

fn row(r: &Registry, mrn: &str, m: &str) -> BillingRow {
    r.patient_billing(mrn, month(m)).unwrap().expect("a billing row")
}

/// "program rule-set month-kind codes".
fn billed(r: &Registry, mrn: &str, m: &str) -> String {
    let b = row(r, mrn, m);
    format!("{} {} {} {}", b.program, b.rule_set.unwrap_or_default(), b.month_kind, b.codes_text).trim_end().to_string()
}

#[test]
fn general_bhi_bills_99484_from_20_minutes_and_g0323_for_a_psychologist() {
    let (_t, mut r) = setup();
    patient(&mut r, "B1", "medicare", "2026-01-05", Some("general-bhi"));
    contact(&mut r, "B1", "2026-01-10", 19, "CM");
    contact(&mut r, "B1", "2026-02-10", 20, "CM");
    // January: 19 < 20, nothing; it is still the episode's initial month (§7's month kind).
    assert_eq!(billed(&r, "B1", "2026-01"), "general-bhi general-bhi/default/2026 initial");
    assert_eq!(row(&r, "B1", "2026-01").minutes_to_next_tier, Some(1));
    // February: 20 minutes, 99484 once ($55 estimate).
    assert_eq!(billed(&r, "B1", "2026-02"), "general-bhi general-bhi/default/2026 subsequent 99484");
    assert_eq!(row(&r, "B1", "2026-02").estimated_revenue, 55.0);
    // The billing practitioner (the PCP) is a clinical psychologist: G0323 instead.
    r.edit_member("PCP", &MemberEdit { credential: Some("clinical-psychologist".into()), ..Default::default() }).unwrap();
    assert_eq!(billed(&r, "B1", "2026-02"), "general-bhi general-bhi/default/2026 subsequent G0323");
}

#[test]
fn a_program_change_applies_from_its_month_and_is_audited() {
    let (t, mut r) = setup();
    // P1 is enrolled in CoCM on 2025-11-03 (setup). January 40 minutes: initial, 36–85 → 99492.
    contact(&mut r, "P1", "2026-01-12", 40, "CM");
    contact(&mut r, "P1", "2026-02-12", 40, "CM");
    contact(&mut r, "P1", "2026-03-12", 40, "CM");
    r.change_program("P1", Program::GeneralBhi, month("2026-02")).unwrap();
    assert_eq!(billed(&r, "P1", "2026-01"), "cocm cocm/default/2026 initial 99492");
    // From February on general BHI: 40 ≥ 20 → 99484; March too (no later change).
    assert_eq!(billed(&r, "P1", "2026-02"), "general-bhi general-bhi/default/2026 subsequent 99484");
    assert_eq!(billed(&r, "P1", "2026-03"), "general-bhi general-bhi/default/2026 subsequent 99484");
    // Back to CoCM from March: subsequent, 31–75 → 99493.
    r.change_program("P1", Program::Cocm, month("2026-03")).unwrap();
    assert_eq!(billed(&r, "P1", "2026-03"), "cocm cocm/default/2026 subsequent 99493");
    let history = r.billing_programs("P1").unwrap().episode_programs;
    let history: Vec<String> = history.iter().map(|p| format!("{} {}", p.from_month, p.program)).collect();
    assert_eq!(history, ["2025-11 cocm", "2026-02 general-bhi", "2026-03 cocm"]);
    let audit = r.patient_audit("P1").unwrap();
    let changes: Vec<&serde_json::Value> = audit.iter().filter(|e| e.action == "program").map(|e| &e.details).collect();
    assert_eq!(changes.len(), 2);
    assert_eq!(
        (&changes[0]["from"], &changes[0]["to"], &changes[0]["from_month"]),
        (&"cocm".into(), &"general-bhi".into(), &"2026-02".into())
    );

    // Refusals change nothing: before the episode's first month, APCM as an episode's program,
    // a care manager (a lead's decision), a patient without an open episode.
    let before = dump(&t.path);
    assert_eq!(r.change_program("P1", Program::GeneralBhi, month("2025-10")).unwrap_err().code(), "validation");
    let e = r.change_program("P1", Program::ApcmBhi, month("2026-04")).unwrap_err();
    assert_eq!((e.code(), e.to_string().starts_with("to: apcm-bhi is not an episode's program")), ("validation", true), "{e}");
    let mut cm = sign_in_as(&mut r, "CM");
    assert_eq!(cm.change_program("P1", Program::GeneralBhi, month("2026-04")).unwrap_err().code(), "permission_denied");
    assert_eq!(cm.record_apcm("P1", "2026-04-01", None).unwrap_err().code(), "permission_denied");
    assert_eq!(r.change_program("NOPE", Program::GeneralBhi, month("2026-04")).unwrap_err().code(), "not_found");
    let bad = Enrolment { start: "2026-01-01".into(), program: Some("apcm-bhi".into()), ..Default::default() };
    common::add_patient(&mut r, "P9");
    let before_p9 = dump(&t.path);
    assert_eq!(r.enroll("P9", &bad).unwrap_err().code(), "validation");
    assert!(dump(&t.path) == before_p9, "a refused enrolment changed the registry");
    drop(cm);
    assert!(before.len() < before_p9.len(), "P9 was added in between");
}

#[test]
fn apcm_months_bill_the_add_ons_from_one_minute_and_other_months_the_episode_program() {
    let (t, mut r) = setup();
    patient(&mut r, "A1", "medicare", "2026-01-05", None);
    patient(&mut r, "A2", "medicare", "2026-01-05", Some("general-bhi"));
    for mrn in ["A1", "A2"] {
        r.record_apcm(mrn, "2026-01-01", Some("2026-01-31")).unwrap();
        r.record_apcm(mrn, "2026-03-15", None).unwrap();
        for m in ["2026-01", "2026-02", "2026-03"] {
            contact(&mut r, mrn, &format!("{m}-20"), 1, "CM");
        }
    }
    // A1 (CoCM). January, APCM, 1 minute, initial → G0568 ($160 estimate).
    assert_eq!(billed(&r, "A1", "2026-01"), "apcm-bhi apcm-bhi/default/2026 initial G0568");
    assert_eq!(row(&r, "A1", "2026-01").estimated_revenue, 160.0);
    // February, no APCM: CoCM, subsequent, 1 < 16 → nothing.
    assert_eq!(billed(&r, "A1", "2026-02"), "cocm cocm/default/2026 subsequent");
    // March: the period from the 15th covers the month (APCM is billed monthly) → G0569.
    assert_eq!(billed(&r, "A1", "2026-03"), "apcm-bhi apcm-bhi/default/2026 subsequent G0569");
    // A2 (general BHI): G0570 in APCM months, whatever the month kind.
    assert_eq!(billed(&r, "A2", "2026-01"), "apcm-bhi apcm-bhi/default/2026 initial G0570");
    assert_eq!(billed(&r, "A2", "2026-02"), "general-bhi general-bhi/default/2026 subsequent");
    assert_eq!(billed(&r, "A2", "2026-03"), "apcm-bhi apcm-bhi/default/2026 subsequent G0570");
    // An APCM month with 0 countable minutes (the consultant's minutes never count) bills none.
    r.record_apcm("P1", "2026-04-01", Some("2026-04-30")).unwrap();
    contact(&mut r, "P1", "2026-04-10", 30, "PSY");
    assert_eq!(billed(&r, "P1", "2026-04"), "apcm-bhi apcm-bhi/default/2026 none");

    // Before 2026 there are no APCM add-ons: the episode's own codes, with a warning.
    r.record_apcm("P1", "2025-12-01", Some("2025-12-31")).unwrap();
    contact(&mut r, "P1", "2025-12-10", 40, "CM");
    let dec = row(&r, "P1", "2025-12");
    assert_eq!((dec.program, dec.codes_text.as_str()), (Program::Cocm, "99492"));
    assert!(dec.warnings.iter().any(|w| w == "APCM this month, but no apcm-bhi rule set for 2025: billed as cocm"), "{:?}", dec.warnings);

    // Overlapping periods, an end before the start, a `to` before `from`: refused, nothing changes.
    let before = dump(&t.path);
    assert_eq!(r.record_apcm("A1", "2026-01-15", Some("2026-02-15")).unwrap_err().code(), "conflict");
    assert_eq!(r.record_apcm("A1", "2026-06-01", None).unwrap_err().code(), "conflict", "the open period from 03-15 covers it");
    assert_eq!(r.record_apcm("A1", "2026-02-10", Some("2026-02-01")).unwrap_err().code(), "validation");
    assert_eq!(r.end_apcm("A1", "2026-03-01").unwrap_err().code(), "validation");
    assert_eq!(r.end_apcm("P9", "2026-03-01").unwrap_err().code(), "not_found");
    assert!(dump(&t.path) == before, "a refused APCM change changed the registry");

    // Ending the open period on 03-31: April is not APCM.
    r.end_apcm("A1", "2026-03-31").unwrap();
    contact(&mut r, "A1", "2026-04-20", 20, "CM");
    assert_eq!(billed(&r, "A1", "2026-04"), "cocm cocm/default/2026 subsequent G2214");
    // An APCM period entered in error stops counting: January is CoCM again (1 minute → nothing).
    let january = r.billing_programs("A1").unwrap().apcm[0].id.clone();
    r.mark_entered_in_error(RecordKind::ApcmPeriod, &january, "wrong patient").unwrap();
    assert_eq!(billed(&r, "A1", "2026-01"), "cocm cocm/default/2026 initial");
    assert!(r.billing_programs("A1").unwrap().apcm[0].entered_in_error.is_some());
}

#[test]
fn the_texas_and_north_carolina_presets_bill_their_medicaid_patients_only() {
    let (t, mut r) = setup();
    patient(&mut r, "T1", "medicaid", "2026-01-05", None);
    patient(&mut r, "T2", "medicaid", "2026-01-05", None);
    patient(&mut r, "M1", "medicare", "2026-01-05", None);
    contact(&mut r, "T1", "2026-01-10", 69, "CM");
    contact(&mut r, "T2", "2026-01-10", 70, "CM");
    contact(&mut r, "T1", "2026-02-10", 59, "CM");
    contact(&mut r, "T2", "2026-02-10", 60, "CM");
    contact(&mut r, "M1", "2026-01-10", 70, "CM");
    contact(&mut r, "T1", "2026-03-10", 250, "CM");
    let keys = r.apply_rules_preset("tx-medicaid-fqhc-rhc").unwrap();
    assert_eq!(keys.iter().map(ToString::to_string).collect::<Vec<_>>(), ["cocm/medicaid/2026"]);
    // Texas: G0512 for 70 initial / 60 subsequent full minutes, one unit; no G2214 below.
    assert_eq!(billed(&r, "T1", "2026-01"), "cocm cocm/medicaid/2026 initial");
    assert_eq!(billed(&r, "T2", "2026-01"), "cocm cocm/medicaid/2026 initial G0512");
    assert_eq!(billed(&r, "T1", "2026-02"), "cocm cocm/medicaid/2026 subsequent");
    assert_eq!(billed(&r, "T2", "2026-02"), "cocm cocm/medicaid/2026 subsequent G0512");
    assert_eq!(billed(&r, "T1", "2026-03"), "cocm cocm/medicaid/2026 subsequent G0512");
    // A Medicare patient keeps the default: initial 36–85 → 99492.
    assert_eq!(billed(&r, "M1", "2026-01"), "cocm cocm/default/2026 initial 99492");
    // North Carolina (replacing Texas's Medicaid rules): 250 subsequent minutes →
    // 99493 + 99494 × min(floor((250 − 76) / 30) + 1, 4) = 99493 + 99494×4.
    r.apply_rules_preset("nc-medicaid").unwrap();
    assert_eq!(billed(&r, "T1", "2026-03"), "cocm cocm/medicaid/2026 subsequent 99493 + 99494×4");
    // An unknown preset, and a care manager, change nothing.
    let mut cm = sign_in_as(&mut r, "CM");
    let before = common::dump_skipping(&t.path, &["refused"]);
    assert_eq!(r.apply_rules_preset("ny-medicaid").unwrap_err().code(), "validation");
    assert_eq!(cm.apply_rules_preset("nc-medicaid").unwrap_err().code(), "permission_denied");
    assert!(common::dump_skipping(&t.path, &["refused"]) == before, "a refused preset changed the registry");
}

#[test]
fn the_cli_enrols_in_a_program_changes_it_records_apcm_and_switches_a_preset_on() {
    let (t, mut r) = setup();
    common::add_patient(&mut r, "C1");
    drop(r);
    let db = &t.path;
    let lead = |args: &[&str]| ok(db, &[&["--as", "LEAD"], args].concat());
    lead(&["enroll", "C1", "--date", "2026-01-05", "--consent", "2026-01-05", "--program", "general-bhi"]);
    lead(&["contact", "C1", "--date", "2026-01-10", "--minutes", "20", "--by", "CM"]);
    lead(&["contact", "C1", "--date", "2026-02-10", "--minutes", "40", "--by", "CM"]);
    lead(&["program", "C1", "--to", "cocm", "--from", "2026-02"]);
    assert_eq!(lead(&["program", "C1"]), "FROM MONTH  PROGRAM\n2026-01     general-bhi\n2026-02     cocm");
    let id = lead(&["apcm", "C1", "--from", "2026-03-01"]);
    assert_eq!(id.len(), 36);
    lead(&["apcm", "C1", "--end", "2026-03-31"]);
    assert!(lead(&["apcm", "C1"]).contains("2026-03-01  2026-03-31"));
    let jan = common::json(db, &["billing", "--month", "2026-01", "--json"]);
    assert_eq!((&jan[0]["program"], &jan[0]["codes_text"]), (&"general-bhi".into(), &"99484".into()));
    // February, CoCM from then: subsequent (January counted), 31–75 → 99493.
    let feb = common::json(db, &["billing", "--month", "2026-02", "--json"]);
    assert_eq!((&feb[0]["program"], &feb[0]["codes_text"]), (&"cocm".into(), &"99493".into()));
    assert_eq!(lead(&["rules", "preset", "tx-medicaid-fqhc-rhc"]), "cocm/medicaid/2026");
    let bad = common::cocm(db, &["--as", "LEAD", "program", "C1", "--to", "cocm"]);
    assert!(!bad.ok && bad.stderr.contains("from: a change names both --to and --from"), "{}", bad.stderr);
}
