//! `cocm export fhir` and `cocm import fhir`: exchange with EHRs in FHIR R4 Bulk Data NDJSON.

use std::path::{Path, PathBuf};

use super::output;
use cocm::fhir::{FhirCounts, FhirImportReport};
use cocm::{Error, Registry, Result, dates};

pub fn export(mut registry: Registry, out: &Path, since: Option<String>, json: bool) -> Result<()> {
    let since = since.map(|s| dates::parse_date("since", &s)).transpose()?;
    let report = registry.export_fhir(out, since)?;
    if json {
        return output::json(&report);
    }
    for f in &report.files {
        println!("{:>9}  {}", f.count, f.file);
    }
    println!("wrote FHIR R4 NDJSON and manifest.json to {}; it holds PHI, so keep it as safe as the registry", report.dir);
    Ok(())
}

/// The files of FILE, or of DIR its `.ndjson` and `.json` files (the Bulk Data manifest aside).
fn files(path: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let cannot = |e: std::io::Error| Error::validation("file", format!("cannot read {}: {e}", path.display()));
    let paths: Vec<PathBuf> = if path.is_dir() {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(cannot)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "ndjson" || x == "json") && !p.ends_with("manifest.json"))
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(Error::validation("file", format!("{} has no .ndjson or .json files", path.display())));
        }
        paths
    } else {
        vec![path.to_path_buf()]
    };
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned());
            std::fs::read(&p).map(|bytes| (name, bytes)).map_err(cannot)
        })
        .collect()
}

pub fn import(registry: Result<Registry>, path: &Path, dry_run: bool, json: bool) -> Result<()> {
    let files = files(path)?;
    let report = registry?.import_fhir(&files, dry_run)?;
    if json {
        return output::json(&report);
    }
    print_report(&report);
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
        (c.review_requests, "review requests"),
        (c.case_reviews, "case reviews"),
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
