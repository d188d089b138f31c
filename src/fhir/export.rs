//! `cocm export fhir`: the registry as FHIR Bulk Data, one NDJSON file per resource type and a
//! `manifest.json` as a Bulk Data server's status response would give it. Rows are streamed
//! table by table in entry order (rowid), so same-day records import back in the same order,
//! and memory stays flat however large the practice.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Cursor, Write};
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use super::bulk;
use super::resources::{self, *};
use crate::access::Action;
use crate::dates::Date;
use crate::instruments::{Difficulty, Instrument};
use crate::{Error, Registry, Result, audit};

/// One NDJSON file the export wrote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct FhirFile {
    pub resource_type: String,
    pub file: String,
    pub count: usize,
}

/// What `export_fhir` wrote, and where (a folder, or the name of the archive downloaded).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct FhirExportReport {
    pub dir: String,
    /// Only records created, changed or marked in error on or after this date (UTC), if given.
    pub since: Option<Date>,
    pub files: Vec<FhirFile>,
}

/// The same export as one `.zip` in memory (the NDJSON files and `manifest.json`), for a
/// browser or a remote client to download: nothing is written on the server's disk.
pub struct FhirArchive {
    pub report: FhirExportReport,
    pub bytes: Vec<u8>,
}

/// Where each resource type's NDJSON goes: a file in the export folder, or a deflated entry of
/// its own small archive in memory (a zip entry is written whole before the next begins, and
/// the export interleaves types), merged into one archive at the end without recompressing.
enum Out {
    File(BufWriter<File>),
    Zip(Box<ZipWriter<Cursor<Vec<u8>>>>),
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Out::File(f) => f.write(buf),
            Out::Zip(z) => z.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Out::File(f) => f.flush(),
            Out::Zip(z) => z.flush(),
        }
    }
}

fn zipped(e: zip::result::ZipError) -> Error {
    Error::Storage(format!("the export archive could not be written: {e}"))
}

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated)
}

/// The NDJSON files being written, one per resource type, in the manifest's order.
struct Files {
    /// The export folder; `None` writes into archives in memory.
    dir: Option<PathBuf>,
    open: BTreeMap<&'static str, (Out, usize)>,
    order: Vec<&'static str>,
}

impl Files {
    /// Appends a resource built as a JSON tree (`resources`), to the file of its type.
    fn write(&mut self, resource: &Value) -> Result<()> {
        let kind = match resource["resourceType"].as_str() {
            Some("Practitioner") => "Practitioner",
            Some("Patient") => "Patient",
            Some("Coverage") => "Coverage",
            Some("CareTeam") => "CareTeam",
            Some("EpisodeOfCare") => "EpisodeOfCare",
            Some("Consent") => "Consent",
            Some("Condition") => "Condition",
            Some("ServiceRequest") => "ServiceRequest",
            Some("MedicationStatement") => "MedicationStatement",
            Some("Procedure") => "Procedure",
            Some("DocumentReference") => "DocumentReference",
            other => return Err(Error::Storage(format!("no NDJSON file for resource type {other:?}"))),
        };
        self.write_as(kind, resource)
    }

    /// Appends a resource of type `kind` to that type's file.
    fn write_as(&mut self, kind: &'static str, resource: &impl Serialize) -> Result<()> {
        if !self.open.contains_key(kind) {
            let name = format!("{kind}.ndjson");
            let out = match &self.dir {
                Some(dir) => Out::File(BufWriter::with_capacity(1 << 20, File::create(dir.join(&name))?)),
                None => {
                    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
                    zip.start_file(name, deflated()).map_err(zipped)?;
                    Out::Zip(Box::new(zip))
                }
            };
            self.open.insert(kind, (out, 0));
            self.order.push(kind);
        }
        let (out, count) = self.open.get_mut(kind).expect("opened above");
        serde_json::to_writer(&mut *out, resource)?;
        out.write_all(b"\n")?;
        *count += 1;
        Ok(())
    }

    /// The files written, and (in memory) each one's archive.
    fn finish(mut self) -> Result<(Vec<FhirFile>, Vec<Vec<u8>>)> {
        let (mut files, mut archives) = (Vec::new(), Vec::new());
        for kind in &self.order {
            match self.open.remove(kind).expect("each kind once") {
                (Out::File(mut out), count) => {
                    out.flush()?;
                    files.push(FhirFile { resource_type: kind.to_string(), file: format!("{kind}.ndjson"), count });
                }
                (Out::Zip(zip), count) => {
                    archives.push(zip.finish().map_err(zipped)?.into_inner());
                    files.push(FhirFile { resource_type: kind.to_string(), file: format!("{kind}.ndjson"), count });
                }
            }
        }
        Ok((files, archives))
    }
}

impl Registry {
    /// Writes the registry as FHIR R4 Bulk Data NDJSON into `dir` (new, or empty), with the
    /// Bulk Data manifest; with `since`, only the records created, changed or marked in error on
    /// or after that date. A practice lead's, and audited with what was written.
    pub fn export_fhir(&mut self, dir: &Path, since: Option<Date>) -> Result<FhirExportReport> {
        self.permit(Action::Export)?;
        refuse_used_folder(dir)?;
        std::fs::create_dir_all(dir)?;
        let started = audit::now();
        let files = match self.write_resources(Some(dir), since) {
            Ok((files, _)) => files,
            Err(e) => {
                remove_written(dir);
                return Err(e);
            }
        };
        let urls = dir.canonicalize()?;
        let manifest = manifest(&started, since, &files, |file| format!("file://{}", urls.join(file).display()))?;
        std::fs::write(dir.join("manifest.json"), manifest)?;
        let report = FhirExportReport { dir: dir.display().to_string(), since, files };
        if let Err(e) = self.audit_fhir_export(&report, "dir") {
            remove_written(dir);
            return Err(e);
        }
        Ok(report)
    }

    /// The same export as one `.zip` named for today, built in memory: what a browser
    /// downloads from the practice server. A practice lead's, and audited as the folder is.
    pub fn export_fhir_archive(&mut self, since: Option<Date>) -> Result<FhirArchive> {
        self.permit(Action::Export)?;
        let started = audit::now();
        let (files, parts) = self.write_resources(None, since)?;
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        for part in parts {
            zip.merge_archive(zip::ZipArchive::new(Cursor::new(part)).map_err(zipped)?).map_err(zipped)?;
        }
        // Inside the archive the manifest's URLs are the entries' own names, beside it.
        zip.start_file("manifest.json", deflated()).map_err(zipped)?;
        zip.write_all(&manifest(&started, since, &files, str::to_string)?)?;
        let bytes = zip.finish().map_err(zipped)?.into_inner();
        let name = match since {
            Some(d) => format!("fhir-export-{}-since-{d}.zip", crate::dates::today()),
            None => format!("fhir-export-{}.zip", crate::dates::today()),
        };
        let report = FhirExportReport { dir: name, since, files };
        self.audit_fhir_export(&report, "archive")?;
        Ok(FhirArchive { report, bytes })
    }

    /// Every resource, in one read transaction so that every file describes the same moment.
    fn write_resources(&mut self, dir: Option<&Path>, since: Option<Date>) -> Result<(Vec<FhirFile>, Vec<Vec<u8>>)> {
        let mut files = Files { dir: dir.map(Path::to_path_buf), open: BTreeMap::new(), order: Vec::new() };
        let tx = self.conn.unchecked_transaction()?;
        write_all(&tx, since, &mut files)?;
        tx.commit()?;
        files.finish()
    }

    /// The export's audit row: where it went (`place` names the folder or archive) and counts.
    fn audit_fhir_export(&mut self, report: &FhirExportReport, place: &str) -> Result<()> {
        let counts: BTreeMap<&str, usize> = report.files.iter().map(|f| (f.resource_type.as_str(), f.count)).collect();
        let actor = self.actor().clone();
        let mut details = serde_json::json!({ "format": "fhir-r4-ndjson", "since": report.since, "resources": counts });
        details[place] = Value::from(report.dir.clone());
        audit::record(&self.conn, &actor, "export", "fhir", None, details).map(drop)
    }
}

/// An export goes into a new or empty folder only, so it never mixes with another.
pub fn refuse_used_folder(dir: &Path) -> Result<()> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return Err(Error::Conflict(format!("{} is not empty; export into a new or empty folder", dir.display())));
    }
    Ok(())
}

/// Removes what a failed export wrote (only its own files).
fn remove_written(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.ends_with(".ndjson") || name == "manifest.json" {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// The Bulk Data manifest (a status response's body), with each file's URL as `url` makes it.
fn manifest(started: &str, since: Option<Date>, files: &[FhirFile], url: impl Fn(&str) -> String) -> Result<Vec<u8>> {
    let output: Vec<Value> =
        files.iter().map(|f| serde_json::json!({ "type": f.resource_type, "url": url(&f.file), "count": f.count })).collect();
    let request = match since {
        Some(d) => format!("cocm export fhir --since {d}"),
        None => "cocm export fhir".to_string(),
    };
    let manifest = serde_json::json!({
        "transactionTime": started,
        "request": request,
        "requiresAccessToken": false,
        "output": output,
        "error": [],
    });
    Ok(serde_json::to_vec_pretty(&manifest)?)
}

/// `since` as the SQL filters compare it: '' (everything) or the date, which sorts before any
/// timestamp of that day.
fn since_param(since: Option<Date>) -> String {
    since.map(|d| d.to_string()).unwrap_or_default()
}

fn write_all(conn: &Connection, since: Option<Date>, files: &mut Files) -> Result<()> {
    let since = since_param(since);
    let members = members(conn)?;
    let names = |id: &str| members.get(id).map(|m| m.name.clone());
    // Every member is written whatever `since` says: records of any date refer to them.
    let mut ordered: Vec<&MemberRow> = members.values().collect();
    ordered.sort_by(|a, b| a.name.cmp(&b.name));
    for m in ordered {
        files.write(&resources::practitioner_resource(m))?;
    }
    patients(conn, &since, files, &names)?;
    episodes(conn, &since, files, &names)?;
    consents(conn, &since, files)?;
    conditions(conn, &since, files)?;
    assessments(conn, &since, files)?;
    contacts(conn, &since, files, &members)?;
    visits(conn, &since, files)?;
    requests(conn, &since, files, &names)?;
    reviews(conn, &since, files, &names)?;
    treatments(conn, &since, files)
}

fn members(conn: &Connection) -> Result<HashMap<String, MemberRow>> {
    let mut stmt = conn.prepare("SELECT id, name, role, npi, credential, cocm_fte_hundredths FROM team_members")?;
    let rows = stmt.query_map([], |r| {
        Ok(MemberRow { id: r.get(0)?, name: r.get(1)?, role: r.get(2)?, npi: r.get(3)?, credential: r.get(4)?, fte_hundredths: r.get(5)? })
    })?;
    rows.map(|m| m.map(|m| (m.id.clone(), m)).map_err(Error::from)).collect()
}

fn patients(conn: &Connection, since: &str, files: &mut Files, names: &dyn Fn(&str) -> Option<String>) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT id, mrn, name, dob, pcp_id, care_manager_id, consultant_id, created_at FROM patients
         WHERE created_at >= ?1 OR id IN (SELECT record_id FROM audit_log WHERE record_type = 'patient' AND at >= ?1)
         ORDER BY mrn",
    )?;
    let mut rows = stmt.query([since])?;
    while let Some(r) = rows.next()? {
        let p = PatientRow {
            id: r.get(0)?,
            mrn: r.get(1)?,
            name: r.get(2)?,
            dob: r.get(3)?,
            pcp: r.get(4)?,
            care_manager: r.get(5)?,
            consultant: r.get(6)?,
            created_at: r.get(7)?,
        };
        files.write(&resources::patient(&p, names))?;
        for c in crate::coverage::for_patient(conn, &p.id)? {
            files.write(&resources::coverage(&p, &c))?;
        }
        if let Some(team) = resources::care_team(&p, names) {
            files.write(&team)?;
        }
    }
    Ok(())
}

fn episodes(conn: &Connection, since: &str, files: &mut Files, names: &dyn Fn(&str) -> Option<String>) -> Result<()> {
    let diagnoses = crate::diagnoses::by_episode(conn, None)?;
    let mut history: HashMap<String, Vec<StatusRow>> = HashMap::new();
    let mut stmt =
        conn.prepare("SELECT episode_id, date, status, reason FROM episode_status_changes WHERE voided_at IS NULL ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        history.entry(r.get(0)?).or_default().push(StatusRow { date: r.get(1)?, status: r.get(2)?, reason: r.get(3)? });
    }
    let mut stmt = conn.prepare(
        "SELECT e.id, e.patient_id, e.start_date, e.targets, e.status, e.discharge_date, p.care_manager_id, CASE WHEN e.voided_at IS NULL THEN NULL ELSE COALESCE(e.void_reason, '') END,
                COALESCE(e.voided_at, e.created_at)
         FROM episodes e JOIN patients p ON p.id = e.patient_id
         WHERE e.created_at >= ?1 OR e.voided_at >= ?1
            OR e.id IN (SELECT record_id FROM audit_log WHERE record_type = 'episode' AND at >= ?1)
            OR e.id IN (SELECT episode_id FROM episode_diagnoses WHERE created_at >= ?1 OR voided_at >= ?1)
         ORDER BY e.rowid",
    )?;
    let mut rows = stmt.query([since])?;
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let mut changes = history.remove(&id).unwrap_or_default();
        changes.sort_by(|a, b| a.date.cmp(&b.date));
        let e = EpisodeRow {
            patient_id: r.get(1)?,
            start: r.get(2)?,
            targets: r.get(3)?,
            status: r.get(4)?,
            discharge: r.get(5)?,
            care_manager: r.get(6)?,
            voided: r.get(7)?,
            updated: r.get(8)?,
            history: changes,
            diagnoses: diagnoses
                .get(&id)
                .map(|list| list.iter().filter(|d| d.entered_in_error.is_none()).map(|d| d.id.clone()).collect())
                .unwrap_or_default(),
            id,
        };
        files.write(&resources::episode_of_care(&e, names))?;
    }
    Ok(())
}

/// Each diagnosis recorded or marked entered in error since `since`, as a Condition (§7a).
fn conditions(conn: &Connection, since: &str, files: &mut Files) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT d.id, e.patient_id, COALESCE(d.voided_at, d.created_at) FROM episode_diagnoses d JOIN episodes e ON e.id = d.episode_id
         WHERE d.created_at >= ?1 OR d.voided_at >= ?1 ORDER BY d.rowid",
    )?;
    let wanted: Vec<(String, String, String)> =
        stmt.query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<_>>()?;
    if wanted.is_empty() {
        return Ok(());
    }
    let all: HashMap<String, crate::diagnoses::Diagnosis> =
        crate::diagnoses::by_episode(conn, None)?.into_values().flatten().map(|d| (d.id.clone(), d)).collect();
    for (id, patient_id, updated) in wanted {
        if let Some(d) = all.get(&id) {
            files.write(&resources::condition(&patient_id, d, &updated))?;
        }
    }
    Ok(())
}

fn consents(conn: &Connection, since: &str, files: &mut Files) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT c.id, e.patient_id, c.episode_id, c.date, CASE WHEN c.voided_at IS NULL THEN NULL ELSE COALESCE(c.void_reason, '') END, COALESCE(c.voided_at, c.created_at)
         FROM episode_consents c JOIN episodes e ON e.id = c.episode_id
         WHERE c.created_at >= ?1 OR c.voided_at >= ?1 ORDER BY c.rowid",
    )?;
    let mut rows = stmt.query([since])?;
    while let Some(r) = rows.next()? {
        let c = ConsentRow {
            id: r.get(0)?,
            patient_id: r.get(1)?,
            episode_id: r.get(2)?,
            date: r.get(3)?,
            voided: r.get(4)?,
            updated: r.get(5)?,
        };
        files.write(&resources::consent(&c))?;
    }
    Ok(())
}

fn assessments(conn: &Connection, since: &str, files: &mut Files) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT id, patient_id, date, instrument, items, total, difficulty, total_only, CASE WHEN voided_at IS NULL THEN NULL ELSE COALESCE(void_reason, '') END, COALESCE(voided_at, created_at)
         FROM assessments WHERE created_at >= ?1 OR voided_at >= ?1 ORDER BY rowid",
    )?;
    let mut rows = stmt.query([since])?;
    while let Some(r) = rows.next()? {
        let instrument: String = r.get(3)?;
        let items: String = r.get(4)?;
        let difficulty: Option<String> = r.get(6)?;
        let a = AssessmentRow {
            id: r.get(0)?,
            patient_id: r.get(1)?,
            date: r.get(2)?,
            instrument: Instrument::parse("instrument", &instrument)?,
            answers: items.split(',').filter_map(|a| a.trim().parse().ok()).collect(),
            total: r.get(5)?,
            difficulty: difficulty.and_then(|d| Difficulty::parse("difficulty", &d).ok()),
            total_only: r.get(7)?,
            voided: r.get(8)?,
            updated: r.get(9)?,
        };
        files.write_as("Observation", &bulk::observation(&a))?;
        if let Some(qr) = bulk::questionnaire_response(&a) {
            files.write_as("QuestionnaireResponse", &qr)?;
        }
    }
    Ok(())
}

fn contacts(conn: &Connection, since: &str, files: &mut Files, members: &HashMap<String, MemberRow>) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT id, patient_id, episode_id, date, author_id, kind, mode, minutes, note, CASE WHEN voided_at IS NULL THEN NULL ELSE COALESCE(void_reason, '') END, COALESCE(voided_at, created_at)
         FROM contacts WHERE created_at >= ?1 OR voided_at >= ?1 ORDER BY rowid",
    )?;
    let mut rows = stmt.query([since])?;
    while let Some(r) = rows.next()? {
        let c = ContactRow {
            id: r.get(0)?,
            patient_id: r.get(1)?,
            episode_id: r.get(2)?,
            date: r.get(3)?,
            author_id: r.get(4)?,
            kind: r.get(5)?,
            mode: r.get(6)?,
            minutes: r.get(7)?,
            note: r.get(8)?,
            voided: r.get(9)?,
            updated: r.get(10)?,
        };
        let type_text = format!("Care manager contact: {}", c.kind);
        files.write_as("Encounter", &bulk::encounter(&c, members.get(&c.author_id).map(|m| m.name.as_str()), &type_text))?;
    }
    Ok(())
}

fn visits(conn: &Connection, since: &str, files: &mut Files) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT id, patient_id, COALESCE(voided_at, created_at) FROM visits
         WHERE created_at >= ?1 OR voided_at >= ?1 ORDER BY patient_id, rowid",
    )?;
    let wanted: Vec<(String, String, String)> =
        stmt.query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<_>>()?;
    // A patient's visits are read together (the list is per patient), once per patient.
    let mut current: (String, HashMap<String, crate::visits::Visit>) = (String::new(), HashMap::new());
    for (id, patient_id, updated) in wanted {
        if current.0 != patient_id {
            current = (patient_id.clone(), crate::visits::for_patient(conn, &patient_id)?.into_iter().map(|v| (v.id.clone(), v)).collect());
        }
        if let Some(v) = current.1.get(&id) {
            files.write_as("Encounter", &resources::visit_encounter(&patient_id, v, &updated))?;
        }
    }
    Ok(())
}

fn requests(conn: &Connection, since: &str, files: &mut Files, names: &dyn Fn(&str) -> Option<String>) -> Result<()> {
    // Open until a case review dated on or after it (spec §2), as `reviews` decides it.
    let mut stmt = conn.prepare(
        "SELECT r.id, r.patient_id, r.episode_id, r.date, r.requested_by, r.reason, CASE WHEN r.voided_at IS NULL THEN NULL ELSE COALESCE(r.void_reason, '') END, COALESCE(r.voided_at, r.created_at),
                EXISTS (SELECT 1 FROM case_reviews c WHERE c.patient_id = r.patient_id AND c.voided_at IS NULL AND c.date >= r.date)
         FROM review_requests r WHERE r.created_at >= ?1 OR r.voided_at >= ?1 ORDER BY r.rowid",
    )?;
    let mut rows = stmt.query([since])?;
    while let Some(r) = rows.next()? {
        let q = RequestRow {
            id: r.get(0)?,
            patient_id: r.get(1)?,
            episode_id: r.get(2)?,
            date: r.get(3)?,
            requested_by: r.get(4)?,
            reason: r.get(5)?,
            voided: r.get(6)?,
            updated: r.get(7)?,
            closed: r.get(8)?,
        };
        files.write(&resources::service_request(&q, names))?;
    }
    Ok(())
}

fn reviews(conn: &Connection, since: &str, files: &mut Files, names: &dyn Fn(&str) -> Option<String>) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT id, patient_id, episode_id, date, consultant_id, medication, psychotherapy, referral, other, note, CASE WHEN voided_at IS NULL THEN NULL ELSE COALESCE(void_reason, '') END, created_at,
                COALESCE(voided_at, created_at)
         FROM case_reviews WHERE created_at >= ?1 OR voided_at >= ?1 ORDER BY rowid",
    )?;
    let mut rows = stmt.query([since])?;
    while let Some(r) = rows.next()? {
        let v = ReviewRow {
            id: r.get(0)?,
            patient_id: r.get(1)?,
            episode_id: r.get(2)?,
            date: r.get(3)?,
            consultant: r.get(4)?,
            recommendations: Recommendations {
                medication: r.get(5)?,
                psychotherapy: r.get(6)?,
                referral: r.get(7)?,
                other: r.get(8)?,
                note: r.get(9)?,
            },
            voided: r.get(10)?,
            created_at: r.get(11)?,
            updated: r.get(12)?,
        };
        files.write(&resources::document_reference(&v, names))?;
    }
    Ok(())
}

fn treatments(conn: &Connection, since: &str, files: &mut Files) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT id, patient_id, episode_id, date, kind, description,
                CASE WHEN voided_at IS NULL THEN NULL ELSE COALESCE(void_reason, '') END, COALESCE(voided_at, created_at)
         FROM treatment_changes WHERE created_at >= ?1 OR voided_at >= ?1 ORDER BY rowid",
    )?;
    let mut rows = stmt.query([since])?;
    while let Some(r) = rows.next()? {
        let t = TreatmentRow {
            id: r.get(0)?,
            patient_id: r.get(1)?,
            episode_id: r.get(2)?,
            date: r.get(3)?,
            kind: r.get(4)?,
            description: r.get(5)?,
            voided: r.get(6)?,
            updated: r.get(7)?,
        };
        files.write(&resources::treatment_change(&t))?;
    }
    Ok(())
}
