//! How a file's columns map onto the registry's fields, per row shape, and a first guess at it
//! from the file's headers (the user confirms it, and may keep it as a JSON file).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::table::{Cells, Table};
use crate::instruments::Instrument;
use crate::vocab::string_enum;
use crate::{Error, Result};

string_enum!(
    /// The row shapes a practice's files have: one row per patient (demographics, care team,
    /// and optionally enrolment and consent), per PHQ-9 or GAD-7 (the total, or every item),
    /// per care-manager contact, or `wide`: one row per patient with repeated date / PHQ-9 /
    /// GAD-7 column groups, as tracking spreadsheets have (the scores are totals). An EHR's
    /// extract for §9: `visit`, one row per visit of any practice patient (with the depression
    /// screen given at it, if any), and `screening`, one row per PHQ-2, PHQ-9 or PHQ-A; both add
    /// a patient the registry does not have yet when the row has the name and date of birth.
    ImportShape {
        Patients => "patients",
        Assessments => "assessments",
        Contacts => "contacts",
        Wide => "wide",
        Visit => "visit",
        Screening => "screening",
    }
);

/// A file's mapping: which column holds each registry field. Saved as JSON
/// (`seeds/import/*.mapping.json` are examples).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Mapping {
    pub shape: ImportShape,
    /// Registry field → the file's column header (compared without case).
    pub columns: BTreeMap<String, String>,
    /// Wide layout only: each repeated group, field (`date`, `phq9`, `gad7`) → column header.
    #[serde(default)]
    pub groups: Vec<BTreeMap<String, String>>,
    /// How dates written with slashes read: `mdy` (03/11/2025 is March 11, the default) or `dmy`.
    #[serde(default)]
    pub date_order: Option<String>,
    /// A workbook's sheet to read (the first when none); not used for CSV.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
}

/// The fields of each shape, required ones first, with the header spellings a guess accepts.
pub fn fields(shape: ImportShape) -> &'static [Field] {
    match shape {
        ImportShape::Patients => PATIENT_FIELDS,
        ImportShape::Assessments => assessment_fields(),
        ImportShape::Contacts => CONTACT_FIELDS,
        ImportShape::Wide => WIDE_FIELDS,
        ImportShape::Visit => visit_fields(),
        ImportShape::Screening => screening_fields(),
    }
}

/// One registry field a column can fill.
pub struct Field {
    pub name: &'static str,
    pub required: bool,
    /// Header spellings that suggest this field, lower case, no punctuation.
    pub guesses: &'static [&'static str],
}

const fn f(name: &'static str, required: bool, guesses: &'static [&'static str]) -> Field {
    Field { name, required, guesses }
}

const MRN: Field = f("mrn", true, &["mrn", "medical record number", "record number", "patient id", "chart number"]);
const PATIENT_FIELDS: &[Field] = &[
    MRN,
    f("name", true, &["name", "patient name", "patient", "full name"]),
    f("dob", true, &["dob", "date of birth", "birth date", "birthdate"]),
    f("payer", false, &["payer", "insurance", "insurer", "coverage"]),
    f("care_manager", false, &["care manager", "cm", "bhcm", "behavioral health care manager"]),
    f("pcp", false, &["pcp", "primary care provider", "primary care physician", "provider"]),
    f("consultant", false, &["consultant", "psychiatric consultant", "psychiatrist"]),
    f("enrolled", false, &["enrolled", "enrollment date", "enrolment date", "date enrolled", "initial assessment date", "start date"]),
    f("consent", false, &["consent", "consent date", "date of consent"]),
    f("targets", false, &["targets", "target", "diagnosis", "condition"]),
];
/// An assessments file's fields: `item1` … as many items as the catalogue's longest form has
/// (the SCARED's 41). Built once; the item names live for the program, like the consts.
fn assessment_fields() -> &'static [Field] {
    static FIELDS: std::sync::OnceLock<Vec<Field>> = std::sync::OnceLock::new();
    FIELDS.get_or_init(|| {
        let most = Instrument::all().map(|i| i.items().len()).max().unwrap_or(9);
        let mut fields = vec![
            MRN,
            f("date", true, &["date", "assessment date", "score date", "date of assessment"]),
            f("instrument", true, &["instrument", "measure", "tool", "questionnaire"]),
            f("total", false, &["total", "score", "total score"]),
        ];
        fields.extend(item_fields(most));
        fields.push(f("difficulty", false, &["difficulty", "functional difficulty"]));
        fields
    })
}

/// `item1` … `itemN` with the header spellings a guess accepts, for N items.
fn item_fields(n: usize) -> Vec<Field> {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    (1..=n)
        .map(|n| {
            let guesses: &'static [&'static str] =
                Box::leak(vec![leak(format!("item {n}")), leak(format!("item{n}")), leak(format!("q{n}"))].into_boxed_slice());
            Field { name: leak(format!("item{n}")), required: false, guesses }
        })
        .collect()
}

const NAME: Field = f("name", false, &["name", "patient name", "patient", "full name"]);
const DOB: Field = f("dob", false, &["dob", "date of birth", "birth date", "birthdate"]);
const SCREEN_INSTRUMENT: &[&str] = &["instrument", "screen", "screening", "screening tool", "questionnaire"];
const SCREEN_TOTAL: &[&str] = &["total", "score", "screen score", "screening score", "total score"];

/// The longest depression screen's items (the PHQ-9's and PHQ-A's nine).
fn screen_items() -> usize {
    crate::assessments::SCREENING_FORMS.iter().filter_map(|id| Instrument::by_id(id)).map(|i| i.items().len()).max().unwrap_or(9)
}

/// A visit row: the patient (added when new, with name and date of birth), the visit, and
/// optionally the screen given at it.
fn visit_fields() -> &'static [Field] {
    static FIELDS: std::sync::OnceLock<Vec<Field>> = std::sync::OnceLock::new();
    FIELDS.get_or_init(|| {
        let mut fields = vec![
            MRN,
            f("date", true, &["date", "visit date", "date of service", "encounter date", "service date"]),
            f("codes", true, &["codes", "cpt", "cpt codes", "procedure codes", "billing codes", "cpt hcpcs"]),
            f("category", false, &["category", "visit type", "provider type", "department", "provider category"]),
            f("modality", false, &["modality", "telehealth", "visit mode", "place"]),
            f("instrument", false, SCREEN_INSTRUMENT),
            f("total", false, SCREEN_TOTAL),
            NAME,
            DOB,
        ];
        fields.extend(item_fields(screen_items()));
        fields
    })
}

/// A screening row: a PHQ-2, PHQ-9 or PHQ-A of any patient (added when new).
fn screening_fields() -> &'static [Field] {
    static FIELDS: std::sync::OnceLock<Vec<Field>> = std::sync::OnceLock::new();
    FIELDS.get_or_init(|| {
        let mut fields = vec![
            MRN,
            f("date", true, &["date", "screening date", "screen date", "date of screening", "visit date"]),
            f("instrument", true, SCREEN_INSTRUMENT),
            f("total", false, SCREEN_TOTAL),
            NAME,
            DOB,
        ];
        fields.extend(item_fields(screen_items()));
        fields.push(f("difficulty", false, &["difficulty", "functional difficulty"]));
        fields
    })
}

/// The catalogue form a file's instrument cell or column header names, by id or label,
/// ignoring case and punctuation: "PHQ-9", "phq9", "PCL-5", "SMFQ-P", "phq a".
pub(crate) fn instrument_named(text: &str) -> Option<Instrument> {
    let plain = |s: &str| s.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
    let wanted = plain(text);
    Instrument::all().find(|i| plain(i.as_str()) == wanted || plain(i.label()) == wanted)
}
const CONTACT_FIELDS: &[Field] = &[
    MRN,
    f("date", true, &["date", "contact date", "date of contact"]),
    f("minutes", true, &["minutes", "mins", "duration", "time spent"]),
    f("by", true, &["by", "care manager", "staff", "author", "provider"]),
    f("kind", false, &["kind", "contact type", "type"]),
    f("mode", false, &["mode", "contact mode", "method"]),
    f("note", false, &["note", "notes", "comment", "comments"]),
];
const WIDE_FIELDS: &[Field] = &[
    MRN,
    f("name", false, &["name", "patient name", "patient", "full name"]),
    f("dob", false, &["dob", "date of birth", "birth date", "birthdate"]),
    f("payer", false, &["payer", "insurance", "insurer", "coverage"]),
    f("care_manager", false, &["care manager", "cm", "bhcm"]),
    f("enrolled", false, &["enrolled", "enrollment date", "enrolment date", "date enrolled", "initial assessment date", "start date"]),
    f("consent", false, &["consent", "consent date"]),
    f("targets", false, &["targets", "target", "diagnosis"]),
];

/// A header reduced for comparison: lower case, letters and digits, single spaces.
fn normal(header: &str) -> String {
    let spaced: String = header.chars().map(|c| if c.is_alphanumeric() { c.to_ascii_lowercase() } else { ' ' }).collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Mapping {
    /// A first guess from the file's headers; the user reviews it before importing.
    pub fn guess(shape: ImportShape, table: &Table) -> Mapping {
        let headers: Vec<String> = table.headers.iter().map(|h| normal(h)).collect();
        let mut columns = BTreeMap::new();
        for field in fields(shape) {
            if let Some(i) = headers.iter().position(|h| field.guesses.contains(&h.as_str())) {
                columns.insert(field.name.to_string(), table.headers[i].clone());
            }
        }
        let groups = if shape == ImportShape::Wide { guess_groups(table) } else { Vec::new() };
        Mapping { shape, columns, groups, date_order: None, sheet: table.sheet.clone() }
    }

    /// The column index of each mapped field, checking that every required field is mapped to a
    /// column the file has, and that no unknown field is named.
    pub(crate) fn resolve(&self, file: &str, table: &Table) -> Result<Resolved> {
        let known = fields(self.shape);
        let mut at = BTreeMap::new();
        for (field, header) in &self.columns {
            if !known.iter().any(|f| f.name == field) {
                let names: Vec<&str> = known.iter().map(|f| f.name).collect();
                return Err(Error::validation(
                    "mapping",
                    format!("{field} is not a field of a {} file (its fields: {})", self.shape, names.join(", ")),
                ));
            }
            if header.trim().is_empty() {
                continue;
            }
            let i = table.column(header).ok_or_else(|| {
                Error::validation(
                    "mapping",
                    format!("{file} has no column \"{header}\" (mapped to {field}); its columns: {}", table.headers.join(", ")),
                )
            })?;
            at.insert(field.clone(), (i, table.headers[i].clone()));
        }
        for field in known.iter().filter(|f| f.required) {
            if !at.contains_key(field.name) {
                return Err(Error::validation("mapping", format!("{file}: the required column for {} is not mapped", field.name)));
            }
        }
        if matches!(self.shape, ImportShape::Assessments | ImportShape::Screening) && !at.contains_key("total") && !at.contains_key("item1")
        {
            return Err(Error::validation("mapping", format!("{file}: map either the total or the items (item1…) of each assessment")));
        }
        if self.shape == ImportShape::Visit && at.contains_key("instrument") != (at.contains_key("total") || at.contains_key("item1")) {
            return Err(Error::validation(
                "mapping",
                format!("{file}: a visit's screen needs its instrument and its total or items (item1…)"),
            ));
        }
        let mut groups = Vec::new();
        for (n, group) in self.groups.iter().enumerate() {
            let mut g = BTreeMap::new();
            for (field, header) in group {
                if field != "date" && Instrument::by_id(field).is_none() {
                    return Err(Error::validation(
                        "mapping",
                        format!("group {}: {field} is not date or an instrument id (phq9, gad7, pcl5, …)", n + 1),
                    ));
                }
                let i = table
                    .column(header)
                    .ok_or_else(|| Error::validation("mapping", format!("{file} has no column \"{header}\" (group {}, {field})", n + 1)))?;
                g.insert(field.clone(), (i, table.headers[i].clone()));
            }
            if !g.contains_key("date") {
                return Err(Error::validation("mapping", format!("group {}: the date column is not mapped", n + 1)));
            }
            groups.push(g);
        }
        if self.shape == ImportShape::Wide && groups.is_empty() {
            return Err(Error::validation("mapping", format!("{file}: a wide file needs at least one date / PHQ-9 / GAD-7 group")));
        }
        let day_first = match self.date_order.as_deref() {
            None | Some("mdy") => false,
            Some("dmy") => true,
            Some(other) => return Err(Error::validation("date_order", format!("\"{other}\" is not mdy or dmy"))),
        };
        Ok(Resolved { at, groups, day_first })
    }
}

/// A mapping checked against one file: column indexes and headers by field.
pub(crate) struct Resolved {
    pub at: BTreeMap<String, (usize, String)>,
    pub groups: Vec<BTreeMap<String, (usize, String)>>,
    pub day_first: bool,
}

impl Resolved {
    /// A row's cell for a field; `None` when unmapped or blank.
    pub fn cell<'r>(&self, row: &'r Cells, field: &str) -> Option<&'r str> {
        self.at.get(field).and_then(|(i, _)| row.get(*i)).filter(|c| !c.is_empty())
    }

    /// The file's header for a field (what a problem names), else the field.
    pub fn header(&self, field: &str) -> String {
        self.at.get(field).map_or_else(|| field.to_string(), |(_, h)| h.clone())
    }
}

/// Repeated groups in a wide file: headers ending in the same number (`Date 1`, `PHQ-9 1`,
/// `GAD-7 1`, or `PHQ9_2`…), each with a date column.
fn guess_groups(table: &Table) -> Vec<BTreeMap<String, String>> {
    let mut by_number: BTreeMap<u32, BTreeMap<String, String>> = BTreeMap::new();
    for header in &table.headers {
        let n = normal(header);
        let Some((stem, number)) = n.rsplit_once(' ') else { continue };
        let Ok(number) = number.parse::<u32>() else { continue };
        let stem = stem.replace(' ', "");
        let field = match stem.as_str() {
            "date" | "visitdate" | "assessmentdate" => "date",
            "phq" => "phq9",
            "gad" => "gad7",
            s => match instrument_named(s.strip_suffix("score").unwrap_or(s)) {
                Some(i) => i.as_str(),
                None => continue,
            },
        };
        by_number.entry(number).or_default().insert(field.to_string(), header.clone());
    }
    by_number.into_values().filter(|g| g.contains_key("date") && g.len() > 1).collect()
}
