//! Importing a practice's existing records from CSV (issue 10): the sample files in
//! `seeds/import/`, re-importing, total-only scores, the audit trail, every bad input changing
//! nothing, encodings, and property tests that no file makes the importer panic.

mod common;

use cocm::Registry;
use cocm::flags::Flag;
use cocm::import::{Mapping, table};
use cocm::vocab::Role;
use common::*;
use proptest::prelude::*;
use std::path::Path;

const TEAM: [(&str, Role); 7] = [
    ("Ana Morales", Role::CareManager),
    ("Ben Okafor", Role::CareManager),
    ("Chloe Nguyen", Role::CareManager),
    ("Dr. Sam Rivera", Role::PsychiatricConsultant),
    ("Dr. Priya Patel", Role::Pcp),
    ("Dr. Daniel Kim", Role::Pcp),
    ("Dr. Laura Adams", Role::Pcp),
];

/// A registry with the demo practice's team (the names the sample files use), no patients.
fn team_registry() -> (TempRegistry, Registry) {
    let (t, mut r) = TempRegistry::created("Import test");
    for (name, role) in TEAM {
        r.add_member(name, role).unwrap();
    }
    (t, r)
}

/// The same, made through the CLI (`init`, then `team add`), for the CLI's tests.
fn cli_team_registry() -> TempRegistry {
    let t = TempRegistry::new();
    ok(&t.path, &["init", "--practice", "CLI import", "--lead", CLI_LEAD]);
    for (name, role) in TEAM {
        ok(&t.path, &["team", "add", "--name", name, "--role", role.as_str()]);
    }
    t
}

use common::{import, sample};

fn counts(c: &cocm::import::ImportCounts) -> [usize; 4] {
    [c.patients, c.episodes, c.assessments, c.contacts]
}

#[test]
fn the_sample_files_import_and_importing_them_again_adds_nothing() {
    let (t, mut r) = team_registry();
    // patients.csv: 5 patients; I001–I004 have an enrolment date, I005 none → 4 enrolments.
    assert_eq!(counts(&import(&mut r, "patients").added), [5, 4, 0, 0]);
    // assessments.csv: 8 rows, one score each.
    assert_eq!(counts(&import(&mut r, "assessments").added), [0, 0, 8, 0]);
    // contacts.csv: 7 rows, one contact each.
    assert_eq!(counts(&import(&mut r, "contacts").added), [0, 0, 0, 7]);
    // wide.csv: 3 patients enrolled; scores W001 3 dates × 2 = 6, W002 2 PHQ-9s, W003 3 GAD-7s = 11.
    assert_eq!(counts(&import(&mut r, "wide").added), [3, 3, 11, 0]);

    let before = dump(&t.path);
    for (name, present) in [("patients", [5, 4, 0, 0]), ("assessments", [0, 0, 8, 0]), ("contacts", [0, 0, 0, 7]), ("wide", [3, 3, 11, 0])]
    {
        let again = import(&mut r, name);
        assert_eq!(counts(&again.added), [0; 4], "{name}: nothing added twice");
        assert_eq!(counts(&again.already_present), present, "{name}: every record matched");
    }
    assert_eq!(dump(&t.path), before, "a second import changes nothing, not even the audit log");

    // The imported history computes like typed-in history. I001: PHQ-9 15 (items 3,2,2,2,1,2,1,1,1)
    // on 2026-08-03, total-only 11 and 6 later: change (6 − 15) / 15 = −60 %, a response (§4).
    let row = r.caseload(d("2026-10-06"), None).unwrap().into_iter().find(|row| row.mrn == "I001").unwrap();
    let phq9 = row.phq9.unwrap();
    assert_eq!((phq9.baseline, phq9.latest, phq9.change_pct), (15, 6, Some(-60)));
    assert!(phq9.response);
    // The contacts count: I001 has 4 (the safety check included), the last on 2026-09-02.
    assert_eq!((row.contacts, row.last_contact), (4, Some(d("2026-09-02"))));
}

#[test]
fn a_total_only_score_neither_raises_nor_clears_the_safety_flag() {
    let (_t, mut r) = team_registry();
    import(&mut r, "patients");
    let mapping: Mapping = serde_json::from_value(serde_json::json!({
        "shape": "assessments",
        "columns": { "mrn": "MRN", "date": "Date", "instrument": "Measure", "total": "Total" }
    }))
    .unwrap();
    // I002 (enrolled 2026-08-10): a total-only PHQ-9 of 27, the highest there is, on 2026-08-10.
    // Item 9 is unknown, so no safety flag (§5 needs item 9 ≥ 1).
    let csv = "MRN,Date,Measure,Total\nI002,2026-08-10,PHQ-9,27\n";
    r.import_csv("scores.csv", csv.as_bytes(), &mapping, false, &mut |_, _| {}).unwrap();
    assert!(!flags_of(&r, "I002", "2026-08-11").contains(&Flag::Safety), "a total alone raises nothing");
    // A typed-in PHQ-9 with item 9 = 2 on 2026-08-20 raises it; a total-only PHQ-9 of 0 on
    // 2026-08-25 does not clear it (the latest PHQ-9 with item 9 known is still positive).
    phq(&mut r, "I002", "2026-08-20", [2, 2, 2, 2, 2, 2, 0, 0, 2]);
    let csv = "MRN,Date,Measure,Total\nI002,2026-08-25,PHQ-9,0\n";
    r.import_csv("scores.csv", csv.as_bytes(), &mapping, false, &mut |_, _| {}).unwrap();
    assert!(flags_of(&r, "I002", "2026-08-26").contains(&Flag::Safety), "a total alone clears nothing");
    // The chart says which scores are totals alone.
    let chart = r.patient_chart("I002", d("2026-08-26")).unwrap();
    let total_only: Vec<bool> = chart.assessments.iter().map(|a| a.total_only).collect();
    assert_eq!(total_only, [true, false, true]);
    assert!(chart.assessments[0].items.is_empty());
}

fn flags_of(r: &Registry, mrn: &str, on: &str) -> Vec<Flag> {
    r.caseload(d(on), None).unwrap().into_iter().find(|row| row.mrn == mrn).map(|row| row.flags).unwrap_or_default()
}

#[test]
fn every_imported_record_is_audited_with_the_file_and_row() {
    let (t, mut r) = team_registry();
    import(&mut r, "patients");
    let conn = raw(&t.path);
    let sources: Vec<(String, String)> = conn
        .prepare("SELECT record_type, json_extract(details, '$.source') FROM audit_log WHERE action IN ('create', 'enroll') ORDER BY seq")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get::<_, Option<String>>(1)?.unwrap_or_default())))
        .unwrap()
        .map(Result::unwrap)
        .filter(|(kind, _)| kind == "patient" || kind == "episode")
        .collect();
    // Rows 2–5 add a patient and an enrolment each; row 6 (I005) a patient alone.
    let want: Vec<(String, String)> = [2, 2, 3, 3, 4, 4, 5, 5, 6]
        .iter()
        .zip(["patient", "episode"].iter().cycle())
        .map(|(row, kind)| (kind.to_string(), format!("patients.csv row {row}")))
        .collect();
    assert_eq!(sources, want);
}

/// Imports `csv` into a registry holding the sample patients and expects a validation error
/// whose message has every one of `expect`, with nothing changed.
fn refused(csv: &[u8], mapping: serde_json::Value, expect: &[&str]) {
    let (t, mut r) = team_registry();
    import(&mut r, "patients");
    let before = dump(&t.path);
    let mapping: Mapping = serde_json::from_value(mapping).unwrap();
    let err = r.import_csv("bad.csv", csv, &mapping, false, &mut |_, _| {}).unwrap_err();
    assert_eq!(err.code(), "validation", "{err}");
    let message = err.to_string();
    for part in expect {
        assert!(message.contains(part), "{message:?} should say {part:?}");
    }
    assert_eq!(dump(&t.path), before, "{message}: nothing changed");
}

fn patients_mapping() -> serde_json::Value {
    serde_json::json!({ "shape": "patients", "columns": { "mrn": "MRN", "name": "Name", "dob": "DOB", "care_manager": "CM" } })
}

fn scores_mapping() -> serde_json::Value {
    serde_json::json!({ "shape": "assessments", "columns": { "mrn": "MRN", "date": "Date", "instrument": "Measure", "total": "Total" } })
}

#[test]
fn bad_input_is_named_by_file_row_and_column_and_changes_nothing() {
    // An unknown care manager; row 3 is the second data row, after a good one (all or nothing).
    refused(
        b"MRN,Name,DOB,CM\nN001,Lee Fisher,1970-01-01,Ana Morales\nN002,Kim Park,1980-02-02,Nobody\n",
        patients_mapping(),
        &["bad.csv row 3, column CM", "Nobody", "nothing was imported"],
    );
    // A bad date.
    refused(b"MRN,Name,DOB,CM\nN001,Lee Fisher,31/31/1970,\n", patients_mapping(), &["row 2, column DOB", "\"31/31/1970\" is not a date"]);
    // A score out of range: the PHQ-9's highest total is 9 × 3 = 27.
    refused(
        b"MRN,Date,Measure,Total\nI001,2026-09-01,PHQ-9,28\n",
        scores_mapping(),
        &["row 2, column Total", "28 is outside the PHQ-9's 0–27"],
    );
    // An item out of range.
    refused(
        b"MRN,Date,Measure,Q1,Q2,Q3,Q4,Q5,Q6,Q7\nI003,2026-09-02,GAD-7,0,1,2,3,4,0,0\n",
        serde_json::json!({ "shape": "assessments", "columns": { "mrn": "MRN", "date": "Date", "instrument": "Measure",
            "item1": "Q1", "item2": "Q2", "item3": "Q3", "item4": "Q4", "item5": "Q5", "item6": "Q6", "item7": "Q7" } }),
        &["row 2, column Q1", "item 5: answer 4 is outside 0–3"],
    );
    // A duplicate MRN with a different date of birth (I001 was born 1961-03-14).
    refused(b"MRN,Name,DOB,CM\nI001,Avery Stone,1962-03-14,\n", patients_mapping(), &["row 2, column DOB", "MRN I001", "1961-03-14"]);
    // The same MRN twice in one file, born on different days.
    refused(
        b"MRN,Name,DOB,CM\nN001,Lee Fisher,1970-01-01,\nN001,Lee Fisher,1971-01-01,\n",
        patients_mapping(),
        &["row 3, column DOB", "MRN N001", "1970-01-01"],
    );
    // An MRN the registry does not have, in a scores file.
    refused(b"MRN,Date,Measure,Total\nX999,2026-09-01,PHQ-9,5\n", scores_mapping(), &["row 2, column MRN", "X999 is not in the registry"]);
    // A mapped column the file does not have, and a required field left unmapped.
    refused(b"MRN,Name,Birth,CM\nN001,Lee Fisher,1970-01-01,\n", patients_mapping(), &["no column \"DOB\""]);
    refused(
        b"MRN,Name\nN001,Lee Fisher\n",
        serde_json::json!({ "shape": "patients", "columns": { "mrn": "MRN", "name": "Name" } }),
        &["required column for dob is not mapped"],
    );
    // Encodings: UTF-16 and binary files are refused with what to do instead.
    let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain("MRN,Name\n".encode_utf16().flat_map(u16::to_le_bytes)).collect();
    refused(&utf16, patients_mapping(), &["bad.csv is UTF-16", "CSV UTF-8"]);
    refused(b"\x7fELF\x02\x01\x00binary", patients_mapping(), &["not a text CSV file"]);
    refused(b"PK\x03\x04\x00\x00not a workbook", patients_mapping(), &["bad.csv is not a readable .xlsx workbook"]);
    // A row with more cells than the header names.
    refused(b"MRN,Name,DOB,CM\nN001,Lee Fisher,1970-01-01,,extra\n", patients_mapping(), &["bad.csv row 2: 5 cells"]);
    // More rows than an import takes.
    let mut big = String::from("MRN,Name,DOB,CM\n");
    for i in 0..=table::MAX_ROWS {
        big.push_str(&format!("N{i},Name {i},1970-01-01,\n"));
    }
    refused(big.as_bytes(), patients_mapping(), &["more than 200000 rows"]);
}

#[test]
fn a_dry_run_lists_every_problem_and_stores_nothing() {
    let (t, mut r) = team_registry();
    let before = dump(&t.path);
    let csv = b"MRN,Name,DOB,CM\nN001,Lee Fisher,1970-01-01,Ana Morales\nN002,,1980-02-02,\nN003,Ola Berg,1990-13-01,Nobody\n";
    let mapping: Mapping = serde_json::from_value(patients_mapping()).unwrap();
    let report = r.import_csv("dry.csv", csv, &mapping, true, &mut |_, _| {}).unwrap();
    assert!(report.dry_run);
    assert_eq!(report.added.patients, 1, "the good row would be added");
    let problems: Vec<(usize, &str)> = report.problems.iter().map(|p| (p.row, p.column.as_str())).collect();
    // Row 3 has no name; row 4's date is the first problem met in that row.
    assert_eq!(problems, [(3, "Name"), (4, "DOB")]);
    assert_eq!(dump(&t.path), before, "a dry run stores nothing, audit included");
}

#[test]
fn utf8_with_a_byte_order_mark_and_windows_1252_both_read() {
    let (_t, mut r) = team_registry();
    let mapping: Mapping = serde_json::from_value(patients_mapping()).unwrap();
    // UTF-8 with a BOM before the first header.
    let bom = b"\xEF\xBB\xBFMRN,Name,DOB,CM\nE001,Zo\xC3\xAB Adler,1970-01-01,\n";
    r.import_csv("bom.csv", bom, &mapping, false, &mut |_, _| {}).unwrap();
    // Windows-1252: ë is the single byte 0xEB, and 0x92 a right single quotation mark.
    let cp1252 = b"MRN,Name,DOB,CM\nE002,Zo\xEB O\x92Neill,1971-01-01,\n";
    r.import_csv("excel.csv", cp1252, &mapping, false, &mut |_, _| {}).unwrap();
    assert_eq!(r.patient("E001").unwrap().name, "Zoë Adler");
    assert_eq!(r.patient("E002").unwrap().name, "Zoë O\u{2019}Neill");
}

#[test]
fn only_a_practice_lead_imports() {
    let (t, mut lead) = team_registry();
    let mut cm = sign_in_as(&mut lead, "Ana Morales");
    let before = dump_skipping(&t.path, &["refused"]);
    let (bytes, mapping) = sample("patients");
    let err = cm.import_csv("patients.csv", &bytes, &mapping, false, &mut |_, _| {}).unwrap_err();
    assert_eq!(err.code(), "permission_denied");
    assert_eq!(dump_skipping(&t.path, &["refused"]), before);
}

#[test]
fn the_cli_imports_with_a_mapping_file_and_guesses_one() {
    let t = cli_team_registry();
    let db = &t.path;
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/import");
    let file = seeds.join("patients.csv");
    let map = seeds.join("patients.mapping.json");
    let dry = ok(db, &["import", "csv", file.to_str().unwrap(), "--mapping", map.to_str().unwrap(), "--dry-run"]);
    assert!(dry.contains("would add 5 patients, 4 enrolments") && dry.contains("nothing was stored"), "{dry}");
    let done = ok(db, &["import", "csv", file.to_str().unwrap(), "--mapping", map.to_str().unwrap()]);
    assert!(done.contains("added 5 patients, 4 enrolments; already there: nothing"), "{done}");
    // The guess from the headers is the sample mapping, field for field.
    let guess: Mapping = serde_json::from_str(&ok(db, &["import", "guess", file.to_str().unwrap(), "--shape", "patients"])).unwrap();
    let (_, sample_mapping) = sample("patients");
    assert_eq!(guess, sample_mapping);
    let (_, wide) = sample("wide");
    let guess: Mapping =
        serde_json::from_str(&ok(db, &["import", "guess", seeds.join("wide.csv").to_str().unwrap(), "--shape", "wide"])).unwrap();
    assert_eq!(guess, wide, "the wide layout's groups are found by their numbers");
    // A bad file: one line per problem on stderr, exit 1.
    let bad = t.dir.path().join("bad.csv");
    std::fs::write(&bad, "MRN,Patient Name,DOB\nN001,,1970-01-01\n").unwrap();
    let out = cocm(db, &["import", "csv", bad.to_str().unwrap(), "--mapping", map.to_str().unwrap()]);
    assert!(!out.ok);
    assert!(out.stderr.starts_with("error[validation]: "), "{}", out.stderr);
}

// No file makes the importer panic: arbitrary bytes through the reader, and arbitrary cells
// through a full (dry-run) import.

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_read_as_a_table_or_a_clear_error(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(text) = table::decode("fuzz.csv", &bytes) {
            let _ = table::parse_csv("fuzz.csv", &text);
        }
        // And as a workbook would start: the zip signature, then anything.
        let zip: Vec<u8> = b"PK\x03\x04".iter().copied().chain(bytes.iter().copied()).collect();
        let _ = table::read("fuzz.xlsx", &zip, None);
    }
}

#[test]
fn any_csv_imports_or_fails_cleanly() {
    let (_t, mut r) = team_registry();
    import(&mut r, "patients");
    // The runner takes a `Fn`; each case is a dry run, so the registry is the same for all.
    let r = std::cell::RefCell::new(r);
    let cell = proptest::prop_oneof![
        Just(String::new()),
        Just("I001".to_string()),
        Just("PHQ-9".to_string()),
        Just("GAD-7".to_string()),
        Just("2026-09-01".to_string()),
        Just("Ana Morales".to_string()),
        "[0-9]{1,3}",
        "[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}",
        "\\PC{0,12}",
    ];
    let rows = proptest::collection::vec(proptest::collection::vec(cell, 0..8), 0..6);
    let shapes = ["patients", "assessments", "contacts", "wide", "visit", "screening"];
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig { cases: 128, ..ProptestConfig::default() });
    runner
        .run(&(rows, 0..shapes.len()), |(rows, shape)| {
            let headers = ["A", "B", "C", "D", "E", "F", "G", "H"];
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(headers).unwrap();
            for row in &rows {
                let mut row = row.clone();
                row.resize(headers.len(), String::new());
                w.write_record(&row).unwrap();
            }
            let bytes = w.into_inner().unwrap();
            let table = table::parse_csv("fuzz.csv", &table::decode("fuzz.csv", &bytes).unwrap()).unwrap();
            let mut mapping = Mapping::guess(cocm::import::ImportShape::parse("shape", shapes[shape]).unwrap(), &table);
            // Map the shape's fields onto the columns in order, so every row is really applied.
            let fields = cocm::import::mapping::fields(mapping.shape);
            for (field, header) in fields.iter().zip(headers) {
                mapping.columns.insert(field.name.to_string(), header.to_string());
            }
            if mapping.shape == cocm::import::ImportShape::Wide {
                mapping.columns.retain(|k, _| k == "mrn");
                let group = [("date", "B"), ("phq9", "C"), ("gad7", "D")].map(|(f, h)| (f.to_string(), h.to_string()));
                mapping.groups = vec![group.into_iter().collect()];
            }
            match r.borrow_mut().import_csv("fuzz.csv", &bytes, &mapping, true, &mut |_, _| {}) {
                Ok(_) => {}
                Err(e) => prop_assert_eq!(e.code(), "validation", "{}", e),
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_preview_guesses_the_mapping_and_shows_the_first_rows_as_stored() {
    use cocm::import::ImportShape;
    let (t, mut r) = team_registry();
    let (bytes, sample_mapping) = sample("contacts");
    let before = dump(&t.path);
    // Before the patients are in, every contact's MRN is unknown: 7 problems, shown per row.
    let p = r.import_preview("contacts.csv", &bytes, ImportShape::Contacts, None).unwrap();
    assert_eq!(p.mapping, sample_mapping, "the guess from the headers is the sample mapping");
    assert_eq!(p.headers, ["MRN", "Contact Date", "Minutes", "Staff", "Contact Type", "Method", "Notes"]);
    let report = p.report.unwrap();
    assert_eq!(report.problems.len(), 7);
    assert_eq!(report.preview[0].outcome, "problem");
    assert_eq!(dump(&t.path), before, "looking stores nothing");

    import(&mut r, "patients");
    let p = r.import_preview("contacts.csv", &bytes, ImportShape::Contacts, None).unwrap();
    let report = p.report.unwrap();
    assert!(report.problems.is_empty());
    assert_eq!(report.preview.len(), 7);
    assert_eq!(
        (report.preview[0].row, report.preview[0].outcome.as_str(), report.preview[0].stored.as_str()),
        (2, "new", "contact on 2026-08-03 for MRN I001: 45 min by Ana Morales, initial-assessment, in-person")
    );
    // A mapping without a required field is named, and not run.
    let mut partial = sample_mapping.clone();
    partial.columns.remove("minutes");
    let p = r.import_preview("contacts.csv", &bytes, ImportShape::Contacts, Some(partial)).unwrap();
    assert!(p.report.is_none());
    assert!(p.mapping_problem.unwrap().contains("required column for minutes is not mapped"));
}

#[test]
fn an_excel_sheet_imports_like_the_csv_title_rows_and_date_cells_included() {
    use cocm::import::ImportShape;
    let (t, mut r) = team_registry();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/import");
    // patients.xlsx: the patients sample with a title row above the header and its dates as
    // Excel date serials (scripts/sample-xlsx.py), on the sheet "Caseload", then "Notes".
    let xlsx = std::fs::read(dir.join("patients.xlsx")).unwrap();
    let p = r.import_preview("patients.xlsx", &xlsx, ImportShape::Patients, None).unwrap();
    assert_eq!(p.sheets, ["Caseload", "Notes"]);
    let (_, csv_mapping) = sample("patients");
    assert_eq!(p.mapping, Mapping { sheet: Some("Caseload".into()), ..csv_mapping.clone() }, "the same guess, naming the sheet");
    let report = p.report.unwrap();
    assert_eq!(report.preview[0].row, 3, "the sheet's own row numbers: title 1, header 2");
    assert!(report.preview[0].stored.contains("born 1961-03-14") && report.preview[0].stored.contains("enrolled 2026-08-03"));
    let added = r.import_csv("patients.xlsx", &xlsx, &csv_mapping, false, &mut |_, _| {}).unwrap();
    assert_eq!(counts(&added.added), [5, 4, 0, 0]);
    // The CSV of the same patients then finds every record there.
    let again = import(&mut r, "patients");
    assert_eq!((counts(&again.added), counts(&again.already_present)), ([0; 4], [5, 4, 0, 0]));
    // Another sheet by name; a sheet the workbook lacks is named with the ones it has.
    let before = dump(&t.path);
    let notes = Mapping { sheet: Some("notes".into()), ..csv_mapping.clone() };
    let err = r.import_csv("patients.xlsx", &xlsx, &notes, false, &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("no row names the columns"), "{err}");
    let missing = Mapping { sheet: Some("Sheet9".into()), ..csv_mapping };
    let err = r.import_csv("patients.xlsx", &xlsx, &missing, false, &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("has no sheet \"Sheet9\"; its sheets: Caseload, Notes"), "{err}");
    assert_eq!(dump(&t.path), before);
}

#[test]
fn a_mapping_is_saved_by_name_replaced_by_name_and_used_by_name() {
    let (t, mut r) = team_registry();
    let (_, mapping) = sample("patients");
    let saved = r.save_import_mapping("  AIMS tracking sheet ", &mapping).unwrap();
    assert_eq!((saved.name.as_str(), saved.saved_by.as_str()), ("AIMS tracking sheet", "LEAD"));
    let newer = Mapping { date_order: Some("dmy".into()), ..mapping.clone() };
    r.save_import_mapping("AIMS tracking sheet", &newer).unwrap();
    let all = r.import_mappings().unwrap();
    assert_eq!(all.len(), 1, "saving under the same name replaces it");
    assert_eq!(r.import_mapping("AIMS tracking sheet").unwrap(), newer);
    assert_eq!(r.audit_log(1).unwrap()[0].action, "save-mapping");
    // Bad names change nothing; another role may not save.
    let before = dump(&t.path);
    assert_eq!(r.save_import_mapping("  ", &mapping).unwrap_err().code(), "validation");
    assert_eq!(r.save_import_mapping(&"x".repeat(81), &mapping).unwrap_err().code(), "validation");
    assert_eq!(r.import_mapping("Other").unwrap_err().code(), "not_found");
    assert_eq!(dump(&t.path), before);
    let mut cm = sign_in_as(&mut r, "Ana Morales");
    assert_eq!(cm.save_import_mapping("Mine", &mapping).unwrap_err().code(), "permission_denied");
}

#[test]
fn the_cli_saves_a_mapping_with_an_import_and_imports_by_its_name() {
    let t = cli_team_registry();
    let db = &t.path;
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/import");
    let (patients, map) = (seeds.join("patients.csv"), seeds.join("patients.mapping.json"));
    let (patients, map) = (patients.to_str().unwrap(), map.to_str().unwrap());
    ok(db, &["import", "csv", patients, "--mapping", map, "--save-mapping", "Tracking sheet"]);
    assert!(ok(db, &["import", "mappings"]).starts_with("Tracking sheet  patients  saved "));
    // By name: everything is already there.
    let again = ok(db, &["import", "csv", patients, "--mapping", "Tracking sheet"]);
    assert!(again.contains("added nothing; already there: 5 patients, 4 enrolments"), "{again}");
    let out = cocm(db, &["import", "csv", patients, "--mapping", "No such mapping"]);
    assert!(!out.ok && out.stderr.contains("error[not_found]: no saved mapping named 'No such mapping'"), "{}", out.stderr);
}

#[test]
fn two_identical_rows_are_two_records_and_a_second_import_adds_neither() {
    let (_t, mut r) = team_registry();
    import(&mut r, "patients");
    let (_, mapping) = sample("contacts");
    // I001 called twice by Ana Morales on the same day for 20 minutes: 40 minutes in all.
    let twice = b"MRN,Contact Date,Minutes,Staff,Contact Type,Method,Notes\nI001,09/08/2026,20,Ana Morales,Follow Up,Phone,\nI001,09/08/2026,20,Ana Morales,Follow Up,Phone,\n";
    let first = r.import_csv("twice.csv", twice, &mapping, false, &mut |_, _| {}).unwrap();
    assert_eq!((first.added.contacts, first.already_present.contacts), (2, 0));
    let again = r.import_csv("twice.csv", twice, &mapping, false, &mut |_, _| {}).unwrap();
    assert_eq!((again.added.contacts, again.already_present.contacts), (0, 2));
    let billing = r.billing(month("2026-09")).unwrap();
    let i001 = billing.iter().find(|b| b.mrn == "I001").unwrap();
    assert_eq!(i001.contacts.iter().filter(|c| c.date == d("2026-09-08")).map(|c| c.minutes).sum::<u32>(), 40);
}

#[test]
fn any_catalogue_instrument_imports_item_by_item_or_in_a_wide_files_groups() {
    use cocm::import::ImportShape;
    let (_t, mut r) = team_registry();
    import(&mut r, "patients");
    // A PCL-5 item by item (20 items, 0–4) and an SMFQ parent form's total; the instrument is
    // named by label or id, however it is punctuated.
    let items: Vec<String> = (1..=20).map(|n| format!("Q{n}")).collect();
    let answers = "3,3,3,3,3,3,2,2,3,3,3,3,2,2,2,3,2,2,3,2"; // 52: twelve 3s (36) and eight 2s (16)
    let csv = format!(
        "MRN,Date,Measure,Total,{}\nI001,2026-08-05,PCL-5,52,{answers}\nI002,2026-08-12,smfq p,17,{}\n",
        items.join(","),
        ",".repeat(19)
    );
    let p = r.import_preview("scores.csv", csv.as_bytes(), ImportShape::Assessments, None).unwrap();
    assert_eq!(p.mapping.columns.get("item20").map(String::as_str), Some("Q20"), "twenty item columns guessed");
    let report = r.import_csv("scores.csv", csv.as_bytes(), &p.mapping, false, &mut |_, _| {}).unwrap();
    assert_eq!(report.added.assessments, 2, "{:?}", report.problems);
    let pcl = r.patient_chart("I001", d("2026-08-06")).unwrap().assessments.into_iter().find(|a| a.instrument.as_str() == "pcl5").unwrap();
    assert_eq!((pcl.total, pcl.items.len(), pcl.total_only), (52, 20, false));
    let smfq =
        r.patient_chart("I002", d("2026-08-13")).unwrap().assessments.into_iter().find(|a| a.instrument.as_str() == "smfq-p").unwrap();
    assert_eq!((smfq.total, smfq.total_only), (17, true));

    // A wide file's groups by instrument id: "PCL-5 1" is guessed as group 1's pcl5.
    let wide = "MRN,Date 1,PCL-5 1,Date 2,PCL-5 2\nI001,2026-09-02,47,2026-10-01,40\n";
    let p = r.import_preview("wide.csv", wide.as_bytes(), ImportShape::Wide, None).unwrap();
    assert_eq!(p.mapping.groups[1].get("pcl5").map(String::as_str), Some("PCL-5 2"));
    let report = r.import_csv("wide.csv", wide.as_bytes(), &p.mapping, false, &mut |_, _| {}).unwrap();
    assert_eq!(report.added.assessments, 2, "{:?}", report.problems);
    // An id the catalogue lacks is refused by name.
    let mut bad = p.mapping.clone();
    bad.groups[0].insert("epds".into(), "PCL-5 1".into());
    let err = r.import_csv("wide.csv", wide.as_bytes(), &bad, false, &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("group 1: epds is not date or an instrument id"), "{err}");
}
