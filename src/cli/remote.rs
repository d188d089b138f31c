//! `cocm --server URL …`: a script's commands run against a practice server instead of a
//! file, so a practice lead can take the month's billing export from anywhere. The server's
//! certificate is pinned: `--fingerprint` (which pins it), else the one pinned before, else
//! the one it presents on first use (printed, and pinned).
//!
//! Reads print what they print on a file (the table, `--json` or `--csv`), from the server's
//! JSON read back into the core's types; writes print the new record's id. The commands that
//! manage the file itself (accounts, backups, imports) and the reports run on the server's
//! machine.

use serde_json::{Value, json};

use cocm::billing::BillingView;
use cocm::caseload::CaseloadView;
use cocm::dates;
use cocm::queue::QueueEntry;
use cocm::settings::Settings;
use cocm::team::TeamMember;

use super::import::ImportCommand;
use super::{Command, ExportCommand, SettingsCommand, TeamCommand, fhir, import, output};
use cocm::client::{self, Client};
use cocm::server::tls::normalise_fingerprint;
use cocm::{Error, Result};

/// Connects to the server at `url`, trusting its pinned certificate, and signs `member` in.
pub fn connect(url: &str, fingerprint: Option<&str>, member: &str, password: &str) -> Result<Client> {
    let (fingerprint, first_use) = match (fingerprint, client::pinned(url)?) {
        (Some(typed), pinned) => {
            let typed = normalise_fingerprint(typed)?;
            let new = pinned.as_deref() != Some(typed.as_str());
            (typed, new)
        }
        (None, Some(pinned)) => (pinned, false),
        (None, None) => {
            let seen = client::check_server(url)?.fingerprint;
            eprintln!("first connection to {url}: its certificate's SHA-256 fingerprint is");
            eprintln!("  {seen}");
            eprintln!("compare it with the one `cocm serve` printed; it is pinned in {}", client::pins_path().display());
            (seen, true)
        }
    };
    let mut client = Client::new(url, &fingerprint)?;
    client.sign_in(member, password)?;
    // Pinned once the server proved it holds that certificate's key and the sign-in worked.
    if first_use {
        client::pin(url, &fingerprint)?;
    }
    Ok(client)
}

/// The server's JSON as the core's own type, for the CLI's own printing.
pub(super) fn typed<T: serde::de::DeserializeOwned>(value: Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| Error::Storage(format!("the server's answer is not what this version reads: {e}")))
}

fn unsupported(what: &str) -> Error {
    Error::validation(
        "server",
        format!(
            "{what}; over --server, caseload and queue print --json, billing --json or --csv, and contact, assess, flag and review record"
        ),
    )
}

/// Runs `command` on the server and prints what the same command prints on a file.
pub fn run(client: &Client, command: Command) -> Result<()> {
    let as_of = |date: Option<String>| json!(date);
    let id = |value: Value| -> Result<()> {
        println!("{}", value.as_str().ok_or_else(|| Error::Storage("the server sent no id".into()))?);
        Ok(())
    };
    match command {
        Command::Caseload { as_of: date, care_manager, format } => {
            if format.csv {
                let details = json!({ "as_of": date.clone().unwrap_or_else(|| dates::today().to_string()), "care_manager": care_manager });
                client.call("record_export", json!({ "what": "caseload-csv", "details": details }))?;
            }
            let view: CaseloadView = typed(client.call("caseload", json!({ "asOfDate": as_of(date), "careManager": care_manager }))?)?;
            output::caseload(&view.rows, format.json, format.csv)
        }
        Command::Queue { as_of: date, json } => {
            let entries: Vec<QueueEntry> = typed(client.call("queue", json!({ "asOfDate": as_of(date) }))?)?;
            output::queue(&entries, json)
        }
        Command::Billing { month, format } if format.csv => {
            // Audited on the server as the same export, and the same CSV.
            let csv = client.call("billing_csv", json!({ "month": month }))?;
            print!("{}", csv.as_str().ok_or_else(|| Error::Storage("the server sent no CSV".into()))?);
            Ok(())
        }
        Command::Billing { month, format } => {
            let view: BillingView = typed(client.call("billing", json!({ "month": month }))?)?;
            output::billing(&view.rows, format.json, false)
        }
        Command::Team(TeamCommand::List { json }) => output::team(&typed::<Vec<TeamMember>>(client.call("team", json!({}))?)?, json),
        Command::Settings(SettingsCommand::List { json }) => {
            output::settings(&typed::<Settings>(client.call("settings", json!({}))?)?, json)
        }
        Command::Settings(SettingsCommand::Set { key, value }) => {
            output::settings(&typed::<Settings>(client.call("set_setting", json!({ "key": key, "value": value }))?)?, false)
        }
        Command::Consent { mrn, date } => client.call("record_consent", json!({ "mrn": mrn, "date": date })).map(drop),
        Command::Status { mrn, to, date, reason } => {
            client.call("change_status", json!({ "mrn": mrn, "to": to, "date": date, "reason": reason })).map(drop)
        }
        Command::Contact { mrn, date, minutes, by, kind, mode, note } => {
            let minutes = super::parse_minutes(&minutes)?;
            let contact = json!({ "date": date, "minutes": minutes, "by": by, "kind": kind, "mode": mode, "note": note });
            id(client.call("log_contact", json!({ "mrn": mrn, "contact": contact }))?)
        }
        Command::Assess { mrn, date, instrument, items, difficulty: None } => {
            let answers = cocm::instruments::parse_answers(&items)?;
            id(client.call("record_assessment", json!({ "mrn": mrn, "date": date, "instrument": instrument, "answers": answers }))?)
        }
        Command::Assess { .. } => Err(unsupported("the PHQ-9 difficulty question is recorded in the app")),
        Command::Flag { mrn, by, reason, date } => {
            id(client.call("request_review", json!({ "mrn": mrn, "request": { "date": date, "by": by, "reason": reason } }))?)
        }
        Command::Review { mrn, by, date, recommendation, medication, psychotherapy, referral, other } => {
            let review = json!({ "date": date, "by": by, "medication": medication, "psychotherapy": psychotherapy,
                                 "referral": referral, "other": other, "note": recommendation });
            id(client.call("record_case_review", json!({ "mrn": mrn, "review": review }))?)
        }
        Command::Import(ImportCommand::Csv(args)) => import::csv_on_server(client, args),
        Command::Import(ImportCommand::Fhir { path, dry_run, json }) => fhir::import_on_server(client, &path, dry_run, json),
        Command::Import(ImportCommand::Mappings { json }) => import::mappings_on_server(client, json),
        // Reads only the file given, here.
        Command::Import(ImportCommand::Guess { file, shape }) => import::guess(file, &shape),
        Command::Export(ExportCommand::Fhir { out, since, json }) => fhir::export_on_server(client, &out, since, json),
        _ => Err(unsupported("this command runs on the server's machine (or in the app)")),
    }
}
