//! Kiosk mode on the staff listener (spec §10): a clinic tablet a team member hands to the patient.
//!
//! - `POST /api/kiosk/start` `{"request"}` (a member's session, with its CSRF header): the
//!   member's session ends and the device gets a kiosk session for that one open request.
//! - `GET /kiosk`: the patient page, in kiosk mode (its script and style under `/kiosk/_/`).
//! - `GET /api/kiosk`, `POST /api/kiosk/verify` `{"dob"}`, `POST /api/kiosk` `{"dob", "answers"}`:
//!   as `/api/patient/<token>`, for the request the kiosk holds. Without one (answered, or no
//!   kiosk session at all) they answer 404 with the locked tablet's text, which names no one.
//!
//! A kiosk session is refused on every staff route (`Session::registry`), and the core refuses
//! every command to a kiosk's handle (`commands::admit`). Its POSTs take `application/json`
//! only and its cookie is `SameSite=Strict`, so another site cannot post in its name.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::Shared;
use super::patient::{PAGE, SCRIPT, STYLE, asset};
use super::routes::{Reply, blocking, check_csrf, end_session_of, member_session, no_store, session, session_token, set_session_cookie};
use super::sessions::Session;
use crate::Error;
use crate::questionnaires::portal::PatientAnswers;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/kiosk", get(page))
        .route("/kiosk/_/patient.js", get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }))
        .route("/kiosk/_/patient.css", get(|| async { asset("text/css; charset=utf-8", STYLE) }))
        .route("/api/kiosk/start", post(start))
        .route("/api/kiosk", get(questions).post(submit))
        .route("/api/kiosk/verify", post(verify))
        .layer(axum::middleware::map_response(no_store))
        .with_state(shared)
}

async fn page() -> Response {
    let html = PAGE.replace("/r/_/", "/kiosk/_/");
    ([(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))], html).into_response()
}

#[derive(Deserialize)]
struct StartKiosk {
    request: String,
}

async fn start(State(shared): State<Arc<Shared>>, headers: HeaderMap, axum::Json(body): axum::Json<StartKiosk>) -> Reply {
    let live = member_session(&shared, &headers).await?;
    check_csrf(&live, &headers)?;
    let idle = live.idle_limit();
    let for_start = shared.clone();
    let kiosk = blocking(move || {
        let _writer = for_start.views.writer();
        let mut registry = live.registry()?;
        registry.start_kiosk(&body.request)
    })
    .await?;
    // The member's session ends here: the device is the patient's now.
    end_session_of(&shared, &headers, false).await;
    let (token, _) = shared.sessions.start_kiosk(kiosk, idle);
    let mut response = axum::Json(serde_json::json!({ "location": "/kiosk" })).into_response();
    set_session_cookie(&mut response, &token)?;
    tracing::info!("a device was handed over as a kiosk");
    Ok(response)
}

/// The caller's kiosk session; without one, the locked tablet.
async fn kiosk_session(shared: &Arc<Shared>, headers: &HeaderMap) -> Result<Arc<Session>, super::routes::ApiError> {
    let locked = || Error::NotFound(crate::questionnaires::kiosk::LOCKED.into());
    if session_token(headers).is_none() {
        return Err(locked().into());
    }
    session(shared, headers).await.map_err(|_| locked().into())
}

async fn questions(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Reply {
    let live = kiosk_session(&shared, &headers).await?;
    let questions = blocking(move || live.kiosk()?.questions()).await?;
    Ok(axum::Json(questions).into_response())
}

#[derive(Deserialize)]
struct Dob {
    dob: String,
}

async fn verify(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Dob>,
) -> Reply {
    let live = kiosk_session(&shared, &headers).await?;
    blocking(move || {
        let _writer = shared.views.writer();
        let mut kiosk = live.kiosk()?;
        kiosk.set_client(Some(&client.ip().to_string()));
        kiosk.verify(&body.dob)
    })
    .await?;
    Ok(axum::Json(serde_json::json!({ "ok": true })).into_response())
}

async fn submit(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<PatientAnswers>,
) -> Reply {
    let live = kiosk_session(&shared, &headers).await?;
    let reply = blocking(move || {
        let _writer = shared.views.writer();
        let mut kiosk = live.kiosk()?;
        kiosk.set_client(Some(&client.ip().to_string()));
        let (reply, mrn) = kiosk.submit(&body)?;
        // Every open caseload and queue reloads now, with this patient's new scores and flags.
        shared.views.changed(kiosk.registry(), Some(&mrn));
        Ok(reply)
    })
    .await?;
    Ok(axum::Json(reply).into_response())
}
