//! Helpers shared by the integration tests: temporary registries, a content dump to prove a
//! failed command changed nothing, and a runner for the real `cocm` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use cocm::Registry;

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
