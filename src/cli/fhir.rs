//! `cocm export fhir` and `cocm import fhir`: exchange with EHRs in FHIR R4 Bulk Data NDJSON.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;

use serde_json::json;

use super::{output, remote};
use cocm::client::Client;
use cocm::fhir::{FhirCounts, FhirExportReport, FhirImportReport};
use cocm::{Error, Registry, Result, dates};

pub fn export(mut registry: Registry, out: &Path, since: Option<String>, json: bool) -> Result<()> {
    let since = since.map(|s| dates::parse_date("since", &s)).transpose()?;
    print_export(&registry.export_fhir(out, since)?, json)
}

/// `cocm --server URL export fhir --out DIR`: the server's export, unpacked into DIR here.
pub fn export_on_server(client: &Client, out: &Path, since: Option<String>, json: bool) -> Result<()> {
    let report = client.run("export_fhir", json!({ "dir": out.display().to_string(), "since": since }))?;
    print_export(&remote::typed(report)?, json)
}

fn print_export(report: &FhirExportReport, json: bool) -> Result<()> {
    if json {
        return output::json(report);
    }
    for f in &report.files {
        println!("{:>9}  {}", f.count, f.file);
    }
    println!("wrote FHIR R4 NDJSON and manifest.json to {}; it holds PHI, so keep it as safe as the registry", report.dir);
    Ok(())
}

pub fn import(registry: Result<Registry>, path: &Path, dry_run: bool, json: bool) -> Result<()> {
    let files = cocm::fhir::sources_at(path)?;
    let mut registry = registry?;
    // A progress bar on a terminal only: scripts and pipes get the summary alone.
    let bar = if std::io::stderr().is_terminal() { ProgressBar::new(0) } else { ProgressBar::hidden() };
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} resources ({eta} left)").expect("a valid template"));
    let mut progress = |done: usize, all: usize| {
        if done.is_multiple_of(1000) || done == all {
            bar.set_length(all as u64);
            bar.set_position(done as u64);
        }
    };
    let report = registry.import_fhir(&files, dry_run, &mut progress);
    bar.finish_and_clear();
    finish_import(&report?, dry_run, json)
}

/// `cocm --server URL import fhir PATH`: the files go to the server, which imports them.
pub fn import_on_server(client: &Client, path: &Path, dry_run: bool, json: bool) -> Result<()> {
    let report = client.run("import_fhir", json!({ "path": path.display().to_string(), "dryRun": dry_run }))?;
    finish_import(&remote::typed(report)?, dry_run, json)
}

fn finish_import(report: &FhirImportReport, dry_run: bool, json: bool) -> Result<()> {
    if json {
        return output::json(report);
    }
    print_report(report);
    if dry_run && !report.problems.is_empty() {
        return Err(Error::validation("file", format!("{} problem(s); nothing was imported", report.problems.len())));
    }
    Ok(())
}

fn counts(c: &FhirCounts) -> String {
    let parts = [
        (c.team_members, "team members"),
        (c.patients, "patients"),
        (c.episodes, "episodes"),
        (c.consents, "consents"),
        (c.assessments, "assessments"),
        (c.contacts, "contacts"),
        (c.visits, "visits"),
        (c.review_requests, "review requests"),
        (c.case_reviews, "case reviews"),
        (c.treatment_changes, "treatment changes"),
    ];
    let listed: Vec<String> = parts.iter().filter(|(n, _)| *n > 0).map(|(n, what)| format!("{n} {what}")).collect();
    if listed.is_empty() { "nothing".to_string() } else { listed.join(", ") }
}

fn print_report(r: &FhirImportReport) {
    let verb = if r.dry_run { "would add" } else { "added" };
    println!("{} resources read from {} file(s)", r.resources, r.files.len());
    println!("{verb}: {}", counts(&r.added));
    println!("already there: {}", counts(&r.already_present));
    for (why, n) in &r.skipped {
        println!("skipped {n}: {why}");
    }
    for p in &r.problems {
        println!("problem: {p}");
    }
}
