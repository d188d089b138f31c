//! A month's EHR extract of visits and depression screens (issue 23, spec §9): the CSV row
//! shapes `visit` and `screening` and FHIR Encounters with CPT codes and PHQ-2 Observations,
//! each importing in one step for patients the registry did not have, adding nothing when
//! imported again, refusing bad rows without changing anything; then the NYS screening
//! metrics and the referral candidates read what came in.

mod common;

use cocm::Registry;
use cocm::fhir::FhirSource;
use cocm::import::Mapping;
use common::*;
use serde_json::json;
use std::path::Path;

use common::import;

#[test]
fn a_months_visit_extract_imports_in_one_step_and_again_adds_nothing() {
    let (t, mut r) = TempRegistry::created("EHR extract");
    // Six visits of six patients the registry does not have yet, each added from the row's
    // name and date of birth; three rows carry the screen given at the visit.
    let report = import(&mut r, "visits");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let a = &report.added;
    assert_eq!((a.patients, a.visits, a.assessments), (6, 6, 3));
    let visits = r.visits("E105").unwrap();
    // "99214, 36415" is two codes; "No" in the telehealth column is in person.
    assert_eq!((visits[0].codes.join(","), visits[0].modality.as_str()), ("99214,36415".to_string(), "in-person"));
    assert_eq!(r.visits("E103").unwrap()[0].modality.as_str(), "telehealth");
    assert_eq!(r.visits("E104").unwrap()[0].category.as_str(), "nursing-only");

    let again = import(&mut r, "visits");
    assert_eq!(again.added, Default::default(), "a second import adds nothing");
    assert_eq!((again.already_present.visits, again.already_present.assessments), (6, 3));
    let count = |table: &str| -> i64 { raw(&t.path).query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).unwrap() };
    assert_eq!((count("visits"), count("assessments"), count("patients")), (6, 3, 6));

    // The screenings file: E101's PHQ-9 of 10 (items 2,2,1,1,1,1,1,1,0) on 12-01, and a new
    // patient E106's PHQ-2 of 2 (1 + 1) on 11-12.
    let report = import(&mut r, "screenings");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!((report.added.patients, report.added.assessments), (1, 2));

    // November's screening metrics, by hand: qualifying visits (12 or older, a medical code)
    // are I001 (99214), E101 (99213), E102 (99393, 13 on 11-05), E103 (G0439), E105 (99214)
    // = 5; E104's nurse visit (99211) is not. Screened in the 12 months to 11-30: E101,
    // E102, E103 = 3 of 5. Yield: E103's PHQ-9 of 12 on 11-06 is the only initial PHQ-9 in
    // November, and 12 ≥ 10: 1 of 1 (E101's PHQ-9 is December's).
    let nov = r.nys_report(month("2026-11"), None).unwrap();
    let of = |rate: &cocm::reports::Rate| (rate.numerator, rate.denominator);
    assert_eq!((of(&nov.depression_screening_rate), of(&nov.depression_screening_yield)), ((3, 5), (1, 1)));

    // Candidates: the latest screen positive and no open episode, newest first: E101's
    // PHQ-9 of 10 (12-01; their PHQ-2 of 4 came before it), E103's PHQ-9 of 12 (11-06).
    // E102 (PHQ-2 1) and E106 (PHQ-2 2) screened negative.
    let view = r.candidates(None).unwrap();
    let found: Vec<(&str, &str, u8)> = view.candidates.iter().map(|c| (c.mrn.as_str(), c.instrument.as_str(), c.total)).collect();
    assert_eq!(found, [("E101", "phq9", 10), ("E103", "phq9", 12)]);
    // Enrolled, a candidate is one no longer.
    enroll(&mut r, "E103", "2026-12-02", Some("2026-12-02"));
    let mrns: Vec<String> = r.candidates(None).unwrap().candidates.into_iter().map(|c| c.mrn).collect();
    assert_eq!(mrns, ["E101"]);
    let since: Vec<String> = r.candidates(Some(d("2026-12-02"))).unwrap().candidates.into_iter().map(|c| c.mrn).collect();
    assert!(since.is_empty(), "--since 12-02 leaves out E101's screen of 12-01");
}

fn refused(csv: &[u8], mapping: serde_json::Value, expect: &[&str]) {
    let (t, mut r) = TempRegistry::created("EHR extract");
    import(&mut r, "visits");
    let before = dump(&t.path);
    let mapping: Mapping = serde_json::from_value(mapping).unwrap();
    let err = r.import_csv("bad.csv", csv, &mapping, false, &mut |_, _| {}).unwrap_err();
    assert_eq!(err.code(), "validation", "{err}");
    let message = err.to_string();
    for part in expect {
        assert!(message.contains(part), "{message:?} should say {part:?}");
    }
    assert!(dump(&t.path) == before, "{message}: nothing changed");
}

fn visit_mapping() -> serde_json::Value {
    json!({ "shape": "visit", "columns": { "mrn": "MRN", "name": "Name", "dob": "DOB", "date": "Date", "codes": "Codes",
        "category": "Type", "instrument": "Screen", "total": "Score" } })
}

#[test]
fn bad_visit_and_screening_rows_are_named_and_change_nothing() {
    let header = "MRN,Name,DOB,Date,Codes,Type,Screen,Score\n";
    let file = |row: &str| format!("{header}E201,Kai Lund,1990-01-01,2026-11-02,99213,Primary care,,\n{row}\n").into_bytes();
    // A code that is not five characters, on the second data row (all or nothing).
    refused(
        &file("E202,Lia Moss,1991-01-01,2026-11-03,9921,Primary care,,"),
        visit_mapping(),
        &["row 3, column Codes", "9921 is not a CPT"],
    );
    // A provider category the registry does not know.
    refused(&file("E202,Lia Moss,1991-01-01,2026-11-03,99213,Urgent care,,"), visit_mapping(), &["row 3, column Type", "urgent-care"]);
    // A visit before the patient was born.
    refused(&file("E202,Lia Moss,1991-01-01,1990-11-03,99213,Primary care,,"), visit_mapping(), &["row 3, column Date"]);
    // A new patient without a name.
    refused(&file("E202,,1991-01-01,2026-11-03,99213,Primary care,,"), visit_mapping(), &["row 3, column Name", "new patient"]);
    // A screen that is not a depression screen, and a PHQ-2 total above its 6.
    refused(&file("E202,Lia Moss,1991-01-01,2026-11-03,99213,Primary care,GAD-7,5"), visit_mapping(), &["row 3, column Screen", "GAD-7"]);
    refused(&file("E202,Lia Moss,1991-01-01,2026-11-03,99213,Primary care,PHQ-2,7"), visit_mapping(), &["row 3, column Score", "0–6"]);
    // E101 is in the registry, born 1990-05-20: another date of birth is refused.
    refused(&file("E101,Robin Hale,1990-05-21,2026-11-03,99213,Primary care,,"), visit_mapping(), &["row 3, column DOB", "1990-05-20"]);
    // A screen column mapped without its score or items.
    refused(
        &file("E202,Lia Moss,1991-01-01,2026-11-03,99213,Primary care,PHQ-2,3"),
        json!({ "shape": "visit", "columns": { "mrn": "MRN", "date": "Date", "codes": "Codes", "instrument": "Screen" } }),
        &["a visit's screen needs its instrument and its total"],
    );
    // A screening row: a PHQ-9 answer of 4, and a PCL-5 (not a depression screen).
    let screening = json!({ "shape": "screening", "columns": { "mrn": "MRN", "date": "Date", "instrument": "Screen", "total": "Score" } });
    refused(b"MRN,Date,Screen,Score\nE101,2026-11-20,PHQ-9,28\n", screening.clone(), &["row 2, column Score", "0–27"]);
    refused(b"MRN,Date,Screen,Score\nE101,2026-11-20,PCL-5,40\n", screening.clone(), &["row 2, column Screen", "PCL-5"]);
    // An MRN the registry does not have, in a file without names.
    refused(b"MRN,Date,Screen,Score\nX999,2026-11-20,PHQ-2,3\n", screening, &["row 2, column MRN", "X999 is not in the registry"]);
}

/// A patient never enrolled, an office visit (CPT 99214, telehealth) and a PHQ-2 total of 4
/// (LOINC 55758-7) that day, as an EHR sends them.
fn ehr_visit_bundle() -> FhirSource {
    let bundle = json!({
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            { "resource": { "resourceType": "Patient", "id": "p1", "name": [{ "family": "Ames", "given": ["Noor"] }], "birthDate": "1988-04-02",
                "identifier": [{ "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR" }] },
                    "system": "urn:oid:2.16.840.1.113883.19.5", "value": "F301" }] } },
            { "resource": { "resourceType": "Encounter", "id": "v1", "status": "finished",
                "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "VR" },
                "type": [{ "coding": [{ "system": "http://www.ama-assn.org/go/cpt", "code": "99214" }] }],
                "subject": { "reference": "Patient/p1" }, "period": { "start": "2026-11-16T09:00:00-05:00" } } },
            { "resource": { "resourceType": "Observation", "id": "s1", "status": "final",
                "code": { "coding": [{ "system": "http://loinc.org", "code": "55758-7" }] },
                "subject": { "reference": "Patient/p1" }, "effectiveDateTime": "2026-11-16", "valueQuantity": { "value": 4 } } },
        ],
    });
    FhirSource::bytes("visit-bundle.json", serde_json::to_vec(&bundle).unwrap())
}

#[test]
fn fhir_encounters_with_cpt_codes_are_visits_and_come_back_from_an_export() {
    let (t, mut r) = TempRegistry::created("EHR FHIR");
    let report = r.import_fhir(&[ehr_visit_bundle()], false, &mut |_, _| {}).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!((report.added.patients, report.added.visits, report.added.assessments, report.added.contacts), (1, 1, 1, 0));
    let visit = &r.visits("F301").unwrap()[0];
    assert_eq!(
        (visit.date, visit.codes.clone(), visit.modality.as_str(), visit.category.as_str()),
        (d("2026-11-16"), vec!["99214".to_string()], "telehealth", "other")
    );
    // A candidate: PHQ-2 4 ≥ 3, never enrolled.
    assert_eq!(r.candidates(None).unwrap().candidates[0].mrn, "F301");
    let again = r.import_fhir(&[ehr_visit_bundle()], false, &mut |_, _| {}).unwrap();
    assert_eq!(again.added, Default::default());
    assert_eq!(again.already_present.visits, 1);

    // Out and back in: the visit keeps its codes, category and modality.
    r.add_visit(
        "F301",
        &cocm::visits::NewVisit { date: "2026-11-20".into(), category: "nursing-only".into(), codes: "99211".into(), modality: None },
    )
    .unwrap();
    let dir = t.dir.path().join("out");
    r.export_fhir(&dir, None).unwrap();
    let empty = TempRegistry::new();
    let (mut fresh, _) = Registry::create(&empty.path, "Round trip", "Lee Lead", PASSWORD).unwrap();
    let back = fresh.import_fhir(&cocm::fhir::sources_at(&dir).unwrap(), false, &mut |_, _| {}).unwrap();
    assert!(back.problems.is_empty(), "{:?}", back.problems);
    let plain = |r: &Registry| -> Vec<(String, String, String, String)> {
        r.visits("F301")
            .unwrap()
            .into_iter()
            .map(|v| (v.date.to_string(), v.category.to_string(), v.codes.join(","), v.modality.to_string()))
            .collect()
    };
    assert_eq!(plain(&fresh), plain(&r));
    assert_eq!(fresh.nys_report(month("2026-11"), None).unwrap(), r.nys_report(month("2026-11"), None).unwrap());
}

#[test]
fn the_cli_lists_candidates_and_imports_a_visit_file() {
    let t = TempRegistry::new();
    ok(&t.path, &["init", "--practice", "CLI extract", "--lead", CLI_LEAD]);
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/import");
    let file = seeds.join("visits.csv");
    let mapping = seeds.join("visits.mapping.json");
    let out = ok(&t.path, &["import", "csv", file.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()]);
    assert!(out.contains("6 visits"), "{out}");
    let view = json(&t.path, &["candidates", "--json"]);
    let mrns: Vec<&str> = view["candidates"].as_array().unwrap().iter().map(|c| c["mrn"].as_str().unwrap()).collect();
    assert_eq!(mrns, ["E103", "E101"], "newest first: 11-06, then 11-04");
    let text = ok(&t.path, &["candidates", "--since", "2026-11-05"]);
    assert!(text.contains("E103") && !text.contains("E101") && text.contains("1 candidates"), "{text}");
    let bad = cocm(&t.path, &["candidates", "--since", "November"]);
    assert!(!bad.ok && bad.stderr.contains("since"), "{}", bad.stderr);
}
