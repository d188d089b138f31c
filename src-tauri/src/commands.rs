//! The commands the UI invokes: the app's own session (choosing a file, signing in, locking),
//! and `run`, which runs any of the core's shared commands on the signed-in registry. Each
//! locks the app state and returns the core's result or its error as `{code, message}`.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use cocm::accounts::{self, SignInChoices};
use cocm::client::ServerCheck;
use cocm::dates;
use cocm::demo::{self, DemoOptions};
use cocm::store::{CreatedRegistry, StartState};
use cocm::{Error, ErrorPayload, Registry};
use serde_json::Value;

use crate::remote::{self, Remote};
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
    /// The practice server the app is connected to instead of a file.
    remote: Option<Remote>,
}

impl AppState {
    pub fn from_env() -> AppState {
        let suggested_member = std::env::var("COCM_AS").ok().filter(|s| !s.is_empty());
        let mut state = AppState { path: None, registry: None, locked_for: None, suggested_member, startup_error: None, remote: None };
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
        self.remote = None;
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
        if let Some(remote) = self.remote.as_mut() {
            let _ = remote.client.sign_out();
            remote.signed_in_as = None;
        }
        self.locked_for = None;
    }
}

/// Refuses an export unless the signed-in member may export, and audits it (a PDF or a
/// print-out of the program report goes through here before the page is printed).
pub fn record_export(state: &State, what: &str, details: serde_json::Value) -> Reply<()> {
    let mut guard = lock(state)?;
    if let Some(remote) = guard.remote.as_mut() {
        let args = serde_json::json!({ "what": what, "details": details });
        return remote.client.call("record_export", args).map(|_| ()).map_err(|e| e.payload());
    }
    drop(guard);
    with(state, |r| r.record_export(what, details))
}

/// The app state, or a storage error if a panicking command poisoned its lock.
fn lock<'a>(state: &'a State) -> Reply<MutexGuard<'a, AppState>> {
    state.lock().map_err(|_| Error::Storage("the app state is unavailable".into()).payload())
}

/// Runs `f` on the open registry.
fn with<T>(state: &State, f: impl FnOnce(&mut Registry) -> cocm::Result<T>) -> Reply<T> {
    let mut guard = lock(state)?;
    let registry = guard.registry.as_mut().ok_or_else(|| Error::SignedOut("sign in to use the registry".into()).payload())?;
    f(registry).map_err(|e| e.payload())
}

#[tauri::command]
pub fn registry_info(state: State) -> Reply<Value> {
    let mut guard = lock(&state)?;
    let suggested_member = guard.suggested_member.clone();
    if let Some(remote) = guard.remote.as_mut() {
        let mut start = remote.client.start_state().map_err(|e| e.payload())?;
        start["server"] = Value::from(remote.client.url());
        start["suggested_member"] = suggested_member.map_or(Value::Null, Value::from);
        return Ok(start);
    }
    let registry = guard.registry.as_ref().map(|r| r.info()).transpose().map_err(|e| e.payload())?;
    let sign_in = guard.path.as_ref().map(|p| accounts::sign_in_choices(p)).transpose().map_err(|e| e.payload())?;
    let start = StartState {
        registry,
        sign_in,
        suggested_member,
        startup_error: guard.startup_error.clone(),
        demo_path: demo_path().display().to_string(),
        server: None,
    };
    serde_json::to_value(start).map_err(|e| Error::from(e).payload())
}

/// The start screen's first look at a practice server: the fingerprint of the certificate it
/// presents, for the user to compare with the one `cocm serve` printed, and any pinned before.
#[tauri::command]
pub fn check_server(url: String) -> Reply<ServerCheck> {
    remote::check(&url).map_err(|e| e.payload())
}

/// Connects to a practice server, pinning the fingerprint the user confirmed; the sign-in
/// screen follows with the server's members.
#[tauri::command]
pub fn connect_server(state: State, url: String, fingerprint: String) -> Reply<Value> {
    let mut guard = lock(&state)?;
    guard.sign_out();
    let (remote, start) = remote::connect(&url, &fingerprint).map_err(|e| e.payload())?;
    guard.remote = Some(remote);
    guard.path = None;
    Ok(start["sign_in"].clone())
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
    guard.remote = None;
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
pub fn sign_in(
    app: tauri::AppHandle,
    state: State,
    member: String,
    password: String,
    new_password: Option<String>,
    code: Option<String>,
) -> Reply<Value> {
    let (password, new_password, code) = (Zeroizing::new(password), new_password.map(Zeroizing::new), code.map(Zeroizing::new));
    let code = code.as_deref().map(|c| c.as_str()).filter(|c| !c.is_empty());
    let mut guard = lock(&state)?;
    guard.sign_out();
    if let Some(remote) = guard.remote.as_mut() {
        let info = remote
            .client
            .sign_in_changing(&member, &password, new_password.as_deref().map(|p| p.as_str()), code)
            .map_err(|e| e.payload())?;
        remote.signed_in_as = info["actor"]["member_id"].as_str().map(str::to_string);
        remote::follow_changes(&remote.client, app);
        return Ok(info);
    }
    let path = guard.chosen()?.clone();
    let registry = Registry::sign_in_with_code(&path, &member, &password, new_password.as_deref().map(|p| p.as_str()), code)
        .map_err(|e| e.payload())?;
    // The first sign-in of the day backs the registry up beside it (backups/), on a second
    // handle in the background: the caseload does not wait for it (3.9 s at 10,000 patients).
    // The copy is still consistent (SQLite's online backup) and still one a day. A failed
    // backup keeps no one out of the registry; the app shows it ("backup-failed").
    let backup = registry.second_handle();
    let failed = app.clone();
    std::thread::spawn(move || {
        if let Err(e) = backup.and_then(|mut handle| handle.backup_daily(dates::today())) {
            use tauri::Emitter;
            let _ = failed.emit("backup-failed", e.payload());
        }
    });
    let info = registry.info().map_err(|e| e.payload())?;
    guard.registry = Some(registry);
    serde_json::to_value(info).map_err(|e| Error::from(e).payload())
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
    if let Some(remote) = guard.remote.as_mut() {
        // The server may have ended the session already (its idle clock runs from the last
        // request, the app's from the last input): the lock holds all the same.
        let _ = remote.client.lock();
        return Ok(());
    }
    if let Some(registry) = guard.registry.take() {
        let member = registry.actor().member_id.clone();
        let _ = registry.lock_for_inactivity();
        guard.locked_for = Some(member);
    }
    Ok(())
}

/// Unlocks the app for the member it locked for; connected to a server, also after the server
/// ended the session (the UI shows the same lock screen with the server's reason).
#[tauri::command]
pub fn unlock_app(app: tauri::AppHandle, state: State, password: String, code: Option<String>) -> Reply<Value> {
    let (password, code) = (Zeroizing::new(password), code.map(Zeroizing::new));
    let code = code.as_deref().map(|c| c.as_str()).filter(|c| !c.is_empty());
    let mut guard = lock(&state)?;
    if let Some(remote) = guard.remote.as_mut() {
        let member = remote.signed_in_as.clone().ok_or_else(|| Error::SignedOut("sign in first".into()).payload())?;
        let info = remote.client.sign_in_changing(&member, &password, None, code).map_err(|e| e.payload())?;
        remote::follow_changes(&remote.client, app);
        return Ok(info);
    }
    let path = guard.chosen()?.clone();
    let member = guard.locked_for.clone().ok_or_else(|| Error::NotFound("the app is not locked".into()).payload())?;
    let registry = Registry::sign_in_with_code(&path, &member, &password, None, code).map_err(|e| e.payload())?;
    let info = registry.info().map_err(|e| e.payload())?;
    guard.registry = Some(registry);
    guard.locked_for = None;
    serde_json::to_value(info).map_err(|e| Error::from(e).payload())
}

/// Runs one of the core's commands (`cocm::commands::COMMANDS`, the list the practice server
/// serves too) on the signed-in registry. An import's progress goes to the window as
/// `import-progress` events (done, in all).
#[tauri::command]
pub fn run(app: tauri::AppHandle, state: State, command: String, args: Value) -> Reply<Value> {
    use tauri::Emitter;
    {
        let guard = lock(&state)?;
        if let Some(remote) = guard.remote.as_ref() {
            return remote.client.run(&command, args).map_err(|e| e.payload());
        }
    }
    with(&state, |r| {
        let mut progress = |done: usize, all: usize| {
            let _ = app.emit("import-progress", (done, all));
        };
        cocm::commands::run(r, &command, args, &mut cocm::commands::Context { progress: &mut progress })
    })
}
