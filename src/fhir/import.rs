//! `cocm import fhir FILE|DIR`: a Bundle or NDJSON of FHIR R4 resources as an EHR (or this
//! registry's export) sends them. Patients are matched by their MRN identifier; PHQ-9 and GAD-7
//! Observations (panels with their items as components or members, or totals alone) become
//! assessments. An export of this registry brings back its team, episodes, consents, contacts,
//! review requests and case reviews too. What is already there is matched and left alone; a
//! resource type the registry does not keep is counted and skipped. One transaction, the same
//! insert functions (rules, audit rows) as typing it in, each audit row naming file and line.

use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::fields::*;
use super::source::{self, Entry, FhirSource};
use super::*;
use crate::access::Action;
use crate::assessments::{self, NewAssessment};
use crate::audit::Actor;
use crate::contacts::{self, NewContact};
use crate::coverage;
use crate::dates::{self, Date};
use crate::episodes::{self, Enrolment};
use crate::import::{Occurrences, count};
use crate::instruments::{self, Difficulty};
use crate::patients::{self, NewPatient};
use crate::reviews::{self, NewCaseReview, NewReviewRequest};
use crate::treatment::{self, NewTreatmentChange};
use crate::vocab::{DischargeReason, EpisodeStatus, Role};
use crate::voids::{self, RecordKind};
use crate::{Registry, Result, loinc, team};

/// What a FHIR import added, or found already there.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct FhirCounts {
    pub team_members: usize,
    pub patients: usize,
    pub episodes: usize,
    pub consents: usize,
    pub assessments: usize,
    pub contacts: usize,
    /// Practice visits (§9): Encounters with CPT or HCPCS codes.
    pub visits: usize,
    pub review_requests: usize,
    pub case_reviews: usize,
    pub treatment_changes: usize,
}

/// One resource the import could not take, by file and line (NDJSON) or entry (Bundle).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct FhirProblem {
    pub location: String,
    /// `Observation/abc`, as the file names it.
    pub resource: String,
    pub message: String,
}

impl std::fmt::Display for FhirProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, {}: {}", self.location, self.resource, self.message)
    }
}

/// What a FHIR import did, or (a dry run) would do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct FhirImportReport {
    pub files: Vec<String>,
    pub resources: usize,
    pub added: FhirCounts,
    pub already_present: FhirCounts,
    /// Resources not taken, by why: a type the registry does not keep, an Observation that is not
    /// a PHQ-9 or GAD-7, a QuestionnaireResponse (its Observation carries the answers)…
    pub skipped: BTreeMap<String, usize>,
    /// Empty when the import was stored.
    pub problems: Vec<FhirProblem>,
    pub dry_run: bool,
}

impl Registry {
    /// Imports FHIR resources from `files` (name and bytes each): a practice lead's. Either every
    /// resource is taken, or (any problem) nothing is and the error lists the problems.
    /// `dry_run` takes every resource, rolls back, and reports the problems instead.
    /// `progress` is told the resources done and the resources in all, as they go.
    pub fn import_fhir(
        &mut self,
        sources: &[FhirSource],
        dry_run: bool,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<FhirImportReport> {
        self.permit(Action::Import)?;
        let names: Vec<String> = sources.iter().map(|s| s.name.clone()).collect();
        let apply = |tx: &rusqlite::Transaction, actor: &Actor| -> Result<FhirImportReport> {
            let mut importer = Importer::new(tx, actor)?;
            let resources = importer.run(sources, progress)?;
            Ok(FhirImportReport {
                files: names.clone(),
                resources,
                added: importer.added,
                already_present: importer.present,
                skipped: importer.skipped,
                problems: importer.problems,
                dry_run,
            })
        };
        // The same larger page cache as a CSV import, for the same reason (`import::IMPORT_CACHE_KIB`).
        self.conn.pragma_update(None, "cache_size", crate::import::IMPORT_CACHE_KIB)?;
        let result = if dry_run { self.rehearse(Action::Import, apply) } else { self.commit_fhir(apply) };
        self.conn.pragma_update(None, "cache_size", crate::store::CACHE_KIB)?;
        result
    }

    fn commit_fhir(&mut self, apply: impl FnOnce(&rusqlite::Transaction, &Actor) -> Result<FhirImportReport>) -> Result<FhirImportReport> {
        self.write(Action::Import, |tx, actor| {
            let report = apply(tx, actor)?;
            if report.problems.is_empty() {
                return Ok(report);
            }
            Err(crate::import::nothing_imported(report.problems.iter().map(|p| p.to_string()).collect()))
        })
    }
}

type Taken = std::result::Result<(), String>;

/// The resources the records refer to, read first and held (a few per patient).
const REFERRED_TO: [&str; 7] = ["Practitioner", "Patient", "Coverage", "CareTeam", "EpisodeOfCare", "Consent", "Condition"];
/// The records, many per patient, taken one at a time as they are read.
const RECORDS: [&str; 6] = ["Observation", "Encounter", "ServiceRequest", "DocumentReference", "MedicationStatement", "Procedure"];

/// A status an episode moves to, with the discharge reason.
type StatusChange = (EpisodeStatus, Option<DischargeReason>);

struct Importer<'a> {
    conn: &'a Connection,
    actor: &'a Actor,
    /// A Practitioner's id in the files → the team member's name.
    practitioners: HashMap<String, String>,
    /// A Patient's id in the files → the MRN.
    patients: HashMap<String, String>,
    /// The baseline lookback (spec §4), read once.
    lookback_days: i64,
    /// The records met so far, to tell a repeat in the files from one already in the registry.
    seen: Occurrences,
    added: FhirCounts,
    present: FhirCounts,
    skipped: BTreeMap<String, usize>,
    problems: Vec<FhirProblem>,
}

impl<'a> Importer<'a> {
    fn new(conn: &'a Connection, actor: &'a Actor) -> Result<Self> {
        Ok(Importer {
            conn,
            actor,
            lookback_days: assessments::lookback_days(conn)?,
            seen: Occurrences::default(),
            practitioners: HashMap::new(),
            patients: HashMap::new(),
            added: FhirCounts::default(),
            present: FhirCounts::default(),
            skipped: BTreeMap::new(),
            problems: Vec::new(),
        })
    }

    fn skip(&mut self, why: String) {
        *self.skipped.entry(why).or_default() += 1;
    }

    /// Takes the resources in the order their references need, reading the sources three
    /// times rather than holding them: first the few resources others refer to (team, patients,
    /// their payers and care teams, episodes and consents), then any Observations that are
    /// members of a panel, then the many records (scores, contacts, requests, reviews, treatment
    /// changes) one at a time. Returns how many resources the sources hold.
    fn run(&mut self, sources: &[FhirSource], progress: &mut dyn FnMut(usize, usize)) -> Result<usize> {
        let mut kept: Vec<Entry> = Vec::new();
        let mut members: HashSet<String> = HashSet::new();
        let mut count = 0;
        source::each(sources, &mut |e| {
            count += 1;
            let kind = e.kind();
            if REFERRED_TO.contains(&kind) {
                kept.push(e);
            } else if kind == "Observation" {
                members.extend(e.resource["hasMember"].as_array().into_iter().flatten().filter_map(|m| reference_id(m, "Observation")));
            } else if kind == "QuestionnaireResponse" {
                self.skip("QuestionnaireResponse (its Observation carries the answers)".into());
            } else if !RECORDS.contains(&kind) {
                self.skip(format!("{kind} (not kept by the registry)"));
            }
            Ok(())
        })?;
        let mut by_id: HashMap<String, Value> = HashMap::new();
        if !members.is_empty() {
            source::each(sources, &mut |e| {
                if e.kind() == "Observation" && members.contains(e.id()) {
                    by_id.insert(e.id().to_string(), e.resource);
                }
                Ok(())
            })?;
        }
        progress(0, count);
        self.referred_to(&kept);
        let mut done = 0;
        source::each(sources, &mut |e| {
            done += 1;
            progress(done, count);
            let taken = match e.kind() {
                "Observation" if members.contains(e.id()) => return Ok(()),
                "Observation" => self.observation(&e, &by_id),
                "Encounter" => self.encounter(&e),
                "ServiceRequest" => self.review_request(&e),
                "DocumentReference" => self.case_review(&e),
                "MedicationStatement" | "Procedure" => self.treatment_change(&e),
                _ => return Ok(()),
            };
            self.note(&e, taken);
            Ok(())
        })?;
        Ok(count)
    }

    /// The resources the records refer to: team, patients (with payer and care team), episodes
    /// (with consents), in that order.
    fn referred_to(&mut self, entries: &[Entry]) {
        let of = |kind: &str| -> Vec<&Entry> { entries.iter().filter(|e| e.kind() == kind).collect() };
        let by_patient = |kind: &str, field: &str| -> HashMap<String, &Entry> {
            of(kind).into_iter().filter_map(|e| Some((reference_id(&e.resource[field], "Patient")?, e))).collect()
        };
        let mut coverage: HashMap<String, Vec<&Entry>> = HashMap::new();
        for c in of("Coverage") {
            if let Some(patient) = reference_id(&c.resource["beneficiary"], "Patient") {
                coverage.entry(patient).or_default().push(c);
            }
        }
        let teams = by_patient("CareTeam", "subject");
        let mut consents: HashMap<String, Vec<&Entry>> = HashMap::new();
        for c in of("Consent") {
            let episode = c.resource["provision"]["data"]
                .as_array()
                .into_iter()
                .flatten()
                .find_map(|d| reference_id(&d["reference"], "EpisodeOfCare"));
            match episode {
                Some(id) => consents.entry(id).or_default().push(c),
                None => self.skip("Consent (not linked to an episode)".into()),
            }
        }
        for e in of("Practitioner") {
            let taken = self.practitioner(e);
            self.note(e, taken);
        }
        for e in of("Patient") {
            let taken = self.patient(e, coverage.get(e.id()).map(Vec::as_slice).unwrap_or_default(), teams.get(e.id()).copied());
            self.note(e, taken);
        }
        let mut episodes = of("EpisodeOfCare");
        episodes.sort_by_key(|e| text(&e.resource["period"]["start"]));
        // §7a: an episode's diagnoses are the Conditions its `diagnosis` lists, by rank.
        let conditions: HashMap<&str, &Entry> = of("Condition").into_iter().map(|c| (c.id(), c)).collect();
        let mut listed: HashSet<String> = HashSet::new();
        for e in episodes {
            let mut ranked: Vec<(u64, String)> = e.resource["diagnosis"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| Some((d["rank"].as_u64().unwrap_or(u64::MAX), reference_id(&d["condition"], "Condition")?)))
                .collect();
            ranked.sort();
            let mine: Vec<&Entry> = ranked.iter().filter_map(|(_, id)| conditions.get(id.as_str()).copied()).collect();
            listed.extend(ranked.into_iter().map(|(_, id)| id));
            let taken = self.episode(e, consents.get(e.id()).map(Vec::as_slice).unwrap_or_default(), &mine);
            self.note(e, taken);
        }
        for _ in conditions.keys().filter(|id| !listed.contains(**id)) {
            self.skip("Condition (not an episode's diagnosis)".into());
        }
    }

    /// A record the source marked entered in error is kept, and marked so here too, with the
    /// source's reason: it counts nowhere, as billing's "excluded" minutes show.
    fn void_if_in_error(&self, resource: &Value, actor: &Actor, kind: RecordKind, id: &str) -> Taken {
        if resource["status"] != "entered-in-error" {
            return Ok(());
        }
        let reason =
            extension(resource, EXT_VOID_REASON).and_then(|v| v["valueString"].as_str()).unwrap_or("entered in error in the source system");
        voids::mark(self.conn, actor, kind, id, reason).map_err(|e| e.to_string())
    }

    fn note(&mut self, e: &Entry, taken: Taken) {
        if let Err(message) = taken {
            self.problems.push(FhirProblem { location: e.location.clone(), resource: e.name(), message });
        }
    }

    fn actor_for(&self, e: &Entry) -> Actor {
        self.actor.with_source(e.location.clone())
    }

    /// A team member: found by name, or added when the resource names their role (as this
    /// registry's export does).
    fn practitioner(&mut self, e: &Entry) -> Taken {
        let name = person_name(&e.resource).ok_or("has no name")?;
        self.practitioners.insert(e.id().to_string(), name.clone());
        if team::find(self.conn, "name", &name).is_ok() {
            self.present.team_members += 1;
            return Ok(());
        }
        let Some(role) = extension(&e.resource, EXT_TEAM_ROLE).and_then(|v| v["valueCode"].as_str()) else {
            // Not an error unless a record names them; that record's problem says so.
            return Ok(());
        };
        let role = Role::parse("role", role).map_err(|e| e.to_string())?;
        let (npi, credential, fte) = practitioner_details(&e.resource)?;
        let actor = self.actor_for(e);
        let member = team::insert(self.conn, &actor, &name, role).map_err(|e| e.to_string())?;
        if npi.is_some() || credential.is_some() || fte.is_some() {
            team::set_details(self.conn, &actor, &member, npi.as_deref(), credential, fte).map_err(|e| e.to_string())?;
        }
        self.added.team_members += 1;
        Ok(())
    }

    /// The team member a reference names: a Practitioner of the files, else its display name.
    fn member(&self, reference: &Value) -> std::result::Result<String, String> {
        let name = reference_id(reference, "Practitioner")
            .and_then(|id| self.practitioners.get(&id).cloned())
            .or_else(|| reference["display"].as_str().map(String::from))
            .ok_or_else(|| format!("names no team member ({})", text(&reference["reference"])))?;
        team::find(self.conn, "by", &name)
            .map(|m| m.name)
            .map_err(|_| format!("{name} is not on the team (add them, or import their Practitioner with a role)"))
    }

    fn patient(&mut self, e: &Entry, coverages: &[&Entry], team: Option<&Entry>) -> Taken {
        let r = &e.resource;
        let mrn = mrn(r).ok_or("has no MRN (an identifier of type MR)")?;
        let dob = r["birthDate"].as_str().and_then(dates::parse_iso).ok_or("has no birthDate")?;
        self.patients.insert(e.id().to_string(), mrn.clone());
        match patients::find_by_mrn(self.conn, &mrn) {
            Ok(found) if found.dob != dob => {
                return Err(format!("MRN {mrn} is already in the registry with date of birth {}, not {dob}", found.dob));
            }
            Ok(_) => {
                self.present.patients += 1;
                return Ok(());
            }
            Err(err) if err.code() != "not_found" => return Err(err.to_string()),
            Err(_) => {}
        }
        let name = person_name(r).ok_or("has no name")?;
        let mut new = NewPatient { mrn, name, dob: dob.to_string(), ..Default::default() };
        if let Some(pcp) = r["generalPractitioner"].as_array().and_then(|a| a.first()) {
            new.pcp = Some(self.member(pcp)?);
        }
        for p in team.map(|t| &t.resource["participant"]).and_then(Value::as_array).into_iter().flatten() {
            let role = p["role"].as_array().into_iter().flatten().flat_map(codings).find(|(s, _)| s == TEAM_ROLE_SYSTEM).map(|(_, c)| c);
            let slot = match role.as_deref() {
                Some("pcp") => &mut new.pcp,
                Some("care-manager") => &mut new.care_manager,
                Some("psychiatric-consultant") => &mut new.consultant,
                _ => continue,
            };
            *slot = Some(self.member(&p["member"])?);
        }
        let actor = self.actor_for(e);
        patients::insert(self.conn, &actor, &new).map_err(|e| e.to_string())?;
        // Each Coverage becomes a coverage record (spec §7a): payer, plan, member id, period, order.
        let row = patients::find_by_mrn(self.conn, &new.mrn).map_err(|e| e.to_string())?;
        for c in coverages.iter().map(|c| &c.resource).filter(|c| c["status"] != "entered-in-error") {
            let plan = c["class"].as_array().into_iter().flatten().find(|k| codings(&k["type"]).any(|(_, code)| code == "plan"));
            let record = coverage::NewCoverage {
                payer: payer(c).as_str().to_string(),
                plan: plan.and_then(|k| k["value"].as_str()).map(str::to_string),
                member_id: c["subscriberId"].as_str().map(str::to_string),
                to: c["period"]["end"].as_str().map(str::to_string),
                secondary: c["order"].as_u64() == Some(2),
                ..Default::default()
            };
            let from = c["period"]["start"].as_str().and_then(|d| dates::parse_iso(d.get(..10).unwrap_or(d)));
            coverage::insert(self.conn, &actor, &row, &record, from).map_err(|e| format!("its Coverage: {e}"))?;
        }
        self.added.patients += 1;
        Ok(())
    }

    /// The MRN of the patient a reference names: a Patient of the files, or an MRN identifier.
    fn subject(&self, reference: &Value) -> std::result::Result<String, String> {
        if let Some(mrn) = reference_id(reference, "Patient").and_then(|id| self.patients.get(&id)) {
            return Ok(mrn.clone());
        }
        if let Some(mrn) = reference["identifier"]["value"].as_str() {
            return Ok(mrn.to_string());
        }
        Err(format!("its patient ({}) is not in the files", text(&reference["reference"])))
    }

    /// An episode with its consents and status history, enrolled and moved along in date order.
    fn episode(&mut self, e: &Entry, consents: &[&Entry], conditions: &[&Entry]) -> Taken {
        let r = &e.resource;
        if r["status"] == "entered-in-error" {
            self.skip("EpisodeOfCare (entered in error)".into());
            return Ok(());
        }
        let mrn = self.subject(&r["patient"])?;
        let patient = patients::find_by_mrn(self.conn, &mrn).map_err(|e| e.to_string())?;
        let start = date_of(&r["period"]["start"]).ok_or("has no period.start (the enrolment date)")?;
        let same: bool = self
            .conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM episodes WHERE patient_id = ?1 AND start_date = ?2 AND voided_at IS NULL)",
                (&patient.id, start.to_string()),
                |row| row.get(0),
            )
            .map_err(|e| e.to_string())?;
        if same {
            self.present.episodes += 1;
            return Ok(());
        }
        let targets: Vec<String> =
            r["type"].as_array().into_iter().flatten().flat_map(codings).filter(|(s, _)| s == TARGET_SYSTEM).map(|(_, c)| c).collect();
        let mut consent_dates: Vec<Date> = consents
            .iter()
            .filter(|c| c.resource["status"] != "entered-in-error")
            .filter_map(|c| date_of(&c.resource["dateTime"]))
            .collect();
        consent_dates.sort();
        let actor = self.actor_for(e);
        let enrolment = Enrolment {
            start: start.to_string(),
            consent: consent_dates.first().map(|d| d.to_string()),
            targets: (!targets.is_empty()).then(|| targets.join(",")),
            ..Default::default()
        };
        let episode_id = episodes::enroll(self.conn, &actor, &mrn, &enrolment).map_err(|e| e.to_string())?;
        self.added.episodes += 1;
        for c in conditions.iter().map(|c| &c.resource).filter(|c| !codings(&c["verificationStatus"]).any(|(_, v)| v == "entered-in-error"))
        {
            let Some(code) = codings(&c["code"]).find(|(s, _)| s == ICD_10_CM).map(|(_, c)| c) else {
                return Err("its diagnosis Condition has no ICD-10-CM code".into());
            };
            let code = crate::diagnoses::check_code("code", &code).map_err(|e| format!("its diagnosis Condition: {e}"))?;
            let date = date_of(&c["recordedDate"]).map_or(start, |d| d.max(start));
            crate::diagnoses::insert(self.conn, &actor, &episode_id, &[code], date).map_err(|e| e.to_string())?;
        }
        self.added.consents += consent_dates.len().min(1);
        // Later consents and status changes in date order; a consent before a change of the same day.
        let mut events: Vec<(Date, u8, Option<StatusChange>)> = consent_dates.iter().skip(1).map(|d| (*d, 0, None)).collect();
        for (i, (date, status, reason)) in status_history(r).into_iter().enumerate() {
            if i == 0 && status == EpisodeStatus::Active && date == start {
                continue;
            }
            events.push((date, 1, Some((status, reason))));
        }
        events.sort_by_key(|(d, order, _)| (*d, *order));
        for (date, _, change) in events {
            match change {
                None => {
                    episodes::record_consent(self.conn, &actor, &mrn, &date.to_string()).map_err(|e| e.to_string())?;
                    self.added.consents += 1;
                }
                Some((to, reason)) => {
                    episodes::change_status(self.conn, &actor, &mrn, to, &date.to_string(), reason).map(drop).map_err(|e| e.to_string())?
                }
            }
        }
        Ok(())
    }

    fn observation(&mut self, e: &Entry, by_id: &HashMap<String, Value>) -> Taken {
        let r = &e.resource;
        let Some((instrument, is_total)) = codings(&r["code"]).find_map(|(_, c)| instrument_of(&c)) else {
            self.skip("Observation (not an instrument of the catalogue)".into());
            return Ok(());
        };
        if r["status"] == "cancelled" {
            self.skip("Observation (cancelled)".into());
            return Ok(());
        }
        let mrn = self.subject(&r["subject"])?;
        let date =
            date_of(&r["effectiveDateTime"]).or_else(|| date_of(&r["effectivePeriod"]["start"])).ok_or("has no effectiveDateTime")?;
        // The parts: components, members (hasMember), or the total observation itself.
        let mut parts: Vec<&Value> = r["component"].as_array().into_iter().flatten().collect();
        for m in r["hasMember"].as_array().into_iter().flatten().filter_map(|m| reference_id(m, "Observation")) {
            parts.push(by_id.get(m.as_str()).ok_or_else(|| format!("its member Observation/{m} is not in the files"))?);
        }
        if is_total {
            parts.push(r);
        }
        let total_code = &instrument.codes().total;
        let difficulty_code = instrument.form().difficulty.as_ref().map(|q| q.code.as_str());
        let mut answers: HashMap<usize, u8> = HashMap::new();
        let (mut total, mut difficulty) = (None, None);
        for part in parts {
            let Some(code) = codings(&part["code"]).map(|(_, c)| c).next() else { continue };
            if code == *total_code {
                total = part["valueQuantity"]["value"].as_f64().or_else(|| part["valueInteger"].as_f64());
            } else if Some(code.as_str()) == difficulty_code {
                let answer =
                    codings(&part["valueCodeableConcept"]).find_map(|(_, c)| loinc::DIFFICULTY_ANSWERS.iter().position(|(a, _)| *a == c));
                difficulty = answer.map(|i| Difficulty::ALL[i]);
            } else if let Some(index) = instrument.item_with_code(&code) {
                let options = instrument.options(index);
                let value = codings(&part["valueCodeableConcept"])
                    .find_map(|(_, c)| options.iter().find(|o| o.code.as_deref() == Some(c.as_str())).map(|o| o.score))
                    .or_else(|| part["valueInteger"].as_u64().and_then(|v| u8::try_from(v).ok()))
                    .ok_or_else(|| format!("item {code} has no answer the registry reads (a LOINC answer code or a score)"))?;
                answers.insert(index, value);
            }
        }
        let patient = patients::find_by_mrn(self.conn, &mrn).map_err(|e| e.to_string())?;
        let sql = "SELECT COUNT(*) FROM assessments WHERE patient_id = ?1 AND date = ?2 AND instrument = ?3";
        let in_registry = count(self.conn, sql, (&patient.id, date.to_string(), instrument.as_str())).map_err(|e| e.to_string())?;
        if self.seen.already_there(("assessment", &patient.id, date, instrument), in_registry) {
            self.present.assessments += 1;
            return Ok(());
        }
        let actor = self.actor_for(e);
        let n = instrument.items().len();
        if answers.is_empty() {
            let total = total.ok_or("has neither item answers nor a total score")?;
            if total.fract() != 0.0 {
                return Err(format!("total {total} is not a whole number"));
            }
            let id = assessments::insert_total_only(self.conn, &actor, &patient, self.lookback_days, date, instrument, total as i64)
                .map_err(|e| e.to_string())?;
            self.void_if_in_error(r, &actor, RecordKind::Assessment, &id)?;
        } else {
            if answers.len() != n {
                return Err(format!(
                    "answers {} of the {}'s {n} items; give every item, or the total alone",
                    answers.len(),
                    instrument.label()
                ));
            }
            let items: Vec<i64> = (0..n).map(|i| i64::from(answers[&i])).collect();
            let sum = instruments::score(instrument, &items).map_err(|e| e.to_string())?.total;
            if let Some(total) = total.filter(|t| *t != f64::from(sum)) {
                return Err(format!("total {total} is not the {}'s score of the item answers ({sum})", instrument.label()));
            }
            let new = NewAssessment {
                date: date.to_string(),
                instrument: instrument.as_str().to_string(),
                answers: items,
                difficulty: difficulty.map(|d| d.as_str().to_string()),
            };
            let id = assessments::insert_for(self.conn, &actor, &patient, self.lookback_days, &new).map_err(|e| e.to_string())?;
            self.void_if_in_error(r, &actor, RecordKind::Assessment, &id)?;
        }
        self.added.assessments += 1;
        Ok(())
    }

    fn encounter(&mut self, e: &Entry) -> Taken {
        let r = &e.resource;
        // A visit bills CPT or HCPCS codes; a care manager's contact has the registry's kind.
        let billed: Vec<String> = r["type"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(codings)
            .filter(|(system, _)| system == CPT || system == HCPCS)
            .map(|(_, code)| code)
            .collect();
        if !billed.is_empty() {
            return self.visit(e, &billed);
        }
        let minutes = &r["length"];
        let in_minutes = minutes["code"] == "min" || minutes["unit"] == "min";
        let Some(minutes) = minutes["value"].as_f64().filter(|_| in_minutes) else {
            self.skip("Encounter (no length in minutes)".into());
            return Ok(());
        };
        if r["status"] == "cancelled" {
            self.skip("Encounter (cancelled)".into());
            return Ok(());
        }
        let mrn = self.subject(&r["subject"])?;
        let date = date_of(&r["period"]["start"]).ok_or("has no period.start")?;
        let participant = r["participant"].as_array().and_then(|p| p.first()).ok_or("has no participant (who made the contact)")?;
        let by = self.member(&participant["individual"])?;
        let author = team::find(self.conn, "by", &by).map_err(|e| e.to_string())?;
        let patient = patients::find_by_mrn(self.conn, &mrn).map_err(|e| e.to_string())?;
        if minutes.fract() != 0.0 {
            return Err(format!("length {minutes} min is not a whole number of minutes"));
        }
        let minutes = minutes as i64;
        let sql = "SELECT COUNT(*) FROM contacts WHERE date = ?2 AND patient_id = ?1 AND author_id = ?3 AND minutes = ?4";
        let in_registry = count(self.conn, sql, (&patient.id, date.to_string(), &author.id, minutes)).map_err(|e| e.to_string())?;
        if self.seen.already_there(("contact", &patient.id, date, &author.id, minutes), in_registry) {
            self.present.contacts += 1;
            return Ok(());
        }
        let kind = r["type"].as_array().into_iter().flatten().flat_map(codings).find(|(s, _)| s == CONTACT_KIND_SYSTEM).map(|(_, c)| c);
        let mode = extension(r, EXT_CONTACT_MODE).and_then(|v| v["valueCode"].as_str()).map(String::from).or_else(|| {
            match r["class"]["code"].as_str() {
                Some("VR") => Some("phone".to_string()),
                Some("AMB") => Some("in-person".to_string()),
                _ => None,
            }
        });
        let note = extension(r, EXT_CONTACT_NOTE).and_then(|v| v["valueString"].as_str()).unwrap_or_default();
        let new = NewContact {
            date: date.to_string(),
            minutes,
            by: author.id.clone(),
            kind: Some(kind.unwrap_or_else(|| "other".into())),
            mode,
            note: note.to_string(),
        };
        let actor = self.actor_for(e);
        let id = contacts::insert_for(self.conn, &actor, &patient, &author, &new).map_err(|e| e.to_string())?;
        self.void_if_in_error(r, &actor, RecordKind::Contact, &id)?;
        self.added.contacts += 1;
        Ok(())
    }

    /// A practice visit of any patient: the class tells in person (`AMB`) from telehealth
    /// (`VR`, or a virtual class); the service type our category, else `other`.
    fn visit(&mut self, e: &Entry, billed: &[String]) -> Taken {
        let r = &e.resource;
        if r["status"] == "cancelled" {
            self.skip("Encounter (cancelled)".into());
            return Ok(());
        }
        let mrn = self.subject(&r["subject"])?;
        let date = date_of(&r["period"]["start"]).ok_or("has no period.start")?;
        let patient = patients::find_by_mrn(self.conn, &mrn).map_err(|e| e.to_string())?;
        let codes = billed.join(",");
        let in_registry = crate::visits::count_same(self.conn, &patient.id, date, &codes).map_err(|e| e.to_string())?;
        if self.seen.already_there(("visit", &patient.id, date, codes.to_uppercase()), in_registry) {
            self.present.visits += 1;
            return Ok(());
        }
        let category = codings(&r["serviceType"]).find(|(s, _)| s == VISIT_CATEGORY_SYSTEM).map(|(_, c)| c);
        let modality = match r["class"]["code"].as_str() {
            Some("VR") => "telehealth",
            _ => "in-person",
        };
        let new = crate::visits::NewVisit {
            date: date.to_string(),
            category: category.unwrap_or_else(|| "other".into()),
            codes,
            modality: Some(modality.into()),
        };
        let actor = self.actor_for(e);
        let id = crate::visits::insert(self.conn, &actor, &patient, &new).map_err(|e| e.to_string())?;
        self.void_if_in_error(r, &actor, RecordKind::Visit, &id)?;
        self.added.visits += 1;
        Ok(())
    }

    fn review_request(&mut self, e: &Entry) -> Taken {
        let r = &e.resource;
        if !codings(&r["code"]).any(|(s, c)| s == SERVICE_SYSTEM && c == CASE_REVIEW_SERVICE) {
            self.skip("ServiceRequest (not a case review request)".into());
            return Ok(());
        }
        let mrn = self.subject(&r["subject"])?;
        let date = date_of(&r["authoredOn"]).ok_or("has no authoredOn")?;
        let by = self.member(&r["requester"])?;
        let reason = r["reasonCode"].as_array().and_then(|c| c.first()).map(|c| text(&c["text"])).unwrap_or_default();
        let patient = patients::find_by_mrn(self.conn, &mrn).map_err(|e| e.to_string())?;
        let sql = "SELECT COUNT(*) FROM review_requests r JOIN team_members t ON t.id = r.requested_by
                   WHERE r.patient_id = ?1 AND r.date = ?2 AND t.name = ?3 AND r.reason = ?4";
        let in_registry = count(self.conn, sql, (&patient.id, date.to_string(), &by, reason.trim())).map_err(|e| e.to_string())?;
        if self.seen.already_there(("request", &patient.id, date, &by, reason.trim()), in_registry) {
            self.present.review_requests += 1;
            return Ok(());
        }
        let new = NewReviewRequest { date: Some(date.to_string()), by, reason };
        let actor = self.actor_for(e);
        let id = reviews::insert_request(self.conn, &actor, &mrn, &new).map_err(|e| e.to_string())?;
        self.void_if_in_error(r, &actor, RecordKind::Flag, &id)?;
        self.added.review_requests += 1;
        Ok(())
    }

    fn case_review(&mut self, e: &Entry) -> Taken {
        let r = &e.resource;
        if !codings(&r["type"]).any(|(_, c)| c == loinc::CONSULT_NOTE) {
            self.skip("DocumentReference (not a consult note)".into());
            return Ok(());
        }
        let mrn = self.subject(&r["subject"])?;
        let date = date_of(&r["context"]["period"]["start"]).or_else(|| date_of(&r["date"])).ok_or("has no date")?;
        let author = r["author"].as_array().and_then(|a| a.first()).ok_or("has no author (the consultant)")?;
        let by = self.member(author)?;
        let patient = patients::find_by_mrn(self.conn, &mrn).map_err(|e| e.to_string())?;
        let sql = "SELECT COUNT(*) FROM case_reviews c JOIN team_members t ON t.id = c.consultant_id
                   WHERE c.patient_id = ?1 AND c.date = ?2 AND t.name = ?3";
        let in_registry = count(self.conn, sql, (&patient.id, date.to_string(), &by)).map_err(|e| e.to_string())?;
        if self.seen.already_there(("review", &patient.id, date, &by), in_registry) {
            self.present.case_reviews += 1;
            return Ok(());
        }
        let rec = recommendations(r);
        let new = NewCaseReview {
            date: date.to_string(),
            by,
            medication: rec.medication,
            psychotherapy: rec.psychotherapy,
            referral: rec.referral,
            other: rec.other,
            note: rec.note,
        };
        let actor = self.actor_for(e);
        let id = reviews::insert_review(self.conn, &actor, &mrn, &new).map_err(|e| e.to_string())?;
        self.void_if_in_error(r, &actor, RecordKind::Review, &id)?;
        self.added.case_reviews += 1;
        Ok(())
    }
}

impl Importer<'_> {
    /// A treatment change, as this registry exports it: a MedicationStatement carrying the
    /// registry's kind, or a Procedure coded with it. An EHR's medication list and procedures
    /// are not treatment changes, and are skipped.
    fn treatment_change(&mut self, e: &Entry) -> Taken {
        let r = &e.resource;
        let kind = match e.kind() {
            "MedicationStatement" => extension(r, EXT_TREATMENT_CHANGE).map(|x| text(&x["valueCoding"]["code"])),
            _ => codings(&r["code"]).find(|(s, _)| s == TREATMENT_CHANGE_SYSTEM).map(|(_, c)| c),
        };
        let Some(kind) = kind else {
            self.skip(format!("{} (not a treatment change)", e.kind()));
            return Ok(());
        };
        let mrn = self.subject(&r["subject"])?;
        let date = date_of(&r["effectiveDateTime"]).or_else(|| date_of(&r["performedDateTime"])).ok_or("has no date")?;
        let description =
            if e.kind() == "MedicationStatement" { text(&r["medicationCodeableConcept"]["text"]) } else { text(&r["code"]["text"]) };
        let patient = patients::find_by_mrn(self.conn, &mrn).map_err(|e| e.to_string())?;
        let sql = "SELECT COUNT(*) FROM treatment_changes WHERE patient_id = ?1 AND date = ?2 AND kind = ?3 AND description = ?4";
        let in_registry = count(self.conn, sql, (&patient.id, date.to_string(), &kind, description.trim())).map_err(|e| e.to_string())?;
        if self.seen.already_there(("treatment", &patient.id, date, &kind, description.trim()), in_registry) {
            self.present.treatment_changes += 1;
            return Ok(());
        }
        let actor = self.actor_for(e);
        let new = NewTreatmentChange { date: date.to_string(), kind, description };
        let id = treatment::insert(self.conn, &actor, &mrn, &new).map_err(|e| e.to_string())?;
        self.void_if_in_error(r, &actor, RecordKind::TreatmentChange, &id)?;
        self.added.treatment_changes += 1;
        Ok(())
    }
}

/// NPI, credential, CoCM FTE in hundredths.
type PractitionerDetails = (Option<String>, Option<team::Credential>, Option<i64>);

/// A Practitioner's NPI, credential and CoCM FTE, each checked as `cocm team edit` checks it.
fn practitioner_details(r: &Value) -> std::result::Result<PractitionerDetails, String> {
    let npi = r["identifier"]
        .as_array()
        .and_then(|ids| ids.iter().find(|i| i["system"] == NPI_SYSTEM))
        .map(|i| team::check_npi("npi", &text(&i["value"])))
        .transpose()
        .map_err(|e| e.to_string())?;
    let credential = r["qualification"]
        .as_array()
        .and_then(|q| q.iter().find_map(|q| q["code"]["coding"].as_array()?.iter().find(|c| c["system"] == CREDENTIAL_SYSTEM)))
        .map(|c| team::Credential::parse("credential", &text(&c["code"])))
        .transpose()
        .map_err(|e| e.to_string())?;
    let fte = extension(r, EXT_COCM_FTE)
        .and_then(|v| v["valueDecimal"].as_f64())
        .map(|f| team::check_fte("cocm-fte", f))
        .transpose()
        .map_err(|e| e.to_string())?;
    Ok((npi, credential, fte))
}
