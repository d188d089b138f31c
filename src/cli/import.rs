//! `cocm import …`: bringing a practice's existing records in from CSV files.

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

use serde_json::json;

use super::{output, remote};
use cocm::client::Client;
use cocm::commands::FileContent;
use cocm::import::{ImportCounts, ImportReport, ImportShape, Mapping, SavedMapping, saved_mapping_named, table};
use cocm::{Error, Registry, Result};

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import a CSV file's rows (or an .xlsx sheet's: "sheet" in the mapping, else the first) as
    /// MAP.json maps them (practice lead): all or nothing, and a record already in the registry
    /// is not added twice
    Csv(CsvArgs),
    /// Import FHIR R4 resources: a Bundle, an NDJSON file, or a folder of them (a Bulk Data
    /// export). Patients are matched by MRN; PHQ-9 and GAD-7 Observations become scores; other
    /// resource types are counted and skipped (practice lead; all or nothing)
    Fhir {
        #[arg(value_name = "FILE|DIR")]
        path: PathBuf,
        /// Check every resource and list every problem; store nothing
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// The mappings saved by name (in the app's import wizard, or with --save-mapping)
    Mappings {
        #[arg(long)]
        json: bool,
    },
    /// Print a first guess at the mapping of a CSV file's (or .xlsx sheet's) columns, to check
    /// and save as MAP.json
    Guess {
        file: PathBuf,
        /// patients, assessments, contacts, wide, visit or screening
        #[arg(long)]
        shape: String,
    },
}

#[derive(Args)]
pub struct CsvArgs {
    file: PathBuf,
    /// A mapping file, or the name of a mapping saved in the registry
    #[arg(long, value_name = "MAP.json")]
    mapping: PathBuf,
    /// Also save the mapping in the registry under this name
    #[arg(long, value_name = "NAME")]
    save_mapping: Option<String>,
    /// Check every row and list every problem; store nothing
    #[arg(long)]
    dry_run: bool,
    #[arg(long)]
    json: bool,
}

fn read(path: &PathBuf, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::validation(what, format!("cannot read {}: {e}", path.display())))
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

pub fn guess(file: PathBuf, shape: &str) -> Result<()> {
    let shape = ImportShape::parse("shape", shape)?;
    let name = file_name(&file);
    let table = table::read(&name, &read(&file, "file")?, None)?;
    output::json(&Mapping::guess(shape, &table))
}

pub fn mappings(registry: Registry, json: bool) -> Result<()> {
    print_mappings(&registry.import_mappings()?, json)
}

fn print_mappings(saved: &[SavedMapping], json: bool) -> Result<()> {
    if json {
        return output::json(&saved);
    }
    for m in saved {
        println!("{}  {}  saved {} by {}", m.name, m.mapping.shape, &m.saved_at[..10.min(m.saved_at.len())], m.saved_by);
    }
    Ok(())
}

pub fn csv(registry: Result<Registry>, args: CsvArgs) -> Result<()> {
    let bytes = read(&args.file, "file")?;
    let mut registry = registry?;
    // A file if there is one by that name, else a mapping saved in the registry.
    let mapping: Mapping = if args.mapping.is_file() {
        serde_json::from_slice(&read(&args.mapping, "mapping")?)
            .map_err(|e| Error::validation("mapping", format!("{} is not a mapping: {e}", args.mapping.display())))?
    } else {
        registry.import_mapping(&args.mapping.to_string_lossy())?
    };

    // A progress bar on a terminal only: scripts and pipes get the summary alone.
    let bar = if std::io::stderr().is_terminal() { ProgressBar::new(0) } else { ProgressBar::hidden() };
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} rows ({eta} left)").expect("a valid template"));
    let mut progress = |done: usize, all: usize| {
        bar.set_length(all as u64);
        bar.set_position(done as u64);
    };
    let report = registry.import_csv(&file_name(&args.file), &bytes, &mapping, args.dry_run, &mut progress);
    bar.finish_and_clear();
    let report = report?;
    // Saved once the file imports (or, a dry run, would import) without a problem.
    if let Some(name) = args.save_mapping.as_deref().filter(|_| report.problems.is_empty()) {
        registry.save_import_mapping(name, &mapping)?;
    }
    finish(&report, args.json)
}

/// `cocm --server URL import csv …`: the file goes to the server, which imports it as the
/// registry file would (no progress bar: the server answers when it is done).
pub fn csv_on_server(client: &Client, args: CsvArgs) -> Result<()> {
    let bytes = read(&args.file, "file")?;
    let mapping: Mapping = if args.mapping.is_file() {
        serde_json::from_slice(&read(&args.mapping, "mapping")?)
            .map_err(|e| Error::validation("mapping", format!("{} is not a mapping: {e}", args.mapping.display())))?
    } else {
        let saved: Vec<SavedMapping> = remote::typed(client.call("import_mappings", json!({}))?)?;
        saved_mapping_named(saved, &args.mapping.to_string_lossy())?
    };
    let file = FileContent::new(&file_name(&args.file), &bytes);
    let report: ImportReport =
        remote::typed(client.call("import_upload", json!({ "file": file, "mapping": mapping, "dryRun": args.dry_run }))?)?;
    if let Some(name) = args.save_mapping.as_deref().filter(|_| report.problems.is_empty()) {
        client.call("save_import_mapping", json!({ "name": name, "mapping": mapping }))?;
    }
    finish(&report, args.json)
}

/// Prints what an import did (or would do); an error if it had problems.
fn finish(report: &ImportReport, json: bool) -> Result<()> {
    if json {
        output::json(report)?;
    } else {
        summary(report);
    }
    if !report.problems.is_empty() {
        return Err(Error::validation("file", format!("{} problem(s) in {}; nothing was imported", report.problems.len(), report.file)));
    }
    Ok(())
}

pub fn mappings_on_server(client: &Client, json: bool) -> Result<()> {
    print_mappings(&remote::typed::<Vec<SavedMapping>>(client.call("import_mappings", json!({}))?)?, json)
}

/// "5 patients, 4 enrolments", leaving out kinds with none.
fn counts(c: &ImportCounts) -> String {
    let parts: Vec<String> =
        [(c.patients, "patient"), (c.episodes, "enrolment"), (c.assessments, "assessment"), (c.contacts, "contact"), (c.visits, "visit")]
            .into_iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}{}", if n == 1 { "" } else { "s" }))
            .collect();
    if parts.is_empty() { "nothing".to_string() } else { parts.join(", ") }
}

fn summary(r: &ImportReport) {
    let verb = if r.dry_run { "would add" } else { "added" };
    println!("{}: {} rows; {verb} {}; already there: {}", r.file, r.rows, counts(&r.added), counts(&r.already_present));
    for problem in &r.problems {
        println!("{} {problem}", r.file);
    }
    if r.dry_run && r.problems.is_empty() {
        println!("dry run: nothing was stored");
    }
}
