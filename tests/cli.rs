//! The `cocm` CLI end to end on real registry files: the command contract, the JSON field
//! names, and the bad-input list (clear error, registry unchanged).

mod common;

use common::{CLI_LEAD, TempRegistry, cli_account, cocm, cocm_with, dump, json, ok};
use std::path::Path;

/// A small practice: one of each role, and patient P1 enrolled on 2026-01-05 with consent.
fn practice() -> (TempRegistry, String) {
    let t = TempRegistry::new();
    let db = t.path.as_path();
    ok(db, &["init", "--practice", "Test Clinic", "--lead", CLI_LEAD]);
    ok(db, &["team", "add", "--name", "Casey CM", "--role", "care-manager"]);
    ok(db, &["team", "add", "--name", "Dr Psy", "--role", "psychiatric-consultant"]);
    ok(db, &["team", "add", "--name", "Dr PCP", "--role", "pcp"]);
    cli_account(db, "Casey CM");
    let id = ok(
        db,
        &[
            "patient",
            "add",
            "--mrn",
            "P1",
            "--name",
            "Pat One",
            "--dob",
            "1970-01-01",
            "--payer",
            "medicare",
            "--pcp",
            "Dr PCP",
            "--care-manager",
            "Casey CM",
            "--consultant",
            "Dr Psy",
        ],
    );
    ok(db, &["enroll", "P1", "--date", "2026-01-05", "--consent", "2026-01-05"]);
    (t, id)
}

#[test]
fn init_refuses_an_existing_file_and_commands_need_a_registry() {
    let t = TempRegistry::new();
    let missing = cocm(&t.path, &["caseload"]);
    assert!(!missing.ok);
    assert!(missing.stderr.contains("error[not_found]: no registry at"), "{}", missing.stderr);
    assert!(!t.path.exists(), "reading must not create a registry");
    ok(&t.path, &["init", "--practice", "A", "--lead", CLI_LEAD]);
    let again = cocm(&t.path, &["init", "--practice", "B", "--lead", CLI_LEAD]);
    assert!(!again.ok && again.stderr.starts_with("error[conflict]"), "{}", again.stderr);
}

#[test]
fn records_print_their_ids_and_the_chart_shows_them() {
    let (t, patient_id) = practice();
    let db = t.path.as_path();
    assert_eq!(patient_id.len(), 36, "a UUID: {patient_id}");
    let a = ok(db, &["assess", "P1", "--date", "2026-01-05", "--instrument", "phq9", "--items", "2,2,2,2,2,2,2,2,0"]);
    let c = ok(
        db,
        &[
            "contact",
            "P1",
            "--date",
            "2026-01-06",
            "--minutes",
            "30",
            "--by",
            "Casey CM",
            "--kind",
            "initial-assessment",
            "--mode",
            "in-person",
        ],
    );
    let f = ok(db, &["flag", "P1", "--by", "Casey CM", "--reason", "Not sleeping", "--date", "2026-01-07"]);
    let r = ok(db, &["review", "P1", "--by", "Dr Psy", "--date", "2026-01-08", "--recommendation", "Start sertraline 50 mg"]);
    let tc = ok(db, &["treatment", "P1", "--date", "2026-01-09", "--kind", "medication-started", "--description", "Sertraline 50 mg"]);
    let chart = json(db, &["patient", "show", "P1", "--json", "--as-of", "2026-01-10"]);
    assert_eq!(chart["assessments"][0]["id"], a.as_str());
    assert_eq!(chart["assessments"][0]["total"], 16);
    assert_eq!(chart["assessments"][0]["severity"], "moderately-severe");
    assert_eq!(chart["contacts"][0]["id"], c.as_str());
    assert_eq!(chart["review_requests"][0]["id"], f.as_str());
    assert_eq!(chart["review_requests"][0]["closed_by_review_on"], "2026-01-08");
    assert_eq!(chart["case_reviews"][0]["id"], r.as_str());
    assert_eq!(chart["case_reviews"][0]["note"], "Start sertraline 50 mg");
    assert_eq!(chart["treatment_changes"][0]["id"], tc.as_str());
    assert_eq!(chart["patient"]["care_manager"]["name"], "Casey CM");
    let text = ok(db, &["patient", "show", "P1", "--as-of", "2026-01-10"]);
    assert!(text.contains("Pat One (MRN P1)") && text.contains("PHQ-9  16 moderately-severe"), "{text}");
}

#[test]
fn caseload_json_contract() {
    let (t, _) = practice();
    let db = t.path.as_path();
    ok(db, &["assess", "P1", "--date", "2026-01-02", "--instrument", "phq9", "--items", "2,2,2,2,2,2,2,2,2"]);
    ok(db, &["assess", "P1", "--date", "2026-03-20", "--instrument", "phq9", "--items", "2,2,2,2,2,2,2,1,0"]);
    ok(db, &["contact", "P1", "--date", "2026-03-20", "--minutes", "20", "--by", "Casey CM"]);
    let rows = json(db, &["caseload", "--as-of", "2026-03-23", "--json"]);
    let row = &rows[0];
    for key in
        ["mrn", "name", "status", "weeks_in_treatment", "last_contact", "follow_up_due", "contacts", "last_review", "phq9", "gad7", "flags"]
    {
        assert!(row.get(key).is_some(), "caseload row lacks {key}: {row}");
    }
    assert_eq!(row["mrn"], "P1");
    assert_eq!(row["status"], "active");
    assert_eq!(row["weeks_in_treatment"], 11); // 2026-01-05 → 2026-03-23 is 77 days
    assert_eq!(row["last_contact"], "2026-03-20");
    assert_eq!(row["follow_up_due"], "2026-04-03");
    assert_eq!(row["contacts"], 1);
    assert_eq!(row["last_review"], serde_json::Value::Null);
    assert_eq!(row["gad7"], serde_json::Value::Null);
    let phq = &row["phq9"];
    for key in ["baseline", "latest", "latest_date", "change_pct", "improved", "response", "remission"] {
        assert!(phq.get(key).is_some(), "phq9 lacks {key}: {phq}");
    }
    assert_eq!((phq["baseline"].as_i64(), phq["latest"].as_i64(), phq["change_pct"].as_i64()), (Some(18), Some(15), Some(-17)));
    assert_eq!(phq["improved"], false);
    assert_eq!(row["flags"], serde_json::json!(["review-overdue", "not-improving"]));

    let csv = ok(db, &["caseload", "--as-of", "2026-03-23", "--csv"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let record = reader.records().next().unwrap().unwrap();
    let get = |h: &str| record.get(headers.iter().position(|x| x == h).unwrap()).unwrap().to_string();
    assert_eq!(get("mrn"), "P1");
    assert_eq!(get("phq9_change_pct"), "-17");
    assert_eq!(get("flags"), "review-overdue;not-improving");

    // --care-manager narrows the caseload; the table names the counts.
    ok(db, &["team", "add", "--name", "Other CM", "--role", "care-manager"]);
    assert_eq!(json(db, &["caseload", "--as-of", "2026-03-23", "--care-manager", "Other CM", "--json"]), serde_json::json!([]));
    let table = ok(db, &["caseload", "--as-of", "2026-03-23"]);
    assert!(table.starts_with("1 on caseload"), "{table}");
}

#[test]
fn queue_json_contract_and_order() {
    let (t, _) = practice();
    let db = t.path.as_path();
    ok(db, &["patient", "add", "--mrn", "P2", "--name", "Pat Two", "--dob", "1980-01-01", "--care-manager", "Casey CM"]);
    ok(db, &["enroll", "P2", "--date", "2026-02-20", "--consent", "2026-02-20"]);
    // P1: positive item 9 → safety; P2: new patient.
    ok(db, &["assess", "P1", "--date", "2026-02-25", "--instrument", "phq9", "--items", "1,1,1,1,1,1,1,1,1"]);
    let q = json(db, &["queue", "--as-of", "2026-03-01", "--json"]);
    assert_eq!(q[0]["mrn"], "P1");
    assert_eq!(q[0]["reasons"], serde_json::json!([{ "reason": "safety", "since": "2026-02-25" }]));
    assert_eq!(q[1]["mrn"], "P2");
    assert_eq!(q[1]["reasons"], serde_json::json!([{ "reason": "new-patient", "since": "2026-02-20" }]));
    assert_eq!(q[1]["name"], "Pat Two");
    // A safety check the same day clears the safety reason.
    ok(db, &["contact", "P1", "--date", "2026-02-25", "--minutes", "15", "--by", "Casey CM", "--kind", "safety-check"]);
    let q = json(db, &["queue", "--as-of", "2026-03-01", "--json"]);
    assert_eq!(q.as_array().unwrap().len(), 1);
    assert_eq!(q[0]["mrn"], "P2");
}

#[test]
fn billing_json_and_csv_contract() {
    let (t, _) = practice();
    let db = t.path.as_path();
    ok(db, &["assess", "P1", "--date", "2026-01-05", "--instrument", "phq9", "--items", "2,2,2,2,2,2,2,2,0"]);
    ok(db, &["contact", "P1", "--date", "2026-01-06", "--minutes", "50", "--by", "Casey CM"]);
    ok(db, &["contact", "P1", "--date", "2026-01-20", "--minutes", "40", "--by", "Casey CM"]);
    ok(db, &["contact", "P1", "--date", "2026-01-21", "--minutes", "25", "--by", "Dr Psy", "--kind", "case-review"]);
    ok(db, &["contact", "P1", "--date", "2026-02-03", "--minutes", "30", "--by", "Casey CM"]);
    let rows = json(db, &["billing", "--month", "2026-01", "--json"]);
    let row = &rows[0];
    for key in
        ["mrn", "name", "month", "month_kind", "minutes", "excluded", "codes", "warnings", "minutes_to_next_tier", "estimated_revenue"]
    {
        assert!(row.get(key).is_some(), "billing row lacks {key}: {row}");
    }
    assert_eq!(row["month"], "2026-01");
    assert_eq!(row["month_kind"], "initial");
    assert_eq!(row["minutes"], 90);
    assert_eq!(row["excluded"], serde_json::json!([{ "reason": "psychiatric-consultant", "minutes": 25 }]));
    assert_eq!(row["codes"], serde_json::json!([{ "code": "99492", "units": 1 }, { "code": "99494", "units": 1 }]));
    assert_eq!(row["minutes_to_next_tier"], 26);
    assert_eq!(row["estimated_revenue"], 221.0);
    assert_eq!(row["warnings"], serde_json::json!(["25 minutes excluded: psychiatric-consultant"]));

    let feb = json(db, &["billing", "--month", "2026-02", "--json"]);
    assert_eq!(feb[0]["month_kind"], "subsequent");
    assert_eq!(feb[0]["codes"], serde_json::json!([{ "code": "G2214", "units": 1 }]), "30 subsequent minutes: {}", feb[0]);
    assert_eq!(feb[0]["minutes_to_next_tier"], 1, "one minute short of 99493");

    let csv = ok(db, &["billing", "--month", "2026-01", "--csv"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let records: Vec<_> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), 1);
    let get = |h: &str| records[0].get(headers.iter().position(|x| x == h).unwrap_or_else(|| panic!("no column {h}"))).unwrap().to_string();
    assert_eq!((get("mrn"), get("month_kind"), get("minutes")), ("P1".into(), "initial".into(), "90".into()));
    assert_eq!((get("99492"), get("99494"), get("G2214")), ("1".into(), "1".into(), "0".into()));
    assert_eq!((get("excluded_minutes"), get("estimated_revenue"), get("pcp")), ("25".into(), "221.00".into(), "Dr PCP".into()));
}

#[test]
fn status_path_and_re_enrolment() {
    let (t, _) = practice();
    let db = t.path.as_path();
    ok(db, &["status", "P1", "--to", "relapse-prevention", "--date", "2026-03-01"]);
    ok(db, &["status", "P1", "--to", "discharged", "--date", "2026-04-01", "--reason", "goals-met"]);
    let e = cocm(db, &["status", "P1", "--to", "active", "--date", "2026-04-02"]);
    assert!(!e.ok && e.stderr.contains("no open episode"), "{}", e.stderr);
    ok(db, &["enroll", "P1", "--date", "2026-05-01", "--targets", "depression,anxiety"]);
    let chart = json(db, &["patient", "show", "P1", "--json", "--as-of", "2026-05-02"]);
    assert_eq!(chart["episodes"].as_array().unwrap().len(), 2);
    assert_eq!(chart["episodes"][0]["discharge_reason"], "goals-met");
    assert_eq!(chart["episodes"][1]["targets"], serde_json::json!(["depression", "anxiety"]));
    assert_eq!(chart["episodes"][1]["consent_date"], serde_json::Value::Null);
    ok(db, &["consent", "P1", "--date", "2026-05-02"]);
    let chart = json(db, &["patient", "show", "P1", "--json", "--as-of", "2026-05-02"]);
    assert_eq!(chart["episodes"][1]["consent_date"], "2026-05-02");
}

#[test]
fn actor_is_recorded_in_the_audit_log() {
    let (t, _) = practice();
    let db = t.path.as_path();
    ok(db, &["--as", "Casey CM", "contact", "P1", "--date", "2026-01-06", "--minutes", "20", "--by", "Casey CM"]);
    let log = json(db, &["audit", "--json", "--limit", "3"]);
    assert_eq!((&log[0]["actor"], &log[0]["action"]), (&"Lee Lead".into(), &"sign-in".into()), "the reader's own sign-in");
    assert_eq!(log[1]["actor"], "Casey CM");
    assert_eq!(log[1]["action"], "create");
    assert_eq!(log[1]["record_type"], "contact");
    assert_eq!(log[2]["actor"], "Casey CM");
    assert_eq!(log[2]["action"], "sign-in");
    let unknown = cocm(db, &["--as", "Nobody", "consent", "P1", "--date", "2026-01-06"]);
    assert!(!unknown.ok && unknown.stderr.starts_with("error[auth]: 'Nobody' has no account"), "{}", unknown.stderr);
    let nobody = cocm_with(db, &["caseload"], &[("COCM_AS", "")]);
    assert!(!nobody.ok && nobody.stderr.starts_with("error[auth]: say who is signing in"), "{}", nobody.stderr);
}

#[test]
fn settings_and_rules_can_be_changed_by_the_practice_lead() {
    let (t, _) = practice();
    let db = t.path.as_path();
    ok(db, &["--as", "Lee Lead", "settings", "set", "contact_due_days_active", "21"]);
    assert_eq!(json(db, &["settings", "list", "--json"])["contact_due_days_active"], 21);
    let denied = cocm(db, &["--as", "Casey CM", "settings", "set", "contact_due_days_active", "7"]);
    assert!(!denied.ok && denied.stderr.starts_with("error[permission_denied]"), "{}", denied.stderr);
    let bad = cocm(db, &["settings", "set", "contact_due_days_active", "0"]);
    assert!(!bad.ok && bad.stderr.contains("contact_due_days_active: must be a whole number from 1"), "{}", bad.stderr);

    let rules = json(db, &["rules", "list", "--json"]);
    // Migration 0014's defaults: CoCM 2025 and 2026, general BHI 2025 and 2026, APCM 2026.
    let keys: Vec<String> =
        rules.as_array().unwrap().iter().map(|s| format!("{}/{}", s["program"].as_str().unwrap(), s["effective_year"])).collect();
    assert_eq!(keys, ["cocm/2025", "cocm/2026", "general-bhi/2025", "general-bhi/2026", "apcm-bhi/2026"]);
    let mut r2027 = rules[1]["rules"].clone();
    r2027["fees"]["99492"] = serde_json::json!(170.0);
    let file = t.dir.path().join("2027.json");
    std::fs::write(&file, r2027.to_string()).unwrap();
    ok(db, &["--as", "Lee Lead", "rules", "set", "--year", "2027", "--file", file.to_str().unwrap()]);
    let rules = json(db, &["rules", "list", "--json"]);
    assert_eq!((&rules[2]["program"], &rules[2]["effective_year"]), (&serde_json::json!("cocm"), &serde_json::json!(2027)));
    assert_eq!(rules[2]["rules"]["fees"]["99492"], 170.0);
    let table = ok(db, &["rules", "list"]);
    assert!(table.contains("G2214 16+ · 99492 36+ · 99494 86+ each 30"), "{table}");
}

/// Runs a command that must fail with `code` and a message containing `says`, and proves the
/// registry's content is unchanged.
fn rejects(db: &Path, args: &[&str], code: &str, says: &str) {
    let before = dump(db);
    let out = cocm(db, args);
    assert!(!out.ok, "cocm {args:?} should fail");
    let line = out.stderr.trim();
    assert_eq!(line.lines().count(), 1, "one line: {line}");
    assert!(line.starts_with(&format!("error[{code}]")), "cocm {args:?}: expected {code}, got: {line}");
    assert!(line.contains(says), "cocm {args:?}: expected '{says}' in: {line}");
    assert_eq!(dump(db), before, "cocm {args:?} changed the registry");
}

#[test]
fn bad_input_is_a_clear_error_and_changes_nothing() {
    let (t, _) = practice();
    let db = t.path.as_path();
    ok(db, &["patient", "add", "--mrn", "N1", "--name", "Never Enrolled", "--dob", "1990-01-01"]);
    let phq = |items: &'static str| ["assess", "P1", "--date", "2026-02-01", "--instrument", "phq9", "--items", items];
    rejects(db, &phq("1,1,1,1,1,1,1,1"), "validation", "items: item 9 is missing");
    rejects(db, &phq("1,1,1,1,1,1,1,1,1,1"), "validation", "item 10 is extra");
    rejects(db, &phq("1,1,4,1,1,1,1,1,1"), "validation", "item 3: answer 4 is outside 0–3");
    rejects(db, &phq("1,1,1,x,1,1,1,1,1"), "validation", "item 4: 'x' is not an answer");
    rejects(
        db,
        &["assess", "P1", "--date", "2026-02-01", "--instrument", "phq8", "--items", "1"],
        "validation",
        "instrument: must be one of phq9, gad7",
    );
    rejects(
        db,
        &["assess", "ZZ", "--date", "2026-02-01", "--instrument", "phq9", "--items", "1,1,1,1,1,1,1,1,1"],
        "not_found",
        "no patient with MRN 'ZZ'",
    );
    rejects(db, &["contact", "P1", "--date", "2026-02-01", "--minutes", "20", "--by", "Nobody"], "validation", "by: no team member");
    rejects(db, &["patient", "add", "--mrn", "P1", "--name", "Dup", "--dob", "1970-01-01"], "conflict", "MRN 'P1' already exists");
    rejects(
        db,
        &["contact", "P1", "--date", "2026-02-30", "--minutes", "20", "--by", "Casey CM"],
        "validation",
        "date: '2026-02-30' is not a date",
    );
    rejects(
        db,
        &["contact", "P1", "--date", "2099-01-01", "--minutes", "20", "--by", "Casey CM"],
        "validation",
        "date: 2099-01-01 is in the future",
    );
    rejects(
        db,
        &["assess", "P1", "--date", "1960-01-01", "--instrument", "phq9", "--items", "1,1,1,1,1,1,1,1,1"],
        "validation",
        "before Pat One's date of birth",
    );
    rejects(
        db,
        &["patient", "add", "--mrn", "P9", "--name", "Future", "--dob", "2099-01-01"],
        "validation",
        "dob: 2099-01-01 is in the future",
    );
    rejects(
        db,
        &["contact", "P1", "--date", "2026-02-01", "--minutes", "0", "--by", "Casey CM"],
        "validation",
        "minutes: must be from 1 to 600 (got 0)",
    );
    rejects(
        db,
        &["contact", "P1", "--date", "2026-02-01", "--minutes", "601", "--by", "Casey CM"],
        "validation",
        "minutes: must be from 1 to 600 (got 601)",
    );
    rejects(db, &["contact", "P1", "--date", "2026-02-01", "--minutes", "-5", "--by", "Casey CM"], "validation", "minutes");
    rejects(
        db,
        &["contact", "P1", "--date", "2026-02-01", "--minutes", "ten", "--by", "Casey CM"],
        "validation",
        "minutes: 'ten' is not a whole number",
    );
    rejects(db, &["enroll", "P1", "--date", "2026-02-01"], "conflict", "already has an open episode");
    rejects(db, &["contact", "N1", "--date", "2026-02-01", "--minutes", "20", "--by", "Casey CM"], "conflict", "was never enrolled");
    rejects(
        db,
        &["assess", "N1", "--date", "2026-02-01", "--instrument", "gad7", "--items", "1,1,1,1,1,1,1"],
        "conflict",
        "was never enrolled",
    );
    rejects(
        db,
        &["review", "P1", "--by", "Casey CM", "--date", "2026-02-01"],
        "validation",
        "by: a case review is for a psychiatric-consultant",
    );
    rejects(
        db,
        &["status", "P1", "--to", "discharged", "--date", "2026-02-01", "--reason", "goals-met"],
        "validation",
        "relapse-prevention before discharge",
    );
    rejects(db, &["status", "P1", "--to", "discharged", "--date", "2026-02-01"], "validation", "reason: a discharge needs a reason");
    rejects(db, &["status", "P1", "--to", "active", "--date", "2026-02-01"], "conflict", "already active");
    rejects(db, &["status", "P1", "--to", "paused", "--date", "2026-02-01"], "validation", "to: must be one of");
    rejects(
        db,
        &["status", "P1", "--to", "relapse-prevention", "--date", "2025-12-01"],
        "validation",
        "before the episode's last status change",
    );
    rejects(db, &["void", "contact", "00000000-0000-0000-0000-000000000000", "--reason", "typo"], "not_found", "no contact with id");
    rejects(db, &["team", "add", "--name", "X", "--role", "nurse"], "validation", "role: must be one of");
    rejects(db, &["billing", "--month", "2026-13"], "validation", "month: '2026-13' is not a month");
}

#[test]
fn files_that_are_not_registries_are_refused_unchanged() {
    let t = TempRegistry::new();
    std::fs::write(&t.path, b"this is a spreadsheet, not a registry").unwrap();
    let before = std::fs::read(&t.path).unwrap();
    let out = cocm(&t.path, &["caseload"]);
    assert!(!out.ok && out.stderr.starts_with("error[incompatible]") && out.stderr.contains("is not a CoCM registry"), "{}", out.stderr);
    assert_eq!(std::fs::read(&t.path).unwrap(), before, "the file is byte-for-byte unchanged");

    // A SQLite file of another application.
    let other = t.dir.path().join("other.sqlite");
    rusqlite::Connection::open(&other).unwrap().execute_batch("CREATE TABLE x (a); INSERT INTO x VALUES (1);").unwrap();
    let before = dump(&other);
    let out = cocm(&other, &["caseload"]);
    assert!(!out.ok && out.stderr.contains("another application"), "{}", out.stderr);
    assert_eq!(dump(&other), before);
}

#[test]
fn a_registry_from_a_newer_version_is_refused_unchanged() {
    let (t, _) = practice();
    let db = t.path.as_path();
    let conn = common::raw(db);
    conn.execute_batch("PRAGMA query_only = OFF; PRAGMA user_version = 99;").unwrap();
    drop(conn);
    let before = dump(db);
    let out = cocm(db, &["caseload"]);
    assert!(!out.ok && out.stderr.starts_with("error[incompatible]") && out.stderr.contains("newer version"), "{}", out.stderr);
    assert_eq!(dump(db), before);
}

#[test]
fn void_stops_a_record_counting() {
    let (t, _) = practice();
    let db = t.path.as_path();
    let c = ok(db, &["contact", "P1", "--date", "2026-01-06", "--minutes", "40", "--by", "Casey CM"]);
    assert_eq!(json(db, &["billing", "--month", "2026-01", "--json"])[0]["minutes"], 40);
    ok(db, &["void", "contact", &c, "--reason", "Logged for the wrong patient"]);
    let row = &json(db, &["billing", "--month", "2026-01", "--json"])[0];
    assert_eq!(row["minutes"], 0);
    assert_eq!(row["excluded"], serde_json::json!([{ "reason": "entered-in-error", "minutes": 40 }]));
    let again = cocm(db, &["void", "contact", &c, "--reason", "again"]);
    assert!(!again.ok && again.stderr.starts_with("error[conflict]"), "{}", again.stderr);
}

#[test]
fn the_security_commands_bad_input_is_one_line_and_changes_nothing() {
    let (t, _) = practice();
    let db = t.path.as_path();
    let existing = t.dir.path().join("existing.sqlite");
    std::fs::write(&existing, b"x").unwrap();
    let existing = existing.to_str().unwrap();
    let keys = cocm::keyring::key_file_path(db);
    // (arguments, environment, error code, what the message says)
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["team", "password", "Nobody"],
            vec![("COCM_NEW_PASSWORD", "a-good-password-1")],
            "validation",
            "member: no team member with id or name 'Nobody'",
        ),
        (
            vec!["team", "password", "Dr PCP"],
            vec![("COCM_NEW_PASSWORD", "short")],
            "validation",
            "new password: a password has at least 12 characters",
        ),
        (
            vec!["team", "password", "Dr PCP"],
            vec![("COCM_NEW_PASSWORD", "dr-pcp-2026-pass")],
            "validation",
            "may not contain the member's name",
        ),
        (vec!["team", "password", "Dr PCP"], vec![("COCM_NEW_PASSWORD", "Password1234")], "validation", "list of common passwords"),
        (
            vec!["--as", "Casey CM", "team", "password", "Dr PCP"],
            vec![("COCM_NEW_PASSWORD", "a-good-password-1")],
            "permission_denied",
            "is for a practice-lead",
        ),
        (vec!["team", "unlock", "Dr PCP"], vec![], "not_found", "Dr PCP has no account to unlock"),
        (vec!["--as", "Casey CM", "team", "unlock", "Casey CM"], vec![], "permission_denied", "is for a practice-lead"),
        (vec!["team", "revoke", CLI_LEAD], vec![], "validation", "you cannot remove your own account"),
        (vec!["team", "revoke", "Dr Psy"], vec![], "not_found", "Dr Psy has no account to remove"),
        (vec!["--as", "Casey CM", "rekey"], vec![], "permission_denied", "is for a practice-lead"),
        (vec!["encrypt", "--lead", CLI_LEAD], vec![], "conflict", "is already encrypted"),
        (vec!["export", "sqlite", "--out", existing], vec![], "conflict", "already exists"),
        (
            vec!["--as", "Casey CM", "export", "sqlite", "--out", "/tmp/never-written.sqlite"],
            vec![],
            "permission_denied",
            "exporting registry data is for a practice-lead",
        ),
        (vec!["init", "--practice", "Again", "--lead", CLI_LEAD], vec![], "conflict", "already exists"),
        (vec!["audit", "--patient", "NOPE"], vec![], "not_found", "no patient with MRN 'NOPE'"),
        (vec!["--recovery-key", "caseload"], vec![("COCM_RECOVERY_KEY", "not-a-key")], "auth", "a recovery key is 64 hexadecimal digits"),
    ];
    for (args, env, code, says) in cases {
        let before = common::dump_skipping(db, &["sign-in", "sign-out", "refused"]);
        let slots_before = serde_json::from_slice::<serde_json::Value>(&std::fs::read(&keys).unwrap()).unwrap()["slots"].clone();
        let out = common::cocm_with(db, &args, &env);
        assert!(!out.ok, "cocm {args:?} should fail");
        let line = out.stderr.trim();
        assert_eq!(line.lines().count(), 1, "one line: {line}");
        assert!(line.starts_with(&format!("error[{code}]")) && line.contains(says), "cocm {args:?}: expected {code} '{says}', got: {line}");
        assert_eq!(common::dump_skipping(db, &["sign-in", "sign-out", "refused"]), before, "cocm {args:?} changed the registry");
        let slots_after = serde_json::from_slice::<serde_json::Value>(&std::fs::read(&keys).unwrap()).unwrap()["slots"].clone();
        assert_eq!(slots_after, slots_before, "cocm {args:?} changed an account");
    }
    assert!(!std::path::Path::new("/tmp/never-written.sqlite").exists());
}

#[test]
fn a_ptsd_episode_on_the_pcl5_from_enrolment_to_improved() {
    let (t, _) = practice();
    let db = t.path.as_path();
    // The catalogue is listed without a registry, and names every target's default scale.
    let listing =
        serde_json::from_str::<serde_json::Value>(&ok(Path::new("/nonexistent/registry.cocm"), &["instruments", "--json"])).unwrap();
    let ids: Vec<&str> = listing["instruments"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["phq9", "gad7", "phq-a", "pcl5", "psc17", "smfq-c", "smfq-p", "scared-c", "scared-p", "phq2", "gad2", "auditc"]);
    let ptsd = listing["target_defaults"].as_array().unwrap().iter().find(|d| d["target"] == "ptsd").unwrap();
    assert_eq!(ptsd["adult"], "pcl5");
    let pcl5 = ok(db, &["instruments", "pcl5"]);
    assert!(pcl5.contains("PCL-5") && pcl5.contains("20. ") && pcl5.contains("improved at ≥ 12 points"), "{pcl5}");

    ok(db, &["patient", "add", "--mrn", "T1", "--name", "Trauma Patient", "--dob", "1985-06-01"]);
    // A scale that measures no target of the episode is refused, and nothing changes.
    rejects(
        db,
        &["enroll", "T1", "--date", "2026-03-02", "--targets", "ptsd", "--primary-scale", "gad7"],
        "validation",
        "primary-scale: gad7 measures anxiety",
    );
    rejects(
        db,
        &["enroll", "T1", "--date", "2026-03-02", "--targets", "ptsd", "--primary-scale", "epds"],
        "validation",
        "primary-scale: must be one of",
    );
    ok(db, &["enroll", "T1", "--date", "2026-03-02", "--consent", "2026-03-02", "--targets", "ptsd", "--primary-scale", "pcl5"]);

    // The PCL-5's 20 items answered 0–4; a 5 is refused naming the item.
    let pcl = |date: &str, items: &str| ok(db, &["assess", "T1", "--date", date, "--instrument", "pcl5", "--items", items]);
    rejects(
        db,
        &["assess", "T1", "--date", "2026-03-03", "--instrument", "pcl5", "--items", "5,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0"],
        "validation",
        "item 1: answer 5 is outside 0–4",
    );
    // 48 = eight 4s and eight 2s (32 + 16) and four 0s.
    pcl("2026-03-03", "4,4,4,4,4,4,4,4,2,2,2,2,2,2,2,2,0,0,0,0");
    // 37 = 32 + 2 + 2 + 1: 48 less 11, not the 12 points improvement needs.
    pcl("2026-04-01", "4,4,4,4,4,4,4,4,2,2,1,0,0,0,0,0,0,0,0,0");
    let row = |as_of: &str| {
        let rows = json(db, &["caseload", "--json", "--as-of", as_of]);
        rows.as_array().unwrap().iter().find(|r| r["mrn"] == "T1").unwrap().clone()
    };
    let m = &row("2026-04-02")["measures"][0];
    assert_eq!((m["target"].as_str(), m["instrument"].as_str(), m["count"].as_u64()), (Some("ptsd"), Some("pcl5"), Some(2)));
    assert_eq!((m["baseline"].as_u64(), m["latest"].as_u64(), m["improved"].as_bool()), (Some(48), Some(37), Some(false)));
    // 36 = 32 + 2 + 2: 12 points below 48, improved; not below 33, so no remission.
    pcl("2026-04-15", "4,4,4,4,4,4,4,4,2,2,0,0,0,0,0,0,0,0,0,0");
    let m = &row("2026-04-16")["measures"][0];
    assert_eq!((m["latest"].as_u64(), m["improved"].as_bool(), m["remission"].as_bool()), (Some(36), Some(true), Some(false)));
    // 32, below 33: remission.
    pcl("2026-05-01", "4,4,4,4,4,4,4,4,0,0,0,0,0,0,0,0,0,0,0,0");
    let r = row("2026-05-02");
    assert_eq!((r["measures"][0]["remission"].as_bool(), r["remission"].as_bool()), (Some(true), Some(true)));
    assert_eq!(
        (r["phq9"].clone(), r["gad7"].clone()),
        (serde_json::Value::Null, serde_json::Value::Null),
        "phq9 and gad7 stay as they are"
    );

    // The thresholds are the practice's (spec §3a: defaults are practice settings). A lead who
    // puts the PCL-5's remission line at 30 sees the 32 of 1 May no longer count.
    ok(db, &["settings", "set", "pcl5.remission_below", "30"]);
    assert_eq!(row("2026-05-02")["measures"][0]["remission"].as_bool(), Some(false), "32 is not below 30");
    // With 11 points as the practice's improvement, 48 → 37 (11 points) is improved on 2 April.
    ok(db, &["settings", "set", "pcl5.improvement_points", "11"]);
    assert_eq!(row("2026-04-02")["measures"][0]["improved"].as_bool(), Some(true));
    let listed = json(db, &["settings", "list", "--json"]);
    assert_eq!(listed["instrument_rules"]["pcl5"]["remission_below"], 30);
    assert_eq!(listed["instrument_rules"]["phq9"]["remission_below"], 5, "the other forms keep their defaults");
    let table = ok(db, &["settings", "list"]);
    assert!(
        table.lines().any(|l| l.starts_with("pcl5.remission_below") && l.contains("30") && l.contains("33") && l.contains("changed")),
        "{table}"
    );
    // Refusals name the field and change nothing.
    rejects(db, &["settings", "set", "pcl5.improvement_percent", "50"], "validation", "PCL-5 has no threshold 'improvement_percent'");
    rejects(
        db,
        &["settings", "set", "pcl5.remission_below", "81"],
        "validation",
        "pcl5.remission_below: must be a whole number from 0 to 80",
    );
    rejects(db, &["settings", "set", "pcl5.improvement_points", "0"], "validation", "from 1 to 80");
    rejects(db, &["settings", "set", "phq9.improvement_percent", "101"], "validation", "from 1 to 100");
    rejects(db, &["settings", "set", "pcl5.remission_below", "thirty"], "validation", "must be a whole number or 'default'");
    rejects(db, &["settings", "set", "epds.remission_below", "10"], "validation", "'epds' is no instrument of the catalogue");
    assert_eq!(json(db, &["settings", "list", "--json"]), listed);
    // Back to the defaults, by name or by value: the PCL-5 judges as the catalogue says again.
    ok(db, &["settings", "set", "pcl5.remission_below", "default"]);
    ok(db, &["settings", "set", "pcl5.improvement_points", "12"]);
    assert_eq!(row("2026-05-02")["measures"][0]["remission"].as_bool(), Some(true));
    assert_eq!(row("2026-04-02")["measures"][0]["improved"].as_bool(), Some(false));
    let audit = json(db, &["audit", "--json", "--limit", "30"]);
    let changed: Vec<(&str, &str, &str)> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["record_type"] == "setting")
        .map(|e| (e["record_id"].as_str().unwrap(), e["details"]["from"].as_str().unwrap(), e["details"]["to"].as_str().unwrap()))
        .collect();
    // Newest first: each change audited with its effective value before and after.
    assert_eq!(
        changed,
        [
            ("pcl5.improvement_points", "11", "12"),
            ("pcl5.remission_below", "30", "33"),
            ("pcl5.improvement_points", "12", "11"),
            ("pcl5.remission_below", "33", "30")
        ]
    );

    // A lead's correction of the scale comes too late once it has scored twice, and changes nothing.
    rejects(
        db,
        &["primary-scale", "T1", "--target", "ptsd", "--scale", "pcl5"],
        "validation",
        "scale: pcl5 is already ptsd's primary scale",
    );
    rejects(db, &["primary-scale", "T1", "--target", "depression", "--scale", "phq9"], "validation", "target: depression is not a target");
    rejects(db, &["primary-scale", "T1", "--target", "ptsd", "--scale", "psc17"], "validation", "scale: psc17 does not measure ptsd");

    // Before a second score on it, the lead corrects a scale; then it is fixed.
    ok(db, &["patient", "add", "--mrn", "T2", "--name", "Teen Patient", "--dob", "1990-06-01"]);
    ok(db, &["enroll", "T2", "--date", "2026-03-02", "--targets", "depression"]);
    ok(db, &["assess", "T2", "--date", "2026-03-03", "--instrument", "phq9", "--items", "1,1,1,1,1,1,1,1,0"]);
    ok(db, &["primary-scale", "T2", "--target", "depression", "--scale", "phq-a"]);
    let chart = json(db, &["patient", "show", "T2", "--json", "--as-of", "2026-03-04"]);
    assert_eq!(chart["episodes"][0]["primary_scales"], serde_json::json!([{ "target": "depression", "scale": "phq-a" }]));
    for date in ["2026-03-04", "2026-03-20"] {
        ok(db, &["assess", "T2", "--date", date, "--instrument", "phq-a", "--items", "1,1,1,1,1,1,1,1,0,0,0,0,0"]);
    }
    rejects(db, &["primary-scale", "T2", "--target", "depression", "--scale", "phq9"], "conflict", "already has 2 scores on PHQ-A");

    // `cocm status` prints the new status change's id, a UUID like every other record's.
    let id = ok(db, &["status", "T1", "--to", "relapse-prevention", "--date", "2026-05-02"]);
    assert!(uuid::Uuid::parse_str(id.trim()).is_ok(), "{id}");
    ok(db, &["void", "status-change", id.trim(), "--reason", "wrong patient"]);
}

#[test]
fn a_lead_sets_a_members_npi_credential_and_fte_and_bad_values_change_nothing() {
    let (t, _) = practice();
    let db = t.path.as_path();
    let member = |name: &str| {
        let team = json(db, &["team", "list", "--json"]);
        team.as_array().unwrap().iter().find(|m| m["name"] == name).unwrap().clone()
    };
    let lead = CLI_LEAD;
    // Nothing set yet: the attributes are absent, not made up.
    assert!(member(lead).get("npi").is_none());
    // 1234567893 is a valid NPI (its check digit worked by hand in team.rs); 0.6 FTE.
    ok(db, &["team", "edit", lead, "--npi", "1234567893", "--credential", "physician", "--cocm-fte", "0.6"]);
    let m = member(lead);
    assert_eq!((m["npi"].as_str(), m["credential"].as_str(), m["cocm_fte"].as_f64()), (Some("1234567893"), Some("physician"), Some(0.6)));
    // Each refusal names its field, and leaves the member as they were.
    rejects(
        db,
        &["team", "edit", lead, "--npi", "1234567890"],
        "validation",
        "npi: 1234567890 is not a valid NPI: its check digit would be 3",
    );
    rejects(db, &["team", "edit", lead, "--npi", "123456789"], "validation", "npi: an NPI is 10 digits");
    rejects(db, &["team", "edit", lead, "--credential", "surgeon"], "validation", "credential: must be one of physician");
    rejects(db, &["team", "edit", lead, "--cocm-fte", "1.5"], "validation", "cocm-fte: a CoCM FTE is from 0 to 1");
    rejects(db, &["team", "edit", lead, "--cocm-fte", "0.333"], "validation", "at most two decimals");
    rejects(db, &["team", "edit", lead, "--npi", "1234567893", "--cocm-fte", "2"], "validation", "cocm-fte");
    rejects(db, &["team", "edit", "Nobody", "--npi", "1234567893"], "validation", "member: no team member");
    // The table gains its columns at the end; an empty value clears one; each change audited.
    let table = ok(db, &["team", "list"]);
    assert!(table.lines().next().unwrap().trim_end().ends_with("COCM FTE"), "{table}");
    ok(db, &["team", "edit", lead, "--npi", ""]);
    assert!(member(lead).get("npi").is_none() && member(lead)["cocm_fte"] == 0.6);
    let log = json(db, &["audit", "--json", "--limit", "80"]);
    let edits = log.as_array().unwrap().iter().filter(|e| e["record_type"] == "team_member" && e["action"] == "update").count();
    assert_eq!(edits, 2);
}
