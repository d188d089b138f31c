//! Questionnaire requests (spec §10): a care manager sends a patient (or a child's caregiver) a
//! link to answer the episode's measures themselves. This module is the team's side: send,
//! list, cancel, and mark the answers reviewed. `portal` is the respondent's side: the link's
//! questions, the date-of-birth check and the answers.
//!
//! A link is `<patient_portal_url>/r/<token>`: 256 random bits, of which the registry keeps only
//! the SHA-256. The token is shown once, to the member who sends it; it is never audited.

pub mod alerts;
pub mod kiosk;
pub mod portal;
mod schedule;

pub use schedule::{DueCheckIn, DueSending, NotSent};

use base64ct::{Base64UrlUnpadded, Encoding};
use chacha20poly1305::aead::{OsRng, rand_core::RngCore};
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::access::Action;
use crate::audit;
use crate::episodes::{self, Episode};
use crate::instruments::Instrument;
use crate::patients;
use crate::store::new_id;
use crate::vocab::Target;
use crate::{Error, Registry, Result};

/// The languages a request may be sent in: English, and those the catalogue translates.
pub const LANGUAGES: &[&str] = &["en", "es"];

/// What `cocm questionnaire send` and *Send check-in* ask for; blanks take the defaults.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ts_rs::TS)]
#[serde(default)]
pub struct NewQuestionnaire {
    /// Catalogue ids; empty: the episode's primary scales, plus the PHQ-9 for depression.
    pub instruments: Vec<String>,
    /// `patient` [default] or `caregiver`.
    pub respondent: Option<String>,
    /// `en` [default] or `es`.
    pub language: Option<String>,
    /// Where the link was (or is to be) e-mailed.
    pub email: Option<String>,
}

crate::vocab::string_enum!(
    /// Where a request stands.
    RequestState {
        Open => "open",
        Answered => "answered",
        Expired => "expired",
        Cancelled => "cancelled",
        Locked => "locked",
    }
);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct QuestionnaireRequest {
    pub id: String,
    pub mrn: String,
    pub patient: String,
    pub instruments: Vec<Instrument>,
    pub respondent: String,
    pub language: String,
    pub email: Option<String>,
    pub created_at: String,
    pub created_by: String,
    pub expires_at: String,
    pub state: RequestState,
    pub answered_at: Option<String>,
}

/// A request just sent, with its link: the only time the link exists outside the respondent's hands.
#[derive(Clone, Debug, Serialize, Deserialize, ts_rs::TS)]
pub struct SentQuestionnaire {
    pub request: QuestionnaireRequest,
    pub link: String,
    /// The link as a QR code (SVG), for the printed letter.
    pub qr_svg: String,
    /// Whether the link went out by e-mail through the practice's SMTP server.
    pub emailed: bool,
    /// Why it did not, when an address was given and sending failed (the link still works).
    pub email_error: Option<String>,
}

/// A fresh token (32 random bytes, URL-safe base64) and its stored hash.
fn new_token() -> (Zeroizing<String>, String) {
    let mut bytes = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(bytes.as_mut());
    let token = Zeroizing::new(Base64UrlUnpadded::encode_string(bytes.as_ref()));
    let hash = token_hash(&token);
    (token, hash)
}

pub(crate) fn token_hash(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The forms a request asks by default (§10): the episode's primary scales, each as the form
/// the respondent answers (a caregiver's SMFQ is the parent form), plus the PHQ-9 wherever a
/// depression target has no form with a safety item.
fn default_instruments(episode: &Episode, respondent: &str) -> Vec<Instrument> {
    let mut chosen: Vec<Instrument> = Vec::new();
    for scale in &episode.primary_scales {
        let forms = crate::instruments::scale_forms(scale.scale);
        if let Some(form) = forms.iter().find(|f| f.form().respondent == respondent).or(forms.first())
            && !chosen.contains(form)
        {
            chosen.push(*form);
        }
    }
    let depression = episode.targets.contains(&Target::Depression);
    if depression && respondent == "patient" && !chosen.iter().any(|i| i.has_safety_items()) {
        chosen.push(Instrument::parse("instruments", "phq9").expect("the catalogue has the PHQ-9"));
    }
    chosen
}

/// Checks that every form can be answered by `respondent` in `language` from a link.
fn check_forms(forms: &[Instrument], respondent: &str, language: &str) -> Result<()> {
    if forms.is_empty() {
        return Err(Error::validation("instruments", "name at least one instrument"));
    }
    for form in forms {
        let f = form.form();
        if !f.text_shipped {
            return Err(Error::validation(
                "instruments",
                format!("the {}'s item texts are not shipped (its terms of use), so it cannot be answered from a link", f.label),
            ));
        }
        if f.respondent != respondent {
            return Err(Error::validation("instruments", format!("the {} is answered by a {}, not a {respondent}", f.label, f.respondent)));
        }
        if language != "en" && !f.translations.contains_key(language) {
            return Err(Error::validation("language", format!("the catalogue has no '{language}' translation of the {}", f.label)));
        }
    }
    Ok(())
}

fn check_email(email: Option<&str>) -> Result<Option<String>> {
    let Some(email) = email.map(str::trim).filter(|e| !e.is_empty()) else { return Ok(None) };
    let (local, domain) = email.split_once('@').unwrap_or(("", ""));
    if local.is_empty() || !domain.contains('.') || email.chars().any(|c| c.is_whitespace() || c == ',' || c == '<') {
        return Err(Error::validation("email", format!("'{email}' is not an e-mail address")));
    }
    Ok(Some(email.to_string()))
}

/// Where a stored request stands now.
fn state_of(answered: bool, cancelled: bool, locked: bool, expires_at: &str, now: &str) -> RequestState {
    match () {
        _ if answered => RequestState::Answered,
        _ if cancelled => RequestState::Cancelled,
        _ if locked => RequestState::Locked,
        // Both are RFC 3339 UTC with milliseconds (`audit::now`), so they order as text.
        _ if expires_at <= now => RequestState::Expired,
        _ => RequestState::Open,
    }
}

const COLUMNS: &str = "q.id, p.mrn, p.name, q.instruments, q.respondent, q.language, q.email, q.created_at, q.created_by,
     q.expires_at, q.answered_at, q.cancelled_at IS NOT NULL, q.locked_at IS NOT NULL";

fn from_row(r: &rusqlite::Row, now: &str) -> rusqlite::Result<QuestionnaireRequest> {
    let instruments: String = r.get(3)?;
    let expires_at: String = r.get(9)?;
    let answered_at: Option<String> = r.get(10)?;
    Ok(QuestionnaireRequest {
        id: r.get(0)?,
        mrn: r.get(1)?,
        patient: r.get(2)?,
        instruments: instruments.split(',').filter_map(Instrument::by_id).collect(),
        respondent: r.get(4)?,
        language: r.get(5)?,
        email: r.get(6)?,
        created_at: r.get(7)?,
        created_by: r.get(8)?,
        state: state_of(answered_at.is_some(), r.get(11)?, r.get(12)?, &expires_at, now),
        expires_at,
        answered_at,
    })
}

fn find(conn: &Connection, id: &str) -> Result<QuestionnaireRequest> {
    let now = audit::now();
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM questionnaire_requests q JOIN patients p ON p.id = q.patient_id WHERE q.id = ?1"))?
        .query_row([id.trim()], |r| from_row(r, &now))
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("there is no questionnaire request {}", id.trim())))
}

impl Registry {
    /// Sends a questionnaire request (spec §10): stores it and returns its link, once.
    pub fn send_questionnaire(&mut self, mrn: &str, q: &NewQuestionnaire) -> Result<SentQuestionnaire> {
        self.permit(Action::SendQuestionnaire)?;
        let settings = self.settings()?;
        if settings.patient_portal_url.is_empty() {
            return Err(Error::validation(
                "patient_portal_url",
                "set the address patients open links at (the setting patient_portal_url) before sending one",
            ));
        }
        let respondent = q.respondent.as_deref().map(str::trim).filter(|r| !r.is_empty()).unwrap_or("patient");
        if !matches!(respondent, "patient" | "caregiver") {
            return Err(Error::validation("respondent", format!("must be patient or caregiver (got '{respondent}')")));
        }
        let language = q.language.as_deref().map(str::trim).filter(|l| !l.is_empty()).unwrap_or("en");
        if !LANGUAGES.contains(&language) {
            return Err(Error::validation("language", format!("must be one of {} (got '{language}')", LANGUAGES.join(", "))));
        }
        let email = check_email(q.email.as_deref())?;
        let patient = patients::find_by_mrn(&self.conn, mrn)?;
        let episode = episodes::open_episode(&self.conn, &patient)?.ok_or_else(|| {
            Error::validation("mrn", format!("{} has no open episode: questionnaires measure an episode's care", patient.mrn))
        })?;
        let forms = match q.instruments.iter().filter(|i| !i.trim().is_empty()).collect::<Vec<_>>() {
            named if named.is_empty() => default_instruments(&episode, respondent),
            named => named.iter().map(|i| Instrument::parse("instruments", i)).collect::<Result<Vec<_>>>()?,
        };
        check_forms(&forms, respondent, language)?;
        let (token, hash) = new_token();
        let expires_at = (chrono::Utc::now() + chrono::Duration::days(settings.questionnaire_expiry_days))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let ids: Vec<&str> = forms.iter().map(|f| f.as_str()).collect();
        let id = self.write(Action::SendQuestionnaire, |tx, actor| {
            let id = new_id();
            tx.execute(
                "INSERT INTO questionnaire_requests (id, patient_id, episode_id, instruments, respondent, language, token_hash, email,
                                                     created_at, created_by, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                rusqlite::params![
                    id,
                    patient.id,
                    episode.id,
                    ids.join(","),
                    respondent,
                    language,
                    hash,
                    email,
                    audit::now(),
                    actor.name,
                    expires_at
                ],
            )?;
            let details = serde_json::json!({ "mrn": patient.mrn, "instruments": ids.join(","), "respondent": respondent,
                "language": language, "email": email.is_some(), "expires_at": expires_at });
            audit::record(tx, actor, "create", "questionnaire-request", Some(&id), details)?;
            Ok(id)
        })?;
        let link = format!("{}/r/{}", settings.patient_portal_url, token.as_str());
        let qr = qrcode::QrCode::new(link.as_bytes()).map_err(|e| Error::Storage(format!("the QR code: {e}")))?;
        let qr_svg = qr.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build();
        // After the commit: a mail server that is slow or down does not undo the request.
        let (mut emailed, mut email_error) = (false, None);
        if let Some(to) = email.as_deref().filter(|_| !settings.smtp_host.is_empty()) {
            match self.email_link(&settings, to, &link, language) {
                Ok(()) => {
                    emailed = true;
                    audit::record(&self.conn, self.actor(), "email", "questionnaire-request", Some(&id), serde_json::json!({}))?;
                }
                Err(e) => email_error = Some(e.to_string()),
            }
        }
        Ok(SentQuestionnaire { request: find(&self.conn, &id)?, link, qr_svg, emailed, email_error })
    }

    /// Requests, newest first: one patient's (every one), or the practice's open ones and those
    /// settled in the last 14 days.
    pub fn questionnaires(&self, mrn: Option<&str>) -> Result<Vec<QuestionnaireRequest>> {
        let now = audit::now();
        let list = match mrn.map(str::trim).filter(|m| !m.is_empty()) {
            Some(mrn) => {
                let patient = patients::find_by_mrn(&self.conn, mrn)?;
                let mut stmt = self.conn.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM questionnaire_requests q JOIN patients p ON p.id = q.patient_id
                     WHERE q.patient_id = ?1 ORDER BY q.created_at DESC"
                ))?;
                stmt.query_map([&patient.id], |r| from_row(r, &now))?.collect::<rusqlite::Result<Vec<_>>>()?
            }
            None => {
                let since = (chrono::Utc::now() - chrono::Duration::days(14)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                let mut stmt = self.conn.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM questionnaire_requests q JOIN patients p ON p.id = q.patient_id
                     WHERE q.expires_at > ?1 OR q.answered_at > ?1 OR q.cancelled_at > ?1 ORDER BY q.created_at DESC"
                ))?;
                stmt.query_map([&since], |r| from_row(r, &now))?.collect::<rusqlite::Result<Vec<_>>>()?
            }
        };
        Ok(list)
    }

    /// Cancels an open request: its link stops working at once.
    pub fn cancel_questionnaire(&mut self, id: &str) -> Result<QuestionnaireRequest> {
        self.permit(Action::SendQuestionnaire)?;
        let request = find(&self.conn, id)?;
        if request.state != RequestState::Open {
            return Err(Error::Conflict(format!("request {} is {}, not open: there is nothing to cancel", request.id, request.state)));
        }
        self.write(Action::SendQuestionnaire, |tx, actor| {
            tx.execute(
                "UPDATE questionnaire_requests SET cancelled_at = ?2, cancelled_by = ?3 WHERE id = ?1 AND answered_at IS NULL",
                (&request.id, audit::now(), &actor.name),
            )?;
            audit::record(tx, actor, "cancel", "questionnaire-request", Some(&request.id), serde_json::json!({ "mrn": request.mrn }))
        })?;
        find(&self.conn, &request.id)
    }

    /// Marks a patient's self-reported answers reviewed; returns how many were new.
    pub fn mark_answers_reviewed(&mut self, mrn: &str) -> Result<usize> {
        let patient = patients::find_by_mrn(&self.conn, mrn)?;
        self.write(Action::ReviewAnswers, |tx, actor| {
            let n = tx.execute(
                "UPDATE assessments SET reviewed_at = ?2, reviewed_by = ?3
                 WHERE patient_id = ?1 AND source <> 'staff' AND reviewed_at IS NULL AND voided_at IS NULL",
                (&patient.id, audit::now(), &actor.name),
            )?;
            if n > 0 {
                audit::record(
                    tx,
                    actor,
                    "review",
                    "patient-answers",
                    Some(&patient.id),
                    serde_json::json!({ "mrn": patient.mrn, "assessments": n }),
                )?;
            }
            Ok(n)
        })
    }
}

/// One patient's count of self-reported assessments no one has reviewed (a caseload row's badge).
pub(crate) fn new_answers_of(conn: &Connection, patient_id: &str) -> Result<u32> {
    let mut stmt = conn.prepare_cached(
        "SELECT count(*) FROM assessments WHERE patient_id = ?1 AND source <> 'staff' AND reviewed_at IS NULL AND voided_at IS NULL",
    )?;
    Ok(stmt.query_row([patient_id], |r| r.get(0))?)
}

/// Each patient's count of self-reported assessments no one has reviewed (the caseload's badge).
pub(crate) fn new_answers_by_patient(conn: &Connection) -> Result<std::collections::HashMap<String, u32>> {
    let mut stmt = conn.prepare_cached(
        "SELECT patient_id, count(*) FROM assessments WHERE source <> 'staff' AND reviewed_at IS NULL AND voided_at IS NULL GROUP BY patient_id",
    )?;
    Ok(stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_256_bits_and_only_its_hash_is_kept() {
        let (a, hash_a) = new_token();
        let (b, _) = new_token();
        assert_ne!(*a, *b);
        // 32 bytes in unpadded base64: ceil(32 × 8 / 6) = 43 characters.
        assert_eq!(a.len(), 43);
        assert_eq!(hash_a.len(), 64);
        assert!(!hash_a.contains(a.as_str()));
        assert_eq!(token_hash(&a), hash_a);
    }

    #[test]
    fn a_request_expires_at_its_instant() {
        let at = "2026-12-10T09:00:00.000Z";
        assert_eq!(state_of(false, false, false, at, "2026-12-10T08:59:59.999Z"), RequestState::Open);
        assert_eq!(state_of(false, false, false, at, at), RequestState::Expired);
        assert_eq!(state_of(true, false, false, at, "2026-12-11T00:00:00.000Z"), RequestState::Answered);
        assert_eq!(state_of(false, false, true, at, "2026-12-01T00:00:00.000Z"), RequestState::Locked);
    }
}
