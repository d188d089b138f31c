//! `cocm --server URL …`: a script's commands run against a practice server instead of a
//! file, so a practice lead can take the month's billing export from anywhere. The server's
//! certificate is pinned: `--fingerprint` (which pins it), else the one pinned before, else
//! the one it presents on first use (printed, and pinned).
//!
//! Reads print what they print on a file (the table, `--json` or `--csv`), from the server's
//! JSON read back into the core's types; writes print the new record's id. Imports read their
//! files here and send them; the FHIR export is unpacked here. The commands that work on the
//! registry file itself (backups, re-keying, encryption, restore) run on the server's machine.

use serde_json::{Value, json};

use cocm::billing::BillingView;
use cocm::caseload::CaseloadView;
use cocm::dates;
use cocm::queue::QueueEntry;
use cocm::settings::Settings;
use cocm::team::TeamMember;

use super::import::ImportCommand;
use super::{Command, ExportCommand, MfaCommand, PatientCommand, SettingsCommand, TeamCommand, catalogue, fhir, import, output};
use cocm::accounts::Account;
use cocm::audit::AuditEntry;
use cocm::chart::PatientChart;
use cocm::client::{self, Client};
use cocm::episodes::Enrolment;
use cocm::patients::{NewPatient, Patient, PatientChanges};
use cocm::server::tls::normalise_fingerprint;
use cocm::treatment::NewTreatmentChange;
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
    match client.sign_in(member, password) {
        // The practice asks for a second factor: `$COCM_TOTP`, else the prompt.
        Err(Error::MfaRequired(_)) => {
            let code = super::secret("COCM_TOTP", "Code from your authenticator app (or a recovery code): ")?;
            client.sign_in_with_code(member, password, &code)?;
        }
        other => {
            other?;
        }
    }
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

/// The refusal of a command that works on the registry file, not through a server.
fn on_the_server(why: &str) -> Error {
    Error::validation("server", format!("not over --server: {why}"))
}

/// A team member by id or exact name, as the server's team list names them, refused with the
/// error `Registry::find_member("member", …)` gives on a file.
fn member_named(client: &Client, key: &str) -> Result<TeamMember> {
    let team: Vec<TeamMember> = typed(client.call("team", json!({}))?)?;
    team.into_iter()
        .find(|m| m.id == key.trim() || m.name == key.trim())
        .ok_or_else(|| Error::validation("member", format!("no team member with id or name '{}'", key.trim())))
}

/// Runs `command` on the server and prints what the same command prints on a file.
pub fn run(client: &Client, signed_in: &str, command: Command) -> Result<()> {
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
        Command::Billing { month, claims: true, format } => super::billing::claims(&mut &*client, &month, format.json, format.csv),
        Command::Billing { month, format, .. } if format.csv => {
            // Audited on the server as the same export, and the same CSV.
            let csv = client.call("billing_csv", json!({ "month": month }))?;
            print!("{}", csv.as_str().ok_or_else(|| Error::Storage("the server sent no CSV".into()))?);
            Ok(())
        }
        Command::Billing { month, format, .. } => {
            let view: BillingView = typed(client.call("billing", json!({ "month": month }))?)?;
            output::billing(&view.rows, format.json, false)
        }
        Command::Team(TeamCommand::List { json }) => output::team(&typed::<Vec<TeamMember>>(client.call("team", json!({}))?)?, json),
        Command::Team(TeamCommand::Edit { member, npi, credential, cocm_fte }) => {
            let args =
                json!({ "member": member, "npi": npi, "credential": credential, "cocmFte": super::fte_argument(cocm_fte.as_deref())? });
            output::team(&[typed::<TeamMember>(client.call("edit_member", args)?)?], false)
        }
        Command::Settings(SettingsCommand::List { json }) => {
            output::settings(&typed::<Settings>(client.call("settings", json!({}))?)?, json)
        }
        Command::Settings(SettingsCommand::Set { key, value }) => {
            output::settings(&typed::<Settings>(client.call("set_setting", json!({ "key": key, "value": value }))?)?, false)
        }
        Command::Settings(SettingsCommand::SmtpPassword { clear }) => {
            let password = super::smtp_password(clear)?;
            let kept = client.call("set_smtp_password", json!({ "password": password.as_deref().map(|p| p.as_str()), "clear": clear }))?;
            println!("{}", if kept == json!(true) { "the SMTP password is kept in the key file" } else { "no SMTP password is kept" });
            Ok(())
        }
        Command::PrimaryScale { mrn, target, scale } => {
            client.call("correct_primary_scale", json!({ "mrn": mrn, "target": target, "scale": scale }))?;
            println!("{} is now measured by {} on {mrn}'s open episode", target.trim(), scale.trim());
            Ok(())
        }
        Command::Consent { mrn, date } => client.call("record_consent", json!({ "mrn": mrn, "date": date })).map(drop),
        Command::Status { mrn, to, date, reason } => {
            id(client.call("change_status", json!({ "mrn": mrn, "to": to, "date": date, "reason": reason }))?)
        }
        Command::Contact { mrn, date, minutes, by, kind, mode, note } => {
            let minutes = super::parse_minutes(&minutes)?;
            let contact = json!({ "date": date, "minutes": minutes, "by": by, "kind": kind, "mode": mode, "note": note });
            id(client.call("log_contact", json!({ "mrn": mrn, "contact": contact }))?)
        }
        Command::Assess { mrn, date, instrument, items, difficulty } => {
            let answers = cocm::instruments::parse_answers(&items)?;
            let args = json!({ "mrn": mrn, "date": date, "instrument": instrument, "answers": answers, "difficulty": difficulty });
            id(client.call("record_assessment", args)?)
        }

        Command::Flag { mrn, by, reason, date } => {
            id(client.call("request_review", json!({ "mrn": mrn, "request": { "date": date, "by": by, "reason": reason } }))?)
        }
        Command::Review { mrn, by, date, recommendation, medication, psychotherapy, referral, other } => {
            let review = json!({ "date": date, "by": by, "medication": medication, "psychotherapy": psychotherapy,
                                 "referral": referral, "other": other, "note": recommendation });
            id(client.call("record_case_review", json!({ "mrn": mrn, "review": review }))?)
        }
        Command::Patient(PatientCommand::Add { mrn, name, dob, payer, pcp, care_manager, consultant }) => {
            let patient = NewPatient { mrn, name, dob, payer, pcp, care_manager, consultant };
            id(client.call("add_patient", json!({ "patient": patient }))?)
        }
        Command::Patient(PatientCommand::Show { mrn, as_of: date, json }) => {
            let chart: PatientChart = typed(client.call("patient_chart", json!({ "mrn": mrn, "asOfDate": as_of(date) }))?)?;
            output::chart(&chart, json)
        }
        Command::Patient(PatientCommand::Edit { mrn, name, dob, payer, pcp, care_manager, consultant }) => {
            let changes = PatientChanges { name, dob, payer, pcp, care_manager, consultant, version: None };
            let patient: Patient = typed(client.call("update_patient", json!({ "mrn": mrn, "changes": changes }))?)?;
            id(Value::from(patient.id))
        }
        Command::Enroll { mrn, date, consent, targets, primary_scale, program, diagnosis } => {
            let enrolment = Enrolment { start: date, consent, targets, primary_scale, program, diagnosis };
            id(client.call("enroll", json!({ "mrn": mrn, "enrolment": enrolment }))?)
        }
        Command::Treatment { mrn, date, kind, description } => {
            let change = NewTreatmentChange { date, kind, description };
            id(client.call("record_treatment_change", json!({ "mrn": mrn, "change": change }))?)
        }
        Command::Void { kind, id: record, reason } => {
            client.call("mark_entered_in_error", json!({ "kind": kind, "id": record, "reason": reason })).map(drop)
        }
        Command::Report(args) => super::report::run(&mut &*client, args),
        Command::Rules(command) => super::billing::rules(&mut &*client, command),
        Command::Coverage(command) => super::billing::coverage(&mut &*client, command),
        Command::Diagnosis(command) => super::billing::diagnosis(&mut &*client, command),
        Command::Visit(command) => super::population::visit(&mut &*client, command),
        Command::Questionnaire(command) => super::questionnaire::run(&mut &*client, command),
        Command::Screen { mrn, date, instrument, items } => super::population::screen(&mut &*client, &mrn, &date, &instrument, &items),
        Command::Candidates { since, json } => super::population::candidates(&mut &*client, since.as_deref(), json),
        Command::Program { mrn, to, from, json } => super::billing::program(&mut &*client, &mrn, to, from, json),
        Command::Apcm { mrn, from, to, end, json } => super::billing::apcm(&mut &*client, &mrn, from, to, end, json),
        Command::Audit { limit, patient, json } => {
            let entries: Vec<AuditEntry> = match patient {
                Some(mrn) => typed(client.call("patient_audit", json!({ "mrn": mrn }))?)?,
                None => typed(client.call("audit_log", json!({ "limit": limit }))?)?,
            };
            output::audit(&entries, json)
        }
        Command::Team(TeamCommand::Add { name, role }) => {
            let member: TeamMember = typed(client.call("add_member", json!({ "name": name, "role": role }))?)?;
            id(Value::from(member.id))
        }
        Command::Team(TeamCommand::Accounts { json }) => {
            output::accounts(&typed::<Vec<Account>>(client.call("accounts", json!({}))?)?, json)
        }
        Command::Mfa(MfaCommand::Enrol) => super::mfa::enrol(
            || typed(client.call("begin_second_factor", json!({}))?),
            |code| typed(client.call("confirm_second_factor", json!({ "code": code }))?),
        ),
        Command::Mfa(MfaCommand::Status { json }) => super::mfa::status(&typed(client.call("own_second_factor", json!({}))?)?, json),
        Command::Mfa(MfaCommand::Reset { member }) => {
            client.call("reset_second_factor", json!({ "member": member }))?;
            println!("reset {}'s second factor; they set up a new one at their next sign-in", member_named(client, &member)?.name);
            Ok(())
        }
        Command::Team(TeamCommand::Unlock { member }) => {
            client.call("unlock_account", json!({ "member": member }))?;
            println!("unlocked {}", member_named(client, &member)?.name);
            Ok(())
        }
        Command::Team(TeamCommand::Password { member }) if member.trim() == signed_in.trim() => {
            // Your own password: the one you signed in with is the current one.
            let current = super::secret("COCM_PASSWORD", &format!("Current password for {member}: "))?;
            let new = super::new_secret("COCM_NEW_PASSWORD", &member)?;
            client.call("change_own_password", json!({ "current": current.as_str(), "new": new.as_str() }))?;
            println!("password changed for {}", member.trim());
            Ok(())
        }
        Command::Team(TeamCommand::Password { member }) => {
            let m = member_named(client, &member)?;
            let new = super::new_secret("COCM_NEW_PASSWORD", &m.name)?;
            client.call("set_password", json!({ "member": m.id, "password": new.as_str() }))?;
            println!("password set for {}; they choose their own at first sign-in", m.name);
            Ok(())
        }
        Command::Import(ImportCommand::Csv(args)) => import::csv_on_server(client, args),
        Command::Import(ImportCommand::Fhir { path, dry_run, json }) => fhir::import_on_server(client, &path, dry_run, json),
        Command::Import(ImportCommand::Mappings { json }) => import::mappings_on_server(client, json),
        // Reads only the file given, here.
        Command::Import(ImportCommand::Guess { file, shape }) => import::guess(file, &shape),
        Command::Export(ExportCommand::Fhir { out, since, json }) => fhir::export_on_server(client, &out, since, json),
        Command::Backup { .. } => {
            Err(on_the_server("backups are made on the server's machine: the package's daily cocm-backup timer, or `cocm backup` there"))
        }
        Command::Team(TeamCommand::Revoke { .. }) | Command::Rekey => {
            Err(on_the_server("removing an account re-keys the registry file: stop the server and run it on the server's machine"))
        }
        Command::Instruments { id, json } => catalogue::print(id.as_deref(), json),
        Command::Init { .. }
        | Command::Demo { .. }
        | Command::Encrypt { .. }
        | Command::Serve(_)
        | Command::Verify { .. }
        | Command::Restore { .. }
        | Command::Export(ExportCommand::Sqlite { .. }) => {
            Err(on_the_server("this command works on a registry file itself: run it on the machine that holds the file"))
        }
    }
}
