//! Importing a practice's existing caseload from a CSV file or an Excel sheet (issue 10): one row per patient,
//! per assessment or per contact, or the wide layout of tracking spreadsheets. The file is read
//! (`table`), its columns mapped (`mapping`), and every row applied (`apply`) in one transaction
//! with the same rules and audit rows as typing it in, each audit row naming the file and row.
//! All or nothing: any problem, and nothing is stored; a dry run applies every row, lists
//! every problem and rolls back.

mod apply;
pub mod mapping;
mod saved;
pub mod table;

use serde::{Deserialize, Serialize};

use crate::access::Action;
use crate::{Error, Registry, Result};
pub use mapping::{ImportShape, Mapping};
pub use saved::{SavedMapping, named as saved_mapping_named};
pub use table::Table;

/// How many records of each kind an import added, or found already there.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ImportCounts {
    pub patients: usize,
    pub episodes: usize,
    pub assessments: usize,
    pub contacts: usize,
    pub visits: usize,
}

impl ImportCounts {
    fn add(&mut self, other: &ImportCounts) {
        self.patients += other.patients;
        self.episodes += other.episodes;
        self.assessments += other.assessments;
        self.contacts += other.contacts;
        self.visits += other.visits;
    }
}

/// One problem, by the file's row (the header is row 1) and column header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ImportProblem {
    pub row: usize,
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}, column {}: {}", self.row, self.column, self.message)
    }
}

/// What an import did, or (a dry run) would do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ImportReport {
    pub file: String,
    pub shape: ImportShape,
    pub rows: usize,
    pub added: ImportCounts,
    /// Records the registry already had (matched, not added twice).
    pub already_present: ImportCounts,
    /// Empty when the import was stored.
    pub problems: Vec<ImportProblem>,
    /// The first rows, as the registry stores them (or their problem).
    pub preview: Vec<ImportPreviewRow>,
    pub dry_run: bool,
}

/// One row of the preview.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ImportPreviewRow {
    pub row: usize,
    /// `new`, `already-there` or `problem`.
    pub outcome: String,
    /// What the registry stores from the row, or the problem.
    pub stored: String,
}

/// A registry field a column can fill, for the wizard's mapping table.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct ImportField {
    pub name: String,
    pub required: bool,
}

/// What the import wizard shows before importing: the file's columns, the shape's fields, the
/// mapping (the one given, else a guess from the headers) and a dry run with it.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct ImportPreview {
    pub file: String,
    /// A workbook's sheets (none for CSV); the mapping names the one read.
    pub sheets: Vec<String>,
    pub headers: Vec<String>,
    pub fields: Vec<ImportField>,
    pub mapping: Mapping,
    /// Why the mapping cannot be applied yet (a required field not mapped…): no dry run then.
    pub mapping_problem: Option<String>,
    pub report: Option<ImportReport>,
}

/// The error of an import refused for its problems (CSV or FHIR): how many, and the first few.
pub(crate) fn nothing_imported(problems: Vec<String>) -> Error {
    let mut lines: Vec<String> = problems.iter().take(PROBLEMS_IN_MESSAGE).cloned().collect();
    if problems.len() > PROBLEMS_IN_MESSAGE {
        lines.push(format!("… and {} more (a dry run lists them all)", problems.len() - PROBLEMS_IN_MESSAGE));
    }
    Error::validation("file", format!("{} problem(s), nothing was imported:\n{}", problems.len(), lines.join("\n")))
}

/// How often an import has met each matching key (patient, date, instrument; or patient, date,
/// minutes, author…), so that two identical records in one file are both added, while
/// importing the same file again matches each of them to one already there.
#[derive(Default)]
pub(crate) struct Occurrences(std::collections::HashMap<u64, u32>);

impl Occurrences {
    /// Whether this occurrence of `key` matches a record already in the registry, which holds
    /// `in_registry` records with that key (those this import added included). Keys are kept
    /// as 64-bit hashes: a large import meets half a million of them.
    pub(crate) fn already_there(&mut self, key: impl std::hash::Hash, in_registry: usize) -> bool {
        use std::hash::Hasher;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut hasher);
        let seen = self.0.entry(hasher.finish()).or_default();
        let there = in_registry > *seen as usize;
        *seen += 1;
        there
    }
}

/// How many records a `SELECT COUNT(*)` finds.
pub(crate) fn count(conn: &rusqlite::Connection, sql: &str, params: impl rusqlite::Params) -> Result<usize> {
    let n: i64 = conn.prepare_cached(sql)?.query_row(params, |r| r.get(0))?;
    Ok(n as usize)
}

/// How many rows the preview shows.
const PREVIEW_ROWS: usize = 20;

/// The page cache while importing, as SQLite's `cache_size` (negative: KiB): 96 MiB.
pub(crate) const IMPORT_CACHE_KIB: i64 = -98_304;

/// The most problems an error message lists; a dry run lists them all.
const PROBLEMS_IN_MESSAGE: usize = 10;

impl Registry {
    /// Imports a CSV file's rows as `mapping` says (a practice lead's). Either every row is
    /// stored, or (any problem) nothing is and the error lists the problems by row and column.
    /// `dry_run` applies every row, rolls back, and reports the problems instead of failing.
    /// `progress` is told the rows done and the rows in all, as they go.
    pub fn import_csv(
        &mut self,
        file: &str,
        bytes: &[u8],
        mapping: &Mapping,
        dry_run: bool,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<ImportReport> {
        self.permit(Action::Import)?;
        let table = table::read(file, bytes, mapping.sheet.as_deref())?;
        self.import_table(file, &table, mapping, dry_run, progress)
    }

    /// `import_csv` on a file already read (the preview reads it once for its headers too).
    fn import_table(
        &mut self,
        file: &str,
        table: &Table,
        mapping: &Mapping,
        dry_run: bool,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<ImportReport> {
        let resolved = mapping.resolve(file, table)?;
        let shape = mapping.shape;
        let apply_all = |tx: &rusqlite::Transaction, actor: &crate::audit::Actor| -> Result<ImportReport> {
            let mut total = apply::RowOutcome::default();
            let mut problems = Vec::new();
            let mut preview = Vec::new();
            let mut shared = apply::Shared::read(tx)?;
            for (done, (line, cells)) in table.rows.iter().enumerate() {
                let row_actor = actor.with_source(format!("{file} row {line}"));
                // No savepoint per row: a row's inserts validate before they write, and any
                // problem rolls the whole import back; savepoints cost a page copy per row.
                match apply::row(tx, &row_actor, &mut shared, shape, &resolved, cells) {
                    Ok(outcome) => {
                        if preview.len() < PREVIEW_ROWS {
                            let added = outcome.added != ImportCounts::default();
                            let outcome_name = if added { "new" } else { "already-there" };
                            preview.push(ImportPreviewRow { row: *line, outcome: outcome_name.into(), stored: outcome.stored.join("; ") });
                        }
                        apply::add(&mut total, outcome);
                    }
                    Err(p) => {
                        let column = resolved_header(&resolved, &p.field);
                        let problem = ImportProblem { row: *line, column, message: p.message };
                        if preview.len() < PREVIEW_ROWS {
                            preview.push(ImportPreviewRow { row: *line, outcome: "problem".into(), stored: problem.to_string() });
                        }
                        problems.push(problem);
                    }
                }
                progress(done + 1, table.rows.len());
            }
            Ok(ImportReport {
                file: file.to_string(),
                shape,
                rows: table.rows.len(),
                added: total.added,
                already_present: total.present,
                problems,
                preview,
                dry_run,
            })
        };
        // Each row updates several indexes keyed by random ids; with the usual 32 MiB page cache a
        // large import rereads (and decrypts) the same pages again and again. 96 MiB for the
        // import: 143,000 contacts took 22 s at 64 MiB, 10–17 s at 96, 12–15 s at 128, where
        // the peak memory passed 200 MB (README, "Speed").
        self.conn.pragma_update(None, "cache_size", IMPORT_CACHE_KIB)?;
        let result = if dry_run { self.rehearse(Action::Import, apply_all) } else { self.commit_import(file, apply_all) };
        self.conn.pragma_update(None, "cache_size", crate::store::CACHE_KIB)?;
        result
    }

    fn commit_import(
        &mut self,
        file: &str,
        apply_all: impl FnOnce(&rusqlite::Transaction, &crate::audit::Actor) -> Result<ImportReport>,
    ) -> Result<ImportReport> {
        self.write(Action::Import, |tx, actor| {
            let report = apply_all(tx, actor)?;
            if report.problems.is_empty() {
                return Ok(report);
            }
            Err(nothing_imported(report.problems.iter().map(|p| format!("{file} {p}")).collect()))
        })
    }
}

impl Registry {
    /// The wizard's look at a file before importing it: its headers (of the mapping's sheet, for
    /// a workbook), the fields of `shape`, the mapping (`mapping`, else a guess from the
    /// headers), and, when that mapping can be
    /// applied, a dry run of the whole file with it (a practice lead's).
    pub fn import_preview(&mut self, file: &str, bytes: &[u8], shape: ImportShape, mapping: Option<Mapping>) -> Result<ImportPreview> {
        self.permit(Action::Import)?;
        let sheet = mapping.as_ref().and_then(|m| m.sheet.clone());
        let table = table::read(file, bytes, sheet.as_deref())?;
        // A mapping of another shape, or one with no columns (a sheet just chosen), is guessed anew.
        let mapping = mapping.filter(|m| m.shape == shape && !m.columns.is_empty()).unwrap_or_else(|| Mapping::guess(shape, &table));
        let fields = mapping::fields(shape).iter().map(|f| ImportField { name: f.name.to_string(), required: f.required }).collect();
        let (mapping_problem, report) = match mapping.resolve(file, &table) {
            Err(e) => (Some(e.to_string()), None),
            Ok(_) => (None, Some(self.import_table(file, &table, &mapping, true, &mut |_, _| {})?)),
        };
        Ok(ImportPreview { file: file.to_string(), sheets: table.sheets, headers: table.headers, fields, mapping, mapping_problem, report })
    }
}

/// A problem's column: the file's header for a mapped field (or group field), else the field.
fn resolved_header(resolved: &mapping::Resolved, field: &str) -> String {
    if let Some(rest) = field.strip_prefix("group ") {
        let header = rest.split_once(' ').and_then(|(n, f)| {
            let group = n.parse::<usize>().ok().and_then(|n| resolved.groups.get(n.checked_sub(1)?))?;
            group.get(f).map(|(_, header)| header.clone())
        });
        if let Some(header) = header {
            return header;
        }
        return field.to_string();
    }
    resolved.header(field)
}
