//! The patient pages (spec §10): what a questionnaire link opens. They need no session and see
//! nothing of the staff API or UI: on their own listener (`cocm serve --patient-listen`) they are
//! all there is, so a practice can put that address on the internet and keep the staff one inside.
//!
//! - `GET /r/<token>`: the page (the same small page for every token; it asks the API).
//! - `GET /r/_/patient.js`, `/r/_/patient.css`: its script and style (no staff bundle).
//! - `GET /api/patient/<token>`: the practice, the language and the questions.
//! - `POST /api/patient/<token>/verify` `{"dob"}`: the date of birth, before the first question.
//! - `POST /api/patient/<token>` `{"dob", "answers": {"<instrument>": [scores…]}}` →
//!   `{"crisis", "message"}`.
//!
//! Each client address may make [`PER_MINUTE`] requests a minute here; more are 429 with
//! `Retry-After`. The token is the only credential and travels in the path, never in a cookie,
//! so there is nothing for another site to ride on; the JSON routes take `application/json` only,
//! which a cross-site form cannot send.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::Shared;
use crate::Error;
use crate::questionnaires::portal::{PatientAnswers, Portal};

/// Requests a minute one client address may make to the patient routes.
pub const PER_MINUTE: u32 = 60;

pub(crate) const PAGE: &str = include_str!("patient_page/index.html");
pub(crate) const SCRIPT: &str = include_str!("patient_page/patient.js");
pub(crate) const STYLE: &str = include_str!("patient_page/patient.css");

/// How many connections the patient routes read on: one may be writing a submission while
/// the others open links and check dates of birth.
const PORTALS: usize = 3;

/// The patient routes' handles on the registry (each the `kiosk` role, on its own connection).
/// Lock order: a route that writes takes the writer's lock first and a portal second, and no
/// route waits for the writer while it holds a portal, so a submission waiting its turn never
/// keeps other patients from their questions.
pub(crate) struct Portals {
    portals: Vec<Mutex<Portal>>,
    next: AtomicUsize,
}

impl Portals {
    pub(crate) fn open(registry: &crate::Registry) -> crate::Result<Portals> {
        let portals = (0..PORTALS).map(|_| registry.portal().map(Mutex::new)).collect::<crate::Result<_>>()?;
        Ok(Portals { portals, next: AtomicUsize::new(0) })
    }

    /// A free portal (or, when all are busy, the next in turn), set to log `client`.
    fn lease(&self, client: IpAddr) -> MutexGuard<'_, Portal> {
        let mut portal = self.portals.iter().find_map(|p| p.try_lock().ok()).unwrap_or_else(|| {
            let turn = self.next.fetch_add(1, Ordering::Relaxed) % self.portals.len();
            self.portals[turn].lock().unwrap_or_else(|e| e.into_inner())
        });
        portal.set_client(Some(&client.to_string()));
        portal
    }
}

/// A fixed one-minute window of requests per client address.
#[derive(Default)]
pub(crate) struct RateLimit {
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimit {
    fn admit(&self, address: IpAddr, now: Instant) -> Result<(), Error> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > 10_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let (start, count) = windows.entry(address).or_insert((now, 0));
        if now.duration_since(*start) >= Duration::from_secs(60) {
            (*start, *count) = (now, 0);
        }
        *count += 1;
        if *count > PER_MINUTE {
            let retry_after_secs = 60u64.saturating_sub(now.duration_since(*start).as_secs()).max(1);
            return Err(Error::Throttled { message: "too many requests; wait a minute and try again".into(), retry_after_secs });
        }
        Ok(())
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/r/{token}", get(page))
        .route("/r/_/patient.js", get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }))
        .route("/r/_/patient.css", get(|| async { asset("text/css; charset=utf-8", STYLE) }))
        .route("/api/patient/{token}", get(questions).post(submit))
        .route("/api/patient/{token}/verify", axum::routing::post(verify))
        .layer(axum::middleware::from_fn_with_state(shared.clone(), rate_limited))
        .with_state(shared)
}

async fn rate_limited(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match shared.patient_rate.admit(client.ip(), Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(e) => refusal(e),
    }
}

pub(crate) fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static(content_type)), (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))], body)
        .into_response()
}

async fn page() -> Response {
    // The token stays out of every log and referrer (`Referrer-Policy: no-referrer`).
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        PAGE,
    )
        .into_response()
}

/// A refusal a respondent may see: the link's one refusal, a wrong date of birth, a bad answer,
/// or being throttled. Anything else is a plain "try again later" (its details stay here).
fn refusal(e: Error) -> Response {
    let e = match e {
        Error::NotFound(_) | Error::Validation { .. } | Error::Throttled { .. } => e,
        other => {
            tracing::warn!(code = other.code(), "a patient request failed");
            Error::Storage("something went wrong; please try again later".into())
        }
    };
    let mut response = super::routes::ApiError(e).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Runs `f` off the async threads, for `client`; answers with its JSON or the refusal.
async fn on_portals<T: serde::Serialize + Send + 'static>(
    shared: Arc<Shared>,
    client: SocketAddr,
    f: impl FnOnce(&Shared, IpAddr) -> crate::Result<T> + Send + 'static,
) -> Response {
    let out = tokio::task::spawn_blocking(move || f(&shared, client.ip()))
        .await
        .unwrap_or_else(|_| Err(Error::Storage("the request failed inside the server".into())));
    match out {
        Ok(value) => {
            let mut response = axum::Json(value).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => refusal(e),
    }
}

async fn questions(State(shared): State<Arc<Shared>>, ConnectInfo(client): ConnectInfo<SocketAddr>, Path(token): Path<String>) -> Response {
    on_portals(shared, client, move |shared, ip| shared.portals.lease(ip).questions(&token)).await
}

#[derive(serde::Deserialize)]
struct Dob {
    dob: String,
}

async fn verify(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    axum::Json(body): axum::Json<Dob>,
) -> Response {
    on_portals(shared, client, move |shared, ip| {
        // The right date of birth writes nothing, so it need not wait for the writer.
        if !shared.portals.lease(ip).dob_matches(&token, &body.dob)? {
            // A wrong one writes (the count, the audit row): the one writer's turn.
            let _writer = shared.views.writer();
            shared.portals.lease(ip).verify(&token, &body.dob)?;
        }
        Ok(serde_json::json!({ "ok": true }))
    })
    .await
}

async fn submit(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    axum::Json(body): axum::Json<PatientAnswers>,
) -> Response {
    on_portals(shared, client, move |shared, ip| {
        let _writer = shared.views.writer();
        let mut portal = shared.portals.lease(ip);
        let (reply, mrn) = portal.submit(&token, &body)?;
        // Every open caseload and queue reloads now, with this patient's new scores and flags.
        shared.views.changed(portal.registry(), Some(&mrn));
        Ok(reply)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_minute_then_waits() {
        let limit = RateLimit::default();
        let (a, b) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..PER_MINUTE {
            limit.admit(a, t0).unwrap();
        }
        // The 61st in the same minute is refused; another address is not.
        let e = limit.admit(a, t0 + Duration::from_secs(59)).unwrap_err();
        assert_eq!(e.code(), "throttled");
        limit.admit(b, t0).unwrap();
        // A minute after the window opened, it opens again.
        limit.admit(a, t0 + Duration::from_secs(60)).unwrap();
    }
}
