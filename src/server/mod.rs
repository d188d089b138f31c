//! The practice server (`cocm serve`): one registry, served over HTTPS to the team's browsers,
//! desktop apps and CLIs. It adds sessions, CSRF, scheduling and caching around the core; every
//! rule, role check and audit row is still the core's (`commands::run` on the registry the
//! member signed in to).
//!
//! - `tls`: the certificate (given, or self-signed beside the registry) and its fingerprint.
//! - `sessions`: random tokens in cookies, idle and absolute expiry.
//! - `routes`: the HTTP API (`/api/session`, `/api/<command>`, `/api/events`, `/api/health`)
//!   and the UI's files.
//! - `views`: the one-writer lock, the data version and the cache of shared views.

mod kiosk;
mod patient;
mod routes;
pub mod sessions;
pub mod tls;
mod views;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::{Error, Registry, Result};

pub use patient::PER_MINUTE as PATIENT_REQUESTS_PER_MINUTE;
pub use tls::CertFiles;

/// How `cocm serve` was asked to run.
pub struct ServerOptions {
    /// The registry file; it must be on a local disk.
    pub db: PathBuf,
    pub listen: SocketAddr,
    /// The certificate and key; `None` makes (once) and uses a self-signed one beside the registry.
    pub tls: Option<CertFiles>,
    /// The built UI (`ui/dist`) to serve to browsers; `None` serves the API only.
    pub ui: Option<PathBuf>,
    /// Overrides `auto_lock_minutes` as the idle limit of sessions (tests).
    pub idle_limit: Option<Duration>,
    /// Serves the patient pages (questionnaire links) on this address alone, and not on
    /// `listen`; `None` serves them on `listen` under `/r/` and `/api/patient/`.
    pub patient_listen: Option<SocketAddr>,
}

/// What the server shares between requests.
pub(crate) struct Shared {
    pub db: PathBuf,
    /// The registry the server opened at start (a lead's password or the recovery key): it
    /// proves the key at start, answers the health check and takes the daily backup.
    pub own: Mutex<Registry>,
    pub sessions: sessions::Sessions,
    /// Throttling per client address and the per-address lockout (`accounts::guard`).
    pub guard: crate::accounts::guard::SignInGuard,
    pub views: views::Views,
    /// The questionnaire links' handles on the registry (the `kiosk` role), and their rate limit.
    pub portals: patient::Portals,
    pub patient_rate: patient::RateLimit,
    pub idle_limit: Option<Duration>,
    /// Set when the server begins to stop: the event streams end, which a graceful shutdown
    /// would otherwise wait out for its whole grace period (every open browser holds one).
    pub stopping: tokio::sync::watch::Sender<bool>,
}

/// A server that is running: where it listens, the certificate's fingerprint, and how to stop it.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// Where the patient pages listen, when on an address of their own.
    pub patient_addr: Option<SocketAddr>,
    pub fingerprint: String,
    pub made_certificate: bool,
    handle: axum_server::Handle,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The patient listener's, when it has its own.
    patient: Option<(axum_server::Handle, tokio::task::JoinHandle<std::io::Result<()>>)>,
    shared: Arc<Shared>,
}

/// Installs rustls' ring provider for the process (once; later calls change nothing).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Starts serving `registry` (already opened by a practice lead or the recovery key) on the
/// current tokio runtime.
pub async fn start(options: ServerOptions, registry: Registry) -> Result<RunningServer> {
    install_crypto_provider();
    if registry.actor().role != crate::vocab::Role::PracticeLead {
        return Err(Error::PermissionDenied("a practice server is started by a practice lead or with the recovery key".into()));
    }
    let certs = options.tls.clone().unwrap_or_else(|| CertFiles::beside(&options.db));
    let made_certificate = if options.tls.is_none() { certs.make_self_signed_unless_present()? } else { false };
    let fingerprint = certs.fingerprint()?;
    let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&certs.cert, &certs.key)
        .await
        .map_err(|e| Error::validation("tls-key", format!("the certificate and key do not load: {e}")))?;
    let portals = patient::Portals::open(&registry)?;
    let shared = Arc::new(Shared {
        db: options.db.clone(),
        own: Mutex::new(registry),
        portals,
        patient_rate: Default::default(),
        sessions: sessions::Sessions::default(),
        guard: Default::default(),
        views: views::Views::new(),
        idle_limit: options.idle_limit,
        stopping: tokio::sync::watch::channel(false).0,
    });
    let (addr, handle, done) =
        listen("listen", options.listen, &config, routes::router(shared.clone(), options.ui.clone(), options.patient_listen.is_none()))?;
    let patient = match options.patient_listen {
        Some(at) => Some(listen("patient-listen", at, &config, routes::with_security_headers(patient::router(shared.clone())))?),
        None => None,
    };
    let patient_addr = patient.as_ref().map(|(addr, _, _)| *addr);
    let patient = patient.map(|(_, handle, done)| (handle, done));
    tokio::spawn(sweep(shared.clone()));
    tracing::info!(%addr, "serving the registry");
    if let Some(at) = patient_addr {
        tracing::info!(%at, "serving the patient pages");
    }
    Ok(RunningServer { addr, patient_addr, fingerprint, made_certificate, handle, done, patient, shared })
}

type Listening = (SocketAddr, axum_server::Handle, tokio::task::JoinHandle<std::io::Result<()>>);

/// Serves `app` over TLS on `at`; `field` names the address in the error.
fn listen(field: &str, at: SocketAddr, config: &axum_server::tls_rustls::RustlsConfig, app: axum::Router) -> Result<Listening> {
    let listener = std::net::TcpListener::bind(at).map_err(|e| Error::validation(field, format!("cannot listen on {at}: {e}")))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let handle = axum_server::Handle::new();
    let server = axum_server::from_tcp_rustls(listener, config.clone()).handle(handle.clone());
    let done = tokio::spawn(server.serve(app.into_make_service_with_connect_info::<SocketAddr>()));
    Ok((addr, handle, done))
}

/// Closes ended sessions every 15 seconds, so an idle member's key is dropped on time, takes
/// the day's backup when the date changes, and keeps today's caseload and queue computed.
async fn sweep(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(15));
    loop {
        tick.tick().await;
        let shared = shared.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let _writer = shared.views.writer();
            for session in shared.sessions.take_ended() {
                tracing::info!("a session ended after inactivity or its 12 hours");
                sessions::close(session, true);
            }
            if let Ok(mut own) = shared.own.lock() {
                if let Err(e) = own.backup_daily(crate::dates::today()) {
                    tracing::warn!(code = e.code(), "the daily backup failed");
                }
                drop(_writer);
                shared.views.warm(&own);
            }
        })
        .await;
    }
}

impl RunningServer {
    /// Stops accepting requests, lets those in flight (writes included) finish for up to
    /// `grace`, then signs every session out.
    pub async fn shutdown(self, grace: Duration) {
        self.shared.stopping.send_replace(true);
        self.handle.graceful_shutdown(Some(grace));
        if let Some((handle, _)) = &self.patient {
            handle.graceful_shutdown(Some(grace));
        }
        let _ = self.done.await;
        if let Some((_, done)) = self.patient {
            let _ = done.await;
        }
        let shared = self.shared;
        let _ = tokio::task::spawn_blocking(move || {
            let _writer = shared.views.writer();
            for session in shared.sessions.take_all() {
                sessions::close(session, false);
            }
        })
        .await;
        tracing::info!("stopped");
    }

    /// Signed-in sessions (for tests and the log).
    pub fn session_count(&self) -> usize {
        self.shared.sessions.len()
    }
}
