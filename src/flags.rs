//! Flags (spec §5): computed for a date from the registry's facts, never stored as truth.
//! `evaluate` derives every number the caseload shows for one episode, and its flags.

use serde::Serialize;

use crate::dates::{self, Date};
use crate::instruments::Instrument;
use crate::measures::{self, InstrumentMeasures, PatientOutcome, TargetMeasure};
use crate::settings::Settings;
use crate::snapshot::EpisodeSnapshot;
use crate::vocab::{EpisodeStatus, string_enum};

string_enum!(
    /// The spec's flags, in the order a care manager acts on them: safety first, then overdue
    /// work, then patients not improving.
    Flag {
        Safety => "safety",
        ContactOverdue => "contact-overdue",
        MeasurementOverdue => "measurement-overdue",
        NoBaseline => "no-baseline",
        ReviewOverdue => "review-overdue",
        NotImproving => "not-improving",
        Flagged => "flagged",
        ConsiderRelapsePrevention => "consider-relapse-prevention",
        LongEpisode => "long-episode",
        Inactive => "inactive",
    }
);

/// Everything derived for one episode on the as-of date.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct Evaluation {
    pub status: EpisodeStatus,
    #[ts(type = "number")]
    pub weeks_in_treatment: i64,
    /// The PHQ-9's and GAD-7's numbers, whatever the targets (the caseload's two columns).
    pub phq9: Option<InstrumentMeasures>,
    pub gad7: Option<InstrumentMeasures>,
    /// Each target by its primary scale (spec §3a).
    pub measures: Vec<TargetMeasure>,
    pub outcome: PatientOutcome,
    pub last_contact: Option<Date>,
    pub follow_up_due: Date,
    #[ts(type = "number")]
    pub contacts: i64,
    pub last_review: Option<Date>,
    /// The latest assessment on a primary scale.
    pub latest_measurement: Option<Date>,
    /// The date of the positive safety item (PHQ-9 item 9) while the safety flag is raised.
    pub safety_since: Option<Date>,
    /// The earliest open review request.
    pub flagged_since: Option<Date>,
    pub flags: Vec<Flag>,
}

pub(crate) fn evaluate(s: &EpisodeSnapshot, settings: &Settings, as_of: Date) -> Evaluation {
    let status = s.status.unwrap_or(EpisodeStatus::Active);
    let active = status == EpisodeStatus::Active;
    let measures_of = |i: Instrument| measures::measure(i, settings.rules(i), &s.points(i));
    let targets: Vec<TargetMeasure> = s.primary_scales.iter().filter_map(|p| measures::target_measure(*p, measures_of)).collect();
    let outcome = measures::patient_outcome(&targets);
    let weeks = dates::whole_weeks(s.start, as_of);
    // §5 reads the primary scales' assessments for no-baseline and measurement-overdue.
    let on_primary = |i: &Instrument| s.primary_scales.iter().any(|p| p.scale == i.scale());
    let latest_measurement = s.assessments.iter().rev().find(|(i, _)| on_primary(i)).map(|(_, p)| p.date);
    let last_review = s.reviews.last().copied();

    let due_days = if active { settings.contact_due_days_active } else { settings.contact_due_days_relapse_prevention };
    let follow_up_due = dates::add_days(s.last_contact.unwrap_or(s.start), due_days);

    // safety: the latest administration (any episode) of some instrument with a safety item
    // is positive, and no safety check is dated on or after it.
    let safety_since = s
        .latest_with_safety
        .iter()
        .map(|(_, p)| p)
        .filter(|p| p.safety == Some(true) && s.last_safety_check.is_none_or(|c| c < p.date))
        .map(|p| p.date)
        .min();

    // not-improving: a judged target (two assessments on its primary scale) is not improved.
    let not_improving = active && weeks >= settings.not_improving_weeks && targets.iter().any(|t| t.judged && !t.numbers.improved);
    let reviewed_recently = s.reviews.iter().any(|d| *d >= dates::add_days(as_of, -settings.review_overdue_days) && *d <= as_of);
    let every_target_in_remission =
        s.primary_scales.iter().all(|p| targets.iter().any(|t| t.target == p.target && t.judged && t.numbers.remission));

    let mut flags = Vec::new();
    let mut raise = |flag: Flag, when: bool| {
        if when {
            flags.push(flag);
        }
    };
    raise(Flag::Safety, safety_since.is_some());
    raise(Flag::ContactOverdue, as_of > follow_up_due);
    raise(
        Flag::MeasurementOverdue,
        active && latest_measurement.is_some_and(|d| dates::days_between(d, as_of) > settings.measurement_overdue_days),
    );
    raise(Flag::NoBaseline, active && latest_measurement.is_none());
    raise(Flag::ReviewOverdue, not_improving && !reviewed_recently);
    raise(Flag::NotImproving, not_improving);
    raise(Flag::Flagged, !s.open_requests.is_empty());
    raise(Flag::ConsiderRelapsePrevention, active && !s.primary_scales.is_empty() && every_target_in_remission);
    raise(Flag::LongEpisode, as_of >= dates::add_months(s.start, settings.long_episode_months as i32));
    // §9 inactivity: no clinical contact for [90] days (since the start when there was none)
    // suggests discharge; the day it is reached is the NYS report's effective discharge date.
    raise(Flag::Inactive, as_of >= dates::add_days(s.last_clinical_contact.unwrap_or(s.start), settings.inactivity_days));
    flags.sort();

    Evaluation {
        status,
        weeks_in_treatment: weeks,
        phq9: measures_of(Instrument::PHQ9),
        gad7: measures_of(Instrument::GAD7),
        measures: targets,
        outcome,
        last_contact: s.last_contact,
        follow_up_due,
        contacts: s.contact_count,
        last_review,
        latest_measurement,
        safety_since,
        flagged_since: s.open_requests.first().copied(),
        flags,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::dates::parse_date;
    use crate::measures::{Point, PrimaryScale};
    use crate::vocab::Target;

    pub(crate) fn d(s: &str) -> Date {
        parse_date("d", s).unwrap()
    }

    pub(crate) fn defaults() -> Settings {
        Settings {
            baseline_lookback_days: 14,
            contact_due_days_active: 14,
            contact_due_days_relapse_prevention: 30,
            measurement_overdue_days: 30,
            not_improving_weeks: 10,
            review_overdue_days: 60,
            long_episode_months: 9,
            inactivity_days: 90,
            new_patient_days: 28,
            billing_counts_pcp_minutes: false,
            billing_restart_gap_months: 6,
            target_contact_rate_pct: 80,
            target_improvement_rate_pct: 60,
            target_consultation_rate_pct: 80,
            caseload_guidance_min: 60,
            caseload_guidance_max: 120,
            lockout_attempts: 5,
            lockout_minutes: 15,
            auto_lock_minutes: 10,
            backup_keep: 14,
            adolescent_from_age: 12,
            adult_from_age: 18,
            // Empty: every form judged by its catalogue defaults.
            instrument_rules: Default::default(),
            thresholds: Vec::new(),
            mfa_required: crate::accounts::second_factor::MfaPolicy::Off,
            practice_type: crate::settings::PracticeType::PhysicianPractice,
            claim_date_of_service: crate::settings::ClaimDateOfService::MonthEnd,
            place_of_service: "11".into(),
            state_reporting: String::new(),
            questionnaire_expiry_days: 7,
            questionnaire_dob_tries: 5,
            measurement_cadence_days_active: 14,
            measurement_cadence_days_relapse_prevention: 30,
            patient_portal_url: String::new(),
            practice_phone: String::new(),
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_security: "starttls".into(),
            smtp_from: String::new(),
            smtp_user: String::new(),
            smtp_ca_file: String::new(),
            smtp_password_set: false,
        }
    }

    /// An active depression episode started 2026-01-01, contacted on 2026-06-01.
    pub(crate) fn episode() -> EpisodeSnapshot {
        EpisodeSnapshot {
            mrn: "M1".into(),
            name: "Pat".into(),
            start: d("2026-01-01"),
            targets: vec![Target::Depression],
            primary_scales: vec![PrimaryScale { target: Target::Depression, scale: "phq9" }],
            status: Some(EpisodeStatus::Active),
            last_contact: Some(d("2026-06-01")),
            last_clinical_contact: Some(d("2026-06-01")),
            contact_count: 5,
            ..Default::default()
        }
    }

    #[test]
    fn inactive_from_90_days_after_the_last_clinical_contact() {
        // §9: no clinical contact for 90 days. Last one 2026-06-01: + 90 days = 2026-08-30
        // (June has 30 days: 06-01 + 29 = 06-30, + 31 = 07-31, + 30 = 08-30). 08-29 is 89 days.
        let mut s = episode();
        assert!(!flags_on(&s, "2026-08-29").contains(&Flag::Inactive));
        assert!(flags_on(&s, "2026-08-30").contains(&Flag::Inactive));
        // Without any clinical contact, from the start: 2026-01-01 + 90 = 2026-04-01 (Jan 31 +
        // Feb 28 + Mar 31 = 90), though an outreach attempt (a contact, not a clinical one) was
        // logged: `last_contact` does not count.
        s.last_clinical_contact = None;
        s.last_contact = Some(d("2026-03-20"));
        assert!(!flags_on(&s, "2026-03-31").contains(&Flag::Inactive));
        assert!(flags_on(&s, "2026-04-01").contains(&Flag::Inactive));
        // The setting moves it: 60 days → 2026-03-02.
        let settings = Settings { inactivity_days: 60, ..defaults() };
        assert!(evaluate(&s, &settings, d("2026-03-02")).flags.contains(&Flag::Inactive));
        assert!(!evaluate(&s, &settings, d("2026-03-01")).flags.contains(&Flag::Inactive));
    }

    #[test]
    fn a_clinical_contact_is_a_treatment_kind_in_a_synchronous_mode() {
        use crate::vocab::{ContactKind as K, ContactMode as M, is_clinical_contact};
        assert!(is_clinical_contact(K::FollowUp, M::Phone) && is_clinical_contact(K::SafetyCheck, M::Video));
        assert!(is_clinical_contact(K::InitialAssessment, M::InPerson) && is_clinical_contact(K::RelapsePreventionPlan, M::Phone));
        // §9: not an outreach attempt, care coordination, a case review or other; not by portal or no mode.
        for k in [K::OutreachAttempt, K::CareCoordination, K::CaseReview, K::Other] {
            assert!(!is_clinical_contact(k, M::Phone), "{k}");
        }
        for m in [M::Portal, M::None] {
            assert!(!is_clinical_contact(K::FollowUp, m), "{m}");
        }
        assert_eq!(
            crate::vocab::clinical_contact_sql("c"),
            "c.kind IN ('initial-assessment', 'follow-up', 'safety-check', 'relapse-prevention-plan') AND c.mode IN ('in-person', 'phone', 'video')"
        );
    }

    pub(crate) fn phq(date: &str, total: u8, item9: u8) -> (Instrument, Point) {
        (Instrument::PHQ9, Point { date: d(date), total, safety: Some(item9 >= 1) })
    }

    fn gad(date: &str, total: u8) -> (Instrument, Point) {
        (Instrument::GAD7, Point { date: d(date), total, safety: None })
    }

    /// An adult's targets: PHQ-9 for depression, GAD-7 for anxiety.
    pub(crate) fn set_targets(s: &mut EpisodeSnapshot, targets: &[Target]) {
        s.targets = targets.to_vec();
        s.primary_scales =
            targets.iter().map(|t| PrimaryScale { target: *t, scale: if *t == Target::Anxiety { "gad7" } else { "phq9" } }).collect();
    }

    fn flags_on(s: &EpisodeSnapshot, as_of: &str) -> Vec<Flag> {
        evaluate(s, &defaults(), d(as_of)).flags
    }

    /// The patient's latest PHQ-9 (with item 9 known), as the snapshot loads it.
    fn latest_phq9(date: &str, total: u8, item9: u8) -> Vec<(Instrument, Point)> {
        vec![phq(date, total, item9)]
    }

    #[test]
    fn safety_until_a_safety_check_on_or_after_the_phq9() {
        let mut s = episode();
        s.assessments = vec![phq("2026-06-01", 12, 1)];
        s.latest_with_safety = latest_phq9("2026-06-01", 12, 1);
        assert!(flags_on(&s, "2026-06-02").contains(&Flag::Safety));
        s.last_safety_check = Some(d("2026-05-31"));
        assert!(flags_on(&s, "2026-06-02").contains(&Flag::Safety), "a check before the PHQ-9 does not clear it");
        s.last_safety_check = Some(d("2026-06-01"));
        assert!(!flags_on(&s, "2026-06-02").contains(&Flag::Safety), "a same-day check clears it");
        // Only the most recent PHQ-9 counts: a later one with item 9 = 0 ends it.
        s.last_safety_check = None;
        s.latest_with_safety = latest_phq9("2026-06-10", 12, 0);
        assert!(!flags_on(&s, "2026-06-12").contains(&Flag::Safety));
        // A GAD-7 after the positive PHQ-9 does not hide it (the latest PHQ-9 is still the positive one).
        s.assessments = vec![phq("2026-06-01", 12, 2), gad("2026-06-05", 3)];
        s.latest_with_safety = latest_phq9("2026-06-01", 12, 2);
        assert!(flags_on(&s, "2026-06-06").contains(&Flag::Safety));
    }

    #[test]
    fn safety_from_a_phq9_of_an_earlier_episode() {
        // §5: "the patient's most recent PHQ-9 on or before T, in whichever episode". Item 9 = 2
        // on 2026-03-01 in a discharged episode; re-enrolled 2026-06-01 (window from 2026-05-18)
        // with no PHQ-9 and no safety check since: the episode has no assessment, and the flag
        // is raised, waiting since 2026-03-01.
        let mut s = episode();
        s.start = d("2026-06-01");
        s.last_contact = None;
        s.latest_with_safety = latest_phq9("2026-03-01", 14, 2);
        let e = evaluate(&s, &defaults(), d("2026-06-02"));
        assert!(e.flags.contains(&Flag::Safety) && e.flags.contains(&Flag::NoBaseline), "{:?}", e.flags);
        assert_eq!(e.safety_since, Some(d("2026-03-01")));
        // A safety check on 2026-06-02 (on or after the PHQ-9's date) clears it.
        s.last_safety_check = Some(d("2026-06-02"));
        assert!(!flags_on(&s, "2026-06-02").contains(&Flag::Safety));
    }

    #[test]
    fn no_baseline_only_while_active_without_assessments() {
        let mut s = episode();
        assert!(flags_on(&s, "2026-06-02").contains(&Flag::NoBaseline));
        s.status = Some(EpisodeStatus::RelapsePrevention);
        assert!(!flags_on(&s, "2026-06-02").contains(&Flag::NoBaseline));
        s.status = Some(EpisodeStatus::Active);
        // By the primary scales (issue 19): a GAD-7 is no baseline for a depression-only
        // episode; a PHQ-9 is.
        s.assessments = vec![gad("2026-05-20", 8)];
        assert!(flags_on(&s, "2026-06-02").contains(&Flag::NoBaseline));
        s.assessments.push(phq("2026-05-21", 8, 0));
        assert!(!flags_on(&s, "2026-06-02").contains(&Flag::NoBaseline));
    }

    #[test]
    fn contact_overdue_after_14_days_active_30_in_relapse_prevention() {
        let mut s = episode(); // last contact 2026-06-01
        assert!(!flags_on(&s, "2026-06-15").contains(&Flag::ContactOverdue), "due on day 14: not yet overdue");
        assert!(flags_on(&s, "2026-06-16").contains(&Flag::ContactOverdue));
        s.status = Some(EpisodeStatus::RelapsePrevention);
        assert!(!flags_on(&s, "2026-07-01").contains(&Flag::ContactOverdue));
        assert!(flags_on(&s, "2026-07-02").contains(&Flag::ContactOverdue));
        // No contact yet: due from the start date.
        let mut s = episode();
        s.last_contact = None;
        assert_eq!(evaluate(&s, &defaults(), d("2026-01-10")).follow_up_due, d("2026-01-15"));
        assert!(flags_on(&s, "2026-01-16").contains(&Flag::ContactOverdue));
    }

    #[test]
    fn measurement_overdue_after_30_days() {
        let mut s = episode();
        s.assessments = vec![phq("2026-05-01", 12, 0)];
        assert!(!flags_on(&s, "2026-05-31").contains(&Flag::MeasurementOverdue), "30 days: not more than 30");
        assert!(flags_on(&s, "2026-06-01").contains(&Flag::MeasurementOverdue));
        s.status = Some(EpisodeStatus::RelapsePrevention);
        assert!(!flags_on(&s, "2026-06-01").contains(&Flag::MeasurementOverdue));
    }

    #[test]
    fn not_improving_from_week_10_and_review_overdue_after_60_days() {
        let mut s = episode(); // start 2026-01-01; week 10 begins 2026-03-12
        s.last_contact = Some(d("2026-03-10"));
        s.assessments = vec![phq("2025-12-20", 18, 0), phq("2026-03-01", 15, 0)];
        assert!(!flags_on(&s, "2026-03-11").contains(&Flag::NotImproving), "9 weeks");
        let f = flags_on(&s, "2026-03-12");
        assert!(f.contains(&Flag::NotImproving) && f.contains(&Flag::ReviewOverdue), "{f:?}");
        // A review in the 60 days up to T clears review-overdue only.
        s.reviews = vec![d("2026-01-11")];
        let f = flags_on(&s, "2026-03-12"); // 2026-01-11 is T − 60
        assert!(f.contains(&Flag::NotImproving) && !f.contains(&Flag::ReviewOverdue), "{f:?}");
        s.reviews = vec![d("2026-01-10")]; // T − 61
        assert!(flags_on(&s, "2026-03-12").contains(&Flag::ReviewOverdue));
        // Improved (latest < 10) is not flagged; one assessment is not judged.
        s.assessments = vec![phq("2025-12-20", 18, 0), phq("2026-03-01", 9, 0)];
        assert!(!flags_on(&s, "2026-03-12").contains(&Flag::NotImproving));
        s.assessments = vec![phq("2025-12-20", 18, 0)];
        assert!(!flags_on(&s, "2026-03-12").contains(&Flag::NotImproving));
    }

    #[test]
    fn not_improving_on_any_target_instrument() {
        let mut s = episode();
        set_targets(&mut s, &[Target::Depression, Target::Anxiety]);
        s.assessments = vec![phq("2026-01-01", 18, 0), gad("2026-01-01", 16), phq("2026-03-01", 6, 0), gad("2026-03-01", 14)];
        assert!(flags_on(&s, "2026-03-20").contains(&Flag::NotImproving));
        // GAD-7 is not a target of a depression-only episode.
        set_targets(&mut s, &[Target::Depression]);
        assert!(!flags_on(&s, "2026-03-20").contains(&Flag::NotImproving));
    }

    #[test]
    fn flagged_while_a_request_is_open() {
        let mut s = episode();
        s.open_requests = vec![d("2026-06-01")];
        let e = evaluate(&s, &defaults(), d("2026-06-02"));
        assert!(e.flags.contains(&Flag::Flagged));
        assert_eq!(e.flagged_since, Some(d("2026-06-01")));
    }

    #[test]
    fn consider_relapse_prevention_when_every_target_remits() {
        let mut s = episode();
        set_targets(&mut s, &[Target::Depression, Target::Anxiety]);
        s.assessments = vec![phq("2026-01-01", 18, 0), gad("2026-01-01", 12), phq("2026-05-20", 4, 0), gad("2026-05-20", 5)];
        assert!(!flags_on(&s, "2026-06-02").contains(&Flag::ConsiderRelapsePrevention));
        s.assessments.push(gad("2026-05-30", 4));
        assert!(flags_on(&s, "2026-06-02").contains(&Flag::ConsiderRelapsePrevention));
        s.status = Some(EpisodeStatus::RelapsePrevention);
        assert!(!flags_on(&s, "2026-06-02").contains(&Flag::ConsiderRelapsePrevention));
    }

    #[test]
    fn long_episode_at_nine_calendar_months() {
        let s = episode(); // start 2026-01-01
        assert!(!flags_on(&s, "2026-09-30").contains(&Flag::LongEpisode));
        assert!(flags_on(&s, "2026-10-01").contains(&Flag::LongEpisode));
        let mut s = episode();
        s.start = d("2025-05-31");
        assert!(flags_on(&s, "2026-02-28").contains(&Flag::LongEpisode), "May 31 + 9 months clamps to Feb 28");
        assert!(!flags_on(&s, "2026-02-27").contains(&Flag::LongEpisode));
    }
}
