//! The core library on real SQLite files: migrations from older files, the audit trail of
//! every write, entered-in-error records, episode windows and billing history rules that need
//! a database to check.

mod common;

use cocm::Registry;
use cocm::assessments::NewAssessment;
use cocm::episodes::Enrolment;
use cocm::flags::Flag;
use cocm::patients::{NewPatient, PatientChanges};
use cocm::reviews::{NewCaseReview, NewReviewRequest};
use cocm::treatment::NewTreatmentChange;
use cocm::vocab::{DischargeReason, EpisodeStatus, Role};
use cocm::voids::RecordKind;
use common::{PASSWORD, TempRegistry, add_patient, contact, d, dump, enroll, month, phq, setup, sign_in_as};

fn kind_of(r: &Registry, mrn: &str, m: &str) -> String {
    r.patient_billing(mrn, month(m)).unwrap().expect("a billing row").month_kind.to_string()
}

fn audit_count(path: &std::path::Path) -> i64 {
    cocm::store::inspect(path, "LEAD", PASSWORD).unwrap().query_row("SELECT COUNT(*) FROM audit_log", [], |r| r.get(0)).unwrap()
}

#[test]
fn upgrades_a_file_written_at_schema_version_1() {
    let t = TempRegistry::new();
    {
        // What the first release wrote: migration 0001 only.
        let conn = rusqlite::Connection::open(&t.path).unwrap();
        conn.pragma_update(None, "application_id", cocm::store::APPLICATION_ID).unwrap();
        conn.execute_batch(cocm::store::MIGRATIONS[0].1).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute("INSERT INTO practice (id, name, created_at) VALUES (1, 'Old Clinic', '2025-01-01T00:00:00Z')", []).unwrap();
        conn.execute(
            "INSERT INTO team_members (id, name, role, created_at) VALUES ('m1', 'Old CM', 'care-manager', '2025-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
    }
    // A plain file is refused until it is encrypted; encrypting upgrades it.
    let refused = Registry::sign_in(&t.path, "Old CM", PASSWORD, None).err().unwrap();
    assert_eq!(refused.code(), "incompatible");
    assert!(refused.to_string().contains("is not encrypted; convert it with `cocm encrypt"), "{refused}");
    let (r, _recovery) = cocm::conversion::encrypt(&t.path, "LEAD", PASSWORD).unwrap();
    assert!(!cocm::store::is_plain_sqlite(&t.path));
    assert_eq!(r.schema_version().unwrap(), cocm::store::SCHEMA_VERSION);
    assert_eq!(r.practice_name().unwrap(), "Old Clinic");
    let names: Vec<String> = r.list_members().unwrap().into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["Old CM", "LEAD"], "the old team, and the lead the conversion added");
    assert_eq!(r.settings().unwrap().contact_due_days_active, 14, "0002 brought the default settings");
    assert_eq!(r.settings().unwrap().target_improvement_rate_pct, 60, "0003 brought the report targets");
    assert_eq!(r.billing_rules(2026).unwrap().key.effective_year, 2026);
    drop(r);
    // Opening an up-to-date file changes nothing.
    let before = dump(&t.path);
    Registry::sign_in(&t.path, "LEAD", PASSWORD, None).unwrap();
    assert_eq!(dump(&t.path), before);
}

#[test]
fn every_write_appends_exactly_one_audit_row_naming_the_actor() {
    let (t, mut lead) = setup();
    let mut r = sign_in_as(&mut lead, "CM");
    let mut expected = audit_count(&t.path);
    let mut step = |r: &mut Registry, what: &str, f: &dyn Fn(&mut Registry)| {
        f(r);
        expected += 1;
        assert_eq!(audit_count(&t.path), expected, "{what} should add one audit row");
        let last = &r.audit_log(1).unwrap()[0];
        assert_eq!(last.actor, "CM", "{what}");
        assert_eq!(last.actor_id.as_deref(), Some(r.find_member("m", "CM").unwrap().id.as_str()));
    };
    step(&mut r, "assessment", &|r| {
        phq(r, "P1", "2025-11-03", [1; 9]);
    });
    step(&mut r, "contact", &|r| {
        contact(r, "P1", "2025-11-04", 20, "CM");
    });
    step(&mut r, "review request", &|r| {
        r.request_review("P1", &NewReviewRequest { date: Some("2025-11-05".into()), by: "CM".into(), reason: "Why".into() }).unwrap();
    });
    step(&mut r, "a refused case review", &|r| {
        let refused =
            r.record_case_review("P1", &NewCaseReview { date: "2025-11-06".into(), by: "PSY".into(), ..Default::default() }).unwrap_err();
        assert_eq!(refused.code(), "permission_denied");
        assert_eq!(r.audit_log(1).unwrap()[0].action, "refused");
    });
    step(&mut r, "treatment change", &|r| {
        r.record_treatment_change(
            "P1",
            &NewTreatmentChange { date: "2025-11-06".into(), kind: "medication-started".into(), description: "SSRI".into() },
        )
        .unwrap();
    });
    step(&mut r, "patient edit", &|r| {
        r.update_patient("P1", &PatientChanges { name: Some("Renamed".into()), ..Default::default() }).unwrap();
    });
    step(&mut r, "status", &|r| {
        r.change_status("P1", EpisodeStatus::RelapsePrevention, "2025-12-01", None).unwrap();
    });
    step(&mut r, "consent", &|r| r.record_consent("P1", "2025-11-04").unwrap());
    let to_void = std::cell::RefCell::new(String::new());
    step(&mut r, "contact to void", &|r| {
        *to_void.borrow_mut() = contact(r, "P1", "2025-12-02", 5, "CM");
    });
    step(&mut r, "void", &|r| {
        r.mark_entered_in_error(RecordKind::Contact, &to_void.borrow(), "typo").unwrap();
    });
    let log = r.audit_log(2).unwrap();
    assert_eq!(log[0].action, "entered-in-error");
    assert_eq!(log[0].details["reason"], "typo");
    let edit = r.audit_log(50).unwrap().into_iter().find(|e| e.record_type == "patient" && e.action == "update").unwrap();
    assert_eq!(edit.details["name"]["from"], "Patient P1");
    assert_eq!(edit.details["name"]["to"], "Renamed");
    assert_eq!(audit_count(&t.path), expected);
}

#[test]
fn entered_in_error_assessments_stop_counting_in_scores_and_flags() {
    let (_t, mut r) = setup();
    contact(&mut r, "P1", "2025-11-20", 20, "CM");
    phq(&mut r, "P1", "2025-11-03", [2, 2, 2, 2, 2, 2, 2, 2, 0]);
    let wrong = phq(&mut r, "P1", "2025-11-19", [3, 3, 3, 3, 3, 3, 3, 3, 3]);
    let row = &r.caseload(d("2025-11-21"), None).unwrap()[0];
    assert!(row.flags.contains(&Flag::Safety));
    assert_eq!(row.phq9.as_ref().unwrap().latest, 27);
    r.mark_entered_in_error(RecordKind::Assessment, &wrong, "wrong chart").unwrap();
    let row = &r.caseload(d("2025-11-21"), None).unwrap()[0];
    assert!(!row.flags.contains(&Flag::Safety));
    assert_eq!(row.phq9.as_ref().unwrap().latest, 16);
    assert_eq!(row.phq9.as_ref().unwrap().count, 1);
    let chart = r.patient_chart("P1", d("2025-11-21")).unwrap();
    assert_eq!(chart.assessments.len(), 2, "the record stays in the chart");
    assert_eq!(chart.assessments[1].entered_in_error.as_ref().unwrap().reason, "wrong chart");
}

#[test]
fn the_episode_window_takes_baseline_from_up_to_14_days_before_enrolment() {
    let (_t, mut r) = setup(); // P1 enrolled 2025-11-03
    add_patient(&mut r, "P2");
    enroll(&mut r, "P2", "2025-11-03", Some("2025-11-03"));
    let err = r.record_assessment(
        "P2",
        &NewAssessment { date: "2025-10-19".into(), instrument: "phq9".into(), answers: vec![1; 9], difficulty: None },
    );
    assert!(err.unwrap_err().to_string().contains("before Patient P2's enrolment"), "15 days before the first enrolment");
    phq(&mut r, "P2", "2025-10-20", [2, 2, 2, 2, 2, 2, 2, 2, 2]); // exactly 14 days before
    phq(&mut r, "P2", "2025-12-01", [1, 1, 1, 1, 1, 1, 1, 1, 0]);
    let rows = r.caseload(d("2025-12-02"), None).unwrap();
    let p2 = rows.iter().find(|x| x.mrn == "P2").unwrap();
    let m = p2.phq9.as_ref().unwrap();
    assert_eq!((m.baseline, m.baseline_date, m.latest, m.change_pct), (18, d("2025-10-20"), 8, Some(-56)));
    assert!(m.improved && m.response && !m.remission);
}

#[test]
fn the_caseload_follows_status_history_on_the_as_of_date() {
    let (_t, mut r) = setup();
    r.change_status("P1", EpisodeStatus::Discharged, "2026-01-10", Some(DischargeReason::Moved)).unwrap();
    assert_eq!(r.caseload(d("2026-01-09"), None).unwrap().len(), 1, "still active the day before discharge");
    assert!(r.caseload(d("2026-01-10"), None).unwrap().is_empty(), "discharged on the day");
    assert!(r.caseload(d("2025-11-02"), None).unwrap().is_empty(), "not enrolled yet");
    // Re-enrolment opens a new episode; the old one keeps its history.
    enroll(&mut r, "P1", "2026-02-01", Some("2026-02-01"));
    let rows = r.caseload(d("2026-02-02"), None).unwrap();
    assert_eq!((rows.len(), rows[0].start_date), (1, d("2026-02-01")));
    assert_eq!(r.episodes("P1").unwrap().len(), 2);
}

#[test]
fn billing_month_kind_restarts_after_six_empty_months_and_on_a_new_episode() {
    let (_t, mut r) = setup(); // enrolled 2025-11-03
    contact(&mut r, "P1", "2025-11-10", 40, "CM");
    contact(&mut r, "P1", "2025-12-10", 40, "CM");
    assert_eq!(kind_of(&r, "P1", "2025-11"), "initial");
    assert_eq!(kind_of(&r, "P1", "2025-12"), "subsequent");
    // Jan–Jun 2026 empty: six whole months, so July is initial again.
    contact(&mut r, "P1", "2026-07-01", 40, "CM");
    assert_eq!(kind_of(&r, "P1", "2026-07"), "initial");
    let row = r.patient_billing("P1", month("2026-07")).unwrap().unwrap();
    assert_eq!(row.codes[0].code, "99492");
    assert!(row.warnings.contains(&"initial month without an assessment".to_string()));
    // A new registry episode starts over, even straight after a billed month.
    r.change_status("P1", EpisodeStatus::Discharged, "2026-07-02", Some(DischargeReason::Declined)).unwrap();
    enroll(&mut r, "P1", "2026-08-01", Some("2026-08-01"));
    contact(&mut r, "P1", "2026-07-20", 10, "CM"); // after the first episode's discharge
    contact(&mut r, "P1", "2026-08-03", 20, "CM");
    assert_eq!(kind_of(&r, "P1", "2026-08"), "initial");
    let july = r.patient_billing("P1", month("2026-07")).unwrap().unwrap();
    assert_eq!(july.minutes, 40);
    assert_eq!(july.excluded[0].reason.as_str(), "after-discharge");
}

/// The practice's month finds its assessed patients in one pass, not one lookup each: the
/// initial-month warning must still name exactly the patients with no assessment that month.
#[test]
fn the_practices_month_warns_of_each_initial_month_without_an_assessment() {
    let (_t, mut r) = setup(); // P1 enrolled 2025-11-03
    for mrn in ["P2", "P3", "P4"] {
        add_patient(&mut r, mrn);
        enroll(&mut r, mrn, "2025-11-03", Some("2025-11-03"));
    }
    for mrn in ["P1", "P2", "P3", "P4"] {
        contact(&mut r, mrn, "2025-11-10", 40, "CM");
    }
    phq(&mut r, "P1", "2025-11-30", [1; 9]); // the month's last day: assessed
    phq(&mut r, "P2", "2025-12-01", [1; 9]); // the next month's first: not this month
    let wrong = phq(&mut r, "P3", "2025-11-15", [1; 9]);
    r.mark_entered_in_error(RecordKind::Assessment, &wrong, "wrong chart").unwrap(); // not counted
    // P4: none at all.
    let warned = |r: &Registry| -> Vec<String> {
        let rows = r.billing(month("2025-11")).unwrap();
        let mut w: Vec<String> = rows
            .iter()
            .filter(|b| b.warnings.contains(&"initial month without an assessment".to_string()))
            .map(|b| b.mrn.clone())
            .collect();
        w.sort();
        w
    };
    assert_eq!(warned(&r), ["P2", "P3", "P4"]);
    // Each patient's own month agrees with the practice's.
    for (mrn, warns) in [("P1", false), ("P2", true), ("P3", true), ("P4", true)] {
        let row = r.patient_billing(mrn, month("2025-11")).unwrap().unwrap();
        assert_eq!(row.warnings.contains(&"initial month without an assessment".to_string()), warns, "{mrn}");
    }
}

/// The history query (SQL) and the month's exclusion rule (Rust) must agree: minutes excluded
/// last month for any reason do not make this month subsequent.
#[test]
fn excluded_minutes_never_make_a_month_subsequent() {
    let (_t, mut r) = setup();
    let voided = contact(&mut r, "P1", "2025-11-05", 40, "CM");
    r.mark_entered_in_error(RecordKind::Contact, &voided, "duplicate").unwrap();
    contact(&mut r, "P1", "2025-11-06", 40, "PSY");
    contact(&mut r, "P1", "2025-11-07", 40, "PCP");
    contact(&mut r, "P1", "2025-11-08", 40, "LEAD");
    contact(&mut r, "P1", "2025-12-05", 40, "CM");
    let nov = r.patient_billing("P1", month("2025-11")).unwrap().unwrap();
    assert_eq!(nov.minutes, 0);
    let reasons: Vec<&str> = nov.excluded.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(reasons, ["entered-in-error", "psychiatric-consultant", "role-not-counted"]);
    assert_eq!(nov.excluded[2].minutes, 80, "PCP and practice lead minutes");
    assert_eq!(kind_of(&r, "P1", "2025-12"), "initial");

    // With the practice counting PCP minutes, November's PCP contact counts and December follows it.
    r.set_setting("billing_counts_pcp_minutes", "true").unwrap();
    assert_eq!(r.patient_billing("P1", month("2025-11")).unwrap().unwrap().minutes, 40);
    assert_eq!(kind_of(&r, "P1", "2025-12"), "subsequent");

    // Before consent: a patient enrolled without consent, consenting later.
    add_patient(&mut r, "P2");
    enroll(&mut r, "P2", "2025-11-01", None);
    contact(&mut r, "P2", "2025-11-10", 30, "CM");
    let row = r.patient_billing("P2", month("2025-11")).unwrap().unwrap();
    assert_eq!((row.minutes, row.excluded[0].reason.as_str()), (0, "no-consent"));
    assert!(row.warnings.contains(&"no consent recorded".to_string()));
    r.record_consent("P2", "2025-12-01").unwrap();
    contact(&mut r, "P2", "2025-12-02", 30, "CM");
    assert_eq!(r.patient_billing("P2", month("2025-11")).unwrap().unwrap().excluded[0].reason.as_str(), "before-consent");
    assert_eq!(kind_of(&r, "P2", "2025-12"), "initial");
}

#[test]
fn minutes_from_several_care_managers_add_up_and_months_never_borrow() {
    let (_t, mut r) = setup();
    r.add_member("CM2", Role::CareManager).unwrap();
    contact(&mut r, "P1", "2025-11-30", 10, "CM");
    contact(&mut r, "P1", "2025-11-30", 10, "CM2");
    contact(&mut r, "P1", "2025-12-01", 30, "CM");
    let nov = r.patient_billing("P1", month("2025-11")).unwrap().unwrap();
    assert_eq!((nov.minutes, nov.codes.len()), (20, 1));
    assert_eq!(nov.codes[0].code, "G2214");
    assert_eq!(r.patient_billing("P1", month("2025-12")).unwrap().unwrap().minutes, 30);
    let all = r.billing(month("2025-11")).unwrap();
    let totals = cocm::billing::totals(&all);
    assert_eq!((totals.patients, totals.minutes, totals.estimated_revenue), (1, 20, 61.0));
}

#[test]
fn a_rule_set_is_chosen_by_year_and_a_missing_year_is_a_clear_error() {
    let (_t, mut r) = setup();
    let mut rules = r.billing_rules(2026).unwrap().rules;
    rules.fees.insert("G2214".into(), 70.0);
    r.set_billing_rules(2027, &rules).unwrap();
    assert_eq!(r.billing_rules(2028).unwrap().key.effective_year, 2027);
    assert_eq!(r.billing_rules(2026).unwrap().rules.fees["G2214"], 61.0);
    assert_eq!(r.billing(month("2024-05")).unwrap(), vec![], "nothing to bill needs no rules");
    add_patient(&mut r, "P2");
    enroll(&mut r, "P2", "2024-05-01", Some("2024-05-01"));
    contact(&mut r, "P2", "2024-05-10", 20, "CM");
    // A month with contacts and no rule set shows its minutes, no codes, and says why.
    let may = r.billing(month("2024-05")).unwrap();
    assert_eq!((may[0].minutes, may[0].month_kind.as_str(), may[0].codes.len()), (20, "initial", 0));
    assert!(
        may[0].warnings.contains(&"no cocm billing rule set for 2024: add one in Team & settings".to_string()),
        "{:?}",
        may[0].warnings
    );
    let err = r.billing_rules(2024).unwrap_err();
    assert_eq!(err.code(), "not_found");
    assert!(err.to_string().contains("no billing rule set takes effect in or before 2024"));
    rules.subsequent.tiers[1].from_minutes = 10;
    assert_eq!(r.set_billing_rules(2028, &rules).unwrap_err().code(), "validation");
}

#[test]
fn two_handles_share_one_file() {
    let (t, mut app) = setup();
    let cli = Registry::sign_in(&t.path, "LEAD", PASSWORD, None).unwrap();
    contact(&mut app, "P1", "2025-11-10", 25, "CM");
    let rows = cli.caseload(d("2025-11-11"), None).unwrap();
    assert_eq!(rows[0].last_contact, Some(d("2025-11-10")));
}

#[test]
fn the_error_payload_is_code_and_message() {
    let (_t, r) = setup();
    let e = r.patient_chart("NOPE", d("2025-11-11")).unwrap_err();
    let payload = serde_json::to_value(e.payload()).unwrap();
    assert_eq!(payload, serde_json::json!({ "code": "not_found", "message": "no patient with MRN 'NOPE'" }));
}

#[test]
fn the_trend_chart_shows_the_episode_window_with_response_and_remission_lines() {
    let (_t, mut r) = setup(); // P1 enrolled 2025-11-03
    phq(&mut r, "P1", "2025-10-20", [2, 2, 2, 2, 2, 2, 2, 2, 2]); // baseline, 14 days before
    let wrong = phq(&mut r, "P1", "2025-11-20", [3; 9]);
    r.mark_entered_in_error(RecordKind::Assessment, &wrong, "wrong chart").unwrap();
    phq(&mut r, "P1", "2025-12-01", [1, 1, 1, 1, 1, 1, 1, 1, 0]);
    r.record_treatment_change(
        "P1",
        &NewTreatmentChange { date: "2025-11-10".into(), kind: "medication-started".into(), description: "Sertraline 50 mg".into() },
    )
    .unwrap();
    r.record_case_review("P1", &NewCaseReview { date: "2025-11-25".into(), by: "PSY".into(), ..Default::default() }).unwrap();
    let trend = r.patient_chart("P1", d("2025-12-02")).unwrap().trend;
    let points: Vec<(String, u8)> = trend.points.iter().map(|p| (p.date.to_string(), p.total)).collect();
    assert_eq!(points, [("2025-10-20".to_string(), 18), ("2025-12-01".to_string(), 8)]);
    // One scale, the PHQ-9's (the episode's primary scale): 0–27, its five bands, the response
    // line at half the baseline (18 / 2 = 9) and remission below 5.
    assert_eq!(trend.scales.len(), 1);
    let phq9 = &trend.scales[0];
    assert_eq!((phq9.instrument.as_str(), phq9.max_total, phq9.primary), ("phq9", 27, true));
    assert_eq!(phq9.response_line, Some(9.0));
    assert_eq!(phq9.remission_below, Some(5));
    assert_eq!(phq9.bands.len(), 5, "PHQ-9 bands");
    let markers: Vec<&str> = trend.markers.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(markers, ["treatment-change", "case-review"]);
    // The as-of date bounds the window.
    assert_eq!(r.patient_chart("P1", d("2025-11-30")).unwrap().trend.points.len(), 1);
}

#[test]
fn adding_and_enrolling_a_patient_is_one_transaction() {
    let (t, mut r) = setup();
    let before = dump(&t.path);
    let p = NewPatient { mrn: "E1".into(), name: "New Patient".into(), dob: "1980-01-01".into(), ..Default::default() };
    let bad = Enrolment { start: "2099-01-01".into(), ..Default::default() };
    let e = r.enroll_new_patient(&p, &bad).unwrap_err();
    assert!(e.to_string().contains("date: 2099-01-01 is in the future"), "{e}");
    assert_eq!(dump(&t.path), before, "no patient is left behind without an episode");
    let good = Enrolment {
        start: "2026-01-05".into(),
        consent: Some("2026-01-05".into()),
        targets: Some("depression,anxiety".into()),
        ..Default::default()
    };
    r.enroll_new_patient(&p, &good).unwrap();
    let episodes = r.episodes("E1").unwrap();
    assert_eq!((episodes.len(), episodes[0].targets.len()), (1, 2));
}

/// A practice server keeps the caseload and queue and, after a change to one patient, patches
/// in that patient's row and entry instead of recomputing everything. After each kind of change
/// the patched views must equal the views computed from scratch.
#[test]
fn a_view_patched_with_one_patients_change_equals_the_view_recomputed() {
    use cocm::demo::{DEMO_LEAD, DEMO_PASSWORD, DemoOptions, create_demo};
    let t = TempRegistry::new();
    let as_of = d("2026-11-15");
    drop(create_demo(&t.path, &DemoOptions { as_of, synthetic_patients: 0, practice_patients: 0, seed: 1 }).unwrap());
    let mut r = Registry::sign_in(&t.path, DEMO_LEAD, DEMO_PASSWORD, None).unwrap();
    let mut caseload = r.caseload_view(as_of, None).unwrap();
    let mut queue = r.queue(as_of).unwrap();
    let other_cm = r.list_members().unwrap().into_iter().find(|m| m.role == Role::CareManager && m.name != "Ana Morales").unwrap();
    let first = caseload.rows[0].mrn.clone();
    let last = caseload.rows.last().unwrap().mrn.clone();
    let in_queue = queue.last().unwrap().mrn.clone();
    type Change = Box<dyn Fn(&mut Registry)>;
    let (f, l, q, cm) = (first.clone(), last.clone(), in_queue.clone(), other_cm.id.clone());
    let changes: Vec<(&str, String, Change)> = vec![
        // A PHQ-9 with item 9 positive puts the last row first (safety).
        ("item 9", last.clone(), Box::new(move |r| drop(phq(r, &l, "2026-11-14", [3, 3, 3, 3, 3, 3, 3, 3, 2])))),
        // A review takes a patient out of the queue.
        (
            "review",
            in_queue.clone(),
            Box::new(move |r| {
                r.record_case_review(
                    &q,
                    &NewCaseReview {
                        date: "2026-11-15".into(),
                        by: "Dr. Sam Rivera".into(),
                        medication: "Continue".into(),
                        ..Default::default()
                    },
                )
                .unwrap();
            }),
        ),
        // Another care manager, another name: other care managers' views and the order change.
        (
            "care team",
            first.clone(),
            Box::new(move |r| {
                r.update_patient(
                    &f,
                    &PatientChanges { name: Some("Aaron Aardvark".into()), care_manager: Some(cm.clone()), ..Default::default() },
                )
                .unwrap();
            }),
        ),
        // Discharged: off the caseload and out of the queue.
        (
            "discharge",
            last.clone(),
            Box::new({
                let l = last.clone();
                move |r| {
                    r.change_status(&l, EpisodeStatus::Discharged, "2026-11-15", Some(DischargeReason::Moved)).unwrap();
                }
            }),
        ),
    ];
    for (what, mrn, change) in changes {
        change(&mut r);
        let (id, row) = r.caseload_row(&mrn, as_of).unwrap();
        caseload = caseload.with_row(&id, row);
        assert_eq!(caseload, r.caseload_view(as_of, None).unwrap(), "caseload after {what}");
        let (id, entry) = r.queue_entry(&mrn, as_of).unwrap();
        queue = cocm::queue::with_entry(&queue, &id, entry);
        assert_eq!(queue, r.queue(as_of).unwrap(), "queue after {what}");
        for member in ["Ana Morales", other_cm.name.as_str()] {
            assert_eq!(caseload.of_care_manager(member), r.caseload_view(as_of, Some(member)).unwrap(), "{member}'s caseload after {what}");
        }
    }
}

/// One patient's row (what the server patches its live caseload with after each save) is read
/// by other queries than the practice's caseload, some through indexes that lead with the
/// episode: every patient's row must be the practice's row, on days when some are inactive.
#[test]
fn each_patients_own_caseload_row_equals_their_row_in_the_practice_caseload() {
    use cocm::demo::{DEMO_LEAD, DEMO_PASSWORD, DemoOptions, create_demo};
    let t = TempRegistry::new();
    drop(create_demo(&t.path, &DemoOptions { as_of: d("2026-11-15"), synthetic_patients: 30, practice_patients: 0, seed: 7 }).unwrap());
    let r = Registry::sign_in(&t.path, DEMO_LEAD, DEMO_PASSWORD, None).unwrap();
    let (mut inactive, mut active) = (0, 0);
    // The demo's contacts end on 2026-11-15; 90 days without one (§4 `inactive`) come in February.
    for as_of in ["2026-11-15", "2027-02-01", "2027-02-20"].map(d) {
        for practice_row in r.caseload(as_of, None).unwrap() {
            let (_, own) = r.caseload_row(&practice_row.mrn, as_of).unwrap();
            assert_eq!(own.as_ref(), Some(&practice_row), "{} on {as_of}", practice_row.mrn);
            if practice_row.flags.contains(&Flag::Inactive) { inactive += 1 } else { active += 1 }
        }
    }
    assert!(inactive > 0 && active > 0, "inactive {inactive}, not inactive {active}: the days do not test the clinical contacts");
}
