//! Backups, restore and verification (issue 8).
//!
//! A backup is a consistent copy made with SQLite's online backup API while the registry is in
//! use, encrypted with the same data key, plus a copy of the key file: it opens with the same
//! passwords or the recovery key. The app makes one on the first sign-in of each day into
//! `backups/` beside the registry and keeps the newest `backup_keep`. `verify` checks a file
//! the way a restore needs it checked: SQLite's integrity and foreign-key checks, the audit
//! chain and the schema version.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::dates::Date;
use crate::keyring::{self, Keyring, sibling};
use crate::store::{self, SCHEMA_VERSION};
use crate::{Error, Registry, Result, audit};

/// What `cocm verify` reports, ending in a one-line verdict.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct VerifyReport {
    pub path: String,
    /// `PRAGMA integrity_check`: "ok", or SQLite's first complaint.
    pub integrity: String,
    /// Rows whose foreign key points nowhere.
    #[ts(type = "number")]
    pub foreign_key_violations: i64,
    /// The first broken link of the audit chain, if any.
    pub audit_chain: Option<String>,
    #[ts(type = "number")]
    pub audit_rows: i64,
    pub schema_version: i32,
    pub ok: bool,
    pub verdict: String,
}

impl Registry {
    /// Copies the registry to `to` (which must not exist) with the online backup API, and its
    /// key file beside it. Any signed-in member may: the copy is as encrypted as the original.
    pub fn backup_to(&mut self, to: &Path) -> Result<()> {
        if to.exists() || keyring::key_file_path(to).exists() {
            return Err(Error::Conflict(format!("{} already exists; choose a new file", to.display())));
        }
        if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let result = (|| {
            let mut dest = store::connect(to, &self.data_key, true)?;
            {
                let backup = rusqlite::backup::Backup::new(&self.conn, &mut dest)?;
                backup.run_to_completion(256, std::time::Duration::from_millis(5), None)?;
            }
            // The copy is in WAL mode like the original; fold its WAL in so one file holds it.
            dest.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
            drop(dest);
            Keyring::load(self.path())?.save(to)
        })();
        if let Err(e) = result {
            for leftover in [to.to_path_buf(), keyring::key_file_path(to), sibling(to, "-wal"), sibling(to, "-shm")] {
                let _ = std::fs::remove_file(leftover);
            }
            return Err(e);
        }
        // Its own write transaction: the backup may run on a second handle while the first writes.
        let actor = self.actor().clone();
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        audit::record(&tx, &actor, "backup", "registry", None, serde_json::json!({ "to": to.display().to_string() }))?;
        tx.commit()?;
        Ok(())
    }

    /// The app's daily backup: `backups/<name>-YYYY-MM-DD.cocm` beside the registry, once per
    /// day, keeping the newest `backup_keep`. Returns the new backup, or None if today's exists.
    pub fn backup_daily(&mut self, today: Date) -> Result<Option<PathBuf>> {
        let dir = self.path().parent().map(|p| p.join("backups")).unwrap_or_else(|| PathBuf::from("backups"));
        let stem = self.path().file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| "registry".into());
        let target = dir.join(format!("{stem}-{today}.cocm"));
        if target.exists() {
            return Ok(None);
        }
        // Made under a temporary name and renamed when whole, so a backup cut short (the app
        // closed mid-copy) is never taken for today's.
        let partial = dir.join(format!("{stem}-{today}.partial.cocm"));
        for leftover in [partial.clone(), keyring::key_file_path(&partial), sibling(&partial, "-wal"), sibling(&partial, "-shm")] {
            let _ = std::fs::remove_file(leftover);
        }
        self.backup_to(&partial)?;
        std::fs::rename(keyring::key_file_path(&partial), keyring::key_file_path(&target))?;
        std::fs::rename(&partial, &target)?;
        let keep = self.settings()?.backup_keep.max(1) as usize;
        let prefix = format!("{stem}-");
        let mut backups: Vec<PathBuf> = std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
                name.starts_with(&prefix) && name.ends_with(".cocm") && name.len() == prefix.len() + "YYYY-MM-DD.cocm".len()
            })
            .collect();
        backups.sort();
        let excess = backups.len().saturating_sub(keep);
        for old in &backups[..excess] {
            for file in [old.clone(), keyring::key_file_path(old), sibling(old, "-wal"), sibling(old, "-shm")] {
                let _ = std::fs::remove_file(file);
            }
        }
        Ok(Some(target))
    }

    /// Checks this registry's file: integrity, foreign keys, the audit chain, the schema.
    pub fn verify(&self) -> Result<VerifyReport> {
        verify_connection(&self.conn, self.path())
    }
}

/// Verifies a registry or backup file without writing to it (no sign-in row, no migration):
/// what `cocm verify FILE` and `restore` run.
pub fn verify_file(path: &Path, member: &str, password: &str) -> Result<VerifyReport> {
    verify_connection(&store::inspect(path, member, password)?, path)
}

fn verify_connection(conn: &rusqlite::Connection, path: &Path) -> Result<VerifyReport> {
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    let foreign_key_violations = conn.prepare("PRAGMA foreign_key_check")?.query_map([], |_| Ok(()))?.count() as i64;
    let audit_chain = audit::verify_chain(conn)?;
    let audit_rows: i64 = conn.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))?;
    let schema_version: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let mut problems = Vec::new();
    if integrity != "ok" {
        problems.push(format!("integrity check: {integrity}"));
    }
    if foreign_key_violations > 0 {
        problems.push(format!("{foreign_key_violations} rows point at records that do not exist"));
    }
    if let Some(broken) = &audit_chain {
        problems.push(broken.clone());
    }
    if schema_version != SCHEMA_VERSION {
        problems.push(format!("schema {schema_version}, this version writes {SCHEMA_VERSION}"));
    }
    let ok = problems.is_empty();
    let shown = path.display();
    let verdict = if ok {
        format!(
            "ok: {shown} passes the integrity and foreign-key checks, its {audit_rows} audit rows chain unbroken, schema {schema_version}"
        )
    } else {
        format!("FAILED: {shown}: {}", problems.join("; "))
    };
    Ok(VerifyReport { path: shown.to_string(), integrity, foreign_key_violations, audit_chain, audit_rows, schema_version, ok, verdict })
}

/// Restores `backup` to `to` (which must not exist): the backup must open with the member's
/// password and pass `verify` first. Returns the restored registry, signed in.
pub fn restore(backup: &Path, to: &Path, member: &str, password: &str) -> Result<Registry> {
    if to.exists() || keyring::key_file_path(to).exists() {
        return Err(Error::Conflict(format!(
            "{} already exists; move the damaged registry (and its .keys file) aside, then restore to its path",
            to.display()
        )));
    }
    let report = verify_file(backup, member, password)?;
    if !report.ok {
        return Err(Error::Incompatible(format!("the backup does not verify: {}", report.verdict)));
    }
    std::fs::copy(backup, to)?;
    if let Err(e) = std::fs::copy(keyring::key_file_path(backup), keyring::key_file_path(to)) {
        let _ = std::fs::remove_file(to);
        return Err(e.into());
    }
    Registry::sign_in(to, member, password, None)
}
