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

    pub fn created(practice: &str) -> (TempRegistry, Registry) {
        let t = TempRegistry::new();
        let r = Registry::create(&t.path, practice).expect("create registry");
        (t, r)
    }
}

/// Every row of every table, and the schema version, as text: equal dumps mean equal content.
pub fn dump(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).expect("open for dump");
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
    for t in tables {
        out.push_str(&format!("== {t}\n"));
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\" ORDER BY rowid")).unwrap();
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

pub struct Output {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the built `cocm` binary on a registry file.
pub fn cocm(db: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_cocm"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("COCM_DB")
        .env_remove("COCM_AS")
        .env("USER", "tester")
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

pub fn json(db: &Path, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(db, args)).expect("JSON output")
}

// A small practice for the registry's rule tests.

pub fn d(s: &str) -> Date {
    parse_date("d", s).unwrap()
}

/// A registry with a care manager "CM", a consultant "PSY", a PCP "PCP", a lead "LEAD", and
/// patient P1 enrolled on 2025-11-03 with consent.
pub fn setup() -> (TempRegistry, Registry) {
    let (t, mut r) = TempRegistry::created("Test");
    r.add_member("CM", Role::CareManager).unwrap();
    r.add_member("PSY", Role::PsychiatricConsultant).unwrap();
    r.add_member("PCP", Role::Pcp).unwrap();
    r.add_member("LEAD", Role::PracticeLead).unwrap();
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
    r.enroll(mrn, &Enrolment { start: start.into(), consent: consent.map(String::from), targets: None }).unwrap();
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
