//! The psychiatric consultant's queue (spec §6): each patient once, with every reason that
//! applies and the date it has been waiting since, most urgent first.

use serde::Serialize;

use crate::dates::{self, Date};
use crate::flags::{self, Evaluation, Flag};
use crate::measures::InstrumentMeasures;
use crate::settings::Settings;
use crate::snapshot::{self, EpisodeSnapshot, Scope};
use crate::vocab::{EpisodeStatus, string_enum};
use crate::{Registry, Result};

string_enum!(
    /// Why a patient is in the queue, most urgent first.
    QueueReason {
        Safety => "safety",
        Flagged => "flagged",
        NotImproving => "not-improving",
        NewPatient => "new-patient",
    }
);

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct ReasonSince {
    pub reason: QueueReason,
    pub since: Date,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct QueueEntry {
    pub mrn: String,
    pub name: String,
    pub patient_id: String,
    pub care_manager: Option<String>,
    pub status: EpisodeStatus,
    #[ts(type = "number")]
    pub weeks_in_treatment: i64,
    pub last_review: Option<Date>,
    pub phq9: Option<InstrumentMeasures>,
    pub gad7: Option<InstrumentMeasures>,
    /// Most urgent first.
    pub reasons: Vec<ReasonSince>,
}

/// The reasons one episode is in the queue on `as_of` (empty when it is not).
pub(crate) fn reasons(s: &EpisodeSnapshot, e: &Evaluation, settings: &Settings, as_of: Date) -> Vec<ReasonSince> {
    let mut out = Vec::new();
    if let Some(since) = e.safety_since {
        out.push(ReasonSince { reason: QueueReason::Safety, since });
    }
    if let Some(since) = e.flagged_since {
        out.push(ReasonSince { reason: QueueReason::Flagged, since });
    }
    if e.flags.contains(&Flag::ReviewOverdue) {
        let since = match e.last_review {
            None => dates::add_days(s.start, 7 * settings.not_improving_weeks),
            Some(last) => dates::add_days(last, settings.review_overdue_days + 1),
        };
        out.push(ReasonSince { reason: QueueReason::NotImproving, since });
    }
    let new = e.status == EpisodeStatus::Active
        && dates::days_between(s.start, as_of) <= settings.new_patient_days
        && !s.reviews.iter().any(|d| *d >= s.start);
    if new {
        out.push(ReasonSince { reason: QueueReason::NewPatient, since: s.start });
    }
    out
}

/// Queue order: most urgent reason, then waiting longest on it, then MRN.
pub(crate) fn sort(entries: &mut [QueueEntry]) {
    entries.sort_by(|a, b| {
        let key = |q: &QueueEntry| (q.reasons[0].reason, q.reasons[0].since);
        key(a).cmp(&key(b)).then_with(|| a.mrn.cmp(&b.mrn))
    });
}

/// The queue with one patient's entry replaced by `entry` (or taken out when `None`), in the
/// spec's order: what a change to that one patient does to the whole queue.
pub fn with_entry(entries: &[QueueEntry], patient_id: &str, entry: Option<QueueEntry>) -> Vec<QueueEntry> {
    let mut out: Vec<QueueEntry> = entries.iter().filter(|e| e.patient_id != patient_id).cloned().chain(entry).collect();
    sort(&mut out);
    out
}

impl Registry {
    /// The consult queue on `as_of`, in the spec's order.
    pub fn queue(&self, as_of: Date) -> Result<Vec<QueueEntry>> {
        self.queue_in(as_of, Scope::Practice)
    }

    /// One patient's queue entry on `as_of`, if they are in the queue then (with their id).
    pub fn queue_entry(&self, mrn: &str, as_of: Date) -> Result<(String, Option<QueueEntry>)> {
        let patient = crate::patients::find_by_mrn(&self.conn, mrn)?;
        Ok((patient.id.clone(), self.queue_in(as_of, Scope::Patient(&patient.id))?.pop()))
    }

    fn queue_in(&self, as_of: Date, scope: Scope) -> Result<Vec<QueueEntry>> {
        let settings = self.settings()?;
        let snaps = snapshot::load(&self.conn, as_of, scope, &settings)?;
        let mut entries: Vec<QueueEntry> = snaps
            .iter()
            .filter_map(|s| {
                let e = flags::evaluate(s, &settings, as_of);
                let reasons = reasons(s, &e, &settings, as_of);
                (!reasons.is_empty()).then(|| QueueEntry {
                    mrn: s.mrn.clone(),
                    name: s.name.clone(),
                    patient_id: s.patient_id.clone(),
                    care_manager: s.care_manager.clone(),
                    status: e.status,
                    weeks_in_treatment: e.weeks_in_treatment,
                    last_review: e.last_review,
                    phq9: e.phq9,
                    gad7: e.gad7,
                    reasons,
                })
            })
            .collect();
        sort(&mut entries);
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::tests::{d, defaults, episode, phq};

    fn reasons_on(s: &EpisodeSnapshot, as_of: &str) -> Vec<ReasonSince> {
        let e = flags::evaluate(s, &defaults(), d(as_of));
        reasons(s, &e, &defaults(), d(as_of))
    }

    fn entry(mrn: &str, reason: QueueReason, since: &str) -> QueueEntry {
        QueueEntry {
            mrn: mrn.into(),
            name: mrn.into(),
            patient_id: mrn.into(),
            care_manager: None,
            status: EpisodeStatus::Active,
            weeks_in_treatment: 0,
            last_review: None,
            phq9: None,
            gad7: None,
            reasons: vec![ReasonSince { reason, since: d(since) }],
        }
    }

    #[test]
    fn new_patient_for_28_days_until_reviewed() {
        let mut s = episode(); // start 2026-01-01
        s.last_contact = Some(d("2026-01-20"));
        let r = reasons_on(&s, "2026-01-29"); // day 28
        assert_eq!(r, vec![ReasonSince { reason: QueueReason::NewPatient, since: d("2026-01-01") }]);
        assert!(reasons_on(&s, "2026-01-30").is_empty(), "day 29 is no longer new");
        s.reviews = vec![d("2026-01-15")];
        assert!(reasons_on(&s, "2026-01-20").is_empty(), "reviewed since enrolment");
    }

    #[test]
    fn not_improving_waits_since_week_10_or_61_days_after_the_last_review() {
        let mut s = episode();
        s.assessments = vec![phq("2026-01-01", 18, 0), phq("2026-05-20", 16, 0)];
        let r = reasons_on(&s, "2026-06-02");
        assert_eq!(r, vec![ReasonSince { reason: QueueReason::NotImproving, since: d("2026-03-12") }]);
        s.reviews = vec![d("2026-03-20")];
        let r = reasons_on(&s, "2026-06-02");
        assert_eq!(r[0].since, d("2026-05-20"), "2026-03-20 + 61 days");
        s.reviews = vec![d("2026-04-10")];
        assert!(reasons_on(&s, "2026-06-02").is_empty(), "reviewed in the last 60 days");
    }

    #[test]
    fn every_reason_with_its_since_date() {
        let mut s = episode();
        s.start = d("2026-05-20");
        s.assessments = vec![phq("2026-05-25", 20, 2)];
        s.latest_with_safety = vec![s.assessments[0]];
        s.open_requests = vec![d("2026-05-28"), d("2026-05-30")];
        let r = reasons_on(&s, "2026-06-02");
        let got: Vec<(&str, String)> = r.iter().map(|x| (x.reason.as_str(), x.since.to_string())).collect();
        assert_eq!(got, vec![("safety", "2026-05-25".into()), ("flagged", "2026-05-28".into()), ("new-patient", "2026-05-20".into())]);
    }

    #[test]
    fn ordered_by_most_urgent_reason_then_longest_wait_then_mrn() {
        let mut q = vec![
            entry("M5", QueueReason::NewPatient, "2026-01-01"),
            entry("M4", QueueReason::NotImproving, "2026-01-02"),
            entry("M3", QueueReason::Safety, "2026-03-01"),
            entry("M2", QueueReason::Safety, "2026-02-01"),
            entry("M1", QueueReason::Safety, "2026-03-01"),
            entry("M0", QueueReason::Flagged, "2025-01-01"),
        ];
        sort(&mut q);
        let order: Vec<&str> = q.iter().map(|e| e.mrn.as_str()).collect();
        assert_eq!(order, vec!["M2", "M1", "M3", "M0", "M4", "M5"]);
    }
}
