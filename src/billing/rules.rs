//! Billing rule sets as data (spec §7, §7a): which codes a month's countable minutes reach,
//! for a program, a payer (and plan) and a year. A rule set is tables of tiers per month kind
//! and an optional add-on, so Medicare's CoCM table, general BHI's single 99484, the APCM
//! add-ons, Texas Medicaid's full-time G0512 and North Carolina's cap on 99494 are all rule
//! sets; no payer or program has a branch in code.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::{CodeUnits, MonthKind};
use crate::team::Credential;
use crate::vocab::{Payer, string_enum};
use crate::{Error, Result};

string_enum!(
    /// What a patient-month is billed as (§7a). An episode is `cocm` or `general-bhi`; a month
    /// in which the PCP bills APCM for the patient is `apcm-bhi`.
    Program {
        Cocm => "cocm",
        GeneralBhi => "general-bhi",
        ApcmBhi => "apcm-bhi",
    }
);

/// One code a month reaches from `from_minutes` countable minutes on. The minute is the whole
/// time rule: the midpoint rule's 16 of 30 minutes and a payer's full 70 are both just numbers.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct Tier {
    pub code: String,
    pub from_minutes: u32,
}

/// Units of an add-on code on top of the month's highest tier: the first at `from_minutes`,
/// one more for each further `block_minutes`, at most `max_units` when capped.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct AddOn {
    pub code: String,
    pub from_minutes: u32,
    pub block_minutes: u32,
    pub max_units: Option<u32>,
}

/// The codes of one kind of month: the highest tier reached bills one unit (tiers exclude each
/// other: G2214 never goes with 99492), then the add-on's units.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct MonthTable {
    /// Rising by `from_minutes`.
    pub tiers: Vec<Tier>,
    pub addon: Option<AddOn>,
}

/// A billing practitioner with `credential` bills `code` instead of `instead_of` (§7a: G0323
/// for 99484 when the practitioner is a clinical psychologist or clinical social worker).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct CredentialCode {
    pub credential: Credential,
    pub instead_of: String,
    pub code: String,
}

/// One rule set's tables and fees, stored as JSON (`billing_rule_sets.rules`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct BillingRules {
    pub initial: MonthTable,
    pub subsequent: MonthTable,
    /// An `apcm-bhi` rule set's table for an episode billed as general BHI (G0570, §7a); every
    /// other episode's APCM month uses `initial` or `subsequent`.
    #[serde(default)]
    pub general_bhi_episodes: Option<MonthTable>,
    #[serde(default)]
    pub credential_codes: Vec<CredentialCode>,
    /// Estimated fee per code, in dollars (labelled estimates, editable).
    pub fees: BTreeMap<String, f64>,
}

impl MonthTable {
    /// The codes for `minutes` countable minutes (spec §7 table, generalised).
    pub fn codes(&self, minutes: u32) -> Vec<CodeUnits> {
        let Some(tier) = self.tiers.iter().rev().find(|t| minutes >= t.from_minutes) else { return vec![] };
        let mut codes = vec![CodeUnits { code: tier.code.clone(), units: 1 }];
        if let Some(addon) = self.addon.as_ref().filter(|a| minutes >= a.from_minutes) {
            codes.push(CodeUnits { code: addon.code.clone(), units: addon.units(minutes) });
        }
        codes
    }

    /// The countable minutes at which each unit of each of `codes(minutes)` was reached, in
    /// the same order: a tier's one unit at its `from_minutes`, the add-on's k-th unit at
    /// `from_minutes + (k − 1) × block_minutes` (a claim line's `threshold-met` date, §7a).
    pub fn unit_minutes(&self, minutes: u32) -> Vec<Vec<u32>> {
        let Some(tier) = self.tiers.iter().rev().find(|t| minutes >= t.from_minutes) else { return vec![] };
        let mut out = vec![vec![tier.from_minutes]];
        if let Some(addon) = self.addon.as_ref().filter(|a| minutes >= a.from_minutes) {
            out.push((0..addon.units(minutes)).map(|k| addon.from_minutes + k * addon.block_minutes).collect());
        }
        out
    }

    /// How many more minutes reach the next code or add-on unit; none once nothing is above.
    pub fn minutes_to_next_tier(&self, minutes: u32) -> Option<u32> {
        if let Some(next) = self.tiers.iter().find(|t| t.from_minutes > minutes) {
            return Some(next.from_minutes - minutes);
        }
        let addon = self.addon.as_ref()?;
        if minutes < addon.from_minutes {
            return Some(addon.from_minutes - minutes);
        }
        let units = addon.units(minutes);
        if addon.max_units.is_some_and(|cap| units >= cap) {
            return None;
        }
        Some(addon.from_minutes + units * addon.block_minutes - minutes)
    }

    fn check(&self, which: &str) -> Result<()> {
        let field = format!("rules.{which}");
        if self.tiers.is_empty() {
            return Err(Error::validation(&field, "needs at least one code"));
        }
        if self.tiers.iter().any(|t| t.code.trim().is_empty()) || self.addon.as_ref().is_some_and(|a| a.code.trim().is_empty()) {
            return Err(Error::validation(&field, "every code needs a name"));
        }
        if self.tiers[0].from_minutes < 1 {
            return Err(Error::validation(&field, format!("{} needs at least 1 minute", self.tiers[0].code)));
        }
        if self.tiers.windows(2).any(|w| w[1].from_minutes <= w[0].from_minutes) {
            return Err(Error::validation(&field, "each code's minutes must be more than the one before"));
        }
        if let Some(addon) = &self.addon {
            let top = self.tiers.last().map_or(0, |t| t.from_minutes);
            if addon.from_minutes <= top {
                return Err(Error::validation(&field, format!("{} must start after the last code's {top} minutes", addon.code)));
            }
            if addon.block_minutes < 1 {
                return Err(Error::validation(&field, format!("each further {} needs at least 1 minute", addon.code)));
            }
            // §7: a cap is at least 1, or absent ("99492 + 99494×0" is no claim).
            if addon.max_units == Some(0) {
                return Err(Error::validation(
                    &field,
                    format!("a cap on {} units must be at least 1; leave it empty for no cap", addon.code),
                ));
            }
        }
        Ok(())
    }
}

impl AddOn {
    /// floor((m − first) / block) + 1, within the optional cap.
    fn units(&self, minutes: u32) -> u32 {
        let units = (minutes - self.from_minutes) / self.block_minutes + 1;
        self.max_units.map_or(units, |cap| units.min(cap))
    }
}

impl BillingRules {
    pub(crate) fn check(&self) -> Result<()> {
        self.initial.check("initial")?;
        self.subsequent.check("subsequent")?;
        if let Some(table) = &self.general_bhi_episodes {
            table.check("general_bhi_episodes")?;
        }
        if let Some((code, fee)) = self.fees.iter().find(|(_, f)| !f.is_finite() || **f < 0.0) {
            return Err(Error::validation("rules.fees", format!("the fee for {code} must be 0 or more (got {fee})")));
        }
        Ok(())
    }

    /// The table for a month of `kind` of an episode billed under `episode_program`; none for a
    /// month without countable minutes.
    pub fn table(&self, kind: MonthKind, episode_program: Program) -> Option<&MonthTable> {
        if episode_program == Program::GeneralBhi
            && let Some(table) = &self.general_bhi_episodes
        {
            return Some(table);
        }
        match kind {
            MonthKind::Initial => Some(&self.initial),
            MonthKind::Subsequent => Some(&self.subsequent),
            MonthKind::None => None,
        }
    }

    /// The month's codes, with the billing practitioner's credential's own codes in place.
    pub fn codes(&self, table: &MonthTable, minutes: u32, credential: Option<Credential>) -> Vec<CodeUnits> {
        let mut codes = table.codes(minutes);
        for c in &mut codes {
            if let Some(own) = self.credential_codes.iter().find(|x| Some(x.credential) == credential && x.instead_of == c.code) {
                c.code = own.code.clone();
            }
        }
        codes
    }

    /// Estimated revenue of the codes, in dollars (rounded to cents).
    pub fn revenue(&self, codes: &[CodeUnits]) -> f64 {
        let cents: i64 =
            codes.iter().map(|c| (self.fees.get(&c.code).copied().unwrap_or(0.0) * 100.0).round() as i64 * c.units as i64).sum();
        cents as f64 / 100.0
    }
}

/// Which patient-months a rule set is for: a program, a payer category (none: the practice's
/// default, Medicare's rules), a plan of that payer, and the year it takes effect.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ts_rs::TS)]
pub struct RuleSetKey {
    pub program: Program,
    pub payer: Option<Payer>,
    pub plan: Option<String>,
    pub effective_year: i32,
}

impl std::fmt::Display for RuleSetKey {
    /// "cocm/medicaid/2026", "cocm/medicaid:Fidelis Care/2026", "cocm/default/2026".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let payer = self.payer.map_or("default", |p| p.as_str());
        match &self.plan {
            Some(plan) => write!(f, "{}/{payer}:{plan}/{}", self.program, self.effective_year),
            None => write!(f, "{}/{payer}/{}", self.program, self.effective_year),
        }
    }
}

/// A stored rule set.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct RuleSet {
    #[serde(flatten)]
    #[ts(flatten)]
    pub key: RuleSetKey,
    pub rules: BillingRules,
}

/// Every stored rule set, to look up from.
#[derive(Clone, Debug, Default)]
pub struct RuleBook {
    pub sets: Vec<RuleSet>,
}

impl RuleBook {
    /// The rule set for a patient-month (§7a): the plan's, else the payer's, else the
    /// practice's default; at each of these the latest to take effect in or before `year`.
    pub fn find(&self, program: Program, payer: Option<Payer>, plan: Option<&str>, year: i32) -> Option<&RuleSet> {
        let plan = plan.map(str::trim).filter(|p| !p.is_empty());
        let levels: [(Option<Payer>, Option<&str>); 3] = [(payer, plan), (payer, None), (None, None)];
        levels.iter().filter(|(pay, pl)| pay.is_some() || pl.is_none()).find_map(|(pay, pl)| {
            self.sets
                .iter()
                .filter(|s| s.key.program == program && s.key.payer == *pay && s.key.plan.as_deref() == *pl && s.key.effective_year <= year)
                .max_by_key(|s| s.key.effective_year)
        })
    }
}

/// The rule sets a practice lead switches on by name (§7a's documented examples).
pub const PRESETS: &[&str] = &["tx-medicaid-fqhc-rhc", "nc-medicaid"];

/// A preset's rule sets, built on the practice's default CoCM rules for 2026 (`base`) where
/// the payer differs only in part.
pub fn preset(name: &str, base: &BillingRules) -> Result<Vec<RuleSet>> {
    let key = |program| RuleSetKey { program, payer: Some(Payer::Medicaid), plan: None, effective_year: 2026 };
    let tier = |code: &str, from_minutes| Tier { code: code.into(), from_minutes };
    match name {
        // Texas Medicaid, FQHCs and RHCs: CoCM is G0512, one unit a month, for 70 countable
        // minutes in an initial month or 60 in a subsequent one: full time, not the midpoint.
        // No fee: the state's rate is the clinic's own, so the estimate is left to the lead.
        "tx-medicaid-fqhc-rhc" => {
            let table = |from| MonthTable { tiers: vec![tier("G0512", from)], addon: None };
            let rules = BillingRules {
                initial: table(70),
                subsequent: table(60),
                general_bhi_episodes: None,
                credential_codes: vec![],
                fees: BTreeMap::new(),
            };
            Ok(vec![RuleSet { key: key(Program::Cocm), rules }])
        }
        // North Carolina Medicaid: Medicare's codes, with 99494 at most 4 units a month.
        "nc-medicaid" => {
            let mut rules = base.clone();
            for table in [&mut rules.initial, &mut rules.subsequent] {
                if let Some(addon) = &mut table.addon {
                    addon.max_units = Some(4);
                }
            }
            Ok(vec![RuleSet { key: key(Program::Cocm), rules }])
        }
        other => Err(Error::validation("preset", format!("must be one of {} (got '{other}')", PRESETS.join(", ")))),
    }
}

#[cfg(test)]
mod tests;
