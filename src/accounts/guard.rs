//! Sign-in over the network (issue 21): throttling per client address, and a lockout that a
//! stranger cannot aim at the team. On a local file the key file's lock applies as before; a
//! practice server asks this guard first and tells it how each attempt went.
//!
//! - **Per address**: after [`ADDRESS_FAILURES`] failures from one address within
//!   [`ADDRESS_WINDOW`], that address waits before any further attempt, 30 s doubling with each
//!   further failure (at most an hour).
//! - **Per account and address**: the practice's `lockout_attempts` wrong passwords lock the
//!   name *from that address* for `lockout_minutes`; the member still signs in from elsewhere.
//! - **Per account, any address**: after [`ACCOUNT_FAILURES`] failures within an hour, each
//!   further attempt at that name waits a growing delay (2 s doubling, at most a minute). Never
//!   an outright lock, so no one can lock out the team from outside.
//!
//! Names are counted as typed (trimmed, case folded), whether or not an account has that name,
//! so the guard's answers say nothing about which names exist. The state is in memory: a
//! restart forgives, which an attacker cannot cause.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::keyring::LockoutPolicy;
use crate::{Error, Result};

/// Failures from one address before it is throttled. [10]
pub const ADDRESS_FAILURES: usize = 10;
/// The window those failures are counted in. [15 minutes]
pub const ADDRESS_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures at one name, from anywhere, in an hour before each attempt is slowed. [20]
pub const ACCOUNT_FAILURES: usize = 20;
const ACCOUNT_WINDOW: Duration = Duration::from_secs(60 * 60);
const ADDRESS_FIRST_WAIT: Duration = Duration::from_secs(30);
const ADDRESS_LONGEST_WAIT: Duration = Duration::from_secs(60 * 60);
const ACCOUNT_FIRST_WAIT: Duration = Duration::from_secs(2);
const ACCOUNT_LONGEST_WAIT: Duration = Duration::from_secs(60);

#[derive(Default)]
struct AddressState {
    failures: VecDeque<Instant>,
    waits_until: Option<Instant>,
}

#[derive(Default)]
struct NameAtAddress {
    failures: u32,
    locked_until: Option<Instant>,
}

#[derive(Default)]
struct State {
    addresses: HashMap<IpAddr, AddressState>,
    names_at: HashMap<(String, IpAddr), NameAtAddress>,
    names: HashMap<String, VecDeque<Instant>>,
}

/// What one failure changed, for the audit log and the Team screen.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Failure {
    /// This failure started the address's wait.
    pub address_throttled: bool,
    /// This failure locked the name at this address.
    pub locked_here: bool,
    /// Failures at this name within the hour, from any address.
    pub failures_at_name: usize,
}

#[derive(Default)]
pub struct SignInGuard {
    state: Mutex<State>,
}

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

fn prune(failures: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while failures.front().is_some_and(|t| now.duration_since(*t) >= window) {
        failures.pop_front();
    }
}

/// `first`, doubled once for each failure `beyond` the limit (at most `longest`).
fn doubling(first: Duration, beyond: usize, longest: Duration) -> Duration {
    (first * 2u32.pow(beyond.min(16) as u32)).min(longest)
}

fn throttled(wait: Duration, why: &str) -> Error {
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    Error::Throttled { message: format!("{why}; try again in {secs} second{}", if secs == 1 { "" } else { "s" }), retry_after_secs: secs }
}

impl SignInGuard {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Refuses an attempt that must wait: the address's back-off, the name locked at this
    /// address, or the name slowed after many failures from anywhere.
    pub fn check(&self, address: IpAddr, name: &str, now: Instant) -> Result<()> {
        let mut state = self.state();
        if let Some(until) = state.addresses.get(&address).and_then(|a| a.waits_until).filter(|u| *u > now) {
            return Err(throttled(until - now, "too many failed sign-ins from this address"));
        }
        let key = name_key(name);
        if let Some(until) = state.names_at.get(&(key.clone(), address)).and_then(|n| n.locked_until).filter(|u| *u > now) {
            return Err(throttled(until - now, "too many wrong passwords for this name from this address"));
        }
        if let Some(failures) = state.names.get_mut(&key) {
            prune(failures, now, ACCOUNT_WINDOW);
            if failures.len() >= ACCOUNT_FAILURES {
                let wait = doubling(ACCOUNT_FIRST_WAIT, failures.len() - ACCOUNT_FAILURES, ACCOUNT_LONGEST_WAIT);
                let last = *failures.back().expect("not empty");
                if now < last + wait {
                    return Err(throttled(last + wait - now, "many failed sign-ins for this name; sign-in is slowed"));
                }
            }
        }
        Ok(())
    }

    /// Counts a failed attempt (an unknown name and a wrong password alike).
    pub fn failed(&self, address: IpAddr, name: &str, lockout: LockoutPolicy, now: Instant) -> Failure {
        let mut state = self.state();
        let mut outcome = Failure::default();
        let a = state.addresses.entry(address).or_default();
        prune(&mut a.failures, now, ADDRESS_WINDOW);
        a.failures.push_back(now);
        if a.failures.len() >= ADDRESS_FAILURES {
            let beyond = a.failures.len() - ADDRESS_FAILURES;
            a.waits_until = Some(now + doubling(ADDRESS_FIRST_WAIT, beyond, ADDRESS_LONGEST_WAIT));
            outcome.address_throttled = beyond == 0;
        }
        let key = name_key(name);
        let here = state.names_at.entry((key.clone(), address)).or_default();
        here.failures += 1;
        if here.failures >= lockout.attempts.max(1) {
            here.failures = 0;
            here.locked_until = Some(now + Duration::from_secs(60 * u64::from(lockout.minutes)));
            outcome.locked_here = true;
        }
        let at_name = state.names.entry(key).or_default();
        prune(at_name, now, ACCOUNT_WINDOW);
        at_name.push_back(now);
        outcome.failures_at_name = at_name.len();
        outcome
    }

    /// A right password: the name's count at this address starts again.
    pub fn succeeded(&self, address: IpAddr, name: &str) {
        self.state().names_at.remove(&(name_key(name), address));
    }

    /// How many addresses wait now (for `GET /api/health`; never which).
    pub fn throttled_addresses(&self, now: Instant) -> usize {
        let mut state = self.state();
        state.addresses.retain(|_, a| {
            a.waits_until.is_some_and(|u| u > now) || a.failures.back().is_some_and(|t| now.duration_since(*t) < ADDRESS_WINDOW)
        });
        state.addresses.values().filter(|a| a.waits_until.is_some_and(|u| u > now)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: LockoutPolicy = LockoutPolicy { attempts: 5, minutes: 15 };

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn secs(e: Error) -> u64 {
        match e {
            Error::Throttled { retry_after_secs, .. } => retry_after_secs,
            other => panic!("not throttled: {other}"),
        }
    }

    #[test]
    fn five_wrong_passwords_lock_the_name_at_that_address_only() {
        let (guard, t0) = (SignInGuard::default(), Instant::now());
        let (stranger, workstation) = (ip("203.0.113.9"), ip("10.0.0.5"));
        for i in 1..=4 {
            assert!(!guard.failed(stranger, "Casey Care", POLICY, t0).locked_here, "attempt {i}");
        }
        assert!(guard.failed(stranger, " casey care ", POLICY, t0).locked_here, "the fifth, as typed in any case");
        // 15 minutes: 900 s to wait at the stranger's address, none at the member's own.
        assert_eq!(secs(guard.check(stranger, "Casey Care", t0).unwrap_err()), 900);
        assert!(guard.check(workstation, "Casey Care", t0).is_ok());
        assert!(guard.check(stranger, "Casey Care", t0 + Duration::from_secs(900)).is_ok(), "the lock ends after 15 minutes");
    }

    #[test]
    fn ten_failures_from_one_address_in_fifteen_minutes_make_it_wait_longer_each_time() {
        let (guard, t0) = (SignInGuard::default(), Instant::now());
        let address = ip("198.51.100.7");
        // Nine failures at nine names (no name lock): no wait yet.
        for i in 0..9 {
            guard.failed(address, &format!("name {i}"), POLICY, t0);
        }
        assert!(guard.check(address, "anyone", t0).is_ok());
        assert_eq!(guard.throttled_addresses(t0), 0);
        // The tenth starts a 30 s wait; another address is not affected.
        assert!(guard.failed(address, "name 9", POLICY, t0).address_throttled);
        assert_eq!(secs(guard.check(address, "anyone", t0).unwrap_err()), 30);
        assert!(guard.check(ip("198.51.100.8"), "anyone", t0).is_ok());
        assert_eq!(guard.throttled_addresses(t0), 1);
        // After the wait, one more failure: 60 s (30 doubled), and not a new throttling event.
        let t1 = t0 + Duration::from_secs(30);
        assert!(guard.check(address, "anyone", t1).is_ok());
        assert!(!guard.failed(address, "name 10", POLICY, t1).address_throttled);
        assert_eq!(secs(guard.check(address, "anyone", t1).unwrap_err()), 60);
        // Failures older than 15 minutes no longer count: at t0 + 16 min only 1 is recent.
        let later = t0 + Duration::from_secs(16 * 60);
        assert!(guard.check(address, "anyone", later).is_ok());
        assert!(!guard.failed(address, "name 11", POLICY, later).address_throttled);
        assert!(guard.check(address, "anyone", later).is_ok(), "1 recent failure, under 10");
    }

    #[test]
    fn many_addresses_slow_a_name_down_but_never_lock_it() {
        let (guard, t0) = (SignInGuard::default(), Instant::now());
        // 20 failures from 20 addresses within the hour (one each: no address, no lock).
        for i in 0..20 {
            let f = guard.failed(ip(&format!("192.0.2.{i}")), "Lee Lead", POLICY, t0);
            assert!(!f.locked_here && !f.address_throttled);
            assert_eq!(f.failures_at_name, i + 1);
        }
        // The 21st attempt waits 2 s after the last failure, from any address, the member's too.
        assert_eq!(secs(guard.check(ip("10.0.0.5"), "Lee Lead", t0).unwrap_err()), 2);
        assert!(guard.check(ip("10.0.0.5"), "Lee Lead", t0 + Duration::from_secs(2)).is_ok());
        // Each further failure doubles it: 21 → 4 s, … capped at 60 s.
        guard.failed(ip("192.0.2.200"), "Lee Lead", POLICY, t0 + Duration::from_secs(2));
        assert_eq!(secs(guard.check(ip("10.0.0.5"), "Lee Lead", t0 + Duration::from_secs(2)).unwrap_err()), 4);
        for _ in 0..10 {
            guard.failed(ip("192.0.2.201"), "Lee Lead", LockoutPolicy { attempts: 100, minutes: 15 }, t0 + Duration::from_secs(6));
        }
        assert_eq!(secs(guard.check(ip("10.0.0.5"), "Lee Lead", t0 + Duration::from_secs(6)).unwrap_err()), 60);
        // An hour after the failures, the name is not slowed.
        assert!(guard.check(ip("10.0.0.5"), "Lee Lead", t0 + Duration::from_secs(3607)).is_ok());
    }

    #[test]
    fn a_right_password_restarts_the_count_at_that_address() {
        let (guard, t0) = (SignInGuard::default(), Instant::now());
        let address = ip("10.0.0.5");
        for _ in 0..4 {
            guard.failed(address, "Casey Care", POLICY, t0);
        }
        guard.succeeded(address, "Casey Care");
        assert!(!guard.failed(address, "Casey Care", POLICY, t0).locked_here, "one failure after the success, not five");
    }
}
