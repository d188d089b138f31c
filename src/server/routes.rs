//! The HTTP API and the UI's files.
//!
//! - `GET /api/health`: for monitoring (no PHI, no session needed).
//! - `GET /api/session`: the start state (who is signed in); before sign-in it names no member
//!   and no file path: the member types their name.
//! - `POST /api/session` `{"member", "password"[, "newPassword"][, "code"]}`: signs in, sets
//!   the cookie; without a needed second-factor code, 401 `mfa_required`.
//!   Through `accounts::guard`: an address with too many failures is answered 429 with
//!   `Retry-After`; an unknown name and a wrong password get the same 401.
//! - `DELETE /api/session[?reason=auto-lock]`: signs out (or locks, as the app does).
//! - `GET /api/events`: server-sent `version` events whenever anyone saves.
//! - `POST /api/<command>`: any of `commands::COMMANDS` with the same JSON as the app's.
//!
//! The session's CSRF token comes back in the `x-cocm-csrf` header of the session routes, and
//! must be sent in that header on every request that is not a GET.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::Stream;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::Shared;
use super::sessions::{self, COOKIE, Ended, Session};
use crate::store::StartState;
use crate::{Error, Registry, accounts, commands};

pub(crate) const CSRF_HEADER: &str = "x-cocm-csrf";
/// A command's JSON arguments.
const ARGUMENTS_LIMIT: usize = 2 << 20;
/// An uploaded import (a year's FHIR export of a large practice is a few hundred MB; base64
/// adds a third).
const UPLOAD_LIMIT: usize = 512 << 20;

/// The staff server's routes; `with_patient_pages` adds the patient pages (no listener of their own).
pub(crate) fn router(shared: Arc<Shared>, ui: Option<PathBuf>, with_patient_pages: bool) -> Router {
    let patient = with_patient_pages.then(|| super::patient::router(shared.clone()));
    let shared_for_kiosk = shared.clone();
    let api = Router::new()
        .route("/api/health", get(health))
        .route("/api/session", get(start_state).post(sign_in).delete(sign_out))
        .route("/api/events", get(events))
        .route("/api/{command}", post(run))
        .layer(axum::middleware::map_response(no_store))
        .with_state(shared);
    let api = api.merge(super::kiosk::router(shared_for_kiosk));
    let api = match patient {
        Some(pages) => api.merge(pages),
        None => api,
    };
    let api = match ui {
        Some(dir) => {
            let index = dir.join("index.html");
            api.fallback_service(tower_http::services::ServeDir::new(dir).fallback(tower_http::services::ServeFile::new(index)))
        }
        None => api.fallback(|| async { (StatusCode::NOT_FOUND, "this practice server serves its API only (no UI folder)") }),
    };
    with_security_headers(api)
}

/// Every answer gets the security headers (the patient listener's too); anything unrouted is 404.
pub(crate) fn with_security_headers(router: Router) -> Router {
    router.layer(axum::middleware::map_response(security_headers))
}

pub(crate) async fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert("permissions-policy", HeaderValue::from_static(PERMISSIONS_POLICY));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    headers.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    response
}

/// Scripts, styles, images and connections from this server only: no inline script, no eval,
/// no plug-ins, no framing, forms post only here. (The UI sets element styles through the DOM,
/// which `style-src` permits; it has no inline `<script>` or `style` attribute in its HTML.)
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/// The browser features the registry never uses, switched off.
const PERMISSIONS_POLICY: &str = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), browsing-topics=()";

/// An error as `{code, message}` with its HTTP status (and `Retry-After` when throttled).
pub(crate) struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // The code only: messages can name a patient.
        tracing::info!(status = status.as_u16(), code = self.0.code(), "refused");
        let mut response = (status, axum::Json(self.0.payload())).into_response();
        if let Error::Throttled { retry_after_secs, .. } = &self.0
            && let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

pub(crate) type Reply = Result<Response, ApiError>;

fn json_bytes(bytes: axum::body::Bytes) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], bytes).into_response()
}

pub(crate) fn session_token(headers: &HeaderMap) -> Option<Zeroizing<String>> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE && !value.is_empty()).then(|| Zeroizing::new(value.to_string()))
    })
}

/// The caller's live session, or 401 `signed_out`. An ended one is closed here (audited as a lock).
pub(crate) async fn session(shared: &Arc<Shared>, headers: &HeaderMap) -> Result<Arc<Session>, ApiError> {
    let token = session_token(headers).ok_or_else(|| Error::SignedOut("sign in to use the registry".into()))?;
    match shared.sessions.find(&token) {
        Ok(session) => Ok(session),
        Err(None) => Err(Error::SignedOut("your session has ended; sign in again".into()).into()),
        Err(Some((session, ended))) => {
            let shared = shared.clone();
            let _ = tokio::task::spawn_blocking(move || {
                let _writer = shared.views.writer();
                sessions::close(session, true);
            })
            .await;
            let message = match ended {
                Ended::Idle(limit) => {
                    format!("your session ended after {} minutes without activity; sign in again", limit.as_secs().div_ceil(60))
                }
                Ended::MaxAge => "your session ended after 12 hours; sign in again".to_string(),
            };
            Err(Error::SignedOut(message).into())
        }
    }
}

/// The caller's live session, which must be a member's: a kiosk's is refused before anything else.
pub(crate) async fn member_session(shared: &Arc<Shared>, headers: &HeaderMap) -> Result<Arc<Session>, ApiError> {
    let live = session(shared, headers).await?;
    if live.is_kiosk() { Err(sessions::kiosk_refusal().into()) } else { Ok(live) }
}

/// Refuses a state-changing request whose CSRF header is not the session's.
pub(crate) fn check_csrf(session: &Session, headers: &HeaderMap) -> Result<(), ApiError> {
    let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    let same = sent.len() == session.csrf.len() && sent.bytes().zip(session.csrf.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if same { Ok(()) } else { Err(Error::PermissionDenied("this request lacks the session's CSRF token; reload the page".into()).into()) }
}

fn with_csrf(mut response: Response, session: &Session) -> Response {
    if let Ok(value) = HeaderValue::from_str(&session.csrf) {
        response.headers_mut().insert(CSRF_HEADER, value);
    }
    response
}

pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> crate::Result<T> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|_| Error::Storage("the request failed inside the server".into()))?.map_err(ApiError)
}

async fn health(State(shared): State<Arc<Shared>>) -> Reply {
    let version = shared.views.version();
    let sessions = shared.sessions.len();
    let throttled = shared.guard.throttled_addresses(std::time::Instant::now());
    let shared = shared.clone();
    let schema = blocking(move || shared.own.lock().map_err(|_| Error::Storage("unavailable".into()))?.schema_version()).await?;
    Ok(axum::Json(serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "schema_version": schema,
        "data_version": version,
        "sessions": sessions,
        "throttled_addresses": throttled,
    }))
    .into_response())
}

async fn start_state(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Reply {
    let live = match session_token(&headers) {
        Some(_) => session(&shared, &headers).await.ok(),
        None => None,
    };
    let db = shared.db.clone();
    let for_info = live.clone();
    let state = blocking(move || {
        // A kiosk's session is no one signed in: the tablet shows the sign-in.
        let registry = match for_info.as_ref().map(|s| s.registry()) {
            Some(Ok(registry)) => Some(registry.info()?),
            _ => None,
        };
        // Before sign-in, nothing a stranger could use: no member names, no file path.
        let sign_in = Some(accounts::sign_in_choices(&db)?).map(|c| accounts::SignInChoices {
            path: String::new(),
            members: Vec::new(),
            typed_name: true,
            ..c
        });
        Ok(StartState { registry, sign_in, suggested_member: None, startup_error: None, demo_path: String::new(), server: None })
    })
    .await?;
    let response = axum::Json(state).into_response();
    Ok(match live {
        Some(session) if !session.is_kiosk() => with_csrf(response, &session),
        _ => response,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignIn {
    member: String,
    password: String,
    new_password: Option<String>,
    /// The second factor's code (or a recovery code), when the answer was `mfa_required`.
    code: Option<String>,
}

async fn sign_in(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<SignIn>,
) -> Reply {
    let (password, new_password, code) =
        (Zeroizing::new(body.password), body.new_password.map(Zeroizing::new), body.code.map(Zeroizing::new));
    let member = body.member;
    let address = client.ip();
    let for_registry = shared.clone();
    let (registry, idle) = blocking(move || {
        let shared = for_registry;
        let _writer = shared.views.writer();
        let secrets = crate::store::SignInSecrets {
            password: &password,
            new_password: new_password.as_deref().map(|p| p.as_str()),
            code: code.as_deref().map(|c| c.as_str()),
        };
        let mut registry = Registry::sign_in_over_network(&shared.db, &shared.guard, &member, secrets, address)?;
        let minutes = registry.settings()?.auto_lock_minutes;
        let idle = shared.idle_limit.unwrap_or(Duration::from_secs(60 * minutes.max(1) as u64));
        let _ = registry.backup_daily(crate::dates::today());
        Ok((registry, idle))
    })
    .await?;
    let info = registry.info()?;
    // The device's previous session (a kiosk's, typically) ends with this sign-in.
    end_session_of(&shared, &headers, false).await;
    let (token, session) = shared.sessions.start(registry, idle);
    let mut response = with_csrf(axum::Json(info).into_response(), &session);
    set_session_cookie(&mut response, &token)?;
    tracing::info!(client = %client.ip(), "signed in");
    Ok(response)
}

/// Gives the client the cookie of the session `token` (a member's or a kiosk's).
pub(crate) fn set_session_cookie(response: &mut Response, token: &str) -> Result<(), ApiError> {
    let cookie = format!("{COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/");
    response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|_| Error::Storage("cookie".into()))?);
    Ok(())
}

/// Ends the session whose cookie `headers` carry, if any (audited as signed out, or locked).
pub(crate) async fn end_session_of(shared: &Arc<Shared>, headers: &HeaderMap, idle: bool) {
    let Some(token) = session_token(headers) else { return };
    if let Some(session) = shared.sessions.remove(&token) {
        let shared = shared.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let _writer = shared.views.writer();
            sessions::close(session, idle);
        })
        .await;
    }
}

#[derive(Deserialize)]
struct SignOut {
    reason: Option<String>,
}

async fn sign_out(State(shared): State<Arc<Shared>>, headers: HeaderMap, Query(query): Query<SignOut>) -> Reply {
    let live = session(&shared, &headers).await?;
    check_csrf(&live, &headers)?;
    drop(live);
    end_session_of(&shared, &headers, query.reason.as_deref() == Some("auto-lock")).await;
    let cookie = format!("{COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0");
    let mut response = axum::Json(serde_json::Value::Null).into_response();
    response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|_| Error::Storage("cookie".into()))?);
    Ok(response)
}

async fn events(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    // The stream ends with the session (signed out, locked or expired): it holds only a weak
    // reference, which a closed session no longer upgrades. It ends when the server stops too.
    // A kiosk hears nothing of the registry's changes.
    let live = Arc::downgrade(&member_session(&shared, &headers).await?);
    let versions = tokio_stream::wrappers::WatchStream::new(shared.views.subscribe());
    let versions = futures_util::StreamExt::take_while(versions, move |_| std::future::ready(live.strong_count() > 0));
    let mut stopping = shared.stopping.subscribe();
    let versions = futures_util::StreamExt::take_until(versions, async move {
        let _ = stopping.wait_for(|stopping| *stopping).await;
    });
    let stream = futures_util::StreamExt::map(versions, |v| Ok(Event::default().event("version").data(v.to_string())));
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

async fn run(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
    method: Method,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Reply {
    let live = member_session(&shared, &headers).await?;
    if method != Method::GET {
        check_csrf(&live, &headers)?;
    }
    let command = commands::find(&name);
    let limit = match command.map(|c| c.files) {
        Some(commands::Files::Upload) => UPLOAD_LIMIT,
        _ => ARGUMENTS_LIMIT,
    };
    // Read only now, from a signed-in session, so no one else can make the server hold a file;
    // and read before any refusal, so the connection stays usable for the client's next request
    // (a body left unread made the next request on a kept-alive connection fail).
    let body = axum::body::to_bytes(request.into_body(), limit).await.map_err(|_| {
        let hint = if limit == UPLOAD_LIMIT { "; import a larger file with cocm on the server's machine" } else { "" };
        Error::validation("file", format!("the request is larger than this server accepts ({} MB){hint}", limit / (1 << 20)))
    })?;
    let command = command.ok_or_else(|| commands::unknown(&name))?;
    if command.files == commands::Files::Local {
        return Err(Error::PermissionDenied(format!(
            "{name} reads or writes files on the machine that runs the registry: use the desktop app or the cocm CLI there"
        ))
        .into());
    }
    let args: serde_json::Value = if body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&body).map_err(|e| Error::validation("arguments", e.to_string()))?
    };
    let address = client.ip().to_string();
    let started = std::time::Instant::now();
    let json = blocking(move || {
        let mut registry = live.registry()?;
        registry.set_client(Some(&address));
        shared.views.run(command, &mut registry, args)
    })
    .await;
    tracing::info!(command = name, ms = started.elapsed().as_millis() as u64, ok = json.is_ok(), "command");
    Ok(json_bytes(json?))
}
