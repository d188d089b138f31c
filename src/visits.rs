//! The practice's visits (spec §9): date, provider category, billed codes and modality, for
//! any patient, enrolled or not. They tell the NYS report's depression screening rate who had
//! a qualifying medical visit in a month. One entered in error stops counting, like every
//! record. They come typed (`cocm visit add`) or in an EHR
//! extract: CSV rows of the `visit` shape, or FHIR Encounters with CPT codes.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::access::Action;
use crate::audit::Actor;
use crate::dates::{self, Date};
use crate::store::new_id;
use crate::vocab::string_enum;
use crate::voids::{self, EnteredInError};
use crate::{Error, Registry, Result, audit, patients};

string_enum!(
    /// Who the visit was with.
    VisitCategory {
        PrimaryCare => "primary-care",
        BehavioralHealth => "behavioral-health",
        NursingOnly => "nursing-only",
        Other => "other",
    }
);

string_enum!(
    VisitModality {
        InPerson => "in-person",
        Telehealth => "telehealth",
    }
);

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct Visit {
    pub id: String,
    pub date: Date,
    pub category: VisitCategory,
    pub codes: Vec<String>,
    pub modality: VisitModality,
    pub entered_in_error: Option<EnteredInError>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct NewVisit {
    pub date: String,
    pub category: String,
    /// CPT/HCPCS codes, comma separated.
    pub codes: String,
    /// `in-person` when left out.
    pub modality: Option<String>,
}

/// A medical visit for metric 9 (§9): an E&M office visit 99202–99215, a preventive visit
/// 99381–99397 or an annual wellness visit G0438/G0439, in person or by telehealth; not a
/// nurse-only or behavioral-health visit (and a lab or vaccine visit has none of these codes).
pub fn qualifies_for_screening<C: AsRef<str>>(category: VisitCategory, codes: impl IntoIterator<Item = C>) -> bool {
    let medical = |code: &str| match code.parse::<u32>() {
        Ok(n) => (99202..=99215).contains(&n) || (99381..=99397).contains(&n),
        Err(_) => code == "G0438" || code == "G0439",
    };
    matches!(category, VisitCategory::PrimaryCare | VisitCategory::Other) && codes.into_iter().any(|c| medical(c.as_ref()))
}

/// "99213, g0439" → ["99213", "G0439"]; each a five-character CPT or HCPCS code.
fn parse_codes(text: &str) -> Result<Vec<String>> {
    let codes: Vec<String> = text.split([',', ' ']).map(str::trim).filter(|c| !c.is_empty()).map(str::to_uppercase).collect();
    if codes.is_empty() {
        return Err(Error::validation("codes", "give the visit's CPT or HCPCS codes, e.g. 99213"));
    }
    if let Some(bad) = codes.iter().find(|c| c.len() != 5 || !c.chars().all(|ch| ch.is_ascii_alphanumeric())) {
        return Err(Error::validation("codes", format!("{bad} is not a CPT or HCPCS code (five letters or digits, e.g. 99213)")));
    }
    Ok(codes)
}

/// Stores a visit of a patient already found, checked, with its audit row: typed, or one row
/// of an import (CSV `visit` rows, FHIR Encounters with CPT codes).
pub(crate) fn insert(conn: &Connection, actor: &Actor, patient: &patients::PatientRow, v: &NewVisit) -> Result<String> {
    let category = VisitCategory::parse("category", v.category.trim())?;
    let modality = VisitModality::parse("modality", v.modality.as_deref().unwrap_or("in-person").trim())?;
    let codes = parse_codes(&v.codes)?;
    let date = patients::clinical_date("date", &v.date, patient)?;
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO visits (id, patient_id, date, category, codes, modality, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute((&id, &patient.id, date.to_string(), category.as_str(), codes.join(","), modality.as_str(), audit::now()))?;
    let detail =
        serde_json::json!({ "mrn": patient.mrn, "date": date, "category": category, "codes": codes.join(","), "modality": modality });
    audit::record(conn, actor, "create", "visit", Some(&id), detail)?;
    Ok(id)
}

/// How many live visits the patient has on `date` with these codes: an import's re-run of the
/// same extract finds its visits there and adds nothing.
pub(crate) fn count_same(conn: &Connection, patient_id: &str, date: Date, codes: &str) -> Result<usize> {
    let codes = parse_codes(codes)?.join(",");
    let n: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM visits WHERE patient_id = ?1 AND date = ?2 AND codes = ?3 AND voided_at IS NULL")?
        .query_row((patient_id, date.to_string(), codes), |r| r.get(0))?;
    Ok(n as usize)
}

impl Registry {
    /// Records a visit for any practice patient.
    pub fn add_visit(&mut self, mrn: &str, v: &NewVisit) -> Result<String> {
        self.write(Action::EditPatient, |tx, actor| insert(tx, actor, &patients::find_by_mrn(tx, mrn)?, v))
    }

    /// The patient's visits, oldest first.
    pub fn visits(&self, mrn: &str) -> Result<Vec<Visit>> {
        for_patient(&self.conn, &patients::find_by_mrn(&self.conn, mrn)?.id)
    }
}

/// A patient's visits by their id, oldest first, those entered in error marked.
pub(crate) fn for_patient(conn: &Connection, patient_id: &str) -> Result<Vec<Visit>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, date, category, codes, modality, voided_at, voided_by, void_reason FROM visits WHERE patient_id = ?1 ORDER BY date, rowid",
    )?;
    let rows = stmt.query_map([patient_id], |r| {
        let (date, category, codes, modality): (String, String, String, String) = (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
        Ok(Visit {
            id: r.get(0)?,
            date: dates::parse_iso(&date).unwrap_or_default(),
            category: VisitCategory::parse("category", &category).unwrap_or(VisitCategory::Other),
            codes: codes.split(',').map(str::to_string).collect(),
            modality: VisitModality::parse("modality", &modality).unwrap_or(VisitModality::InPerson),
            entered_in_error: voids::from_columns(r.get(5)?, r.get(6)?, r.get(7)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_medical_visit_qualifies_and_a_nurse_or_behavioral_one_does_not() {
        let codes = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // E&M 99202–99215 (99201 was deleted in 2021; 99216 does not exist), preventive
        // 99381–99397, annual wellness G0438/G0439.
        for c in ["99202", "99213", "99215", "99381", "99397", "G0438", "G0439"] {
            assert!(qualifies_for_screening(VisitCategory::PrimaryCare, codes(&[c])), "{c}");
        }
        for c in ["99201", "99216", "99380", "99398", "90471", "36415", "G0440"] {
            assert!(!qualifies_for_screening(VisitCategory::PrimaryCare, codes(&[c])), "{c}");
        }
        assert!(!qualifies_for_screening(VisitCategory::NursingOnly, codes(&["99211"])));
        assert!(!qualifies_for_screening(VisitCategory::BehavioralHealth, codes(&["99213"])));
        // A lab draw with an office visit billed the same day qualifies by the visit.
        assert!(qualifies_for_screening(VisitCategory::Other, codes(&["36415", "99214"])));
        assert_eq!(parse_codes("99213, g0439").unwrap(), ["99213", "G0439"]);
        assert!(parse_codes("9921").unwrap_err().to_string().starts_with("codes: 9921 is not"));
        assert!(parse_codes(" ").is_err());
    }
}
