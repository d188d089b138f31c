//! The commands the UI invokes. Each locks the app state, calls the core, and returns its
//! result or its error as `{code, message}`.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use cocm::accounts::{self, Account, SignInChoices};
use cocm::assessments::NewAssessment;
use cocm::billing::{BillingRules, BillingView, RuleSet};
use cocm::caseload::CaseloadView;
use cocm::chart::PatientChart;
use cocm::contacts::NewContact;
use cocm::dates::{self, Date, Month};
use cocm::demo::{self, DemoOptions};
use cocm::episodes::Enrolment;
use cocm::fhir::{FhirExportReport, FhirImportReport};
use cocm::import::{ImportPreview, ImportReport, ImportShape, Mapping, SavedMapping};
use cocm::instruments::{self, Instrument, Item, LiveScore};
use cocm::patients::{NewPatient, Patient, PatientChanges};
use cocm::queue::QueueEntry;
use cocm::reports::{Measure, ReportMember, ReportsView};
use cocm::reviews::{NewCaseReview, NewReviewRequest};
use cocm::settings::Settings;
use cocm::store::{CreatedRegistry, RegistryInfo, StartState};
use cocm::team::TeamMember;
use cocm::treatment::NewTreatmentChange;
use cocm::vocab::{DischargeReason, EpisodeStatus, Role};
use cocm::voids::RecordKind;
use cocm::{Error, ErrorPayload, Registry};
use zeroize::Zeroizing;

type State<'a> = tauri::State<'a, Mutex<AppState>>;
type Reply<T> = Result<T, ErrorPayload>;

/// The registry file the start screen chose, and, once someone has signed in, the open
/// registry (which holds the data key). Signing out or locking drops the registry, and with
/// it the key; the file stays chosen so that the next person can sign in.
pub struct AppState {
    path: Option<PathBuf>,
    registry: Option<Registry>,
    /// The member the app locked for (auto-lock): only they unlock it, back to the same screen.
    locked_for: Option<String>,
    /// $COCM_AS: the member the sign-in screen starts on (never a password).
    suggested_member: Option<String>,
    /// Why $COCM_DB could not be used, shown on the start screen.
    startup_error: Option<ErrorPayload>,
}

impl AppState {
    pub fn from_env() -> AppState {
        let suggested_member = std::env::var("COCM_AS").ok().filter(|s| !s.is_empty());
        let mut state = AppState { path: None, registry: None, locked_for: None, suggested_member, startup_error: None };
        if let Some(path) = std::env::var_os("COCM_DB").filter(|p| !p.is_empty()) {
            match accounts::sign_in_choices(&PathBuf::from(&path)) {
                Ok(_) => state.path = Some(PathBuf::from(path)),
                Err(e) => state.startup_error = Some(e.payload()),
            }
        }
        state
    }

    fn choose(&mut self, path: PathBuf) -> Reply<SignInChoices> {
        let choices = accounts::sign_in_choices(&path).map_err(|e| e.payload())?;
        self.sign_out();
        self.path = Some(path);
        Ok(choices)
    }

    fn chosen(&self) -> Reply<&PathBuf> {
        self.path.as_ref().ok_or_else(|| Error::NotFound("choose a registry first".into()).payload())
    }

    fn sign_out(&mut self) {
        if let Some(registry) = self.registry.take() {
            let _ = registry.sign_out();
        }
        self.locked_for = None;
    }
}

/// Refuses an export unless the signed-in member may export, and audits it (a PDF or a
/// print-out of the program report goes through here before the page is printed).
pub fn record_export(state: &State, what: &str, details: serde_json::Value) -> Reply<()> {
    with(state, |r| r.record_export(what, details))
}

/// The app state, or a storage error if a panicking command poisoned its lock.
fn lock<'a>(state: &'a State) -> Reply<MutexGuard<'a, AppState>> {
    state.lock().map_err(|_| Error::Storage("the app state is unavailable".into()).payload())
}

/// Runs `f` on the open registry.
fn with<T>(state: &State, f: impl FnOnce(&mut Registry) -> cocm::Result<T>) -> Reply<T> {
    let mut guard = lock(state)?;
    let registry = guard.registry.as_mut().ok_or_else(|| Error::Auth("sign in to use the registry".into()).payload())?;
    f(registry).map_err(|e| e.payload())
}

fn as_of(value: Option<String>) -> cocm::Result<Date> {
    value.filter(|s| !s.is_empty()).map_or_else(|| Ok(dates::today()), |s| dates::parse_date("as-of", &s))
}

#[tauri::command]
pub fn registry_info(state: State) -> Reply<StartState> {
    let guard = lock(&state)?;
    let registry = guard.registry.as_ref().map(|r| r.info()).transpose().map_err(|e| e.payload())?;
    let sign_in = guard.path.as_ref().map(|p| accounts::sign_in_choices(p)).transpose().map_err(|e| e.payload())?;
    Ok(StartState {
        registry,
        sign_in,
        suggested_member: guard.suggested_member.clone(),
        startup_error: guard.startup_error.clone(),
        demo_path: demo_path().display().to_string(),
    })
}

/// Chooses a registry file; the sign-in screen follows.
#[tauri::command]
pub fn choose_registry(state: State, path: String) -> Reply<SignInChoices> {
    lock(&state)?.choose(PathBuf::from(path))
}

/// Creates a registry and its practice lead's account, signed in as the lead. The recovery key
/// is returned this once, for the lead to store.
#[tauri::command]
pub fn create_registry(state: State, path: String, practice: String, lead: String, password: String) -> Reply<CreatedRegistry> {
    let password = Zeroizing::new(password);
    let mut guard = lock(&state)?;
    guard.sign_out();
    let (registry, recovery) = Registry::create(&PathBuf::from(&path), &practice, &lead, &password).map_err(|e| e.payload())?;
    let info = registry.info().map_err(|e| e.payload())?;
    guard.path = Some(PathBuf::from(path));
    guard.registry = Some(registry);
    Ok(CreatedRegistry { info, recovery_key: recovery.as_str().to_string() })
}

/// Encrypts the chosen registry (one from before encryption) in place, creating the practice
/// lead's account, signed in as them. The recovery key is returned this once.
#[tauri::command]
pub fn encrypt_registry(state: State, lead: String, password: String) -> Reply<CreatedRegistry> {
    let password = Zeroizing::new(password);
    let mut guard = lock(&state)?;
    let path = guard.chosen()?.clone();
    guard.sign_out();
    let (registry, recovery) = cocm::conversion::encrypt(&path, &lead, &password).map_err(|e| e.payload())?;
    let info = registry.info().map_err(|e| e.payload())?;
    guard.registry = Some(registry);
    Ok(CreatedRegistry { info, recovery_key: recovery.as_str().to_string() })
}

/// The demo registry lives beside the default registry in the user's data directory.
fn demo_path() -> PathBuf {
    let default = cocm::store::default_registry_path();
    default.with_file_name("demo.cocm")
}

/// Chooses the demo registry, creating it from the seeds (as of today) the first time.
#[tauri::command]
pub fn choose_demo_registry(state: State) -> Reply<SignInChoices> {
    let path = demo_path();
    let mut guard = lock(&state)?;
    if !path.exists() {
        demo::create_demo(&path, &DemoOptions::default()).map_err(|e| e.payload())?;
    }
    guard.choose(path)
}

/// Signs a member in on the chosen registry. `new_password` answers `password_change_required`.
#[tauri::command]
pub fn sign_in(state: State, member: String, password: String, new_password: Option<String>) -> Reply<RegistryInfo> {
    let (password, new_password) = (Zeroizing::new(password), new_password.map(Zeroizing::new));
    let mut guard = lock(&state)?;
    let path = guard.chosen()?.clone();
    guard.sign_out();
    let mut registry =
        Registry::sign_in(&path, &member, &password, new_password.as_deref().map(|p| p.as_str())).map_err(|e| e.payload())?;
    // The first sign-in of the day backs the registry up beside it (backups/). A failed backup
    // must not keep anyone out of the registry; it shows on the next sign-in's attempt.
    let _ = registry.backup_daily(dates::today());
    let info = registry.info().map_err(|e| e.payload())?;
    guard.registry = Some(registry);
    Ok(info)
}

/// Signs out: the registry and its key are dropped; the file stays chosen.
#[tauri::command]
pub fn sign_out(state: State) -> Reply<()> {
    lock(&state)?.sign_out();
    Ok(())
}

/// Locks the app (no input for `auto_lock_minutes`): the key is dropped, and only the same
/// member's password opens it again.
#[tauri::command]
pub fn lock_app(state: State) -> Reply<()> {
    let mut guard = lock(&state)?;
    if let Some(registry) = guard.registry.take() {
        let member = registry.actor().member_id.clone();
        let _ = registry.lock_for_inactivity();
        guard.locked_for = Some(member);
    }
    Ok(())
}

/// Unlocks the app for the member it locked for.
#[tauri::command]
pub fn unlock_app(state: State, password: String) -> Reply<RegistryInfo> {
    let password = Zeroizing::new(password);
    let mut guard = lock(&state)?;
    let path = guard.chosen()?.clone();
    let member = guard.locked_for.clone().ok_or_else(|| Error::NotFound("the app is not locked".into()).payload())?;
    let registry = Registry::sign_in(&path, &member, &password, None).map_err(|e| e.payload())?;
    let info = registry.info().map_err(|e| e.payload())?;
    guard.registry = Some(registry);
    guard.locked_for = None;
    Ok(info)
}

#[tauri::command]
pub fn change_own_password(state: State, current: String, new: String) -> Reply<()> {
    let (current, new) = (Zeroizing::new(current), Zeroizing::new(new));
    with(&state, |r| r.change_own_password(&current, &new))
}

#[tauri::command]
pub fn accounts(state: State) -> Reply<Vec<Account>> {
    with(&state, |r| r.accounts())
}

#[tauri::command]
pub fn set_password(state: State, member: String, password: String) -> Reply<()> {
    let password = Zeroizing::new(password);
    with(&state, |r| r.set_password(&member, &password))
}

#[tauri::command]
pub fn unlock_account(state: State, member: String) -> Reply<()> {
    with(&state, |r| r.unlock_account(&member))
}

#[tauri::command]
pub fn team(state: State) -> Reply<Vec<TeamMember>> {
    with(&state, |r| r.list_members())
}

#[tauri::command]
pub fn caseload(state: State, as_of_date: Option<String>, care_manager: Option<String>) -> Reply<CaseloadView> {
    with(&state, |r| r.caseload_view(as_of(as_of_date)?, care_manager.as_deref().filter(|m| !m.is_empty())))
}

#[tauri::command]
pub fn patient_chart(state: State, mrn: String, as_of_date: Option<String>) -> Reply<PatientChart> {
    with(&state, |r| r.patient_chart(&mrn, as_of(as_of_date)?))
}

#[tauri::command]
pub fn instrument_items(instrument: String) -> Reply<Vec<Item>> {
    Instrument::parse("instrument", &instrument).map(|i| i.items().to_vec()).map_err(|e| e.payload())
}

#[tauri::command]
pub fn live_score(instrument: String, answers: Vec<Option<i64>>) -> Reply<LiveScore> {
    let instrument = Instrument::parse("instrument", &instrument).map_err(|e| e.payload())?;
    Ok(instruments::live_score(instrument, &answers))
}

/// A form's answers, item by item; a blank item is `null` and is named in the error.
#[tauri::command]
pub fn record_assessment(state: State, mrn: String, date: String, instrument: String, answers: Vec<Option<i64>>) -> Reply<String> {
    let missing = answers.iter().position(Option::is_none);
    if let Some(i) = missing {
        return Err(Error::validation("items", format!("item {} is unanswered", i + 1)).payload());
    }
    let answers: Vec<i64> = answers.into_iter().flatten().collect();
    with(&state, |r| r.record_assessment(&mrn, &NewAssessment { date, instrument, answers, difficulty: None }))
}

#[tauri::command]
pub fn log_contact(state: State, mrn: String, contact: NewContact) -> Reply<String> {
    with(&state, |r| r.log_contact(&mrn, &contact))
}

#[tauri::command]
pub fn request_review(state: State, mrn: String, request: NewReviewRequest) -> Reply<String> {
    with(&state, |r| r.request_review(&mrn, &request))
}

#[tauri::command]
pub fn record_case_review(state: State, mrn: String, review: NewCaseReview) -> Reply<String> {
    with(&state, |r| r.record_case_review(&mrn, &review))
}

#[tauri::command]
pub fn record_treatment_change(state: State, mrn: String, change: NewTreatmentChange) -> Reply<String> {
    with(&state, |r| r.record_treatment_change(&mrn, &change))
}

#[tauri::command]
pub fn change_status(state: State, mrn: String, to: String, date: String, reason: Option<String>) -> Reply<()> {
    with(&state, |r| {
        let to = EpisodeStatus::parse("to", &to)?;
        let reason = reason.filter(|s| !s.is_empty()).map(|s| DischargeReason::parse("reason", &s)).transpose()?;
        r.change_status(&mrn, to, &date, reason)
    })
}

#[tauri::command]
pub fn enroll_new_patient(state: State, patient: NewPatient, enrolment: Enrolment) -> Reply<String> {
    with(&state, |r| r.enroll_new_patient(&patient, &enrolment))
}

#[tauri::command]
pub fn add_member(state: State, name: String, role: String) -> Reply<TeamMember> {
    with(&state, |r| r.add_member(&name, Role::parse("role", &role)?))
}

#[tauri::command]
pub fn settings(state: State) -> Reply<Settings> {
    with(&state, |r| r.settings())
}

#[tauri::command]
pub fn set_setting(state: State, key: String, value: String) -> Reply<Settings> {
    with(&state, |r| r.set_setting(&key, &value))
}

#[tauri::command]
pub fn billing_rule_sets(state: State) -> Reply<Vec<RuleSet>> {
    with(&state, |r| r.billing_rule_sets())
}

#[tauri::command]
pub fn set_billing_rules(state: State, year: i32, rules: BillingRules) -> Reply<Vec<RuleSet>> {
    with(&state, |r| {
        r.set_billing_rules(year, &rules)?;
        r.billing_rule_sets()
    })
}

#[tauri::command]
pub fn record_consent(state: State, mrn: String, date: String) -> Reply<()> {
    with(&state, |r| r.record_consent(&mrn, &date))
}

#[tauri::command]
pub fn update_patient(state: State, mrn: String, changes: PatientChanges) -> Reply<Patient> {
    with(&state, |r| r.update_patient(&mrn, &changes))
}

#[tauri::command]
pub fn mark_entered_in_error(state: State, kind: String, id: String, reason: String) -> Reply<()> {
    with(&state, |r| r.mark_entered_in_error(RecordKind::parse("kind", &kind)?, &id, &reason))
}

#[tauri::command]
pub fn queue(state: State, as_of_date: Option<String>) -> Reply<Vec<QueueEntry>> {
    with(&state, |r| r.queue(as_of(as_of_date)?))
}

#[tauri::command]
pub fn billing(state: State, month: String) -> Reply<BillingView> {
    with(&state, |r| r.billing_view(Month::parse("month", &month)?))
}

/// Writes the month's CSV to the path the user chose in the save dialog.
#[tauri::command]
pub fn export_billing_csv(state: State, month: String, path: String) -> Reply<usize> {
    with(&state, |r| {
        let month = Month::parse("month", &month)?;
        r.record_export("billing-csv", serde_json::json!({ "month": month.to_string(), "file": path }))?;
        let rows = r.billing(month)?;
        std::fs::write(&path, cocm::billing::to_csv(&rows)?)?;
        Ok(rows.len())
    })
}

/// The Reports screen: the program report for a period and the last 12 months' trend.
#[tauri::command]
pub fn reports_view(state: State, from: String, to: String, as_of_date: Option<String>) -> Reply<ReportsView> {
    with(&state, |r| r.reports_view(dates::parse_date("from", &from)?, dates::parse_date("to", &to)?, as_of(as_of_date)?))
}

/// The patients behind one figure of the period's report.
#[tauri::command]
pub fn report_members(
    state: State,
    from: String,
    to: String,
    care_manager: Option<String>,
    measure: String,
    as_of_date: Option<String>,
) -> Reply<Vec<ReportMember>> {
    with(&state, |r| {
        let (from, to) = (dates::parse_date("from", &from)?, dates::parse_date("to", &to)?);
        let measure = Measure::parse("measure", &measure)?;
        Ok(r.report_members(from, to, as_of(as_of_date)?, care_manager.as_deref(), Some(measure))?.1)
    })
}

/// Writes the program report's CSV (the practice, then each care manager) to the chosen path.
#[tauri::command]
pub fn export_report_csv(state: State, from: String, to: String, path: String, as_of_date: Option<String>) -> Reply<usize> {
    with(&state, |r| {
        let (from, to) = (dates::parse_date("from", &from)?, dates::parse_date("to", &to)?);
        r.record_export("report-csv", serde_json::json!({ "from": from, "to": to, "file": path }))?;
        let program = r.program_report(from, to, as_of(as_of_date)?)?;
        let rows = program.reports();
        std::fs::write(&path, cocm::reports::to_csv(&rows)?)?;
        Ok(rows.len())
    })
}

/// The import wizard's look at a file: its columns, the mapping (the one given, else a guess)
/// and a dry run of the whole file with it.
#[tauri::command]
pub fn import_preview(state: State, path: String, shape: String, mapping: Option<Mapping>) -> Reply<ImportPreview> {
    with(&state, |r| {
        let (name, bytes) = read_import_file(&path)?;
        r.import_preview(&name, &bytes, ImportShape::parse("shape", &shape)?, mapping)
    })
}

/// Imports a file, all or nothing, telling the window its progress (`import-progress`, rows
/// done and rows in all) every 500 rows.
#[tauri::command]
pub fn import_file(app: tauri::AppHandle, state: State, path: String, mapping: Mapping) -> Reply<ImportReport> {
    use tauri::Emitter;
    with(&state, |r| {
        let (name, bytes) = read_import_file(&path)?;
        let mut progress = |done: usize, all: usize| {
            if done.is_multiple_of(500) || done == all {
                let _ = app.emit("import-progress", (done, all));
            }
        };
        r.import_csv(&name, &bytes, &mapping, false, &mut progress)
    })
}

/// The file's name (what problems and the audit log name) and its bytes.
fn read_import_file(path: &str) -> cocm::Result<(String, Vec<u8>)> {
    let path = PathBuf::from(path);
    let bytes = std::fs::read(&path).map_err(|e| Error::validation("file", format!("cannot read {}: {e}", path.display())))?;
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    Ok((name, bytes))
}

/// Writes the registry as FHIR R4 Bulk Data NDJSON into a new or empty folder (a practice
/// lead's; audited); with `since`, only what changed on or after that date.
#[tauri::command]
pub fn export_fhir(state: State, dir: String, since: Option<String>) -> Reply<FhirExportReport> {
    with(&state, |r| {
        let since = since.filter(|s| !s.trim().is_empty()).map(|s| dates::parse_date("since", &s)).transpose()?;
        r.export_fhir(std::path::Path::new(&dir), since)
    })
}

/// Imports a FHIR Bundle, an NDJSON file or a folder of them; `dry_run` checks every resource
/// and stores nothing (the wizard's preview). Tells the window its progress (`import-progress`,
/// resources done and in all) every 2,000 resources.
#[tauri::command]
pub fn import_fhir(app: tauri::AppHandle, state: State, path: String, dry_run: bool) -> Reply<FhirImportReport> {
    use tauri::Emitter;
    with(&state, |r| {
        let files = cocm::fhir::sources_at(std::path::Path::new(&path))?;
        let mut progress = |done: usize, all: usize| {
            if done.is_multiple_of(2000) || done == all {
                let _ = app.emit("import-progress", (done, all));
            }
        };
        r.import_fhir(&files, dry_run, &mut progress)
    })
}

/// The import mappings saved by name.
#[tauri::command]
pub fn import_mappings(state: State) -> Reply<Vec<SavedMapping>> {
    with(&state, |r| r.import_mappings())
}

/// Saves the wizard's mapping under a name (a practice lead's; audited).
#[tauri::command]
pub fn save_import_mapping(state: State, name: String, mapping: Mapping) -> Reply<SavedMapping> {
    with(&state, |r| r.save_import_mapping(&name, &mapping))
}
