//! Loads, set-based, everything the caseload rules need about the episodes on the caseload on
//! a date: a handful of queries over the whole practice (or one care manager, or one patient),
//! never a query per patient. The rules themselves (flags, queue, caseload) are pure functions
//! of these snapshots.

use rusqlite::{Connection, ToSql};
use std::collections::HashMap;

use crate::Result;
use crate::assessments;
use crate::dates::{self, Date};
use crate::episodes;
use crate::instruments::Instrument;
use crate::measures::{self, Point, PrimaryScale};
use crate::reviews::CLOSED_BY_REVIEW_SQL;
use crate::settings::Settings;
use crate::vocab::{EpisodeStatus, Target, parse_targets};

/// One episode on the caseload on the as-of date T, with its facts up to T.
#[derive(Clone, Debug, Default)]
pub(crate) struct EpisodeSnapshot {
    pub patient_id: String,
    pub mrn: String,
    pub name: String,
    pub care_manager: Option<String>,
    pub episode_id: String,
    pub start: Date,
    pub consent: Option<Date>,
    pub targets: Vec<Target>,
    /// Each target's primary scale, fixed at enrolment (spec §3a).
    pub primary_scales: Vec<PrimaryScale>,
    /// Status on T: `active` or `relapse-prevention`.
    pub status: Option<EpisodeStatus>,
    /// The episode's assessments (spec §4 window, entered-in-error excluded), oldest first.
    pub assessments: Vec<(Instrument, Point)>,
    /// For each instrument with a safety item (PHQ-9, PHQ-A), the patient's most recent
    /// administration on or before T whose safety items are known, in whichever episode
    /// (spec §5 `safety`; a total-only score neither raises nor clears it).
    pub latest_with_safety: Vec<(Instrument, Point)>,
    pub last_contact: Option<Date>,
    /// The latest clinical contact (spec §9) on or before T, for `inactive`.
    pub last_clinical_contact: Option<Date>,
    pub contact_count: i64,
    /// The latest `safety-check` contact on or before T.
    pub last_safety_check: Option<Date>,
    /// Case reviews in the episode on or before T, oldest first.
    pub reviews: Vec<Date>,
    /// Dates of this episode's review requests still open on T, oldest first.
    pub open_requests: Vec<Date>,
}

impl EpisodeSnapshot {
    pub fn points(&self, instrument: Instrument) -> Vec<Point> {
        self.assessments.iter().filter(|(i, _)| *i == instrument).map(|(_, p)| *p).collect()
    }
}

/// Which patients to load.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Scope<'a> {
    Practice,
    CareManager(&'a str),
    Patient(&'a str),
}

impl Scope<'_> {
    /// A condition on `{alias}.patient_id` (parameter ?2) narrowing a query to the scope.
    fn filter(&self, alias: &str) -> String {
        match self {
            Scope::Practice => String::new(),
            Scope::CareManager(_) => format!(" AND {alias}.patient_id IN (SELECT id FROM patients WHERE care_manager_id = ?2)"),
            Scope::Patient(_) => format!(" AND {alias}.patient_id = ?2"),
        }
    }

    /// The same condition through `{alias}.episode_id`, for a query made to walk an index that
    /// leads with the episode: one patient's episodes are then a few index lookups, where the
    /// condition on `patient_id` would walk the whole index (85 ms on a 10,000-patient practice,
    /// run on every save by the server's live caseload).
    fn episode_filter(&self, alias: &str) -> String {
        match self {
            Scope::Patient(_) => format!(" AND {alias}.episode_id IN (SELECT id FROM episodes WHERE patient_id = ?2)"),
            _ => self.filter(alias),
        }
    }

    fn params<'a>(&'a self, as_of: &'a dyn ToSql) -> Vec<&'a dyn ToSql> {
        match self {
            Scope::Practice => vec![as_of],
            Scope::CareManager(id) | Scope::Patient(id) => vec![as_of, id],
        }
    }
}

fn date(s: &str) -> Date {
    dates::parse_iso(s).unwrap_or_default()
}

/// A text column borrowed from the row: no allocation per row in the hot loops.
pub(crate) fn text<'r>(r: &'r rusqlite::Row, i: usize) -> rusqlite::Result<&'r str> {
    r.get_ref(i)?.as_str().map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

pub(crate) fn load(conn: &Connection, as_of: Date, scope: Scope, settings: &Settings) -> Result<Vec<EpisodeSnapshot>> {
    let t = as_of.to_string();
    let params = scope.params(&t);

    // Episodes started by T, with their status on T.
    let mut snaps: Vec<EpisodeSnapshot> = Vec::new();
    {
        let sql = format!(
            "SELECT e.id, e.patient_id, p.mrn, p.name, cm.name, e.start_date, e.consent_date, e.targets, e.primary_scales,
                    (SELECT s.status FROM episode_status_changes s WHERE s.episode_id = e.id AND s.date <= ?1
                       AND s.voided_at IS NULL
                     ORDER BY s.date DESC, s.seq DESC LIMIT 1)
             FROM episodes e JOIN patients p ON p.id = e.patient_id LEFT JOIN team_members cm ON cm.id = p.care_manager_id
             WHERE e.start_date <= ?1 AND e.voided_at IS NULL{}",
            scope.filter("e")
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params.as_slice())?;
        while let Some(r) = rows.next()? {
            let status: Option<String> = r.get(9)?;
            let status = status.and_then(|s| EpisodeStatus::parse("status", &s).ok());
            if !matches!(status, Some(EpisodeStatus::Active | EpisodeStatus::RelapsePrevention)) {
                continue;
            }
            let (start, consent, targets): (String, Option<String>, String) = (r.get(5)?, r.get(6)?, r.get(7)?);
            let targets = parse_targets("targets", &targets).unwrap_or_default();
            let primary_scales = measures::parse_primary_scales(&targets, text(r, 8)?, episodes::fallback_scale);
            snaps.push(EpisodeSnapshot {
                episode_id: r.get(0)?,
                patient_id: r.get(1)?,
                mrn: r.get(2)?,
                name: r.get(3)?,
                care_manager: r.get(4)?,
                start: date(&start),
                consent: consent.as_deref().map(date),
                targets,
                primary_scales,
                status,
                ..Default::default()
            });
        }
    }
    // A patient has at most one episode on the caseload on a given day.
    let by_patient: HashMap<String, usize> = snaps.iter().enumerate().map(|(i, s)| (s.patient_id.clone(), i)).collect();
    let by_episode: HashMap<String, usize> = snaps.iter().enumerate().map(|(i, s)| (s.episode_id.clone(), i)).collect();

    // Assessments from S − lookback through T, entered-in-error excluded; and the latest of
    // each instrument with its safety items known from any date up to T, for safety.
    {
        // Rows arrive grouped by patient: look each patient up once, not once per row.
        let mut current: (String, Option<usize>) = (String::new(), None);
        assessments::for_each_score(conn, &scope.filter("a"), &params, |pid, instrument, point| {
            if pid != current.0 {
                current = (pid.to_string(), by_patient.get(pid).copied());
            }
            let Some(i) = current.1 else { return Ok(()) };
            if point.safety.is_some() {
                let latest = &mut snaps[i].latest_with_safety;
                match latest.iter_mut().find(|(j, _)| *j == instrument) {
                    Some(entry) => entry.1 = point,
                    None => latest.push((instrument, point)),
                }
            }
            // Open on T, so the window runs to T (spec §4).
            let (from, _) = measures::episode_window(snaps[i].start, None, as_of, settings.baseline_lookback_days);
            if point.date >= from {
                snaps[i].assessments.push((instrument, point));
            }
            Ok(())
        })?;
    }

    // Contacts: the latest and how many, per episode.
    {
        let sql = format!(
            "SELECT c.episode_id, MAX(c.date), COUNT(*) FROM contacts c
             WHERE c.voided_at IS NULL AND c.date <= ?1{} GROUP BY c.episode_id",
            scope.filter("c")
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params.as_slice())?;
        while let Some(r) = rows.next()? {
            if let Some(&i) = by_episode.get(text(r, 0)?) {
                snaps[i].last_contact = Some(date(text(r, 1)?));
                snaps[i].contact_count = r.get(2)?;
            }
        }
    }

    // The latest clinical contact per episode (§9; `inactive`).
    {
        let sql = format!(
            // The partial index holds exactly the clinical contacts; SQLite would rather take
            // `contacts_by_kind` (ten times slower on a big practice) without being told.
            "SELECT c.episode_id, MAX(c.date) FROM contacts c INDEXED BY contacts_clinical_by_episode
             WHERE c.voided_at IS NULL AND c.date <= ?1 AND {}{} GROUP BY c.episode_id",
            crate::vocab::clinical_contact_sql("c"),
            scope.episode_filter("c")
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params.as_slice())?;
        while let Some(r) = rows.next()? {
            if let Some(&i) = by_episode.get(text(r, 0)?) {
                snaps[i].last_clinical_contact = Some(date(text(r, 1)?));
            }
        }
    }

    // The latest safety check per patient.
    {
        let sql = format!(
            "SELECT c.patient_id, MAX(c.date) FROM contacts c
             WHERE c.voided_at IS NULL AND c.kind = 'safety-check' AND c.date <= ?1{} GROUP BY c.patient_id",
            scope.filter("c")
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params.as_slice())?;
        while let Some(r) = rows.next()? {
            if let Some(&i) = by_patient.get(text(r, 0)?) {
                snaps[i].last_safety_check = Some(date(text(r, 1)?));
            }
        }
    }

    // Case reviews in the episode.
    {
        let sql = format!(
            "SELECT c.episode_id, c.date FROM case_reviews c WHERE c.voided_at IS NULL AND c.date <= ?1{} ORDER BY c.date",
            scope.filter("c")
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params.as_slice())?;
        while let Some(r) = rows.next()? {
            if let Some(&i) = by_episode.get(text(r, 0)?) {
                snaps[i].reviews.push(date(text(r, 1)?));
            }
        }
    }

    // Review requests of the episode still open on T (spec §5: a request left open in a
    // discharged episode does not carry over).
    {
        let sql = format!(
            "SELECT r.episode_id, r.date FROM review_requests r
             WHERE r.voided_at IS NULL AND r.date <= ?1{} AND {CLOSED_BY_REVIEW_SQL} IS NULL
             ORDER BY r.date",
            scope.filter("r")
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params.as_slice())?;
        while let Some(r) = rows.next()? {
            if let Some(&i) = by_episode.get(text(r, 0)?) {
                snaps[i].open_requests.push(date(text(r, 1)?));
            }
        }
    }
    Ok(snaps)
}
