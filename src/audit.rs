//! The audit log: every write appends a row saying when (UTC), who, what action, which record
//! and what changed. Rows are never updated or deleted.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::vocab::Role;
use crate::{Registry, Result};

/// Who is acting: the signed-in team member. Emergency access with the recovery key acts as
/// `RECOVERY_ACTOR_ID`, with a practice lead's permissions.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct Actor {
    pub member_id: String,
    pub name: String,
    pub role: Role,
}

/// The actor id the audit log records for work done with the recovery key.
pub const RECOVERY_ACTOR_ID: &str = "recovery-key";

impl Actor {
    pub(crate) fn recovery_key() -> Actor {
        Actor { member_id: RECOVERY_ACTOR_ID.into(), name: "recovery key".into(), role: Role::PracticeLead }
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

/// The member the audit log says entered a record: the actor of its creating row. `action`
/// is the creating action (`create`, `enroll`…); `detail_key`, when given, matches the record
/// by a key in that row's details instead of by `record_id` (a consent id, a status change).
pub(crate) fn author_of(
    conn: &Connection,
    record_type: &str,
    action: &[&str],
    id: &str,
    detail_key: Option<&str>,
) -> Result<Option<String>> {
    let actions = action.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(", ");
    let matcher = match detail_key {
        Some(key) => format!("CAST(json_extract(details, '$.{key}') AS TEXT) = ?2"),
        None => "record_id = ?2".to_string(),
    };
    let sql = format!("SELECT actor_id FROM audit_log WHERE record_type = ?1 AND action IN ({actions}) AND {matcher} ORDER BY seq LIMIT 1");
    Ok(conn.query_row(&sql, (record_type, id), |r| r.get(0)).optional()?.flatten())
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
