//! The role matrix (ARCHITECTURE.md, "Roles"), every cell: each role attempts each write on
//! its own registry. An allowed cell succeeds; a refused one is `permission_denied`, leaves
//! every table and the key file as they were, and adds one "refused" audit row naming the actor.

mod common;

use std::path::Path;

use cocm::assessments::NewAssessment;
use cocm::contacts::NewContact;
use cocm::episodes::Enrolment;
use cocm::patients::{NewPatient, PatientChanges};
use cocm::reviews::{NewCaseReview, NewReviewRequest};
use cocm::treatment::NewTreatmentChange;
use cocm::vocab::{EpisodeStatus, Role};
use cocm::voids::RecordKind;
use cocm::{Registry, Result};
use common::{PASSWORD, TempRegistry, add_patient, dump_skipping, enroll, setup, sign_in_as};

const Y: bool = true;
const N: bool = false;

/// Issue 8's matrix, written out by hand (not read from `access::allowed`).
/// Columns: care manager, psychiatric consultant, PCP, practice lead.
const MATRIX: &[(&str, [bool; 4])] = &[
    ("add a patient", [Y, N, N, Y]),
    ("edit a patient", [Y, N, N, Y]),
    ("enrol", [Y, N, N, Y]),
    ("record consent", [Y, N, N, Y]),
    ("record an assessment", [Y, Y, Y, Y]),
    ("log a contact in their own name", [Y, N, N, Y]),
    ("log a contact in another's name", [N, N, N, Y]),
    ("request a review", [Y, Y, Y, Y]),
    ("record a case review", [N, Y, N, Y]),
    ("record a treatment change", [Y, N, Y, Y]),
    ("record a diagnosis", [Y, Y, Y, Y]),
    ("change a status", [Y, N, N, Y]),
    ("mark their own entry in error", [Y, Y, Y, Y]),
    ("mark another's entry in error", [N, N, N, Y]),
    ("add a team member", [N, N, N, Y]),
    ("set another member's password", [N, N, N, Y]),
    ("unlock an account", [N, N, N, Y]),
    ("remove an account", [N, N, N, Y]),
    ("re-key the registry", [N, N, N, Y]),
    ("change a setting", [N, N, N, Y]),
    ("change billing rules", [N, N, N, Y]),
    ("export a plain copy", [N, N, N, Y]),
    ("import a file", [N, N, N, Y]),
    ("read the audit log", [N, N, N, Y]),
    ("read a patient's record of access", [N, N, N, Y]),
    ("correct a primary scale", [N, N, N, Y]),
];

const ROLES: [(&str, Role); 4] =
    [("CM", Role::CareManager), ("PSY", Role::PsychiatricConsultant), ("PCP", Role::Pcp), ("LEAD", Role::PracticeLead)];

/// The practice every role works on: setup()'s team and P1, plus a second care manager "CM2"
/// with an account, P2 (not enrolled), P3 (enrolled), and an assessment CM2 entered on P1.
fn practice() -> (TempRegistry, String) {
    let (t, mut lead) = setup();
    lead.add_member("CM2", Role::CareManager).unwrap();
    add_patient(&mut lead, "P2");
    add_patient(&mut lead, "P3");
    enroll(&mut lead, "P3", "2025-11-03", Some("2025-11-03"));
    let mut cm2 = sign_in_as(&mut lead, "CM2");
    let a = NewAssessment { date: "2025-11-04".into(), instrument: "gad7".into(), answers: vec![1; 7], difficulty: None };
    let theirs = cm2.record_assessment("P1", &a).unwrap();
    (t, theirs)
}

fn attempt(cell: &str, r: &mut Registry, me: &str, theirs: &str, dir: &Path) -> Result<()> {
    let phq = |date: &str| NewAssessment { date: date.into(), instrument: "phq9".into(), answers: vec![1; 9], difficulty: None };
    match cell {
        "add a patient" => {
            r.add_patient(&NewPatient { mrn: "N1".into(), name: "New".into(), dob: "1980-01-01".into(), ..Default::default() }).map(drop)
        }
        "edit a patient" => r.update_patient("P1", &PatientChanges { name: Some("Renamed".into()), ..Default::default() }).map(drop),
        "enrol" => r.enroll("P2", &Enrolment { start: "2025-11-10".into(), ..Default::default() }).map(drop),
        "record consent" => r.record_consent("P1", "2025-11-05"),
        "record an assessment" => r.record_assessment("P1", &phq("2025-11-06")).map(drop),
        "log a contact in their own name" => {
            r.log_contact("P1", &NewContact { date: "2025-11-06".into(), minutes: 20, by: me.into(), ..Default::default() }).map(drop)
        }
        "log a contact in another's name" => {
            r.log_contact("P1", &NewContact { date: "2025-11-06".into(), minutes: 20, by: "CM2".into(), ..Default::default() }).map(drop)
        }
        "request a review" => {
            r.request_review("P1", &NewReviewRequest { date: Some("2025-11-07".into()), by: me.into(), reason: "Why".into() }).map(drop)
        }
        "record a case review" => {
            r.record_case_review("P1", &NewCaseReview { date: "2025-11-08".into(), by: "PSY".into(), ..Default::default() }).map(drop)
        }
        "record a treatment change" => r
            .record_treatment_change(
                "P1",
                &NewTreatmentChange { date: "2025-11-08".into(), kind: "medication-started".into(), description: "SSRI".into() },
            )
            .map(drop),
        "record a diagnosis" => r.add_diagnosis("P1", "F33.1", Some("2025-11-06")).map(drop),
        "change a status" => r.change_status("P3", EpisodeStatus::RelapsePrevention, "2025-12-01", None).map(drop),
        "mark their own entry in error" => {
            let mine = r.record_assessment("P1", &phq("2025-11-09"))?;
            r.mark_entered_in_error(RecordKind::Assessment, &mine, "wrong patient")
        }
        "mark another's entry in error" => r.mark_entered_in_error(RecordKind::Assessment, theirs, "wrong patient"),
        "add a team member" => r.add_member("New Member", Role::Pcp).map(drop),
        "set another member's password" => r.set_password("CM2", "a-fresh-secret-phrase"),
        "unlock an account" => r.unlock_account("CM2"),
        "remove an account" => r.remove_account("CM2"),
        "re-key the registry" => r.rekey(),
        "change a setting" => r.set_setting("review_overdue_days", "45").map(drop),
        "change billing rules" => {
            let rules = r.billing_rules(2026)?.rules;
            r.set_billing_rules(2030, &rules)
        }
        "export a plain copy" => r.export_plain_sqlite(&dir.join(format!("plain-{me}.sqlite"))),
        "import a file" => {
            let mapping = serde_json::from_value(serde_json::json!({
                "shape": "patients", "columns": { "mrn": "MRN", "name": "Name", "dob": "DOB" }
            }))
            .unwrap();
            let csv = format!("MRN,Name,DOB\nIMP-{me},Imported Patient,1970-01-01\n");
            r.import_csv("patients.csv", csv.as_bytes(), &mapping, false, &mut |_, _| {}).map(|_| ())
        }
        "read the audit log" => r.read_audit_log(10).map(drop),
        "read a patient's record of access" => r.read_patient_audit("P1").map(drop),
        "correct a primary scale" => r.correct_primary_scale("P3", "depression", "phq-a"),
        other => panic!("no such cell: {other}"),
    }
}

#[test]
fn every_cell_of_the_role_matrix() {
    for (column, (me, role)) in ROLES.iter().enumerate() {
        let (t, theirs) = practice();
        let mut r = Registry::sign_in(&t.path, "LEAD", PASSWORD, None).unwrap();
        let mut r = if *me == "LEAD" { r } else { sign_in_as(&mut r, me) };
        assert_eq!(r.actor().role, *role);
        let keys = cocm::keyring::key_file_path(&t.path);
        for (cell, allowed) in MATRIX {
            let before = dump_skipping(&t.path, &["sign-in", "sign-out", "refused"]);
            let key_file_before = std::fs::read(&keys).unwrap();
            let result = attempt(cell, &mut r, me, &theirs, t.dir.path());
            if allowed[column] {
                assert!(result.is_ok(), "{me} ({role}) may {cell}: {:?}", result.err());
                continue;
            }
            let e = result.expect_err(&format!("{me} ({role}) may not {cell}"));
            assert_eq!(e.code(), "permission_denied", "{me} ({role}) {cell}: {e}");
            assert_eq!(dump_skipping(&t.path, &["sign-in", "sign-out", "refused"]), before, "{me} ({role}) {cell} wrote something");
            assert_eq!(std::fs::read(&keys).unwrap(), key_file_before, "{me} ({role}) {cell} changed the key file");
            let last = &r.audit_log(1).unwrap()[0];
            assert_eq!((last.action.as_str(), last.actor.as_str()), ("refused", *me), "{me} ({role}) {cell}: the refusal is audited");
        }
    }
}

#[test]
fn the_matrix_in_the_core_is_the_one_written_here() {
    // The same table, checked against the core's own function, so the two cannot drift.
    use cocm::access::{Action, allowed};
    let actions = [
        ("add a patient", Action::AddPatient),
        ("edit a patient", Action::EditPatient),
        ("enrol", Action::Enrol),
        ("record consent", Action::RecordConsent),
        ("record an assessment", Action::RecordAssessment),
        ("log a contact in their own name", Action::LogContact),
        ("request a review", Action::RequestReview),
        ("record a case review", Action::RecordCaseReview),
        ("record a treatment change", Action::RecordTreatmentChange),
        ("record a diagnosis", Action::RecordDiagnosis),
        ("change a status", Action::ChangeStatus),
        ("mark their own entry in error", Action::MarkEnteredInError),
        ("add a team member", Action::ManageTeam),
        ("set another member's password", Action::ManageAccounts),
        ("change a setting", Action::ChangeSettings),
        ("change billing rules", Action::ChangeBillingRules),
        ("export a plain copy", Action::Export),
        ("import a file", Action::Import),
    ];
    for (cell, action) in actions {
        let row = MATRIX.iter().find(|(c, _)| *c == cell).unwrap().1;
        for (column, (_, role)) in ROLES.iter().enumerate() {
            assert_eq!(allowed(*role, action), row[column], "{role} × {cell}");
        }
    }
}
