//! The demo practice shows every flag, queue reason, billing tier, exclusion, the 6-month
//! restart, relapse prevention and every discharge reason, whatever the as-of date; and
//! synthetic patients are deterministic for a seed.

mod common;

use common::{TempRegistry, cocm, json, ok};
use std::collections::BTreeSet;

use cocm::dates::{Month, parse_date};
use cocm::demo::{DemoOptions, create_demo};
use cocm::flags::Flag;
use cocm::queue::QueueReason;
use cocm::vocab::DischargeReason;

fn check_demo_covers_everything(as_of: &str) {
    let t = TempRegistry::new();
    let as_of = parse_date("as-of", as_of).unwrap();
    let r = create_demo(&t.path, &DemoOptions { as_of, synthetic_patients: 0, seed: 1 }).unwrap();

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
        ok(&t.path, &["demo", "--patients", "40", "--seed", seed, "--as-of", "2026-06-15"]);
        let mut rows = json(&t.path, &["caseload", "--as-of", "2026-06-15", "--json"]);
        for row in rows.as_array_mut().unwrap() {
            row.as_object_mut().unwrap().remove("patient_id");
        }
        (rows, json(&t.path, &["billing", "--month", "2026-05", "--json"]).as_array().unwrap().len())
    };
    let (a, billed) = caseload("7");
    let (b, _) = caseload("7");
    let (c, _) = caseload("8");
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a.as_array().unwrap().len() > 60, "seeded practice plus synthetic patients on the caseload");
    assert!(billed > 60);
}

#[test]
fn demo_refuses_an_existing_file_and_a_future_date() {
    let t = TempRegistry::new();
    ok(&t.path, &["init", "--practice", "Existing"]);
    let out = cocm(&t.path, &["demo"]);
    assert!(!out.ok && out.stderr.starts_with("error[conflict]"), "{}", out.stderr);
    let other = t.dir.path().join("future.cocm");
    let out = cocm(&other, &["demo", "--as-of", "2099-01-01"]);
    assert!(!out.ok && out.stderr.contains("as-of: 2099-01-01 is in the future"), "{}", out.stderr);
    assert!(!other.exists());
}
