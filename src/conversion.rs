//! Moving between a plain SQLite registry and an encrypted one: `cocm encrypt` converts a
//! registry written before encryption, and `cocm export sqlite` writes a plain copy (the
//! user's explicit choice, for migration or inspection). Both go through SQLCipher's
//! `sqlcipher_export`, which copies every table, index and row.

use std::path::Path;

use rusqlite::Connection;

use crate::access::Action;
use crate::audit::{self, Actor};
use crate::keyring::{self, Keyring, RecoveryKey, sibling};
use crate::store::{self, APPLICATION_ID, SCHEMA_VERSION};

use crate::vocab::Role;
use crate::{Error, Registry, Result, accounts, team};

/// Every table's row count: equal counts after a copy are the conversion's check.
fn row_counts(conn: &Connection) -> Result<Vec<(String, i64)>> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    tables
        .into_iter()
        .map(|t| {
            let n: i64 = conn.query_row(&format!("SELECT count(*) FROM \"{t}\""), [], |r| r.get(0))?;
            Ok((t, n))
        })
        .collect()
}

/// Converts a plain registry (any schema this version reads) into an encrypted one in place:
/// the copy is written beside it, checked table by table, upgraded, given the practice lead's
/// account, and only then renamed over the original. `lead` names an existing practice lead,
/// or a new one to add. Returns the recovery key, shown once.
pub fn encrypt(path: &Path, lead: &str, password: &str) -> Result<(Registry, RecoveryKey)> {
    if !path.is_file() {
        return Err(Error::NotFound(format!("no registry at {}", path.display())));
    }
    if !store::is_plain_sqlite(path) {
        return Err(Error::Conflict(format!("{} is already encrypted", path.display())));
    }
    let lead = lead.trim();
    if lead.is_empty() {
        return Err(Error::validation("lead", "name the practice lead who will sign in first"));
    }
    accounts::check_password_policy("password", password, lead)?;
    crate::store::sqlcipher_ready();
    let plain = Connection::open(path)?;
    let app_id: i32 = plain.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let version: i32 = plain.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if app_id != APPLICATION_ID {
        return Err(Error::Incompatible(format!("{} is not a CoCM registry", path.display())));
    }
    if version > SCHEMA_VERSION {
        return Err(Error::Incompatible(format!("{} was written by a newer version of CoCM Registry; update the app", path.display())));
    }
    if let Some(m) = team::find(&plain, "lead", lead).ok().filter(|m| m.role != Role::PracticeLead) {
        return Err(Error::validation("lead", format!("{} is a {}, not a practice lead", m.name, m.role)));
    }
    // The copy is compared with the original table by table below; a write that slipped in
    // between (the app should be closed) shows as a difference and nothing is replaced.
    plain.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    plain.execute_batch(store::CIPHER_SETTINGS)?;
    let copy = sibling(path, ".encrypting");
    let _ = std::fs::remove_file(&copy);
    let (mut ring, data_key, recovery) = Keyring::new(false)?;
    let result = (|| {
        let mut attach = zeroize::Zeroizing::new(String::new());
        attach.push_str("ATTACH DATABASE ?1 AS encrypted KEY \"");
        attach.push_str(&data_key.sqlcipher_literal());
        attach.push_str("\";");
        plain.execute(&attach, [copy.to_string_lossy()])?;
        drop(attach);
        plain.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        plain.execute_batch(&format!("PRAGMA encrypted.user_version = {version}; PRAGMA encrypted.application_id = {APPLICATION_ID};"))?;
        plain.execute_batch("DETACH DATABASE encrypted;")?;
        let before = row_counts(&plain)?;
        let conn = store::connect(&copy, &data_key, false)?;
        if row_counts(&conn)? != before {
            return Err(Error::Storage("the encrypted copy's rows differ from the original's; nothing was replaced".into()));
        }
        drop(conn);
        Ok(())
    })();
    drop(plain);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&copy);
        return Err(e);
    }
    // The copy is whole: upgrade it, add the lead's account, then put it in the original's place.
    let finish = (|| {
        let mut conn = store::connect(&copy, &data_key, false)?;
        store::migrate(&mut conn, version)?;
        let tx = conn.unchecked_transaction()?;
        let member = match team::find(&tx, "lead", lead) {
            Ok(m) => m,
            Err(_) => {
                let actor = Actor::new(&crate::store::new_id(), lead, Role::PracticeLead);
                team::insert_with_id(&tx, &actor, &actor.member_id, lead, Role::PracticeLead)?
            }
        };
        let actor = Actor::new(&member.id, &member.name, Role::PracticeLead);
        audit::record(&tx, &actor, "encrypt", "registry", None, serde_json::json!({ "from_schema": version }))?;
        audit::record(&tx, &actor, "account-created", "account", Some(&member.id), serde_json::json!({}))?;
        tx.commit()?;
        ring.set_slot(&member.id, &member.name, password, &data_key, false)?;
        ring.save(&copy)?;
        Ok(member)
    })();
    let member = match finish {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_file(&copy);
            let _ = std::fs::remove_file(keyring::key_file_path(&copy));
            return Err(e);
        }
    };
    for leftover in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(sibling(path, leftover));
    }
    std::fs::rename(keyring::key_file_path(&copy), keyring::key_file_path(path))?;
    std::fs::rename(&copy, path)?;
    let registry = Registry::sign_in(path, &member.id, password, None)?;
    Ok((registry, recovery))
}

impl Registry {
    /// Writes a plain (unencrypted) SQLite copy of the registry to `out`, which must not exist.
    /// A practice lead's explicit choice; audited.
    pub fn export_plain_sqlite(&mut self, out: &Path) -> Result<()> {
        self.permit(Action::Export)?;
        if out.exists() {
            return Err(Error::Conflict(format!("{} already exists; choose a new file", out.display())));
        }
        let version = self.schema_version()?;
        let result = (|| {
            self.conn.execute("ATTACH DATABASE ?1 AS plain KEY ''", [out.to_string_lossy()])?;
            self.conn.query_row("SELECT sqlcipher_export('plain')", [], |_| Ok(()))?;
            self.conn.execute_batch(&format!("PRAGMA plain.user_version = {version}; PRAGMA plain.application_id = {APPLICATION_ID};"))?;
            self.conn.execute_batch("DETACH DATABASE plain;")?;
            Ok(())
        })();
        if let Err(e) = result {
            let _ = self.conn.execute_batch("DETACH DATABASE plain;");
            let _ = std::fs::remove_file(out);
            return Err(e);
        }
        let actor = self.actor().clone();
        audit::record(
            &self.conn,
            &actor,
            "export",
            "registry",
            None,
            serde_json::json!({ "format": "plain-sqlite", "file": out.display().to_string() }),
        )
    }
}
