//! Billing-minute summaries (spec §7): countable and excluded minutes per patient per calendar
//! month, initial or subsequent month, the codes and units they reach under the year's rule
//! set, warnings, minutes to the next tier and an estimated revenue. The rules here are pure;
//! `month` loads a month from the registry, set-based, and applies them.

mod month;

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::access::Action;
use crate::audit;
use crate::dates::{Date, Month};
use crate::settings::Settings;
use crate::vocab::{Payer, Role, string_enum};
use crate::{Error, Registry, Result};

pub const G2214: &str = "G2214";
pub const CPT_99492: &str = "99492";
pub const CPT_99493: &str = "99493";
pub const CPT_99494: &str = "99494";

/// One year's billing thresholds and fees, stored as data (`billing_rule_sets`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct BillingRules {
    /// The G2214 minimum. [16]
    pub g2214_min_minutes: u32,
    /// Initial month: 99492 from this many minutes. [36]
    pub initial_base_min_minutes: u32,
    /// Initial month: the first 99494 unit from this many minutes. [86]
    pub initial_addon_from_minutes: u32,
    /// Subsequent month: 99493 from this many minutes. [31]
    pub subsequent_base_min_minutes: u32,
    /// Subsequent month: the first 99494 unit from this many minutes. [76]
    pub subsequent_addon_from_minutes: u32,
    /// Each further 99494 unit needs this many more minutes. [30]
    pub addon_block_minutes: u32,
    /// An optional cap on 99494 units. [none]
    pub addon_max_units: Option<u32>,
    /// Estimated fee per code, in dollars (labelled estimates, editable).
    pub fees: BTreeMap<String, f64>,
}

impl BillingRules {
    fn check(&self) -> Result<()> {
        let ok = self.g2214_min_minutes >= 1
            && self.g2214_min_minutes < self.initial_base_min_minutes
            && self.initial_base_min_minutes < self.initial_addon_from_minutes
            && self.g2214_min_minutes < self.subsequent_base_min_minutes
            && self.subsequent_base_min_minutes < self.subsequent_addon_from_minutes
            && self.addon_block_minutes >= 1;
        if !ok {
            return Err(Error::validation(
                "rules",
                "thresholds must rise: G2214 minimum < 99492 minimum < first 99494, and G2214 minimum < 99493 minimum < first 99494; the add-on block is at least 1 minute",
            ));
        }
        // §7: a cap on 99494 units is at least 1, or absent; a cap of 0 would bill
        // "99492 + 99494×0".
        if self.addon_max_units == Some(0) {
            return Err(Error::validation("addon_max_units", "a cap on 99494 units must be at least 1; leave it empty for no cap"));
        }
        if let Some((code, fee)) = self.fees.iter().find(|(_, f)| !f.is_finite() || **f < 0.0) {
            return Err(Error::validation("rules", format!("the fee for {code} must be 0 or more (got {fee})")));
        }
        Ok(())
    }
}

string_enum!(
    /// Spec §7. `none` is a month with no countable minutes: it has no kind and never starts
    /// the initial month.
    MonthKind {
        Initial => "initial",
        Subsequent => "subsequent",
        None => "none",
    }
);

string_enum!(
    /// Why a contact's minutes do not count (reported so the summary holds up to audit).
    ExclusionReason {
        EnteredInError => "entered-in-error",
        EnrolmentEnteredInError => "enrolment-entered-in-error",
        PsychiatricConsultant => "psychiatric-consultant",
        RoleNotCounted => "role-not-counted",
        NoConsent => "no-consent",
        BeforeConsent => "before-consent",
        AfterDischarge => "after-discharge",
    }
);

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, Eq, ts_rs::TS)]
pub struct CodeUnits {
    pub code: String,
    pub units: u32,
}

/// The codes a month reaches (spec §7 table). G2214 never goes with the CoCM codes.
pub fn codes(rules: &BillingRules, kind: MonthKind, minutes: u32) -> Vec<CodeUnits> {
    let Some((base_code, base_min, addon_from)) = tiers(rules, kind) else { return vec![] };
    let code = |c: &str, units: u32| CodeUnits { code: c.to_string(), units };
    if minutes < rules.g2214_min_minutes {
        vec![]
    } else if minutes < base_min {
        vec![code(G2214, 1)]
    } else if minutes < addon_from {
        vec![code(base_code, 1)]
    } else {
        vec![code(base_code, 1), code(CPT_99494, addon_units(rules, addon_from, minutes))]
    }
}

/// The month's base code, its minimum, and the first 99494 minute; none for a `none` month.
fn tiers(rules: &BillingRules, kind: MonthKind) -> Option<(&'static str, u32, u32)> {
    match kind {
        MonthKind::Initial => Some((CPT_99492, rules.initial_base_min_minutes, rules.initial_addon_from_minutes)),
        MonthKind::Subsequent => Some((CPT_99493, rules.subsequent_base_min_minutes, rules.subsequent_addon_from_minutes)),
        MonthKind::None => None,
    }
}

/// floor((m − first add-on) / block) + 1, within the optional cap.
fn addon_units(rules: &BillingRules, addon_from: u32, minutes: u32) -> u32 {
    let units = (minutes - addon_from) / rules.addon_block_minutes + 1;
    rules.addon_max_units.map_or(units, |cap| units.min(cap))
}

/// How many more minutes this month reach the next code or unit; none once the 99494 cap is met.
/// `kind` is what the month's countable minutes count as (for a month with none yet, what its
/// first countable minute would make it).
pub fn minutes_to_next_tier(rules: &BillingRules, kind: MonthKind, minutes: u32) -> Option<u32> {
    let (_, base_min, addon_from) = tiers(rules, kind)?;
    let next = if minutes < rules.g2214_min_minutes {
        rules.g2214_min_minutes
    } else if minutes < base_min {
        base_min
    } else if minutes < addon_from {
        addon_from
    } else {
        let units = addon_units(rules, addon_from, minutes);
        if rules.addon_max_units.is_some_and(|cap| units >= cap) {
            return None;
        }
        addon_from + units * rules.addon_block_minutes
    };
    Some(next - minutes)
}

/// Estimated revenue of the codes, in dollars (rounded to cents).
pub fn revenue(rules: &BillingRules, codes: &[CodeUnits]) -> f64 {
    let cents: i64 = codes.iter().map(|c| (rules.fees.get(&c.code).copied().unwrap_or(0.0) * 100.0).round() as i64 * c.units as i64).sum();
    cents as f64 / 100.0
}

/// What a month's countable minutes count as: initial when there is no countable month before
/// it in the episode, or when the last one left at least `gap` whole calendar months empty in
/// between; subsequent otherwise. A month with no countable minutes is `none` (see `BillingRow`).
pub fn month_kind(month: Month, last_countable_month_before: Option<Month>, gap: i64) -> MonthKind {
    match last_countable_month_before {
        Some(prev) if (prev.months_until(month) - 1) < gap as i32 => MonthKind::Subsequent,
        _ => MonthKind::Initial,
    }
}

/// What the exclusion rule needs to know about a contact.
#[derive(Clone, Debug)]
pub(crate) struct ContactFacts {
    pub date: Date,
    pub author_role: Role,
    pub entered_in_error: bool,
    /// The contact's episode (its enrolment) was entered in error.
    pub episode_entered_in_error: bool,
    pub consent: Option<Date>,
    pub discharge: Option<Date>,
}

pub(crate) fn counted_roles(settings: &Settings) -> Vec<Role> {
    let mut roles = vec![Role::CareManager];
    if settings.billing_counts_pcp_minutes {
        roles.push(Role::Pcp);
    }
    roles
}

/// Why a contact's minutes do not count, or `None` when they do (spec §7).
pub(crate) fn exclusion(c: &ContactFacts, roles: &[Role]) -> Option<ExclusionReason> {
    use ExclusionReason::*;
    if c.entered_in_error {
        Some(EnteredInError)
    } else if c.episode_entered_in_error {
        Some(EnrolmentEnteredInError)
    } else if c.author_role == Role::PsychiatricConsultant {
        Some(PsychiatricConsultant)
    } else if !roles.contains(&c.author_role) {
        Some(RoleNotCounted)
    } else if c.consent.is_none() {
        Some(NoConsent)
    } else if c.consent.is_some_and(|consent| c.date < consent) {
        Some(BeforeConsent)
    } else if c.discharge.is_some_and(|discharge| c.date > discharge) {
        Some(AfterDischarge)
    } else {
        None
    }
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct ExcludedMinutes {
    pub reason: ExclusionReason,
    pub minutes: u32,
}

/// A contact behind a patient-month.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct BilledContact {
    pub id: String,
    pub date: Date,
    pub author: String,
    pub role: Role,
    pub minutes: u32,
    pub excluded: Option<ExclusionReason>,
}

/// One patient-month with any minutes.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct BillingRow {
    pub mrn: String,
    pub name: String,
    pub patient_id: String,
    pub payer: Payer,
    /// The treating practitioner, who bills.
    pub pcp: Option<String>,
    #[ts(type = "string")]
    pub month: Month,
    /// The episode this row bills: a patient discharged and enrolled again in one month has a
    /// row per episode (§7: a new registry episode starts over).
    pub episode_id: String,
    pub episode_start: Date,
    /// `none` when no minutes count this month.
    pub month_kind: MonthKind,
    /// Countable minutes.
    pub minutes: u32,
    pub excluded: Vec<ExcludedMinutes>,
    pub codes: Vec<CodeUnits>,
    /// The codes as a biller reads them ([`codes_text`]); empty for none.
    pub codes_text: String,
    pub warnings: Vec<String>,
    pub minutes_to_next_tier: Option<u32>,
    pub estimated_revenue: f64,
    pub contacts: Vec<BilledContact>,
}

/// The month's totals.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct BillingTotals {
    /// Patients with at least one code.
    pub patients: usize,
    pub minutes: u32,
    pub excluded_minutes: u32,
    pub units: BTreeMap<String, u32>,
    pub estimated_revenue: f64,
}

pub fn totals(rows: &[BillingRow]) -> BillingTotals {
    let mut t = BillingTotals::default();
    let mut cents = 0i64;
    // A patient with two episodes in the month has two rows, and is one patient.
    let mut billed: Vec<&str> = rows.iter().filter(|r| !r.codes.is_empty()).map(|r| r.patient_id.as_str()).collect();
    billed.sort_unstable();
    billed.dedup();
    t.patients = billed.len();
    for r in rows {
        t.minutes += r.minutes;
        t.excluded_minutes += r.excluded.iter().map(|e| e.minutes).sum::<u32>();
        for c in &r.codes {
            *t.units.entry(c.code.clone()).or_default() += c.units;
        }
        cents += (r.estimated_revenue * 100.0).round() as i64;
    }
    t.estimated_revenue = cents as f64 / 100.0;
    t
}

/// The codes as a biller reads them: "99492 + 99494×2".
pub fn codes_text(codes: &[CodeUnits]) -> String {
    codes.iter().map(|c| if c.units > 1 { format!("{}×{}", c.code, c.units) } else { c.code.clone() }).collect::<Vec<_>>().join(" + ")
}

/// The month's summary as CSV for a biller: one row per patient-month, units per code.
pub fn to_csv(rows: &[BillingRow]) -> Result<String> {
    let units = |r: &BillingRow, code: &str| r.codes.iter().find(|c| c.code == code).map_or(0, |c| c.units).to_string();
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| Error::Storage(format!("CSV: {e}"));
    w.write_record([
        "mrn",
        "name",
        "payer",
        "pcp",
        "month",
        "month_kind",
        "minutes",
        "excluded_minutes",
        "excluded",
        "codes",
        G2214,
        CPT_99492,
        CPT_99493,
        CPT_99494,
        "minutes_to_next_tier",
        "estimated_revenue",
        "warnings",
    ])
    .map_err(err)?;
    for r in rows {
        let excluded: Vec<String> = r.excluded.iter().map(|e| format!("{}:{}", e.reason, e.minutes)).collect();
        w.write_record([
            r.mrn.clone(),
            r.name.clone(),
            r.payer.to_string(),
            r.pcp.clone().unwrap_or_default(),
            r.month.to_string(),
            r.month_kind.to_string(),
            r.minutes.to_string(),
            r.excluded.iter().map(|e| e.minutes).sum::<u32>().to_string(),
            excluded.join(";"),
            r.codes_text.clone(),
            units(r, G2214),
            units(r, CPT_99492),
            units(r, CPT_99493),
            units(r, CPT_99494),
            r.minutes_to_next_tier.map(|m| m.to_string()).unwrap_or_default(),
            format!("{:.2}", r.estimated_revenue),
            r.warnings.join("; "),
        ])
        .map_err(err)?;
    }
    String::from_utf8(w.into_inner().map_err(|e| Error::Storage(format!("CSV: {e}")))?).map_err(|e| Error::Storage(e.to_string()))
}

/// The billing screen's data: a month's rows and their totals.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct BillingView {
    pub rows: Vec<BillingRow>,
    pub totals: BillingTotals,
}

/// The rule set in effect in `year`: the latest one that took effect on or before it.
pub(crate) fn rules_for_year(conn: &Connection, year: i32) -> Result<(i32, BillingRules)> {
    find_rules_for_year(conn, year)?
        .ok_or_else(|| Error::NotFound(format!("no billing rule set takes effect in or before {year}; add one for that year")))
}

/// The rule set in effect in `year`, if any has taken effect by then.
pub(crate) fn find_rules_for_year(conn: &Connection, year: i32) -> Result<Option<(i32, BillingRules)>> {
    let found: Option<(i32, String)> = conn
        .prepare_cached(
            "SELECT effective_year, rules FROM billing_rule_sets WHERE effective_year <= ?1 ORDER BY effective_year DESC LIMIT 1",
        )?
        .query_row([year], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    found.map(|(effective, json)| Ok((effective, serde_json::from_str(&json)?))).transpose()
}

/// The warning on a month whose year has no rule set: its minutes are shown, with no codes.
pub fn no_rule_set_warning(year: i32) -> String {
    format!("no billing rule set for {year}: add one in Team & settings")
}

/// A stored rule set and the year it takes effect.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct RuleSet {
    pub effective_year: i32,
    pub rules: BillingRules,
}

impl Registry {
    /// The billing summary of a calendar month: one row per patient-month with any minutes,
    /// by MRN.
    pub fn billing(&self, month: Month) -> Result<Vec<BillingRow>> {
        month::rows(&self.conn, month, None, None)
    }

    /// The billing summaries of each month from `from` to `to`, in one pass over the registry,
    /// seeing no contact after `until` (a report's as-of date) when given.
    pub fn billing_months(&self, from: Month, to: Month, until: Option<Date>) -> Result<Vec<(Month, Vec<BillingRow>)>> {
        month::months(&self.conn, from, to, until, None)
    }

    /// A month's rows with their totals, as the billing screen shows them.
    pub fn billing_view(&self, month: Month) -> Result<BillingView> {
        let rows = self.billing(month)?;
        Ok(BillingView { totals: totals(&rows), rows })
    }

    /// One patient's billing row for a month (none when they have no minutes in it); with two
    /// episodes in the month, the later episode's row.
    pub fn patient_billing(&self, mrn: &str, month: Month) -> Result<Option<BillingRow>> {
        let patient = crate::patients::find_by_mrn(&self.conn, mrn)?;
        Ok(month::rows(&self.conn, month, None, Some(&patient.id))?.pop())
    }

    /// One patient's billing row for the month of `as_of`, from the contacts up to that day.
    pub fn patient_billing_so_far(&self, mrn: &str, as_of: Date) -> Result<Option<BillingRow>> {
        let patient = crate::patients::find_by_mrn(&self.conn, mrn)?;
        Ok(month::rows(&self.conn, Month::of(as_of), Some(as_of), Some(&patient.id))?.pop())
    }

    pub fn billing_rule_sets(&self) -> Result<Vec<RuleSet>> {
        let mut stmt = self.conn.prepare("SELECT effective_year, rules FROM billing_rule_sets ORDER BY effective_year")?;
        let rows: Vec<(i32, String)> = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        rows.into_iter().map(|(y, json)| Ok(RuleSet { effective_year: y, rules: serde_json::from_str(&json)? })).collect()
    }

    /// The rule set in effect for a year.
    pub fn billing_rules(&self, year: i32) -> Result<RuleSet> {
        let (effective_year, rules) = rules_for_year(&self.conn, year)?;
        Ok(RuleSet { effective_year, rules })
    }

    /// Adds or replaces the rule set that takes effect in `year`.
    pub fn set_billing_rules(&mut self, year: i32, rules: &BillingRules) -> Result<()> {
        self.set_billing_rules_if(year, rules, None)
    }

    /// [`Registry::set_billing_rules`], refused as a `conflict` unless the rules in effect in
    /// `year` are still `expected` (what the form showed): someone else changed them in between.
    pub fn set_billing_rules_if(&mut self, year: i32, rules: &BillingRules, expected: Option<&BillingRules>) -> Result<()> {
        self.permit(Action::ChangeBillingRules)?;
        if !(2000..=2100).contains(&year) {
            return Err(Error::validation("year", format!("{year} is not a plausible year")));
        }
        rules.check()?;
        self.write(Action::ChangeBillingRules, |tx, actor| {
            if let Some(expected) = expected {
                let (in_effect_since, current) = rules_for_year(tx, year)?;
                if serde_json::to_value(&current)? != serde_json::to_value(expected)? {
                    let last = audit::last_change(tx, "billing_rule_set", &in_effect_since.to_string())?;
                    return Err(last.map_or_else(
                        || Error::Conflict(format!("the {year} rules changed since you opened them; reload")),
                        |c| c.conflict(),
                    ));
                }
            }
            let json = serde_json::to_string(rules)?;
            tx.execute(
                "INSERT INTO billing_rule_sets (effective_year, rules) VALUES (?1, ?2)
                 ON CONFLICT (effective_year) DO UPDATE SET rules = excluded.rules",
                (year, &json),
            )?;
            audit::record(tx, actor, "update", "billing_rule_set", Some(&year.to_string()), serde_json::from_str(&json)?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MonthKind::{Initial, Subsequent};

    pub(crate) fn rules_2026() -> BillingRules {
        serde_json::from_str(
            r#"{"g2214_min_minutes":16,"initial_base_min_minutes":36,"initial_addon_from_minutes":86,"subsequent_base_min_minutes":31,
                "subsequent_addon_from_minutes":76,"addon_block_minutes":30,"addon_max_units":null,
                "fees":{"99492":160.0,"99493":145.0,"99494":61.0,"G2214":61.0}}"#,
        )
        .unwrap()
    }

    fn show(kind: MonthKind, m: u32) -> String {
        codes(&rules_2026(), kind, m).iter().map(|c| format!("{}x{}", c.code, c.units)).collect::<Vec<_>>().join("+")
    }

    #[test]
    fn initial_month_tiers_at_every_boundary() {
        let cases = [
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
        ];
        for (m, want) in cases {
            assert_eq!(show(Initial, m), want, "initial {m} minutes");
        }
    }

    #[test]
    fn subsequent_month_tiers_at_every_boundary() {
        let cases = [
            (0, ""),
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
        ];
        for (m, want) in cases {
            assert_eq!(show(Subsequent, m), want, "subsequent {m} minutes");
        }
    }

    #[test]
    fn addon_cap_limits_units_and_the_next_tier() {
        let mut rules = rules_2026();
        rules.addon_max_units = Some(2);
        assert_eq!(codes(&rules, Initial, 200)[1], CodeUnits { code: CPT_99494.into(), units: 2 });
        assert_eq!(minutes_to_next_tier(&rules, Initial, 116), None);
        assert_eq!(minutes_to_next_tier(&rules, Initial, 100), Some(16));
    }

    #[test]
    fn a_99494_cap_is_at_least_one_or_absent() {
        // §7: "an optional cap on 99494 units [none; a cap is at least 1]".
        let mut rules = rules_2026();
        assert!(rules.check().is_ok(), "no cap");
        rules.addon_max_units = Some(1);
        assert!(rules.check().is_ok());
        // With a cap of 1, 200 initial minutes bill 99492 + one 99494 (not floor(114/30)+1 = 4).
        assert_eq!(codes(&rules, Initial, 200)[1].units, 1);
        rules.addon_max_units = Some(0);
        let e = rules.check().unwrap_err();
        assert_eq!((e.code(), e.to_string().starts_with("addon_max_units: ")), ("validation", true), "{e}");
    }

    #[test]
    fn minutes_to_next_tier_examples() {
        let r = rules_2026();
        assert_eq!(minutes_to_next_tier(&r, Subsequent, 30), Some(1), "the spec's example: 30 → 1 to 99493");
        assert_eq!(minutes_to_next_tier(&r, Subsequent, 0), Some(16));
        assert_eq!(minutes_to_next_tier(&r, Initial, 15), Some(1));
        assert_eq!(minutes_to_next_tier(&r, Initial, 35), Some(1));
        assert_eq!(minutes_to_next_tier(&r, Initial, 85), Some(1));
        assert_eq!(minutes_to_next_tier(&r, Initial, 86), Some(30));
        assert_eq!(minutes_to_next_tier(&r, Subsequent, 105), Some(1));
        assert_eq!(minutes_to_next_tier(&r, Subsequent, 106), Some(30));
    }

    #[test]
    fn revenue_from_fees() {
        let r = rules_2026();
        assert_eq!(revenue(&r, &codes(&r, Initial, 116)), 160.0 + 2.0 * 61.0);
        assert_eq!(revenue(&r, &codes(&r, Subsequent, 20)), 61.0);
        assert_eq!(revenue(&r, &[]), 0.0);
    }

    #[test]
    fn initial_again_after_six_empty_months() {
        let m = |s: &str| Month::parse("m", s).unwrap();
        assert_eq!(month_kind(m("2026-03"), None, 6), Initial);
        assert_eq!(month_kind(m("2026-03"), Some(m("2026-02")), 6), Subsequent);
        // Jan counted, Feb–Jul empty (6 whole months): Aug is initial again.
        assert_eq!(month_kind(m("2026-08"), Some(m("2026-01")), 6), Initial);
        // Feb–Jun empty (5 months): Jul is still subsequent.
        assert_eq!(month_kind(m("2026-07"), Some(m("2026-01")), 6), Subsequent);
        // Across a year end: Jan–May empty (5) is subsequent; Dec–May empty (6) is initial.
        assert_eq!(month_kind(m("2026-06"), Some(m("2025-12")), 6), Subsequent);
        assert_eq!(month_kind(m("2026-06"), Some(m("2025-11")), 6), Initial);
    }

    #[test]
    fn exclusions_in_order() {
        let d = |s: &str| crate::dates::parse_date("d", s).unwrap();
        let base = ContactFacts {
            date: d("2026-03-10"),
            author_role: Role::CareManager,
            entered_in_error: false,
            episode_entered_in_error: false,
            consent: Some(d("2026-03-01")),
            discharge: None,
        };
        let roles = [Role::CareManager];
        assert_eq!(exclusion(&base, &roles), None);
        let with = |f: &dyn Fn(&mut ContactFacts)| {
            let mut c = base.clone();
            f(&mut c);
            exclusion(&c, &roles)
        };
        assert_eq!(with(&|c| c.entered_in_error = true), Some(ExclusionReason::EnteredInError));
        assert_eq!(with(&|c| c.episode_entered_in_error = true), Some(ExclusionReason::EnrolmentEnteredInError));
        assert_eq!(with(&|c| c.author_role = Role::PsychiatricConsultant), Some(ExclusionReason::PsychiatricConsultant));
        assert_eq!(with(&|c| c.author_role = Role::Pcp), Some(ExclusionReason::RoleNotCounted));
        assert_eq!(exclusion(&ContactFacts { author_role: Role::Pcp, ..base.clone() }, &[Role::CareManager, Role::Pcp]), None);
        assert_eq!(with(&|c| c.consent = None), Some(ExclusionReason::NoConsent));
        assert_eq!(with(&|c| c.consent = Some(d("2026-03-11"))), Some(ExclusionReason::BeforeConsent));
        assert_eq!(with(&|c| c.consent = Some(d("2026-03-10"))), None, "consent on the day counts");
        assert_eq!(with(&|c| c.discharge = Some(d("2026-03-09"))), Some(ExclusionReason::AfterDischarge));
        assert_eq!(with(&|c| c.discharge = Some(d("2026-03-10"))), None, "the discharge day counts");
    }
}
