//! The audit log: every write appends a row saying when (UTC), who, what action, which record
//! and what changed. Rows are never updated or deleted.

use rusqlite::Connection;
use serde::Serialize;

use crate::vocab::Role;
use crate::{Registry, Result};

/// Who is acting: a team member, or (when none was named) the operating-system user.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct Actor {
    pub member_id: Option<String>,
    pub name: String,
    pub role: Option<Role>,
}

impl Actor {
    pub fn os_user() -> Actor {
        let name = ["USER", "LOGNAME", "USERNAME"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| "unknown".to_string());
        Actor { member_id: None, name: format!("os:{name}"), role: None }
    }
}

/// The current UTC time, as stored in `*_at` columns.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) fn record(
    conn: &Connection,
    actor: &Actor,
    action: &str,
    record_type: &str,
    record_id: Option<&str>,
    details: serde_json::Value,
) -> Result<()> {
    conn.execute(
        "INSERT INTO audit_log (at, actor_id, actor, action, record_type, record_id, details) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        (now(), &actor.member_id, &actor.name, action, record_type, record_id, details.to_string()),
    )?;
    Ok(())
}

#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct AuditEntry {
    #[ts(type = "number")]
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub record_type: String,
    pub record_id: Option<String>,
    pub details: serde_json::Value,
}

impl Registry {
    /// The most recent audit entries, newest first.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, actor_id, actor, action, record_type, record_id, details FROM audit_log ORDER BY seq DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            let details: String = r.get(7)?;
            Ok(AuditEntry {
                seq: r.get(0)?,
                at: r.get(1)?,
                actor_id: r.get(2)?,
                actor: r.get(3)?,
                action: r.get(4)?,
                record_type: r.get(5)?,
                record_id: r.get(6)?,
                details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
