//! FHIR R4 exchange (issue 10): the export's resources and codes, the round trip of the demo
//! practice (caseload, queue, billing and the October report identical), an EHR's Bundle,
//! re-importing, `--since`, and every bad input changing nothing. The resources' validity is
//! checked by two independent validators in `tests/fhir/validate.mjs` (make test).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cocm::Registry;
use cocm::dates::{Month, parse_date};
use cocm::demo::{DEMO_LEAD, DEMO_PASSWORD, DemoOptions, create_demo};
use cocm::fhir::FhirSource;
use cocm::vocab::Role;
use common::*;
use serde_json::{Value, json};

/// The demo practice written as of mid-November 2026, so "the October report" is a fixed month.
const AS_OF: &str = "2026-11-15";

fn demo() -> (TempRegistry, Registry) {
    let t = TempRegistry::new();
    let r = create_demo(&t.path, &DemoOptions { as_of: d(AS_OF), synthetic_patients: 0, practice_patients: 0, seed: 1 }).unwrap();
    (t, r)
}

/// Every resource of an export folder, by type.
fn read_export(dir: &Path) -> BTreeMap<String, Vec<Value>> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "ndjson") {
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                let v: Value = serde_json::from_str(line).unwrap();
                out.entry(v["resourceType"].as_str().unwrap().to_string()).or_default().push(v);
            }
        }
    }
    out
}

/// The files of an export folder, as `cocm import fhir DIR` reads them (a line at a time).
fn files_of(dir: &Path) -> Vec<FhirSource> {
    cocm::fhir::sources_at(dir).unwrap()
}

/// A registry's figures as JSON, without the ids (each registry makes its own).
fn without_ids(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.retain(|k, _| k != "id" && !k.ends_with("_id"));
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

/// Where two JSON values first differ (a path and both values), if they do.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) if x.len() == y.len() => x
            .iter()
            .find_map(|(k, v)| y.get(k).map_or(Some(format!("{path}.{k} is missing")), |w| first_difference(v, w, &format!("{path}.{k}")))),
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (v, w))| first_difference(v, w, &format!("{path}[{i}]")))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a} before, {b} after")),
    }
}

/// What the round trip must keep: the caseload and queue on the as-of date, billing for
/// October and November, and the October report.
fn figures(r: &Registry) -> Value {
    let as_of = d(AS_OF);
    let october = Month::parse("month", "2026-10").unwrap();
    json!({
        "caseload": serde_json::to_value(r.caseload(as_of, None).unwrap()).unwrap(),
        "queue": serde_json::to_value(r.queue(as_of).unwrap()).unwrap(),
        "billing_october": serde_json::to_value(r.billing(october).unwrap()).unwrap(),
        "billing_november": serde_json::to_value(r.billing(october.plus(1)).unwrap()).unwrap(),
        // Claim lines carry each patient's coverage (payer, plan, member id) and diagnoses.
        "claims_october": serde_json::to_value(r.billing_claims(october).unwrap()).unwrap(),
        "october_report": serde_json::to_value(r.program_report(d("2026-10-01"), d("2026-10-31"), as_of).unwrap()).unwrap(),
    })
}

fn export(r: &mut Registry, dir: &Path) -> BTreeMap<String, Vec<Value>> {
    r.export_fhir(dir, None).unwrap();
    read_export(dir)
}

fn out_dir(t: &TempRegistry, name: &str) -> PathBuf {
    t.dir.path().join(name)
}

#[test]
fn the_demo_practice_survives_the_round_trip() {
    let (t, mut source) = demo();
    let dir = out_dir(&t, "export");
    export(&mut source, &dir);

    let empty = TempRegistry::new();
    let (mut target, _) = Registry::create(&empty.path, "Round trip", DEMO_LEAD, DEMO_PASSWORD).unwrap();
    let report = target.import_fhir(&files_of(&dir), false, &mut |_, _| {}).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    // The demo's team of eight, its lead already there; 72 patients (D001–D072).
    assert_eq!((report.added.team_members, report.already_present.team_members), (7, 1));
    assert_eq!(report.added.patients, 72);
    assert_eq!(report.skipped.get("QuestionnaireResponse (its Observation carries the answers)").copied(), Some(report.added.assessments));

    // The team comes back with each member's NPI, credential and CoCM FTE.
    let team = |r: &Registry| -> Vec<String> {
        r.list_members().unwrap().iter().map(|m| format!("{} {} {:?} {:?} {:?}", m.name, m.role, m.npi, m.credential, m.cocm_fte)).collect()
    };
    assert!(team(&source).iter().any(|m| m.contains("Some(0.6)")), "the demo has a part-time care manager");
    assert_eq!(team(&target), team(&source));
    let difference = first_difference(&without_ids(figures(&source)), &without_ids(figures(&target)), "");
    assert_eq!(difference, None, "the figures differ after the round trip");
    // Entered-in-error records came back marked so (billing shows their minutes as excluded).
    let excluded = |r: &Registry| -> usize {
        let october = Month::parse("month", "2026-10").unwrap();
        r.billing(october).unwrap().iter().flat_map(|b| b.excluded.iter()).filter(|e| e.reason.as_str() == "entered-in-error").count()
    };
    assert!(excluded(&source) > 0, "the demo has a contact entered in error");
    assert_eq!(excluded(&target), excluded(&source));

    // Treatment changes (which no figure reads) come back too, as the chart shows them.
    let changes = |r: &mut Registry| -> Vec<(String, String, String, bool)> {
        let mrns: Vec<String> = r.caseload(d(AS_OF), None).unwrap().iter().map(|row| row.mrn.clone()).collect();
        mrns.iter()
            .flat_map(|mrn| r.patient_chart(mrn, d(AS_OF)).unwrap().treatment_changes)
            .map(|t| (t.date.to_string(), t.kind.as_str().to_string(), t.description, t.entered_in_error.is_some()))
            .collect()
    };
    let before = changes(&mut source);
    assert!(before.len() >= 5, "the demo's treatment changes: {}", before.len());
    assert_eq!(changes(&mut target), before);
    assert!(report.added.treatment_changes >= before.len());

    // Every coverage and diagnosis came back as it was (§7a), entered in error ones included.
    let records = |r: &Registry| -> Vec<String> {
        let mrns: Vec<String> = r.caseload(d(AS_OF), None).unwrap().iter().map(|row| row.mrn.clone()).collect();
        mrns.iter()
            .flat_map(|mrn| {
                let coverages = r
                    .coverages(mrn)
                    .unwrap()
                    .into_iter()
                    .map(|c| format!("{mrn} {} {:?} {:?} {:?} {}", c.payer, c.member_id, c.from, c.to, c.secondary));
                let diagnoses = r.diagnoses(mrn).unwrap().into_iter().map(|d| format!("{mrn} {} {}", d.code, d.date));
                coverages.chain(diagnoses).collect::<Vec<_>>()
            })
            .collect()
    };
    let kept = records(&source);
    assert!(kept.iter().any(|r| r.contains(" F33.1 ")) && kept.iter().any(|r| r.contains("DM-")), "{:?}", &kept[..4]);
    assert_eq!(records(&target), kept);

    // Importing the same export again adds nothing.
    let again = target.import_fhir(&files_of(&dir), false, &mut |_, _| {}).unwrap();
    assert_eq!(again.added, Default::default(), "a second import added records");
    assert_eq!(again.already_present.patients, 72);
}

#[test]
fn resources_carry_the_issues_codes_and_profiles() {
    let (t, mut r) = demo();
    let all = export(&mut r, &out_dir(&t, "export"));
    let us_core = |v: &Value| v["meta"]["profile"][0].as_str().unwrap_or_default().to_string();

    let patient = all["Patient"].iter().find(|p| p["identifier"][0]["value"] == "D001").unwrap();
    assert_eq!(us_core(patient), "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|6.1.0");
    assert_eq!(patient["identifier"][0]["type"]["coding"][0]["code"], "MR");
    assert_eq!(patient["birthDate"], "1968-04-12");
    assert_eq!(patient["gender"], "unknown", "the registry does not record gender");

    // D001's first PHQ-9 (seeds/assessments.csv): items 3,3,3,3,0,3,2,2,0, total 19.
    let phq = all["Observation"]
        .iter()
        .find(|o| {
            o["code"]["coding"][0]["code"] == "44249-1"
                && o["subject"]["reference"] == patient["id"].as_str().map(|id| format!("Patient/{id}")).unwrap().as_str()
        })
        .unwrap();
    assert_eq!(us_core(phq), "http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-screening-assessment|6.1.0");
    assert_eq!(phq["category"][0]["coding"][0]["code"], "survey");
    let components = phq["component"].as_array().unwrap();
    let item_codes: Vec<&str> = components.iter().map(|c| c["code"]["coding"][0]["code"].as_str().unwrap()).take(9).collect();
    assert_eq!(item_codes, ["44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"]);
    let answer = |i: usize| components[i]["valueCodeableConcept"]["coding"][0]["code"].as_str().unwrap();
    // 3 → LA6571-9, 0 → LA6568-5, 2 → LA6570-1.
    assert_eq!((answer(0), answer(4), answer(6)), ("LA6571-9", "LA6568-5", "LA6570-1"));
    assert_eq!(components[9]["code"]["coding"][0]["code"], "44261-6");
    assert_eq!(
        components[9]["valueQuantity"],
        json!({ "value": 19, "unit": "{score}", "system": "http://unitsofmeasure.org", "code": "{score}" })
    );
    let qr = all["QuestionnaireResponse"].iter().find(|q| q["id"] == phq["id"]).unwrap();
    assert_eq!(qr["questionnaire"], "http://loinc.org/q/44249-1");
    assert_eq!(qr["item"][0]["answer"][0]["valueCoding"]["code"], "LA6571-9");

    // A GAD-7 item 2 answered 2 is LA18938-3, not LA6570-1.
    let gad_item2_two = all["Observation"]
        .iter()
        .flat_map(|o| o["component"].as_array().unwrap())
        .find(|c| c["code"]["coding"][0]["code"] == "68509-9" && c["valueCodeableConcept"]["coding"][0]["code"] == "LA18938-3");
    assert!(gad_item2_two.is_some(), "the demo has a GAD-7 with item 2 answered 2");
    assert!(
        all["Observation"]
            .iter()
            .flat_map(|o| o["component"].as_array().unwrap())
            .all(|c| !(c["code"]["coding"][0]["code"] == "68509-9" && c["valueCodeableConcept"]["coding"][0]["code"] == "LA6570-1")),
        "GAD-7 item 2 never uses LA6570-1"
    );

    let encounter = &all["Encounter"][0];
    assert_eq!(us_core(encounter), "http://hl7.org/fhir/us/core/StructureDefinition/us-core-encounter|6.1.0");
    assert_eq!(encounter["length"]["code"], "min");
    let void = all["Encounter"].iter().find(|e| e["status"] == "entered-in-error");
    assert!(void.is_some(), "the demo's contact entered in error is exported as entered-in-error");
    let note = &all["DocumentReference"][0];
    assert_eq!(note["type"]["coding"][0]["code"], "11488-4");
    assert_eq!(us_core(&all["ServiceRequest"][0]), "http://hl7.org/fhir/us/core/StructureDefinition/us-core-servicerequest|6.1.0");
    assert!(all["EpisodeOfCare"].iter().any(|e| e["status"] == "finished"), "discharged episodes are finished");
    assert!(all["Consent"].iter().all(|c| c["scope"]["coding"][0]["code"] == "treatment"));
    // Seeds: D001's "Sertraline 50 mg daily" started (a MedicationStatement); psychotherapy as Procedures.
    assert!(all["MedicationStatement"].iter().any(|m| m["medicationCodeableConcept"]["text"] == "Sertraline 50 mg daily"));
    assert!(all["Procedure"].iter().all(
        |p| p["code"]["coding"][0]["code"].as_str().unwrap().starts_with("psychotherapy-") || p["code"]["coding"][0]["code"] == "other"
    ));

    // §7a: a Coverage carries the member id and order; a Condition the ICD-10-CM code, linked
    // from its EpisodeOfCare by rank.
    let d001 = patient["id"].as_str().map(|id| format!("Patient/{id}")).unwrap();
    let coverage = all["Coverage"].iter().find(|c| c["beneficiary"]["reference"] == d001.as_str()).unwrap();
    assert_eq!(
        (&coverage["subscriberId"], &coverage["order"], &coverage["type"]["text"]),
        (&json!("DM-D001"), &json!(1), &json!("medicare"))
    );
    let condition = all["Condition"].iter().find(|c| c["subject"]["reference"] == d001.as_str()).unwrap();
    assert_eq!(us_core(condition), "http://hl7.org/fhir/us/core/StructureDefinition/us-core-condition-problems-health-concerns|6.1.0");
    assert_eq!(
        condition["code"]["coding"][0],
        json!({ "system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F33.1", "display": "Major depressive disorder, recurrent, moderate" })
    );
    assert_eq!(condition["category"][0]["coding"][0]["code"], "problem-list-item");
    let episode = all["EpisodeOfCare"].iter().find(|e| e["patient"]["reference"] == d001.as_str()).unwrap();
    assert_eq!(
        episode["diagnosis"][0],
        json!({ "condition": { "reference": format!("Condition/{}", condition["id"].as_str().unwrap()) }, "rank": 1 })
    );

    // The manifest lists each file with its count.
    let manifest: Value = serde_json::from_slice(&std::fs::read(out_dir(&t, "export").join("manifest.json")).unwrap()).unwrap();
    for output in manifest["output"].as_array().unwrap() {
        let kind = output["type"].as_str().unwrap();
        assert_eq!(output["count"].as_u64().unwrap() as usize, all[kind].len(), "{kind}");
        assert!(output["url"].as_str().unwrap().ends_with(&format!("/{kind}.ndjson")));
    }
    assert_eq!(manifest["requiresAccessToken"], false);
}

#[test]
fn the_difficulty_answers_keep_loincs_order() {
    let (_t, mut r) = TempRegistry::created("Difficulty");
    r.add_member("CM", Role::CareManager).unwrap();
    r.add_member("PCP", Role::Pcp).unwrap();
    add_patient(&mut r, "M1");
    enroll(&mut r, "M1", "2026-01-05", Some("2026-01-05"));
    let spellings = ["not-difficult-at-all", "somewhat-difficult", "very-difficult", "extremely-difficult"];
    for (i, difficulty) in spellings.iter().enumerate() {
        let a = cocm::assessments::NewAssessment {
            date: format!("2026-02-0{}", i + 1),
            instrument: "phq9".into(),
            answers: vec![1; 9],
            difficulty: Some(difficulty.to_string()),
        };
        r.record_assessment("M1", &a).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let all = export(&mut r, &dir.path().join("out"));
    let mut codes: Vec<(String, String)> = all["Observation"]
        .iter()
        .map(|o| {
            let c = o["component"].as_array().unwrap().iter().find(|c| c["code"]["coding"][0]["code"] == "69722-7").unwrap();
            (
                o["effectiveDateTime"].as_str().unwrap().to_string(),
                c["valueCodeableConcept"]["coding"][0]["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    codes.sort();
    let codes: Vec<&str> = codes.iter().map(|(_, c)| c.as_str()).collect();
    // Not difficult LA6572-7, somewhat LA6573-5, very LA6575-0, extremely LA6574-3.
    assert_eq!(codes, ["LA6572-7", "LA6573-5", "LA6575-0", "LA6574-3"]);

    // And they come back as they went.
    let (_t2, mut fresh) = TempRegistry::created("Difficulty again");
    let report = fresh.import_fhir(&files_of(&dir.path().join("out")), false, &mut |_, _| {}).unwrap();
    assert_eq!(report.added.assessments, 4);
    let chart = fresh.patient_chart("M1", d("2026-03-01")).unwrap();
    let back: Vec<&str> = chart.assessments.iter().map(|a| a.difficulty.map(|d| d.as_str()).unwrap_or("-")).collect();
    assert_eq!(back, spellings);
}

fn ehr_bundle_bytes() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/import/ehr-bundle.json")).unwrap()
}

fn ehr_bundle() -> FhirSource {
    FhirSource::bytes("ehr-bundle.json", ehr_bundle_bytes())
}

#[test]
fn an_ehrs_bundle_imports_panels_with_members_and_totals_alone() {
    let (t, mut r) = TempRegistry::created("EHR");
    let mut told = Vec::new();
    let report = r.import_fhir(&[ehr_bundle()], false, &mut |done, all| told.push((done, all))).unwrap();
    assert_eq!((report.added.patients, report.added.episodes, report.added.assessments), (1, 1, 2));
    // Progress: none done of the Bundle's 16 resources, then each in turn, to 16 of 16.
    assert_eq!((told.first(), told.last(), told.len()), (Some(&(0, 16)), Some(&(16, 16)), 17));
    assert_eq!(report.skipped.get("AllergyIntolerance (not kept by the registry)").copied(), Some(1));
    assert_eq!(report.skipped.get("Observation (not an instrument of the catalogue)").copied(), Some(1), "the blood pressure");

    let chart = r.patient_chart("E001", d("2026-10-01")).unwrap();
    assert_eq!(chart.patient.name, "Adaeze Okonkwo");
    let phq = chart.assessments.iter().find(|a| a.instrument.as_str() == "phq9").unwrap();
    // Items 2,2,1,2,1,1,1,0,0 from the members: total 10, item 9 answered 0; the time and zone dropped.
    assert_eq!((phq.date.to_string().as_str(), phq.total, phq.items.last().copied(), phq.total_only), ("2026-09-14", 10, Some(0), false));
    let gad = chart.assessments.iter().find(|a| a.instrument.as_str() == "gad7").unwrap();
    assert_eq!((gad.total, gad.total_only), (11, true), "a total alone is a total-only score");

    // Each record's audit row names the file and entry.
    let audit = r.audit_log(50).unwrap();
    let created = audit.iter().find(|a| a.record_type == "assessment" && a.action == "create").unwrap();
    assert!(created.details["source"].as_str().unwrap_or_default().starts_with("ehr-bundle.json entry"), "{}", created.details);

    let before = dump(&t.path);
    let again = r.import_fhir(&[ehr_bundle()], false, &mut |_, _| {}).unwrap();
    assert_eq!(again.added, Default::default());
    assert_eq!(without_audit(&dump(&t.path)), without_audit(&before), "a second import changed a record");
}

/// A dump without the audit log (an import's own rows aside, the records must be the same).
fn without_audit(dump: &str) -> String {
    let mut keep = true;
    dump.lines()
        .filter(|l| {
            if l.starts_with("== ") {
                keep = *l != "== audit_log";
            }
            keep
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The EHR bundle with one resource changed by `edit` (found by id).
fn bundle_with(id: &str, edit: impl Fn(&mut Value)) -> FhirSource {
    let mut bundle: Value = serde_json::from_slice(&ehr_bundle_bytes()).unwrap();
    for entry in bundle["entry"].as_array_mut().unwrap() {
        if entry["resource"]["id"] == id {
            edit(&mut entry["resource"]);
        }
    }
    FhirSource::bytes("ehr-bundle.json", serde_json::to_vec(&bundle).unwrap())
}

#[test]
fn bad_input_is_named_and_changes_nothing() {
    let (t, mut r) = TempRegistry::created("Bad FHIR");
    r.add_member("CM", Role::CareManager).unwrap();
    r.add_member("PCP", Role::Pcp).unwrap();
    add_patient(&mut r, "X001");
    let bytes = |name: &str, b: &[u8]| FhirSource::bytes(name, b.to_vec());
    let cases: Vec<(FhirSource, &str)> = vec![
        (bundle_with("ehr-phq-item-3", |o| o["valueCodeableConcept"]["coding"][0]["code"] = json!("LA9999-9")), "item 44259-0 has no answer"),
        (bundle_with("ehr-phq-total", |o| o["valueQuantity"]["value"] = json!(12)), "total 12 is not the PHQ-9's score of the item answers (10)"),
        (bundle_with("ehr-phq-panel", |o| {
            o["hasMember"].as_array_mut().unwrap().remove(0);
        }), "answers 8 of the PHQ-9's 9 items"),
        (bundle_with("ehr-gad-total", |o| o["valueQuantity"]["value"] = json!(22)), "22 is outside the GAD-7's 0–21"),
        (bundle_with("ehr-pat-1", |p| p["identifier"] = json!([])), "has no MRN"),
        (bundle_with("ehr-pat-1", |p| p["identifier"][0]["value"] = json!("X001")), "MRN X001 is already in the registry with date of birth 1970-05-05, not 1979-02-14"),
        (bundle_with("ehr-gad-total", |o| o["subject"] = json!({ "reference": "Patient/elsewhere" })), "its patient (Patient/elsewhere) is not in the files"),
        (bundle_with("ehr-gad-total", |o| o["effectiveDateTime"] = json!("2099-01-01")), "in the future"),
        (bytes("contact.ndjson", br#"{"resourceType":"Encounter","id":"x","status":"finished","subject":{"identifier":{"value":"X001"}},"period":{"start":"2026-09-01"},"length":{"value":20,"unit":"min"},"participant":[{"individual":{"display":"Nobody Known"}}]}"#), "Nobody Known is not on the team"),
        (bytes("broken.ndjson", b"{\"resourceType\":\"Patient\"}\nnot json\n"), "broken.ndjson line 2 is not JSON"),
        (bytes("latin1.json", b"{\"resourceType\":\"Patient\",\"name\":[{\"text\":\"Jos\xe9\"}]}"), "latin1.json is not UTF-8"),
        (bytes("nothing.json", b"{\"hello\":1}"), "not a FHIR resource"),
    ];
    for (file, expected) in cases {
        let before = dump(&t.path);
        let err = r.import_fhir(std::slice::from_ref(&file), false, &mut |_, _| {}).unwrap_err();
        assert!(err.to_string().contains(expected), "{}: expected \"{expected}\" in: {err}", file.name);
        assert_eq!(err.code(), "validation");
        // The whole file is refused: not even the records before the bad one are kept.
        assert_eq!(without_audit(&dump(&t.path)), without_audit(&before), "{expected}: something was stored");
        // A dry run lists the problem and stores nothing either.
        if let Ok(dry) = r.import_fhir(&[file], true, &mut |_, _| {}) {
            assert!(!dry.problems.is_empty(), "{expected}: the dry run found no problem");
        }
        assert_eq!(without_audit(&dump(&t.path)), without_audit(&before));
    }
}

#[test]
fn since_exports_only_what_changed() {
    let (t, mut r) = TempRegistry::created("Since");
    r.add_member("CM", Role::CareManager).unwrap();
    r.add_member("PCP", Role::Pcp).unwrap();
    add_patient(&mut r, "S1");
    enroll(&mut r, "S1", "2026-01-05", Some("2026-01-05"));
    phq(&mut r, "S1", "2026-01-05", [1; 9]);
    // Everything was written today: a --since of tomorrow finds nothing but the team.
    let tomorrow = cocm::dates::today().succ_opt().unwrap();
    let later = r.export_fhir(&out_dir(&t, "later"), Some(tomorrow)).unwrap();
    let types: Vec<&str> = later.files.iter().map(|f| f.resource_type.as_str()).collect();
    assert_eq!(types, ["Practitioner"], "only the team, which every export carries");
    let today = r.export_fhir(&out_dir(&t, "today"), Some(cocm::dates::today())).unwrap();
    let count = |kind: &str| today.files.iter().find(|f| f.resource_type == kind).map_or(0, |f| f.count);
    assert_eq!((count("Patient"), count("EpisodeOfCare"), count("Observation")), (1, 1, 1));
}

#[test]
fn exports_are_a_leads_audited_and_refuse_a_used_folder() {
    let (t, mut lead) = TempRegistry::created("Export rules");
    lead.add_member("Ana Morales", Role::CareManager).unwrap();
    let mut cm = sign_in_as(&mut lead, "Ana Morales");
    let dir = out_dir(&t, "cm");
    assert_eq!(cm.export_fhir(&dir, None).unwrap_err().code(), "permission_denied");
    assert!(!dir.exists(), "a refused export writes nothing");
    assert_eq!(cm.import_fhir(&[ehr_bundle()], false, &mut |_, _| {}).unwrap_err().code(), "permission_denied");

    let mut lead = Registry::sign_in(&t.path, "LEAD", PASSWORD, None).unwrap();
    let dir = out_dir(&t, "lead");
    lead.export_fhir(&dir, None).unwrap();
    let audit = lead.audit_log(5).unwrap();
    let row = audit.iter().find(|a| a.action == "export" && a.record_type == "fhir").expect("the export is audited");
    assert_eq!(row.details["resources"]["Practitioner"], 2, "{}", row.details);
    assert_eq!(lead.export_fhir(&dir, None).unwrap_err().code(), "conflict", "a folder with an export in it is refused");
}

#[test]
fn the_cli_exports_and_imports() {
    let t = TempRegistry::new();
    ok(&t.path, &["init", "--practice", "CLI FHIR", "--lead", CLI_LEAD]);
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/import/ehr-bundle.json");
    let out = ok(&t.path, &["import", "fhir", bundle.to_str().unwrap()]);
    assert!(out.contains("added: 1 patients, 1 episodes, 2 assessments"), "{out}");
    let dir = t.dir.path().join("export");
    let out = ok(&t.path, &["export", "fhir", "--out", dir.to_str().unwrap()]);
    assert!(out.contains("Observation.ndjson"), "{out}");
    let report = json(&t.path, &["import", "fhir", dir.to_str().unwrap(), "--dry-run", "--json"]);
    assert_eq!(report["added"]["assessments"], 0, "the same records again");
    assert_eq!(report["already_present"]["assessments"], 2);
    let since = parse_date("since", "2026-01-01").unwrap().to_string();
    let dir2 = t.dir.path().join("since");
    ok(&t.path, &["export", "fhir", "--out", dir2.to_str().unwrap(), "--since", &since]);
    assert!(dir2.join("manifest.json").exists());
}

#[test]
fn two_identical_records_in_one_file_are_both_kept_and_only_once_on_reimport() {
    let (t, mut r) = TempRegistry::created("Twins");
    r.add_member("CM", Role::CareManager).unwrap();
    r.add_member("PCP", Role::Pcp).unwrap();
    add_patient(&mut r, "T1");
    enroll(&mut r, "T1", "2026-01-05", Some("2026-01-05"));
    // Two 20-minute calls by the same care manager on the same day: two contacts, 40 minutes.
    let contact = r#"{"resourceType":"Encounter","id":"ID","status":"finished","subject":{"identifier":{"value":"T1"}},"period":{"start":"2026-02-03"},"length":{"value":20,"unit":"min"},"participant":[{"individual":{"display":"CM"}}]}"#;
    let lines = format!("{}\n{}\n", contact.replace("ID", "a"), contact.replace("ID", "b"));
    let path = t.dir.path().join("contacts.ndjson");
    std::fs::write(&path, &lines).unwrap();
    let first = r.import_fhir(&cocm::fhir::sources_at(&path).unwrap(), false, &mut |_, _| {}).unwrap();
    assert_eq!((first.added.contacts, first.already_present.contacts), (2, 0));
    let again = r.import_fhir(&cocm::fhir::sources_at(&path).unwrap(), false, &mut |_, _| {}).unwrap();
    assert_eq!((again.added.contacts, again.already_present.contacts), (0, 2));
    // A third identical call in a new file is a third contact.
    std::fs::write(&path, format!("{lines}{}\n", contact.replace("ID", "c"))).unwrap();
    let third = r.import_fhir(&cocm::fhir::sources_at(&path).unwrap(), false, &mut |_, _| {}).unwrap();
    assert_eq!((third.added.contacts, third.already_present.contacts), (1, 2));
    assert_eq!(r.patient_chart("T1", d("2026-02-28")).unwrap().contacts.len(), 3);
}

#[test]
fn a_file_on_disk_is_read_a_line_at_a_time_and_named_when_wrong() {
    let (t, mut r) = TempRegistry::created("Lines");
    let path = t.dir.path().join("bad.ndjson");
    std::fs::write(&path, b"{\"resourceType\":\"Basic\",\"id\":\"a\"}\n{\"resourceType\":\"Basic\",\"text\":\"caf\xe9\"}\n").unwrap();
    let err = r.import_fhir(&cocm::fhir::sources_at(&path).unwrap(), false, &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("bad.ndjson is not UTF-8"), "{err}");
    std::fs::write(&path, b"\xef\xbb\xbf{\"resourceType\":\"Basic\",\"id\":\"a\"}\n\n{\"resourceType\":\"Basic\",\"id\":\"b\"}\n").unwrap();
    let report = r.import_fhir(&cocm::fhir::sources_at(&path).unwrap(), true, &mut |_, _| {}).unwrap();
    assert_eq!(report.resources, 2, "a byte-order mark and a blank line are not resources");
    assert_eq!(report.skipped.get("Basic (not kept by the registry)").copied(), Some(2));
    let missing = cocm::fhir::sources_at(&t.dir.path().join("nowhere")).err().unwrap();
    assert!(missing.to_string().contains("does not exist"), "{missing}");
}
