//! Schedules (spec §10): an episode's measurement cadence makes a check-in fall due, and
//! `cocm questionnaire send --due` (a nightly timer on a practice server) e-mails every due one
//! that has an address: the one the patient's latest check-in went to. The rest are listed for
//! the care manager to send by hand (a call, a letter, the clinic's tablet).

use serde::{Deserialize, Serialize};

use super::{NewQuestionnaire, RequestState, SentQuestionnaire};
use crate::{Error, Registry, Result, patients};

/// A check-in that has fallen due (spec §10 schedules): the episode's cadence has passed since
/// its latest score (or its start), and no request is open.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct DueCheckIn {
    pub mrn: String,
    pub patient: String,
    pub care_manager: Option<String>,
    pub status: crate::vocab::EpisodeStatus,
    pub latest_measurement: Option<crate::dates::Date>,
    pub due: crate::dates::Date,
}

/// What `send --due` did: the requests e-mailed, and the due check-ins it could not send.
#[derive(Clone, Debug, Serialize, Deserialize, ts_rs::TS)]
pub struct DueSending {
    pub sent: Vec<SentQuestionnaire>,
    pub not_sent: Vec<NotSent>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct NotSent {
    pub due: DueCheckIn,
    pub reason: String,
}

impl Registry {
    /// Who is due a check-in on `as_of`, longest due first.
    pub fn questionnaires_due(&self, as_of: crate::dates::Date) -> Result<Vec<DueCheckIn>> {
        use crate::vocab::EpisodeStatus;
        let settings = self.settings()?;
        let open: std::collections::HashSet<String> =
            self.questionnaires(None)?.into_iter().filter(|q| q.state == RequestState::Open).map(|q| q.mrn).collect();
        let mut due: Vec<DueCheckIn> = self
            .caseload(as_of, None)?
            .into_iter()
            .filter(|row| !open.contains(&row.mrn))
            .filter_map(|row| {
                let cadence = match row.status {
                    EpisodeStatus::Active => settings.measurement_cadence_days_active,
                    EpisodeStatus::RelapsePrevention => settings.measurement_cadence_days_relapse_prevention,
                    _ => return None,
                };
                let due = crate::dates::add_days(row.latest_measurement.unwrap_or(row.start_date), cadence);
                (due <= as_of).then_some(DueCheckIn {
                    mrn: row.mrn,
                    patient: row.name,
                    care_manager: row.care_manager,
                    status: row.status,
                    latest_measurement: row.latest_measurement,
                    due,
                })
            })
            .collect();
        due.sort_by(|a, b| (a.due, &a.patient).cmp(&(b.due, &b.patient)));
        Ok(due)
    }
}

impl Registry {
    /// E-mails a check-in to every patient due on `as_of` who has an address; a failed e-mail
    /// cancels its request again, so that it stays due.
    pub fn send_due_questionnaires(&mut self, as_of: crate::dates::Date) -> Result<DueSending> {
        if !self.can_email()? {
            return Err(Error::validation("smtp_host", "set the practice's SMTP server (smtp_host, smtp_from) to e-mail check-ins"));
        }
        let mut outcome = DueSending { sent: Vec::new(), not_sent: Vec::new() };
        for due in self.questionnaires_due(as_of)? {
            let Some(email) = self.latest_address(&due.mrn)? else {
                outcome.not_sent.push(NotSent { due, reason: "no e-mail address: no check-in has been e-mailed to this patient".into() });
                continue;
            };
            let asked = NewQuestionnaire { email: Some(email), ..Default::default() };
            match self.send_questionnaire(&due.mrn, &asked) {
                Ok(sent) if sent.emailed => outcome.sent.push(sent),
                Ok(sent) => {
                    self.cancel_questionnaire(&sent.request.id)?;
                    let reason = sent.email_error.unwrap_or_else(|| "the e-mail was not sent".into());
                    outcome.not_sent.push(NotSent { due, reason });
                }
                Err(e) => outcome.not_sent.push(NotSent { due, reason: e.to_string() }),
            }
        }
        Ok(outcome)
    }

    /// The address the patient's latest e-mailed check-in went to.
    fn latest_address(&self, mrn: &str) -> Result<Option<String>> {
        let patient = patients::find_by_mrn(&self.conn, mrn)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT email FROM questionnaire_requests WHERE patient_id = ?1 AND email IS NOT NULL ORDER BY created_at DESC LIMIT 1",
        )?;
        use rusqlite::OptionalExtension;
        Ok(stmt.query_row([&patient.id], |r| r.get(0)).optional()?)
    }
}
