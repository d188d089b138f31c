//! `cocm rules`, `cocm program`, `cocm apcm`: payer rule sets and billing programs (spec §7a).
//! Each runs a command of the core's one list through a [`Door`], so a file and `--server`
//! behave alike and the rules and guards are the core's.

use clap::Subcommand;
use serde_json::{Value, json};
use std::path::PathBuf;

use cocm::billing::{BillingPrograms, MonthTable, RuleSet, RuleSetKey};
use cocm::client::Client;
use cocm::{Registry, Result, commands};

use super::{output, remote::typed};

/// Where a command runs: the open registry file or a practice server.
pub trait Door {
    fn call(&mut self, command: &str, args: Value) -> Result<Value>;
}

impl Door for Registry {
    fn call(&mut self, command: &str, args: Value) -> Result<Value> {
        commands::Context::quiet(|ctx| commands::run(self, command, args, ctx))
    }
}

impl Door for &Client {
    fn call(&mut self, command: &str, args: Value) -> Result<Value> {
        Client::call(self, command, args)
    }
}

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Every rule set: program, payer, plan, the year it takes effect, its codes and fees
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add or replace a rule set from a JSON file (`cocm rules list --json` shows the shape)
    Set {
        #[arg(long)]
        year: i32,
        /// cocm [default], general-bhi or apcm-bhi
        #[arg(long)]
        program: Option<String>,
        /// medicare, medicaid, commercial, self-pay or other [default: the practice's default rules]
        #[arg(long)]
        payer: Option<String>,
        /// A plan of that payer (e.g. a Medicaid managed-care plan), matched by name
        #[arg(long)]
        plan: Option<String>,
        #[arg(long)]
        file: PathBuf,
    },
    /// Switch on a shipped rule set: tx-medicaid-fqhc-rhc or nc-medicaid
    Preset { name: String },
}

pub fn rules(door: &mut dyn Door, command: RulesCommand) -> Result<()> {
    match command {
        RulesCommand::List { json } => {
            let sets: Vec<RuleSet> = typed(door.call("billing_rule_sets", json!({}))?)?;
            if json {
                return output::json(&sets);
            }
            let rows: Vec<Vec<String>> = sets
                .iter()
                .map(|s| {
                    vec![
                        s.key.program.to_string(),
                        s.key.payer.map_or("default".into(), |p| p.to_string()),
                        s.key.plan.clone().unwrap_or_default(),
                        s.key.effective_year.to_string(),
                        table_text(&s.rules.initial),
                        table_text(&s.rules.subsequent),
                        s.rules.fees.iter().map(|(c, f)| format!("{c} ${f:.2}")).collect::<Vec<_>>().join(" "),
                    ]
                })
                .collect();
            output::table(&["PROGRAM", "PAYER", "PLAN", "FROM", "INITIAL MONTH", "SUBSEQUENT MONTH", "FEES (ESTIMATES)"], &rows)
        }
        RulesCommand::Set { year, program, payer, plan, file } => {
            let rules = super::read_rules(&file)?;
            let args = json!({ "year": year, "program": program, "payer": payer, "plan": plan, "rules": rules });
            door.call("set_billing_rules", args).map(drop)
        }
        RulesCommand::Preset { name } => {
            let keys: Vec<RuleSetKey> = typed(door.call("apply_rules_preset", json!({ "name": name }))?)?;
            for key in keys {
                println!("{key}");
            }
            Ok(())
        }
    }
}

/// "G2214 16+ · 99492 36+ · 99494 86+ each 30 (at most 4)".
fn table_text(t: &MonthTable) -> String {
    let mut parts: Vec<String> = t.tiers.iter().map(|tier| format!("{} {}+", tier.code, tier.from_minutes)).collect();
    if let Some(a) = &t.addon {
        let cap = a.max_units.map(|m| format!(" (at most {m})")).unwrap_or_default();
        parts.push(format!("{} {}+ each {}{cap}", a.code, a.from_minutes, a.block_minutes));
    }
    parts.join(" · ")
}

/// `cocm program MRN [--to P --from YYYY-MM]`: the episode's program history, or a change.
pub fn program(door: &mut dyn Door, mrn: &str, to: Option<String>, from: Option<String>, as_json: bool) -> Result<()> {
    match (to, from) {
        (Some(to), Some(from)) => door.call("change_program", json!({ "mrn": mrn, "to": to, "from": from })).map(drop),
        (None, None) => show(door, mrn, as_json, false),
        _ => Err(cocm::Error::validation("from", "a change names both --to and --from")),
    }
}

/// `cocm apcm MRN [--from D [--to D] | --end D]`: records, ends or lists the APCM periods.
pub fn apcm(door: &mut dyn Door, mrn: &str, from: Option<String>, to: Option<String>, end: Option<String>, as_json: bool) -> Result<()> {
    match (from, to, end) {
        (Some(from), to, None) => {
            let id = door.call("record_apcm", json!({ "mrn": mrn, "from": from, "to": to }))?;
            println!("{}", id.as_str().unwrap_or_default());
            Ok(())
        }
        (None, None, Some(end)) => door.call("end_apcm", json!({ "mrn": mrn, "end": end })).map(drop),
        (None, None, None) => show(door, mrn, as_json, true),
        _ => Err(cocm::Error::validation("end", "either --from (and --to) to record APCM months, or --end to end them")),
    }
}

fn show(door: &mut dyn Door, mrn: &str, as_json: bool, apcm: bool) -> Result<()> {
    let p: BillingPrograms = typed(door.call("billing_programs", json!({ "mrn": mrn }))?)?;
    if as_json {
        return output::json(&p);
    }
    if apcm {
        let rows: Vec<Vec<String>> = p
            .apcm
            .iter()
            .map(|a| {
                let to = a.to.map_or("open".into(), |t| t.to_string());
                vec![a.id.clone(), a.from.to_string(), to, a.entered_in_error.as_ref().map_or(String::new(), |_| "entered in error".into())]
            })
            .collect();
        return output::table(&["ID", "FROM", "TO", ""], &rows);
    }
    let rows: Vec<Vec<String>> = p.episode_programs.iter().map(|c| vec![c.from_month.to_string(), c.program.to_string()]).collect();
    output::table(&["FROM MONTH", "PROGRAM"], &rows)
}
