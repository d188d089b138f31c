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
    /// An item whose answers have no LOINC codes: its score.
    #[serde(skip_serializing_if = "Option::is_none")]
    value_integer: Option<i64>,
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

const DIFFICULTY_DISPLAY: &str = "Difficulty doing work, taking care of things at home, or getting along with other people";

fn difficulty_answer(d: Difficulty) -> (&'static str, &'static str) {
    let i = Difficulty::ALL.iter().position(|x| *x == d).unwrap_or(0);
    loinc::DIFFICULTY_ANSWERS[i]
}

fn score(total: i64) -> Quantity {
    Quantity { value: total, unit: "{score}", system: UCUM, code: "{score}" }
}

/// An item's answer as a coding: the option's LOINC answer code, where the catalogue has one.
fn answer_coding(instrument: Instrument, index: usize, value: u8) -> Option<Coding<'static>> {
    let option = instrument.option(index, value)?;
    Some(Coding { system: loinc::SYSTEM, code: option.code.as_deref()?, display: &option.label })
}

/// An item's code and its text (its number where the text is not shipped).
fn item_concept(instrument: Instrument, index: usize) -> Concept<'static> {
    let (system, code) = instrument.item_coding(index);
    concept(system, code, instrument.items()[index].text.as_deref().unwrap_or(instrument.label()))
}

/// An assessment as a screening-assessment panel: each item's answer (its LOINC answer code, or
/// its score where the answers have none), the total as a `{score}` quantity and the PHQ-9's
/// difficulty, as components. A total-only score has the total alone and says so in a note.
pub(crate) fn observation(a: &AssessmentRow) -> Observation<'_> {
    let i = a.instrument;
    let codes = i.codes();
    let mut component = Vec::with_capacity(a.answers.len() + 2);
    for (index, value) in a.answers.iter().enumerate().take(i.items().len()) {
        let coded = answer_coding(i, index, *value);
        component.push(Component {
            code: item_concept(i, index),
            value_integer: coded.is_none().then_some(i64::from(*value)),
            value_codeable_concept: coded.map(|c| Concept { coding: [c], text: None }),
            value_quantity: None,
        });
    }
    component.push(Component {
        code: concept(i.code_system(), &codes.total, &codes.total_display),
        value_codeable_concept: None,
        value_quantity: Some(score(a.total)),
        value_integer: None,
    });
    if let (Some(d), Some(question)) = (a.difficulty, &i.form().difficulty) {
        let (code, label) = difficulty_answer(d);
        component.push(Component {
            code: concept(loinc::SYSTEM, &question.code, DIFFICULTY_DISPLAY),
            value_codeable_concept: Some(concept(loinc::SYSTEM, code, label)),
            value_quantity: None,
            value_integer: None,
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
            coding: [Coding { system: i.code_system(), code: &codes.panel, display: &codes.panel_display }],
            text: Some(i.label()),
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

/// The answers of a scored assessment against its questionnaire (LOINC's, or the registry's
/// own for an instrument LOINC does not publish); none for a total-only score: nothing was answered.
pub(crate) fn questionnaire_response(a: &AssessmentRow) -> Option<QuestionnaireResponse<'_>> {
    if a.total_only {
        return None;
    }
    let i = a.instrument;
    let codes = i.codes();
    let mut item: Vec<Item> = a
        .answers
        .iter()
        .enumerate()
        .take(i.items().len())
        .map(|(index, value)| {
            let answer = match answer_coding(i, index, *value) {
                Some(c) => Answer { value_coding: Some(c), value_integer: None },
                None => Answer { value_coding: None, value_integer: Some(i64::from(*value)) },
            };
            Item { link_id: i.item_coding(index).1, text: i.items()[index].text.as_deref(), answer: [answer] }
        })
        .collect();
    if let (Some(d), Some(question)) = (a.difficulty, &i.form().difficulty) {
        let (code, label) = difficulty_answer(d);
        let coding = Coding { system: loinc::SYSTEM, code, display: label };
        item.push(Item { link_id: &question.code, text: None, answer: [Answer { value_coding: Some(coding), value_integer: None }] });
    }
    item.push(Item {
        link_id: &codes.total,
        text: Some("Total score"),
        answer: [Answer { value_coding: None, value_integer: Some(a.total) }],
    });
    Some(QuestionnaireResponse {
        resource_type: "QuestionnaireResponse",
        id: &a.id,
        meta: meta("us-core-questionnaireresponse", &a.updated),
        questionnaire: if i.code_system() == loinc::SYSTEM {
            loinc::questionnaire(&codes.panel)
        } else {
            format!("{BASE}/Questionnaire/{}", i.as_str())
        },
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
