//! An episode's diagnoses (spec §7a): ICD-10-CM codes of chapter 5 (F01–F99), the first
//! recorded being primary. A claim needs at least one. The code list is data: the FY2026
//! table `icd10cm-chapter5.tsv` (CDC/NCHS, public domain), written by
//! `scripts/icd10-chapter5.py`; a new fiscal year is a new table, not a code change.

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use crate::access::Action;
use crate::dates::{self, Date};
use crate::store::new_id;
use crate::voids::{self, EnteredInError};
use crate::{Error, Registry, Result, audit, episodes, patients};

/// The shipped table: `code<TAB>description`, `#` lines naming the release.
const CHAPTER_5: &str = include_str!("icd10cm-chapter5.tsv");

/// What the table says it is, for the picker and the docs.
pub fn release() -> &'static str {
    CHAPTER_5.lines().next().unwrap_or_default().trim_start_matches("# ")
}

/// Every billable chapter 5 code, in code order.
static CODES: LazyLock<BTreeMap<&'static str, &'static str>> =
    LazyLock::new(|| CHAPTER_5.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split_once('\t')).collect());

/// A code as the picker lists it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct DiagnosisCode {
    pub code: String,
    pub description: String,
}

/// "f331", " F33.1 " → "F33.1": the dot goes after the category's three characters.
fn normalize(code: &str) -> String {
    let code: String = code.trim().to_uppercase().chars().filter(|c| *c != '.').collect();
    if code.len() > 3 { format!("{}.{}", &code[..3], &code[3..]) } else { code }
}

/// The billable chapter 5 code `code` names, or a validation error on `field` saying why not.
pub fn check_code(field: &str, code: &str) -> Result<DiagnosisCode> {
    let code = normalize(code);
    if let Some(description) = CODES.get(code.as_str()) {
        return Ok(DiagnosisCode { code, description: description.to_string() });
    }
    let refusal = if code.is_empty() {
        "give an ICD-10-CM code such as F33.1".to_string()
    } else if !code.starts_with('F') {
        format!("{code} is not a mental or behavioral code: collaborative care takes ICD-10-CM chapter 5 (F01–F99)")
    } else if CODES.keys().any(|c| c.starts_with(&code) && c.len() > code.len()) {
        let more: Vec<&str> = CODES.keys().filter(|c| c.starts_with(&code)).take(4).copied().collect();
        format!("{code} is a category, not a billable code; choose one under it, e.g. {}", more.join(", "))
    } else {
        format!("{code} is not an ICD-10-CM code of chapter 5 (F01–F99) in FY2026")
    };
    Err(Error::validation(field, refusal))
}

/// Codes whose code starts with, or whose description holds every word of, `query`: the
/// enrolment picker's list (at most `limit`).
pub fn search(query: &str, limit: usize) -> Vec<DiagnosisCode> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let code = normalize(query);
    CODES
        .iter()
        .filter(|(c, d)| !words.is_empty() && (c.starts_with(&code) || words.iter().all(|w| d.to_lowercase().contains(w.as_str()))))
        .take(limit)
        .map(|(c, d)| DiagnosisCode { code: c.to_string(), description: d.to_string() })
        .collect()
}

/// One diagnosis recorded on an episode.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct Diagnosis {
    /// What `cocm void diagnosis ID` takes.
    pub id: String,
    pub episode_id: String,
    pub code: String,
    pub description: String,
    pub date: Date,
    pub entered_in_error: Option<EnteredInError>,
}

/// Every diagnosis by episode, in the order recorded (the first valid one is primary):
/// billing and claims read them once.
pub(crate) fn by_episode(conn: &Connection, patient_id: Option<&str>) -> Result<HashMap<String, Vec<Diagnosis>>> {
    let filter = if patient_id.is_some() { "WHERE e.patient_id = ?1" } else { "" };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT d.id, d.episode_id, d.code, d.date, d.voided_at, d.voided_by, d.void_reason
         FROM episode_diagnoses d JOIN episodes e ON e.id = d.episode_id {filter} ORDER BY d.rowid"
    ))?;
    let params: Vec<&dyn rusqlite::ToSql> = patient_id.iter().map(|p| p as &dyn rusqlite::ToSql).collect();
    let mut out: HashMap<String, Vec<Diagnosis>> = HashMap::new();
    let rows = stmt.query_map(params.as_slice(), |r| {
        let (code, date): (String, String) = (r.get(2)?, r.get(3)?);
        Ok(Diagnosis {
            id: r.get(0)?,
            episode_id: r.get(1)?,
            description: CODES.get(code.as_str()).map_or_else(|| "(not in this year's table)".to_string(), |d| d.to_string()),
            code,
            date: dates::parse_iso(&date).unwrap_or_default(),
            entered_in_error: voids::from_columns(r.get(4)?, r.get(5)?, r.get(6)?),
        })
    })?;
    for d in rows {
        let d = d?;
        out.entry(d.episode_id.clone()).or_default().push(d);
    }
    Ok(out)
}

/// Records `codes` on `episode_id` dated `date`; a code already on the episode is a conflict.
/// Each is audited on its own.
pub(crate) fn insert(
    conn: &Connection,
    actor: &audit::Actor,
    episode_id: &str,
    codes: &[DiagnosisCode],
    date: Date,
) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for c in codes {
        let already: Option<String> = conn
            .query_row(
                "SELECT id FROM episode_diagnoses WHERE episode_id = ?1 AND code = ?2 AND voided_at IS NULL",
                (episode_id, &c.code),
                |r| r.get(0),
            )
            .optional()?;
        if already.is_some() {
            return Err(Error::Conflict(format!("code: {} is already recorded on this episode", c.code)));
        }
        let id = new_id();
        conn.prepare_cached("INSERT INTO episode_diagnoses (id, episode_id, code, date, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute((&id, episode_id, &c.code, date.to_string(), audit::now()))?;
        let detail = serde_json::json!({ "episode_id": episode_id, "code": c.code, "date": date.to_string() });
        audit::record(conn, actor, "create", "diagnosis", Some(&id), detail)?;
        ids.push(id);
    }
    Ok(ids)
}

/// "F33.1,F41.1" (commas or spaces) → checked codes, none twice; a bad one names `field`.
pub(crate) fn parse_codes(field: &str, text: &str) -> Result<Vec<DiagnosisCode>> {
    let mut codes: Vec<DiagnosisCode> = Vec::new();
    for part in text.split([',', ' ', ';']).filter(|p| !p.trim().is_empty()) {
        let code = check_code(field, part)?;
        if codes.iter().any(|c| c.code == code.code) {
            return Err(Error::validation(field, format!("{} is given twice", code.code)));
        }
        codes.push(code);
    }
    Ok(codes)
}

impl Registry {
    /// Records a diagnosis on the patient's open episode, dated `date` (today when left out).
    pub fn add_diagnosis(&mut self, mrn: &str, code: &str, date: Option<&str>) -> Result<String> {
        let code = check_code("code", code)?;
        self.write(Action::RecordDiagnosis, |tx, actor| {
            let patient = patients::find_by_mrn(tx, mrn)?;
            let date = match date.map(str::trim).filter(|d| !d.is_empty()) {
                Some(d) => patients::clinical_date("date", d, &patient)?,
                None => dates::today(),
            };
            let episode = episodes::open_episode(tx, &patient)?
                .ok_or_else(|| Error::validation("mrn", "the patient has no open episode; enrol them first"))?;
            if date < episode.start_date {
                return Err(Error::validation("date", format!("{date} is before the episode's start ({})", episode.start_date)));
            }
            Ok(insert(tx, actor, &episode.id, &[code], date)?.remove(0))
        })
    }

    /// The patient's diagnoses, every episode's, oldest episode first.
    pub fn diagnoses(&self, mrn: &str) -> Result<Vec<Diagnosis>> {
        let patient = patients::find_by_mrn(&self.conn, mrn)?;
        let mut by = by_episode(&self.conn, Some(&patient.id))?;
        let episodes = episodes::for_patient(&self.conn, &patient.id)?;
        Ok(episodes.iter().flat_map(|e| by.remove(&e.id).unwrap_or_default()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chapter_5_codes_are_checked_against_the_fy2026_table() {
        // The examples: F33.1, F41.1 and F43.10 are billable chapter 5 codes.
        for (given, code) in [("F33.1", "F33.1"), ("f41.1", "F41.1"), (" F4310 ", "F43.10"), ("F99", "F99")] {
            assert_eq!(check_code("code", given).unwrap().code, code, "{given}");
        }
        assert_eq!(check_code("code", "F33.1").unwrap().description, "Major depressive disorder, recurrent, moderate");
        // F33.7 does not exist; Z00.00 is chapter 21; F33 is a category (F33.0–F33.9 under it).
        let refusal = |c: &str| check_code("code", c).unwrap_err().to_string();
        assert!(refusal("F33.7").starts_with("code: F33.7 is not an ICD-10-CM code of chapter 5"), "{}", refusal("F33.7"));
        assert!(refusal("Z00.00").contains("chapter 5 (F01–F99)"), "{}", refusal("Z00.00"));
        assert!(refusal("F33").contains("is a category") && refusal("F33").contains("F33.0"), "{}", refusal("F33"));
        assert!(refusal("").starts_with("code: give an ICD-10-CM code"));
        assert!(release().contains("FY2026"));
        // The table: chapter 5 only, every code once, hundreds of them.
        assert!(CODES.len() > 800 && CODES.keys().all(|c| c.starts_with('F')), "{}", CODES.len());
    }

    #[test]
    fn the_picker_finds_codes_by_prefix_or_words() {
        let codes = |q: &str| search(q, 50).into_iter().map(|d| d.code).collect::<Vec<_>>();
        assert_eq!(codes("F33.4"), ["F33.40", "F33.41", "F33.42"]);
        assert!(codes("generalized anxiety").contains(&"F41.1".to_string()));
        assert!(codes("recurrent moderate").contains(&"F33.1".to_string()));
        assert!(codes("").is_empty() && codes("zzzz").is_empty());
        assert_eq!(search("disorder", 5).len(), 5, "at most the limit");
    }

    #[test]
    fn a_list_of_codes_is_parsed_once_each() {
        let codes: Vec<String> = parse_codes("diagnosis", "F33.1, f41.1").unwrap().into_iter().map(|c| c.code).collect();
        assert_eq!(codes, ["F33.1", "F41.1"]);
        assert!(parse_codes("diagnosis", "F33.1,F33.1").unwrap_err().to_string().contains("given twice"));
        assert!(parse_codes("diagnosis", "F33.1,Z00.00").unwrap_err().to_string().starts_with("diagnosis: Z00.00"));
    }
}
