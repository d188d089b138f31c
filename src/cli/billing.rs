//! `cocm rules`, `cocm program`, `cocm apcm`, `cocm coverage`, `cocm diagnosis`: payer rule
//! sets, billing programs, coverage and diagnoses (spec §7a).
//! Each runs a command of the core's one list through a [`Door`], so a file and `--server`
//! behave alike and the rules and guards are the core's.

use clap::Subcommand;
use serde_json::{Value, json};
use std::path::PathBuf;

use cocm::billing::{BillingPrograms, ClaimLine, MonthTable, RuleSet, RuleSetKey};
use cocm::client::Client;
use cocm::coverage::{Coverage, NewCoverage};
use cocm::diagnoses::Diagnosis;
use cocm::{Registry, Result, commands};

use super::{output, remote::typed};

/// Where a command runs: the open registry file or a practice server.
pub trait Door {
    fn call(&mut self, command: &str, args: Value) -> Result<Value>;

    /// The registry file itself, admitted to run `command` as [`commands::run`] admits it, for
    /// a large read the CLI only prints (its answer need not go to JSON and back); none over
    /// a server.
    fn admitted(&mut self, _command: &str) -> Result<Option<&mut Registry>> {
        Ok(None)
    }
}

impl Door for Registry {
    fn call(&mut self, command: &str, args: Value) -> Result<Value> {
        commands::Context::quiet(|ctx| commands::run(self, command, args, ctx))
    }

    fn admitted(&mut self, command: &str) -> Result<Option<&mut Registry>> {
        let command = commands::find(command).ok_or_else(|| commands::unknown(command))?;
        commands::admit(command, self)?;
        Ok(Some(self))
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

#[derive(Subcommand)]
pub enum CoverageCommand {
    /// Add a coverage record: payer, plan, member id, dates, primary (default) or secondary
    Add {
        mrn: String,
        /// medicare, medicaid, commercial, self-pay or other
        #[arg(long)]
        payer: String,
        #[arg(long)]
        plan: Option<String>,
        #[arg(long)]
        member_id: Option<String>,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        secondary: bool,
    },
    /// A patient's coverage records
    List {
        mrn: String,
        #[arg(long)]
        json: bool,
    },
    /// End a coverage on its last covered day
    End {
        id: String,
        #[arg(long)]
        date: String,
    },
}

pub fn coverage(door: &mut dyn Door, command: CoverageCommand) -> Result<()> {
    match command {
        CoverageCommand::Add { mrn, payer, plan, member_id, from, to, secondary } => {
            let coverage = NewCoverage { payer, plan, member_id, from, to, secondary };
            let id = door.call("add_coverage", json!({ "mrn": mrn, "coverage": coverage }))?;
            println!("{}", id.as_str().unwrap_or_default());
            Ok(())
        }
        CoverageCommand::List { mrn, json } => {
            let list: Vec<Coverage> = typed(door.call("coverages", json!({ "mrn": mrn }))?)?;
            if json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|c| {
                    vec![
                        c.id.clone(),
                        if c.secondary { "secondary" } else { "primary" }.into(),
                        c.payer.to_string(),
                        c.plan.clone().unwrap_or_default(),
                        c.member_id.clone().unwrap_or_default(),
                        c.from.map_or("—".into(), |f| f.to_string()),
                        c.to.map_or("open".into(), |t| t.to_string()),
                        c.entered_in_error.as_ref().map_or(String::new(), |_| "entered in error".into()),
                    ]
                })
                .collect();
            output::table(&["ID", "ORDER", "PAYER", "PLAN", "MEMBER ID", "FROM", "TO", ""], &rows)
        }
        CoverageCommand::End { id, date } => door.call("end_coverage", json!({ "id": id, "date": date })).map(drop),
    }
}

#[derive(Subcommand)]
pub enum DiagnosisCommand {
    /// Record an ICD-10-CM chapter 5 code on the open episode (the first recorded is primary)
    Add {
        mrn: String,
        /// e.g. F33.1
        #[arg(long)]
        code: String,
        /// The date it was made [default: today]
        #[arg(long)]
        date: Option<String>,
    },
    /// A patient's diagnoses, every episode's
    List {
        mrn: String,
        #[arg(long)]
        json: bool,
    },
    /// Find chapter 5 codes by code or words (no registry needed)
    Search { words: Vec<String> },
}

pub fn diagnosis(door: &mut dyn Door, command: DiagnosisCommand) -> Result<()> {
    match command {
        DiagnosisCommand::Add { mrn, code, date } => {
            let id = door.call("add_diagnosis", json!({ "mrn": mrn, "code": code, "date": date }))?;
            println!("{}", id.as_str().unwrap_or_default());
            Ok(())
        }
        DiagnosisCommand::List { mrn, json } => {
            let list: Vec<Diagnosis> = typed(door.call("diagnoses", json!({ "mrn": mrn }))?)?;
            if json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|d| {
                    let state = d.entered_in_error.as_ref().map_or(String::new(), |_| "entered in error".into());
                    vec![d.id.clone(), d.date.to_string(), d.code.clone(), d.description.clone(), state]
                })
                .collect();
            output::table(&["ID", "DATE", "CODE", "DESCRIPTION", ""], &rows)
        }
        DiagnosisCommand::Search { words } => search_diagnoses(&words),
    }
}

/// `cocm billing --month M --claims`: the claim lines as a table, JSON or CSV (the CSV is an
/// audited export, in the core).
pub fn claims(door: &mut dyn Door, month: &str, as_json: bool, as_csv: bool) -> Result<()> {
    if as_csv {
        let csv = door.call("claims_csv", json!({ "month": month }))?;
        print!("{}", csv.as_str().unwrap_or_default());
        return Ok(());
    }
    // On the file, straight from the core: 4,000 lines to JSON values and back were a fifth of
    // `--claims --json`'s time.
    let lines: Vec<ClaimLine> = match door.admitted("billing_claims")? {
        Some(registry) => registry.billing_claims(cocm::dates::Month::parse("month", month)?)?,
        None => typed(door.call("billing_claims", json!({ "month": month }))?)?,
    };
    if as_json {
        return output::json(&lines);
    }
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            vec![
                l.mrn.clone(),
                l.name.clone(),
                l.payer.map_or("—".into(), |p| p.to_string()),
                l.billing_npi.clone().unwrap_or("—".into()),
                l.date_of_service.to_string(),
                l.diagnoses.join(" "),
                if l.units > 1 { format!("{}×{}", l.code, l.units) } else { l.code.clone() },
                format!("{:.2}", l.charge),
                l.held.clone(),
            ]
        })
        .collect();
    output::table(&["MRN", "NAME", "PAYER", "NPI", "DATE OF SERVICE", "DIAGNOSES", "CODE", "CHARGE", "HELD"], &rows)
}

pub fn search_diagnoses(words: &[String]) -> Result<()> {
    let rows: Vec<Vec<String>> = cocm::diagnoses::search(&words.join(" "), 30).into_iter().map(|d| vec![d.code, d.description]).collect();
    output::table(&["CODE", "DESCRIPTION"], &rows)
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
