//! Signing in through a practice server (issue 21). The same key slots as on a local file, with
//! three differences that keep a stranger on the network from learning or aiming anything:
//! the guard (`guard.rs`) throttles by client address and locks a name only at the address
//! the wrong passwords came from; the key file's own lock is neither read nor set (that lock is
//! for one machine's file); and an unknown name and a wrong password get the same words after
//! the same work.

use std::net::IpAddr;
use std::path::Path;
use std::time::Instant;

use super::guard::{ACCOUNT_FAILURES, Failure, SignInGuard};
use super::{now, pending, update_keyring};
use crate::keyring::{DataKey, LockoutPolicy, NetworkAlert};
use crate::store::SignInSecrets;
use crate::{Error, Registry, Result};

/// The one answer to an unknown name or a wrong password over the network.
pub const WRONG_NAME_OR_PASSWORD: &str = "that name and password do not match an account here";

/// Opens the slot of `member` with `password`, as `unlock_slot` does, but without the key
/// file's lock. Returns the practice's lockout policy whatever the outcome, for the guard.
fn unlock(
    registry: &Path,
    member: &str,
    password: &str,
    changing_password: bool,
    client: &str,
) -> Result<(Result<(DataKey, String)>, LockoutPolicy)> {
    update_keyring(registry, |ring| {
        let policy = ring.lockout;
        let Some(slot) = ring.slot(member).cloned() else {
            // The same work as a wrong password: the key derivation and a write of the key
            // file (the event is the address's; the name typed is not kept, it may be a password).
            ring.derive_as_if_a_slot(password);
            ring.pending_audit.push(pending("", "", "sign-in-failed-unknown-name", Some(client)));
            return Ok((Err(Error::Auth(WRONG_NAME_OR_PASSWORD.into())), policy));
        };
        let Some(data_key) = ring.open_slot(&slot.member_id, password)? else {
            ring.pending_audit.push(pending(&slot.member_id, &slot.member_name, "sign-in-failed", Some(client)));
            return Ok((Err(Error::Auth(WRONG_NAME_OR_PASSWORD.into())), policy));
        };
        if slot.must_change_password && !changing_password {
            let message =
                format!("{} must choose a new password before using the registry (a practice lead set this one)", slot.member_name);
            return Ok((Err(Error::PasswordChangeRequired(message)), policy));
        }
        Ok((Ok((data_key, slot.member_id)), policy))
    })?
}

/// Records what a failure changed, for the audit log (at the next sign-in, as every event
/// before one) and, when a known account is being tried from many addresses, for the lead.
fn note_failure(registry: &Path, member: &str, client: &str, failure: &Failure) -> Result<()> {
    if !(failure.address_throttled || failure.locked_here || failure.failures_at_name >= ACCOUNT_FAILURES) {
        return Ok(());
    }
    update_keyring(registry, |ring| {
        if failure.address_throttled {
            // No account: the event belongs to the address (`finish_sign_in` records it so).
            ring.pending_audit.push(pending("", "", "sign-in-throttled", Some(client)));
        }
        let Some(slot) = ring.slot(member).cloned() else { return };
        if failure.locked_here {
            ring.pending_audit.push(pending(&slot.member_id, &slot.member_name, "account-locked-at-address", Some(client)));
        }
        if failure.failures_at_name >= ACCOUNT_FAILURES {
            if failure.failures_at_name == ACCOUNT_FAILURES {
                ring.pending_audit.push(pending(&slot.member_id, &slot.member_name, "sign-in-slowed", Some(client)));
            }
            let stored = ring.slot_mut(&slot.member_id).expect("the slot just read");
            stored.network_alert = Some(NetworkAlert { at: now().to_rfc3339(), failures: failure.failures_at_name as u32 });
        }
    })
}

impl Registry {
    /// Signs `member` in through a practice server from `address`: the guard first, then the
    /// key slot; a failure is counted by the guard and answered [`WRONG_NAME_OR_PASSWORD`].
    pub fn sign_in_over_network(
        path: &Path,
        guard: &SignInGuard,
        member: &str,
        secrets: SignInSecrets,
        address: IpAddr,
    ) -> Result<Registry> {
        let SignInSecrets { password, new_password, .. } = secrets;
        let started = Instant::now();
        guard.check(address, member, started)?;
        if password.is_empty() {
            return Err(Error::Auth("a password is needed to open the registry".into()));
        }
        crate::store::check_is_registry_file(path)?;
        let client = address.to_string();
        let (opened, policy) = unlock(path, member, password, new_password.is_some(), &client)?;
        // A wrong second-factor code counts as a failure too, so codes cannot be guessed.
        let signed_in =
            opened.and_then(|(data_key, member_id)| Registry::open_signed_in(path, data_key, &member_id, secrets, Some(&client), true));
        match signed_in {
            Ok(registry) => {
                guard.succeeded(address, member);
                Ok(registry)
            }
            Err(e @ Error::Auth(_)) => {
                let failure = guard.failed(address, member, policy, started);
                note_failure(path, member, &client, &failure)?;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }
}
