//! The audit log: every write, every chart opened, every export and every sign-in appends a
//! row saying when (UTC), who, what action, which record and what changed. Rows are never
//! updated or deleted, and each carries a hash over its content and the previous row's hash
//! (BLAKE2b-256), so that a row changed or removed afterwards breaks the chain at that point
//! (`verify_chain`, `cocm verify`). The chain shows tampering; it cannot stop someone who holds
//! the key from rewriting the whole log and every hash after the change.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::vocab::Role;
use crate::{Error, Registry, Result};

/// The exports a client may tell the audit log of (`Registry::record_export`).
pub const EXPORT_KINDS: &[&str] = &[
    "caseload-csv",
    "billing-csv",
    "claims-csv",
    "report-csv",
    "nys-omh-csv",
    "program-report-print",
    "program-report-pdf",
    "nys-omh-print",
    "nys-omh-pdf",
];

/// Who is acting: the signed-in team member. Emergency access with the recovery key acts as
/// `RECOVERY_ACTOR_ID`, with a practice lead's permissions.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct Actor {
    pub member_id: String,
    pub name: String,
    pub role: Role,
    /// Where the act came from beyond the member, recorded in each audit row's details as
    /// `source`: an import's file and row.
    #[serde(skip)]
    #[ts(skip)]
    pub source: Option<String>,
    /// The workstation the act came from (a practice server's client address), recorded in
    /// each audit row's details as `client`.
    #[serde(skip)]
    #[ts(skip)]
    pub client: Option<String>,
}

/// The actor id the audit log records for work done with the recovery key.
pub const RECOVERY_ACTOR_ID: &str = "recovery-key";

impl Actor {
    pub(crate) fn recovery_key() -> Actor {
        Actor::new(RECOVERY_ACTOR_ID, "recovery key", Role::PracticeLead)
    }

    pub(crate) fn new(member_id: &str, name: &str, role: Role) -> Actor {
        Actor { member_id: member_id.to_string(), name: name.to_string(), role, source: None, client: None }
    }

    /// The same member, acting from `source` (an import file's row).
    pub(crate) fn with_source(&self, source: String) -> Actor {
        Actor { source: Some(source), ..self.clone() }
    }
}

/// The last creation or update of a record (views and exports are not changes): its audit
/// sequence number, who made it and when. A record's version, for spotting edit conflicts.
pub(crate) struct LastChange {
    pub seq: i64,
    pub actor: String,
    pub at: String,
}

pub(crate) fn last_change(conn: &Connection, record_type: &str, record_id: &str) -> Result<Option<LastChange>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, actor, at FROM audit_log WHERE record_type = ?1 AND record_id = ?2 AND action IN ('create', 'update')
         ORDER BY seq DESC LIMIT 1",
    )?;
    let mut rows = stmt.query_map([record_type, record_id], |r| Ok(LastChange { seq: r.get(0)?, actor: r.get(1)?, at: r.get(2)? }))?;
    Ok(rows.next().transpose()?)
}

impl LastChange {
    /// The conflict a second editor gets: who changed the record and when, in local time.
    pub(crate) fn conflict(&self) -> crate::Error {
        let when = chrono::DateTime::parse_from_rfc3339(&self.at).map(|t| t.with_timezone(&chrono::Local));
        let when = match when {
            Ok(t) if t.date_naive() == chrono::Local::now().date_naive() => format!("at {}", t.format("%H:%M")),
            Ok(t) => format!("on {} at {}", t.format("%Y-%m-%d"), t.format("%H:%M")),
            Err(_) => "since you opened it".to_string(),
        };
        crate::Error::Conflict(format!("changed by {} {when}; reload to see the change, then save again", self.actor))
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
    mut details: serde_json::Value,
) -> Result<()> {
    if let (Some(source), Some(map)) = (&actor.source, details.as_object_mut()) {
        map.insert("source".into(), source.clone().into());
    }
    if let (Some(client), Some(map)) = (&actor.client, details.as_object_mut()) {
        map.insert("client".into(), client.clone().into());
    }
    let row = Row {
        at: now(),
        actor_id: Some(actor.member_id.clone()),
        actor: actor.name.clone(),
        action: action.into(),
        record_type: record_type.into(),
        record_id: record_id.map(String::from),
        details: details.to_string(),
    };
    if !conn.is_autocommit() {
        return append(conn, &row);
    }
    // On its own (a chart view, an export, a sign-out): the chain's head is read and the row
    // appended under one write lock, so two connections (a practice server's sessions) cannot
    // both chain onto the same row.
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match append(conn, &row) {
        Ok(()) => Ok(conn.execute_batch("COMMIT")?),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// One audit row's content, as the hash covers it.
pub(crate) struct Row {
    pub at: String,
    pub actor_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub record_type: String,
    pub record_id: Option<String>,
    pub details: String,
}

/// The columns `Row::read` reads, in its order (the sequence number first).
const ROW_COLUMNS: &str = "seq, at, actor_id, actor, action, record_type, record_id, details";

impl Row {
    /// The sequence number and content of a row selected with `ROW_COLUMNS` first.
    fn read(r: &rusqlite::Row) -> rusqlite::Result<(i64, Row)> {
        let row = Row {
            at: r.get(1)?,
            actor_id: r.get(2)?,
            actor: r.get(3)?,
            action: r.get(4)?,
            record_type: r.get(5)?,
            record_id: r.get(6)?,
            details: r.get(7)?,
        };
        Ok((r.get(0)?, row))
    }
}

/// The hash of a row: BLAKE2b-256 over a JSON array of its sequence number, content and the
/// previous row's hash (JSON, so that no two different rows hash the same text).
fn row_hash(seq: i64, row: &Row, prev_hash: Option<&str>) -> String {
    use blake2::Digest;
    let text =
        serde_json::json!([seq, row.at, row.actor_id, row.actor, row.action, row.record_type, row.record_id, row.details, prev_hash]);
    let digest = blake2::Blake2b::<blake2::digest::consts::U32>::digest(text.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The last row's sequence number and hash; sqlite_sequence keeps the highest number ever
/// used, so a removed last row does not give its number to the next one.
fn chain_head(conn: &Connection) -> Result<(i64, Option<String>)> {
    Ok(conn
        .prepare_cached(
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0),
                    coalesce((SELECT max(seq) FROM audit_log), 0)),
                (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1)",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// Appends a row, chained to the one before it.
pub(crate) fn append(conn: &Connection, row: &Row) -> Result<()> {
    let (used, prev_hash) = chain_head(conn)?;
    let seq = used + 1;
    let hash = row_hash(seq, row, prev_hash.as_deref());
    conn.prepare_cached(
        "INSERT INTO audit_log (seq, at, actor_id, actor, action, record_type, record_id, details, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(rusqlite::params![
        seq,
        row.at,
        row.actor_id,
        row.actor,
        row.action,
        row.record_type,
        row.record_id,
        row.details,
        prev_hash,
        hash
    ])?;
    Ok(())
}

/// Chains the rows written before the chain existed (migration 0006), in order.
pub(crate) fn chain_unhashed(conn: &Connection) -> Result<()> {
    let rows: Vec<(i64, Row)> = conn
        .prepare(&format!("SELECT {ROW_COLUMNS} FROM audit_log WHERE hash IS NULL ORDER BY seq"))?
        .query_map([], Row::read)?
        .collect::<rusqlite::Result<_>>()?;
    for (seq, row) in rows {
        let prev: Option<String> = conn
            .query_row("SELECT hash FROM audit_log WHERE seq < ?1 ORDER BY seq DESC LIMIT 1", [seq], |r| r.get(0))
            .optional()?
            .flatten();
        let hash = row_hash(seq, &row, prev.as_deref());
        conn.execute("UPDATE audit_log SET prev_hash = ?2, hash = ?3 WHERE seq = ?1", rusqlite::params![seq, prev, hash])?;
    }
    Ok(())
}

/// Checks the whole chain: the first row whose previous-row hash or own hash does not match,
/// by sequence number and why; `None` when every row holds.
pub(crate) fn verify_chain(conn: &Connection) -> Result<Option<String>> {
    let mut stmt = conn.prepare(&format!("SELECT {ROW_COLUMNS}, prev_hash, hash FROM audit_log ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    let mut expected_prev: Option<String> = None;
    let mut previous_seq = 0;
    while let Some(r) = rows.next()? {
        let (seq, row) = Row::read(r)?;
        let (prev_hash, hash): (Option<String>, Option<String>) = (r.get(8)?, r.get(9)?);
        if prev_hash != expected_prev {
            return Ok(Some(format!(
                "audit row {seq} does not follow row {previous_seq}: a row between them, or row {previous_seq} itself, was removed or changed"
            )));
        }
        if hash.as_deref() != Some(row_hash(seq, &row, prev_hash.as_deref()).as_str()) {
            return Ok(Some(format!("audit row {seq} was changed after it was written")));
        }
        expected_prev = hash;
        previous_seq = seq;
    }
    Ok(None)
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

#[derive(Clone, Debug, Serialize, serde::Deserialize, ts_rs::TS)]
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

/// Every record of one patient, for `Registry::patient_audit`: ?1 is the patient's id, ?2 the
/// MRN. Ids are UUIDs, so any row naming one of them is about this patient; status changes are
/// numbered, so they are matched by type as well.
const PATIENT_AUDIT_SQL: &str = "
    SELECT seq, at, actor_id, actor, action, record_type, record_id, details FROM audit_log
    WHERE (record_type = 'patient' AND record_id = ?1)
       OR json_extract(details, '$.mrn') = ?2
       OR record_id IN (
            SELECT id FROM assessments WHERE patient_id = ?1
            UNION ALL SELECT id FROM contacts WHERE patient_id = ?1
            UNION ALL SELECT id FROM case_reviews WHERE patient_id = ?1
            UNION ALL SELECT id FROM review_requests WHERE patient_id = ?1
            UNION ALL SELECT id FROM treatment_changes WHERE patient_id = ?1
            UNION ALL SELECT id FROM episodes WHERE patient_id = ?1
            UNION ALL SELECT id FROM coverages WHERE patient_id = ?1
            UNION ALL SELECT id FROM visits WHERE patient_id = ?1
            UNION ALL SELECT id FROM apcm_periods WHERE patient_id = ?1
            UNION ALL SELECT d.id FROM episode_diagnoses d JOIN episodes e ON e.id = d.episode_id WHERE e.patient_id = ?1
            UNION ALL SELECT c.id FROM episode_consents c JOIN episodes e ON e.id = c.episode_id WHERE e.patient_id = ?1)
       OR (record_type = 'status-change' AND record_id IN (
            SELECT s.id FROM episode_status_changes s JOIN episodes e ON e.id = s.episode_id WHERE e.patient_id = ?1))
    ORDER BY seq";

fn entry(r: &rusqlite::Row) -> rusqlite::Result<AuditEntry> {
    let (seq, row) = Row::read(r)?;
    Ok(AuditEntry {
        seq,
        at: row.at,
        actor_id: row.actor_id,
        actor: row.actor,
        action: row.action,
        record_type: row.record_type,
        record_id: row.record_id,
        details: serde_json::from_str(&row.details).unwrap_or(serde_json::Value::Null),
    })
}

impl Registry {
    /// The audit log as a person reads it (`cocm audit`, over a server too): a practice lead's,
    /// since it tells who looked at which patient and from which workstation. The unguarded
    /// readers below are for the core's own checks and the tests.
    pub fn read_audit_log(&mut self, limit: usize) -> Result<Vec<AuditEntry>> {
        self.permit(crate::access::Action::ReadAuditLog)?;
        self.audit_log(limit)
    }

    /// One patient's record of access (`cocm audit --patient`), a practice lead's as above.
    pub fn read_patient_audit(&mut self, mrn: &str) -> Result<Vec<AuditEntry>> {
        self.permit(crate::access::Action::ReadAuditLog)?;
        self.patient_audit(mrn)
    }

    /// Who viewed or changed one patient's record, and when, oldest first.
    pub fn patient_audit(&self, mrn: &str) -> Result<Vec<AuditEntry>> {
        let patient = crate::patients::find_by_mrn(&self.conn, mrn)?;
        let mut stmt = self.conn.prepare(PATIENT_AUDIT_SQL)?;
        let rows = stmt.query_map((&patient.id, &patient.mrn), entry)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records that the signed-in member opened a patient's chart (reading PHI is audited).
    /// One row per sitting with a chart: reopened, or reloaded because someone saved (on a
    /// practice server every open chart reloads on every save), it is the same view until the
    /// member opens another chart or signs in again. Their own saves are audited as themselves.
    pub(crate) fn audit_chart_view(&self, patient_id: &str, as_of: crate::dates::Date) -> Result<()> {
        let last: Option<(String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT action, record_id FROM audit_log WHERE actor_id = ?1 AND action IN ('view', 'sign-in', 'recovery-key-used')
                 ORDER BY seq DESC LIMIT 1",
                [&self.actor.member_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if last == Some(("view".into(), Some(patient_id.into()))) {
            return Ok(());
        }
        let details = if as_of == crate::dates::today() { serde_json::json!({}) } else { serde_json::json!({ "as_of": as_of }) };
        record(&self.conn, &self.actor, "view", "patient", Some(patient_id), details)
    }

    /// An export of registry data (a CSV, a PDF or print-out, a plain copy): a practice lead's,
    /// and audited with what was exported. Call it before writing anything out.
    pub fn record_export(&mut self, what: &str, details: serde_json::Value) -> Result<()> {
        // A client tells of an export it made (a print, a PDF, a CSV it saved): only the kinds
        // the registry makes, with a few short facts, so no one writes made-up audit rows.
        if !EXPORT_KINDS.contains(&what) {
            return Err(Error::validation("what", format!("'{what}' is not an export the registry makes ({})", EXPORT_KINDS.join(", "))));
        }
        let short = |v: &serde_json::Value| !v.is_array() && !v.is_object() && v.as_str().is_none_or(|s| s.len() <= 1000);
        if !details.as_object().is_some_and(|m| m.len() <= 8 && m.values().all(short)) {
            return Err(Error::validation("details", "an export's details are at most eight short facts (text, numbers, yes or no)"));
        }
        self.permit(crate::access::Action::Export)?;
        let actor = self.actor.clone();
        record(&self.conn, &actor, "export", what, None, details)
    }

    /// The most recent audit entries, newest first.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        let mut stmt = self.conn.prepare(&format!("SELECT {ROW_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT ?1"))?;
        let rows = stmt.query_map([limit as i64], entry)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
