//! Audit controls and backups: reads and exports are audited, the audit chain shows a row
//! changed or removed, `audit --patient` lists who touched a record, and a backup made while the
//! registry is in use opens with the same passwords, verifies, and restores.

mod common;

use cocm::Registry;
use cocm::backup::{restore, verify_file};
use cocm::keyring::key_file_path;
use cocm::reviews::NewReviewRequest;
use common::{
    BACK_TO_SCHEMA_9, CLI_LEAD, PASSWORD, TempRegistry, add_patient, cli_account, cocm, cocm_with, contact, d, dump, ok, raw, setup,
    sign_in_as,
};

fn tamper(path: &std::path::Path, sql: &str) {
    let conn = raw(path);
    conn.execute_batch(&format!("PRAGMA query_only = OFF; {sql}")).unwrap();
}

#[test]
fn the_audit_chain_names_the_first_row_changed_or_removed() {
    let (t, mut r) = setup();
    contact(&mut r, "P1", "2025-11-10", 20, "CM");
    contact(&mut r, "P1", "2025-11-11", 25, "CM");
    assert!(r.verify().unwrap().ok, "{}", r.verify().unwrap().verdict);
    drop(r);
    let seq_of = |action: &str, minutes: i64| -> i64 {
        raw(&t.path)
            .query_row(
                "SELECT seq FROM audit_log WHERE action = ?1 AND record_type = 'contact' AND json_extract(details, '$.minutes') = ?2",
                (action, minutes),
                |r| r.get(0),
            )
            .unwrap()
    };
    let first = seq_of("create", 20);

    // Someone with the key edits the minutes in the audit row of the first contact.
    tamper(&t.path, &format!("UPDATE audit_log SET details = replace(details, '\"minutes\":20', '\"minutes\":90') WHERE seq = {first}"));
    let report = verify_file(&t.path, "LEAD", PASSWORD).unwrap();
    assert!(!report.ok);
    assert_eq!(report.audit_chain.as_deref(), Some(format!("audit row {first} was changed after it was written").as_str()));
    assert!(report.verdict.starts_with("FAILED: "), "{}", report.verdict);

    // Or removes it: the next row no longer follows the one before.
    let (u, mut r) = setup();
    contact(&mut r, "P1", "2025-11-10", 20, "CM");
    contact(&mut r, "P1", "2025-11-11", 25, "CM");
    drop(r);
    let removed: i64 =
        raw(&u.path).query_row("SELECT seq FROM audit_log WHERE record_type = 'contact' ORDER BY seq LIMIT 1", [], |r| r.get(0)).unwrap();
    tamper(&u.path, &format!("DELETE FROM audit_log WHERE seq = {removed}"));
    let report = verify_file(&u.path, "LEAD", PASSWORD).unwrap();
    let broken = report.audit_chain.unwrap();
    assert!(broken.starts_with(&format!("audit row {} does not follow row {}", removed + 1, removed - 1)), "{broken}");

    // The CLI says the same in one line and fails.
    let out = cocm(&u.path, &["verify"]);
    assert!(
        !out.ok && out.stdout.starts_with("FAILED:") && out.stderr.starts_with("error[incompatible]: FAILED"),
        "{}{}",
        out.stdout,
        out.stderr
    );
}

#[test]
fn a_file_written_before_the_chain_is_chained_when_it_opens() {
    let (t, r) = setup();
    drop(r);
    // As schema 5 left it: no hash columns, no backup_keep; and what later migrations add
    // undone too (0007's new index, 0008's column, 0009's table, 0010 and 0011), since opening
    // applies them again.
    tamper(
        &t.path,
        &format!(
            "{BACK_TO_SCHEMA_9}
             ALTER TABLE audit_log DROP COLUMN prev_hash; ALTER TABLE audit_log DROP COLUMN hash;
             DELETE FROM settings WHERE key = 'backup_keep'; DROP INDEX contacts_live_by_episode;
             ALTER TABLE assessments DROP COLUMN total_only; DROP TABLE import_mappings; PRAGMA user_version = 5;"
        ),
    );
    let r = Registry::sign_in(&t.path, "LEAD", PASSWORD, None).unwrap();
    let report = r.verify().unwrap();
    assert!(report.ok, "{}", report.verdict);
}

#[test]
fn opening_a_chart_and_exporting_are_audited_and_audit_patient_lists_them() {
    let (t, mut lead) = setup();
    let mut cm = sign_in_as(&mut lead, "CM");
    contact(&mut cm, "P1", "2025-11-10", 20, "CM");
    cm.patient_chart("P1", d("2025-11-12")).unwrap();
    cm.patient_chart("P1", d("2025-11-12")).unwrap(); // the same view again: one row
    let mut psy = sign_in_as(&mut lead, "PSY");
    psy.patient_chart("P1", cocm::dates::today()).unwrap();
    // The care manager's open chart reloads after the consultant saves (a practice server's
    // live update): still the same sitting, so no new row. Another chart, then P1 again, is.
    psy.request_review("P1", &NewReviewRequest { date: Some("2025-11-13".into()), by: "PSY".into(), reason: "Why".into() }).unwrap();
    cm.patient_chart("P1", d("2025-11-12")).unwrap();
    add_patient(&mut lead, "P2");
    cm.patient_chart("P2", d("2025-11-12")).unwrap();
    cm.patient_chart("P1", d("2025-11-12")).unwrap();
    // Exports are a practice lead's: the care manager's is refused (and audited as refused).
    assert_eq!(cm.record_export("billing-csv", serde_json::json!({})).unwrap_err().code(), "permission_denied");
    lead.record_export("billing-csv", serde_json::json!({ "month": "2025-11" })).unwrap();

    let trail: Vec<(String, String)> = lead.patient_audit("P1").unwrap().into_iter().map(|e| (e.actor, e.action)).collect();
    let expected: Vec<(String, String)> = [
        ("LEAD", "create"), // the patient
        ("LEAD", "enroll"), // the episode, with its consent
        ("CM", "create"),   // the contact
        ("CM", "view"),     // the chart, once
        ("PSY", "view"),
        ("PSY", "create"), // the review request; the care manager's reload after it is no new view
        ("CM", "view"),    // after P2's chart
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(trail, expected);
    assert_eq!(lead.patient_audit("NOPE").unwrap_err().code(), "not_found");

    // Through the CLI, and the CSV is an audited export refused to a care manager.
    drop((cm, psy, lead));
    let out = cocm(&t.path, &["audit", "--patient", "P1"]);
    assert!(out.ok && out.stdout.contains("PSY") && out.stdout.contains("view"), "{}", out.stderr);
    let cm_csv = cocm_with(&t.path, &["billing", "--month", "2025-11", "--csv"], &[("COCM_AS", "CM")]);
    assert!(
        !cm_csv.ok && cm_csv.stderr.starts_with("error[permission_denied]: exporting registry data is for a practice-lead"),
        "{}",
        cm_csv.stderr
    );
    assert!(cm_csv.stdout.is_empty(), "nothing exported");
}

#[test]
fn a_backup_made_while_writing_opens_with_the_same_passwords_verifies_and_restores() {
    let (t, mut lead) = setup();
    let mut cm = sign_in_as(&mut lead, "CM");
    contact(&mut cm, "P1", "2025-11-10", 20, "CM");
    // A write is in progress in another handle while the backup runs (WAL, not checkpointed).
    let backup = t.dir.path().join("copies").join("monday.cocm");
    lead.backup_to(&backup).unwrap();
    contact(&mut cm, "P1", "2025-11-11", 30, "CM"); // after the backup: not in it
    assert!(key_file_path(&backup).exists());
    assert_eq!(lead.backup_to(&backup).unwrap_err().code(), "conflict", "never overwrites");

    // Encrypted like the registry: no patient name in its bytes, the CM's password opens it.
    let bytes = std::fs::read(&backup).unwrap();
    assert!(!bytes.windows(10).any(|w| w == b"Patient P1"));
    let report = verify_file(&backup, "CM", PASSWORD).unwrap();
    assert!(report.ok, "{}", report.verdict);

    // Restore to a new path; the restored registry has the first contact, not the second.
    let restored = t.dir.path().join("restored.cocm");
    let r = restore(&backup, &restored, "LEAD", PASSWORD).unwrap();
    let minutes: Vec<i64> = r.patient_chart("P1", d("2025-11-30")).unwrap().contacts.iter().map(|c| c.minutes).collect();
    assert_eq!(minutes, [20]);
    assert_eq!(restore(&backup, &restored, "LEAD", PASSWORD).err().unwrap().code(), "conflict");
    assert_eq!(restore(&backup, &t.dir.path().join("x.cocm"), "LEAD", "wrong-password-1").err().unwrap().code(), "auth");
}

#[test]
fn daily_backups_keep_the_newest_backup_keep() {
    let (t, mut lead) = setup();
    lead.set_setting("backup_keep", "2").unwrap();
    let mut made = Vec::new();
    for day in ["2026-11-20", "2026-11-21", "2026-11-22"] {
        made.push(lead.backup_daily(d(day)).unwrap().expect("a new day's backup"));
    }
    assert_eq!(lead.backup_daily(d("2026-11-22")).unwrap(), None, "one a day");
    let dir = t.path.parent().unwrap().join("backups");
    let mut names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        ["registry-2026-11-21.cocm", "registry-2026-11-21.cocm.keys", "registry-2026-11-22.cocm", "registry-2026-11-22.cocm.keys"]
    );
}

#[test]
fn the_daily_backup_runs_on_a_second_handle_while_the_first_writes() {
    let (t, mut lead) = setup();
    for day in 5..=20 {
        contact(&mut lead, "P1", &format!("2025-11-{day:02}"), 20, "CM");
    }
    // The app's way: the backup in another thread, the member working on meanwhile.
    let mut handle = lead.second_handle().unwrap();
    let backup = std::thread::spawn(move || handle.backup_daily(d("2026-11-23")));
    for day in 21..=30 {
        contact(&mut lead, "P1", &format!("2025-11-{day:02}"), 20, "CM");
    }
    let made = backup.join().unwrap().unwrap().expect("today's backup");
    assert_eq!(lead.second_handle().unwrap().backup_daily(d("2026-11-23")).unwrap(), None, "still one a day");
    // Whole, consistent, and its audit row chained with the member's writes around it.
    assert!(made.ends_with("registry-2026-11-23.cocm") && !made.with_file_name("registry-2026-11-23.partial.cocm").exists());
    let report = cocm::backup::verify_file(&made, "LEAD", PASSWORD).unwrap();
    assert!(report.ok, "{}", report.verdict);
    let report = lead.verify().unwrap();
    assert!(report.ok, "{}", report.verdict);
    assert_eq!(lead.read_audit_log(100).unwrap().iter().filter(|e| e.action == "backup").count(), 1);
    drop(t);
}

#[test]
fn cli_backup_verify_restore_and_their_bad_input() {
    let t = TempRegistry::new();
    let db = t.path.as_path();
    ok(db, &["init", "--practice", "Clinic", "--lead", CLI_LEAD]);
    ok(db, &["team", "add", "--name", "Casey CM", "--role", "care-manager"]);
    cli_account(db, "Casey CM");
    let copy = t.dir.path().join("copy.cocm");
    let copy_s = copy.to_str().unwrap();
    ok(db, &["--as", "Casey CM", "backup", "--to", copy_s]);
    let verdict = ok(db, &["verify", copy_s]);
    assert!(verdict.starts_with("ok: ") && verdict.contains("audit rows chain unbroken"), "{verdict}");
    assert!(ok(db, &["verify"]).starts_with("ok: "));
    let before = dump(db);
    for (args, code, says) in [
        (vec!["backup", "--to", copy_s], "conflict", "already exists"),
        (vec!["restore", copy_s, "--to", db.to_str().unwrap()], "conflict", "move the damaged registry"),
        (vec!["verify", "/nonexistent/x.cocm"], "not_found", "no registry at"),
        (vec!["restore", "/nonexistent/x.cocm", "--to", "/tmp/never.cocm"], "not_found", "no registry at"),
    ] {
        let out = cocm(db, &args);
        assert!(!out.ok && out.stderr.starts_with(&format!("error[{code}]")) && out.stderr.contains(says), "{args:?}: {}", out.stderr);
        assert_eq!(out.stderr.trim().lines().count(), 1);
    }
    assert_eq!(dump(db), before);
    let restored = t.dir.path().join("restored.cocm");
    ok(db, &["restore", copy_s, "--to", restored.to_str().unwrap()]);
    assert!(ok(&restored, &["team", "list"]).contains("Casey CM"));
}
