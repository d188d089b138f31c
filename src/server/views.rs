//! Scheduling and sharing work between requests: one writer at a time (reads run in parallel
//! on each session's own connection, which WAL allows), the data version that every write
//! moves on, and the views cached per data version.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;

use serde_json::Value;
use tokio::sync::watch;

use crate::commands::{Command, Context, Effect};
use crate::{Registry, Result};

/// A cached view's key: the command, its arguments' JSON, and today (an absent as-of date).
type ViewKey = (String, String, String);

pub(crate) struct Views {
    writer: Mutex<()>,
    version: watch::Sender<u64>,
    /// (command, arguments, today) → (the data version it was computed at, the result's JSON).
    cache: Mutex<HashMap<ViewKey, (u64, Bytes)>>,
    /// One lock per cached view, held while it is computed, so twenty people opening the
    /// caseload at once wait for one computation instead of making twenty (and different
    /// views compute side by side).
    computing: Mutex<HashMap<ViewKey, Arc<Mutex<()>>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Views {
    pub fn new() -> Views {
        Views { writer: Mutex::new(()), version: watch::channel(0).0, cache: Mutex::default(), computing: Mutex::default() }
    }

    /// The one writer's lock: everything that writes the registry, its audit log or its key
    /// file (sign-in counts failed attempts there) holds it.
    pub fn writer(&self) -> MutexGuard<'_, ()> {
        lock(&self.writer)
    }

    pub fn version(&self) -> u64 {
        *self.version.borrow()
    }

    /// Tells every listener (`/api/events`) that the data changed.
    fn changed(&self) {
        self.version.send_modify(|v| *v += 1);
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    /// Runs `command` on a session's registry as its effect requires; returns the result's JSON.
    pub fn run(&self, command: &Command, registry: &mut Registry, args: Value) -> Result<Bytes> {
        let quiet = |registry: &mut Registry, args: Value| -> Result<Bytes> {
            let value = Context::quiet(|ctx| command.call(registry, args, ctx))?;
            Ok(Bytes::from(serde_json::to_vec(&value)?))
        };
        match command.effect {
            // A chart view or an export appends its audit row in a transaction of its own
            // (`audit::record`), so it runs alongside reads and does not wait for writers.
            Effect::Read | Effect::Audited => quiet(registry, args),
            Effect::Write => {
                let _writer = self.writer();
                let out = quiet(registry, args);
                // A refused or invalid write changes nothing (only an audit row of a refusal).
                if out.is_ok() {
                    self.changed();
                }
                out
            }
            Effect::CachedRead => {
                let key = (command.name.to_string(), args.to_string(), crate::dates::today().to_string());
                if let Some(hit) = self.cached(&key) {
                    return Ok(hit);
                }
                let slot = lock(&self.computing).entry(key.clone()).or_default().clone();
                let _computing = lock(&slot);
                if let Some(hit) = self.cached(&key) {
                    return Ok(hit);
                }
                let version = self.version();
                let out = quiet(registry, args)?;
                let mut cache = lock(&self.cache);
                cache.retain(|_, (v, _)| *v == version);
                cache.insert(key.clone(), (version, out.clone()));
                drop(cache);
                // Compute locks of views no one asked for today go with the day.
                lock(&self.computing).retain(|k, _| k.2 == key.2);
                Ok(out)
            }
        }
    }

    fn cached(&self, key: &ViewKey) -> Option<Bytes> {
        let version = self.version();
        lock(&self.cache).get(key).filter(|(v, _)| *v == version).map(|(_, json)| json.clone())
    }
}
