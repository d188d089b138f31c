//! One registry = one SQLite file. Opening applies pending migrations (tracked by
//! `user_version`), refuses files that are not registries or that a newer version wrote, and
//! sets WAL, foreign keys and a busy timeout so the CLI and the app can share a file.

use rusqlite::{Connection, OpenFlags, Transaction};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::access::{self, Action};
use crate::audit::{self, Actor};
use crate::keyring::{self, DataKey, Keyring, RecoveryKey};
use crate::vocab::Role;
use crate::{Error, Result, accounts, team};

/// Marks a SQLite file as a CoCM registry (`PRAGMA application_id`): "CoCM" in ASCII.
pub const APPLICATION_ID: i32 = 0x436F_434D;

/// The migrations, applied in order; a file's `user_version` is how many it has had.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_registry", include_str!("../migrations/0001_registry.sql")),
    ("0002_practice_settings", include_str!("../migrations/0002_practice_settings.sql")),
    ("0003_report_targets", include_str!("../migrations/0003_report_targets.sql")),
    ("0004_episode_entered_in_error", include_str!("../migrations/0004_episode_entered_in_error.sql")),
    ("0005_security", include_str!("../migrations/0005_security.sql")),
    ("0006_audit_chain", include_str!("../migrations/0006_audit_chain.sql")),
    ("0007_slimmer_caseload_indexes", include_str!("../migrations/0007_slimmer_caseload_indexes.sql")),
    ("0008_total_only_assessments", include_str!("../migrations/0008_total_only_assessments.sql")),
    ("0009_import_mappings", include_str!("../migrations/0009_import_mappings.sql")),
    ("0010_instrument_catalogue", include_str!("../migrations/0010_instrument_catalogue.sql")),
    ("0011_status_change_ids", include_str!("../migrations/0011_status_change_ids.sql")),
    ("0012_second_factor", include_str!("../migrations/0012_second_factor.sql")),
    ("0013_team_attributes", include_str!("../migrations/0013_team_attributes.sql")),
    ("0014_billing_programs", include_str!("../migrations/0014_billing_programs.sql")),
    ("0015_coverage", include_str!("../migrations/0015_coverage.sql")),
    ("0016_diagnoses", include_str!("../migrations/0016_diagnoses.sql")),
    ("0017_inactivity", include_str!("../migrations/0017_inactivity.sql")),
    ("0018_visits", include_str!("../migrations/0018_visits.sql")),
    ("0019_questionnaires", include_str!("../migrations/0019_questionnaires.sql")),
];

pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// The open registry, as the desktop app's title bar names it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct RegistryInfo {
    pub path: String,
    pub practice: String,
    pub schema_version: i32,
    pub actor: Actor,
    /// What the signed-in member's role may do (`access::allowed`), so the UI can hide the rest.
    pub allowed: Vec<Action>,
    /// The member must set up a second factor before anything else (`mfa_required`).
    pub must_enrol_second_factor: bool,
}

/// What the desktop app's start screen needs: the signed-in registry if any, else the chosen
/// registry's sign-in choices (from `COCM_DB` or the user's choice), the member `COCM_AS`
/// suggests, why `COCM_DB` could not be used, and where the demo registry lives.
#[derive(Clone, Debug, serde::Serialize, ts_rs::TS)]
pub struct StartState {
    pub registry: Option<RegistryInfo>,
    pub sign_in: Option<crate::accounts::SignInChoices>,
    pub suggested_member: Option<String>,
    pub startup_error: Option<crate::ErrorPayload>,
    pub demo_path: String,
    /// The practice server the app is connected to, if it is connected to one.
    pub server: Option<String>,
}

/// A new registry and its recovery key, which the app shows once for the lead to store.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct CreatedRegistry {
    pub info: RegistryInfo,
    pub recovery_key: String,
}

/// What a member types to sign in, besides their name.
#[derive(Clone, Copy)]
pub struct SignInSecrets<'a> {
    pub password: &'a str,
    /// A password a lead set must be replaced: the member's own new one.
    pub new_password: Option<&'a str>,
    /// The second factor's 6-digit code or a recovery code, where one is needed.
    pub code: Option<&'a str>,
}

/// An open registry: the handle the CLI and the desktop app call. There is no way to hold one
/// without having signed in (or used the recovery key): the file is encrypted, and the key
/// comes from the signed-in member's key slot. Dropping it drops (and zeroes) the key.
pub struct Registry {
    pub(crate) conn: Connection,
    path: PathBuf,
    pub(crate) actor: Actor,
    /// Kept to seal it into a new account's slot; zeroed when the registry is dropped.
    pub(crate) data_key: DataKey,
    /// This sign-in's second factor: whether the member must enrol before anything else, and
    /// the secret of an enrolment under way (`accounts::second_factor`).
    pub(crate) factor: crate::accounts::second_factor::FactorState,
}

/// The first 16 bytes of every unencrypted SQLite file.
const PLAIN_SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// True if `path` is an unencrypted SQLite file (a registry from before encryption, or a plain export).
pub fn is_plain_sqlite(path: &Path) -> bool {
    let mut header = [0u8; 16];
    std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header)).is_ok() && &header == PLAIN_SQLITE_HEADER
}

impl Registry {
    /// Creates a new, empty, encrypted registry for a practice, with its practice lead's account
    /// (`lead` is the lead's name). Returns the recovery key, to be shown once and stored away.
    pub fn create(path: &Path, practice_name: &str, lead: &str, password: &str) -> Result<(Registry, RecoveryKey)> {
        Registry::create_with(path, practice_name, lead, password, false)
    }

    pub(crate) fn create_with(path: &Path, practice_name: &str, lead: &str, password: &str, demo: bool) -> Result<(Registry, RecoveryKey)> {
        let practice_name = practice_name.trim();
        if practice_name.is_empty() {
            return Err(Error::validation("practice", "give the practice a name"));
        }
        let lead = lead.trim();
        if lead.is_empty() {
            return Err(Error::validation("lead", "name the practice lead who will sign in first"));
        }
        accounts::check_password_policy("password", password, lead)?;
        if path.exists() {
            return Err(Error::Conflict(format!("{} already exists; open it, or choose another file", path.display())));
        }
        crate::netfs::refuse_network_file_system(path)?;
        if keyring::key_file_path(path).exists() {
            return Err(Error::Conflict(format!("{} already exists; move it away first", keyring::key_file_path(path).display())));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let created = (|| {
            let (mut ring, data_key, recovery) = Keyring::new(demo)?;
            let conn = connect(path, &data_key, true)?;
            conn.pragma_update(None, "application_id", APPLICATION_ID)?;
            let lead_id = new_id();
            let actor = Actor::new(&lead_id, lead, Role::PracticeLead);
            let mut registry = Registry { conn, path: path.to_path_buf(), actor, data_key, factor: Default::default() };
            registry.migrate_from(0)?;
            let tx = registry.conn.transaction()?;
            tx.execute("INSERT INTO practice (id, name, created_at) VALUES (1, ?1, ?2)", (practice_name, audit::now()))?;
            team::insert_with_id(&tx, &registry.actor, &lead_id, lead, Role::PracticeLead)?;
            audit::record(&tx, &registry.actor, "create", "registry", None, serde_json::json!({ "practice": practice_name }))?;
            audit::record(&tx, &registry.actor, "account-created", "account", Some(&lead_id), serde_json::json!({}))?;
            if !demo {
                // A new registry asks for a second factor at every sign-in through a practice
                // server (the demo stays one password away).
                tx.execute("UPDATE settings SET value = 'server' WHERE key = 'mfa_required'", [])?;
            }
            tx.commit()?;
            ring.set_slot(&lead_id, lead, password, &registry.data_key, false)?;
            ring.save(path)?;
            Ok((registry, recovery))
        })();
        if created.is_err() {
            let _ = std::fs::remove_file(path);
            let _ = std::fs::remove_file(keyring::key_file_path(path));
        }
        created
    }

    /// Signs `member` (id or exact name) in with their password and opens the registry as them.
    /// A wrong password counts towards the lockout; a locked account is refused until it
    /// unlocks. An account whose password a lead set must change it: pass `new_password`,
    /// else the sign-in is refused with `password_change_required`.
    pub fn sign_in(path: &Path, member: &str, password: &str, new_password: Option<&str>) -> Result<Registry> {
        Registry::sign_in_from(path, member, password, new_password, None, None)
    }

    /// [`Registry::sign_in`] with the second factor's code, where `mfa_required` is `always`
    /// (without one, such a sign-in is refused with `mfa_required`).
    pub fn sign_in_with_code(
        path: &Path,
        member: &str,
        password: &str,
        new_password: Option<&str>,
        code: Option<&str>,
    ) -> Result<Registry> {
        Registry::sign_in_from(path, member, password, new_password, code, None)
    }

    /// [`Registry::sign_in`] from a workstation (a practice server's client address), which the
    /// sign-in's audit row and every later one record.
    pub fn sign_in_from(
        path: &Path,
        member: &str,
        password: &str,
        new_password: Option<&str>,
        code: Option<&str>,
        client: Option<&str>,
    ) -> Result<Registry> {
        check_is_registry_file(path)?;
        let (data_key, member_id) = accounts::unlock_slot(path, member, password, new_password.is_some(), client)?;
        let secrets = SignInSecrets { password, new_password, code };
        Registry::open_signed_in(path, data_key, &member_id, secrets, client, false)
    }

    /// Opens the registry with the data key a member's slot gave (on a file or over the
    /// network), as that member, and finishes the sign-in.
    /// The second factor comes before a password change and before the sign-in is audited.
    pub(crate) fn open_signed_in(
        path: &Path,
        data_key: DataKey,
        member_id: &str,
        secrets: SignInSecrets,
        client: Option<&str>,
        over_network: bool,
    ) -> Result<Registry> {
        let SignInSecrets { password, new_password, code } = secrets;
        let mut registry = open_after_interrupted_rekey(path, data_key, None, |next| {
            next.open_slot(member_id, password)?.ok_or_else(|| Error::Auth("the interrupted re-key's key file does not open".into()))
        })?;
        registry.actor = registry.actor_for(member_id)?;
        registry.actor.client = client.map(String::from);
        registry.check_second_factor(code, over_network)?;
        if let Some(new_password) = new_password {
            registry.change_own_password_unchecked(new_password)?;
        }
        registry.finish_sign_in()?;
        Ok(registry)
    }

    /// Opens the registry with its recovery key (emergency access). The work done is audited as
    /// the recovery key's, with a practice lead's permissions, so that a lead's lost password can
    /// be reset.
    pub fn open_with_recovery_key(path: &Path, key: &RecoveryKey) -> Result<Registry> {
        check_is_registry_file(path)?;
        let data_key = Keyring::load(path)?.open_with_recovery_key(key)?;
        let mut registry =
            open_after_interrupted_rekey(path, data_key, Some(Actor::recovery_key()), |next| next.open_with_recovery_key(key))?;
        registry.finish_sign_in()?;
        Ok(registry)
    }

    /// Opens the encrypted file with its data key, checks it is a registry this version reads,
    /// and applies pending migrations in one transaction.
    fn open_with_key(path: &Path, data_key: DataKey, actor: Option<Actor>) -> Result<Registry> {
        let not_a_registry = |why: &str| Error::Incompatible(format!("{} is not a CoCM registry ({why})", path.display()));
        let conn = connect(path, &data_key, false)?;
        let app_id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0)).map_err(|e| not_a_registry(&e.to_string()))?;
        if app_id != APPLICATION_ID {
            return Err(not_a_registry("it is a SQLite file of another application"));
        }
        let version: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(Error::Incompatible(format!(
                "{} was written by a newer version of CoCM Registry (schema {version}; this version reads up to {SCHEMA_VERSION}); update the app",
                path.display()
            )));
        }
        let actor = actor.unwrap_or_else(Actor::recovery_key);
        let mut registry = Registry { conn, path: path.to_path_buf(), actor, data_key, factor: Default::default() };
        registry.migrate_from(version)?;
        // Table statistics for the query planner: without them it may read a whole table by
        // date where one patient's rows are wanted (a chart took 400 ms on 10,000 patients,
        // 3 ms with them). The first open analyses (about 0.25 s at that size, sampled); later
        // opens re-analyse only tables that grew a lot, otherwise this costs under a millisecond.
        registry.conn.execute_batch("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")?;
        Ok(registry)
    }

    fn actor_for(&self, member_id: &str) -> Result<Actor> {
        let m = team::find(&self.conn, "as", member_id)
            .map_err(|_| Error::Auth("this account's member is not in the registry; ask a practice lead".into()))?;
        Ok(Actor::new(&m.id, &m.name, m.role))
    }

    fn migrate_from(&mut self, version: i32) -> Result<()> {
        migrate(&mut self.conn, version)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A second handle on the same file, signed in as the same member, with its own
    /// connection: work that must not hold up the first (the app's daily backup) runs on it in
    /// another thread. WAL lets the two read and write the file together.
    pub fn second_handle(&self) -> Result<Registry> {
        let data_key = self.data_key.duplicate();
        let conn = connect(&self.path, &data_key, false)?;
        Ok(Registry { conn, path: self.path.clone(), actor: self.actor.clone(), data_key, factor: Default::default() })
    }

    /// A second handle reading the same snapshot of the file as this one, for a long read
    /// split over two threads, with the read transaction that holds this handle's snapshot
    /// (dropping it ends the read). None when this connection is inside a transaction of its
    /// own, or when a write committed between the two reads' starts: every write appends an
    /// audit row, so the audit log's last entry, the same in both, tells that none did.
    pub(crate) fn snapshot_twin(&self) -> Result<Option<(Registry, rusqlite::Transaction<'_>)>> {
        self.snapshot_twin_between(|| Ok(()))
    }

    /// [`Registry::snapshot_twin`], running `between` after this handle's read has started and
    /// before the twin's (the tests write there).
    fn snapshot_twin_between(&self, between: impl FnOnce() -> Result<()>) -> Result<Option<(Registry, rusqlite::Transaction<'_>)>> {
        if !self.conn.is_autocommit() {
            return Ok(None);
        }
        let last_audit =
            |conn: &Connection| -> Result<Option<i64>> { Ok(conn.query_row("SELECT max(seq) FROM audit_log", [], |r| r.get(0))?) };
        let snapshot = self.conn.unchecked_transaction()?;
        let mine = last_audit(&snapshot)?;
        between()?;
        let twin = self.second_handle()?;
        // Its reads (a month's contacts at a time) come back to few pages: a small cache, so
        // that the two handles together take little more memory than one.
        twin.conn.execute_batch("PRAGMA cache_size = -8192; BEGIN")?;
        if last_audit(&twin.conn)? != mine {
            return Ok(None);
        }
        Ok(Some((twin, snapshot)))
    }

    pub fn schema_version(&self) -> Result<i32> {
        Ok(self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// What the title bar and the start screen show.
    pub fn info(&self) -> Result<RegistryInfo> {
        Ok(RegistryInfo {
            path: self.path.display().to_string(),
            practice: self.practice_name()?,
            schema_version: self.schema_version()?,
            actor: self.actor.clone(),
            allowed: Action::ALL.iter().copied().filter(|a| access::allowed(self.actor.role, *a)).collect(),
            must_enrol_second_factor: self.factor.must_enrol,
        })
    }

    pub fn practice_name(&self) -> Result<String> {
        Ok(self.conn.query_row("SELECT name FROM practice WHERE id = 1", [], |r| r.get(0))?)
    }

    /// The signed-in member, as the audit log records them.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The workstation the next acts come from (a practice server sets it per request).
    pub fn set_client(&mut self, client: Option<&str>) {
        self.actor.client = client.map(String::from);
    }

    /// Refuses `action` unless the signed-in member's role allows it; a refusal is audited.
    pub(crate) fn permit(&mut self, action: Action) -> Result<()> {
        access::require(&self.actor, action).inspect_err(|e| self.audit_refusal(action, e))
    }

    /// Runs one write as one transaction: it commits whole or leaves nothing behind. The role
    /// check comes first; the closure records its audit row through the transaction it is given.
    /// A refusal (`permission_denied`) rolls everything back and is audited on its own.
    pub(crate) fn write<T>(&mut self, action: Action, f: impl FnOnce(&Transaction, &Actor) -> Result<T>) -> Result<T> {
        self.permit(action)?;
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        match f(&tx, &self.actor) {
            Ok(out) => {
                tx.commit()?;
                Ok(out)
            }
            Err(e) => {
                drop(tx);
                if matches!(e, Error::PermissionDenied(_)) {
                    self.audit_refusal(action, &e);
                }
                Err(e)
            }
        }
    }

    /// Runs `f` as [`Registry::write`] would, then rolls back whatever it did: a dry run
    /// (an import's preview) that meets every rule a real write meets.
    pub(crate) fn rehearse<T>(&mut self, action: Action, f: impl FnOnce(&Transaction, &Actor) -> Result<T>) -> Result<T> {
        self.permit(action)?;
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx, &self.actor);
        tx.rollback()?;
        out
    }

    /// Records a refused action in its own transaction. The refusal itself is the error the
    /// caller sees, so a failure to audit it is not allowed to hide that error.
    fn audit_refusal(&mut self, action: Action, refusal: &Error) {
        let _ =
            audit::record(&self.conn, &self.actor, "refused", action.as_str(), None, serde_json::json!({ "reason": refusal.to_string() }));
    }
}

/// Opens with `data_key`, or, if a re-key stopped between `PRAGMA rekey` and replacing the key
/// file (`.keys.next` is still there) and that key no longer decrypts the file, with the key
/// `reopen` finds in the next key file, which then replaces the old one. A re-key that rolled
/// back leaves the old key working, and the next file is removed.
fn open_after_interrupted_rekey(
    path: &Path,
    data_key: DataKey,
    actor: Option<Actor>,
    reopen: impl FnOnce(&Keyring) -> Result<DataKey>,
) -> Result<Registry> {
    let next = keyring::next_key_file_path(path);
    match Registry::open_with_key(path, data_key, actor.clone()) {
        Err(Error::Incompatible(_)) if next.exists() => {
            let registry = Registry::open_with_key(path, reopen(&Keyring::load_from(&next)?)?, actor)?;
            std::fs::rename(&next, keyring::key_file_path(path))?;
            Ok(registry)
        }
        opened => {
            if opened.is_ok() && next.exists() {
                std::fs::remove_file(&next)?;
            }
            opened
        }
    }
}

/// A plain SQLite file that is a registry (from before encryption) passes; one of another
/// application is `incompatible`.
pub(crate) fn check_plain_registry(path: &Path) -> Result<()> {
    sqlcipher_ready();
    let app_id: Option<i32> = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|c| c.pragma_query_value(None, "application_id", |r| r.get(0)))
        .ok();
    if app_id != Some(APPLICATION_ID) {
        return Err(Error::Incompatible(format!("{} is not a CoCM registry (it is a SQLite file of another application)", path.display())));
    }
    Ok(())
}

/// A missing file is `not_found`; an unencrypted one is a registry from before encryption (or a
/// plain export), which `cocm encrypt` converts.
pub(crate) fn check_is_registry_file(path: &Path) -> Result<()> {
    if !path.is_file() {
        return Err(Error::NotFound(format!("no registry at {}; create one with `cocm init` or `cocm demo`", path.display())));
    }
    crate::netfs::refuse_network_file_system(path)?;
    if is_plain_sqlite(path) {
        check_plain_registry(path)?;
        return Err(Error::Incompatible(format!(
            "{} is not encrypted; convert it with `cocm encrypt --db {}` before opening it",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

/// A read-only connection on a registry's tables with `member`'s key, writing nothing (no audit
/// row, no migration): for tests that compare a file's content before and after a command,
/// and for checks of a file's integrity. A wrong password still counts towards the lockout.
pub fn inspect(path: &Path, member: &str, password: &str) -> Result<Connection> {
    check_is_registry_file(path)?;
    let (data_key, _) = accounts::unlock_slot(path, member, password, true, None)?;
    let conn = connect(path, &data_key, false)?;
    conn.execute_batch("PRAGMA query_only = ON;")?;
    Ok(conn)
}

/// Applies the migrations a file at `version` lacks, all in one transaction, then chains the
/// audit rows written before the chain existed.
pub(crate) fn migrate(conn: &mut Connection, version: i32) -> Result<()> {
    if version >= SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for (name, sql) in &MIGRATIONS[version as usize..] {
        tx.execute_batch(sql).map_err(|e| Error::Storage(format!("migration {name}: {e}")))?;
    }
    audit::chain_unhashed(&tx)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

/// Re-encrypts an open registry under a new data key (SQLCipher's `PRAGMA rekey`).
pub(crate) fn connect_rekeyed(conn: &Connection, data_key: &DataKey) -> Result<()> {
    let mut pragma = zeroize::Zeroizing::new(String::with_capacity(96));
    pragma.push_str("PRAGMA rekey = \"");
    pragma.push_str(&data_key.sqlcipher_literal());
    pragma.push_str("\";");
    conn.execute_batch(&pragma)?;
    Ok(())
}

/// The registry's SQLCipher 4 format, set before every key (and, as the defaults, for the
/// databases `encrypt` and backups attach): AES-256-CBC as SQLCipher always uses it, 16 KiB
/// pages and an HMAC-SHA256 on every page, so that a page changed without the key is refused.
/// On the 10,000-patient bench SQLCipher's defaults (4 KiB pages, HMAC-SHA512) cost about 60 %
/// over plain SQLite; these, with the larger page cache in `configure`, 15–36 %, and with the
/// narrower reads of migration 0007 and billing's lead-in month, 3–13 % (README, "Speed").
/// What remains is about 1 ms per MB read. SQLCipher's own log stays off stderr.
pub const CIPHER_SETTINGS: &str = "PRAGMA cipher_log_level = NONE;
    PRAGMA cipher_default_page_size = 16384; PRAGMA cipher_default_hmac_algorithm = HMAC_SHA256;
    PRAGMA cipher_page_size = 16384; PRAGMA cipher_hmac_algorithm = HMAC_SHA256;";

/// SQLCipher finishes its process-wide set-up (crypto provider, private heap) after SQLite
/// reports itself initialised, so a thread opening its first connection meanwhile is refused
/// ("sqlcipher not initialized", a `PRAGMA key` error): seen as rare failures of parallel tests.
/// The process's first open therefore happens alone; every open in the core calls this first.
pub(crate) fn sqlcipher_ready() {
    static READY: std::sync::Once = std::sync::Once::new();
    READY.call_once(|| {
        let _ = Connection::open_in_memory();
    });
}

/// Opens a connection on an encrypted registry file with its data key. SQLCipher's own log stays
/// off stderr. A key that does not decrypt the file is `incompatible` (the key file is not this
/// registry's, or the file is damaged), never a storage error that would print the file's path.
pub(crate) fn connect(path: &Path, data_key: &DataKey, create: bool) -> Result<Connection> {
    if !create && !path.is_file() {
        return Err(Error::NotFound(format!("no registry at {}", path.display())));
    }
    // CREATE also lets `ATTACH` make a new file (an export, a backup). NO_MUTEX: a `Connection`
    // is used by one thread at a time (it is not `Sync`), so SQLite's per-call connection mutex
    // (taken on every column read in its default serialized mode) only costs time.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    sqlcipher_ready();
    let conn = Connection::open_with_flags(path, flags)?;
    conn.execute_batch(CIPHER_SETTINGS)?;
    let mut pragma = zeroize::Zeroizing::new(String::with_capacity(96));
    pragma.push_str("PRAGMA key = \"");
    pragma.push_str(&data_key.sqlcipher_literal());
    pragma.push_str("\";");
    conn.execute_batch(&pragma)?;
    drop(pragma);
    if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
        return Err(Error::Incompatible(format!(
            "{} does not open with the key in its key file ({e}); is the .keys file from another registry?",
            path.display()
        )));
    }
    configure(&conn)?;
    Ok(conn)
}

/// The page cache, as SQLite's `cache_size` (negative: KiB): 32 MiB, see `configure`.
pub(crate) const CACHE_KIB: i64 = -32_768;

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    // Every page read is decrypted and its HMAC checked; a page cache of up to 32 MiB (SQLite's
    // default is 2 MiB) decrypts a page once per command instead of each time it is re-read.
    // Measured on the bench: 2, 16, 32 and 64 MiB; 32 was quickest over the four commands
    // (a larger cache costs more in fresh memory than it saves).
    conn.pragma_update(None, "cache_size", CACHE_KIB)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    let _mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

/// The default registry file: `$COCM_DB`, else `registry.cocm` in the user's data directory.
pub fn default_registry_path() -> PathBuf {
    if let Some(p) = std::env::var_os("COCM_DB").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("cocm-registry").join("registry.cocm")
}

/// A new record id: a UUIDv7, whose leading timestamp makes ids grow in creation order, so a
/// new row's primary-key and audit-index entries land on the indexes' last pages instead of
/// random ones (a large import rereads and re-encrypts far fewer pages; README, "Speed").
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod snapshot_tests {
    use super::Registry;
    use crate::contacts::NewContact;
    use crate::episodes::Enrolment;
    use crate::patients::NewPatient;
    use crate::vocab::Role;

    fn registry() -> (tempfile::TempDir, Registry) {
        let dir = tempfile::tempdir().unwrap();
        let (mut r, _recovery) = Registry::create(&dir.path().join("registry.cocm"), "Test", "LEAD", "test-password-12").unwrap();
        r.add_member("CM", Role::CareManager).unwrap();
        r.add_patient(&NewPatient { mrn: "P1".into(), name: "Patient P1".into(), dob: "1970-05-05".into(), ..Default::default() }).unwrap();
        r.enroll("P1", &Enrolment { start: "2026-10-01".into(), consent: Some("2026-10-01".into()), ..Default::default() }).unwrap();
        (dir, r)
    }

    fn contact(r: &mut Registry) -> crate::Result<()> {
        r.log_contact("P1", &NewContact { date: "2026-10-05".into(), minutes: 20, by: "CM".into(), ..Default::default() }).map(drop)
    }

    fn contacts(conn: &rusqlite::Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM contacts", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_twin_reads_the_snapshot_its_first_handle_holds_while_another_writes() {
        let (_dir, r) = registry();
        let mut writer = r.second_handle().unwrap();
        {
            let (twin, _snapshot) = r.snapshot_twin().unwrap().expect("nothing was written between the two reads' starts");
            contact(&mut writer).unwrap();
            // Both still read the moment before the contact; a fresh handle sees it.
            assert_eq!((contacts(&r.conn), contacts(&twin.conn), contacts(&writer.conn)), (0, 0, 1));
            // A handle inside a read of its own has no twin to offer.
            assert!(r.snapshot_twin().unwrap().is_none());
        }
        assert_eq!(contacts(&r.conn), 1);
    }

    #[test]
    fn a_write_between_the_two_reads_starting_gives_no_twin() {
        let (_dir, r) = registry();
        let mut writer = r.second_handle().unwrap();
        assert!(r.snapshot_twin_between(|| contact(&mut writer)).unwrap().is_none(), "the twin would have seen the contact");
        // The refused attempt left no read open: the next one has its twin, contact included.
        let (twin, _snapshot) = r.snapshot_twin().unwrap().expect("a twin");
        assert_eq!((contacts(&r.conn), contacts(&twin.conn)), (1, 1));
    }
}
