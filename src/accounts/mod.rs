//! Accounts: who may sign in, with which password, and the lockout (issue 8).
//!
//! An account is a key slot (`keyring`): signing in opens it with the password and yields the
//! registry's data key. Slots, failed attempts and locks live in the key file because they are
//! needed before the registry can be decrypted. Events that happen then (a wrong password, a
//! lock) wait in the key file and enter the audit log at the next successful sign-in.

pub mod guard;
mod network;
pub mod second_factor;

use std::fs;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::access::Action;
use crate::audit::{self, RECOVERY_ACTOR_ID};
use crate::keyring::{self, DataKey, Keyring, PendingEvent};
use crate::settings::Settings;
use crate::store::connect_rekeyed;
use crate::{Error, Registry, Result, team};

pub use network::WRONG_NAME_OR_PASSWORD;

/// At least this many characters (NIST SP 800-63B allows 8; a registry of PHI asks for more).
pub const MIN_PASSWORD_CHARS: usize = 12;

const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

/// The password rules: long enough, not the member's name, not a common password.
pub fn check_password_policy(field: &str, password: &str, member_name: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::validation(field, format!("a password has at least {MIN_PASSWORD_CHARS} characters")));
    }
    let squash = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>();
    let (typed, name) = (squash(password), squash(member_name));
    // Names of one or two letters (initials) would forbid half the alphabet; longer ones count.
    if name.chars().count() >= 3 && typed.contains(&name) {
        return Err(Error::validation(field, "a password may not contain the member's name"));
    }
    let lower = password.to_lowercase();
    let common = COMMON_PASSWORDS.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).any(|c| c == lower);
    let one_character = password.chars().all(|c| password.starts_with(c));
    if common || one_character {
        return Err(Error::validation(field, "that password is on the list of common passwords; choose another"));
    }
    Ok(())
}

/// Runs `f` on the key file under an exclusive lock, then saves it if `f` changed it, so that the app and the
/// CLI cannot lose each other's failed attempts or slots. The lock is a `flock` on the registry
/// file itself, which on Linux is independent of SQLite's own (POSIX) locks.
pub(crate) fn update_keyring<T>(registry: &Path, f: impl FnOnce(&mut Keyring) -> T) -> Result<T> {
    let lock = fs::File::open(registry)?;
    lock.lock()?;
    let mut ring = Keyring::load(registry)?;
    let before = serde_json::to_string(&ring).map_err(|e| Error::Storage(e.to_string()))?;
    let out = f(&mut ring);
    // Most sign-ins change nothing here; they skip the write and its fsync.
    if serde_json::to_string(&ring).map_err(|e| Error::Storage(e.to_string()))? != before {
        ring.save(registry)?;
    }
    Ok(out)
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn pending(member_id: &str, member_name: &str, action: &str, client: Option<&str>) -> PendingEvent {
    PendingEvent {
        at: audit::now(),
        member_id: member_id.into(),
        member_name: member_name.into(),
        action: action.into(),
        client: client.map(String::from),
    }
}

/// Opens `member`'s slot with `password`: the data key and the member's id, or an `auth` error
/// that counts towards the lockout. Nothing about the registry's content is read here.
/// `client`: the workstation the attempt came from, recorded with a failed or refused one.
pub(crate) fn unlock_slot(
    registry: &Path,
    member: &str,
    password: &str,
    changing_password: bool,
    client: Option<&str>,
) -> Result<(DataKey, String)> {
    if password.is_empty() {
        return Err(Error::Auth("a password is needed to open the registry".into()));
    }
    update_keyring(registry, |ring| {
        let Some(slot) = ring.slot(member).cloned() else {
            return Err(Error::Auth(format!("'{}' has no account in this registry", member.trim())));
        };
        if let Some(until) = slot.locked_until.as_deref().and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            && until > now()
        {
            ring.pending_audit.push(pending(&slot.member_id, &slot.member_name, "sign-in-refused-locked", client));
            let minutes = (until.with_timezone(&Utc) - now()).num_minutes() + 1;
            return Err(Error::Auth(format!(
                "{}'s account is locked after too many wrong passwords; try again in {minutes} minute{} or ask a practice lead to unlock it",
                slot.member_name,
                if minutes == 1 { "" } else { "s" }
            )));
        }
        let policy = ring.lockout;
        let opened = ring.open_slot(&slot.member_id, password)?;
        let stored = ring.slot_mut(&slot.member_id).expect("the slot just read");
        let Some(data_key) = opened else {
            stored.failed_attempts += 1;
            let left = policy.attempts.saturating_sub(stored.failed_attempts);
            ring.pending_audit.push(pending(&slot.member_id, &slot.member_name, "sign-in-failed", client));
            if left == 0 {
                let stored = ring.slot_mut(&slot.member_id).expect("the slot just read");
                stored.failed_attempts = 0;
                stored.locked_until = Some((now() + Duration::minutes(policy.minutes as i64)).to_rfc3339());
                ring.pending_audit.push(pending(&slot.member_id, &slot.member_name, "account-locked", client));
                return Err(Error::Auth(format!(
                    "wrong password for {}; the account is now locked for {} minutes",
                    slot.member_name, policy.minutes
                )));
            }
            return Err(Error::Auth(format!(
                "wrong password for {} ({left} more wrong attempt{} lock the account for {} minutes)",
                slot.member_name,
                if left == 1 { "" } else { "s" },
                policy.minutes
            )));
        };
        stored.failed_attempts = 0;
        stored.locked_until = None;
        if stored.must_change_password && !changing_password {
            return Err(Error::PasswordChangeRequired(format!(
                "{} must choose a new password before using the registry (a practice lead set this one)",
                slot.member_name
            )));
        }
        Ok((data_key, slot.member_id))
    })?
}

/// An account as the team screen shows it.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct Account {
    pub member_id: String,
    pub member_name: String,
    pub must_change_password: bool,
    /// UTC RFC 3339, while the account is locked.
    pub locked_until: Option<String>,
    /// Many failed sign-ins at this account from other addresses through the practice server
    /// (slowed, never locked): what happened, until a lead clears it with *Unlock*.
    pub network_alert: Option<String>,
    /// The member has set up a second factor (a lead may reset it).
    pub second_factor: bool,
}

/// What the sign-in screen may know before anyone has signed in: the names of the members who
/// have an account, and whether this is the demo registry (whose password it may show).
#[derive(Clone, Debug, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct SignInChoices {
    pub path: String,
    pub members: Vec<String>,
    pub demo: bool,
    /// A registry from before encryption: no one can sign in until a practice lead encrypts it.
    pub needs_encryption: bool,
    /// The member types their name (a practice server lists no one); else they pick from `members`.
    pub typed_name: bool,
}

/// The sign-in screen's choices for a registry file.
pub fn sign_in_choices(registry: &Path) -> Result<SignInChoices> {
    if !registry.is_file() {
        return Err(Error::NotFound(format!("no registry at {}", registry.display())));
    }
    let path = registry.display().to_string();
    if crate::store::is_plain_sqlite(registry) {
        crate::store::check_plain_registry(registry)?;
        return Ok(SignInChoices { path, members: Vec::new(), demo: false, needs_encryption: true, typed_name: false });
    }
    let ring = Keyring::load(registry)?;
    let mut members: Vec<String> = ring.slots.iter().map(|s| s.member_name.clone()).collect();
    members.sort();
    Ok(SignInChoices { path, members, demo: ring.demo, needs_encryption: false, typed_name: false })
}

impl Registry {
    /// After the key opened the registry: moves the sign-in events that waited in the key file
    /// into the audit log, audits this sign-in, and copies the lockout settings into the key
    /// file. The pending events leave the key file only once they are committed.
    pub(crate) fn finish_sign_in(&mut self) -> Result<()> {
        let settings = self.settings()?;
        let events = Keyring::load(self.path())?.pending_audit;
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for e in &events {
            // An event of no account (an address throttled) is the client address's.
            let of_address = e.member_id.is_empty();
            let row = audit::Row {
                at: e.at.clone(),
                actor_id: (!of_address).then(|| e.member_id.clone()),
                actor: if of_address { "a client on the network".into() } else { e.member_name.clone() },
                action: e.action.clone(),
                record_type: if of_address { "client".into() } else { "account".into() },
                record_id: if of_address { e.client.clone() } else { Some(e.member_id.clone()) },
                details: e.client.as_ref().map_or_else(|| "{}".into(), |c| serde_json::json!({ "client": c }).to_string()),
            };
            audit::append(&tx, &row)?;
        }
        let action = if self.actor.member_id == RECOVERY_ACTOR_ID { "recovery-key-used" } else { "sign-in" };
        audit::record(&tx, &self.actor, action, "account", Some(&self.actor.member_id.clone()), serde_json::json!({}))?;
        tx.commit()?;
        let flushed = events.len();
        update_keyring(self.path(), |ring| {
            ring.pending_audit.drain(..flushed.min(ring.pending_audit.len()));
            ring.lockout = keyring::LockoutPolicy { attempts: settings.lockout_attempts as u32, minutes: settings.lockout_minutes as u32 };
        })
    }

    /// Signs out: audited, and the registry (with its key) is dropped.
    pub fn sign_out(self) -> Result<()> {
        audit::record(&self.conn, &self.actor, "sign-out", "account", Some(&self.actor.member_id), serde_json::json!({}))
    }

    /// The app locked itself after `auto_lock_minutes` without input: audited, and dropped.
    pub fn lock_for_inactivity(self) -> Result<()> {
        audit::record(&self.conn, &self.actor, "auto-lock", "account", Some(&self.actor.member_id), serde_json::json!({}))
    }

    pub(crate) fn sync_lockout_policy(&mut self, settings: &Settings) -> Result<()> {
        update_keyring(self.path(), |ring| {
            ring.lockout = keyring::LockoutPolicy { attempts: settings.lockout_attempts as u32, minutes: settings.lockout_minutes as u32 };
        })
    }

    /// Every account, for the team screen (members without one are not listed).
    pub fn accounts(&self) -> Result<Vec<Account>> {
        let ring = Keyring::load(self.path())?;
        let mut stmt = self.conn.prepare("SELECT member_id FROM second_factors")?;
        let with_factor: std::collections::HashSet<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        let mut accounts: Vec<Account> = ring
            .slots
            .iter()
            .map(|s| Account {
                member_id: s.member_id.clone(),
                member_name: s.member_name.clone(),
                must_change_password: s.must_change_password,
                locked_until: s.locked_until.clone().filter(|t| DateTime::parse_from_rfc3339(t).is_ok_and(|t| t > now())),
                second_factor: with_factor.contains(&s.member_id),
                network_alert: s.network_alert.as_ref().map(|a| {
                    format!(
                        "{} failed sign-ins through the practice server within the hour before {} (UTC); sign-in is slowed, not locked",
                        a.failures,
                        a.at.get(..16).unwrap_or(&a.at).replace('T', " ")
                    )
                }),
            })
            .collect();
        accounts.sort_by(|a, b| a.member_name.cmp(&b.member_name));
        Ok(accounts)
    }

    /// Changes the signed-in member's own password, after checking the current one again.
    pub fn change_own_password(&mut self, current: &str, new: &str) -> Result<()> {
        if self.actor().member_id == RECOVERY_ACTOR_ID {
            return Err(Error::validation("member", "the recovery key has no password; set a lead's password instead"));
        }
        check_password_policy("new password", new, &self.actor().name.clone())?;
        unlock_slot(self.path(), &self.actor().member_id.clone(), current, true, self.actor().client.clone().as_deref())?;
        self.change_own_password_unchecked(new)
    }

    /// Replaces the signed-in member's slot; the caller has checked the current password.
    pub(crate) fn change_own_password_unchecked(&mut self, new: &str) -> Result<()> {
        let actor = self.actor().clone();
        check_password_policy("new password", new, &actor.name)?;
        let data_key = &self.data_key;
        update_keyring(self.path(), |ring| ring.set_slot(&actor.member_id, &actor.name, new, data_key, false))??;
        audit::record(&self.conn, &actor, "password-changed", "account", Some(&actor.member_id), serde_json::json!({}))
    }

    /// A practice lead sets another member's password (creating their account if they had
    /// none); the member must change it at their first sign-in.
    pub fn set_password(&mut self, member: &str, new: &str) -> Result<()> {
        self.permit(Action::ManageAccounts)?;
        let m = team::find(&self.conn, "member", member)?;
        if m.id == self.actor().member_id {
            return Err(Error::validation("member", "change your own password with your current one (`cocm team password` as yourself)"));
        }
        check_password_policy("new password", new, &m.name)?;
        let data_key = &self.data_key;
        let existed = update_keyring(self.path(), |ring| {
            let existed = ring.slot(&m.id).is_some();
            ring.set_slot(&m.id, &m.name, new, data_key, true).map(|_| existed)
        })??;
        let action = if existed { "password-set" } else { "account-created" };
        audit::record(&self.conn, &self.actor().clone(), action, "account", Some(&m.id), serde_json::json!({ "member": m.name }))
    }

    /// A practice lead unlocks a locked account (and clears its failed attempts).
    pub fn unlock_account(&mut self, member: &str) -> Result<()> {
        self.permit(Action::ManageAccounts)?;
        let m = team::find(&self.conn, "member", member)?;
        let found = update_keyring(self.path(), |ring| match ring.slot_mut(&m.id) {
            Some(slot) => {
                slot.failed_attempts = 0;
                slot.locked_until = None;
                slot.network_alert = None;
                true
            }
            None => false,
        })?;
        if !found {
            return Err(Error::NotFound(format!("{} has no account to unlock", m.name)));
        }
        audit::record(
            &self.conn,
            &self.actor().clone(),
            "account-unlocked",
            "account",
            Some(&m.id),
            serde_json::json!({ "member": m.name }),
        )
    }

    /// A practice lead removes a member's account: their slot goes, and the registry is
    /// re-keyed so that a copy of their old slot opens nothing written from now on. The member
    /// stays on the records they are named on.
    pub fn remove_account(&mut self, member: &str) -> Result<()> {
        self.permit(Action::ManageAccounts)?;
        let m = team::find(&self.conn, "member", member)?;
        if m.id == self.actor().member_id {
            return Err(Error::validation("member", "you cannot remove your own account; ask another practice lead"));
        }
        if Keyring::load(self.path())?.slot(&m.id).is_none() {
            return Err(Error::NotFound(format!("{} has no account to remove", m.name)));
        }
        self.rekey_with(|ring| ring.slots.retain(|s| s.member_id != m.id))?;
        audit::record(&self.conn, &self.actor().clone(), "account-removed", "account", Some(&m.id), serde_json::json!({ "member": m.name }))
    }

    /// A practice lead re-keys the registry (after a suspected leak of a password or a copy):
    /// a new data key, sealed to every account and the recovery key.
    pub fn rekey(&mut self) -> Result<()> {
        self.permit(Action::ManageAccounts)?;
        self.rekey_with(|_| {})?;
        audit::record(&self.conn, &self.actor().clone(), "rekey", "registry", None, serde_json::json!({}))
    }

    /// `PRAGMA rekey` to a fresh data key, with the key file changed by `change` and resealed.
    /// The new key file is written beside the old one first (`.keys.next`), so a crash between
    /// the re-key and the rename leaves the key that opens the file on disk.
    fn rekey_with(&mut self, change: impl FnOnce(&mut Keyring)) -> Result<()> {
        let path = self.path().to_path_buf();
        let new_key = Keyring::new_data_key();
        let conn = &self.conn;
        let old_key = &self.data_key;
        update_keyring(&path, |ring| -> Result<()> {
            let smtp_password = ring.smtp_password(old_key)?;
            let mut next = ring.clone();
            change(&mut next);
            next.reseal_all(&new_key)?;
            next.set_smtp_password(&new_key, smtp_password.as_deref().map(|p| p.as_str()))?;
            let next_path = keyring::next_key_file_path(&path);
            next.save_to(&next_path)?;
            connect_rekeyed(conn, &new_key)?;
            *ring = next;
            let _ = fs::remove_file(&next_path);
            Ok(())
        })??;
        self.data_key = new_key;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules() {
        // 11 characters is one short of the minimum; 12 is enough.
        assert!(check_password_policy("p", "abcdefghjk1", "Ana Morales").is_err());
        assert!(check_password_policy("p", "abcdefghjk12", "Ana Morales").is_ok());
        // The member's name, in any case or spacing, anywhere in the password.
        assert!(check_password_policy("p", "ana-morales-2026", "Ana Morales").is_err());
        assert!(check_password_policy("p", "xxANAMORALESxx", "Ana Morales").is_err());
        // Common passwords, ignoring case, and one character repeated.
        assert!(check_password_policy("p", "Password1234", "Ana Morales").is_err());
        assert!(check_password_policy("p", "zzzzzzzzzzzzzz", "Ana Morales").is_err());
        assert!(check_password_policy("p", "cocm-demo-password", "Ana Morales").is_ok());
    }
}
