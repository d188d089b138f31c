//! The respondent's side of a questionnaire link (spec §10): what the patient's page shows and
//! what it sends. A [`Portal`] acts as the `kiosk` role, which may answer questionnaires and do
//! nothing else (`access`), so a link can never read or change anything but its own request.
//!
//! Every link that cannot be answered (unknown, answered, expired, cancelled, locked) gets the
//! same refusal, so the page leaks nothing about why. A wrong date of birth counts toward the
//! lock, and the lock is audited.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::{RequestState, state_of, token_hash};
use crate::access::Action;
use crate::assessments::{self, Provenance};
use crate::audit::{self, Actor};
use crate::dates;
use crate::instruments::Instrument;
use crate::patients::PatientRow;
use crate::vocab::Role;
use crate::{Error, Registry, Result};

/// The one answer to a link that cannot be used, whatever the reason.
pub const UNUSABLE: &str = "this link cannot be used: please contact your practice";

fn unusable() -> Error {
    Error::NotFound(UNUSABLE.into())
}

/// What the page shows: the practice, the language and the questions. Nothing about the patient.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct PatientQuestionnaire {
    pub practice: String,
    pub language: String,
    pub respondent: String,
    pub instruments: Vec<PatientForm>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct PatientForm {
    /// The key its answers go under.
    pub id: String,
    pub instructions: String,
    pub items: Vec<PatientItem>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct PatientItem {
    pub text: String,
    pub options: Vec<PatientOption>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct PatientOption {
    pub score: u8,
    pub label: String,
}

/// `POST /api/patient/<token>`: the date of birth again, and each form's answers, item 1 first.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ts_rs::TS)]
#[serde(default)]
pub struct PatientAnswers {
    pub dob: String,
    pub answers: BTreeMap<String, Vec<i64>>,
}

/// What the respondent sees after sending: the crisis text of §10 first when a safety item is positive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct PatientReply {
    pub crisis: bool,
    pub message: String,
}

/// A stored request that can still be answered.
struct OpenRequest {
    id: String,
    patient: PatientRow,
    instruments: Vec<Instrument>,
    respondent: String,
    language: String,
}

/// How a respondent names their request: a link's token, or (on a clinic tablet) the request a
/// team member handed over.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Link<'a> {
    Token(&'a str),
    Request(&'a str),
}

/// The request behind `link`, if it can still be answered; else the one refusal.
fn open_request(conn: &Connection, link: Link) -> Result<OpenRequest> {
    let (column, key) = match link {
        Link::Token(token) if token.trim().is_empty() || token.len() > 100 => return Err(unusable()),
        Link::Token(token) => ("q.token_hash", token_hash(token)),
        Link::Request(id) => ("q.id", id.to_string()),
    };
    let now = audit::now();
    let row = conn
        .prepare_cached(&format!(
            "SELECT q.id, p.id, p.mrn, p.name, p.dob, q.instruments, q.respondent, q.language,
                    q.answered_at IS NOT NULL, q.cancelled_at IS NOT NULL, q.locked_at IS NOT NULL, q.expires_at
             FROM questionnaire_requests q JOIN patients p ON p.id = q.patient_id WHERE {column} = ?1"
        ))?
        .query_row([key], |r| {
            let (dob, instruments, expires_at): (String, String, String) = (r.get(4)?, r.get(5)?, r.get(11)?);
            let state = state_of(r.get(8)?, r.get(9)?, r.get(10)?, &expires_at, &now);
            Ok((
                state,
                OpenRequest {
                    id: r.get(0)?,
                    patient: PatientRow {
                        id: r.get(1)?,
                        mrn: r.get(2)?,
                        name: r.get(3)?,
                        dob: dates::parse_date("dob", &dob).unwrap_or_default(),
                    },
                    instruments: instruments.split(',').filter_map(Instrument::by_id).collect(),
                    respondent: r.get(6)?,
                    language: r.get(7)?,
                },
            ))
        })
        .optional()?;
    match row {
        Some((RequestState::Open, request)) => Ok(request),
        _ => Err(unusable()),
    }
}

/// A form's questions in `language` (its catalogue translation, else the English text).
fn patient_form(instrument: Instrument, language: &str) -> PatientForm {
    let form = instrument.form();
    let translation = form.translations.get(language);
    let items = form
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let text = translation.and_then(|t| t.items.get(i)).cloned().or_else(|| item.text.clone()).unwrap_or_default();
            let options = instrument
                .options(i)
                .iter()
                .enumerate()
                .map(|(k, o)| PatientOption {
                    score: o.score,
                    // The translation's answer labels are the form's, in score order.
                    label: translation
                        .filter(|_| item.options.is_empty())
                        .and_then(|t| t.options.get(k))
                        .cloned()
                        .unwrap_or_else(|| o.label.clone()),
                })
                .collect();
            PatientItem { text, options }
        })
        .collect();
    let instructions = translation.map(|t| t.instructions.clone()).or_else(|| form.instructions.clone()).unwrap_or_default();
    PatientForm { id: instrument.as_str().to_string(), instructions, items }
}

/// §10's crisis text: 988 and 911 always, and the practice's number where it is set. It makes
/// no promise of a call back.
fn crisis_message(language: &str, phone: &str) -> String {
    let (lead, practice) = match language {
        "es" => (
            "Si está pensando en hacerse daño, busque ayuda ahora. Llame o envíe un mensaje de texto al 988 \
             (Línea de Prevención del Suicidio y Crisis) a cualquier hora. En una emergencia, llame al 911.",
            "También puede llamar a su consultorio al",
        ),
        _ => (
            "If you are thinking about hurting yourself, get help now. Call or text 988 (the Suicide & Crisis Lifeline) \
             at any time. In an emergency, call 911.",
            "You can also call your practice at",
        ),
    };
    let sent = thanks(language);
    if phone.is_empty() { format!("{lead} {sent}") } else { format!("{lead} {practice} {phone}. {sent}") }
}

fn thanks(language: &str) -> &'static str {
    match language {
        "es" => "Gracias. Sus respuestas se enviaron a su equipo de atención.",
        _ => "Thank you. Your answers have been sent to your care team.",
    }
}

/// The date-of-birth refusal: says it does not match, and nothing more.
fn wrong_dob(language: &str) -> Error {
    let message = match language {
        "es" => "esa fecha de nacimiento no coincide; revísela e inténtelo de nuevo",
        _ => "that date of birth does not match; check it and try again",
    };
    Error::validation("dob", message)
}

/// Whether `dob` (as the respondent typed it) is the patient's date of birth.
fn dob_is(request: &OpenRequest, dob: &str) -> bool {
    dates::parse_date("dob", dob.trim()).ok() == Some(request.patient.dob)
}

/// The respondent's door to the registry: a handle that acts as the `kiosk` role.
pub struct Portal {
    registry: Registry,
}

impl Registry {
    /// A handle for questionnaire links, on its own connection (a practice server keeps one).
    pub fn portal(&self) -> Result<Portal> {
        self.portal_as(Actor::new("questionnaire-link", "questionnaire link", Role::Kiosk))
    }

    /// A handle acting as `actor` (a kiosk role), on its own connection.
    pub(crate) fn portal_as(&self, actor: Actor) -> Result<Portal> {
        let mut registry = self.second_handle()?;
        registry.actor = actor;
        Ok(Portal { registry })
    }
}

impl Portal {
    /// The address the next request comes from, for the audit log.
    pub fn set_client(&mut self, client: Option<&str>) {
        self.registry.set_client(client);
    }

    /// `GET /api/patient/<token>`: the questions, or the one refusal.
    pub fn questions(&self, token: &str) -> Result<PatientQuestionnaire> {
        self.questions_of(Link::Token(token))
    }

    pub(crate) fn questions_of(&self, link: Link) -> Result<PatientQuestionnaire> {
        let request = open_request(&self.registry.conn, link)?;
        Ok(PatientQuestionnaire {
            practice: self.registry.practice_name()?,
            instruments: request.instruments.iter().map(|i| patient_form(*i, &request.language)).collect(),
            language: request.language,
            respondent: request.respondent,
        })
    }

    /// `POST /api/patient/<token>/verify`: checks the date of birth before the first question.
    pub fn verify(&mut self, token: &str, dob: &str) -> Result<()> {
        self.verify_of(Link::Token(token), dob)
    }

    pub(crate) fn verify_of(&mut self, link: Link, dob: &str) -> Result<()> {
        let request = open_request(&self.registry.conn, link)?;
        self.check_dob(&request, dob)
    }

    /// Whether `dob` is the date of birth of the link's patient, writing nothing: a server asks
    /// this first and takes the writer's turn (for [`Portal::verify`]) only when it is not.
    /// A link that cannot be used gets the one refusal.
    pub fn dob_matches(&self, token: &str, dob: &str) -> Result<bool> {
        Ok(dob_is(&open_request(&self.registry.conn, Link::Token(token))?, dob))
    }

    /// Compares `dob` with the patient's; a wrong one is counted (and at the limit locks the
    /// link) in a transaction of its own, which stays even though the caller is refused.
    fn check_dob(&mut self, request: &OpenRequest, dob: &str) -> Result<()> {
        if dob_is(request, dob) {
            return Ok(());
        }
        let limit = self.registry.settings()?.questionnaire_dob_tries;
        let locked = self.registry.write(Action::AnswerQuestionnaire, |tx, actor| {
            // Counted in the row itself, so two wrong tries at once are two.
            let tries: i64 = tx.query_row(
                "UPDATE questionnaire_requests SET wrong_dob_tries = wrong_dob_tries + 1 WHERE id = ?1 RETURNING wrong_dob_tries",
                [&request.id],
                |r| r.get(0),
            )?;
            let locked = tries >= limit;
            if locked {
                tx.execute("UPDATE questionnaire_requests SET locked_at = ?2 WHERE id = ?1", (&request.id, audit::now()))?;
            }
            let action = if locked { "lock" } else { "wrong-dob" };
            audit::record(tx, actor, action, "questionnaire-request", Some(&request.id), serde_json::json!({ "tries": tries }))?;
            Ok(locked)
        })?;
        Err(if locked { unusable() } else { wrong_dob(&request.language) })
    }

    /// `POST /api/patient/<token>`: the answers, as one transaction: an assessment per form,
    /// scored by the core, with the request answered. Every form asked must be answered whole.
    /// Returns the reply and the patient's MRN (a server patches its live caseload with it).
    pub fn submit(&mut self, token: &str, answers: &PatientAnswers) -> Result<(PatientReply, String)> {
        self.submit_of(Link::Token(token), answers)
    }

    pub(crate) fn submit_of(&mut self, link: Link, answers: &PatientAnswers) -> Result<(PatientReply, String)> {
        let request = open_request(&self.registry.conn, link)?;
        self.check_dob(&request, &answers.dob)?;
        let asked: Vec<&str> = request.instruments.iter().map(|i| i.as_str()).collect();
        if let Some(extra) = answers.answers.keys().find(|k| !asked.contains(&k.as_str())) {
            return Err(Error::validation("answers", format!("'{extra}' was not asked")));
        }
        let settings = self.registry.settings()?;
        let today = dates::today();
        let reply = self.registry.write(Action::AnswerQuestionnaire, |tx, actor| {
            // An episode discharged or entered in error since the link was sent takes no answers.
            crate::episodes::episode_on(tx, &request.patient, "date", today).map_err(|_| unusable())?;
            let mut crisis = false;
            let provenance = Provenance { source: &request.respondent, request_id: Some(&request.id) };
            for instrument in &request.instruments {
                let given = answers
                    .answers
                    .get(instrument.as_str())
                    .ok_or_else(|| Error::validation("answers", format!("the answers to '{}' are missing", instrument.as_str())))?;
                let (_, score) = assessments::insert_self_reported(tx, actor, &request.patient, *instrument, given, today, provenance)?;
                crisis |= score.safety == Some(true);
            }
            let done = tx.execute(
                "UPDATE questionnaire_requests SET answered_at = ?2 WHERE id = ?1 AND answered_at IS NULL",
                (&request.id, audit::now()),
            )?;
            if done != 1 {
                return Err(unusable()); // answered meanwhile, by another tab
            }
            let details = serde_json::json!({ "mrn": request.patient.mrn, "instruments": asked.join(","), "safety": crisis });
            audit::record(tx, actor, "answer", "questionnaire-request", Some(&request.id), details)?;
            let message =
                if crisis { crisis_message(&request.language, &settings.practice_phone) } else { thanks(&request.language).to_string() };
            Ok(PatientReply { crisis, message })
        })?;
        Ok((reply, request.patient.mrn))
    }

    /// The registry behind the portal, to sign it out (a kiosk's session ending).
    pub(crate) fn into_registry(self) -> Registry {
        self.registry
    }

    /// The registry behind the portal, for a server's live views (read only by them).
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crisis_text_names_988_and_911_and_the_practice_phone() {
        let en = crisis_message("en", "(555) 010-4477");
        assert!(en.starts_with("If you are thinking about hurting yourself"), "{en}");
        assert!(en.contains("988") && en.contains("911") && en.contains("(555) 010-4477"), "{en}");
        let es = crisis_message("es", "");
        assert!(es.contains("988") && es.contains("911") && !es.contains("consultorio al"), "{es}");
        // §10: no promise of a call within a set time.
        assert!(!en.contains("will call") && !en.contains("within"), "{en}");
    }
}
