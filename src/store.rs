//! One registry = one SQLite file. Opening applies pending migrations (tracked by
//! `user_version`), refuses files that are not registries or that a newer version wrote, and
//! sets WAL, foreign keys and a busy timeout so the CLI and the app can share a file.

use rusqlite::{Connection, OpenFlags, Transaction};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::audit::{self, Actor};
use crate::{Error, Result};

/// Marks a SQLite file as a CoCM registry (`PRAGMA application_id`): "CoCM" in ASCII.
pub const APPLICATION_ID: i32 = 0x436F_434D;

/// The migrations, applied in order; a file's `user_version` is how many it has had.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_registry", include_str!("../migrations/0001_registry.sql")),
    ("0002_practice_settings", include_str!("../migrations/0002_practice_settings.sql")),
    ("0003_report_targets", include_str!("../migrations/0003_report_targets.sql")),
    ("0004_episode_entered_in_error", include_str!("../migrations/0004_episode_entered_in_error.sql")),
];

pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// The open registry, as the desktop app's title bar names it.
#[derive(Clone, Debug, serde::Serialize, ts_rs::TS)]
pub struct RegistryInfo {
    pub path: String,
    pub practice: String,
    pub schema_version: i32,
    pub actor: Actor,
}

/// What the desktop app's start screen needs: the registry it opened (from `COCM_DB`), why
/// that failed if it did, and where the demo registry lives.
#[derive(Clone, Debug, serde::Serialize, ts_rs::TS)]
pub struct StartState {
    pub registry: Option<RegistryInfo>,
    pub startup_error: Option<crate::ErrorPayload>,
    pub demo_path: String,
}

/// An open registry: the handle the CLI and the desktop app call.
pub struct Registry {
    pub(crate) conn: Connection,
    path: PathBuf,
    actor: Actor,
}

impl Registry {
    /// Creates a new, empty registry for a practice. The file must not exist yet.
    pub fn create(path: &Path, practice_name: &str) -> Result<Registry> {
        let practice_name = practice_name.trim();
        if practice_name.is_empty() {
            return Err(Error::validation("practice", "give the practice a name"));
        }
        if path.exists() {
            return Err(Error::Conflict(format!("{} already exists; open it, or choose another file", path.display())));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE)?;
        configure(&conn)?;
        conn.pragma_update(None, "application_id", APPLICATION_ID)?;
        let mut registry = Registry { conn, path: path.to_path_buf(), actor: Actor::os_user() };
        registry.migrate_from(0)?;
        registry.write(|tx, actor| {
            tx.execute("INSERT INTO practice (id, name, created_at) VALUES (1, ?1, ?2)", (practice_name, audit::now()))?;
            audit::record(tx, actor, "create", "registry", None, serde_json::json!({ "practice": practice_name }))
        })?;
        Ok(registry)
    }

    /// Opens an existing registry, upgrading an older file in one transaction.
    pub fn open(path: &Path) -> Result<Registry> {
        if !path.is_file() {
            return Err(Error::NotFound(format!("no registry at {}; create one with `cocm init` or `cocm demo`", path.display())));
        }
        let not_a_registry = |why: &str| Error::Incompatible(format!("{} is not a CoCM registry ({why})", path.display()));
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(|e| not_a_registry(&e.to_string()))?;
        let app_id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0)).map_err(|e| not_a_registry(&e.to_string()))?;
        if app_id != APPLICATION_ID {
            return Err(not_a_registry("it is a SQLite file of another application"));
        }
        let version: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(Error::Incompatible(format!(
                "{} was written by a newer version of CoCM Registry (schema {version}; this version reads up to {SCHEMA_VERSION}); update the app",
                path.display()
            )));
        }
        configure(&conn)?;
        let mut registry = Registry { conn, path: path.to_path_buf(), actor: Actor::os_user() };
        registry.migrate_from(version)?;
        Ok(registry)
    }

    /// Applies the migrations a file has not had, all in one transaction.
    fn migrate_from(&mut self, version: i32) -> Result<()> {
        if version >= SCHEMA_VERSION {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        for (name, sql) in &MIGRATIONS[version as usize..] {
            tx.execute_batch(sql).map_err(|e| Error::Storage(format!("migration {name}: {e}")))?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn schema_version(&self) -> Result<i32> {
        Ok(self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// What the title bar and the start screen show.
    pub fn info(&self) -> Result<RegistryInfo> {
        Ok(RegistryInfo {
            path: self.path.display().to_string(),
            practice: self.practice_name()?,
            schema_version: self.schema_version()?,
            actor: self.actor.clone(),
        })
    }

    pub fn practice_name(&self) -> Result<String> {
        Ok(self.conn.query_row("SELECT name FROM practice WHERE id = 1", [], |r| r.get(0))?)
    }

    /// Who the writes are recorded as in the audit log (the OS user until `act_as`).
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Acts as a team member, named by id or exact name.
    pub fn act_as(&mut self, member: &str) -> Result<()> {
        let m = self.find_member("as", member)?;
        self.actor = Actor { member_id: Some(m.id), name: m.name, role: Some(m.role) };
        Ok(())
    }

    /// Runs one write as one transaction: it commits whole or leaves nothing behind.
    /// The closure records its audit row through the transaction it is given.
    pub(crate) fn write<T>(&mut self, f: impl FnOnce(&Transaction, &Actor) -> Result<T>) -> Result<T> {
        let tx = self.conn.transaction()?;
        let out = f(&tx, &self.actor)?;
        tx.commit()?;
        Ok(out)
    }
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    let _mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

/// The default registry file: `$COCM_DB`, else `registry.cocm` in the user's data directory.
pub fn default_registry_path() -> PathBuf {
    if let Some(p) = std::env::var_os("COCM_DB").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("cocm-registry").join("registry.cocm")
}

/// A new record id.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
