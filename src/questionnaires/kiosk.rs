//! Kiosk mode (spec §10): a clinic tablet a team member hands to the patient. The member picks
//! an open request and hands the device over; from then on it acts as the `kiosk` role, which
//! may answer that one request and nothing else, and it names no patient. After the answers it
//! holds no request at all (locked) until a member signs in again and hands over the next one.
//!
//! The respondent still confirms their date of birth first: it keeps a tablet handed to the
//! wrong person from answering in another patient's name.

use super::portal::{Link, PatientAnswers, PatientQuestionnaire, PatientReply, Portal};
use super::{RequestState, find};
use crate::access::Action;
use crate::audit::{self, Actor};
use crate::vocab::Role;
use crate::{Error, Registry, Result};

/// What a locked tablet answers: nothing about who used it last.
pub const LOCKED: &str = "this tablet is locked: a team member signs in to start the next check-in";

/// A tablet handed over for one request; its request is `None` once it is answered (locked).
pub struct Kiosk {
    portal: Portal,
    request: Option<String>,
}

impl Registry {
    /// Hands this device over as a kiosk for the open request `request_id`: audited in the
    /// member's name, and returned as a handle acting as the kiosk role. The member's own
    /// handle should be signed out by the caller (the device is the patient's now).
    pub fn start_kiosk(&mut self, request_id: &str) -> Result<Kiosk> {
        self.permit(Action::SendQuestionnaire)?;
        let request = find(&self.conn, request_id)?;
        if request.state != RequestState::Open {
            return Err(Error::Conflict(format!(
                "request {} is {}: only an open request can be answered on a tablet",
                request.id, request.state
            )));
        }
        self.write(Action::SendQuestionnaire, |tx, actor| {
            audit::record(tx, actor, "hand-to-kiosk", "questionnaire-request", Some(&request.id), serde_json::json!({ "mrn": request.mrn }))
        })?;
        let member = self.actor();
        let actor = Actor::new(&format!("kiosk:{}", member.member_id), &format!("kiosk (handed over by {})", member.name), Role::Kiosk);
        Ok(Kiosk { portal: self.portal_as(actor)?, request: Some(request.id) })
    }
}

impl Kiosk {
    fn held(&self) -> Result<String> {
        self.request.clone().ok_or_else(|| Error::NotFound(LOCKED.into()))
    }

    /// The address the next request comes from, for the audit log.
    pub fn set_client(&mut self, client: Option<&str>) {
        self.portal.set_client(client);
    }

    /// The questions of the request handed over, or [`LOCKED`].
    pub fn questions(&self) -> Result<PatientQuestionnaire> {
        self.portal.questions_of(Link::Request(&self.held()?))
    }

    pub fn verify(&mut self, dob: &str) -> Result<()> {
        let id = self.held()?;
        let out = self.portal.verify_of(Link::Request(&id), dob);
        self.lock_if_unusable(&out);
        out
    }

    /// The answers; afterwards the tablet is locked, whatever the reply.
    pub fn submit(&mut self, answers: &PatientAnswers) -> Result<(PatientReply, String)> {
        let id = self.held()?;
        let out = self.portal.submit_of(Link::Request(&id), answers);
        if out.is_ok() {
            self.request = None;
        }
        self.lock_if_unusable(&out);
        out
    }

    /// A request that became unusable (locked by wrong dates of birth, cancelled meanwhile)
    /// locks the tablet too.
    fn lock_if_unusable<T>(&mut self, out: &Result<T>) {
        if matches!(out, Err(Error::NotFound(_))) {
            self.request = None;
        }
    }

    /// The registry behind the kiosk, for a server's live views (read only by them).
    pub(crate) fn registry(&self) -> &Registry {
        self.portal.registry()
    }

    /// Audits the end of the kiosk session (the tablet signed in again, or its session ended).
    pub fn close(self) -> Result<()> {
        self.portal.into_registry().sign_out()
    }
}
