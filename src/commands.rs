//! The one list of commands that every door serves: the desktop app's IPC (`run`), the
//! practice server's `POST /api/<command>` and, through the server, the browser. A command is
//! added here once; its arguments are the JSON object the UI sends (camelCase keys, as Tauri
//! spells them) and its result is the core type's JSON.
//!
//! Signing in, choosing a file and locking are not here: each door owns its sessions (the app
//! holds one registry, the server one per signed-in browser), then calls [`run`] with the
//! registry the session opened, so the core's roles, audit and rules apply unchanged.

use base64ct::{Base64, Encoding};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::assessments::NewAssessment;
use crate::billing::{BillingRules, Program, RuleSetKey};
use crate::contacts::NewContact;
use crate::coverage::NewCoverage;
use crate::dates::{self, Date, Month};
use crate::episodes::Enrolment;
use crate::import::{ImportShape, Mapping};
use crate::instruments::{self, Instrument};
use crate::patients::{NewPatient, PatientChanges};
use crate::reports::Measure;
use crate::reviews::{NewCaseReview, NewReviewRequest};
use crate::treatment::NewTreatmentChange;
use crate::vocab::Payer;
use crate::vocab::{DischargeReason, EpisodeStatus, Role};
use crate::voids::RecordKind;
use crate::{Error, Registry, Result};

/// What a command does to the registry, which tells a server how to schedule it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Reads only: runs in parallel with other reads.
    Read,
    /// A read whose result depends only on the data and its arguments (not on who asks), so a
    /// server computes it once per data version and serves it to everyone.
    CachedRead,
    /// A read that the audit log records (a chart view, an export): its audit row is appended
    /// in a transaction of its own, and no one else's view changes.
    Audited,
    /// Changes the registry: one writer at a time, and every open view reloads.
    Write,
}

/// What a command's progress reports go to (an import's rows or resources), if anywhere.
pub struct Context<'a> {
    pub progress: &'a mut dyn FnMut(usize, usize),
}

impl Context<'_> {
    /// A context whose progress goes nowhere.
    pub fn quiet<T>(f: impl FnOnce(&mut Context) -> T) -> T {
        f(&mut Context { progress: &mut |_, _| {} })
    }
}

/// Whether a command reads or writes whole files, and where they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Files {
    /// None: its arguments and result are small JSON.
    None,
    /// Paths on the machine that runs the core (from an open or save dialog): the desktop
    /// app's on a registry file. A server refuses these; its clients use an `Upload` twin.
    Local,
    /// A file's bytes travel in the arguments or the result ([`FileContent`]), so a server
    /// accepts a large request body for it, and only from a signed-in session.
    Upload,
}

/// A file sent to or from the core by content: its name (what problems and the audit log name)
/// and its bytes in standard base64, as a browser's `FileReader` gives them.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct FileContent {
    pub name: String,
    pub content: String,
}

impl FileContent {
    pub fn new(name: &str, bytes: &[u8]) -> FileContent {
        FileContent { name: name.to_string(), content: Base64::encode_string(bytes) }
    }

    /// The file's name and bytes; content that is not base64 is refused naming the file.
    pub fn decode(&self) -> Result<(String, Vec<u8>)> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(Error::validation("file", "the uploaded file has no name"));
        }
        let bytes = Base64::decode_vec(self.content.trim())
            .map_err(|_| Error::validation("file", format!("{name} did not arrive whole (its content is not base64); choose it again")))?;
        Ok((name.to_string(), bytes))
    }
}

/// The FHIR export as a `.zip` to download: what it holds, and the archive itself.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct FhirDownload {
    pub report: crate::fhir::FhirExportReport,
    pub archive: FileContent,
}

pub struct Command {
    pub name: &'static str,
    pub effect: Effect,
    pub files: Files,
    run: fn(&mut Registry, Value, &mut Context) -> Result<Value>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Command").field("name", &self.name).field("effect", &self.effect).finish()
    }
}

/// The command named `name`, if there is one.
pub fn find(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// The refusal of a name [`find`] does not know, the same from every door.
pub fn unknown(name: &str) -> Error {
    Error::NotFound(format!("there is no command {name:?}"))
}

/// Runs the command named `name` on `registry` with `args` (a JSON object, or null for none).
pub fn run(registry: &mut Registry, name: &str, args: Value, ctx: &mut Context) -> Result<Value> {
    let command = find(name).ok_or_else(|| unknown(name))?;
    command.call(registry, args, ctx)
}

/// What a member who must still enrol a second factor may run: that enrolment, nothing else.
const WHILE_ENROLLING: &[&str] = &["own_second_factor", "begin_second_factor", "confirm_second_factor"];

/// Refuses every command but the enrolment's while this sign-in must enrol a second factor
/// (`mfa_required`); every door runs commands through here (the server's cache too).
/// A kiosk's handle (a link, a clinic tablet) runs no command at all: it answers its one
/// questionnaire through `questionnaires::portal` and `kiosk`, and reads nothing.
pub fn admit(command: &Command, registry: &Registry) -> Result<()> {
    if registry.actor().role == Role::Kiosk {
        return Err(Error::PermissionDenied(format!(
            "{} is for the care team; this device is a check-in kiosk, which presents questionnaires only",
            command.name
        )));
    }
    if registry.must_enrol_second_factor() && !WHILE_ENROLLING.contains(&command.name) {
        return Err(Error::PermissionDenied(
            "this registry asks for a second factor: set yours up first (an authenticator app on your phone)".into(),
        ));
    }
    Ok(())
}

impl Command {
    /// The one patient (by MRN) a write changes, where its arguments name one; `None` for a
    /// write that may change anyone's figures (settings, rules, the team, entered in error).
    pub fn patient_changed(&self, args: &Value) -> Option<String> {
        let pointer = match self.name {
            "log_contact"
            | "record_assessment"
            | "request_review"
            | "record_case_review"
            | "record_treatment_change"
            | "change_status"
            | "correct_primary_scale"
            | "record_consent"
            | "update_patient"
            | "change_program"
            | "record_apcm"
            | "end_apcm"
            | "add_coverage"
            | "add_diagnosis"
            | "add_visit"
            | "record_screening"
            | "send_questionnaire"
            | "mark_answers_reviewed"
            | "enroll" => "/mrn",
            "enroll_new_patient" | "add_patient" => "/patient/mrn",
            _ => return None,
        };
        args.pointer(pointer).and_then(Value::as_str).map(|mrn| mrn.trim().to_string())
    }

    pub fn call(&self, registry: &mut Registry, args: Value, ctx: &mut Context) -> Result<Value> {
        admit(self, registry)?;
        (self.run)(registry, args, ctx)
    }
}

fn parse<T: DeserializeOwned>(args: Value) -> Result<T> {
    let args = if args.is_null() { Value::Object(Default::default()) } else { args };
    serde_json::from_value(args).map_err(|e| Error::validation("arguments", e.to_string()))
}

fn reply<T: serde::Serialize>(out: Result<T>) -> Result<Value> {
    serde_json::to_value(out?).map_err(|e| Error::Storage(format!("the result could not be written as JSON: {e}")))
}

/// An "as of" argument: blank or absent means today.
fn as_of(value: Option<String>) -> Result<Date> {
    value.filter(|s| !s.is_empty()).map_or_else(|| Ok(dates::today()), |s| dates::parse_date("as-of", &s))
}

fn date(field: &str, value: &str) -> Result<Date> {
    dates::parse_date(field, value)
}

/// One entry of [`COMMANDS`]: its name, effect, the files it reads or writes, its arguments
/// (camelCase in JSON) and the body that calls the core with them.
macro_rules! command {
    ($name:literal, $effect:ident, $files:ident, |$r:ident, $ctx:ident $(, $arg:ident: $ty:ty)*| $body:expr) => {
        Command {
            name: $name,
            effect: Effect::$effect,
            files: Files::$files,
            run: |$r, args, $ctx| {
                #[derive(serde::Deserialize)]
                #[serde(rename_all = "camelCase")]
                #[allow(dead_code)]
                struct Args {
                    $($arg: $ty,)*
                }
                let Args { $($arg,)* } = parse(args)?;
                let _ = (&$r, &$ctx);
                reply($body)
            },
        }
    };
}

/// Every command a signed-in member can run, in the order the UI's screens use them.
pub static COMMANDS: &[Command] = &[
    // Accounts and the team.
    command!("change_own_password", Write, None, |r, ctx, current: String, new: String| {
        let (current, new) = (zeroize::Zeroizing::new(current), zeroize::Zeroizing::new(new));
        r.change_own_password(&current, &new)
    }),
    command!("accounts", Read, None, |r, ctx| r.accounts()),
    command!("own_second_factor", Read, None, |r, ctx| r.own_second_factor()),
    command!("begin_second_factor", Read, None, |r, ctx| r.begin_second_factor()),
    command!("confirm_second_factor", Write, None, |r, ctx, code: String| r.confirm_second_factor(&code)),
    command!("reset_second_factor", Write, None, |r, ctx, member: String| r.reset_second_factor(&member)),
    command!("set_password", Write, None, |r, ctx, member: String, password: String| {
        let password = zeroize::Zeroizing::new(password);
        r.set_password(&member, &password)
    }),
    command!("unlock_account", Write, None, |r, ctx, member: String| r.unlock_account(&member)),
    command!("team", Read, None, |r, ctx| r.list_members()),
    command!("add_member", Write, None, |r, ctx, name: String, role: String| r.add_member(&name, Role::parse("role", &role)?)),
    command!("edit_member", Write, None, |r,
                                          ctx,
                                          member: String,
                                          npi: Option<String>,
                                          credential: Option<String>,
                                          cocm_fte: Option<f64>| {
        r.edit_member(&member, &crate::team::MemberEdit { npi, credential, cocm_fte })
    }),
    // The caseload, a patient, and what is recorded on them.
    command!("caseload", CachedRead, None, |r, ctx, as_of_date: Option<String>, care_manager: Option<String>| {
        r.caseload_view(as_of(as_of_date)?, care_manager.as_deref().filter(|m| !m.is_empty()))
    }),
    command!("patient_chart", Audited, None, |r, ctx, mrn: String, as_of_date: Option<String>| {
        r.patient_chart(&mrn, as_of(as_of_date)?)
    }),
    command!("instrument_catalogue", Read, None, |r, ctx| Ok(instruments::listing())),
    command!("instrument_items", Read, None, |r, ctx, instrument: String| {
        Instrument::parse("instrument", &instrument).map(|i| i.items().to_vec())
    }),
    command!("live_score", Read, None, |r, ctx, instrument: String, answers: Vec<Option<i64>>| {
        Instrument::parse("instrument", &instrument).map(|i| instruments::live_score(i, &answers))
    }),
    // A form's answers, item by item; a blank item is `null` and is named in the error.
    // `difficulty`: the PHQ-9's functional question, where it was asked.
    command!("record_assessment", Write, None, |r,
                                                ctx,
                                                mrn: String,
                                                date: String,
                                                instrument: String,
                                                answers: Vec<Option<i64>>,
                                                difficulty: Option<String>| {
        match answers.iter().position(Option::is_none) {
            Some(i) => Err(Error::validation("items", format!("item {} is unanswered", i + 1))),
            None => {
                let answers = answers.into_iter().flatten().collect();
                r.record_assessment(&mrn, &NewAssessment { date, instrument, answers, difficulty })
            }
        }
    }),
    command!("log_contact", Write, None, |r, ctx, mrn: String, contact: NewContact| r.log_contact(&mrn, &contact)),
    command!("request_review", Write, None, |r, ctx, mrn: String, request: NewReviewRequest| r.request_review(&mrn, &request)),
    command!("record_case_review", Write, None, |r, ctx, mrn: String, review: NewCaseReview| r.record_case_review(&mrn, &review)),
    command!("record_treatment_change", Write, None, |r, ctx, mrn: String, change: NewTreatmentChange| {
        r.record_treatment_change(&mrn, &change)
    }),
    command!("correct_primary_scale", Write, None, |r, ctx, mrn: String, target: String, scale: String| {
        r.correct_primary_scale(&mrn, &target, &scale)
    }),
    command!("change_status", Write, None, |r, ctx, mrn: String, to: String, date: String, reason: Option<String>| {
        let to = EpisodeStatus::parse("to", &to)?;
        let reason = reason.filter(|s| !s.is_empty()).map(|s| DischargeReason::parse("reason", &s)).transpose()?;
        r.change_status(&mrn, to, &date, reason)
    }),
    command!("record_consent", Write, None, |r, ctx, mrn: String, date: String| r.record_consent(&mrn, &date)),
    command!("enroll_new_patient", Write, None, |r, ctx, patient: NewPatient, enrolment: Enrolment| {
        r.enroll_new_patient(&patient, &enrolment)
    }),
    // A patient on the registry without an episode yet (`cocm patient add`), and enrolling one.
    command!("add_patient", Write, None, |r, ctx, patient: NewPatient| r.add_patient(&patient)),
    command!("enroll", Write, None, |r, ctx, mrn: String, enrolment: Enrolment| r.enroll(&mrn, &enrolment)),
    command!("update_patient", Write, None, |r, ctx, mrn: String, changes: PatientChanges| r.update_patient(&mrn, &changes)),
    command!("mark_entered_in_error", Write, None, |r, ctx, kind: String, id: String, reason: String| {
        r.mark_entered_in_error(RecordKind::parse("kind", &kind)?, &id, &reason)
    }),
    // Questionnaire links (spec §10): the link comes back once, to the member who sends it.
    command!("send_questionnaire", Write, None, |r, ctx, mrn: String, questionnaire: crate::questionnaires::NewQuestionnaire| {
        r.send_questionnaire(&mrn, &questionnaire)
    }),
    command!("questionnaires", Read, None, |r, ctx, mrn: Option<String>| r.questionnaires(mrn.as_deref())),
    command!("questionnaires_due", Read, None, |r, ctx, as_of_date: Option<String>| r.questionnaires_due(as_of(as_of_date)?)),
    command!("cancel_questionnaire", Write, None, |r, ctx, id: String| r.cancel_questionnaire(&id)),
    command!("safety_alerts", Read, None, |r, ctx| r.safety_alerts()),
    command!("send_due_questionnaires", Write, None, |r, ctx, as_of_date: Option<String>| r.send_due_questionnaires(as_of(as_of_date)?)),
    command!("mark_answers_reviewed", Write, None, |r, ctx, mrn: String| r.mark_answers_reviewed(&mrn)),
    command!("queue", CachedRead, None, |r, ctx, as_of_date: Option<String>| r.queue(as_of(as_of_date)?)),
    // Settings and billing rules.
    command!("settings", Read, None, |r, ctx| r.settings_shown()),
    // `clear` must be said: a missing or empty password is refused, never taken as "forget it".
    command!("set_smtp_password", Write, None, |r, ctx, password: Option<String>, clear: bool| {
        let password = password.map(zeroize::Zeroizing::new);
        match (clear, password.as_deref().map(|p| p.as_str()).filter(|p| !p.is_empty())) {
            (true, _) => r.set_smtp_password(None),
            (false, Some(password)) => r.set_smtp_password(Some(password)),
            (false, None) => Err(Error::validation("password", "type the SMTP account's password (or clear it)")),
        }
    }),
    // `expected`: the value the form showed; a different stored value is a `conflict`.
    command!("set_setting", Write, None, |r, ctx, key: String, value: String, expected: Option<String>| {
        r.set_setting_if(&key, &value, expected.as_deref())?;
        r.settings_shown()
    }),
    command!("billing_rule_sets", Read, None, |r, ctx| r.billing_rule_sets()),
    // `expected`: the rules the form showed for that year; different ones are a `conflict`.
    // A rule set is keyed by year, program [cocm], payer [the default] and plan (spec §7a).
    command!("set_billing_rules", Write, None, |r,
                                                ctx,
                                                year: i32,
                                                program: Option<String>,
                                                payer: Option<String>,
                                                plan: Option<String>,
                                                rules: BillingRules,
                                                expected: Option<BillingRules>| {
        let key = RuleSetKey {
            program: program
                .as_deref()
                .filter(|p| !p.is_empty())
                .map(|p| Program::parse("program", p))
                .transpose()?
                .unwrap_or(Program::Cocm),
            payer: payer.as_deref().filter(|p| !p.is_empty()).map(|p| Payer::parse("payer", p)).transpose()?,
            plan,
            effective_year: year,
        };
        r.set_rule_set_if(&key, &rules, expected.as_ref()).and_then(|_| r.billing_rule_sets())
    }),
    command!("apply_rules_preset", Write, None, |r, ctx, name: String| r.apply_rules_preset(&name)),
    // A patient's billing program (§7a): the episode's from a month on, and APCM periods.
    command!("billing_programs", Read, None, |r, ctx, mrn: String| r.billing_programs(&mrn)),
    command!("change_program", Write, None, |r, ctx, mrn: String, to: String, from: String| {
        r.change_program(&mrn, Program::parse("to", &to)?, Month::parse("from", &from)?)
    }),
    command!("record_apcm", Write, None, |r, ctx, mrn: String, from: String, to: Option<String>| {
        r.record_apcm(&mrn, &from, to.as_deref().filter(|t| !t.is_empty()))
    }),
    command!("end_apcm", Write, None, |r, ctx, mrn: String, end: String| r.end_apcm(&mrn, &end)),
    // Coverage records (§7a).
    command!("coverages", Read, None, |r, ctx, mrn: String| r.coverages(&mrn)),
    command!("add_coverage", Write, None, |r, ctx, mrn: String, coverage: NewCoverage| r.add_coverage(&mrn, &coverage)),
    command!("end_coverage", Write, None, |r, ctx, id: String, date: String| r.end_coverage(&id, &date)),
    // Diagnoses (§7a): the open episode's, and the ICD-10-CM chapter 5 picker.
    command!("diagnoses", Read, None, |r, ctx, mrn: String| r.diagnoses(&mrn)),
    command!("add_diagnosis", Write, None, |r, ctx, mrn: String, code: String, date: Option<String>| {
        r.add_diagnosis(&mrn, &code, date.as_deref())
    }),
    command!("search_diagnoses", Read, None, |r, ctx, query: String| Ok(crate::diagnoses::search(&query, 30))),
    // Billing and reports.
    command!("billing", CachedRead, None, |r, ctx, month: String| r.billing_view(Month::parse("month", &month)?)),
    // The month's billing CSV as text (audited as an export), for a browser to download.
    command!("billing_csv", Audited, None, |r, ctx, month: String| {
        let month = Month::parse("month", &month)?;
        r.record_export("billing-csv", serde_json::json!({ "month": month.to_string() }))?;
        crate::billing::to_csv(&r.billing(month)?)
    }),
    // Writes the month's CSV to the path the user chose in the save dialog.
    command!("export_billing_csv", Audited, Local, |r, ctx, month: String, path: String| {
        let month = Month::parse("month", &month)?;
        r.record_export("billing-csv", serde_json::json!({ "month": month.to_string(), "file": path }))?;
        let rows = r.billing(month)?;
        std::fs::write(&path, crate::billing::to_csv(&rows)?).map(|_| rows.len()).map_err(Error::from)
    }),
    // The month's claim lines (§7a), and as CSV (audited as an export) for a browser or a file.
    command!("billing_claims", CachedRead, None, |r, ctx, month: String| r.billing_claims(Month::parse("month", &month)?)),
    command!("claims_csv", Audited, None, |r, ctx, month: String| {
        let month = Month::parse("month", &month)?;
        r.record_export("claims-csv", serde_json::json!({ "month": month.to_string() }))?;
        crate::billing::claims_csv(&r.billing_claims(month)?)
    }),
    command!("export_claims_csv", Audited, Local, |r, ctx, month: String, path: String| {
        let month = Month::parse("month", &month)?;
        r.record_export("claims-csv", serde_json::json!({ "month": month.to_string(), "file": path }))?;
        let lines = r.billing_claims(month)?;
        std::fs::write(&path, crate::billing::claims_csv(&lines)?).map(|_| lines.len()).map_err(Error::from)
    }),
    command!("reports_view", Read, None, |r, ctx, from: String, to: String, as_of_date: Option<String>| {
        r.reports_view(date("from", &from)?, date("to", &to)?, as_of(as_of_date)?)
    }),
    // The patients behind one figure of the period's report, with the report they come from.
    command!("report_members", Read, None, |r,
                                            ctx,
                                            from: String,
                                            to: String,
                                            care_manager: Option<String>,
                                            measure: String,
                                            as_of_date: Option<String>| {
        let measure = Measure::parse("measure", &measure)?;
        r.report_members(date("from", &from)?, date("to", &to)?, as_of(as_of_date)?, care_manager.as_deref(), Some(measure))
    }),
    // The program report as `cocm report` prints it: for the period, month by month, or with
    // each care manager.
    command!("report", Read, None, |r, ctx, from: String, to: String, as_of_date: Option<String>, care_manager: Option<String>| {
        r.report(date("from", &from)?, date("to", &to)?, as_of(as_of_date)?, care_manager.as_deref())
    }),
    command!("monthly_reports", Read, None, |r,
                                             ctx,
                                             from: String,
                                             to: String,
                                             as_of_date: Option<String>,
                                             care_manager: Option<String>| {
        r.monthly_reports(Month::parse("from", &from)?, Month::parse("to", &to)?, as_of(as_of_date)?, care_manager.as_deref())
    }),
    command!("program_report", Read, None, |r, ctx, from: String, to: String, as_of_date: Option<String>| {
        r.program_report(date("from", &from)?, date("to", &to)?, as_of(as_of_date)?)
    }),
    // The program report's CSV (the practice, then each care manager) as text, for a browser.
    command!("report_csv", Audited, None, |r, ctx, from: String, to: String, as_of_date: Option<String>| {
        let (from, to) = (date("from", &from)?, date("to", &to)?);
        r.record_export("report-csv", serde_json::json!({ "from": from, "to": to }))?;
        crate::reports::to_csv(&r.program_report(from, to, as_of(as_of_date)?)?.reports())
    }),
    command!("export_report_csv", Audited, Local, |r, ctx, from: String, to: String, path: String, as_of_date: Option<String>| {
        let (from, to) = (date("from", &from)?, date("to", &to)?);
        r.record_export("report-csv", serde_json::json!({ "from": from, "to": to, "file": path }))?;
        let rows = r.program_report(from, to, as_of(as_of_date)?)?.reports();
        std::fs::write(&path, crate::reports::to_csv(&rows)?).map(|_| rows.len()).map_err(Error::from)
    }),
    // New York State OMH's metrics (§9), and as CSV (audited as an export).
    command!("nys_report", Read, None, |r, ctx, month: String, care_manager: Option<String>| {
        r.nys_report(Month::parse("month", &month)?, care_manager.as_deref())
    }),
    command!("nys_members", Read, None, |r, ctx, month: String, care_manager: Option<String>, metric: String| {
        r.nys_members(Month::parse("month", &month)?, care_manager.as_deref(), &metric)
    }),
    command!("nys_csv", Audited, None, |r, ctx, month: String, care_manager: Option<String>| {
        let month = Month::parse("month", &month)?;
        let report = r.nys_report(month, care_manager.as_deref())?;
        r.record_export("nys-omh-csv", serde_json::json!({ "month": month.to_string(), "care_manager": care_manager }))?;
        crate::reports::nys::to_csv(&report)
    }),
    command!("export_nys_csv", Audited, Local, |r, ctx, month: String, care_manager: Option<String>, path: String| {
        let month = Month::parse("month", &month)?;
        let report = r.nys_report(month, care_manager.as_deref())?;
        r.record_export("nys-omh-csv", serde_json::json!({ "month": month.to_string(), "care_manager": care_manager, "file": path }))?;
        std::fs::write(&path, crate::reports::nys::to_csv(&report)?).map(|_| report.metrics().len()).map_err(Error::from)
    }),
    command!("nys_quarter", Read, None, |r, ctx, quarter: String, care_manager: Option<String>| {
        r.nys_quarter(&quarter, care_manager.as_deref())
    }),
    command!("nys_quarter_csv", Audited, None, |r, ctx, quarter: String, care_manager: Option<String>| {
        let q = r.nys_quarter(&quarter, care_manager.as_deref())?;
        r.record_export("nys-omh-csv", serde_json::json!({ "quarter": q.quarter, "care_manager": care_manager }))?;
        crate::reports::nys::quarter_csv(&q)
    }),
    // A practice's visits and depression screens of any patient (§9).
    command!("visits", Read, None, |r, ctx, mrn: String| r.visits(&mrn)),
    // Referral candidates: a positive screen and no open episode (§9).
    command!("candidates", Read, None, |r, ctx, since: Option<String>| r.candidates(since.map(|s| date("since", &s)).transpose()?)),
    command!("add_visit", Write, None, |r, ctx, mrn: String, visit: crate::visits::NewVisit| r.add_visit(&mrn, &visit)),
    command!("record_screening", Write, None, |r, ctx, mrn: String, date: String, instrument: String, answers: Vec<i64>| {
        r.record_screening(&mrn, &NewAssessment { date, instrument, answers, difficulty: None })
    }),
    // A print-out or PDF of a page, audited before the page is printed (a lead's).
    command!("record_export", Audited, None, |r, ctx, what: String, details: Option<Value>| {
        r.record_export(&what, details.unwrap_or_else(|| serde_json::json!({})))
    }),
    // The audit log (a practice lead's): the newest entries, or one patient's record of access.
    command!("audit_log", Read, None, |r, ctx, limit: Option<usize>| r.read_audit_log(limit.unwrap_or(50))),
    command!("patient_audit", Read, None, |r, ctx, mrn: String| r.read_patient_audit(&mrn)),
    // Import and export.
    // The import wizard's look at a file: its columns, the mapping (the one given, else a
    // guess) and a dry run of the whole file with it.
    command!("import_preview", Audited, Local, |r, ctx, path: String, shape: String, mapping: Option<Mapping>| {
        let (name, bytes) = read_import_file(&path)?;
        r.import_preview(&name, &bytes, ImportShape::parse("shape", &shape)?, mapping)
    }),
    // Imports a file, all or nothing, reporting progress every 500 rows.
    command!("import_file", Write, Local, |r, ctx, path: String, mapping: Mapping| {
        let (name, bytes) = read_import_file(&path)?;
        let mut progress = |done: usize, all: usize| {
            if done.is_multiple_of(500) || done == all {
                (ctx.progress)(done, all)
            }
        };
        r.import_csv(&name, &bytes, &mapping, false, &mut progress)
    }),
    command!("import_mappings", Read, None, |r, ctx| r.import_mappings()),
    command!("save_import_mapping", Write, None, |r, ctx, name: String, mapping: Mapping| r.save_import_mapping(&name, &mapping)),
    // FHIR R4 Bulk Data NDJSON into a new or empty folder; with `since`, what changed from then.
    command!("export_fhir", Audited, Local, |r, ctx, dir: String, since: Option<String>| {
        let since = since.filter(|s| !s.trim().is_empty()).map(|s| date("since", &s)).transpose()?;
        r.export_fhir(std::path::Path::new(&dir), since)
    }),
    // A FHIR Bundle, NDJSON file or folder; `dry_run` checks and stores nothing. Progress
    // every 2,000 resources.
    command!("import_fhir", Write, Local, |r, ctx, path: String, dry_run: bool| {
        let files = crate::fhir::sources_at(std::path::Path::new(&path))?;
        let mut progress = |done: usize, all: usize| {
            if done.is_multiple_of(2000) || done == all {
                (ctx.progress)(done, all)
            }
        };
        r.import_fhir(&files, dry_run, &mut progress)
    }),
    // The same four with the file's contents instead of a path: a browser's file input and
    // download, and the desktop app or CLI connected to a practice server.
    command!("import_preview_upload", Audited, Upload, |r, ctx, file: FileContent, shape: String, mapping: Option<Mapping>| {
        let (name, bytes) = file.decode()?;
        r.import_preview(&name, &bytes, ImportShape::parse("shape", &shape)?, mapping)
    }),
    // `dry_run` (`cocm import csv --dry-run` over a server) checks every row and stores nothing.
    command!("import_upload", Write, Upload, |r, ctx, file: FileContent, mapping: Mapping, dry_run: Option<bool>| {
        let (name, bytes) = file.decode()?;
        r.import_csv(&name, &bytes, &mapping, dry_run.unwrap_or(false), &mut |_, _| {})
    }),
    // A Bundle or NDJSON files (an export's, chosen together); `dry_run` stores nothing.
    command!("import_fhir_upload", Write, Upload, |r, ctx, files: Vec<FileContent>, dry_run: bool| {
        if files.is_empty() {
            return Err(Error::validation("file", "choose a FHIR Bundle or NDJSON file"));
        }
        let mut sources = Vec::new();
        // An export's manifest lists the files; it holds no resources.
        for file in files.iter().filter(|f| f.name != "manifest.json") {
            let (name, bytes) = file.decode()?;
            sources.push(crate::fhir::FhirSource::bytes(&name, bytes));
        }
        r.import_fhir(&sources, dry_run, &mut |_, _| {})
    }),
    command!("export_fhir_download", Audited, Upload, |r, ctx, since: Option<String>| {
        let since = since.filter(|s| !s.trim().is_empty()).map(|s| date("since", &s)).transpose()?;
        r.export_fhir_archive(since).map(|a| FhirDownload { archive: FileContent::new(&a.report.dir, &a.bytes), report: a.report })
    }),
];

/// The file's name (what problems and the audit log name) and its bytes.
pub(crate) fn read_import_file(path: &str) -> Result<(String, Vec<u8>)> {
    let path = std::path::PathBuf::from(path);
    let bytes = std::fs::read(&path).map_err(|e| Error::validation("file", format!("cannot read {}: {e}", path.display())))?;
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    Ok((name, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_snake_case() {
        let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a command is listed twice");
    }

    #[test]
    fn commands_that_read_or_write_files_say_so() {
        for name in
            ["export_billing_csv", "export_claims_csv", "export_report_csv", "import_preview", "import_file", "export_fhir", "import_fhir"]
        {
            assert_eq!(find(name).unwrap().files, Files::Local, "{name}");
        }
        for name in ["import_preview_upload", "import_upload", "import_fhir_upload", "export_fhir_download"] {
            assert_eq!(find(name).unwrap().files, Files::Upload, "{name}");
        }
        assert_eq!(find("billing_csv").unwrap().files, Files::None);
    }

    #[test]
    fn uploaded_content_that_is_not_base64_is_refused_naming_the_file() {
        let file = FileContent { name: "caseload.csv".into(), content: "not base64!".into() };
        let e = file.decode().unwrap_err();
        assert_eq!(e.code(), "validation");
        assert!(e.to_string().contains("caseload.csv"), "{e}");
        let (name, bytes) = FileContent::new("a.csv", b"mrn\n").decode().unwrap();
        assert_eq!((name.as_str(), bytes.as_slice()), ("a.csv", &b"mrn\n"[..]));
    }
}
