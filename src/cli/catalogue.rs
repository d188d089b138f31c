//! `cocm instruments [ID] [--json]`: the instrument catalogue as the program carries it.
//! Only formats the core's catalogue; every number here is the catalogue's own.

use std::io::Write;

use cocm::instruments::{self, Form, Instrument};
use cocm::{Error, Result};

use super::output::{self, stdout, table};

pub fn print(id: Option<&str>, as_json: bool) -> Result<()> {
    match id {
        Some(id) => {
            let form = Instrument::parse("instrument", id)?.form();
            if as_json { output::json(form) } else { one_form(form) }
        }
        None if as_json => output::json(&instruments::listing()),
        None => every_form(),
    }
}

fn ages(form: &Form) -> String {
    match (form.ages.from, form.ages.to) {
        (Some(from), Some(to)) => format!("{from}–{to}"),
        (Some(from), None) => format!("{from}+"),
        (None, Some(to)) => format!("≤{to}"),
        (None, None) => "any".into(),
    }
}

fn every_form() -> Result<()> {
    let rows: Vec<Vec<String>> = Instrument::all()
        .map(|i| {
            let f = i.form();
            let targets: Vec<&str> = f.targets.iter().map(|t| t.as_str()).collect();
            vec![
                f.id.clone(),
                f.label.clone(),
                f.kind.clone(),
                f.respondent.clone(),
                ages(f),
                f.items.len().to_string(),
                format!("0–{}", i.max_total()),
                if targets.is_empty() { "-".into() } else { targets.join(",") },
                if f.text_shipped { "yes".into() } else { "no (enter by number)".into() },
            ]
        })
        .collect();
    table(&["ID", "FORM", "KIND", "RESPONDENT", "AGES", "ITEMS", "TOTAL", "TARGETS", "TEXT"], &rows)?;
    let mut out = stdout();
    writeln!(out, "\nDefault primary scale by age on the enrolment date (settings adolescent_from_age, adult_from_age):")?;
    out.flush()?;
    let defaults: Vec<Vec<String>> = instruments::target_defaults()
        .iter()
        .map(|d| vec![d.target.as_str().to_string(), d.adult.clone(), d.adolescent.clone(), d.child.clone()])
        .collect();
    table(&["TARGET", "ADULT", "ADOLESCENT", "CHILD"], &defaults)
}

fn one_form(form: &Form) -> Result<()> {
    let i = Instrument::by_id(&form.id).ok_or_else(|| Error::NotFound(format!("instrument {}", form.id)))?;
    let mut out = stdout();
    writeln!(out, "{} — {} ({}, answered by the {}, ages {})", form.label, form.name, form.kind, form.respondent, ages(form))?;
    if let Some(text) = &form.instructions {
        writeln!(out, "{text}")?;
    }
    if !form.text_shipped {
        writeln!(out, "Item texts are not shipped (terms of use): enter answers by number from the practice's copy.")?;
    }
    writeln!(out, "\nItems (answers, item 1 first):")?;
    for (index, item) in form.items.iter().enumerate() {
        let answers: Vec<String> = i.options(index).iter().map(|o| format!("{} {}", o.score, o.label)).collect();
        let text = item.text.as_deref().unwrap_or("(text not shipped)");
        let notes = match (form.reverse_scored.contains(&item.number), item.scored) {
            (_, false) => " [not scored]",
            (true, _) => " [reverse scored]",
            _ => "",
        };
        writeln!(out, "  {:>2}. {text}{notes}\n      {}", item.number, answers.join(" · "))?;
    }
    writeln!(out, "\nBands (total 0–{}):", i.max_total())?;
    for b in &form.bands {
        writeln!(out, "  {:>2}–{:<2} {}", b.from, b.to, b.label)?;
    }
    let r = &form.rules;
    let mut rules = Vec::new();
    if let Some(e) = r.elevated_baseline {
        rules.push(format!("elevated baseline ≥ {e}"));
    }
    if let Some(imp) = &r.improvement {
        match (imp.percent, imp.points) {
            (Some(p), _) => rules.push(format!("response at ≤ {p}% of the baseline")),
            (_, Some(p)) => rules.push(format!("improved at ≥ {p} points below the baseline")),
            _ => {}
        }
        if let Some(below) = imp.or_below {
            rules.push(format!("improved also below {below}"));
        }
    }
    if let Some(below) = r.remission_below {
        rules.push(format!("remission below {below}"));
    }
    if let Some(at) = r.positive_screen {
        rules.push(format!("positive screen ≥ {at}"));
    }
    for s in &form.safety {
        rules.push(format!("safety: item {} ≥ {}", s.item, s.at_least));
    }
    writeln!(out, "\nRules: {}", if rules.is_empty() { "-".into() } else { rules.join("; ") })?;
    writeln!(out, "Codes: {} panel {}, total {}", form.codes.system, form.codes.panel, form.codes.total)?;
    writeln!(out, "Source: {}\nTerms: {}", form.source, form.terms)?;
    out.flush()?;
    Ok(())
}
