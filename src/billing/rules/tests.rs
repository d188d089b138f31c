//! The rule-set tables, boundary by boundary, from spec §7 and §7a; every expected code is
//! worked from the spec's table, not from the code.

use super::*;
use crate::billing::MonthKind::{Initial, None as NoMinutes, Subsequent};

/// Migration 0014's default rule sets, read from the migration's own JSON shape.
fn medicare_2026() -> BillingRules {
    serde_json::from_str(
        r#"{"initial":{"tiers":[{"code":"G2214","from_minutes":16},{"code":"99492","from_minutes":36}],
                       "addon":{"code":"99494","from_minutes":86,"block_minutes":30,"max_units":null}},
            "subsequent":{"tiers":[{"code":"G2214","from_minutes":16},{"code":"99493","from_minutes":31}],
                       "addon":{"code":"99494","from_minutes":76,"block_minutes":30,"max_units":null}},
            "fees":{"99492":160.0,"99493":145.0,"99494":61.0,"G2214":61.0}}"#,
    )
    .unwrap()
}

fn general_bhi() -> BillingRules {
    let table = MonthTable { tiers: vec![Tier { code: "99484".into(), from_minutes: 20 }], addon: None };
    let psych = |credential| CredentialCode { credential, instead_of: "99484".into(), code: "G0323".into() };
    BillingRules {
        initial: table.clone(),
        subsequent: table,
        general_bhi_episodes: None,
        credential_codes: vec![psych(Credential::ClinicalPsychologist), psych(Credential::ClinicalSocialWorker)],
        fees: [("99484".to_string(), 55.0)].into(),
    }
}

fn apcm() -> BillingRules {
    let one = |code: &str| MonthTable { tiers: vec![Tier { code: code.into(), from_minutes: 1 }], addon: None };
    BillingRules {
        initial: one("G0568"),
        subsequent: one("G0569"),
        general_bhi_episodes: Some(one("G0570")),
        credential_codes: vec![],
        fees: BTreeMap::new(),
    }
}

fn show(rules: &BillingRules, kind: MonthKind, program: Program, m: u32, credential: Option<Credential>) -> String {
    let Some(table) = rules.table(kind, program) else { return "-".into() };
    rules.codes(table, m, credential).iter().map(|c| format!("{}x{}", c.code, c.units)).collect::<Vec<_>>().join("+")
}

#[test]
fn medicare_cocm_initial_and_subsequent_at_every_boundary() {
    let r = medicare_2026();
    let at = |kind, m| show(&r, kind, Program::Cocm, m, None);
    // §7: initial 0–15 none, 16–35 G2214, 36–85 99492, 86–115 + one 99494, 116–145 two.
    for (m, want) in [
        (0, ""),
        (15, ""),
        (16, "G2214x1"),
        (35, "G2214x1"),
        (36, "99492x1"),
        (85, "99492x1"),
        (86, "99492x1+99494x1"),
        (115, "99492x1+99494x1"),
        (116, "99492x1+99494x2"),
        (145, "99492x1+99494x2"),
        (146, "99492x1+99494x3"),
    ] {
        assert_eq!(at(Initial, m), want, "initial {m}");
    }
    // Subsequent 16–30 G2214, 31–75 99493, 76–105 + one 99494, 106–135 two.
    for (m, want) in [
        (15, ""),
        (16, "G2214x1"),
        (30, "G2214x1"),
        (31, "99493x1"),
        (75, "99493x1"),
        (76, "99493x1+99494x1"),
        (105, "99493x1+99494x1"),
        (106, "99493x1+99494x2"),
        (135, "99493x1+99494x2"),
        (136, "99493x1+99494x3"),
    ] {
        assert_eq!(at(Subsequent, m), want, "subsequent {m}");
    }
    assert_eq!(at(NoMinutes, 0), "-", "a month without countable minutes has no table");
}

#[test]
fn minutes_to_next_tier_examples() {
    let r = medicare_2026();
    let next = |kind, m| r.table(kind, Program::Cocm).unwrap().minutes_to_next_tier(m);
    assert_eq!(next(Subsequent, 30), Some(1), "§7's example: 30 minutes → 1 to 99493");
    assert_eq!(next(Subsequent, 0), Some(16));
    assert_eq!(next(Initial, 35), Some(1));
    assert_eq!(next(Initial, 85), Some(1));
    assert_eq!(next(Initial, 86), Some(30), "86 → 116 for the second 99494");
    assert_eq!(next(Subsequent, 106), Some(30));
}

#[test]
fn general_bhi_is_99484_from_20_minutes_and_g0323_for_psychologists_and_social_workers() {
    let r = general_bhi();
    // §7a: 99484 once for m ≥ 20, no midpoint rule, the same in any month.
    assert_eq!(show(&r, Initial, Program::GeneralBhi, 19, None), "");
    assert_eq!(show(&r, Initial, Program::GeneralBhi, 20, None), "99484x1");
    assert_eq!(show(&r, Subsequent, Program::GeneralBhi, 19, None), "");
    assert_eq!(show(&r, Subsequent, Program::GeneralBhi, 200, Some(Credential::Physician)), "99484x1", "one unit however many minutes");
    assert_eq!(show(&r, Subsequent, Program::GeneralBhi, 20, Some(Credential::ClinicalPsychologist)), "G0323x1");
    assert_eq!(show(&r, Subsequent, Program::GeneralBhi, 20, Some(Credential::ClinicalSocialWorker)), "G0323x1");
    assert_eq!(show(&r, Subsequent, Program::GeneralBhi, 20, Some(Credential::NursePractitioner)), "99484x1");
    assert_eq!(r.table(Subsequent, Program::GeneralBhi).unwrap().minutes_to_next_tier(20), None, "nothing above 99484");
    assert_eq!(r.table(Subsequent, Program::GeneralBhi).unwrap().minutes_to_next_tier(19), Some(1));
}

#[test]
fn apcm_add_ons_from_one_minute_mirror_the_episode_program() {
    let r = apcm();
    // §7a: G0568 initial, G0569 subsequent, G0570 for general BHI; from 1 minute, one unit.
    assert_eq!(show(&r, Initial, Program::Cocm, 0, None), "");
    assert_eq!(show(&r, Initial, Program::Cocm, 1, None), "G0568x1");
    assert_eq!(show(&r, Subsequent, Program::Cocm, 1, None), "G0569x1");
    assert_eq!(show(&r, Subsequent, Program::Cocm, 300, None), "G0569x1", "no 99494 equivalent");
    assert_eq!(show(&r, Initial, Program::GeneralBhi, 1, None), "G0570x1");
    assert_eq!(show(&r, Subsequent, Program::GeneralBhi, 1, None), "G0570x1");
}

#[test]
fn texas_preset_bills_g0512_on_full_time() {
    let set = &preset("tx-medicaid-fqhc-rhc", &medicare_2026()).unwrap()[0];
    assert_eq!((set.key.program, set.key.payer, set.key.effective_year), (Program::Cocm, Some(Payer::Medicaid), 2026));
    let at = |kind, m| show(&set.rules, kind, Program::Cocm, m, None);
    // §7a: G0512 for at least 70 minutes initial, 60 subsequent, one unit; no G2214 below.
    assert_eq!(at(Initial, 69), "");
    assert_eq!(at(Initial, 70), "G0512x1");
    assert_eq!(at(Subsequent, 59), "");
    assert_eq!(at(Subsequent, 60), "G0512x1");
    assert_eq!(at(Subsequent, 250), "G0512x1");
    assert!(set.rules.check().is_ok());
}

#[test]
fn north_carolina_preset_caps_99494_at_four() {
    let set = &preset("nc-medicaid", &medicare_2026()).unwrap()[0];
    // 250 subsequent minutes: 99493 + 99494 × (floor((250 − 76) / 30) + 1) = × (5 + 1) = 6, capped at 4.
    assert_eq!(show(&set.rules, Subsequent, Program::Cocm, 250, None), "99493x1+99494x4");
    // 166 minutes: floor(90 / 30) + 1 = 4, the cap itself.
    assert_eq!(show(&set.rules, Subsequent, Program::Cocm, 166, None), "99493x1+99494x4");
    assert_eq!(show(&set.rules, Subsequent, Program::Cocm, 165, None), "99493x1+99494x3");
    assert_eq!(set.rules.table(Subsequent, Program::Cocm).unwrap().minutes_to_next_tier(166), None, "nothing past the cap");
    assert_eq!(preset("ny-medicaid", &medicare_2026()).unwrap_err().code(), "validation");
}

#[test]
fn lookup_is_plan_then_payer_then_default_each_by_year() {
    let key =
        |program, payer, plan: Option<&str>, effective_year| RuleSetKey { program, payer, plan: plan.map(Into::into), effective_year };
    let set = |key| RuleSet { key, rules: medicare_2026() };
    let book = RuleBook {
        sets: vec![
            set(key(Program::Cocm, None, None, 2025)),
            set(key(Program::Cocm, None, None, 2026)),
            set(key(Program::Cocm, Some(Payer::Medicaid), None, 2026)),
            set(key(Program::Cocm, Some(Payer::Medicaid), Some("Fidelis Care"), 2026)),
            set(key(Program::GeneralBhi, None, None, 2026)),
        ],
    };
    let found = |program, payer, plan, year| book.find(program, payer, plan, year).map(|s| s.key.to_string());
    assert_eq!(found(Program::Cocm, Some(Payer::Medicaid), Some("Fidelis Care"), 2026).as_deref(), Some("cocm/medicaid:Fidelis Care/2026"));
    assert_eq!(found(Program::Cocm, Some(Payer::Medicaid), Some("Another Plan"), 2026).as_deref(), Some("cocm/medicaid/2026"));
    assert_eq!(found(Program::Cocm, Some(Payer::Medicaid), None, 2026).as_deref(), Some("cocm/medicaid/2026"));
    assert_eq!(found(Program::Cocm, Some(Payer::Medicare), None, 2026).as_deref(), Some("cocm/default/2026"));
    // 2025: the Medicaid sets take effect in 2026, so the default's 2025 set applies.
    assert_eq!(found(Program::Cocm, Some(Payer::Medicaid), Some("Fidelis Care"), 2025).as_deref(), Some("cocm/default/2025"));
    assert_eq!(found(Program::Cocm, None, None, 2027).as_deref(), Some("cocm/default/2026"), "a year without its own keeps the last");
    assert_eq!(found(Program::Cocm, None, None, 2024), None, "no rule set before the first");
    assert_eq!(found(Program::ApcmBhi, None, None, 2026), None);
    assert_eq!(found(Program::GeneralBhi, Some(Payer::Commercial), None, 2026).as_deref(), Some("general-bhi/default/2026"));
}

#[test]
fn a_rule_set_is_checked_before_it_is_stored() {
    let refused = |f: &dyn Fn(&mut BillingRules)| {
        let mut r = medicare_2026();
        f(&mut r);
        r.check().map_err(|e| e.to_string()).unwrap_err()
    };
    assert!(medicare_2026().check().is_ok());
    assert!(refused(&|r| r.initial.tiers.clear()).starts_with("rules.initial: "));
    assert!(refused(&|r| r.initial.tiers[1].from_minutes = 16).contains("more than the one before"));
    assert!(refused(&|r| r.subsequent.tiers[0].from_minutes = 0).contains("at least 1 minute"));
    assert!(refused(&|r| r.subsequent.addon.as_mut().unwrap().from_minutes = 31).contains("must start after"));
    assert!(refused(&|r| r.subsequent.addon.as_mut().unwrap().block_minutes = 0).contains("at least 1 minute"));
    assert!(refused(&|r| r.initial.addon.as_mut().unwrap().max_units = Some(0)).contains("at least 1"));
    assert!(refused(&|r| r.initial.tiers[0].code = " ".into()).contains("needs a name"));
    assert!(
        refused(&|r| {
            r.fees.insert("99492".into(), -1.0);
        })
        .starts_with("rules.fees: ")
    );
}
