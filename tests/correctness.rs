//! The review's findings (issue 11), each proved on a real registry with its expected value
//! worked out by hand from `cocm-spec.md` in the comments: months without a rule set, safety
//! across episodes, `none` months, two episodes in a month, the 99494 cap, requests that belong
//! to their episode, the chart as of a past date, and undoing a wrong enrolment, consent or
//! status change.

mod common;

use cocm::Registry;
use cocm::contacts::NewContact;
use cocm::episodes::Episode;
use cocm::flags::Flag;
use cocm::queue::QueueReason;
use cocm::reviews::{NewCaseReview, NewReviewRequest};
use cocm::treatment::NewTreatmentChange;
use cocm::vocab::{DischargeReason, EpisodeStatus};
use cocm::voids::RecordKind;
use common::{add_patient, cocm as run, contact, d, dump, enroll, month, phq, setup};

/// PHQ-9 answers: total 14, item 9 = 2 (a positive suicide-risk screen).
const ITEM9_POSITIVE: [i64; 9] = [2, 2, 2, 2, 2, 2, 0, 0, 2];
/// PHQ-9 answers: total 15, item 9 = 0.
const MODERATELY_SEVERE: [i64; 9] = [2, 2, 2, 2, 2, 2, 2, 1, 0];

fn flags(r: &Registry, mrn: &str, as_of: &str) -> Vec<Flag> {
    r.caseload(d(as_of), None).unwrap().into_iter().find(|row| row.mrn == mrn).map(|row| row.flags).unwrap_or_default()
}

fn queue_reasons(r: &Registry, mrn: &str, as_of: &str) -> Vec<(QueueReason, String)> {
    let entry = r.queue(d(as_of)).unwrap().into_iter().find(|q| q.mrn == mrn);
    entry.map(|q| q.reasons.into_iter().map(|x| (x.reason, x.since.to_string())).collect()).unwrap_or_default()
}

fn kind(r: &mut Registry, mrn: &str, date: &str, minutes: i64, kind: &str) -> String {
    let c = NewContact { date: date.into(), minutes, by: "CM".into(), kind: Some(kind.into()), ..Default::default() };
    r.log_contact(mrn, &c).unwrap()
}

fn review(r: &mut Registry, mrn: &str, date: &str) -> String {
    r.record_case_review(mrn, &NewCaseReview { date: date.into(), by: "PSY".into(), note: "reviewed".into(), ..Default::default() })
        .unwrap()
}

fn request(r: &mut Registry, mrn: &str, date: &str) -> String {
    let q = NewReviewRequest { date: Some(date.into()), by: "CM".into(), reason: "not improving".into() };
    r.request_review(mrn, &q).unwrap()
}

fn discharge(r: &mut Registry, mrn: &str, date: &str) {
    r.change_status(mrn, EpisodeStatus::Discharged, date, Some(DischargeReason::Moved)).unwrap();
}

fn episodes(r: &Registry, mrn: &str) -> Vec<Episode> {
    r.episodes(mrn).unwrap()
}

// 1. A month with contacts but no billing rule set.

#[test]
fn a_year_without_a_rule_set_still_reports_charts_and_shows_its_minutes() {
    // Only the 2025 and 2026 rule sets exist. P2 was enrolled (with consent) on 2024-04-01,
    // had a PHQ-9 of 15 that day and one on 2024-05-15, and a 40-minute contact on 2024-05-10.
    let (_t, mut r) = setup();
    add_patient(&mut r, "P2");
    enroll(&mut r, "P2", "2024-04-01", Some("2024-04-01"));
    phq(&mut r, "P2", "2024-04-01", MODERATELY_SEVERE);
    phq(&mut r, "P2", "2024-05-15", MODERATELY_SEVERE);
    contact(&mut r, "P2", "2024-05-10", 40, "CM");

    // The May 2024 report computes: P2 is on the caseload during May and had both a contact
    // (05-10) and an assessment (05-15) in it, so the contact rate is 1 of 1. Billing shows
    // the 40 minutes and no code.
    let may = r.report(d("2024-05-01"), d("2024-05-31"), d("2024-06-30"), None).unwrap();
    assert_eq!((may.contact_rate.numerator, may.contact_rate.denominator), (1, 1));
    assert_eq!((may.billing.minutes, may.billing.units.len()), (40, 0));

    // The chart as of 2024-05-20 computes, with the month so far: 40 minutes, no code, the warning.
    let chart = r.patient_chart("P2", d("2024-05-20")).unwrap();
    let month = chart.billing_this_month.expect("May's minutes");
    assert_eq!((month.minutes, month.codes.len(), month.codes_text.as_str()), (40, 0, ""));
    assert_eq!(month.warnings[0], "no cocm billing rule set for 2024: add one in Team & settings");
    assert_eq!(month.minutes_to_next_tier, None, "no rules, no tiers");

    // Through the CLI too.
    drop(r);
    let out = run(&_t.path, &["report", "--from", "2024-05", "--as-of", "2024-06-30", "--json"]);
    assert!(out.ok, "{}", out.stderr);
    let out = run(&_t.path, &["patient", "show", "P2", "--as-of", "2024-05-20"]);
    assert!(out.ok && out.stdout.contains("40 countable minutes (no code yet)"), "{}{}", out.stdout, out.stderr);
}

// 2. Safety looks at the most recent PHQ-9 in whichever episode.

#[test]
fn safety_carries_into_a_new_episode_until_a_safety_check() {
    // P1: PHQ-9 with item 9 = 2 on 2025-11-03 (episode 1), discharged 2025-12-01, enrolled
    // again 2026-01-05 with no PHQ-9 since. §5: the most recent PHQ-9 on or before T, in
    // whichever episode, has item 9 ≥ 1 and no safety check is dated on or after 2025-11-03.
    let (_t, mut r) = setup();
    phq(&mut r, "P1", "2025-11-03", ITEM9_POSITIVE);
    discharge(&mut r, "P1", "2025-12-01");
    enroll(&mut r, "P1", "2026-01-05", Some("2026-01-05"));
    assert!(flags(&r, "P1", "2026-01-06").contains(&Flag::Safety));
    assert_eq!(queue_reasons(&r, "P1", "2026-01-06")[0], (QueueReason::Safety, "2025-11-03".to_string()));

    // A safety check dated 2026-01-07 is after T = 2026-01-06: it does not clear the flag then.
    let check = kind(&mut r, "P1", "2026-01-07", 10, "safety-check");
    assert!(flags(&r, "P1", "2026-01-06").contains(&Flag::Safety), "a check after T does not count");
    assert!(!flags(&r, "P1", "2026-01-07").contains(&Flag::Safety), "on its own date it clears");
    // Entered in error, it clears nothing.
    r.mark_entered_in_error(RecordKind::Contact, &check, "wrong patient").unwrap();
    assert!(flags(&r, "P1", "2026-01-08").contains(&Flag::Safety), "a voided check does not count");
}

// Two PHQ-9s on one day: the one entered last is the latest (the indexes order same-day
// assessments by entry, migration 0007).

#[test]
fn of_two_same_day_phq9s_the_one_entered_last_is_the_latest() {
    // P1 (enrolled 2025-11-03 by setup): PHQ-9 item 9 = 2 entered first, then an all-zero PHQ-9
    // on the same day (a corrected re-screen). §5: the latest PHQ-9 has item 9 = 0, so no
    // safety flag; the latest PHQ-9 total is 0.
    let (_t, mut r) = setup();
    phq(&mut r, "P1", "2025-11-03", ITEM9_POSITIVE);
    phq(&mut r, "P1", "2025-11-03", [0; 9]);
    assert!(!flags(&r, "P1", "2025-11-04").contains(&Flag::Safety));
    let row = r.caseload(d("2025-11-04"), None).unwrap().into_iter().find(|row| row.mrn == "P1").unwrap();
    assert_eq!(row.phq9.unwrap().latest, 0);
    // Entered the other way round, the positive screen is the latest and raises the flag.
    let (_t, mut r) = setup();
    phq(&mut r, "P1", "2025-11-03", [0; 9]);
    phq(&mut r, "P1", "2025-11-03", ITEM9_POSITIVE);
    assert!(flags(&r, "P1", "2025-11-04").contains(&Flag::Safety));
}

// 3. A month with no countable minutes has no kind and does not start the initial month.

#[test]
fn a_month_without_countable_minutes_is_none_and_starts_nothing() {
    // P2 enrolled 2025-12-01 without consent: December's 30 minutes are excluded (no consent).
    // Consent on 2026-01-01, then 20 minutes on 2026-01-05.
    let (_t, mut r) = setup();
    add_patient(&mut r, "P2");
    enroll(&mut r, "P2", "2025-12-01", None);
    contact(&mut r, "P2", "2025-12-10", 30, "CM");
    r.record_consent("P2", "2026-01-01").unwrap();
    contact(&mut r, "P2", "2026-01-05", 20, "CM");

    // December: 0 countable minutes → `none`, no code; 16 minutes would reach G2214 (an initial
    // month's first code, 16–35 minutes).
    let dec = r.patient_billing("P2", month("2025-12")).unwrap().unwrap();
    assert_eq!((dec.month_kind.as_str(), dec.minutes, dec.codes.len()), ("none", 0, 0));
    assert_eq!(dec.minutes_to_next_tier, Some(16));
    // January is the first month with countable minutes, so it is initial (not subsequent to a
    // `none` December): 20 initial minutes → G2214.
    let jan = r.patient_billing("P2", month("2026-01")).unwrap().unwrap();
    assert_eq!((jan.month_kind.as_str(), jan.codes_text.as_str()), ("initial", "G2214"));
    // The CSV says `none` too.
    let csv = cocm::billing::to_csv(&r.billing(month("2025-12")).unwrap()).unwrap();
    assert!(csv.lines().any(|l| l.starts_with("P2,") && l.contains(",2025-12,none,0,30,")), "{csv}");
}

#[test]
fn five_empty_months_stay_subsequent_through_the_database() {
    // P1 (enrolled 2025-11-03, consent): 40 minutes in November 2025, then December–April
    // empty (5 whole months, fewer than 6), then 40 minutes in May 2026 → subsequent, and 40
    // subsequent minutes (31–75) → 99493.
    let (_t, mut r) = setup();
    contact(&mut r, "P1", "2025-11-10", 40, "CM");
    contact(&mut r, "P1", "2026-05-04", 40, "CM");
    let may = r.patient_billing("P1", month("2026-05")).unwrap().unwrap();
    assert_eq!((may.month_kind.as_str(), may.codes_text.as_str()), ("subsequent", "99493"));
}

// 4. Two episodes in one month.

#[test]
fn two_episodes_in_a_month_bill_on_their_own_rows() {
    // P1: 40 minutes on 2025-11-10 (initial), then 40 minutes on 2026-03-05; December–February
    // are 3 empty months, so March is subsequent for episode 1: 40 subsequent minutes → 99493.
    // Discharged 2026-03-10; enrolled again 2026-03-20 with consent, 20 minutes on 2026-03-25:
    // a new episode starts over, so its March is initial: 20 initial minutes → G2214.
    let (_t, mut r) = setup();
    contact(&mut r, "P1", "2025-11-10", 40, "CM");
    contact(&mut r, "P1", "2026-03-05", 40, "CM");
    r.change_status("P1", EpisodeStatus::Discharged, "2026-03-10", Some(DischargeReason::Declined)).unwrap();
    enroll(&mut r, "P1", "2026-03-20", Some("2026-03-20"));
    contact(&mut r, "P1", "2026-03-25", 20, "CM");

    let march = r.billing(month("2026-03")).unwrap();
    let rows: Vec<(String, &str, u32, &str)> =
        march.iter().map(|x| (x.episode_start.to_string(), x.month_kind.as_str(), x.minutes, x.codes_text.as_str())).collect();
    assert_eq!(rows, [("2025-11-03".into(), "subsequent", 40, "99493"), ("2026-03-20".into(), "initial", 20, "G2214")]);
    assert!(march[0].warnings.iter().any(|w| w.starts_with("2 episodes this month")), "{:?}", march[0].warnings);
    // Totals: one patient; 60 minutes; 99493 $145 + G2214 $61 = $206.
    let totals = cocm::billing::totals(&march);
    assert_eq!((totals.patients, totals.minutes, totals.estimated_revenue), (1, 60, 206.0));
    // The chart's month is the current episode's row.
    assert_eq!(r.patient_billing("P1", month("2026-03")).unwrap().unwrap().episode_start, d("2026-03-20"));
    // The CSV has a line per episode.
    let csv = cocm::billing::to_csv(&march).unwrap();
    assert_eq!(csv.lines().filter(|l| l.starts_with("P1,")).count(), 2, "{csv}");
}

// 5. A 99494 cap of 0.

#[test]
fn a_99494_cap_of_zero_is_refused_and_changes_nothing() {
    let (t, mut r) = setup();
    let mut rules = r.billing_rules(2026).unwrap().rules;
    rules.initial.addon.as_mut().unwrap().max_units = Some(0);
    let before = dump(&t.path);
    let e = r.set_billing_rules(2026, &rules).unwrap_err();
    assert_eq!(e.code(), "validation");
    assert_eq!(e.to_string(), "rules.initial: a cap on 99494 units must be at least 1; leave it empty for no cap");
    assert_eq!(dump(&t.path), before);
}

// 6. Review requests belong to their episode; open and closed is one SQL rule.

#[test]
fn an_open_request_of_a_discharged_episode_does_not_carry_over() {
    // A request on 2025-11-20 in episode 1, never reviewed; discharged 2025-12-01, enrolled
    // again 2026-01-05. On 2026-01-06 the new episode is not flagged, and its only queue
    // reason is new-patient (active, 1 day ≤ 28, never reviewed) since 2026-01-05.
    let (_t, mut r) = setup();
    request(&mut r, "P1", "2025-11-20");
    assert!(flags(&r, "P1", "2025-11-25").contains(&Flag::Flagged), "open in its own episode");
    discharge(&mut r, "P1", "2025-12-01");
    enroll(&mut r, "P1", "2026-01-05", Some("2026-01-05"));
    assert!(!flags(&r, "P1", "2026-01-06").contains(&Flag::Flagged));
    assert_eq!(queue_reasons(&r, "P1", "2026-01-06"), [(QueueReason::NewPatient, "2026-01-05".to_string())]);
}

#[test]
fn a_request_is_closed_by_a_review_on_or_after_it_up_to_the_as_of_date() {
    let (_t, mut r) = setup(); // P1 enrolled 2025-11-03
    review(&mut r, "P1", "2026-01-09");
    request(&mut r, "P1", "2026-01-10");
    let open_on = |r: &Registry, as_of: &str| {
        let chart = r.patient_chart("P1", d(as_of)).unwrap();
        (chart.review_requests[0].closed_by_review_on.map(|x| x.to_string()), flags(r, "P1", as_of).contains(&Flag::Flagged))
    };
    // The review of 01-09 is before the request: it stays open.
    assert_eq!(open_on(&r, "2026-01-10"), (None, true));
    // A review dated the same day as the request closes it.
    let same_day = review(&mut r, "P1", "2026-01-10");
    assert_eq!(open_on(&r, "2026-01-10"), (Some("2026-01-10".into()), false));
    // Entered in error, that review no longer closes it.
    r.mark_entered_in_error(RecordKind::Review, &same_day, "wrong patient").unwrap();
    assert_eq!(open_on(&r, "2026-01-12"), (None, true));
    // A review on 01-15 closes it from 01-15, not before: as of 01-12 it is open.
    review(&mut r, "P1", "2026-01-15");
    assert_eq!(open_on(&r, "2026-01-12"), (None, true));
    assert_eq!(open_on(&r, "2026-01-15"), (Some("2026-01-15".into()), false));
}

// 7. The chart as of a past date sees nothing after it.

#[test]
fn the_chart_as_of_a_past_date_shows_nothing_after_it() {
    let (_t, mut r) = setup(); // P1 enrolled 2025-11-03 with consent
    phq(&mut r, "P1", "2025-11-03", MODERATELY_SEVERE);
    contact(&mut r, "P1", "2025-11-10", 30, "CM");
    contact(&mut r, "P1", "2025-11-20", 20, "CM");
    phq(&mut r, "P1", "2025-11-21", MODERATELY_SEVERE);
    review(&mut r, "P1", "2025-11-25");
    request(&mut r, "P1", "2025-11-24");
    let change = NewTreatmentChange { date: "2025-11-26".into(), kind: "medication-started".into(), description: "sertraline".into() };
    r.record_treatment_change("P1", &change).unwrap();
    discharge(&mut r, "P1", "2025-12-15");

    // As of 2025-11-15: one assessment, one contact (30 min), no review, request or treatment
    // change; this month so far: 30 initial minutes → G2214, 6 minutes to 99492 (36).
    let chart = r.patient_chart("P1", d("2025-11-15")).unwrap();
    assert_eq!((chart.assessments.len(), chart.contacts.len()), (1, 1));
    assert!(chart.case_reviews.is_empty() && chart.review_requests.is_empty() && chart.treatment_changes.is_empty());
    assert!(chart.trend.markers.is_empty());
    let month = chart.billing_this_month.unwrap();
    assert_eq!((month.minutes, month.codes_text.as_str(), month.minutes_to_next_tier), (30, "G2214", Some(6)));
    // The episode was active then; its discharge on 12-15 is not yet seen.
    let e = &chart.episodes[0];
    assert_eq!((e.status, e.discharge_date, e.status_history.len()), (EpisodeStatus::Active, None, 1));

    // As of 2025-12-20 everything is there and the episode is discharged.
    let chart = r.patient_chart("P1", d("2025-12-20")).unwrap();
    assert_eq!((chart.assessments.len(), chart.contacts.len(), chart.case_reviews.len()), (2, 2, 1));
    assert_eq!((chart.episodes[0].status, chart.episodes[0].discharge_date), (EpisodeStatus::Discharged, Some(d("2025-12-15"))));
}

// 8. Undo any wrong entry: enrolment, consent, status change.

#[test]
fn voiding_a_discharge_reopens_the_episode_as_it_was() {
    let (t, mut r) = setup(); // P1 enrolled 2025-11-03
    r.change_status("P1", EpisodeStatus::RelapsePrevention, "2025-12-01", None).unwrap();
    r.change_status("P1", EpisodeStatus::Discharged, "2026-01-10", Some(DischargeReason::GoalsMet)).unwrap();
    assert!(r.caseload(d("2026-01-12"), None).unwrap().is_empty());
    let history = episodes(&r, "P1")[0].status_history.clone();
    let (enrolment, relapse_prevention, discharged) = (&history[0].id, &history[1].id, &history[2].id);

    // Bad input changes nothing: the enrolment's own `active`, a change that is not the latest,
    // an unknown id, an empty reason.
    let before = dump(&t.path);
    let e = r.mark_entered_in_error(RecordKind::StatusChange, enrolment, "wrong").unwrap_err();
    assert_eq!(e.code(), "validation", "{e}");
    let e = r.mark_entered_in_error(RecordKind::StatusChange, relapse_prevention, "wrong").unwrap_err();
    assert_eq!(e.code(), "conflict", "{e}");
    assert!(e.to_string().contains(&format!("void {discharged} (discharged on 2026-01-10) first")), "{e}");
    assert_eq!(r.mark_entered_in_error(RecordKind::StatusChange, "99999", "wrong").unwrap_err().code(), "not_found");
    assert_eq!(r.mark_entered_in_error(RecordKind::StatusChange, discharged, " ").unwrap_err().code(), "validation");
    assert_eq!(dump(&t.path), before);

    // Voiding the discharge restores relapse prevention, open again, on the caseload.
    r.mark_entered_in_error(RecordKind::StatusChange, discharged, "discharged the wrong patient").unwrap();
    let e = &episodes(&r, "P1")[0];
    assert_eq!((e.status, e.discharge_date, e.discharge_reason), (EpisodeStatus::RelapsePrevention, None, None));
    assert!(e.status_history[2].entered_in_error.is_some(), "the row is kept, marked");
    let rows = r.caseload(d("2026-01-12"), None).unwrap();
    assert_eq!((rows.len(), rows[0].status), (1, EpisodeStatus::RelapsePrevention));
    // Then the relapse-prevention change can be voided too: active again.
    r.mark_entered_in_error(RecordKind::StatusChange, relapse_prevention, "never started").unwrap();
    assert_eq!(episodes(&r, "P1")[0].status, EpisodeStatus::Active);
    // And a new discharge can be recorded on the reopened episode.
    discharge(&mut r, "P1", "2026-02-01");
    assert_eq!(episodes(&r, "P1")[0].discharge_date, Some(d("2026-02-01")));
}

#[test]
fn a_discharge_cannot_be_voided_once_the_patient_is_enrolled_again() {
    let (t, mut r) = setup();
    discharge(&mut r, "P1", "2025-12-01");
    enroll(&mut r, "P1", "2026-01-05", Some("2026-01-05"));
    let discharged = episodes(&r, "P1")[0].status_history[1].id.clone();
    let before = dump(&t.path);
    let e = r.mark_entered_in_error(RecordKind::StatusChange, &discharged, "wrong").unwrap_err();
    assert_eq!(e.code(), "conflict");
    assert!(e.to_string().contains("enrolled again on 2026-01-05"), "{e}");
    assert_eq!(dump(&t.path), before);
}

#[test]
fn voiding_an_enrolment_removes_the_episode_from_every_rule() {
    // P2 enrolled 2025-11-03 (with consent) by mistake, with a PHQ-9, a 40-minute contact on
    // 2025-11-10 and a review request.
    let (_t, mut r) = setup();
    add_patient(&mut r, "P2");
    enroll(&mut r, "P2", "2025-11-03", Some("2025-11-03"));
    phq(&mut r, "P2", "2025-11-03", MODERATELY_SEVERE);
    contact(&mut r, "P2", "2025-11-10", 40, "CM");
    request(&mut r, "P2", "2025-11-10");
    let episode = episodes(&r, "P2")[0].id.clone();
    r.mark_entered_in_error(RecordKind::Enrolment, &episode, "enrolled the wrong patient").unwrap();

    // Off the caseload and the queue; November's 40 minutes are reported as excluded, so the
    // month has no countable minutes (`none`, no code); the report counts no episode.
    assert!(r.caseload(d("2025-11-15"), None).unwrap().iter().all(|row| row.mrn != "P2"));
    assert!(r.queue(d("2025-11-15")).unwrap().iter().all(|q| q.mrn != "P2"));
    let nov = r.patient_billing("P2", month("2025-11")).unwrap().unwrap();
    assert_eq!((nov.minutes, nov.month_kind.as_str()), (0, "none"));
    assert_eq!((nov.excluded[0].reason.as_str(), nov.excluded[0].minutes), ("enrolment-entered-in-error", 40));
    let report = r.report(d("2025-11-01"), d("2025-11-30"), d("2025-12-31"), None).unwrap();
    assert_eq!((report.newly_enrolled, report.caseload), (1, 1), "only P1");
    // The chart keeps it, marked, and the patient can be enrolled again.
    assert!(r.patient_chart("P2", d("2025-11-15")).unwrap().episodes[0].entered_in_error.is_some());
    enroll(&mut r, "P2", "2025-11-05", Some("2025-11-05"));
    assert_eq!(r.caseload(d("2025-11-15"), None).unwrap().len(), 2);
    // November's contact rate: P1 had neither a contact nor an assessment; P2 had a PHQ-9 on
    // 11-03, and its only contact was logged under the voided enrolment, so no contact: 0 of 2.
    let report = r.report(d("2025-11-01"), d("2025-11-30"), d("2025-12-31"), None).unwrap();
    assert_eq!((report.contact_rate.numerator, report.contact_rate.denominator), (0, 2));
}

#[test]
fn voiding_a_consent_restores_the_one_before_it() {
    // P1 consented 2025-11-03 at enrolment; a second consent date, 2025-11-20, was typed by
    // mistake. 30 minutes on 2025-11-10 count only while consent is 11-03 (§7: on or after the
    // consent date).
    let (_t, mut r) = setup();
    contact(&mut r, "P1", "2025-11-10", 30, "CM");
    r.record_consent("P1", "2025-11-20").unwrap();
    let minutes = |r: &Registry| r.patient_billing("P1", month("2025-11")).unwrap().unwrap().minutes;
    assert_eq!(minutes(&r), 0, "before the (wrong) consent of 11-20");
    let consents = episodes(&r, "P1")[0].consents.clone();
    assert_eq!(consents.len(), 2);
    r.mark_entered_in_error(RecordKind::Consent, &consents[1].id, "typed the wrong date").unwrap();
    assert_eq!(episodes(&r, "P1")[0].consent_date, Some(d("2025-11-03")));
    assert_eq!(minutes(&r), 30);
    // Voiding the first too leaves no consent: the minutes are excluded for it.
    r.mark_entered_in_error(RecordKind::Consent, &consents[0].id, "never given").unwrap();
    assert_eq!(episodes(&r, "P1")[0].consent_date, None);
    let nov = r.patient_billing("P1", month("2025-11")).unwrap().unwrap();
    assert_eq!((nov.minutes, nov.excluded[0].reason.as_str()), (0, "no-consent"));
}

#[test]
fn cli_void_enrolment_consent_and_status_change() {
    let (t, mut r) = setup();
    discharge(&mut r, "P1", "2025-12-01");
    let e = episodes(&r, "P1")[0].clone();
    drop(r);
    let db = &t.path;
    // The chart prints the ids the command takes.
    let chart = run(db, &["patient", "show", "P1"]).stdout;
    for id in [&e.id, &e.status_history[1].id, &e.consents[0].id] {
        assert!(chart.contains(id.as_str()), "{id} in\n{chart}");
    }
    // Bad input: one line, nothing changed.
    let before = dump(db);
    for (args, code) in [
        (vec!["void", "status-change", "abc", "--reason", "x"], "not_found"),
        (vec!["void", "enrolment", "nope", "--reason", "x"], "not_found"),
        (vec!["void", "consent", e.consents[0].id.as_str(), "--reason", ""], "validation"),
        (vec!["void", "episode", e.id.as_str(), "--reason", "x"], "validation"),
    ] {
        let out = run(db, &args);
        assert!(
            !out.ok && out.stderr.starts_with(&format!("error[{code}]: ")) && out.stderr.lines().count() == 1,
            "{args:?}: {}",
            out.stderr
        );
    }
    assert_eq!(dump(db), before);
    let out = run(db, &["void", "status-change", &e.status_history[1].id, "--reason", "wrong patient"]);
    assert!(out.ok, "{}", out.stderr);
    let out = run(db, &["void", "consent", &e.consents[0].id, "--reason", "not given"]);
    assert!(out.ok, "{}", out.stderr);
    let out = run(db, &["void", "enrolment", &e.id, "--reason", "wrong patient"]);
    assert!(out.ok, "{}", out.stderr);
    let log = run(db, &["audit", "--json"]).stdout;
    for record in ["\"status-change\"", "\"consent\"", "\"enrolment\""] {
        assert!(log.contains(record), "audited: {record}");
    }
}

// One home for "countable contact": the month before the months read is judged by the Rust
// rule (`billing::exclusion`) as a lead-in, and older history by SQL
// (`last_countable_before_sql`) for speed. Fed the same boundary cases, all must agree.

#[test]
fn countable_history_in_the_month_before_agrees_with_the_rust_rule() {
    // November is the lead-in month when December is read alone.
    countable_history_agrees("2025-11", "2025-12");
}

#[test]
fn countable_history_read_by_sql_agrees_with_the_rust_rule() {
    // October: December read alone finds an empty November lead-in, so the SQL history decides.
    // One empty month between is within the 6-month gap (§7), so December is subsequent exactly
    // when the October contact counts.
    countable_history_agrees("2025-10", "2025-12");
}

/// Each case: a patient enrolled on the first of `earlier` with consent on `consent`, one
/// contact in `earlier` (day, author), and 40 countable minutes on the 5th of `later`. The Rust
/// rule says whether the earlier contact counts; then `later` is subsequent exactly when it
/// does, whether it is read alone or in a run of months from `earlier`.
fn countable_history_agrees(earlier: &str, later: &str) {
    let (_t, mut r) = setup();
    let last_day = if earlier.ends_with("-11") { "30" } else { "31" };
    let cases: [(&str, &str, &str, &str, bool); 8] = [
        // (mrn, consent day, contact day, author, counts by §7)
        ("C1", "01", "10", "CM", true),
        ("C2", "10", "10", "CM", true),     // on the consent day
        ("C3", "11", "10", "CM", false),    // the day before consent
        ("C4", "01", last_day, "CM", true), // the month's last day
        ("C5", "01", "10", "PSY", false),   // the consultant's minutes
        ("C6", "01", "10", "PCP", false),   // PCP minutes, not counted by default
        ("C7", "01", "10", "LEAD", false),
        ("C8", "01", "10", "CM", false), // entered in error, below
    ];
    for (mrn, consent, day, by, _) in cases {
        add_patient(&mut r, mrn);
        enroll(&mut r, mrn, &format!("{earlier}-01"), Some(&format!("{earlier}-{consent}")));
        let id = contact(&mut r, mrn, &format!("{earlier}-{day}"), 40, by);
        if mrn == "C8" {
            r.mark_entered_in_error(RecordKind::Contact, &id, "duplicate").unwrap();
        }
        contact(&mut r, mrn, &format!("{later}-05"), 40, "CM");
    }
    let first = r.billing(month(earlier)).unwrap();
    let alone = r.billing(month(later)).unwrap();
    let run = r.billing_months(month(earlier), month(later), None).unwrap();
    for (mrn, _, _, _, counts) in cases {
        let row = first.iter().find(|b| b.mrn == mrn).unwrap();
        assert_eq!(row.contacts[0].excluded.is_none(), counts, "{mrn}: the Rust rule");
        let row = alone.iter().find(|b| b.mrn == mrn).unwrap();
        let want = if counts { "subsequent" } else { "initial" };
        assert_eq!(row.month_kind.as_str(), want, "{mrn}: {later} read alone");
        let in_run = run.last().unwrap().1.iter().find(|b| b.mrn == mrn).unwrap();
        assert_eq!(in_run, row, "{mrn}: a run of months equals the month alone");
    }
}

#[test]
fn a_2025_month_bills_by_the_2025_rule_set() {
    // P1 enrolled 2025-11-03 with consent. November 2025: 86 minutes, the initial month →
    // 99492 + 99494 × (floor((86 − 86) / 30) + 1 = 1); $160 + $61 = $221 at the 2025 fees.
    // December 2025: 75 minutes, subsequent → 99493 only (its add-on starts at 76); $145.
    let (_t, mut r) = setup();
    contact(&mut r, "P1", "2025-11-10", 86, "CM");
    contact(&mut r, "P1", "2025-12-10", 75, "CM");
    // Raising the 2026 fees must not touch 2025's months.
    let mut rules_2026 = r.billing_rules(2026).unwrap().rules;
    rules_2026.fees.insert("99492".into(), 999.0);
    rules_2026.fees.insert("99493".into(), 999.0);
    r.set_billing_rules(2026, &rules_2026).unwrap();
    assert_eq!(r.billing_rules(2025).unwrap().key.effective_year, 2025);
    let nov = r.patient_billing("P1", month("2025-11")).unwrap().unwrap();
    assert_eq!((nov.codes_text.as_str(), nov.estimated_revenue), ("99492 + 99494", 221.0));
    let dec = r.patient_billing("P1", month("2025-12")).unwrap().unwrap();
    assert_eq!((dec.month_kind.as_str(), dec.codes_text.as_str(), dec.estimated_revenue), ("subsequent", "99493", 145.0));
    assert_eq!(dec.minutes_to_next_tier, Some(1), "76 reaches the first 99494");
}
