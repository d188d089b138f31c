//! The demo practice shows every flag, queue reason, billing tier, exclusion, the 6-month
//! restart, relapse prevention and every discharge reason, whatever the as-of date; and
//! synthetic patients are deterministic for a seed.

mod common;

use common::{TempRegistry, cocm, cocm_with, ok};
use std::collections::BTreeSet;

use cocm::dates::{Month, parse_date};
use cocm::demo::{DEMO_LEAD, DEMO_PASSWORD, DemoOptions, create_demo};
use cocm::flags::Flag;
use cocm::queue::QueueReason;
use cocm::vocab::DischargeReason;

fn check_demo_covers_everything(as_of: &str) {
    let t = TempRegistry::new();
    let as_of = parse_date("as-of", as_of).unwrap();
    let r = create_demo(&t.path, &DemoOptions { as_of, synthetic_patients: 0, practice_patients: 0, seed: 1 }).unwrap();

    let caseload = r.caseload(as_of, None).unwrap();
    let flags: BTreeSet<Flag> = caseload.iter().flat_map(|row| row.flags.iter().copied()).collect();
    for f in Flag::ALL {
        assert!(flags.contains(f), "as of {as_of}: no patient shows the {f} flag");
    }
    assert!(caseload.iter().any(|row| row.status.as_str() == "relapse-prevention"), "as of {as_of}: no relapse prevention");

    let queue = r.queue(as_of).unwrap();
    let reasons: BTreeSet<QueueReason> = queue.iter().flat_map(|e| e.reasons.iter().map(|x| x.reason)).collect();
    for q in QueueReason::ALL {
        assert!(reasons.contains(q), "as of {as_of}: no queue reason {q}");
    }
    assert_eq!(queue[0].reasons[0].reason, QueueReason::Safety, "safety first");

    let last_month = Month::of(as_of).plus(-1);
    let billing = r.billing(last_month).unwrap();
    let tiers: BTreeSet<String> =
        billing.iter().map(|b| b.codes.iter().map(|c| format!("{}x{}", c.code, c.units)).collect::<Vec<_>>().join("+")).collect();
    for tier in ["", "G2214x1", "99492x1", "99493x1", "99492x1+99494x1", "99492x1+99494x2", "99493x1+99494x1", "99493x1+99494x2"] {
        assert!(tiers.contains(tier), "as of {as_of}: billing {last_month} lacks the tier '{tier}': {tiers:?}");
    }
    let excluded: BTreeSet<&str> = billing.iter().flat_map(|b| b.excluded.iter().map(|e| e.reason.as_str())).collect();
    for reason in ["entered-in-error", "psychiatric-consultant", "role-not-counted", "no-consent", "before-consent", "after-discharge"] {
        assert!(excluded.contains(reason), "as of {as_of}: no minutes excluded for {reason}");
    }
    let restart = billing.iter().find(|b| b.mrn == "D028").expect("the 6-month restart patient");
    assert_eq!((restart.month_kind.as_str(), restart.codes[0].code.as_str()), ("initial", "99492"));

    let mut discharged = BTreeSet::new();
    for row in 35..=42 {
        for e in r.episodes(&format!("D{row:03}")).unwrap() {
            discharged.extend(e.discharge_reason);
        }
    }
    discharged.extend(r.episodes("D032").unwrap().iter().filter_map(|e| e.discharge_reason));
    for reason in DischargeReason::ALL {
        assert!(discharged.contains(reason), "as of {as_of}: nobody discharged for {reason}");
    }

    // A run of months in one pass is each month on its own, history and all.
    let first = last_month.plus(-11);
    let run = r.billing_months(first, last_month, None).unwrap();
    assert_eq!(run.len(), 12);
    for (month, rows) in run {
        assert_eq!(rows, r.billing(month).unwrap(), "as of {as_of}: billing {month} in a run of months");
    }

    // The previous month's program report has every measure's population, the DRR and
    // 12-month ones included (from the long-course patients D061–D068).
    let report = r.report(last_month.first_day(), last_month.last_day(), as_of, None).unwrap();
    for (key, rate) in cocm::reports::rates(&report) {
        assert!(rate.denominator > 0, "as of {as_of}: the demo's {last_month} report has no one in {key}");
    }
}

#[test]
fn demo_covers_everything_mid_month() {
    check_demo_covers_everything("2026-06-15");
}

#[test]
fn demo_covers_everything_on_the_first_and_last_day_of_a_month() {
    check_demo_covers_everything("2026-03-01");
    check_demo_covers_everything("2026-02-28");
}

#[test]
fn demo_covers_everything_across_a_year_end() {
    check_demo_covers_everything("2026-01-10");
}

#[test]
fn synthetic_patients_are_deterministic_for_a_seed() {
    let caseload = |seed: &str| {
        let t = TempRegistry::new();
        ok(&t.path, &["demo", "--patients", "40", "--practice-patients", "200", "--seed", seed, "--as-of", "2026-06-15"]);
        let demo = |args: &[&str]| {
            let out = cocm_with(&t.path, args, &[("COCM_AS", DEMO_LEAD), ("COCM_PASSWORD", DEMO_PASSWORD)]);
            assert!(out.ok, "{}", out.stderr);
            serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap()
        };
        let mut rows = demo(&["caseload", "--as-of", "2026-06-15", "--json"]);
        for row in rows.as_array_mut().unwrap() {
            row.as_object_mut().unwrap().remove("patient_id");
        }
        let nys = demo(&["report", "--nys-omh", "--month", "2026-05", "--json"]);
        (rows, demo(&["billing", "--month", "2026-05", "--json"]).as_array().unwrap().len(), nys)
    };
    let (a, billed, nys_a) = caseload("7");
    let (b, _, nys_b) = caseload("7");
    let (c, _, nys_c) = caseload("8");
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(nys_a, nys_b);
    assert_ne!(nys_a["depression_screening_rate"], nys_c["depression_screening_rate"]);
    // The practice patients are seen and screened but not enrolled: about 2.5 visits a year
    // each, so some 40 of the 200 have a visit in May; none is on the caseload.
    let seen = nys_a["depression_screening_rate"]["denominator"].as_u64().unwrap();
    assert!(seen > 20, "practice patients seen in May: {seen}");
    assert!(a.as_array().unwrap().iter().all(|r| !r["mrn"].as_str().unwrap().starts_with('P')));
    assert!(a.as_array().unwrap().len() > 60, "seeded practice plus synthetic patients on the caseload");
    assert!(billed > 60);
}

#[test]
fn demo_refuses_an_existing_file_and_a_future_date() {
    let t = TempRegistry::new();
    ok(&t.path, &["init", "--practice", "Existing", "--lead", common::CLI_LEAD]);
    let out = cocm(&t.path, &["demo"]);
    assert!(!out.ok && out.stderr.starts_with("error[conflict]"), "{}", out.stderr);
    let other = t.dir.path().join("future.cocm");
    let out = cocm(&other, &["demo", "--as-of", "2099-01-01"]);
    assert!(!out.ok && out.stderr.contains("as-of: 2099-01-01 is in the future"), "{}", out.stderr);
    assert!(!other.exists());
}

/// The story patients (seeds/patients.csv `story`) pinned to what their stories say, as of
/// 2026-11-20 (seed dates `d-N` are N days before it; last month is October 2026).
#[test]
fn the_demo_story_patients_show_exactly_what_their_stories_say() {
    let t = TempRegistry::new();
    let as_of = parse_date("as-of", "2026-11-20").unwrap();
    let r = create_demo(&t.path, &DemoOptions { as_of, synthetic_patients: 0, practice_patients: 0, seed: 1 }).unwrap();
    let caseload = r.caseload(as_of, None).unwrap();
    let flags = |mrn: &str| caseload.iter().find(|row| row.mrn == mrn).map(|row| row.flags.clone()).unwrap_or_default();
    let queue = r.queue(as_of).unwrap();
    let queued = |mrn: &str| -> Vec<(QueueReason, String)> {
        queue.iter().find(|q| q.mrn == mrn).map(|q| q.reasons.iter().map(|x| (x.reason, x.since.to_string())).collect()).unwrap_or_default()
    };
    use Flag::*;
    use QueueReason as Q;

    // D001: PHQ-9 on d-2 = 2026-11-18, items 1,3,2,2,3,3,1,1,2 (total 18, item 9 = 2), no
    // safety check since; baseline d-62 (3,3,3,3,0,3,2,2,0 = 19, item 9 = 0): 19 → 18, only the
    // latest outlined. First in the queue, waiting since 2026-11-18.
    assert_eq!(flags("D001").first(), Some(&Safety));
    let phq9 = caseload.iter().find(|row| row.mrn == "D001").unwrap().phq9.clone().unwrap();
    assert_eq!((phq9.baseline, phq9.latest, phq9.baseline_item9_positive, phq9.latest_item9_positive), (19, 18, false, true));
    assert_eq!((queue[0].mrn.as_str(), queued("D001")[0].clone()), ("D001", (Q::Safety, "2026-11-18".to_string())));
    // D002: item 9 positive on d-5 with a safety check the same day: cleared.
    assert!(!flags("D002").contains(&Safety));
    // D003: enrolled d-5 = 2026-11-15 with no PHQ-9: no-baseline, new patient since then.
    assert!(flags("D003").contains(&NoBaseline));
    assert!(queued("D003").contains(&(Q::NewPatient, "2026-11-15".to_string())));
    // D004 (active) and D005 (relapse prevention): contact overdue.
    assert!(flags("D004").contains(&ContactOverdue) && flags("D005").contains(&ContactOverdue));
    // D006: last PHQ-9 45 days ago (> 30): measurement overdue.
    assert!(flags("D006").contains(&MeasurementOverdue));
    // D007: enrolled d-100 = 2026-08-12, never reviewed: waiting since S + 70 days = 2026-10-21.
    assert!(flags("D007").contains(&NotImproving) && flags("D007").contains(&ReviewOverdue));
    assert!(queued("D007").contains(&(Q::NotImproving, "2026-10-21".to_string())));
    // D008: reviewed d-20, inside 60 days: not improving, not overdue, not queued.
    assert!(flags("D008").contains(&NotImproving) && !flags("D008").contains(&ReviewOverdue));
    assert!(queued("D008").is_empty());
    // D009: last review d-75 = 2026-09-06: queued since + 61 days = 2026-11-06.
    assert!(queued("D009").contains(&(Q::NotImproving, "2026-11-06".to_string())));
    // D010: requested d-6 = 2026-11-14, not reviewed: flagged since then. D011: answered.
    assert!(flags("D010").contains(&Flagged) && queued("D010").contains(&(Q::Flagged, "2026-11-14".to_string())));
    assert!(!flags("D011").contains(&Flagged));
    // D012: PHQ-9 16 → 3: consider relapse prevention. D013: enrolled 305 days ago (≥ 9 months).
    assert!(flags("D012").contains(&ConsiderRelapsePrevention) && flags("D013").contains(&LongEpisode));
    // D014: enrolled d-10 = 2026-11-10 with a baseline: new patient, not no-baseline.
    assert!(queued("D014").contains(&(Q::NewPatient, "2026-11-10".to_string())) && !flags("D014").contains(&NoBaseline));
    // D016: PHQ-9 improved, GAD-7 not: not improving (on GAD-7). D018: the voided item-9 PHQ-9.
    assert!(flags("D016").contains(&NotImproving) && !flags("D018").contains(&Safety));

    // The catalogue's instruments (spec §3a). D069, PTSD on the PCL-5: 52 → 38 is 14 points,
    // at least 12: improved; 38 is not below 33: no remission. No flag about it.
    let measure = |mrn: &str| caseload.iter().find(|row| row.mrn == mrn).unwrap().measures.clone();
    let ptsd = &measure("D069")[0];
    assert_eq!((ptsd.target.as_str(), ptsd.instrument.as_str(), ptsd.numbers.baseline, ptsd.numbers.latest), ("ptsd", "pcl5", 52, 38));
    assert_eq!((ptsd.numbers.improved, ptsd.numbers.remission, ptsd.numbers.change_pct), (true, false, Some(-27)));
    assert!(!flags("D069").contains(&NotImproving));
    // D070, 15, depression on the PHQ-A by default for 12–17: 16 → 12 (-25 %); yesterday's
    // item 9 (and item 12) positive with no safety check: safety, queued behind D001's (d-2).
    let phqa = &measure("D070")[0];
    assert_eq!(
        (phqa.instrument.as_str(), phqa.numbers.baseline, phqa.numbers.latest, phqa.numbers.latest_item9_positive),
        ("phq-a", 16, 12, true)
    );
    assert_eq!(flags("D070").first(), Some(&Safety));
    assert_eq!((queue[1].mrn.as_str(), queued("D070")[0].clone()), ("D070", (Q::Safety, "2026-11-19".to_string())));
    // D071, 10, depression on the SMFQ: the parent's form 18 → 10 is 8 points (6 needed),
    // improved; the child's own 14 → 9 is 5 (8 needed). The target is judged improved.
    let smfq = &measure("D071")[0];
    assert_eq!((smfq.scale.as_str(), smfq.numbers.improved), ("smfq", true));
    assert!(!flags("D071").contains(&NotImproving));

    // Billing, October 2026: each story's minutes, month kind and codes (spec §7 table).
    let october = r.billing(Month::parse("m", "2026-10").unwrap()).unwrap();
    let row = |mrn: &str| {
        let b = october.iter().find(|b| b.mrn == mrn).unwrap_or_else(|| panic!("{mrn} billed in October"));
        (b.month_kind.as_str(), b.minutes, b.codes_text.as_str())
    };
    let expected = [
        ("D019", ("initial", 20, "G2214")),               // 16–35
        ("D020", ("initial", 60, "99492")),               // 36–85
        ("D021", ("initial", 95, "99492 + 99494")),       // 86–115: one add-on
        ("D022", ("initial", 125, "99492 + 99494×2")),    // 116–145: two
        ("D023", ("subsequent", 10, "")),                 // under 16: none
        ("D024", ("subsequent", 25, "G2214")),            // 16–30
        ("D025", ("subsequent", 45, "99493")),            // 31–75
        ("D026", ("subsequent", 80, "99493 + 99494")),    // 76–105
        ("D027", ("subsequent", 110, "99493 + 99494×2")), // 106–135
        ("D028", ("initial", 50, "99492")),               // 30 + 20; m-8…m-2 empty (7): initial again
        ("D029", ("subsequent", 40, "99493")),            // 20 + 20; the consultant's 30 excluded
        ("D030", ("none", 0, "")),                        // no consent: nothing counts
        ("D031", ("initial", 40, "99492")),               // 25 + 15; the 15 before consent excluded
        ("D033", ("subsequent", 30, "G2214")),            // 45 entered in error excluded
        ("D034", ("subsequent", 35, "99493")),            // 20 PCP minutes not counted
    ];
    for (mrn, want) in expected {
        assert_eq!(row(mrn), want, "{mrn}");
    }
    let d023 = october.iter().find(|b| b.mrn == "D023").unwrap();
    assert_eq!(d023.minutes_to_next_tier, Some(6), "10 subsequent minutes: 6 to G2214");
    let d032 = october.iter().find(|b| b.mrn == "D032").unwrap();
    assert_eq!((d032.minutes, d032.excluded[0].reason.as_str(), d032.excluded[0].minutes), (20, "after-discharge", 25));
}

/// Everything a score or flag shows up in, as JSON: the caseload (without `measures`, which
/// schema 9 did not have), the queue, last month's billing and the program report.
fn scores_and_flags(r: &cocm::Registry, as_of: cocm::dates::Date) -> serde_json::Value {
    let mut caseload = serde_json::to_value(r.caseload(as_of, None).unwrap()).unwrap();
    for row in caseload.as_array_mut().unwrap() {
        row.as_object_mut().unwrap().remove("measures");
    }
    let month = Month::of(as_of).plus(-1);
    serde_json::json!({
        "caseload": caseload,
        "queue": r.queue(as_of).unwrap(),
        "billing": r.billing(month).unwrap(),
        "report": r.report(month.first_day(), month.last_day(), as_of, None).unwrap(),
    })
}

#[test]
fn a_registry_written_by_schema_9_keeps_every_score_and_flag() {
    let t = TempRegistry::new();
    let as_of = parse_date("as-of", "2026-06-15").unwrap();
    drop(create_demo(&t.path, &DemoOptions { as_of, synthetic_patients: 150, practice_patients: 0, seed: 5 }).unwrap());
    let raw = || cocm::store::inspect(&t.path, DEMO_LEAD, DEMO_PASSWORD).unwrap();
    // Only what schema 9 could hold: the demo's patients on the catalogue's newer instruments
    // (PCL-5, PHQ-A, SMFQ) go before anything is measured.
    raw()
        .execute_batch(
            "PRAGMA query_only = OFF;
             CREATE TEMP TABLE newer AS
                 SELECT patient_id AS id FROM assessments WHERE instrument NOT IN ('phq9', 'gad7')
                 UNION SELECT patient_id FROM episodes
                 WHERE primary_scales NOT IN ('depression=phq9', 'anxiety=gad7', 'depression=phq9,anxiety=gad7');
             DELETE FROM episode_status_changes WHERE episode_id IN (SELECT id FROM episodes WHERE patient_id IN newer);
             DELETE FROM episode_consents WHERE episode_id IN (SELECT id FROM episodes WHERE patient_id IN newer);
             DELETE FROM assessments WHERE patient_id IN newer;
             DELETE FROM contacts WHERE patient_id IN newer;
             DELETE FROM review_requests WHERE patient_id IN newer;
             DELETE FROM case_reviews WHERE patient_id IN newer;
             DELETE FROM treatment_changes WHERE patient_id IN newer;
             DELETE FROM coverages WHERE patient_id IN newer;
             DELETE FROM visits WHERE patient_id IN newer;
             DELETE FROM episode_diagnoses WHERE episode_id IN (SELECT id FROM episodes WHERE patient_id IN newer);
             DELETE FROM episodes WHERE patient_id IN newer;
             DELETE FROM patients WHERE id IN newer;",
        )
        .unwrap();
    let open = || cocm::Registry::sign_in(&t.path, DEMO_LEAD, DEMO_PASSWORD, None).unwrap();
    let before = scores_and_flags(&open(), as_of);
    let billed = |r: &cocm::Registry| -> Vec<(String, String, String)> {
        let month = cocm::dates::Month::of(as_of).plus(-1);
        r.billing(month).unwrap().into_iter().map(|b| (b.mrn, b.month_kind.to_string(), b.codes_text)).collect()
    };
    let billing_before = billed(&open());
    assert!(billing_before.iter().any(|b| !b.2.is_empty()), "the demo's last month bills codes");
    let safety_before: i64 = raw().query_row("SELECT count(*) FROM assessments WHERE safety = 1", [], |r| r.get(0)).unwrap();
    assert!(safety_before > 0, "the demo has positive item 9s to carry over");

    // The demo's coverage: one primary per patient from their first enrolment, as migration
    // 0015 makes of schema 9's single payer.
    let coverage_sql = "SELECT p.mrn || ' ' || c.payer || ' ' || ifnull(c.from_date, '-') || ' ' || c.secondary
                        FROM coverages c JOIN patients p ON p.id = c.patient_id ORDER BY p.mrn";
    let coverage =
        || -> Vec<String> { raw().prepare(coverage_sql).unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect() };
    let coverage_before = coverage();
    assert!(coverage_before.len() > 50 && coverage_before.iter().all(|c| c.ends_with(" 0")), "{:?}", &coverage_before[..3]);
    raw().execute_batch(&format!("PRAGMA query_only = OFF; {}", common::BACK_TO_SCHEMA_9)).unwrap();
    let item9: i64 = raw().query_row("SELECT count(*) FROM assessments WHERE item9 >= 1", [], |r| r.get(0)).unwrap();
    assert_eq!(item9, safety_before, "schema 9 as it stood: item 9's answers");
    // A practice's own old-shape rule set (a later year's, with its fee and cap) carries over.
    raw()
        .execute_batch(
            "PRAGMA query_only = OFF; INSERT INTO billing_rule_sets SELECT 2030,
             json_set(rules, '$.fees.99492', 170.0, '$.addon_max_units', 3) FROM billing_rule_sets WHERE effective_year = 2026",
        )
        .unwrap();

    // Signing in migrates it; every score and flag is what it was.
    let after = scores_and_flags(&open(), as_of);
    assert_eq!(after, before);
    // The rule sets in their new shape bill every patient-month as the old ones did (migration 0014).
    assert_eq!(billed(&open()), billing_before);
    assert_eq!(coverage(), coverage_before, "schema 9's payer became one primary coverage from the first enrolment");
    let later = open().billing_rules(2030).unwrap().rules;
    assert_eq!((later.fees["99492"], later.subsequent.addon.as_ref().unwrap().max_units), (170.0, Some(3)));
    assert_eq!(open().billing_rules(2025).unwrap().rules.initial.tiers[1].code, "99492");
    let safety_after: i64 = raw().query_row("SELECT count(*) FROM assessments WHERE safety = 1", [], |r| r.get(0)).unwrap();
    assert_eq!(safety_after, safety_before);
    let scales: Vec<String> = raw()
        .prepare("SELECT DISTINCT primary_scales FROM episodes ORDER BY 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let legacy = ["anxiety=gad7", "depression=phq9", "depression=phq9,anxiety=gad7"];
    assert!(scales.iter().all(|s| legacy.contains(&s.as_str())) && scales.len() >= 2, "{scales:?}");
    // A status change written before keeps its number as its id; a new one gets a UUID.
    let old: String = raw().query_row("SELECT id FROM episode_status_changes ORDER BY seq LIMIT 1", [], |r| r.get(0)).unwrap();
    assert_eq!(old, "1");
}
