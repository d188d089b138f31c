//! Helpers shared by the integration tests: temporary registries, a content dump to prove a
//! failed command changed nothing, and a runner for the real `cocm` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use cocm::Registry;
use cocm::assessments::NewAssessment;
use cocm::contacts::NewContact;
use cocm::dates::{Date, Month, parse_date};
use cocm::episodes::Enrolment;
use cocm::patients::NewPatient;
use cocm::vocab::Role;

pub struct TempRegistry {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl TempRegistry {
    /// A path in a fresh directory, no file created yet.
    pub fn new() -> TempRegistry {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("registry.cocm");
        TempRegistry { dir, path }
    }

    /// A new registry whose practice lead "LEAD" is signed in (password `PASSWORD`).
    pub fn created(practice: &str) -> (TempRegistry, Registry) {
        let t = TempRegistry::new();
        let (r, _recovery) = Registry::create(&t.path, practice, "LEAD", PASSWORD).expect("create registry");
        (t, r)
    }
}

/// Every test account's password once changed (12+ characters, not a common one).
pub const PASSWORD: &str = "test-password-12";
/// What a lead sets as a member's first password, before the member changes it.
pub const FIRST_PASSWORD: &str = "first-password-12";
/// The practice lead `cocm init` creates in the CLI tests, and `$COCM_AS` by default.
pub const CLI_LEAD: &str = "Lee Lead";

/// Gives `member` an account (the lead sets a first password, the member changes it to
/// `PASSWORD` at first sign-in) unless they have one, and signs them in.
pub fn sign_in_as(lead: &mut Registry, member: &str) -> Registry {
    let path = lead.path().to_path_buf();
    let m = lead.find_member("member", member).unwrap();
    if !lead.accounts().unwrap().iter().any(|a| a.member_id == m.id) {
        lead.set_password(member, FIRST_PASSWORD).unwrap();
        return Registry::sign_in(&path, member, FIRST_PASSWORD, Some(PASSWORD)).unwrap();
    }
    Registry::sign_in(&path, member, PASSWORD, None).unwrap()
}

/// Every row of every table, and the schema version, as text: equal dumps mean equal content.
/// Read through a read-only connection with the registry's first lead's key (no audit row);
/// sign-in and sign-out rows (and the sequence counters they advance) are left out, because
/// every command signs in.
pub fn dump(path: &Path) -> String {
    dump_skipping(path, &["sign-in", "sign-out"])
}

/// `dump`, leaving out audit rows with the given actions.
pub fn dump_skipping(path: &Path, actions: &[&str]) -> String {
    let conn = if cocm::store::is_plain_sqlite(path) { rusqlite::Connection::open(path).unwrap() } else { raw(path) };
    let mut out = String::new();
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    out.push_str(&format!("user_version {version}\n"));
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // SQLite's own tables are not content: the sequence counters, and the planner's statistics
    // (which a sign-in may refresh).
    for t in tables.into_iter().filter(|t| !t.starts_with("sqlite_")) {
        out.push_str(&format!("== {t}\n"));
        let skipped = actions.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(", ");
        let filter = if t == "audit_log" { format!(" WHERE action NOT IN ({skipped})") } else { String::new() };
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"{filter} ORDER BY rowid")).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            let cells: Vec<String> = (0..n).map(|i| format!("{:?}", row.get_ref(i).unwrap())).collect();
            out.push_str(&cells.join("|"));
            out.push('\n');
        }
    }
    out
}

/// A raw connection on a registry's tables (with its first lead's key), for a test to look at
/// or tamper with the file as an attacker or a bug would. Writes nothing by itself.
pub fn raw(path: &Path) -> rusqlite::Connection {
    cocm::store::inspect(path, default_lead(path), PASSWORD).expect("open the registry's tables")
}

/// The lead a test registry was made with: `CLI_LEAD` by `cocm init` in the CLI tests (and for a
/// file not made yet), "LEAD" by `TempRegistry::created`.
pub fn default_lead(path: &Path) -> &'static str {
    match cocm::accounts::sign_in_choices(path) {
        Ok(choices) if !choices.members.iter().any(|m| m == CLI_LEAD) => "LEAD",
        _ => CLI_LEAD,
    }
}

pub struct Output {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the built `cocm` binary on a registry file, signed in as the registry's test lead
/// (`default_lead`) with `PASSWORD` unless the arguments say otherwise.
pub fn cocm(db: &Path, args: &[&str]) -> Output {
    cocm_with(db, args, &[])
}

/// `cocm` with extra environment variables (`COCM_PASSWORD`, `COCM_NEW_PASSWORD`…).
pub fn cocm_with(db: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_cocm"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("COCM_DB")
        .env_remove("COCM_RECOVERY_KEY")
        .env_remove("COCM_NEW_PASSWORD")
        .env("COCM_AS", default_lead(db))
        .env("COCM_PASSWORD", PASSWORD)
        .envs(env.iter().copied())
        .output()
        .expect("run cocm");
    Output {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `cocm` and expects success; returns stdout trimmed.
pub fn ok(db: &Path, args: &[&str]) -> String {
    let o = cocm(db, args);
    assert!(o.ok, "cocm {args:?} failed: {}", o.stderr);
    o.stdout.trim().to_string()
}

/// Gives `member` an account through the CLI: the lead sets a first password, and the member
/// changes it to `PASSWORD` at first sign-in.
pub fn cli_account(db: &Path, member: &str) {
    let set = cocm_with(db, &["team", "password", member], &[("COCM_NEW_PASSWORD", FIRST_PASSWORD)]);
    assert!(set.ok, "{}", set.stderr);
    let changed =
        cocm_with(db, &["--as", member, "team", "password", member], &[("COCM_PASSWORD", FIRST_PASSWORD), ("COCM_NEW_PASSWORD", PASSWORD)]);
    assert!(changed.ok, "{}", changed.stderr);
}

pub fn json(db: &Path, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(db, args)).expect("JSON output")
}

// A small practice for the registry's rule tests.

pub fn d(s: &str) -> Date {
    parse_date("d", s).unwrap()
}

/// A registry with a care manager "CM", a consultant "PSY", a PCP "PCP", a lead "LEAD" (who
/// is signed in), and patient P1 enrolled on 2025-11-03 with consent. A new registry asks for
/// a second factor through a server (`mfa_required` = `server`); these tests turn that off,
/// and `tests/server.rs` tries the second factor itself.
pub fn setup() -> (TempRegistry, Registry) {
    let (t, mut r) = TempRegistry::created("Test");
    assert_eq!(r.settings().unwrap().mfa_required.as_str(), "server", "a new registry's default");
    r.set_setting("mfa_required", "off").unwrap();
    r.add_member("CM", Role::CareManager).unwrap();
    r.add_member("PSY", Role::PsychiatricConsultant).unwrap();
    r.add_member("PCP", Role::Pcp).unwrap();
    add_patient(&mut r, "P1");
    enroll(&mut r, "P1", "2025-11-03", Some("2025-11-03"));
    (t, r)
}

pub fn add_patient(r: &mut Registry, mrn: &str) {
    let p = NewPatient {
        mrn: mrn.into(),
        name: format!("Patient {mrn}"),
        dob: "1970-05-05".into(),
        care_manager: Some("CM".into()),
        pcp: Some("PCP".into()),
        ..Default::default()
    };
    r.add_patient(&p).unwrap();
}

pub fn enroll(r: &mut Registry, mrn: &str, start: &str, consent: Option<&str>) {
    r.enroll(mrn, &Enrolment { start: start.into(), consent: consent.map(String::from), targets: None, ..Default::default() }).unwrap();
}

pub fn contact(r: &mut Registry, mrn: &str, date: &str, minutes: i64, by: &str) -> String {
    r.log_contact(mrn, &NewContact { date: date.into(), minutes, by: by.into(), ..Default::default() }).unwrap()
}

pub fn phq(r: &mut Registry, mrn: &str, date: &str, answers: [i64; 9]) -> String {
    r.record_assessment(mrn, &NewAssessment { date: date.into(), instrument: "phq9".into(), answers: answers.to_vec(), difficulty: None })
        .unwrap()
}

pub fn month(s: &str) -> Month {
    Month::parse("month", s).unwrap()
}

/// SQL that takes a current registry back to schema 9 as it was written before the instrument
/// catalogue (migrations 0010 to 0013 undone): `item9` holds the PHQ-9's item 9 answer, there
/// are no primary scales, no age settings and status changes have only their number.
pub const BACK_TO_SCHEMA_9: &str = "
    CREATE TABLE assessments_9 (
        id          TEXT PRIMARY KEY,
        patient_id  TEXT NOT NULL REFERENCES patients(id),
        date        TEXT NOT NULL,
        instrument  TEXT NOT NULL CHECK (instrument IN ('phq9', 'gad7')),
        items       TEXT NOT NULL,
        total       INTEGER NOT NULL,
        item9       INTEGER,
        difficulty  TEXT,
        recorded_by TEXT,
        created_at  TEXT NOT NULL,
        voided_at   TEXT,
        voided_by   TEXT,
        void_reason TEXT,
        total_only  INTEGER NOT NULL DEFAULT 0 CHECK (total_only IN (0, 1))
    );
    INSERT INTO assessments_9 (rowid, id, patient_id, date, instrument, items, total, item9, difficulty, recorded_by,
                               created_at, voided_at, voided_by, void_reason, total_only)
    SELECT rowid, id, patient_id, date, instrument, items, total,
           CASE WHEN instrument = 'phq9' AND items <> '' THEN CAST(substr(items, length(items)) AS INTEGER) END,
           difficulty, recorded_by, created_at, voided_at, voided_by, void_reason, total_only
    FROM assessments;
    DROP TABLE assessments;
    ALTER TABLE assessments_9 RENAME TO assessments;
    CREATE INDEX assessments_by_patient ON assessments(patient_id, date, instrument, total, item9, voided_at);
    CREATE INDEX assessments_by_date ON assessments(date, patient_id, voided_at);
    ALTER TABLE episodes DROP COLUMN primary_scales;
    DELETE FROM settings WHERE key IN ('adolescent_from_age', 'adult_from_age');
    DROP INDEX status_changes_by_id;
    ALTER TABLE episode_status_changes DROP COLUMN id;
    DROP TABLE second_factors; DROP TABLE recovery_codes; DELETE FROM settings WHERE key = 'mfa_required';
    ALTER TABLE team_members DROP COLUMN npi; ALTER TABLE team_members DROP COLUMN credential;
    ALTER TABLE team_members DROP COLUMN cocm_fte_hundredths; DELETE FROM settings WHERE key = 'practice_type';
    DROP TABLE apcm_periods; DROP TABLE episode_program_changes; ALTER TABLE episodes DROP COLUMN program;
    CREATE TABLE billing_rule_sets_9 (effective_year INTEGER PRIMARY KEY, rules TEXT NOT NULL);
    INSERT INTO billing_rule_sets_9 SELECT effective_year, json_object(
        'g2214_min_minutes', json_extract(rules, '$.initial.tiers[0].from_minutes'),
        'initial_base_min_minutes', json_extract(rules, '$.initial.tiers[1].from_minutes'),
        'initial_addon_from_minutes', json_extract(rules, '$.initial.addon.from_minutes'),
        'subsequent_base_min_minutes', json_extract(rules, '$.subsequent.tiers[1].from_minutes'),
        'subsequent_addon_from_minutes', json_extract(rules, '$.subsequent.addon.from_minutes'),
        'addon_block_minutes', json_extract(rules, '$.initial.addon.block_minutes'),
        'addon_max_units', json_extract(rules, '$.initial.addon.max_units'),
        'fees', json(json_extract(rules, '$.fees')))
    FROM billing_rule_sets WHERE program = 'cocm' AND payer IS NULL;
    DROP TABLE billing_rule_sets; ALTER TABLE billing_rule_sets_9 RENAME TO billing_rule_sets;
    ALTER TABLE patients ADD COLUMN payer TEXT NOT NULL DEFAULT 'other'
        CHECK (payer IN ('medicare', 'medicaid', 'commercial', 'self-pay', 'other'));
    UPDATE patients SET payer = ifnull((SELECT c.payer FROM coverages c WHERE c.patient_id = patients.id
        AND c.secondary = 0 AND c.voided_at IS NULL ORDER BY ifnull(c.from_date, '') DESC LIMIT 1), 'other');
    DROP TABLE coverages;
    DROP TABLE episode_diagnoses; DELETE FROM settings WHERE key IN ('claim_date_of_service', 'place_of_service', 'inactivity_days');
    DROP INDEX contacts_clinical_by_episode; DROP TABLE visits;
    DROP TABLE questionnaire_requests; DELETE FROM settings WHERE key IN ('questionnaire_expiry_days', 'questionnaire_dob_tries',
        'measurement_cadence_days_active', 'measurement_cadence_days_relapse_prevention', 'patient_portal_url', 'practice_phone');
    PRAGMA user_version = 9;";

/// A sample file of `seeds/import/` and its mapping, by name (`visits`: `visits.csv`).
pub fn sample(name: &str) -> (Vec<u8>, cocm::import::Mapping) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/import");
    let bytes = std::fs::read(dir.join(format!("{name}.csv"))).unwrap();
    let mapping = serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.mapping.json"))).unwrap()).unwrap();
    (bytes, mapping)
}

/// Imports a sample file of `seeds/import/` with its mapping, which must succeed.
pub fn import(r: &mut Registry, name: &str) -> cocm::import::ImportReport {
    let (bytes, mapping) = sample(name);
    r.import_csv(&format!("{name}.csv"), &bytes, &mapping, false, &mut |_, _| {}).unwrap()
}
