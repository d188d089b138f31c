//! The registry's records as FHIR R4 resources, claiming the US Core 6.1.0 profile where one
//! fits (issue 10). Each function takes a record as the export reads it and returns the
//! resource; the import (`fhir::import`) reads the same shapes back.

use serde_json::{Value, json};

use super::*;
use crate::instruments::{Difficulty, Instrument};
use crate::loinc;
use crate::vocab::Payer;

/// A team member as the export reads it.
pub(crate) struct MemberRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub npi: Option<String>,
    pub credential: Option<String>,
    pub fte_hundredths: Option<i64>,
}

pub(crate) struct PatientRow {
    pub id: String,
    pub mrn: String,
    pub name: String,
    pub dob: String,
    pub pcp: Option<String>,
    pub care_manager: Option<String>,
    pub consultant: Option<String>,
    pub created_at: String,
}

pub(crate) struct AssessmentRow {
    pub id: String,
    pub patient_id: String,
    pub date: String,
    pub instrument: Instrument,
    pub answers: Vec<u8>,
    pub total: i64,
    pub difficulty: Option<Difficulty>,
    pub total_only: bool,
    /// Why it was marked entered in error, if it was.
    pub voided: Option<String>,
    pub updated: String,
}

pub(crate) struct ContactRow {
    pub id: String,
    pub patient_id: String,
    pub episode_id: String,
    pub date: String,
    pub author_id: String,
    pub kind: String,
    pub mode: String,
    pub minutes: i64,
    pub note: String,
    /// Why it was marked entered in error, if it was.
    pub voided: Option<String>,
    pub updated: String,
}

/// One status of an episode's history, from `date` on.
pub(crate) struct StatusRow {
    pub date: String,
    pub status: String,
    pub reason: Option<String>,
}

pub(crate) struct EpisodeRow {
    pub id: String,
    pub patient_id: String,
    pub start: String,
    pub targets: String,
    pub status: String,
    pub discharge: Option<String>,
    pub care_manager: Option<String>,
    pub history: Vec<StatusRow>,
    /// Why it was marked entered in error, if it was.
    pub voided: Option<String>,
    pub updated: String,
    /// The ids of its valid diagnoses (Conditions), the primary first.
    pub diagnoses: Vec<String>,
}

pub(crate) struct ConsentRow {
    pub id: String,
    pub patient_id: String,
    pub episode_id: String,
    pub date: String,
    /// Why it was marked entered in error, if it was.
    pub voided: Option<String>,
    pub updated: String,
}

pub(crate) struct RequestRow {
    pub id: String,
    pub patient_id: String,
    pub episode_id: String,
    pub date: String,
    pub requested_by: String,
    pub reason: String,
    pub closed: bool,
    /// Why it was marked entered in error, if it was.
    pub voided: Option<String>,
    pub updated: String,
}

pub(crate) struct ReviewRow {
    pub id: String,
    pub patient_id: String,
    pub episode_id: String,
    pub date: String,
    pub consultant: String,
    pub recommendations: Recommendations,
    /// Why it was marked entered in error, if it was.
    pub voided: Option<String>,
    pub created_at: String,
    pub updated: String,
}

pub(crate) struct TreatmentRow {
    pub id: String,
    pub patient_id: String,
    pub episode_id: String,
    pub date: String,
    pub kind: String,
    pub description: String,
    pub voided: Option<String>,
    pub updated: String,
}

/// A case review's recommendations and note, as the DocumentReference's JSON attachment holds them.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub(crate) struct Recommendations {
    pub medication: String,
    pub psychotherapy: String,
    pub referral: String,
    pub other: String,
    pub note: String,
}

fn profile(name: &str) -> String {
    format!("{US_CORE}/{name}|{US_CORE_VERSION}")
}

fn meta(profile_name: Option<&str>, updated: &str) -> Value {
    match profile_name {
        Some(p) => json!({ "profile": [profile(p)], "lastUpdated": updated }),
        None => json!({ "lastUpdated": updated }),
    }
}

fn reference(kind: &str, id: &str) -> Value {
    json!({ "reference": format!("{kind}/{id}") })
}

/// A practitioner reference, with the member's name for readers that cannot resolve it.
fn practitioner(id: &str, names: &dyn Fn(&str) -> Option<String>) -> Value {
    match names(id) {
        Some(name) => json!({ "reference": format!("Practitioner/{id}"), "display": name }),
        None => reference("Practitioner", id),
    }
}

fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({ "system": system, "code": code, "display": display })
}

/// A person's one-string name as a HumanName: the text as typed, the last word as family name,
/// a leading title ("Dr.") as prefix and the rest as given names.
fn human_name(name: &str) -> Value {
    let mut words: Vec<&str> = name.split_whitespace().collect();
    let family = words.pop().unwrap_or(name);
    let mut value = json!({ "text": name, "family": family });
    if words.first().is_some_and(|w| w.ends_with('.')) && !words.is_empty() {
        value["prefix"] = json!([words.remove(0)]);
    }
    if !words.is_empty() {
        value["given"] = json!(words);
    }
    value
}

pub(super) fn status_or_error<'s>(voided: &Option<String>, status: &'s str) -> &'s str {
    if voided.is_some() { "entered-in-error" } else { status }
}

/// A record marked entered in error keeps why in an extension, so an import marks it again.
/// Why a record was marked entered in error, as its extension says it (records from before
/// reasons were required say only that).
pub(super) fn void_reason_text(voided: &Option<String>) -> Option<&str> {
    voided.as_deref().map(|reason| if reason.is_empty() { "entered in error" } else { reason })
}

fn with_void_reason(mut resource: Value, voided: &Option<String>) -> Value {
    if let Some(reason) = void_reason_text(voided) {
        let ext = json!({ "url": EXT_VOID_REASON, "valueString": reason });
        match resource["extension"].as_array_mut() {
            Some(list) => list.push(ext),
            None => resource["extension"] = json!([ext]),
        }
    }
    resource
}

pub(crate) fn practitioner_resource(m: &MemberRow) -> Value {
    let mut extension = vec![json!({ "url": EXT_TEAM_ROLE, "valueCode": m.role })];
    if let Some(h) = m.fte_hundredths {
        extension.push(json!({ "url": EXT_COCM_FTE, "valueDecimal": h as f64 / 100.0 }));
    }
    let mut identifier = vec![json!({ "system": TEAM_MEMBER_SYSTEM, "value": m.id })];
    if let Some(npi) = &m.npi {
        identifier.push(json!({ "system": NPI_SYSTEM, "value": npi }));
    }
    let mut practitioner = json!({
        "resourceType": "Practitioner",
        "id": m.id,
        "meta": { "profile": [profile("us-core-practitioner")] },
        "extension": extension,
        "identifier": identifier,
        "active": true,
        "name": [human_name(&m.name)],
    });
    if let Some(c) = &m.credential {
        practitioner["qualification"] = json!([{ "code": { "coding": [coding(CREDENTIAL_SYSTEM, c, c)], "text": c } }]);
    }
    practitioner
}

pub(crate) fn patient(p: &PatientRow, names: &dyn Fn(&str) -> Option<String>) -> Value {
    let mut patient = json!({
        "resourceType": "Patient",
        "id": p.id,
        "meta": meta(Some("us-core-patient"), &p.created_at),
        "identifier": [{
            "use": "usual",
            "type": { "coding": [coding(V2_0203, "MR", "Medical record number")], "text": "MRN" },
            "system": MRN_SYSTEM,
            "value": p.mrn,
        }],
        "name": [human_name(&p.name)],
        // The registry does not record gender; US Core requires the element, and "unknown" says so.
        "gender": "unknown",
        "birthDate": p.dob,
    });
    if let Some(pcp) = &p.pcp {
        patient["generalPractitioner"] = json!([practitioner(pcp, names)]);
    }
    patient
}

/// One coverage record (spec §7a): the payer as the Source of Payment Typology codes it, the
/// plan as a `plan` class, the member id as `subscriberId`, the dates as `period` and primary
/// or secondary as `order`. One entered in error is `entered-in-error`.
pub(crate) fn coverage(p: &PatientRow, c: &crate::coverage::Coverage) -> Value {
    let (code, display) = payer_typology(c.payer);
    let payor =
        if c.payer == Payer::SelfPay { reference("Patient", &p.id) } else { json!({ "display": c.plan.as_deref().unwrap_or(display) }) };
    let mut coverage = json!({
        "resourceType": "Coverage",
        "id": c.id,
        "meta": meta(Some("us-core-coverage"), &p.created_at),
        "status": if c.entered_in_error.is_some() { "entered-in-error" } else { "active" },
        "type": { "coding": [coding(PAYER_TYPOLOGY, code, display)], "text": c.payer.as_str() },
        "beneficiary": reference("Patient", &p.id),
        "relationship": { "coding": [coding(SUBSCRIBER_RELATIONSHIP, "self", "Self")] },
        "payor": [payor],
        "order": if c.secondary { 2 } else { 1 },
    });
    let mut period = serde_json::Map::new();
    if let Some(from) = c.from {
        period.insert("start".into(), json!(from.to_string()));
    }
    if let Some(to) = c.to {
        period.insert("end".into(), json!(to.to_string()));
    }
    if !period.is_empty() {
        coverage["period"] = Value::Object(period);
    }
    if let Some(member) = &c.member_id {
        coverage["subscriberId"] = json!(member);
    }
    if let Some(plan) = &c.plan {
        let class = json!({ "type": { "coding": [coding(COVERAGE_CLASS, "plan", "Plan")] }, "value": plan, "name": plan });
        coverage["class"] = json!([class]);
    }
    coverage
}

/// Source of Payment Typology code and display of a payer.
pub(crate) fn payer_typology(payer: Payer) -> (&'static str, &'static str) {
    match payer {
        Payer::Medicare => ("1", "Medicare"),
        Payer::Medicaid => ("2", "Medicaid"),
        Payer::Commercial => ("5", "Private Health Insurance"),
        Payer::SelfPay => ("81", "Self-pay"),
        Payer::Other => ("9", "Miscellaneous/Other"),
    }
}

/// The patient's care team: PCP, care manager and psychiatric consultant, each with their role.
pub(crate) fn care_team(p: &PatientRow, names: &dyn Fn(&str) -> Option<String>) -> Option<Value> {
    let roles = [("pcp", &p.pcp), ("care-manager", &p.care_manager), ("psychiatric-consultant", &p.consultant)];
    let participants: Vec<Value> = roles
        .iter()
        .filter_map(|(role, id)| {
            let id = id.as_ref()?;
            Some(json!({ "role": [{ "coding": [coding(TEAM_ROLE_SYSTEM, role, role)] }], "member": practitioner(id, names) }))
        })
        .collect();
    if participants.is_empty() {
        return None;
    }
    Some(json!({
        "resourceType": "CareTeam",
        "id": p.id,
        "meta": meta(None, &p.created_at),
        "status": "active",
        "name": "Collaborative care team",
        "subject": reference("Patient", &p.id),
        "participant": participants,
    }))
}

/// An episode: FHIR's status (relapse prevention is `active`), each status of its history with
/// the registry's own status (and discharge reason) in an extension, the targets as its type.
pub(crate) fn episode_of_care(e: &EpisodeRow, names: &dyn Fn(&str) -> Option<String>) -> Value {
    let fhir_status = |s: &str| if s == "discharged" { "finished" } else { "active" };
    let history: Vec<Value> = e
        .history
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut period = json!({ "start": s.date });
            if let Some(next) = e.history.get(i + 1) {
                period["end"] = json!(next.date);
            }
            let mut extension = vec![json!({ "url": EXT_EPISODE_STATUS, "valueCode": s.status })];
            if let Some(reason) = &s.reason {
                extension.push(json!({ "url": EXT_DISCHARGE_REASON, "valueCode": reason }));
            }
            json!({ "extension": extension, "status": fhir_status(&s.status), "period": period })
        })
        .collect();
    let targets: Vec<&str> = e.targets.split(',').filter(|t| !t.is_empty()).collect();
    let mut period = json!({ "start": e.start });
    if let Some(end) = &e.discharge {
        period["end"] = json!(end);
    }
    let mut episode = json!({
        "resourceType": "EpisodeOfCare",
        "id": e.id,
        "meta": meta(None, &e.updated),
        "status": status_or_error(&e.voided, fhir_status(&e.status)),
        "statusHistory": history,
        "type": [{
            "coding": targets.iter().map(|t| coding(TARGET_SYSTEM, t, t)).collect::<Vec<_>>(),
            "text": format!("Collaborative care for {}", targets.join(" and ")),
        }],
        "patient": reference("Patient", &e.patient_id),
        "period": period,
        "team": [reference("CareTeam", &e.patient_id)],
    });
    if let Some(cm) = &e.care_manager {
        episode["careManager"] = practitioner(cm, names);
    }
    // §7a: the episode's diagnoses, ranked in the order recorded (1: primary).
    if !e.diagnoses.is_empty() {
        let ranked: Vec<Value> =
            e.diagnoses.iter().enumerate().map(|(i, id)| json!({ "condition": reference("Condition", id), "rank": i + 1 })).collect();
        episode["diagnosis"] = json!(ranked);
    }
    with_void_reason(episode, &e.voided)
}

/// One diagnosis (spec §7a) as a US Core problem-list Condition coded in ICD-10-CM; the
/// episode it belongs to lists it in `EpisodeOfCare.diagnosis`.
pub(crate) fn condition(patient_id: &str, d: &crate::diagnoses::Diagnosis, updated: &str) -> Value {
    let voided = d.entered_in_error.as_ref().map(|e| e.reason.clone());
    let verification = if voided.is_some() { ("entered-in-error", "Entered in Error") } else { ("confirmed", "Confirmed") };
    let condition = json!({
        "resourceType": "Condition",
        "id": d.id,
        "meta": meta(Some("us-core-condition-problems-health-concerns"), updated),
        "clinicalStatus": { "coding": [coding(CONDITION_CLINICAL, "active", "Active")] },
        "verificationStatus": { "coding": [coding(CONDITION_VERIFICATION, verification.0, verification.1)] },
        "category": [{ "coding": [coding(CONDITION_CATEGORY, "problem-list-item", "Problem List Item")] }],
        "code": { "coding": [coding(ICD_10_CM, &d.code, &d.description)], "text": d.description },
        "subject": reference("Patient", patient_id),
        "recordedDate": d.date.to_string(),
    });
    with_void_reason(condition, &voided)
}

/// A practice visit (§9) as a US Core Encounter: its CPT/HCPCS codes as the type, in person
/// (`AMB`) or telehealth (`VR`) as the class, the provider category as the service type. No
/// length and no episode: that is what tells it from a care manager's contact.
pub(crate) fn visit_encounter(patient_id: &str, v: &crate::visits::Visit, updated: &str) -> Value {
    let class = match v.modality {
        crate::visits::VisitModality::Telehealth => coding(ACT_CODE, "VR", "virtual"),
        crate::visits::VisitModality::InPerson => coding(ACT_CODE, "AMB", "ambulatory"),
    };
    let codes: Vec<Value> = v
        .codes
        .iter()
        .map(|c| {
            let system = if c.starts_with(|ch: char| ch.is_ascii_digit()) { CPT } else { HCPCS };
            json!({ "coding": [{ "system": system, "code": c }] })
        })
        .collect();
    let voided = v.entered_in_error.as_ref().map(|e| e.reason.clone());
    let resource = json!({
        "resourceType": "Encounter",
        "id": v.id,
        "meta": meta(Some("us-core-encounter"), updated),
        "status": status_or_error(&voided, "finished"),
        "class": class,
        "type": codes,
        "serviceType": { "coding": [coding(VISIT_CATEGORY_SYSTEM, v.category.as_str(), v.category.as_str())] },
        "subject": reference("Patient", patient_id),
        "period": { "start": v.date.to_string(), "end": v.date.to_string() },
    });
    with_void_reason(resource, &voided)
}

pub(crate) fn consent(c: &ConsentRow) -> Value {
    let resource = json!({
        "resourceType": "Consent",
        "id": c.id,
        "meta": meta(None, &c.updated),
        "status": status_or_error(&c.voided, "active"),
        "scope": { "coding": [coding(CONSENT_SCOPE, "treatment", "Treatment")] },
        "category": [{ "coding": [coding(loinc::SYSTEM, loinc::PATIENT_CONSENT, "Patient consent")] }],
        "patient": reference("Patient", &c.patient_id),
        "dateTime": c.date,
        "policyRule": { "text": "Consent to collaborative care (verbal consent is enough)" },
        "provision": { "type": "permit", "data": [{ "meaning": "related", "reference": reference("EpisodeOfCare", &c.episode_id) }] },
    });
    with_void_reason(resource, &c.voided)
}

/// A treatment change: a medication started or changed as a `MedicationStatement` (the
/// description as the medication's text), psychotherapy or another change as a `Procedure`
/// (us-core-procedure). The registry's kind is kept in both, so an import gets it back.
pub(crate) fn treatment_change(t: &TreatmentRow) -> Value {
    let kind = coding(TREATMENT_CHANGE_SYSTEM, &t.kind, &t.kind);
    let resource = if t.kind.starts_with("medication-") {
        json!({
            "resourceType": "MedicationStatement",
            "id": t.id,
            "meta": meta(None, &t.updated),
            "extension": [{ "url": EXT_TREATMENT_CHANGE, "valueCoding": kind }],
            "status": status_or_error(&t.voided, "active"),
            "medicationCodeableConcept": { "text": t.description },
            "subject": reference("Patient", &t.patient_id),
            "context": reference("EpisodeOfCare", &t.episode_id),
            "effectiveDateTime": t.date,
        })
    } else {
        json!({
            "resourceType": "Procedure",
            "id": t.id,
            "meta": meta(Some("us-core-procedure"), &t.updated),
            "status": status_or_error(&t.voided, "completed"),
            "code": { "coding": [kind], "text": t.description },
            "subject": reference("Patient", &t.patient_id),
            "performedDateTime": t.date,
        })
    };
    with_void_reason(resource, &t.voided)
}

/// A request that the psychiatric consultant review the patient: `completed` once a case review
/// dated on or after it exists (spec §2), else `active`.
pub(crate) fn service_request(r: &RequestRow, names: &dyn Fn(&str) -> Option<String>) -> Value {
    let status = if r.closed { "completed" } else { "active" };
    let resource = json!({
        "resourceType": "ServiceRequest",
        "id": r.id,
        "meta": meta(Some("us-core-servicerequest"), &r.updated),
        "status": status_or_error(&r.voided, status),
        "intent": "order",
        "code": { "coding": [coding(SERVICE_SYSTEM, CASE_REVIEW_SERVICE, "Psychiatric consultant case review")], "text": "Psychiatric consultant case review" },
        "subject": reference("Patient", &r.patient_id),
        "authoredOn": r.date,
        "requester": practitioner(&r.requested_by, names),
        "reasonCode": [{ "text": r.reason }],
        "supportingInfo": [reference("EpisodeOfCare", &r.episode_id)],
    });
    with_void_reason(resource, &r.voided)
}

/// A case review as a consult note: the recommendations as readable text, and again as JSON so
/// that an import gets each field back.
pub(crate) fn document_reference(r: &ReviewRow, names: &dyn Fn(&str) -> Option<String>) -> Value {
    use base64ct::{Base64, Encoding};
    let rec = &r.recommendations;
    let lines: Vec<String> = [
        ("Medication", &rec.medication),
        ("Psychotherapy", &rec.psychotherapy),
        ("Referral", &rec.referral),
        ("Other", &rec.other),
        ("Note", &rec.note),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}: {v}"))
    .collect();
    let text = if lines.is_empty() { "Case reviewed; no changes recommended.".to_string() } else { lines.join("\n") };
    let json_text = serde_json::to_string(rec).unwrap_or_default();
    let resource = json!({
        "resourceType": "DocumentReference",
        "id": r.id,
        "meta": meta(Some("us-core-documentreference"), &r.updated),
        "status": status_or_error(&r.voided, "current"),
        "docStatus": "final",
        "type": { "coding": [coding(loinc::SYSTEM, loinc::CONSULT_NOTE, "Consult note")] },
        "category": [{ "coding": [coding(US_CORE_DOCUMENT_CATEGORY, "clinical-note", "Clinical Note")] }],
        "subject": reference("Patient", &r.patient_id),
        "date": r.created_at,
        "author": [practitioner(&r.consultant, names)],
        "description": "Psychiatric consultant case review",
        "content": [
            { "attachment": { "contentType": "text/plain; charset=utf-8", "data": Base64::encode_string(text.as_bytes()), "title": "Case review" } },
            { "attachment": { "contentType": "application/json", "data": Base64::encode_string(json_text.as_bytes()), "title": "Case review (structured)" } },
        ],
        "context": { "period": { "start": r.date, "end": r.date }, "related": [reference("EpisodeOfCare", &r.episode_id)] },
    });
    with_void_reason(resource, &r.voided)
}
