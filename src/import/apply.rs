//! Applying an import file's rows inside one transaction, through the same insert functions
//! (and so the same rules and audit rows) as typing them in. A record already in the registry is
//! matched and left alone, so importing a file twice adds nothing the second time (a patient by
//! MRN; an assessment by patient, date and instrument; a contact by patient, date, minutes and
//! author).

use rusqlite::{Connection, OptionalExtension};

use super::ImportCounts;
use super::mapping::{ImportShape, Resolved, instrument_named};
use super::table::Cells;
use crate::Error;
use crate::assessments::{self, NewAssessment};
use crate::audit::Actor;
use crate::contacts::{self, NewContact};
use crate::dates::{self, Date};
use crate::episodes::{self, Enrolment};
use crate::instruments::Instrument;
use crate::patients::{self, NewPatient};

/// One row's outcome: what it added and what was already there.
#[derive(Default)]
pub(crate) struct RowOutcome {
    pub added: ImportCounts,
    pub present: ImportCounts,
    /// Each record of the row as the registry stores it, for the preview.
    pub stored: Vec<String>,
}

/// A problem on one row, before the row and file are attached.
pub(crate) struct CellProblem {
    /// The registry field (`mrn`, `dob`, `group 2 date`…), named in the message by its column.
    pub field: String,
    pub message: String,
}

type RowResult = std::result::Result<RowOutcome, CellProblem>;

fn problem(field: &str, message: impl Into<String>) -> CellProblem {
    CellProblem { field: field.to_string(), message: message.into() }
}

/// A core error as a problem in the column of `field` (the core's field names are its own).
fn from_core(field: &str, e: Error) -> CellProblem {
    match e {
        Error::Validation { message, .. } => problem(field, message),
        Error::Conflict(m) | Error::NotFound(m) => problem(field, m.trim_start_matches("mrn: ").to_string()),
        other => problem(field, other.to_string()),
    }
}

/// What every row of an import shares, read once rather than once a row.
pub(crate) struct Shared {
    /// The baseline lookback (spec §4): how long before an episode a score may be dated.
    pub lookback_days: i64,
    /// The records met so far, to tell a repeat in the file from one already in the registry.
    pub seen: super::Occurrences,
}

impl Shared {
    pub(crate) fn read(conn: &Connection) -> crate::Result<Shared> {
        Ok(Shared { lookback_days: assessments::lookback_days(conn)?, seen: Default::default() })
    }
}

/// Applies one row of a file of `shape`.
pub(crate) fn row(conn: &Connection, actor: &Actor, shared: &mut Shared, shape: ImportShape, map: &Resolved, cells: &Cells) -> RowResult {
    match shape {
        ImportShape::Patients => patient_row(conn, actor, map, cells, true),
        ImportShape::Assessments => assessment_row(conn, actor, shared, map, cells),
        ImportShape::Contacts => contact_row(conn, actor, shared, map, cells),
        ImportShape::Wide => wide_row(conn, actor, shared, map, cells),
        ImportShape::Visit => visit_row(conn, actor, shared, map, cells),
        ImportShape::Screening => screening_row(conn, actor, shared, map, cells),
    }
}

/// A date as a file may write it: ISO `2025-11-03` (a time after it ignored, as spreadsheets
/// export), or with slashes in the mapping's order (`11/03/2025` month first by default).
pub(crate) fn parse_date(text: &str, day_first: bool) -> Option<Date> {
    let text = text.split([' ', 'T']).next().unwrap_or(text);
    if let Some(d) = dates::parse_iso(text) {
        return Some(d);
    }
    let parts: Vec<&str> = text.split(['/', '.', '-']).collect();
    let [a, b, year] = parts.as_slice() else { return None };
    let (a, b, year): (u32, u32, i32) = (a.parse().ok()?, b.parse().ok()?, year.parse().ok()?);
    if year.to_string().len() != 4 {
        return None;
    }
    let (month, day) = if day_first { (b, a) } else { (a, b) };
    Date::from_ymd_opt(year, month, day)
}

fn date_cell(map: &Resolved, cells: &Cells, field: &str) -> std::result::Result<Option<Date>, CellProblem> {
    let Some(text) = map.cell(cells, field) else { return Ok(None) };
    let order = if map.day_first { "DD/MM/YYYY" } else { "MM/DD/YYYY" };
    parse_date(text, map.day_first)
        .map(Some)
        .ok_or_else(|| problem(field, format!("\"{text}\" is not a date (write YYYY-MM-DD or {order})")))
}

fn required<'c>(map: &Resolved, cells: &'c Cells, field: &str) -> std::result::Result<&'c str, CellProblem> {
    map.cell(cells, field).ok_or_else(|| problem(field, "is empty"))
}

/// Lower case, spaces and underscores as hyphens: "Self Pay" → "self-pay".
fn vocab(text: &str) -> String {
    text.trim().to_lowercase().split([' ', '_']).filter(|s| !s.is_empty()).collect::<Vec<_>>().join("-")
}

/// The patient of a row: found by MRN (the date of birth, when the row has one, must agree),
/// or added (and counted) when the row has the demographics.
fn patient(
    conn: &Connection,
    actor: &Actor,
    map: &Resolved,
    cells: &Cells,
    out: &mut RowOutcome,
) -> std::result::Result<patients::PatientRow, CellProblem> {
    let mrn = required(map, cells, "mrn")?;
    let dob = date_cell(map, cells, "dob")?;
    let existing = patients::find_by_mrn(conn, mrn).map(Some).or_else(|e| if e.code() == "not_found" { Ok(None) } else { Err(e) });
    match existing.map_err(|e| from_core("mrn", e))? {
        Some(found) => {
            if let Some(dob) = dob.filter(|d| *d != found.dob) {
                return Err(problem("dob", format!("MRN {mrn} is already in the registry with date of birth {}, not {dob}", found.dob)));
            }
            Ok(found)
        }
        None => {
            // A file that maps demographics adds its patients; any other names existing ones.
            if !map.at.contains_key("name") && !map.at.contains_key("dob") {
                return Err(problem("mrn", format!("MRN {mrn} is not in the registry (import the patients file first)")));
            }
            let name = map.cell(cells, "name").ok_or_else(|| problem("name", format!("is empty (MRN {mrn} is a new patient)")))?;
            let dob = dob.ok_or_else(|| problem("dob", format!("is empty (MRN {mrn} is a new patient)")))?;
            let new = NewPatient {
                mrn: mrn.to_string(),
                name: name.to_string(),
                dob: dob.to_string(),
                payer: map.cell(cells, "payer").map(vocab),
                pcp: map.cell(cells, "pcp").map(String::from),
                care_manager: map.cell(cells, "care_manager").map(String::from),
                consultant: map.cell(cells, "consultant").map(String::from),
            };
            let team = [("care manager", &new.care_manager), ("PCP", &new.pcp), ("consultant", &new.consultant)];
            let team: String = team.iter().filter_map(|(role, m)| m.as_ref().map(|m| format!(", {role} {m}"))).collect();
            let payer = new.payer.as_deref().unwrap_or("other");
            out.stored.push(format!("new patient {} (MRN {mrn}), born {dob}, {payer}{team}", new.name));
            patients::insert(conn, actor, &new).map_err(|e| {
                let field = match &e {
                    Error::Validation { field, .. } => match field.as_str() {
                        "care-manager" => "care_manager",
                        "name" | "dob" | "payer" | "pcp" | "consultant" => field.as_str(),
                        _ => "mrn",
                    }
                    .to_string(),
                    _ => "mrn".to_string(),
                };
                from_core(&field, e)
            })?;
            out.added.patients += 1;
            patients::find_by_mrn(conn, mrn).map_err(|e| from_core("mrn", e))
        }
    }
}

fn patient_row(conn: &Connection, actor: &Actor, map: &Resolved, cells: &Cells, enrol: bool) -> RowResult {
    let mut out = RowOutcome::default();
    let p = patient(conn, actor, map, cells, &mut out)?;
    if out.added.patients == 0 {
        out.present.patients += 1;
        out.stored.push(format!("patient {} (MRN {}) already there", p.name, p.mrn));
    }
    let Some(start) = date_cell(map, cells, "enrolled")?.filter(|_| enrol) else {
        if map.cell(cells, "consent").is_some() {
            return Err(problem("consent", "a consent date needs the enrolment date on the same row"));
        }
        return Ok(out);
    };
    let consent = date_cell(map, cells, "consent")?;
    let same_start: Option<String> = conn
        .query_row(
            "SELECT id FROM episodes WHERE patient_id = ?1 AND start_date = ?2 AND voided_at IS NULL",
            (&p.id, start.to_string()),
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| from_core("enrolled", e.into()))?;
    if same_start.is_some() {
        out.present.episodes += 1;
        out.stored.push(format!("enrolment of {start} already there"));
        return Ok(out);
    }
    let enrolment = Enrolment {
        start: start.to_string(),
        consent: consent.map(|c| c.to_string()),
        targets: map.cell(cells, "targets").map(|t| vocab(t).replace("-and-", ",").replace("both", "depression,anxiety")),
        ..Default::default()
    };
    episodes::enroll(conn, actor, &p.mrn, &enrolment).map_err(|e| {
        let field = match &e {
            Error::Validation { field, .. } if field == "consent" || field == "targets" => field.clone(),
            _ => "enrolled".to_string(),
        };
        from_core(&field, e)
    })?;
    out.added.episodes += 1;
    let consent = consent.map_or_else(|| "no consent yet".to_string(), |c| format!("consent {c}"));
    let targets = enrolment.targets.as_deref().unwrap_or("depression").replace(',', " and ");
    out.stored.push(format!("enrolled {start}, {consent}, treating {targets}"));
    Ok(out)
}

/// A record row's patient (found, never added) and its required date.
fn patient_and_date(
    conn: &Connection,
    actor: &Actor,
    map: &Resolved,
    cells: &Cells,
) -> std::result::Result<(RowOutcome, patients::PatientRow, Date), CellProblem> {
    let mut out = RowOutcome::default();
    let p = patient(conn, actor, map, cells, &mut out)?;
    let date = date_cell(map, cells, "date")?.ok_or_else(|| problem("date", "is empty"))?;
    Ok((out, p, date))
}

fn instrument_cell(map: &Resolved, cells: &Cells) -> std::result::Result<Instrument, CellProblem> {
    let text = required(map, cells, "instrument")?;
    instrument_named(text)
        .ok_or_else(|| problem("instrument", format!("\"{text}\" is not an instrument of the catalogue (`cocm instruments` lists them)")))
}

fn assessment_row(conn: &Connection, actor: &Actor, shared: &mut Shared, map: &Resolved, cells: &Cells) -> RowResult {
    let (mut out, p, date) = patient_and_date(conn, actor, map, cells)?;
    let instrument = instrument_cell(map, cells)?;
    score(conn, actor, shared, map, cells, (&p, date, instrument), &mut out)?;
    Ok(out)
}

/// A depression screen (PHQ-2, PHQ-9, PHQ-A) of any patient, enrolled or not (§9).
fn screening_instrument(map: &Resolved, cells: &Cells) -> std::result::Result<Instrument, CellProblem> {
    let instrument = instrument_cell(map, cells)?;
    if !assessments::SCREENING_FORMS.contains(&instrument.as_str()) {
        return Err(problem("instrument", format!("a screening is a PHQ-2, PHQ-9 or PHQ-A, not the {}", instrument.label())));
    }
    Ok(instrument)
}

fn screening_row(conn: &Connection, actor: &Actor, shared: &mut Shared, map: &Resolved, cells: &Cells) -> RowResult {
    let (mut out, p, date) = patient_and_date(conn, actor, map, cells)?;
    let instrument = screening_instrument(map, cells)?;
    score(conn, actor, shared, map, cells, (&p, date, instrument), &mut out)?;
    Ok(out)
}

/// A visit of any practice patient, and the screen given at it when the row has one.
fn visit_row(conn: &Connection, actor: &Actor, shared: &mut Shared, map: &Resolved, cells: &Cells) -> RowResult {
    let (mut out, p, date) = patient_and_date(conn, actor, map, cells)?;
    let codes = required(map, cells, "codes")?;
    let category = map.cell(cells, "category").map_or_else(|| "other".to_string(), vocab);
    let modality = map.cell(cells, "modality").map(|m| match vocab(m).as_str() {
        "yes" | "true" | "virtual" | "video" | "telehealth" | "telemedicine" => "telehealth".to_string(),
        "no" | "false" | "office" | "in-person" | "in-office" => "in-person".to_string(),
        other => other.to_string(),
    });
    let in_registry = crate::visits::count_same(conn, &p.id, date, codes).map_err(|e| from_core("codes", e))?;
    if shared.seen.already_there(("visit", &p.id, date, codes.to_uppercase()), in_registry) {
        out.present.visits += 1;
        out.stored.push(format!("visit of {date} ({codes}) for MRN {} already there", p.mrn));
    } else {
        let new = crate::visits::NewVisit { date: date.to_string(), category: category.clone(), codes: codes.to_string(), modality };
        crate::visits::insert(conn, actor, &p, &new).map_err(|e| {
            let field = match &e {
                Error::Validation { field, .. } if ["codes", "category", "modality"].contains(&field.as_str()) => field.clone(),
                _ => "date".to_string(),
            };
            from_core(&field, e)
        })?;
        out.added.visits += 1;
        out.stored.push(format!("{category} visit on {date} for MRN {}: {}", p.mrn, codes.to_uppercase()));
    }
    if map.cell(cells, "instrument").is_some() {
        let instrument = screening_instrument(map, cells)?;
        score(conn, actor, shared, map, cells, (&p, date, instrument), &mut out)?;
    }
    Ok(out)
}

/// One score of a row: its items or total, stored unless the registry has it already.
fn score(
    conn: &Connection,
    actor: &Actor,
    shared: &mut Shared,
    map: &Resolved,
    cells: &Cells,
    (p, date, instrument): (&patients::PatientRow, Date, Instrument),
    out: &mut RowOutcome,
) -> std::result::Result<(), CellProblem> {
    let n = instrument.items().len();
    let items: Vec<Option<&str>> = (1..=n).map(|i| map.cell(cells, &format!("item{i}"))).collect();
    let total = map.cell(cells, "total");
    if items.iter().all(Option::is_none) && total.is_none() {
        return Err(problem("total", "is empty, and so are the items"));
    }
    if assessment_exists(conn, shared, &p.id, date, instrument)? {
        out.present.assessments += 1;
        out.stored.push(format!("{} on {date} for MRN {} already there", instrument.label(), p.mrn));
        return Ok(());
    }
    if items.iter().any(Option::is_some) {
        let mut answers = Vec::with_capacity(n);
        for (i, item) in items.iter().enumerate() {
            let field = format!("item{}", i + 1);
            let text = item.ok_or_else(|| problem(&field, "is empty (give every item, or the total alone)"))?;
            answers.push(text.parse::<i64>().map_err(|_| problem(&field, format!("\"{text}\" is not an answer from 0 to 3")))?);
        }
        let new = NewAssessment {
            date: date.to_string(),
            instrument: instrument.as_str().to_string(),
            answers,
            difficulty: map.cell(cells, "difficulty").map(vocab),
        };
        assessments::insert_for(conn, actor, p, shared.lookback_days, &new).map_err(|e| {
            let field = match &e {
                Error::Validation { field, .. } if field == "difficulty" => "difficulty",
                Error::Validation { field, .. } if field == "items" => "item1",
                _ => "date",
            };
            from_core(field, e)
        })?;
        let answers: Vec<String> = new.answers.iter().map(|a| a.to_string()).collect();
        let sum: i64 = new.answers.iter().sum();
        out.stored.push(format!("{} on {date} for MRN {}: {sum} (items {})", instrument.label(), p.mrn, answers.join(",")));
        // The total the file gives must be the items' sum, which is what the registry stores (spec §3).
        if let Some(total) = total.and_then(|t| t.parse::<i64>().ok()).filter(|t| *t != sum) {
            return Err(problem("total", format!("{total} is not the sum of the items ({sum})")));
        }
    } else {
        let text = total.unwrap_or_default();
        let total: i64 = text.parse().map_err(|_| problem("total", format!("\"{text}\" is not a whole number")))?;
        out.stored.push(format!("{} on {date} for MRN {}: {total} (imported, total only)", instrument.label(), p.mrn));
        assessments::insert_total_only(conn, actor, p, shared.lookback_days, date, instrument, total).map_err(|e| {
            let field = match &e {
                Error::Validation { field, .. } if field == "total" => "total",
                _ => "date",
            };
            from_core(field, e)
        })?;
    }
    out.added.assessments += 1;
    Ok(())
}

fn contact_row(conn: &Connection, actor: &Actor, shared: &mut Shared, map: &Resolved, cells: &Cells) -> RowResult {
    let (mut out, p, date) = patient_and_date(conn, actor, map, cells)?;
    let text = required(map, cells, "minutes")?;
    let minutes: i64 = text.parse().map_err(|_| problem("minutes", format!("\"{text}\" is not a whole number of minutes")))?;
    let by = required(map, cells, "by")?;
    let author = crate::team::find(conn, "by", by).map_err(|e| from_core("by", e))?;
    let sql = "SELECT COUNT(*) FROM contacts WHERE date = ?2 AND patient_id = ?1 AND author_id = ?3 AND minutes = ?4";
    let in_registry = super::count(conn, sql, (&p.id, date.to_string(), &author.id, minutes)).map_err(|e| problem("mrn", e.to_string()))?;
    if shared.seen.already_there(("contact", &p.id, date, &author.id, minutes), in_registry) {
        out.present.contacts += 1;
        out.stored.push(format!("contact of {date}, {minutes} min by {} for MRN {} already there", author.name, p.mrn));
        return Ok(out);
    }
    let new = NewContact {
        date: date.to_string(),
        minutes,
        by: author.id.clone(),
        kind: map.cell(cells, "kind").map(vocab),
        mode: map.cell(cells, "mode").map(vocab),
        note: map.cell(cells, "note").unwrap_or_default().to_string(),
    };
    contacts::insert_for(conn, actor, &p, &author, &new).map_err(|e| {
        let field = match &e {
            Error::Validation { field, .. } if ["minutes", "kind", "mode", "note", "by"].contains(&field.as_str()) => field.clone(),
            Error::PermissionDenied(_) => "by".to_string(),
            _ => "date".to_string(),
        };
        from_core(&field, e)
    })?;
    out.added.contacts += 1;
    let (kind, mode) = (new.kind.as_deref().unwrap_or("follow-up"), new.mode.as_deref().unwrap_or("phone"));
    out.stored.push(format!("contact on {date} for MRN {}: {minutes} min by {}, {kind}, {mode}", p.mrn, author.name));
    Ok(out)
}

/// A wide row: the patient (added when the row has name and date of birth) and enrolment, then
/// each group's scores as totals.
fn wide_row(conn: &Connection, actor: &Actor, shared: &mut Shared, map: &Resolved, cells: &Cells) -> RowResult {
    let mut out = patient_row(conn, actor, map, cells, true)?;
    let mrn = required(map, cells, "mrn")?;
    let p = patients::find_by_mrn(conn, mrn).map_err(|e| from_core("mrn", e))?;
    for (n, group) in map.groups.iter().enumerate() {
        let cell = |field: &str| group.get(field).and_then(|(i, _)| cells.get(*i)).filter(|c| !c.is_empty());
        let date_field = format!("group {} date", n + 1);
        // Every instrument column of the group, in the catalogue's order.
        let scores: Vec<(Instrument, &str, &str)> =
            Instrument::all().filter_map(|i| cell(i.as_str()).map(|text| (i, i.as_str(), text))).collect();
        let Some(date_text) = cell("date") else {
            if let Some((_, field, _)) = scores.first() {
                return Err(problem(&format!("group {} {field}", n + 1), "has a score but the group's date is empty"));
            }
            continue;
        };
        let date = parse_date(date_text, map.day_first)
            .ok_or_else(|| problem(&date_field, format!("\"{date_text}\" is not a date (write YYYY-MM-DD or MM/DD/YYYY)")))?;
        for (instrument, field, text) in scores {
            let field = format!("group {} {field}", n + 1);
            let total: i64 = text.parse().map_err(|_| problem(&field, format!("\"{text}\" is not a whole number")))?;
            if assessment_exists(conn, shared, &p.id, date, instrument)? {
                out.present.assessments += 1;
                out.stored.push(format!("{} of {date} already there", instrument.label()));
                continue;
            }
            assessments::insert_total_only(conn, actor, &p, shared.lookback_days, date, instrument, total).map_err(|e| {
                let at = if matches!(&e, Error::Validation { field, .. } if field == "total") { field.clone() } else { date_field.clone() };
                from_core(&at, e)
            })?;
            out.added.assessments += 1;
            out.stored.push(format!("{} on {date}: {total} (imported, total only)", instrument.label()));
        }
    }
    Ok(out)
}

/// Whether this score matches one the patient already has: of `instrument` on `date`, entered
/// in error or not (a record someone voided is not brought back by importing it again), and
/// not a second identical score of the same file.
fn assessment_exists(
    conn: &Connection,
    shared: &mut Shared,
    patient_id: &str,
    date: Date,
    instrument: Instrument,
) -> std::result::Result<bool, CellProblem> {
    let sql = "SELECT COUNT(*) FROM assessments WHERE patient_id = ?1 AND date = ?2 AND instrument = ?3";
    let in_registry =
        super::count(conn, sql, (patient_id, date.to_string(), instrument.as_str())).map_err(|e| problem("mrn", e.to_string()))?;
    Ok(shared.seen.already_there(("assessment", patient_id, date, instrument), in_registry))
}

/// Counts a row's outcome into the file's totals.
pub(crate) fn add(total: &mut RowOutcome, row: RowOutcome) {
    total.added.add(&row.added);
    total.present.add(&row.present);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_files_write_them() {
        let d = |s: &str| Date::from_ymd_opt(2025, 3, 11).filter(|_| !s.is_empty());
        assert_eq!(parse_date("2025-03-11", false), d("x"));
        assert_eq!(parse_date("2025-03-11 00:00:00", false), d("x"));
        assert_eq!(parse_date("03/11/2025", false), d("x"), "month first by default");
        assert_eq!(parse_date("3/11/2025", false), d("x"));
        assert_eq!(parse_date("11/03/2025", true), d("x"), "day first when asked");
        assert_eq!(parse_date("13/11/2025", false), None, "there is no 13th month");
        assert_eq!(parse_date("03/11/25", false), None, "two-digit years are ambiguous");
        assert_eq!(parse_date("2025-02-30", false), None);
        assert_eq!(parse_date("", false), None);
    }

    #[test]
    fn vocabulary_as_files_write_it() {
        assert_eq!(vocab("Self Pay"), "self-pay");
        assert_eq!(vocab(" Medicare "), "medicare");
        assert_eq!(vocab("safety_check"), "safety-check");
        assert_eq!(instrument_named("PHQ-9"), Some(Instrument::PHQ9));
        assert_eq!(instrument_named("gad 7"), Some(Instrument::GAD7));
        // Any catalogue form, by id or label; a form the catalogue lacks is none.
        assert_eq!(instrument_named("PHQ-2").map(Instrument::as_str), Some("phq2"));
        assert_eq!(instrument_named("pcl 5").map(Instrument::as_str), Some("pcl5"));
        assert_eq!(instrument_named("SMFQ-P").map(Instrument::as_str), Some("smfq-p"));
        assert_eq!(instrument_named("EPDS"), None);
    }
}
