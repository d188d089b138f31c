//! Signed-in browsers and clients. A session is a random token in an `HttpOnly; Secure;
//! SameSite=Strict` cookie, and holds the registry its member signed in to (their own
//! connection, their own actor), so the core's roles and audit apply unchanged. The server
//! keeps only each token's SHA-256, so a memory dump of the map cannot be replayed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chacha20poly1305::aead::{OsRng, rand_core::RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::questionnaires::kiosk::Kiosk;
use crate::{Error, Registry};

/// A session ends after this long, however busy.
pub const MAX_SESSION: Duration = Duration::from_secs(12 * 60 * 60);

/// The cookie that carries the session token.
pub const COOKIE: &str = "cocm_session";

/// What a session holds: a member's registry, or a clinic tablet handed to a patient.
enum Holder {
    Member(Mutex<Registry>),
    Kiosk(Mutex<Kiosk>),
}

pub struct Session {
    pub member_id: String,
    /// Sent back by the client in `x-cocm-csrf` on every state-changing request.
    pub csrf: String,
    holder: Holder,
    started: Instant,
    last_seen: Mutex<Instant>,
    /// The practice's `auto_lock_minutes` when the member signed in.
    idle_limit: Duration,
}

/// Why a session is no longer valid.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    Idle(Duration),
    MaxAge,
}

/// What a kiosk's session is told on every staff route.
pub fn kiosk_refusal() -> Error {
    Error::PermissionDenied(
        "this device is a check-in kiosk, which presents questionnaires only: a team member signs in to use the registry".into(),
    )
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Session {
    /// The member's registry. A kiosk's session is refused here, on every staff route.
    pub fn registry(&self) -> Result<std::sync::MutexGuard<'_, Registry>, Error> {
        match &self.holder {
            Holder::Member(registry) => Ok(lock(registry)),
            Holder::Kiosk(_) => Err(kiosk_refusal()),
        }
    }

    /// The tablet's kiosk; any other session (or none) sees the locked tablet.
    pub fn kiosk(&self) -> Result<std::sync::MutexGuard<'_, Kiosk>, Error> {
        match &self.holder {
            Holder::Kiosk(kiosk) => Ok(lock(kiosk)),
            Holder::Member(_) => Err(Error::NotFound(crate::questionnaires::kiosk::LOCKED.into())),
        }
    }

    pub fn is_kiosk(&self) -> bool {
        matches!(self.holder, Holder::Kiosk(_))
    }

    /// How long this session may sit idle.
    pub fn idle_limit(&self) -> Duration {
        self.idle_limit
    }

    fn ended(&self, now: Instant) -> Option<Ended> {
        if now.duration_since(self.started) >= MAX_SESSION {
            return Some(Ended::MaxAge);
        }
        let last = *self.last_seen.lock().unwrap_or_else(|e| e.into_inner());
        (now.duration_since(last) >= self.idle_limit).then_some(Ended::Idle(self.idle_limit))
    }
}

#[derive(Default)]
pub struct Sessions {
    by_token_hash: Mutex<HashMap<String, Arc<Session>>>,
}

/// 32 random bytes from the operating system, as hex.
fn random_token() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(bytes.as_mut());
    Zeroizing::new(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl Sessions {
    /// Starts a session for a signed-in registry; returns its token (for the cookie only).
    pub fn start(&self, registry: Registry, idle_limit: Duration) -> (Zeroizing<String>, Arc<Session>) {
        let member_id = registry.actor().member_id.clone();
        self.begin(member_id, Holder::Member(Mutex::new(registry)), idle_limit)
    }

    /// Starts a clinic tablet's kiosk session; returns its token (for the cookie only).
    pub fn start_kiosk(&self, kiosk: Kiosk, idle_limit: Duration) -> (Zeroizing<String>, Arc<Session>) {
        let member_id = kiosk.registry().actor().member_id.clone();
        self.begin(member_id, Holder::Kiosk(Mutex::new(kiosk)), idle_limit)
    }

    fn begin(&self, member_id: String, holder: Holder, idle_limit: Duration) -> (Zeroizing<String>, Arc<Session>) {
        let token = random_token();
        let now = Instant::now();
        let session =
            Arc::new(Session { member_id, csrf: random_token().to_string(), holder, started: now, last_seen: Mutex::new(now), idle_limit });
        self.map().insert(token_hash(&token), session.clone());
        (token, session)
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.by_token_hash.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The live session of `token`, touched (its idle clock restarts); an ended one is removed
    /// and returned as ended, for the caller to close.
    pub fn find(&self, token: &str) -> Result<Arc<Session>, Option<(Arc<Session>, Ended)>> {
        let hash = token_hash(token);
        let mut map = self.map();
        let session = map.get(&hash).cloned().ok_or(None)?;
        let now = Instant::now();
        if let Some(ended) = session.ended(now) {
            map.remove(&hash);
            return Err(Some((session, ended)));
        }
        *session.last_seen.lock().unwrap_or_else(|e| e.into_inner()) = now;
        Ok(session)
    }

    /// Ends the session of `token` (signing out); returns it for the caller to close.
    pub fn remove(&self, token: &str) -> Option<Arc<Session>> {
        self.map().remove(&token_hash(token))
    }

    /// Removes every session that has ended, for the caller to close (the sweeper).
    pub fn take_ended(&self) -> Vec<Arc<Session>> {
        let now = Instant::now();
        let mut map = self.map();
        let ended: Vec<String> = map.iter().filter(|(_, s)| s.ended(now).is_some()).map(|(h, _)| h.clone()).collect();
        ended.iter().filter_map(|h| map.remove(h)).collect()
    }

    /// Every session (at shutdown).
    pub fn take_all(&self) -> Vec<Arc<Session>> {
        self.map().drain().map(|(_, s)| s).collect()
    }

    pub fn len(&self) -> usize {
        self.map().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Closes a session that ended or was taken away: audits it (signed out, or locked for
/// inactivity) once no request holds its registry any more, which drops the key.
pub fn close(session: Arc<Session>, idle: bool) {
    if let Some(session) = Arc::into_inner(session) {
        match session.holder {
            Holder::Member(registry) => {
                let registry = registry.into_inner().unwrap_or_else(|e| e.into_inner());
                let _ = if idle { registry.lock_for_inactivity() } else { registry.sign_out() };
            }
            Holder::Kiosk(kiosk) => {
                let _ = kiosk.into_inner().unwrap_or_else(|e| e.into_inner()).close();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_long() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(*a, *b);
        assert_eq!(a.len(), 64);
    }
}
