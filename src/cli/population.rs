//! `cocm screen`, `cocm visit` and `cocm candidates`: the practice's depression screens and
//! visits for any patient, enrolled or not (spec §9, the NYS screening metrics), and who
//! screened positive outside collaborative care. Through a [`Door`], so a file and `--server`
//! behave alike.

use clap::Subcommand;
use serde_json::json;

use cocm::Result;
use cocm::candidates::CandidatesView;
use cocm::visits::{NewVisit, Visit};

use super::billing::Door;
use super::{output, remote::typed};

#[derive(Subcommand)]
pub enum VisitCommand {
    /// Record a visit: its date, provider category, billed CPT/HCPCS codes and modality
    Add {
        mrn: String,
        #[arg(long)]
        date: String,
        /// primary-care, behavioral-health, nursing-only or other
        #[arg(long)]
        category: String,
        /// CPT/HCPCS codes, comma separated (e.g. 99213,G0439)
        #[arg(long)]
        codes: String,
        /// in-person [default] or telehealth
        #[arg(long)]
        modality: Option<String>,
    },
    /// A patient's visits
    List {
        mrn: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn visit(door: &mut dyn Door, command: VisitCommand) -> Result<()> {
    match command {
        VisitCommand::Add { mrn, date, category, codes, modality } => {
            let visit = NewVisit { date, category, codes, modality };
            let id = door.call("add_visit", json!({ "mrn": mrn, "visit": visit }))?;
            println!("{}", id.as_str().unwrap_or_default());
            Ok(())
        }
        VisitCommand::List { mrn, json } => {
            let list: Vec<Visit> = typed(door.call("visits", json!({ "mrn": mrn }))?)?;
            if json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|v| {
                    let state = v.entered_in_error.as_ref().map_or(String::new(), |_| "entered in error".into());
                    vec![v.id.clone(), v.date.to_string(), v.category.to_string(), v.codes.join(","), v.modality.to_string(), state]
                })
                .collect();
            output::table(&["ID", "DATE", "CATEGORY", "CODES", "MODALITY", ""], &rows)
        }
    }
}

/// `cocm screen MRN --date D --instrument phq2|phq9|phq-a --items …`.
pub fn screen(door: &mut dyn Door, mrn: &str, date: &str, instrument: &str, items: &str) -> Result<()> {
    let answers = cocm::instruments::parse_answers(items)?;
    let args = json!({ "mrn": mrn, "date": date, "instrument": instrument, "answers": answers });
    let id = door.call("record_screening", args)?;
    println!("{}", id.as_str().unwrap_or_default());
    Ok(())
}

/// `cocm candidates [--since D] [--json]`: the screening figures of last month, then the list.
pub fn candidates(door: &mut dyn Door, since: Option<&str>, as_json: bool) -> Result<()> {
    let view: CandidatesView = typed(door.call("candidates", json!({ "since": since }))?)?;
    if as_json {
        return output::json(&view);
    }
    let of = |r: &cocm::reports::Rate| format!("{} of {}", r.numerator, r.denominator);
    println!(
        "{}: screening rate {} ({}), screening yield {} ({})",
        view.month,
        view.screening_rate.percent.map_or("—".into(), |p| format!("{p} %")),
        of(&view.screening_rate),
        view.screening_yield.percent.map_or("—".into(), |p| format!("{p} %")),
        of(&view.screening_yield),
    );
    let rows: Vec<Vec<String>> = view
        .candidates
        .iter()
        .map(|c| {
            vec![
                c.date.to_string(),
                c.mrn.clone(),
                c.name.clone(),
                c.age.to_string(),
                format!("{} {} (≥ {})", c.instrument.label(), c.total, c.positive_from),
                c.discharged.map_or(String::new(), |d| format!("discharged {d}")),
                c.care_manager.clone().unwrap_or_default(),
            ]
        })
        .collect();
    output::table(&["SCREENED", "MRN", "NAME", "AGE", "SCREEN", "BEFORE", "CARE MANAGER"], &rows)?;
    println!("{} candidates", view.candidates.len());
    Ok(())
}
