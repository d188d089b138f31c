//! Billing-minute summaries (spec §7): countable and excluded minutes per patient per calendar
//! month, initial or subsequent month, the codes and units they reach under the year's rule
//! set, warnings, minutes to the next tier and an estimated revenue. The rules here are pure;
//! `month` loads a month from the registry, set-based, and applies them.

mod claims;
mod month;
pub(crate) use month::{BilledPatients, MonthOfSums};
mod programs;
mod rules;

pub use claims::{ClaimLine, claims_csv};
pub use programs::{ApcmPeriod, BillingPrograms, ProgramFrom, parse_episode_program};
pub use rules::{AddOn, BillingRules, CredentialCode, MonthTable, PRESETS, Program, RuleBook, RuleSet, RuleSetKey, Tier, preset};

use rusqlite::Connection;
use serde::Serialize;
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
    /// The primary coverage's payer on the date of service (spec §7a); none without coverage.
    pub payer: Option<Payer>,
    pub plan: Option<String>,
    /// The treating practitioner, who bills.
    pub pcp: Option<String>,
    /// What the month is billed as (§7a): the episode's program, or `apcm-bhi` in an APCM month.
    pub program: Program,
    /// The rule set its codes come from (`cocm/medicaid/2026`); none when no rule set applies.
    pub rule_set: Option<String>,
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
    /// The countable minutes at which each unit of each code was reached, parallel to
    /// `codes` (a claim line's `threshold-met` date of service, §7a).
    #[serde(default)]
    pub unit_minutes: Vec<Vec<u32>>,
    /// What the month would bill were consent recorded: its minutes are all before consent or
    /// without one (a claim line held for "no consent", §7a). Empty otherwise.
    #[serde(default)]
    pub held_for_consent: Vec<CodeUnits>,
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
    use crate::reports::csv::{err, finish};
    let units = |r: &BillingRow, code: &str| r.codes.iter().find(|c| c.code == code).map_or(0, |c| c.units).to_string();
    let mut w = csv::Writer::from_writer(Vec::new());
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
        "program",
        "rule_set",
    ])
    .map_err(err)?;
    for r in rows {
        let excluded: Vec<String> = r.excluded.iter().map(|e| format!("{}:{}", e.reason, e.minutes)).collect();
        w.write_record([
            r.mrn.clone(),
            r.name.clone(),
            r.payer.map(|p| p.to_string()).unwrap_or_default(),
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
            r.program.to_string(),
            r.rule_set.clone().unwrap_or_default(),
        ])
        .map_err(err)?;
    }
    finish(w)
}

/// The billing screen's data: a month's rows and their totals.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct BillingView {
    pub rows: Vec<BillingRow>,
    pub totals: BillingTotals,
}

/// Every stored rule set (a handful of rows), to look patient-months up in.
pub(crate) fn rule_book(conn: &Connection) -> Result<RuleBook> {
    let mut stmt = conn.prepare_cached(
        "SELECT program, payer, plan, effective_year, rules FROM billing_rule_sets
         ORDER BY CASE program WHEN 'cocm' THEN 0 WHEN 'general-bhi' THEN 1 ELSE 2 END,
                  payer IS NOT NULL, payer, plan IS NOT NULL, plan, effective_year",
    )?;
    type Row = (String, Option<String>, Option<String>, i32, String);
    let rows: Vec<Row> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?.collect::<rusqlite::Result<_>>()?;
    let sets = rows
        .into_iter()
        .map(|(program, payer, plan, effective_year, json)| {
            let key = RuleSetKey {
                program: Program::parse("program", &program)?,
                payer: payer.map(|p| Payer::parse("payer", &p)).transpose()?,
                plan,
                effective_year,
            };
            Ok(RuleSet { key, rules: serde_json::from_str(&json)? })
        })
        .collect::<Result<_>>()?;
    Ok(RuleBook { sets })
}

/// The warning on a month whose year has no rule set: its minutes are shown, with no codes.
pub fn no_rule_set_warning(program: Program, year: i32) -> String {
    format!("no {program} billing rule set for {year}: add one in Team & settings")
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

    /// The practice's months from `from` to `to` as a report sums them (see
    /// [`month::MonthOfSums`]), handed over a month at a time with the patients read, seeing no
    /// contact after `until`; returns the patients read (with their coverage).
    pub(crate) fn billing_each_month(
        &self,
        from: Month,
        to: Month,
        until: Option<Date>,
        on_month: &mut dyn FnMut(Month, month::MonthOfSums, &month::BilledPatients) -> Result<()>,
    ) -> Result<month::BilledPatients> {
        month::each_month_sums(&self.conn, from, to, until, on_month)
    }

    /// The month's claim lines (spec §7a), held ones first.
    pub fn billing_claims(&self, month: Month) -> Result<Vec<ClaimLine>> {
        claims::lines(&self.conn, month)
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

    /// Every rule set, the practice's defaults first.
    pub fn billing_rule_sets(&self) -> Result<Vec<RuleSet>> {
        Ok(rule_book(&self.conn)?.sets)
    }

    /// The practice's default CoCM rule set in effect in a year.
    pub fn billing_rules(&self, year: i32) -> Result<RuleSet> {
        rule_book(&self.conn)?
            .find(Program::Cocm, None, None, year)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("no billing rule set takes effect in or before {year}; add one for that year")))
    }

    /// Adds or replaces the practice's default CoCM rule set that takes effect in `year`.
    pub fn set_billing_rules(&mut self, year: i32, rules: &BillingRules) -> Result<()> {
        let key = RuleSetKey { program: Program::Cocm, payer: None, plan: None, effective_year: year };
        self.set_rule_set_if(&key, rules, None)
    }

    /// Adds or replaces the rule set with `key`, refused as a `conflict` unless the one in
    /// effect for it is still `expected` (what the form showed): someone else changed it.
    pub fn set_rule_set_if(&mut self, key: &RuleSetKey, rules: &BillingRules, expected: Option<&BillingRules>) -> Result<()> {
        self.permit(Action::ChangeBillingRules)?;
        let key = check_key(key)?;
        rules.check()?;
        self.write(Action::ChangeBillingRules, |tx, actor| {
            if let Some(expected) = expected {
                let book = rule_book(tx)?;
                let current = book
                    .find(key.program, key.payer, key.plan.as_deref(), key.effective_year)
                    .filter(|s| s.key.payer == key.payer && s.key.plan == key.plan);
                if current.map(|c| &c.rules) != Some(expected) {
                    let since = current.map_or(key.clone(), |c| c.key.clone());
                    let last = audit::last_change(tx, "billing_rule_set", &since.to_string())?;
                    return Err(last.map_or_else(
                        || Error::Conflict(format!("the {} rules changed since you opened them; reload", key.effective_year)),
                        |c| c.conflict(),
                    ));
                }
            }
            store_rule_set(tx, actor, &RuleSet { key: key.clone(), rules: rules.clone() })
        })
    }

    /// Switches on one of the shipped presets (`billing::PRESETS`), adding or replacing its
    /// rule sets; returns their keys.
    pub fn apply_rules_preset(&mut self, name: &str) -> Result<Vec<RuleSetKey>> {
        self.permit(Action::ChangeBillingRules)?;
        let base = self.billing_rules(2026)?.rules;
        let sets = preset(name, &base)?;
        self.write(Action::ChangeBillingRules, |tx, actor| {
            for set in &sets {
                set.rules.check()?;
                store_rule_set(tx, actor, set)?;
            }
            Ok(sets.iter().map(|s| s.key.clone()).collect())
        })
    }
}

/// A key as stored: a plausible year, a trimmed plan only with a payer.
fn check_key(key: &RuleSetKey) -> Result<RuleSetKey> {
    if !(2000..=2100).contains(&key.effective_year) {
        return Err(Error::validation("year", format!("{} is not a plausible year", key.effective_year)));
    }
    let plan = key.plan.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_string);
    if plan.is_some() && key.payer.is_none() {
        return Err(Error::validation("plan", "a plan's rules need its payer (--payer)"));
    }
    Ok(RuleSetKey { plan, ..key.clone() })
}

fn store_rule_set(tx: &Connection, actor: &audit::Actor, set: &RuleSet) -> Result<()> {
    let json = serde_json::to_string(&set.rules)?;
    let k = &set.key;
    let (payer, plan) = (k.payer.map(|p| p.as_str()), k.plan.as_deref());
    let updated = tx.execute(
        "UPDATE billing_rule_sets SET rules = ?5 WHERE program = ?1 AND payer IS ?2 AND plan IS ?3 AND effective_year = ?4",
        (k.program.as_str(), payer, plan, k.effective_year, &json),
    )?;
    if updated == 0 {
        tx.execute(
            "INSERT INTO billing_rule_sets (program, payer, plan, effective_year, rules) VALUES (?1, ?2, ?3, ?4, ?5)",
            (k.program.as_str(), payer, plan, k.effective_year, &json),
        )?;
    }
    let detail =
        serde_json::json!({ "program": k.program.as_str(), "payer": payer, "plan": plan, "year": k.effective_year, "rules": set.rules });
    audit::record(tx, actor, "update", "billing_rule_set", Some(&k.to_string()), detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use MonthKind::{Initial, Subsequent};

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
