//! The commands that read or write files where the core runs ([`Files::Local`]), run by a
//! client of a practice server: the client reads or writes the files on its own machine and
//! sends or receives their contents through the commands' `Upload` twins. The desktop app
//! connected to a server and `cocm --server` both come here, so an import or export there
//! takes the same arguments and gives the same answer as on a registry file.

use std::io::{Cursor, Read};
use std::path::Path;

use serde_json::{Value, json};

use super::Client;
use crate::commands::{self, FhirDownload, FileContent, Files};
use crate::fhir::{FhirExportReport, refuse_used_folder, sources_at};
use crate::{Error, Result};

impl Client {
    /// Runs a shared command on the server; a command on local files is made of its upload
    /// twin and the local file's reading or writing.
    pub fn run(&self, command: &str, args: Value) -> Result<Value> {
        if commands::find(command).is_none_or(|c| c.files != Files::Local) {
            return self.call(command, args);
        }
        let text = |v: Value| v.as_str().map(String::from).ok_or_else(|| Error::Storage("the server sent no CSV".into()));
        match command {
            "export_billing_csv" | "export_report_csv" => {
                let twin = if command == "export_billing_csv" { "billing_csv" } else { "report_csv" };
                let csv = text(self.call(twin, args.clone())?)?;
                let path = string(&args, "path", "choose where to save the file")?;
                std::fs::write(path, &csv).map_err(|e| Error::validation("path", format!("cannot write {path}: {e}")))?;
                // Billing and report CSVs have no line breaks inside a field.
                Ok(Value::from(csv.lines().count().saturating_sub(1)))
            }
            "import_preview" | "import_file" => {
                let (name, bytes) = commands::read_import_file(string(&args, "path", "choose a file to import")?)?;
                let mut args = args;
                args["file"] = serde_json::to_value(FileContent::new(&name, &bytes))?;
                let twin = if command == "import_preview" { "import_preview_upload" } else { "import_upload" };
                self.call(twin, args)
            }
            "import_fhir" => {
                let path = string(&args, "path", "choose a FHIR Bundle, NDJSON file or export folder")?;
                let files = sources_at(Path::new(path))?
                    .iter()
                    .map(|source| Ok(FileContent::new(&source.name, &source.read()?)))
                    .collect::<Result<Vec<_>>>()?;
                self.call("import_fhir_upload", json!({ "files": files, "dryRun": args["dryRun"] }))
            }
            "export_fhir" => {
                let dir = Path::new(string(&args, "dir", "choose a new or empty folder")?);
                refuse_used_folder(dir)?;
                let download: FhirDownload = serde_json::from_value(self.call("export_fhir_download", json!({ "since": args["since"] }))?)
                    .map_err(|e| Error::Storage(format!("the server's export is not what this version reads: {e}")))?;
                unpack(&download.archive, dir)?;
                Ok(serde_json::to_value(FhirExportReport { dir: dir.display().to_string(), ..download.report })?)
            }
            other => Err(Error::validation("command", format!("{other} is not run through a practice server"))),
        }
    }
}

fn string<'a>(args: &'a Value, key: &str, missing: &str) -> Result<&'a str> {
    args.get(key).and_then(Value::as_str).filter(|s| !s.trim().is_empty()).map(str::trim).ok_or_else(|| Error::validation(key, missing))
}

/// Writes the archive's files into `dir` (new or empty), the manifest's URLs pointing at them
/// as a local export's do.
fn unpack(archive: &FileContent, dir: &Path) -> Result<()> {
    let damaged = |e: zip::result::ZipError| Error::Storage(format!("the server's export archive is damaged: {e}"));
    let (_, bytes) = archive.decode()?;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(damaged)?;
    std::fs::create_dir_all(dir)?;
    let absolute = dir.canonicalize()?;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(damaged)?;
        // Only plain names: an entry naming a folder or `..` would write outside `dir`.
        let name = entry.name().map_err(damaged)?.to_string();
        if name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(Error::Storage(format!("the server's export archive holds an unexpected entry {name:?}")));
        }
        if name != "manifest.json" {
            // NDJSON straight to disk: a large practice's Observations are gigabytes.
            std::io::copy(&mut entry, &mut std::fs::File::create(dir.join(&name))?)?;
            continue;
        }
        let mut content = Vec::new();
        entry.read_to_end(&mut content)?;
        let mut manifest: Value = serde_json::from_slice(&content)?;
        for output in manifest["output"].as_array_mut().into_iter().flatten() {
            let file = output["url"].as_str().unwrap_or_default().to_string();
            output["url"] = Value::from(format!("file://{}", absolute.join(file).display()));
        }
        std::fs::write(dir.join(&name), serde_json::to_vec_pretty(&manifest)?)?;
    }
    Ok(())
}
