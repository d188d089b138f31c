//! A client of a practice server: the CLI's `--server` and the tests. It trusts exactly one
//! certificate, by its SHA-256 fingerprint (pinned), and speaks the server's API: sign in,
//! then run any of `commands::COMMANDS` with the same JSON as the app.

mod files;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::server::tls::{fingerprint, normalise_fingerprint};
use crate::{Error, Result};

/// Accepts the one certificate whose fingerprint is pinned (`None`: any, recording what it saw,
/// which is how a first connection learns the fingerprint to show the user).
#[derive(Debug)]
struct Pinned {
    expected: Option<String>,
    seen: Mutex<Option<String>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let actual = fingerprint(end_entity);
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(actual.clone());
        match &self.expected {
            Some(expected) if *expected != actual => Err(rustls::Error::General("certificate fingerprint mismatch".into())),
            _ => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

fn tls_config(expected: Option<String>) -> (rustls::ClientConfig, Arc<Pinned>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(Pinned { expected, seen: Mutex::new(None), provider: provider.clone() });
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    (tls, verifier)
}

/// The TLS settings of a client that accepts only the certificate with this fingerprint
/// (for callers that open their own connection, such as a test choosing its source address).
pub fn pinned_tls_config(fingerprint: &str) -> Arc<rustls::ClientConfig> {
    Arc::new(tls_config(Some(fingerprint.to_string())).0)
}

fn agent(expected: Option<String>) -> (ureq::Agent, Arc<Pinned>) {
    let (tls, verifier) = tls_config(expected);
    let agent = ureq::AgentBuilder::new().tls_config(Arc::new(tls)).timeout(Duration::from_secs(120)).build();
    (agent, verifier)
}

/// The fingerprint of the certificate a server presents, read without trusting it: shown to
/// the user to compare with what the server printed before they pin it.
pub fn probe_fingerprint(url: &str) -> Result<String> {
    let (agent, verifier) = agent(None);
    let _ = agent.get(&format!("{}/api/health", url.trim_end_matches('/'))).call();
    let seen = verifier.seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    seen.ok_or_else(|| Error::Storage(format!("{url} did not answer over HTTPS")))
}

/// Where pinned fingerprints are kept: `$COCM_PINS`, else `servers.json` in the user's
/// configuration folder (`~/.config/cocm-registry/`).
pub fn pins_path() -> std::path::PathBuf {
    std::env::var_os("COCM_PINS")
        .filter(|p| !p.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dirs::config_dir().unwrap_or_else(std::env::temp_dir).join("cocm-registry").join("servers.json"))
}

fn load_pins() -> Result<serde_json::Map<String, Value>> {
    match std::fs::read_to_string(pins_path()) {
        Ok(text) => Ok(serde_json::from_str(&text).unwrap_or_default()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
        Err(e) => Err(e.into()),
    }
}

/// A server's address as pins are kept: without a trailing slash.
fn server_key(url: &str) -> String {
    url.trim().trim_end_matches('/').to_string()
}

/// The fingerprint pinned for the server at `url`, if one is.
pub fn pinned(url: &str) -> Result<Option<String>> {
    Ok(load_pins()?.get(&server_key(url)).and_then(Value::as_str).map(String::from))
}

/// Pins `fingerprint` for the server at `url` (after the user compared it).
pub fn pin(url: &str, fingerprint: &str) -> Result<()> {
    let mut pins = load_pins()?;
    pins.insert(server_key(url), Value::String(normalise_fingerprint(fingerprint)?));
    let path = pins_path();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, serde_json::to_string_pretty(&pins)?)?;
    Ok(())
}

/// What a first look at a server found: the fingerprint it presents, and the one pinned for it.
#[derive(Clone, Debug, serde::Serialize, ts_rs::TS)]
pub struct ServerCheck {
    pub url: String,
    pub fingerprint: String,
    /// `None` on a first connection; a different fingerprint means the certificate changed.
    pub pinned: Option<String>,
}

/// Looks at the server at `url` before trusting it.
pub fn check_server(url: &str) -> Result<ServerCheck> {
    let url = server_key(url);
    if !url.starts_with("https://") {
        return Err(Error::validation("server", "a practice server's address starts with https://"));
    }
    Ok(ServerCheck { fingerprint: probe_fingerprint(&url)?, pinned: pinned(&url)?, url })
}

/// A response: its status, its JSON (null when empty) and its CSRF header.
pub struct Answer {
    pub status: u16,
    pub body: Value,
    /// Every response header, by lower-case name.
    pub headers: std::collections::BTreeMap<String, String>,
    csrf: Option<String>,
    cookie: Option<Zeroizing<String>>,
}

pub struct Client {
    base: String,
    agent: ureq::Agent,
    cookie: Option<Zeroizing<String>>,
    csrf: String,
}

impl Client {
    /// A client of the server at `url` (`https://host:port`) that trusts only the certificate
    /// with `fingerprint`.
    pub fn new(url: &str, fingerprint: &str) -> Result<Client> {
        let base = url.trim_end_matches('/').to_string();
        if !base.starts_with("https://") {
            return Err(Error::validation("server", "a practice server's address starts with https://"));
        }
        let (agent, _) = agent(Some(normalise_fingerprint(fingerprint)?));
        Ok(Client { base, agent, cookie: None, csrf: String::new() })
    }

    /// Signs in; the session's cookie and CSRF token are kept for the calls that follow.
    pub fn sign_in(&mut self, member: &str, password: &str) -> Result<Value> {
        let answer = self.request("POST", "/api/session", Some(serde_json::json!({ "member": member, "password": password })), false)?;
        self.cookie = answer.cookie.clone();
        self.csrf = answer.csrf.clone().unwrap_or_default();
        ok(answer)
    }

    pub fn sign_out(&mut self) -> Result<()> {
        ok(self.request("DELETE", "/api/session", None, true)?).map(|_| ())
    }

    /// The server's start state (`GET /api/session`): who is signed in, else who may sign in.
    pub fn start_state(&mut self) -> Result<Value> {
        let answer = self.request("GET", "/api/session", None, false)?;
        if let Some(csrf) = &answer.csrf {
            self.csrf = csrf.clone();
        }
        ok(answer)
    }

    /// Signs in with the second factor's code (or a recovery code), after `mfa_required`.
    pub fn sign_in_with_code(&mut self, member: &str, password: &str, code: &str) -> Result<Value> {
        let body = serde_json::json!({ "member": member, "password": password, "code": code });
        let answer = self.request("POST", "/api/session", Some(body), false)?;
        self.cookie = answer.cookie.clone();
        self.csrf = answer.csrf.clone().unwrap_or_default();
        ok(answer)
    }

    /// Signs in as [`Client::sign_in`] does, answering `password_change_required` with a new one.
    /// With `code`, the second factor's (after `mfa_required`).
    pub fn sign_in_changing(&mut self, member: &str, password: &str, new_password: Option<&str>, code: Option<&str>) -> Result<Value> {
        let body = serde_json::json!({ "member": member, "password": password, "newPassword": new_password, "code": code });
        let answer = self.request("POST", "/api/session", Some(body), false)?;
        self.cookie = answer.cookie.clone();
        self.csrf = answer.csrf.clone().unwrap_or_default();
        ok(answer)
    }

    /// Hands this device over as a check-in kiosk for the open request `request_id`: the
    /// member's session ends and the kiosk's cookie replaces it (a kiosk has no CSRF token).
    pub fn start_kiosk(&mut self, request_id: &str) -> Result<Value> {
        let answer = self.request("POST", "/api/kiosk/start", Some(serde_json::json!({ "request": request_id })), true)?;
        if (200..300).contains(&answer.status) {
            self.cookie = answer.cookie.clone();
            self.csrf.clear();
        }
        ok(answer)
    }

    /// Signs out as the app's auto-lock does (audited as a lock).
    pub fn lock(&mut self) -> Result<()> {
        ok(self.request("DELETE", "/api/session?reason=auto-lock", None, true)?).map(|_| ())
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    /// Runs one of the shared commands on the server.
    pub fn call(&self, command: &str, args: Value) -> Result<Value> {
        ok(self.request("POST", &format!("/api/{command}"), Some(args), true)?)
    }

    /// A raw request, for checks: `with_csrf` false leaves the CSRF header out.
    pub fn request(&self, method: &str, path: &str, body: Option<Value>, with_csrf: bool) -> Result<Answer> {
        self.send(method, path, body.map(|b| b.to_string().into_bytes()).as_deref(), with_csrf)
    }

    /// Sends these bytes as the body, JSON or not, with the CSRF token (a fuzz test's requests).
    pub fn request_raw(&self, method: &str, path: &str, body: &[u8]) -> Result<Answer> {
        self.send(method, path, Some(body), true)
    }

    fn send(&self, method: &str, path: &str, body: Option<&[u8]>, with_csrf: bool) -> Result<Answer> {
        let mut request = self.agent.request(method, &format!("{}{path}", self.base)).set("content-type", "application/json");
        if let Some(cookie) = &self.cookie {
            request = request.set("cookie", &format!("{}={}", crate::server::sessions::COOKIE, cookie.as_str()));
        }
        if with_csrf {
            request = request.set("x-cocm-csrf", &self.csrf);
        }
        let result = match body {
            Some(body) => request.send_bytes(body),
            None => request.call(),
        };
        let response = match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(t)) => return Err(transport_error(&self.base, &t)),
        };
        let status = response.status();
        let headers = response
            .headers_names()
            .into_iter()
            .filter_map(|name| response.header(&name).map(|v| (name.to_lowercase(), v.to_string())))
            .collect();
        let csrf = response.header("x-cocm-csrf").map(String::from);
        let cookie = response.header("set-cookie").and_then(|c| {
            let (pair, _) = c.split_once(';').unwrap_or((c, ""));
            let (_, value) = pair.split_once('=')?;
            (!value.is_empty()).then(|| Zeroizing::new(value.to_string()))
        });
        // Read whole (`into_string` stops at 10 MB; a FHIR export's archive is larger).
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut response.into_reader(), &mut bytes)
            .map_err(|e| Error::Storage(format!("reading the server's answer: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|_| Error::Storage("the server's answer is not UTF-8 text".into()))?;
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Ok(Answer { status, body, headers, csrf, cookie })
    }

    /// A GET whose body is read as it arrives (the server-sent events of `/api/events`).
    pub fn request_stream(&self, path: &str) -> Result<Box<dyn std::io::Read + Send + Sync>> {
        let mut request = self.agent.get(&format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.set("cookie", &format!("{}={}", crate::server::sessions::COOKIE, cookie.as_str()));
        }
        match request.call() {
            Ok(response) => Ok(response.into_reader()),
            Err(ureq::Error::Status(status, response)) => ok(Answer {
                status,
                body: response.into_json().unwrap_or(Value::Null),
                headers: Default::default(),
                csrf: None,
                cookie: None,
            })
            .map(|_| unreachable!("an error status is an error")),
            Err(ureq::Error::Transport(t)) => Err(transport_error(&self.base, &t)),
        }
    }

    /// Forgets the session's CSRF token or cookie (for checks that the server refuses without).
    pub fn forget(&mut self, cookie: bool, csrf: bool) {
        if cookie {
            self.cookie = None;
        }
        if csrf {
            self.csrf.clear();
        }
    }
}

fn ok(answer: Answer) -> Result<Value> {
    if (200..300).contains(&answer.status) {
        return Ok(answer.body);
    }
    let code = answer.body.get("code").and_then(Value::as_str).unwrap_or("storage");
    let message =
        answer.body.get("message").and_then(Value::as_str).map_or_else(|| format!("the server answered {}", answer.status), String::from);
    match Error::from_payload(code, &message) {
        Error::Throttled { message, .. } => {
            let retry_after_secs = answer.headers.get("retry-after").and_then(|v| v.parse().ok()).unwrap_or(1);
            Err(Error::Throttled { message, retry_after_secs })
        }
        e => Err(e),
    }
}

fn transport_error(base: &str, t: &ureq::Transport) -> Error {
    let text = t.to_string();
    if text.contains("fingerprint mismatch") {
        Error::Auth(format!(
            "{base} presented a certificate that is not the one pinned; it may not be your practice server. \
             If the server's certificate was replaced on purpose, compare its new fingerprint and pin that"
        ))
    } else {
        Error::Storage(format!("cannot reach {base}: {text}"))
    }
}
