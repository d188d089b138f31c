//! Where a FHIR import's resources come from: files on disk, read again for each pass a line at
//! a time (a whole practice's Bulk Data export is over a gigabyte, and never all in memory), or
//! bytes in memory. NDJSON is a resource a line; any other file is one resource or a Bundle.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{Error, Result};

/// One file to import, by the name problems and audit rows give it.
#[derive(Clone)]
pub struct FhirSource {
    pub name: String,
    data: Data,
}

#[derive(Clone)]
enum Data {
    Path(PathBuf),
    Bytes(Vec<u8>),
}

impl FhirSource {
    /// A file on disk, read when the import reads it.
    pub fn file(path: &Path) -> FhirSource {
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        FhirSource { name, data: Data::Path(path.to_path_buf()) }
    }

    /// The whole file (for sending it to a practice server).
    pub fn read(&self) -> Result<Vec<u8>> {
        match &self.data {
            Data::Path(path) => std::fs::read(path).map_err(|e| Error::validation("file", format!("cannot read {}: {e}", self.name))),
            Data::Bytes(bytes) => Ok(bytes.clone()),
        }
    }

    /// A file's contents already in memory.
    pub fn bytes(name: &str, bytes: Vec<u8>) -> FhirSource {
        FhirSource { name: name.to_string(), data: Data::Bytes(bytes) }
    }
}

/// What `cocm import fhir PATH` (and the app) reads: PATH itself, or a folder's `.ndjson` and
/// `.json` files in name order (a Bulk Data `manifest.json` aside).
pub fn sources_at(path: &Path) -> Result<Vec<FhirSource>> {
    if !path.exists() {
        return Err(Error::validation("file", format!("{} does not exist", path.display())));
    }
    if !path.is_dir() {
        return Ok(vec![FhirSource::file(path)]);
    }
    let cannot = |e: std::io::Error| Error::validation("file", format!("cannot read {}: {e}", path.display()));
    let mut paths: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(cannot)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ndjson" || x == "json") && !p.ends_with("manifest.json"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(Error::validation("file", format!("{} has no .ndjson or .json files", path.display())));
    }
    Ok(paths.iter().map(|p| FhirSource::file(p)).collect())
}

/// A resource and where it was read.
pub(crate) struct Entry {
    pub location: String,
    pub resource: Value,
}

impl Entry {
    pub fn kind(&self) -> &str {
        self.resource["resourceType"].as_str().unwrap_or_default()
    }
    pub fn id(&self) -> &str {
        self.resource["id"].as_str().unwrap_or_default()
    }
    pub fn name(&self) -> String {
        format!("{}/{}", self.kind(), self.id())
    }
}

fn not_json(at: &str, e: serde_json::Error) -> Error {
    Error::validation("file", format!("{at} is not JSON ({e})"))
}

fn not_utf8(name: &str) -> Error {
    Error::validation("file", format!("{name} is not UTF-8 text"))
}

/// Calls `visit` with every resource of every source, in order. A line or file that is not
/// JSON, not UTF-8 or not a resource stops the reading with an error naming it.
pub(crate) fn each(sources: &[FhirSource], visit: &mut dyn FnMut(Entry) -> Result<()>) -> Result<()> {
    for source in sources {
        let name = &source.name;
        let mut emit = |location: String, resource: Value| -> Result<()> {
            if resource["resourceType"].as_str().is_none_or(str::is_empty) {
                return Err(Error::validation("file", format!("{location}: not a FHIR resource (no resourceType)")));
            }
            visit(Entry { location, resource })
        };
        let mut ndjson_line = |i: usize, line: &str| -> Result<()> {
            let line = if i == 0 { line.trim_start_matches('\u{feff}') } else { line };
            if line.trim().is_empty() {
                return Ok(());
            }
            let location = format!("{name} line {}", i + 1);
            let resource = serde_json::from_str(line).map_err(|e| not_json(&location, e))?;
            emit(location, resource)
        };
        match (&source.data, name.ends_with(".ndjson")) {
            (Data::Path(path), true) => {
                let file = std::fs::File::open(path).map_err(|e| Error::validation("file", format!("cannot read {name}: {e}")))?;
                let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
                let mut line = String::new();
                for i in 0.. {
                    line.clear();
                    let read = reader.read_line(&mut line).map_err(|e| match e.kind() {
                        std::io::ErrorKind::InvalidData => not_utf8(name),
                        _ => Error::validation("file", format!("cannot read {name}: {e}")),
                    })?;
                    if read == 0 {
                        break;
                    }
                    ndjson_line(i, &line)?;
                }
            }
            (Data::Bytes(bytes), true) => {
                let text = std::str::from_utf8(bytes).map_err(|_| not_utf8(name))?;
                for (i, line) in text.lines().enumerate() {
                    ndjson_line(i, line)?;
                }
            }
            (data, false) => {
                let read;
                let bytes = match data {
                    Data::Path(path) => {
                        read = std::fs::read(path).map_err(|e| Error::validation("file", format!("cannot read {name}: {e}")))?;
                        &read
                    }
                    Data::Bytes(bytes) => bytes,
                };
                let text = std::str::from_utf8(bytes).map_err(|_| not_utf8(name))?;
                let mut value: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| not_json(name, e))?;
                if value["resourceType"] == "Bundle" {
                    let entries = value["entry"].as_array_mut().map(std::mem::take).unwrap_or_default();
                    for (i, mut entry) in entries.into_iter().enumerate() {
                        emit(format!("{name} entry {}", i + 1), entry["resource"].take())?;
                    }
                } else {
                    emit(name.clone(), value)?;
                }
            }
        }
    }
    Ok(())
}
