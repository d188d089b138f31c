//! `cocm questionnaire`: questionnaire links for patients to answer themselves (spec §10).
//! Through a [`Door`], so a file and `--server` behave alike.

use clap::Subcommand;
use serde_json::json;

use cocm::Result;
use cocm::questionnaires::alerts::SafetyAlert;
use cocm::questionnaires::{DueCheckIn, DueSending, NewQuestionnaire, QuestionnaireRequest, SentQuestionnaire};

use super::billing::Door;
use super::{output, remote::typed};

#[derive(Subcommand)]
pub enum QuestionnaireCommand {
    /// Send a patient a link to answer their measures; prints the link (shown this once).
    /// With --due instead of an MRN: e-mail every due check-in that has an address (a nightly job)
    Send {
        #[arg(required_unless_present = "due", conflicts_with = "due")]
        mrn: Option<String>,
        /// E-mail a check-in to every patient due today who has an address (their latest check-in's), and list the rest
        #[arg(long)]
        due: bool,
        /// Catalogue ids, comma separated [default: the episode's primary scales, plus the PHQ-9 for depression]
        #[arg(long, value_delimiter = ',')]
        instruments: Vec<String>,
        /// patient [default] or caregiver
        #[arg(long)]
        respondent: Option<String>,
        /// en [default] or es
        #[arg(long)]
        language: Option<String>,
        /// The address the link is for (kept with the request)
        #[arg(long, value_name = "ADDRESS")]
        email: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Requests: the practice's open ones and those settled in the last 14 days, or one patient's
    List {
        #[arg(long, conflicts_with = "due")]
        mrn: Option<String>,
        /// Who is due a check-in today by the episode's measurement cadence (and has no open request)
        #[arg(long)]
        due: bool,
        #[arg(long)]
        json: bool,
    },
    /// Cancel an open request: its link stops working at once
    Cancel { id: String },
    /// Mark a patient's self-reported answers reviewed (they are no longer new); this also
    /// acknowledges the patient's safety alerts
    Reviewed { mrn: String },
    /// Safety alerts: self-reported answers with a positive safety item no one has acknowledged
    Alerts {
        #[arg(long)]
        json: bool,
    },
}

pub fn run(door: &mut dyn Door, command: QuestionnaireCommand) -> Result<()> {
    match command {
        QuestionnaireCommand::Send { due: true, json, .. } => {
            let outcome: DueSending = typed(door.call("send_due_questionnaires", json!({}))?)?;
            if json {
                return output::json(&outcome);
            }
            // A nightly timer's output goes to the journal: counts and reasons only, never who.
            // The care managers see whom on the app's due list (`questionnaire list --due`).
            println!("{} check-ins e-mailed; {} due and not sent", outcome.sent.len(), outcome.not_sent.len());
            let mut reasons: std::collections::BTreeMap<&str, usize> = Default::default();
            for n in &outcome.not_sent {
                *reasons.entry(n.reason.split(':').next().unwrap_or_default()).or_default() += 1;
            }
            for (reason, n) in reasons {
                println!("  not sent ({n}): {reason}");
            }
            Ok(())
        }
        QuestionnaireCommand::Send { mrn, instruments, respondent, language, email, json, .. } => {
            let mrn = mrn.unwrap_or_default();
            let questionnaire = NewQuestionnaire { instruments, respondent, language, email };
            let sent: SentQuestionnaire = typed(door.call("send_questionnaire", json!({ "mrn": mrn, "questionnaire": questionnaire }))?)?;
            if json {
                return output::json(&sent);
            }
            println!("{}", sent.link);
            if sent.emailed {
                println!("e-mailed to {}", sent.request.email.as_deref().unwrap_or_default());
            } else if let Some(why) = &sent.email_error {
                eprintln!("not e-mailed: {why}");
            }
            let instruments: Vec<&str> = sent.request.instruments.iter().map(|i| i.label()).collect();
            println!("request {} ({}), open until {}", sent.request.id, instruments.join(", "), sent.request.expires_at);
            Ok(())
        }
        QuestionnaireCommand::List { due: true, json, .. } => {
            let list: Vec<DueCheckIn> = typed(door.call("questionnaires_due", json!({}))?)?;
            if json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|d| {
                    let latest = d.latest_measurement.map_or("none".into(), |m| m.to_string());
                    vec![
                        d.mrn.clone(),
                        d.patient.clone(),
                        d.care_manager.clone().unwrap_or_default(),
                        d.status.to_string(),
                        latest,
                        d.due.to_string(),
                    ]
                })
                .collect();
            output::table(&["MRN", "PATIENT", "CARE MANAGER", "STATUS", "LATEST SCORE", "DUE"], &rows)
        }
        QuestionnaireCommand::List { mrn, json, .. } => {
            let list: Vec<QuestionnaireRequest> = typed(door.call("questionnaires", json!({ "mrn": mrn }))?)?;
            if json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|q| {
                    let instruments: Vec<&str> = q.instruments.iter().map(|i| i.label()).collect();
                    vec![
                        q.id.clone(),
                        q.mrn.clone(),
                        q.patient.clone(),
                        instruments.join(","),
                        q.respondent.clone(),
                        q.language.clone(),
                        q.state.to_string(),
                        q.created_at.get(..10).unwrap_or_default().to_string(),
                        q.expires_at.get(..10).unwrap_or_default().to_string(),
                    ]
                })
                .collect();
            output::table(&["ID", "MRN", "PATIENT", "INSTRUMENTS", "RESPONDENT", "LANGUAGE", "STATE", "SENT", "EXPIRES"], &rows)
        }
        QuestionnaireCommand::Cancel { id } => {
            let request: QuestionnaireRequest = typed(door.call("cancel_questionnaire", json!({ "id": id }))?)?;
            println!("request {} is {}", request.id, request.state);
            Ok(())
        }
        QuestionnaireCommand::Reviewed { mrn } => {
            let n = door.call("mark_answers_reviewed", json!({ "mrn": mrn }))?;
            println!("{} new answers of {} marked reviewed", n.as_u64().unwrap_or(0), mrn.trim());
            Ok(())
        }
        QuestionnaireCommand::Alerts { json } => {
            let alerts: Vec<SafetyAlert> = typed(door.call("safety_alerts", json!({}))?)?;
            if json {
                return output::json(&alerts);
            }
            let rows: Vec<Vec<String>> = alerts
                .iter()
                .map(|a| {
                    vec![
                        a.mrn.clone(),
                        a.patient.clone(),
                        a.care_manager.clone().unwrap_or_default(),
                        a.instrument.label().to_string(),
                        a.source.clone(),
                        a.answered_at.get(..16).unwrap_or_default().replace('T', " "),
                    ]
                })
                .collect();
            output::table(&["MRN", "PATIENT", "CARE MANAGER", "INSTRUMENT", "ANSWERED BY", "ARRIVED (UTC)"], &rows)
        }
    }
}
