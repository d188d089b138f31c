//! The three resources a practice has hundreds of thousands of (Observation and
//! QuestionnaireResponse per score, Encounter per contact), written from borrowed structs rather
//! than a `serde_json::Value` tree: building the tree was most of the export's time (malloc,
//! free and map inserts for every key). The JSON is the same shape `resources` would build.

use serde::Serialize;

use super::resources::{AssessmentRow, ContactRow, status_or_error, void_reason_text};
use super::*;
use crate::instruments::{Difficulty, Instrument};
use crate::loinc;
use crate::vocab::ContactMode;

#[derive(Serialize)]
pub(crate) struct Coding<'a> {
    system: &'a str,
    code: &'a str,
    display: &'a str,
}

#[derive(Serialize)]
pub(crate) struct Concept<'a> {
    coding: [Coding<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
}

fn concept<'a>(system: &'a str, code: &'a str, display: &'a str) -> Concept<'a> {
    Concept { coding: [Coding { system, code, display }], text: None }
}

#[derive(Serialize)]
pub(crate) struct Reference<'a> {
    reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    display: Option<&'a str>,
}

fn reference<'a>(kind: &str, id: &str) -> Reference<'a> {
    Reference { reference: format!("{kind}/{id}"), display: None }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Meta<'a> {
    profile: [String; 1],
    last_updated: &'a str,
}

fn meta<'a>(profile: &str, updated: &'a str) -> Meta<'a> {
    Meta { profile: [format!("{US_CORE}/{profile}|{US_CORE_VERSION}")], last_updated: updated }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Extension<'a> {
    url: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_string: Option<&'a str>,
}

/// The entered-in-error reason, as `resources::with_void_reason` writes it.
fn void_reason(voided: &Option<String>) -> Option<Extension<'_>> {
    Some(Extension { url: EXT_VOID_REASON, value_code: None, value_string: Some(void_reason_text(voided)?) })
}

#[derive(Serialize)]
pub(crate) struct Quantity {
    value: i64,
    unit: &'static str,
    system: &'static str,
    code: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Component<'a> {
    code: Concept<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_codeable_concept: Option<Concept<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_quantity: Option<Quantity>,
}

#[derive(Serialize)]
pub(crate) struct Note {
    text: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Observation<'a> {
    resource_type: &'static str,
    id: &'a str,
    meta: Meta<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extension: Option<[Extension<'a>; 1]>,
    status: &'a str,
    category: [Concept<'a>; 1],
    code: Concept<'a>,
    subject: Reference<'a>,
    effective_date_time: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    derived_from: Option<[Reference<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<[Note; 1]>,
    component: Vec<Component<'a>>,
}

fn panel_display(instrument: Instrument) -> &'static str {
    match instrument {
        Instrument::Phq9 => "PHQ-9 quick depression assessment panel",
        Instrument::Gad7 => "Generalized anxiety disorder 7 item (GAD-7)",
    }
}

fn total_display(instrument: Instrument) -> &'static str {
    match instrument {
        Instrument::Phq9 => "Patient Health Questionnaire 9 item (PHQ-9) total score",
        Instrument::Gad7 => "Generalized anxiety disorder 7 item (GAD-7) total score",
    }
}

const DIFFICULTY_DISPLAY: &str = "Difficulty doing work, taking care of things at home, or getting along with other people";

fn difficulty_answer(d: Difficulty) -> (&'static str, &'static str) {
    let i = Difficulty::ALL.iter().position(|x| *x == d).unwrap_or(0);
    loinc::DIFFICULTY_ANSWERS[i]
}

fn score(total: i64) -> Quantity {
    Quantity { value: total, unit: "{score}", system: UCUM, code: "{score}" }
}

/// A PHQ-9 or GAD-7 as a screening-assessment panel: each item's LOINC answer, the total as a
/// `{score}` quantity and the PHQ-9's difficulty, as components. A total-only score has the
/// total alone and says so in a note.
pub(crate) fn observation(a: &AssessmentRow) -> Observation<'_> {
    let (panel, total) = a.instrument.loinc();
    let mut component = Vec::with_capacity(a.answers.len() + 2);
    for (item, value) in a.instrument.items().iter().zip(&a.answers) {
        let (code, label) = loinc::answer(item.loinc, *value).unwrap_or(loinc::ANSWERS[0]);
        component.push(Component {
            code: concept(loinc::SYSTEM, item.loinc, item.text),
            value_codeable_concept: Some(concept(loinc::SYSTEM, code, label)),
            value_quantity: None,
        });
    }
    component.push(Component {
        code: concept(loinc::SYSTEM, total, total_display(a.instrument)),
        value_codeable_concept: None,
        value_quantity: Some(score(a.total)),
    });
    if let Some(d) = a.difficulty {
        let (code, label) = difficulty_answer(d);
        component.push(Component {
            code: concept(loinc::SYSTEM, loinc::PHQ9_DIFFICULTY, DIFFICULTY_DISPLAY),
            value_codeable_concept: Some(concept(loinc::SYSTEM, code, label)),
            value_quantity: None,
        });
    }
    Observation {
        resource_type: "Observation",
        id: &a.id,
        meta: meta("us-core-observation-screening-assessment", &a.updated),
        extension: void_reason(&a.voided).map(|e| [e]),
        status: status_or_error(&a.voided, "final"),
        category: [concept(OBSERVATION_CATEGORY, "survey", "Survey")],
        code: Concept {
            coding: [Coding { system: loinc::SYSTEM, code: panel, display: panel_display(a.instrument) }],
            text: Some(a.instrument.label()),
        },
        subject: reference("Patient", &a.patient_id),
        effective_date_time: &a.date,
        derived_from: (!a.total_only).then(|| [reference("QuestionnaireResponse", &a.id)]),
        note: a.total_only.then_some([Note { text: TOTAL_ONLY_NOTE }]),
        component,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Answer<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    value_coding: Option<Coding<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_integer: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Item<'a> {
    link_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    answer: [Answer<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QuestionnaireResponse<'a> {
    resource_type: &'static str,
    id: &'a str,
    meta: Meta<'a>,
    questionnaire: String,
    status: &'a str,
    subject: Reference<'a>,
    authored: &'a str,
    item: Vec<Item<'a>>,
}

/// The answers of a scored PHQ-9 or GAD-7 against LOINC's questionnaire (none for a total-only
/// score: nothing was answered).
pub(crate) fn questionnaire_response(a: &AssessmentRow) -> Option<QuestionnaireResponse<'_>> {
    if a.total_only {
        return None;
    }
    let (panel, total) = a.instrument.loinc();
    let coded = |system, code, display| Answer { value_coding: Some(Coding { system, code, display }), value_integer: None };
    let mut item: Vec<Item> = a
        .instrument
        .items()
        .iter()
        .zip(&a.answers)
        .map(|(i, value)| {
            let (code, label) = loinc::answer(i.loinc, *value).unwrap_or(loinc::ANSWERS[0]);
            Item { link_id: i.loinc, text: Some(i.text), answer: [coded(loinc::SYSTEM, code, label)] }
        })
        .collect();
    if let Some(d) = a.difficulty {
        let (code, label) = difficulty_answer(d);
        item.push(Item { link_id: loinc::PHQ9_DIFFICULTY, text: None, answer: [coded(loinc::SYSTEM, code, label)] });
    }
    item.push(Item { link_id: total, text: Some("Total score"), answer: [Answer { value_coding: None, value_integer: Some(a.total) }] });
    Some(QuestionnaireResponse {
        resource_type: "QuestionnaireResponse",
        id: &a.id,
        meta: meta("us-core-questionnaireresponse", &a.updated),
        questionnaire: loinc::questionnaire(panel),
        status: status_or_error(&a.voided, "completed"),
        subject: reference("Patient", &a.patient_id),
        authored: &a.date,
        item,
    })
}

#[derive(Serialize)]
pub(crate) struct Period<'a> {
    start: &'a str,
    end: &'a str,
}

#[derive(Serialize)]
pub(crate) struct Participant<'a> {
    individual: Reference<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Encounter<'a> {
    resource_type: &'static str,
    id: &'a str,
    meta: Meta<'a>,
    extension: Vec<Extension<'a>>,
    status: &'a str,
    class: Coding<'a>,
    #[serde(rename = "type")]
    kind: [Concept<'a>; 1],
    subject: Reference<'a>,
    episode_of_care: [Reference<'a>; 1],
    participant: [Participant<'a>; 1],
    period: Period<'a>,
    length: Quantity,
}

/// A care-manager contact: its kind as the encounter's type, its minutes as `length`, its mode
/// and note in extensions (FHIR's `class` cannot tell a phone call from a video visit).
/// `author` is the member's name, for readers that cannot resolve the reference.
pub(crate) fn encounter<'a>(c: &'a ContactRow, author: Option<&'a str>, type_text: &'a str) -> Encounter<'a> {
    let mode = ContactMode::parse("mode", &c.mode).unwrap_or(ContactMode::None);
    let class = match mode {
        ContactMode::Phone | ContactMode::Video | ContactMode::Portal => Coding { system: ACT_CODE, code: "VR", display: "virtual" },
        ContactMode::InPerson | ContactMode::None => Coding { system: ACT_CODE, code: "AMB", display: "ambulatory" },
    };
    let mut extension = vec![Extension { url: EXT_CONTACT_MODE, value_code: Some(&c.mode), value_string: None }];
    if !c.note.is_empty() {
        extension.push(Extension { url: EXT_CONTACT_NOTE, value_code: None, value_string: Some(&c.note) });
    }
    extension.extend(void_reason(&c.voided));
    Encounter {
        resource_type: "Encounter",
        id: &c.id,
        meta: meta("us-core-encounter", &c.updated),
        extension,
        status: status_or_error(&c.voided, "finished"),
        class,
        kind: [Concept { coding: [Coding { system: CONTACT_KIND_SYSTEM, code: &c.kind, display: &c.kind }], text: Some(type_text) }],
        subject: reference("Patient", &c.patient_id),
        episode_of_care: [reference("EpisodeOfCare", &c.episode_id)],
        participant: [Participant { individual: Reference { reference: format!("Practitioner/{}", c.author_id), display: author } }],
        period: Period { start: &c.date, end: &c.date },
        length: Quantity { value: c.minutes, unit: "min", system: UCUM, code: "min" },
    }
}
