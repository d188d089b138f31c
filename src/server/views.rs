//! Scheduling and sharing work between requests: one writer at a time (reads run in parallel
//! on each session's own connection, which WAL allows), the data version that every write
//! moves on, and the views shared between everyone who asks.
//!
//! Today's caseload and queue of the whole practice are kept live: computed once, then patched
//! after each write with the one patient it changed (`CaseloadView::with_row`,
//! `queue::with_entry`), so a save does not make twenty people wait for a recomputation. A
//! care manager's caseload is the practice's filtered (`CaseloadView::of_care_manager`). A
//! write that may change anyone (settings, rules, entered in error) drops them, and other
//! cached views (billing, another day's caseload) are recomputed per data version.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use serde_json::Value;
use tokio::sync::watch;

use crate::caseload::CaseloadView;
use crate::commands::{Command, Context, Effect};
use crate::dates::{self, Date};
use crate::queue::QueueEntry;
use crate::{Registry, Result};

/// A cached view's key: the command, its arguments' JSON, and today (an absent as-of date).
type ViewKey = (String, String, String);

/// Today's practice-wide caseload and queue, current at `version`.
#[derive(Default)]
struct Live {
    date: Option<Date>,
    version: u64,
    caseload: Option<Arc<CaseloadView>>,
    queue: Option<Arc<Vec<QueueEntry>>>,
}

pub(crate) struct Views {
    writer: Mutex<()>,
    version: watch::Sender<u64>,
    live: Mutex<Live>,
    /// (command, arguments, today) → (the data version it was computed at, the result's JSON).
    cache: Mutex<HashMap<ViewKey, (u64, Bytes)>>,
    /// One lock per view, held while it is computed, so twenty people opening the caseload at
    /// once wait for one computation instead of making twenty (and different views compute
    /// side by side).
    computing: Mutex<HashMap<ViewKey, Arc<Mutex<()>>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn json(value: &impl serde::Serialize) -> Result<Bytes> {
    Ok(Bytes::from(serde_json::to_vec(value)?))
}

/// The as-of date a view's arguments ask for, if it is today (absent or blank means today).
fn asks_for_today(args: &Value) -> bool {
    match args.get("asOfDate").and_then(Value::as_str).map(str::trim) {
        None | Some("") => true,
        Some(day) => dates::parse_date("as-of", day).is_ok_and(|d| d == dates::today()),
    }
}

impl Views {
    pub fn new() -> Views {
        Views {
            writer: Mutex::new(()),
            version: watch::channel(0).0,
            live: Mutex::default(),
            cache: Mutex::default(),
            computing: Mutex::default(),
        }
    }

    /// The one writer's lock: everything that writes the registry, its audit log or its key
    /// file (sign-in counts failed attempts there) holds it.
    pub fn writer(&self) -> MutexGuard<'_, ()> {
        lock(&self.writer)
    }

    pub fn version(&self) -> u64 {
        *self.version.borrow()
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    /// Runs `command` on a session's registry as its effect requires; returns the result's JSON.
    pub fn run(&self, command: &Command, registry: &mut Registry, args: Value) -> Result<Bytes> {
        // Before the cache: a cached answer is no way around the enrolment.
        crate::commands::admit(command, registry)?;
        let quiet =
            |registry: &mut Registry, args: Value| -> Result<Bytes> { json(&Context::quiet(|ctx| command.call(registry, args, ctx))?) };
        match command.effect {
            // A chart view or an export appends its audit row in a transaction of its own
            // (`audit::record`), so it runs alongside reads and does not wait for writers.
            Effect::Read | Effect::Audited => quiet(registry, args),
            Effect::Write => {
                let _writer = self.writer();
                let patient = command.patient_changed(&args);
                let out = quiet(registry, args)?;
                // A refused or invalid write changed nothing; this one did.
                self.changed(registry, patient.as_deref());
                Ok(out)
            }
            Effect::CachedRead => {
                let key = (command.name.to_string(), args.to_string(), dates::today().to_string());
                if let Some(hit) = self.cached(&key) {
                    return Ok(hit);
                }
                // Once for everyone asking: after a save, every care manager's screen asks
                // again at once, and twenty copies of one caseload's JSON would queue up.
                let out = self.computed_once(&key, || match command.name {
                    "caseload" if asks_for_today(&args) => self.todays_caseload(registry, &args),
                    "queue" if asks_for_today(&args) => self.todays_queue(registry),
                    _ => {
                        let version = self.version();
                        Ok((version, quiet(registry, args)?))
                    }
                })?;
                Ok(out)
            }
        }
    }

    /// Computes today's caseload and queue ahead of the first request (at start, and on a new
    /// day), so that no one waits for them.
    pub fn warm(&self, registry: &Registry) {
        let _ = self.todays_caseload(registry, &Value::Null);
        let _ = self.todays_queue(registry);
    }

    /// After a write (holding the writer's lock): patches the live views with the patient it
    /// changed, or drops them, then moves the data version on and tells every listener.
    pub(crate) fn changed(&self, registry: &Registry, patient: Option<&str>) {
        let mut live = lock(&self.live);
        let today = dates::today();
        let current = live.date == Some(today) && live.version == self.version();
        let patched = match patient {
            Some(mrn) if current => patch(&mut live, registry, mrn, today).is_ok(),
            _ => false,
        };
        self.version.send_modify(|v| *v += 1);
        if patched {
            live.version = self.version();
        } else {
            *live = Live::default();
        }
    }

    /// Computes a view under its own lock, once for everyone waiting on it; `compute` returns
    /// the data version it computed the view at with it.
    fn computed_once(&self, key: &ViewKey, compute: impl FnOnce() -> Result<(u64, Bytes)>) -> Result<Bytes> {
        let slot = self.compute_lock(key.clone());
        let _computing = lock(&slot);
        if let Some(hit) = self.cached(key) {
            return Ok(hit);
        }
        let (version, out) = compute()?;
        // The waiters behind this lock find it in the cache (unless a write landed meanwhile:
        // then it is already out of date, and the cache keeps only the current version's views).
        let current = self.version();
        let mut cache = lock(&self.cache);
        cache.retain(|_, (v, _)| *v == current);
        if version == current {
            cache.insert(key.clone(), (version, out.clone()));
        }
        drop(cache);
        // Compute locks of other days' views go with the day.
        lock(&self.computing).retain(|k, _| k.2 == key.2);
        Ok(out)
    }

    fn todays_caseload(&self, registry: &Registry, args: &Value) -> Result<(u64, Bytes)> {
        let today = dates::today();
        let (version, practice) = self.live_view(
            |live| live.caseload.clone(),
            |live, view| live.caseload = Some(view),
            || registry.caseload_view(today, None).map(Arc::new),
            "caseload",
        )?;
        match args.get("careManager").and_then(Value::as_str).map(str::trim).filter(|m| !m.is_empty()) {
            None => Ok((version, json(&*practice)?)),
            Some(key) => {
                let member = registry.find_member("care-manager", key)?;
                Ok((version, json(&practice.of_care_manager(&member.name))?))
            }
        }
    }

    fn todays_queue(&self, registry: &Registry) -> Result<(u64, Bytes)> {
        let today = dates::today();
        let (version, queue) = self.live_view(
            |live| live.queue.clone(),
            |live, view| live.queue = Some(view),
            || registry.queue(today).map(Arc::new),
            "queue",
        )?;
        Ok((version, json(&*queue)?))
    }

    /// One of the live views: as kept if current, else computed (once for everyone asking) and
    /// kept, unless a write landed meanwhile (then the next request computes it again).
    fn live_view<T>(
        &self,
        get: impl Fn(&Live) -> Option<Arc<T>>,
        set: impl FnOnce(&mut Live, Arc<T>),
        compute: impl FnOnce() -> Result<Arc<T>>,
        name: &str,
    ) -> Result<(u64, Arc<T>)> {
        let today = dates::today();
        let current = |live: &Live| (live.date == Some(today) && live.version == self.version()).then(|| get(live)).flatten();
        if let Some(view) = current(&lock(&self.live)) {
            return Ok((self.version(), view));
        }
        let key = (format!("live {name}"), String::new(), today.to_string());
        let slot = self.compute_lock(key);
        let _computing = lock(&slot);
        if let Some(view) = current(&lock(&self.live)) {
            return Ok((self.version(), view));
        }
        let version = self.version();
        let view = compute()?;
        let mut live = lock(&self.live);
        if self.version() == version {
            if !(live.date == Some(today) && live.version == version) {
                *live = Live { date: Some(today), version, ..Live::default() };
            }
            set(&mut live, view.clone());
        }
        Ok((version, view))
    }

    /// The lock that the computation of the view at `key` holds.
    fn compute_lock(&self, key: ViewKey) -> Arc<Mutex<()>> {
        lock(&self.computing).entry(key).or_default().clone()
    }

    fn cached(&self, key: &ViewKey) -> Option<Bytes> {
        let version = self.version();
        lock(&self.cache).get(key).filter(|(v, _)| *v == version).map(|(_, json)| json.clone())
    }
}

/// Replaces one patient's row and queue entry in the live views.
fn patch(live: &mut Live, registry: &Registry, mrn: &str, today: Date) -> Result<()> {
    if let Some(caseload) = &live.caseload {
        let (id, row) = registry.caseload_row(mrn, today)?;
        live.caseload = Some(Arc::new(caseload.with_row(&id, row)));
    }
    if let Some(queue) = &live.queue {
        let (id, entry) = registry.queue_entry(mrn, today)?;
        live.queue = Some(Arc::new(crate::queue::with_entry(queue, &id, entry)));
    }
    Ok(())
}
