//! Trying to get past sign-in, the lockout and the encryption, as an attacker or a careless
//! user would: every attempt here must fail.

mod common;

use cocm::Registry;
use cocm::keyring::{RecoveryKey, key_file_path};
use cocm::patients::NewPatient;
use common::{FIRST_PASSWORD, PASSWORD, TempRegistry, cocm_with, dump, raw, setup, sign_in_as};

/// A patient whose name and MRN are easy to look for in raw bytes.
fn add_marked_patient(r: &mut Registry) {
    let p = NewPatient { mrn: "MRN-QX-73519".into(), name: "Zebulon Quixotic".into(), dob: "1970-01-01".into(), ..Default::default() };
    r.add_patient(&p).unwrap();
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn files_with_prefix(path: &std::path::Path) -> Vec<std::path::PathBuf> {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(&name))
        .collect()
}

#[test]
fn no_patient_name_or_mrn_in_the_file_its_wal_or_its_key_file() {
    let (t, mut r) = setup();
    add_marked_patient(&mut r);
    // The registry is still open, so the newest pages sit in the WAL.
    let wal = t.path.with_file_name("registry.cocm-wal");
    assert!(wal.exists() && std::fs::metadata(&wal).unwrap().len() > 0, "a WAL to look into");
    for file in files_with_prefix(&t.path) {
        let bytes = std::fs::read(&file).unwrap();
        for secret in ["Zebulon Quixotic", "MRN-QX-73519", "Patient P1"] {
            assert!(!contains(&bytes, secret), "{secret} readable in {}", file.display());
        }
    }
    // The search itself works: the plain export holds both.
    let plain = t.dir.path().join("plain.sqlite");
    r.export_plain_sqlite(&plain).unwrap();
    let bytes = std::fs::read(&plain).unwrap();
    assert!(contains(&bytes, "Zebulon Quixotic") && contains(&bytes, "MRN-QX-73519"));
}

#[test]
fn a_plain_sqlite_client_and_a_wrong_password_read_nothing() {
    let (t, mut r) = setup();
    add_marked_patient(&mut r);
    drop(r);
    let plain = rusqlite::Connection::open(&t.path).unwrap();
    let err = plain.query_row("SELECT count(*) FROM patients", [], |r| r.get::<_, i64>(0)).unwrap_err();
    assert!(err.to_string().contains("file is not a database"), "{err}");

    let wrong = Registry::sign_in(&t.path, "LEAD", "not-the-password", None).err().unwrap();
    assert_eq!(wrong.code(), "auth");
    assert_eq!(wrong.to_string(), "wrong password for LEAD (4 more wrong attempts lock the account for 15 minutes)");
    let missing = Registry::sign_in(&t.path, "LEAD", "", None).err().unwrap();
    assert_eq!(missing.to_string(), "a password is needed to open the registry");
    let nobody = Registry::sign_in(&t.path, "Mallory", PASSWORD, None).err().unwrap();
    assert_eq!((nobody.code(), nobody.to_string().as_str()), ("auth", "'Mallory' has no account in this registry"));

    // The key file moved to another copy of the registry with a different key opens nothing.
    let (other, _) = TempRegistry::created("Other");
    std::fs::copy(key_file_path(&other.path), key_file_path(&t.path)).unwrap();
    let mismatch = Registry::sign_in(&t.path, "LEAD", PASSWORD, None).err().unwrap();
    assert_eq!(mismatch.code(), "incompatible", "{mismatch}");
}

#[test]
fn five_wrong_passwords_lock_the_account_and_a_lead_unlocks_it() {
    let (t, mut lead) = setup();
    drop(sign_in_as(&mut lead, "CM"));
    let attempt = |password: &str| Registry::sign_in(&t.path, "CM", password, None).err().map(|e| e.to_string());
    // Wrong passwords 1–4 say how many are left; the 5th locks (lockout_attempts = 5).
    for left in (1..=4).rev() {
        let plural = if left == 1 { "" } else { "s" };
        assert_eq!(
            attempt("guess-guess-guess").unwrap(),
            format!("wrong password for CM ({left} more wrong attempt{plural} lock the account for 15 minutes)")
        );
    }
    assert_eq!(attempt("guess-guess-guess").unwrap(), "wrong password for CM; the account is now locked for 15 minutes");
    // Locked: the right password is refused too, and the account says so.
    assert!(attempt(PASSWORD).unwrap().starts_with("CM's account is locked after too many wrong passwords; try again in 15 minutes"));
    assert!(lead.accounts().unwrap().iter().any(|a| a.member_name == "CM" && a.locked_until.is_some()));
    // A care manager may not unlock; the lead may.
    let mut other = sign_in_as(&mut lead, "PSY");
    assert_eq!(other.unlock_account("CM").unwrap_err().code(), "permission_denied");
    lead.unlock_account("CM").unwrap();
    assert!(attempt(PASSWORD).is_none(), "unlocked");
    // Every failure, the lock, the refusal while locked and the unlock reached the audit log.
    let log: Vec<String> = lead
        .audit_log(30)
        .unwrap()
        .iter()
        .filter(|e| e.actor == "CM" || e.action == "account-unlocked")
        .map(|e| e.action.clone())
        .collect();
    assert_eq!(log.iter().filter(|a| *a == "sign-in-failed").count(), 5, "{log:?}");
    for action in ["account-locked", "sign-in-refused-locked", "account-unlocked", "sign-in"] {
        assert!(log.contains(&action.to_string()), "{action} in {log:?}");
    }
}

#[test]
fn a_lock_ends_after_lockout_minutes_and_the_settings_set_the_policy() {
    let (t, mut lead) = setup();
    drop(sign_in_as(&mut lead, "CM"));
    lead.set_setting("lockout_attempts", "3").unwrap();
    let attempt = |password: &str| Registry::sign_in(&t.path, "CM", password, None).err().map(|e| e.to_string());
    attempt("guess-guess-guess");
    assert_eq!(attempt("guess-guess-guess").unwrap(), "wrong password for CM (1 more wrong attempt lock the account for 15 minutes)");
    assert!(attempt("guess-guess-guess").unwrap().ends_with("now locked for 15 minutes"));
    // Fifteen minutes pass: the lock's end moves into the past, as the clock would move it.
    let keys = key_file_path(&t.path);
    let mut ring: serde_json::Value = serde_json::from_slice(&std::fs::read(&keys).unwrap()).unwrap();
    for slot in ring["slots"].as_array_mut().unwrap() {
        if slot["member_name"] == "CM" {
            slot["locked_until"] = "2020-01-01T00:00:00+00:00".into();
        }
    }
    std::fs::write(&keys, ring.to_string()).unwrap();
    assert!(attempt(PASSWORD).is_none(), "the lock has ended");
}

#[test]
fn a_password_a_lead_sets_must_be_changed_at_first_sign_in() {
    let (t, mut lead) = setup();
    lead.set_password("PSY", FIRST_PASSWORD).unwrap();
    let e = Registry::sign_in(&t.path, "PSY", FIRST_PASSWORD, None).err().unwrap();
    assert_eq!(e.code(), "password_change_required");
    // A new password that breaks the rules changes nothing: the old one still must be changed.
    let keys_before = std::fs::read(key_file_path(&t.path)).unwrap();
    for (bad, says) in
        [("short-one", "at least 12 characters"), ("call-me-psy-please", "the member's name"), ("password1234", "common passwords")]
    {
        let e = Registry::sign_in(&t.path, "PSY", FIRST_PASSWORD, Some(bad)).err().unwrap();
        assert!(e.code() == "validation" && e.to_string().contains(says), "{bad}: {e}");
    }
    let ring = |path| serde_json::from_slice::<serde_json::Value>(&std::fs::read(key_file_path(path)).unwrap()).unwrap()["slots"].clone();
    assert_eq!(ring(&t.path), serde_json::from_slice::<serde_json::Value>(&keys_before).unwrap()["slots"], "no slot changed");
    Registry::sign_in(&t.path, "PSY", FIRST_PASSWORD, Some(PASSWORD)).unwrap();
    assert_eq!(Registry::sign_in(&t.path, "PSY", FIRST_PASSWORD, None).err().unwrap().code(), "auth", "the lead's password is gone");
    assert_eq!(Registry::sign_in(&t.path, "PSY", PASSWORD, None).unwrap().actor().name, "PSY");
    // Only a lead sets another member's password; anyone changes their own.
    let mut psy = Registry::sign_in(&t.path, "PSY", PASSWORD, None).unwrap();
    assert_eq!(psy.set_password("CM", "another-good-one-1").unwrap_err().code(), "permission_denied");
    psy.change_own_password(PASSWORD, "second-choice-2026").unwrap();
    assert_eq!(psy.change_own_password(PASSWORD, "third-choice-2026").unwrap_err().code(), "auth", "the current password is checked");
}

#[test]
fn a_password_change_and_a_removed_account_keep_the_other_slots_working() {
    let (t, mut lead) = setup();
    drop(sign_in_as(&mut lead, "CM"));
    drop(sign_in_as(&mut lead, "PSY"));
    // CM changes their password: PSY's and the lead's slots are untouched and still open.
    let mut cm = Registry::sign_in(&t.path, "CM", PASSWORD, None).unwrap();
    cm.change_own_password(PASSWORD, "a-new-password-26").unwrap();
    drop(cm);
    Registry::sign_in(&t.path, "PSY", PASSWORD, None).unwrap();
    Registry::sign_in(&t.path, "CM", "a-new-password-26", None).unwrap();

    // PSY leaves: a copy of the key file taken before the removal is what a leaver could keep.
    let stolen = std::fs::read(key_file_path(&t.path)).unwrap();
    lead.remove_account("PSY").unwrap();
    add_marked_patient(&mut lead);
    drop(lead);
    assert_eq!(Registry::sign_in(&t.path, "PSY", PASSWORD, None).err().unwrap().code(), "auth", "no slot any more");
    Registry::sign_in(&t.path, "CM", "a-new-password-26", None).unwrap();
    Registry::sign_in(&t.path, "LEAD", PASSWORD, None).unwrap();
    // With their old slot put back, their password opens the slot, but its key no longer opens
    // the registry: the removal re-keyed it.
    let current = std::fs::read(key_file_path(&t.path)).unwrap();
    std::fs::write(key_file_path(&t.path), &stolen).unwrap();
    let e = Registry::sign_in(&t.path, "PSY", PASSWORD, None).err().unwrap();
    assert_eq!(e.code(), "incompatible", "{e}");
    std::fs::write(key_file_path(&t.path), current).unwrap();
    assert!(Registry::sign_in(&t.path, "LEAD", PASSWORD, None).unwrap().patient_chart("MRN-QX-73519", cocm::dates::today()).is_ok());
}

#[test]
fn the_recovery_key_opens_the_registry_and_resets_a_lost_lead_password() {
    let t = TempRegistry::new();
    let (r, recovery) = Registry::create(&t.path, "Clinic", "LEAD", PASSWORD).unwrap();
    drop(r);
    let typed = RecoveryKey::parse(&recovery.as_str().to_uppercase()).unwrap();
    let mut emergency = Registry::open_with_recovery_key(&t.path, &typed).unwrap();
    assert_eq!(emergency.actor().member_id, cocm::audit::RECOVERY_ACTOR_ID);
    emergency.set_password("LEAD", "a-reset-by-recovery").unwrap();
    emergency.rekey().unwrap();
    drop(emergency);
    // The recovery key survives the re-key; the lead chooses a new password at sign-in.
    Registry::open_with_recovery_key(&t.path, &recovery).unwrap();
    let lead = Registry::sign_in(&t.path, "LEAD", "a-reset-by-recovery", Some("my-own-again-2026")).unwrap();
    let actions: Vec<String> = lead.audit_log(10).unwrap().iter().map(|e| format!("{} {}", e.actor, e.action)).collect();
    assert!(actions.contains(&"recovery key recovery-key-used".to_string()), "{actions:?}");
    // Another registry's recovery key, and a mistyped one, open nothing.
    let (_other, other_recovery) = {
        let o = TempRegistry::new();
        let (_, k) = Registry::create(&o.path, "Other", "LEAD", PASSWORD).unwrap();
        (o, k)
    };
    assert_eq!(Registry::open_with_recovery_key(&t.path, &other_recovery).err().unwrap().code(), "auth");
    assert_eq!(RecoveryKey::parse("1234-abcd").err().unwrap().code(), "auth");
}

#[test]
fn an_interrupted_rekey_is_finished_by_the_next_sign_in() {
    let (t, mut lead) = setup();
    // A crash after `PRAGMA rekey` committed but before the new key file replaced the old one
    // leaves the old file (whose key no longer opens the registry) and `.keys.next`.
    let old = std::fs::read(key_file_path(&t.path)).unwrap();
    lead.rekey().unwrap();
    drop(lead);
    let next = cocm::keyring::next_key_file_path(&t.path);
    std::fs::rename(key_file_path(&t.path), &next).unwrap();
    std::fs::write(key_file_path(&t.path), old).unwrap();
    let r = Registry::sign_in(&t.path, "LEAD", PASSWORD, None).unwrap();
    assert_eq!(r.practice_name().unwrap(), "Test");
    assert!(!next.exists(), "the next key file took the old one's place");
}

#[test]
fn cli_sign_in_errors_are_one_auth_line_and_change_nothing() {
    let (t, r) = setup();
    drop(r);
    let before = dump(&t.path);
    for (env, says) in [
        (vec![("COCM_PASSWORD", "wrong-password-1")], "error[auth]: wrong password for LEAD"),
        (vec![("COCM_AS", "")], "error[auth]: say who is signing in: --as MEMBER (or $COCM_AS)"),
    ] {
        let out = cocm_with(&t.path, &["patient", "add", "--mrn", "X1", "--name", "X", "--dob", "1970-01-01"], &env);
        assert!(!out.ok, "{env:?}");
        assert!(out.stderr.starts_with(says) && out.stderr.trim().lines().count() == 1, "{}", out.stderr);
    }
    let no_password = std::process::Command::new(env!("CARGO_BIN_EXE_cocm"))
        .args(["--db", t.path.to_str().unwrap(), "--as", "LEAD", "caseload"])
        .env_remove("COCM_PASSWORD")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&no_password.stderr);
    assert!(stderr.starts_with("error[auth]: no password given: set $COCM_PASSWORD"), "{stderr}");
    // Only the failed attempts were recorded (in the key file, for the audit log), nothing else.
    assert_eq!(dump(&t.path), before);
    let conn = raw(&t.path);
    let patients: i64 = conn.query_row("SELECT count(*) FROM patients", [], |r| r.get(0)).unwrap();
    assert_eq!(patients, 1);
}

#[test]
fn cli_init_prints_the_recovery_key_once_and_it_opens_the_registry() {
    let t = TempRegistry::new();
    let out = cocm_with(&t.path, &["init", "--practice", "Clinic", "--lead", "Lee Lead"], &[]);
    assert!(out.ok, "{}", out.stderr);
    let key = out.stdout.lines().last().unwrap().trim().to_string();
    assert_eq!(key.len(), 71, "64 hex digits in 8 groups: {key}");
    let opened = cocm_with(&t.path, &["--recovery-key", "team", "list"], &[("COCM_RECOVERY_KEY", &key)]);
    assert!(opened.ok && opened.stdout.contains("Lee Lead"), "{}", opened.stderr);
    let wrong = cocm_with(&t.path, &["--recovery-key", "team", "list"], &[("COCM_RECOVERY_KEY", &key.replace('a', "b").replace('1', "2"))]);
    assert!(!wrong.ok && wrong.stderr.starts_with("error[auth]"), "{}", wrong.stderr);
    // A weak first password is refused before anything is created.
    let u = TempRegistry::new();
    let weak = cocm_with(&u.path, &["init", "--practice", "Clinic", "--lead", "Lee Lead"], &[("COCM_PASSWORD", "lee-lead-2026")]);
    assert!(!weak.ok && weak.stderr.contains("may not contain the member's name"), "{}", weak.stderr);
    assert!(!u.path.exists() && !key_file_path(&u.path).exists());
}

#[test]
fn a_page_changed_without_the_key_is_refused() {
    let (t, mut r) = setup();
    add_marked_patient(&mut r);
    drop(r); // the last connection closes: the WAL is folded into the file
    let mut bytes = std::fs::read(&t.path).unwrap();
    assert_eq!(bytes.len() % 16384, 0, "16 KiB pages");
    // One bit flipped in the middle of the last page, as a disk fault or a tamperer would.
    let offset = bytes.len() - 8192;
    bytes[offset] ^= 0x01;
    std::fs::write(&t.path, bytes).unwrap();
    match cocm::backup::verify_file(&t.path, "LEAD", PASSWORD) {
        Ok(report) => assert!(!report.ok, "a changed page verifies: {}", report.verdict),
        Err(e) => assert!(e.to_string().contains("not a database") || e.to_string().contains("malformed"), "{e}"),
    }
}

#[test]
fn the_registry_is_sqlcipher_4() {
    let (t, r) = setup();
    drop(r);
    let version: String = raw(&t.path).query_row("PRAGMA cipher_version", [], |r| r.get(0)).unwrap();
    assert!(version.starts_with("4."), "SQLCipher {version}");
    let page_size: String = raw(&t.path).query_row("PRAGMA cipher_page_size", [], |r| r.get(0)).unwrap();
    assert_eq!(page_size, "16384");
}
