//! The practice server, over real HTTPS on loopback: many writers at once, the security
//! guards (each tried and refused), live updates, and `cocm serve` itself.

mod common;

use std::time::Duration;

use cocm::Registry;
use cocm::client::{Client, probe_fingerprint};
use cocm::server::{RunningServer, ServerOptions};
use cocm::vocab::Role;
use common::*;
use serde_json::{Value, json};

struct Practice {
    t: TempRegistry,
    runtime: tokio::runtime::Runtime,
    server: Option<RunningServer>,
}

impl Practice {
    /// The `setup()` practice with a second care manager "CM2", accounts for CM, CM2 and PSY,
    /// served on 127.0.0.1:0 with a self-signed certificate.
    fn serve(idle_limit: Option<Duration>) -> Practice {
        let (t, mut lead) = setup();
        lead.add_member("CM2", Role::CareManager).unwrap();
        for member in ["CM", "CM2", "PSY"] {
            drop(sign_in_as(&mut lead, member));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let options = ServerOptions {
            db: t.path.clone(),
            listen: "127.0.0.1:0".parse().unwrap(),
            tls: None,
            ui: None,
            idle_limit,
            patient_listen: None,
        };
        let server = runtime.block_on(cocm::server::start(options, lead)).expect("the server starts");
        Practice { t, runtime, server: Some(server) }
    }

    fn server(&self) -> &RunningServer {
        self.server.as_ref().unwrap()
    }

    fn url(&self) -> String {
        format!("https://{}", self.server().addr)
    }

    fn client(&self) -> Client {
        Client::new(&self.url(), &self.server().fingerprint).unwrap()
    }

    fn signed_in(&self, member: &str) -> Client {
        let mut client = self.client();
        client.sign_in(member, PASSWORD).unwrap_or_else(|e| panic!("{member} signs in: {e}"));
        client
    }

    /// `cocm --server URL --as LEAD ARGS…`, pinning in the practice's own pins file.
    fn cocm(&self, args: &[&str], fingerprint: Option<&str>) -> std::process::Output {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cocm"));
        command.args(["--server", &self.url(), "--as", "LEAD"]);
        if let Some(f) = fingerprint {
            command.args(["--fingerprint", f]);
        }
        let pins = self.t.dir.path().join("pins.json");
        command.args(args).env("COCM_PASSWORD", PASSWORD).env("COCM_PINS", pins).env_remove("COCM_DB").output().unwrap()
    }

    /// The same command on the registry file the server serves, as LEAD.
    fn cocm_on_file(&self, args: &[&str]) -> Output {
        cocm_with(&self.t.path, args, &[("COCM_AS", "LEAD"), ("COCM_PASSWORD", PASSWORD)])
    }

    fn count(&self, sql: &str) -> i64 {
        raw(&self.t.path).query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

impl Drop for Practice {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown(Duration::from_secs(5)));
        }
    }
}

fn contact_by(member: &str, date: &str, minutes: i64) -> Value {
    json!({ "mrn": "P1", "contact": { "date": date, "minutes": minutes, "by": member, "note": "" } })
}

#[test]
fn two_clients_write_a_thousand_contacts_each_at_once_and_every_write_lands() {
    let practice = Practice::serve(None);
    let writers: Vec<_> = ["CM", "CM2"]
        .into_iter()
        .map(|member| {
            let client = practice.signed_in(member);
            std::thread::spawn(move || {
                for i in 0..1000 {
                    let date = format!("2026-{:02}-{:02}", 1 + i % 10, 1 + i % 28);
                    client
                        .call("log_contact", contact_by(member, &date, 5 + i % 30))
                        .unwrap_or_else(|e| panic!("{member}'s write {i}: {e}"));
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("no write failed");
    }
    assert_eq!(practice.count("SELECT count(*) FROM contacts"), 2000);
    for member in ["CM", "CM2"] {
        let rows = practice.count(&format!(
            "SELECT count(*) FROM audit_log a JOIN team_members m ON m.id = a.actor_id
             WHERE m.name = '{member}' AND a.action = 'create' AND a.record_type = 'contact'
               AND json_extract(a.details, '$.client') = '127.0.0.1' AND json_extract(a.details, '$.by') = '{member}'"
        ));
        assert_eq!(rows, 1000, "{member}'s audit rows name them and their workstation");
    }
    assert!(raw(&practice.t.path).query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)).unwrap() == "ok");
}

#[test]
fn without_a_session_every_command_is_refused_with_401() {
    let practice = Practice::serve(None);
    let client = practice.client();
    for command in ["caseload", "queue", "log_contact", "accounts"] {
        let answer = client.request("POST", &format!("/api/{command}"), Some(json!({})), true).unwrap();
        assert_eq!(answer.status, 401, "{command}");
        assert_eq!(answer.body["code"], "signed_out", "the UI asks for the password again on this code");
    }
    // A made-up cookie is no session either.
    let forged = client.request("GET", "/api/events", None, true).unwrap();
    assert_eq!(forged.status, 401);
    let health = client.request("GET", "/api/health", None, false).unwrap();
    assert_eq!((health.status, health.body["status"].as_str()), (200, Some("ok")));
}

#[test]
fn a_role_that_may_not_is_refused_with_403_and_nothing_is_written() {
    let practice = Practice::serve(None);
    let before = dump_skipping(&practice.t.path, &["refused", "sign-in", "backup"]);
    let consultant = practice.signed_in("PSY");
    let refused = consultant.call("log_contact", contact_by("PSY", "2026-11-02", 20)).unwrap_err();
    assert_eq!(refused.code(), "permission_denied", "{refused}");
    let refused = consultant.call("set_setting", json!({ "key": "auto_lock_minutes", "value": "30" })).unwrap_err();
    assert_eq!(refused.code(), "permission_denied");
    let care_manager = practice.signed_in("CM");
    let refused =
        care_manager.request("POST", "/api/add_member", Some(json!({ "name": "Mallory", "role": "practice-lead" })), true).unwrap();
    assert_eq!((refused.status, refused.body["code"].as_str()), (403, Some("permission_denied")));
    // Only the refusals (and sign-ins) were audited; the records are as they were.
    assert_eq!(dump_skipping(&practice.t.path, &["refused", "sign-in", "backup"]), before);
    assert_eq!(
        practice.count("SELECT count(*) FROM audit_log WHERE action = 'refused' AND json_extract(details, '$.client') = '127.0.0.1'"),
        3
    );
    // Files on the server's disk are not reachable over the network, even for a lead.
    let refused = care_manager.call("export_fhir", json!({ "dir": "/tmp/anywhere" })).unwrap_err();
    assert_eq!(refused.code(), "permission_denied");
}

#[test]
fn a_request_without_the_csrf_token_is_refused_and_changes_nothing() {
    let practice = Practice::serve(None);
    let mut client = practice.signed_in("CM");
    client.forget(false, true);
    let before = practice.count("SELECT count(*) FROM contacts");
    let answer = client.request("POST", "/api/log_contact", Some(contact_by("CM", "2026-11-02", 20)), true).unwrap();
    assert_eq!(answer.status, 403);
    assert!(answer.body["message"].as_str().unwrap().contains("CSRF"));
    assert_eq!(practice.count("SELECT count(*) FROM contacts"), before);
    // Signing out is state-changing too.
    assert_eq!(client.request("DELETE", "/api/session", None, true).unwrap().status, 403);

    // Signed in, a wrong current password is `auth` (the form says so), not `signed_out`:
    // the session goes on.
    let signed_in = practice.signed_in("PSY");
    let e = signed_in.call("change_own_password", json!({"current": "not-the-password", "new": "another-password-1"})).unwrap_err();
    assert_eq!(e.code(), "auth", "{e}");
    signed_in.call("queue", json!({})).unwrap();
}

#[test]
fn wrong_passwords_over_http_lock_the_name_at_that_address_only() {
    let practice = Practice::serve(None);
    let client = practice.client();
    let attempt = |member: &str, password: &str| {
        client.request("POST", "/api/session", Some(json!({ "member": member, "password": password })), false).unwrap()
    };
    // An unknown name and a wrong password: the same status and the same words.
    let unknown = attempt("Nobody Here", "not-the-password");
    let wrong = attempt("CM", "not-the-password");
    assert_eq!(unknown.status, 401);
    assert_eq!((unknown.status, &unknown.body), (wrong.status, &wrong.body));
    assert_eq!(wrong.body["message"], cocm::accounts::WRONG_NAME_OR_PASSWORD);
    // Three more wrong passwords make five (the practice's lockout_attempts): CM is locked at
    // this address, 429 with the 15 minutes to wait, even with the right password.
    for _ in 0..3 {
        assert_eq!(attempt("cm", "not-the-password").status, 401, "a name as typed, in any case");
    }
    assert_eq!(attempt("CM", "not-the-password").status, 401);
    let refused = attempt("CM", PASSWORD);
    assert_eq!((refused.status, refused.body["code"].as_str()), (429, Some("throttled")));
    assert_eq!(refused.headers.get("retry-after").map(String::as_str), Some("900"));
    // An unknown name at this address is locked after five just the same.
    for _ in 0..4 {
        attempt("Nobody Here", "not-the-password");
    }
    assert_eq!(attempt("Nobody Here", "x").status, 429);
    // The key file's lock is untouched: CM signs in on the server's own machine, and the other
    // members from this address (10 failures make it wait: here 10, so the next is throttled).
    drop(Registry::sign_in(&practice.t.path, "CM", PASSWORD, None).expect("CM is not locked on the file"));
    assert_eq!(attempt("PSY", PASSWORD).status, 429, "ten failures from one address: it waits");
    let health = client.request("GET", "/api/health", None, false).unwrap();
    assert_eq!(health.body["throttled_addresses"], 1);
    assert!(!health.body.to_string().contains("127.0.0.1"), "the count, never the address");
    // From a second address PSY still signs in; the failures reached the audit log then.
    let (status, _) = sign_in_from_address(&practice, "127.0.0.2", "PSY", PASSWORD);
    assert_eq!(status, 200, "another address is not throttled");
    let failed = practice
        .count("SELECT count(*) FROM audit_log WHERE action = 'sign-in-failed' AND json_extract(details, '$.client') = '127.0.0.1'");
    assert_eq!(failed, 5, "CM's five wrong passwords, with the address (unknown names are no account's)");
    let events = |action: &str| practice.count(&format!("SELECT count(*) FROM audit_log WHERE action = '{action}'"));
    assert_eq!((events("account-locked-at-address"), events("sign-in-throttled"), events("account-locked")), (1, 1, 0));
    assert_eq!(events("sign-in-failed-unknown-name"), 5, "the address's tries at no account (the name itself not kept)");
    assert_eq!(
        practice.count(
            "SELECT count(*) FROM audit_log WHERE action = 'sign-in-throttled' AND record_type = 'client' AND record_id = '127.0.0.1'"
        ),
        1
    );
}

/// Signs in over HTTPS from a chosen loopback source address (127.0.0.2 is this machine too):
/// the status and body. One request on its own connection, as a second workstation would.
fn sign_in_from_address(practice: &Practice, source: &str, member: &str, password: &str) -> (u16, Value) {
    use std::io::{Read, Write};
    let addr = practice.server().addr;
    let tcp = practice.runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
        socket.connect(addr).await.unwrap().into_std().unwrap()
    });
    tcp.set_nonblocking(false).unwrap();
    // One write, no Nagle: otherwise a delayed ACK adds 40 ms to some requests, not others.
    tcp.set_nodelay(true).unwrap();
    let tls = cocm::client::pinned_tls_config(&practice.server().fingerprint);
    let connection = rustls::ClientConnection::new(tls, "localhost".try_into().unwrap()).unwrap();
    let mut stream = rustls::StreamOwned::new(connection, tcp);
    let body = json!({ "member": member, "password": password }).to_string();
    let request = format!(
        "POST /api/session HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    stream.flush().unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let json_start = text.find('{').unwrap_or(text.len());
    (status, serde_json::from_str(text[json_start..].trim()).unwrap_or(Value::Null))
}

#[test]
fn before_sign_in_the_server_names_no_one_and_no_file_and_every_answer_has_strict_headers() {
    let practice = Practice::serve(None);
    let mut client = practice.client();
    let start = client.start_state().unwrap();
    let choices = &start["sign_in"];
    assert_eq!((choices["members"].clone(), choices["path"].clone(), choices["typed_name"].clone()), (json!([]), json!(""), json!(true)));
    let text = start.to_string();
    assert!(!text.contains("PSY") && !text.contains(".cocm"), "{text}");
    // Every answer, signed in or not, carries the policies.
    for answer in [client.request("GET", "/api/session", None, false).unwrap(), client.request("GET", "/api/health", None, false).unwrap()]
    {
        let h = |name: &str| answer.headers.get(name).cloned().unwrap_or_default();
        let csp = h("content-security-policy");
        for directive in ["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"] {
            assert!(csp.contains(directive), "{directive} in {csp}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
        assert_eq!(h("cross-origin-opener-policy"), "same-origin");
        assert!(h("permissions-policy").contains("camera=()"));
        assert!(h("strict-transport-security").starts_with("max-age="));
        assert_eq!((h("x-frame-options"), h("x-content-type-options")), ("DENY".into(), "nosniff".into()));
    }
}

#[test]
fn failures_from_many_addresses_slow_an_account_and_tell_the_lead_but_never_lock_it() {
    let practice = Practice::serve(None);
    // Twenty wrong passwords for CM, one from each of twenty addresses (none locks CM anywhere).
    for i in 0..20 {
        let (status, _) = sign_in_from_address(&practice, &format!("127.0.1.{}", 10 + i), "CM", "not-the-password");
        assert_eq!(status, 401, "attempt {}", i + 1);
    }
    // The next attempt at CM, from anywhere, waits its growing delay (2 s after the last failure).
    let (status, body) = sign_in_from_address(&practice, "127.0.1.99", "CM", PASSWORD);
    assert_eq!((status, body["code"].as_str()), (429, Some("throttled")), "{body}");
    std::thread::sleep(Duration::from_millis(2100));
    let (status, _) = sign_in_from_address(&practice, "127.0.1.99", "CM", PASSWORD);
    assert_eq!(status, 200, "slowed, never locked: the right password gets in");
    // The practice lead sees it on the Team screen's accounts, and clears it.
    let lead = practice.signed_in("LEAD");
    let accounts = lead.call("accounts", json!({})).unwrap();
    let cm = accounts.as_array().unwrap().iter().find(|a| a["member_name"] == "CM").unwrap().clone();
    let alert = cm["network_alert"].as_str().unwrap_or_default();
    assert!(alert.starts_with("20 failed sign-ins through the practice server"), "{cm}");
    assert_eq!(cm["locked_until"], Value::Null);
    lead.call("unlock_account", json!({ "member": "CM" })).unwrap();
    let accounts = lead.call("accounts", json!({})).unwrap();
    assert!(accounts.as_array().unwrap().iter().all(|a| a["network_alert"].is_null()));
    assert_eq!(practice.count("SELECT count(*) FROM audit_log WHERE action = 'sign-in-slowed'"), 1);
}

/// The code an authenticator app shows for `secret` (as the enrolment printed it) at `at`
/// (seconds since 1970): RFC 6238 by the same crate, as a phone would compute it.
fn app_code_at(secret: &str, at: u64) -> String {
    let bytes = totp_rs::Secret::try_from_base32(secret.replace(' ', "")).unwrap();
    totp_rs::Builder::new().with_secret(bytes).build().unwrap().generate(at).to_string()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// The code an authenticator app shows `offset` seconds from now.
fn app_code(secret: &str, offset: u64) -> String {
    app_code_at(secret, unix_now() + offset)
}

/// The code an authenticator app shows now and the next one, from one reading of the clock.
fn app_codes(secret: &str) -> (String, String) {
    let now = unix_now();
    (app_code_at(secret, now), app_code_at(secret, now + 30))
}

#[test]
fn a_second_factor_is_enrolled_then_asked_once_per_code_and_a_lead_resets_it() {
    let practice = Practice::serve(None);
    let lead = practice.signed_in("LEAD");
    lead.call("set_setting", json!({ "key": "mfa_required", "value": "server" })).unwrap();

    // CM has no second factor yet: the password signs in to enrolment and nothing else.
    let mut cm = practice.client();
    let info = cm.sign_in("CM", PASSWORD).unwrap();
    assert_eq!(info["must_enrol_second_factor"], true);
    let refused = cm.call("caseload", json!({})).unwrap_err();
    assert_eq!(refused.code(), "permission_denied");
    // A wrong first code is refused; the app's code confirms and gives ten recovery codes.
    let begun = cm.call("begin_second_factor", json!({})).unwrap();
    let secret = begun["secret"].as_str().unwrap().to_string();
    assert!(begun["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/"));
    assert!(begun["qr_svg"].as_str().unwrap().contains("<svg"));
    assert_eq!(cm.call("confirm_second_factor", json!({ "code": "000000" })).unwrap_err().code(), "validation");
    // Both codes from one reading of the clock: read twice, a 30-second step could turn in
    // between and the "used" code would be a fresh one.
    let (confirming, next) = app_codes(&secret);
    let recovery: Vec<String> = serde_json::from_value(cm.call("confirm_second_factor", json!({ "code": confirming })).unwrap()).unwrap();
    assert_eq!(recovery.len(), 10);
    cm.sign_out().unwrap();

    // Without a code: 401 mfa_required and nothing else about the account.
    let bare = cm.request("POST", "/api/session", Some(json!({ "member": "CM", "password": PASSWORD })), false).unwrap();
    assert_eq!((bare.status, bare.body["code"].as_str()), (401, Some("mfa_required")));
    // The code that confirmed the enrolment was used: refused again. The next one (30 s on,
    // one step of allowed drift) signs in, once.
    assert_eq!(cm.sign_in_with_code("CM", PASSWORD, &confirming).unwrap_err().code(), "auth");
    cm.sign_in_with_code("CM", PASSWORD, &next).expect("the next code signs in");
    assert!(cm.call("caseload", json!({})).is_ok());
    cm.sign_out().unwrap();
    assert_eq!(cm.sign_in_with_code("CM", PASSWORD, &next).unwrap_err().code(), "auth", "a code works once");
    // A recovery code works once, typed in any case.
    cm.sign_in_with_code("CM", PASSWORD, &recovery[3].to_lowercase()).expect("a recovery code signs in");
    cm.sign_out().unwrap();
    assert_eq!(cm.sign_in_with_code("CM", PASSWORD, &recovery[3]).unwrap_err().code(), "auth");

    // The lead resets it (a lost phone): CM enrols again at the next sign-in; audited.
    lead.call("reset_second_factor", json!({ "member": "CM" })).unwrap();
    assert_eq!(cm.sign_in("CM", PASSWORD).unwrap()["must_enrol_second_factor"], true);
    let audited = |action: &str| practice.count(&format!("SELECT count(*) FROM audit_log WHERE action = '{action}'"));
    assert_eq!(
        [audited("second-factor-enrolled"), audited("second-factor-passed"), audited("recovery-code-used"), audited("second-factor-reset")],
        [1, 1, 1, 1]
    );
    assert_eq!(audited("second-factor-failed"), 3, "the reused code, the code used twice, the recovery code used twice");
    // Nothing of the secret or the codes is in the audit log.
    let log = practice.count(&format!(
        "SELECT count(*) FROM audit_log WHERE details LIKE '%{}%' OR details LIKE '%{}%'",
        &secret.replace(' ', "")[..8],
        &recovery[0][..9]
    ));
    assert_eq!(log, 0);
}

#[test]
fn an_unknown_name_takes_as_long_to_refuse_as_a_wrong_password() {
    let practice = Practice::serve(None);
    // Twenty of each, interleaved, each from its own loopback address (so no address is throttled
    // and no name locked), and the medians compared.
    let mut times = (Vec::new(), Vec::new());
    for i in 0..20 {
        let time = |member: &str, source: String| {
            let started = std::time::Instant::now();
            let (status, body) = sign_in_from_address(&practice, &source, member, "not-the-password");
            assert_eq!((status, body["message"].as_str()), (401, Some(cocm::accounts::WRONG_NAME_OR_PASSWORD)));
            started.elapsed().as_secs_f64()
        };
        // Each goes first every other time (whichever runs second finds memory warm).
        let known = || time(["CM", "CM2", "PSY"][i % 3], format!("127.0.0.{}", 10 + 2 * i));
        let unknown = || time(&format!("Nobody {i}"), format!("127.0.0.{}", 11 + 2 * i));
        if i % 2 == 0 {
            times.0.push(known());
            times.1.push(unknown());
        } else {
            times.1.push(unknown());
            times.0.push(known());
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (known, unknown) = (median(&mut times.0), median(&mut times.1));
    eprintln!("median refusal: wrong password {known:.3} s, unknown name {unknown:.3} s");
    // The key derivation dominates both; within 35 % of each other (skipping the derivation
    // for an unknown name, the leak this guards against, halves its time or less).
    assert!((known - unknown).abs() <= 0.35 * known.max(unknown), "wrong password {known:.3} s, unknown name {unknown:.3} s");
}

#[test]
fn a_session_ends_after_the_idle_limit_and_signing_out_ends_it_too() {
    let practice = Practice::serve(Some(Duration::from_millis(1500)));
    let client = practice.signed_in("CM");
    client.call("queue", json!({})).unwrap();
    std::thread::sleep(Duration::from_millis(2000));
    let e = client.call("queue", json!({})).unwrap_err();
    assert_eq!(e.code(), "signed_out");
    assert!(e.to_string().contains("without activity"), "{e}");
    assert_eq!(practice.count("SELECT count(*) FROM audit_log WHERE action = 'auto-lock'"), 1);

    let mut client = practice.signed_in("CM");
    client.sign_out().unwrap();
    assert_eq!(client.call("queue", json!({})).unwrap_err().code(), "signed_out");
    assert_eq!(practice.count("SELECT count(*) FROM audit_log WHERE action = 'sign-out'"), 1);
}

#[test]
fn a_client_that_pinned_a_certificate_refuses_another() {
    let practice = Practice::serve(None);
    assert_eq!(probe_fingerprint(&practice.url()).unwrap(), practice.server().fingerprint);
    let other = ["AB"; 32].join(":");
    let mut client = Client::new(&practice.url(), &other).unwrap();
    let e = client.sign_in("CM", PASSWORD).unwrap_err();
    assert_eq!(e.code(), "auth");
    assert!(e.to_string().contains("not the one pinned"), "{e}");
    // Nothing reached the server: no sign-in was audited.
    assert_eq!(
        practice.count("SELECT count(*) FROM audit_log WHERE action = 'sign-in' AND json_extract(details, '$.client') IS NOT NULL"),
        0
    );
}

#[test]
fn views_are_shared_until_someone_saves_and_every_listener_hears_of_it() {
    let practice = Practice::serve(None);
    let care_manager = practice.signed_in("CM");
    let lead_like = practice.signed_in("CM2");
    let contacts = |v: &Value| v["rows"].as_array().unwrap().iter().find(|r| r["mrn"] == "P1").unwrap()["contacts"].as_i64().unwrap();
    let before = care_manager.call("caseload", json!({ "careManager": null, "asOfDate": "2026-11-30" })).unwrap();
    assert_eq!(lead_like.call("caseload", json!({ "careManager": null, "asOfDate": "2026-11-30" })).unwrap(), before);

    // Listen for the data version as a browser does.
    let events = lead_like.request_stream("/api/events").unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(events).lines().map_while(Result::ok) {
            if let Some(v) = line.strip_prefix("data:") {
                let _ = tx.send(v.trim().to_string());
            }
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(5)).expect("the current version at once");
    care_manager.call("log_contact", contact_by("CM", "2026-11-20", 25)).unwrap();
    let next = rx.recv_timeout(Duration::from_secs(5)).expect("a new version within 5 seconds");
    assert_ne!(first, next);
    let after = lead_like.call("caseload", json!({ "careManager": null, "asOfDate": "2026-11-30" })).unwrap();
    assert_eq!(contacts(&after), contacts(&before) + 1, "the cached caseload was not served after the write");

    // Signed out, the listener hears nothing more: its stream ends at the next change.
    let mut lead_like = lead_like;
    lead_like.sign_out().unwrap();
    care_manager.call("log_contact", contact_by("CM", "2026-11-21", 10)).unwrap();
    assert!(rx.recv_timeout(Duration::from_secs(2)).is_err(), "no version reaches a signed-out listener");
}

#[test]
fn stopping_the_server_ends_open_event_streams_rather_than_waiting_out_the_grace() {
    let mut practice = Practice::serve(None);
    let events = practice.signed_in("CM").request_stream("/api/events").unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(events).lines().map_while(Result::ok) {
            if line.starts_with("data:") {
                let _ = tx.send("a version");
            }
        }
        let _ = tx.send("the end");
    });
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok("a version"), "the stream is open");

    // A browser left open holds its stream for good; a restart must not wait 30 seconds for it.
    let started = std::time::Instant::now();
    let server = practice.server.take().unwrap();
    practice.runtime.block_on(server.shutdown(Duration::from_secs(30)));
    assert!(started.elapsed() < Duration::from_secs(15), "stopped after {:?}", started.elapsed());
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok("the end"), "the stream ended");
}

#[test]
fn the_second_of_two_edits_from_the_same_view_is_a_conflict_naming_who_saved_first() {
    let practice = Practice::serve(None);
    let (first, second) = (practice.signed_in("CM"), practice.signed_in("CM2"));
    let chart = |c: &Client| c.call("patient_chart", json!({ "mrn": "P1", "asOfDate": null })).unwrap();
    let seen = chart(&first)["patient"]["version"].as_i64().unwrap();
    assert_eq!(chart(&second)["patient"]["version"].as_i64().unwrap(), seen);
    let rename = |c: &Client, name: &str| c.call("update_patient", json!({ "mrn": "P1", "changes": { "name": name, "version": seen } }));
    rename(&second, "Patient Renamed By CM2").unwrap();
    let e = rename(&first, "Patient Renamed By CM").unwrap_err();
    assert_eq!(e.code(), "conflict");
    assert!(e.to_string().starts_with("changed by CM2 at "), "{e}");
    assert_eq!(chart(&first)["patient"]["name"], "Patient Renamed By CM2", "the first save stands");
    // Saving from the new version goes through; so does a save that names no version (the CLI).
    let now = chart(&first)["patient"]["version"].as_i64().unwrap();
    assert!(now > seen);
    first.call("update_patient", json!({ "mrn": "P1", "changes": { "name": "Patient One", "version": now } })).unwrap();
    second.call("update_patient", json!({ "mrn": "P1", "changes": { "dob": "1970-05-06" } })).unwrap();

    // Settings and billing rules: the value the form showed goes along.
    let (lead_a, lead_b) = (practice.signed_in("LEAD"), practice.signed_in("LEAD"));
    let shown = lead_a.call("settings", json!({})).unwrap()["auto_lock_minutes"].to_string();
    lead_b.call("set_setting", json!({ "key": "auto_lock_minutes", "value": "20", "expected": shown })).unwrap();
    let e = lead_a.call("set_setting", json!({ "key": "auto_lock_minutes", "value": "30", "expected": shown })).unwrap_err();
    assert_eq!((e.code(), e.to_string().starts_with("changed by LEAD at ")), ("conflict", true), "{e}");
    assert_eq!(lead_a.call("settings", json!({})).unwrap()["auto_lock_minutes"], 20);
    let sets = lead_a.call("billing_rule_sets", json!({})).unwrap();
    let shown = sets[0]["rules"].clone();
    let year = sets[0]["effective_year"].as_i64().unwrap();
    let mut changed = shown.clone();
    changed["fees"]["99492"] = json!(150.0);
    lead_b.call("set_billing_rules", json!({ "year": year, "rules": changed, "expected": shown })).unwrap();
    let e = lead_a.call("set_billing_rules", json!({ "year": year, "rules": shown, "expected": shown })).unwrap_err();
    assert_eq!(e.code(), "conflict", "{e}");
    assert_eq!(lead_a.call("billing_rule_sets", json!({})).unwrap()[0]["rules"]["fees"]["99492"], 150.0);
}

#[test]
fn cocm_serve_prints_its_fingerprint_serves_and_stops_on_sigterm() {
    let t = TempRegistry::new();
    ok(&t.path, &["init", "--practice", "Test", "--lead", CLI_LEAD]);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cocm"))
        .args(["--db", t.path.to_str().unwrap(), "--as", CLI_LEAD, "serve", "--listen", "127.0.0.1:0"])
        .env("COCM_PASSWORD", PASSWORD)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok);
    let url = lines.next().unwrap().rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    assert!(lines.next().unwrap().starts_with("made a self-signed certificate"));
    let fingerprint = lines.next().unwrap().strip_prefix("SHA-256 fingerprint: ").unwrap().to_string();
    assert!(t.dir.path().join("registry.server-cert.pem").exists());
    let mut client = Client::new(&url, &fingerprint).unwrap();
    // A registry made by `cocm init` asks for a second factor through the server: the lead's
    // password signs in to enrolment only.
    client.sign_in(CLI_LEAD, PASSWORD).unwrap();
    assert_eq!(client.call("team", json!({})).unwrap_err().code(), "permission_denied");
    let secret = client.call("begin_second_factor", json!({})).unwrap()["secret"].as_str().unwrap().to_string();
    client.call("confirm_second_factor", json!({ "code": app_code(&secret, 0) })).unwrap();
    assert!(client.call("team", json!({})).unwrap().as_array().unwrap().iter().any(|m| m["name"] == CLI_LEAD));
    // `cocm --server` asks for the code: from $COCM_TOTP here (the next step's, as the first
    // was used); without one it cannot sign in.
    let remote = |code: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cocm"));
        command.args(["--server", &url, "--fingerprint", &fingerprint, "--as", CLI_LEAD, "team", "list"]);
        command.env("COCM_PASSWORD", PASSWORD).env("COCM_PINS", t.dir.path().join("pins.json")).env_remove("COCM_TOTP");
        if let Some(code) = code {
            command.env("COCM_TOTP", code);
        }
        command.stdin(std::process::Stdio::null()).output().unwrap()
    };
    let without = remote(None);
    assert!(!without.status.success() && String::from_utf8_lossy(&without.stderr).contains("COCM_TOTP"));
    let with = remote(Some(&app_code(&secret, 30)));
    assert!(with.status.success(), "{}", String::from_utf8_lossy(&with.stderr));
    assert!(String::from_utf8_lossy(&with.stdout).contains(CLI_LEAD));
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "a graceful stop exits 0");
    // Stopping signed the open session out (the CLI signed its own out when done).
    let signed_out: i64 = raw(&t.path).query_row("SELECT count(*) FROM audit_log WHERE action = 'sign-out'", [], |r| r.get(0)).unwrap();
    assert_eq!(signed_out, 2);
}

#[test]
fn a_registry_file_needs_a_practice_lead_or_the_recovery_key_to_serve() {
    let (t, mut lead) = setup();
    let care_manager = sign_in_as(&mut lead, "CM");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let options = ServerOptions {
        db: t.path.clone(),
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        ui: None,
        idle_limit: None,
        patient_listen: None,
    };
    let e = runtime.block_on(cocm::server::start(options, care_manager)).err().unwrap();
    assert_eq!(e.code(), "permission_denied");
    let _: Registry = lead;
}

#[test]
fn cocm_with_server_prints_what_it_prints_on_the_file_and_pins_the_certificate() {
    let practice = Practice::serve(None);
    let care_manager = practice.signed_in("CM");
    care_manager.call("log_contact", contact_by("CM", "2026-10-06", 40)).unwrap();
    let remote = |args: &[&str], fingerprint: Option<&str>| practice.cocm(args, fingerprint);
    let local = |args: &[&str]| practice.cocm_on_file(args);

    // First use: the fingerprint is shown and pinned; the billing CSV is the file's, byte for byte.
    let first = remote(&["billing", "--month", "2026-10", "--csv"], None);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stderr).contains(&practice.server().fingerprint));
    let on_file = local(&["billing", "--month", "2026-10", "--csv"]);
    assert_eq!(String::from_utf8_lossy(&first.stdout), on_file.stdout);
    assert!(on_file.stdout.contains("P1"));
    // Tables, JSON and CSV: the same bytes as on the file.
    let cases: [&[&str]; 10] = [
        &["team", "list"],
        &["settings", "list"],
        &["settings", "list", "--json"],
        &["queue", "--json"],
        &["queue"],
        &["caseload", "--json", "--as-of", "2026-11-30"],
        &["caseload", "--as-of", "2026-11-30"],
        &["caseload", "--csv", "--as-of", "2026-11-30", "--care-manager", "CM"],
        &["billing", "--month", "2026-10", "--json"],
        &["billing", "--month", "2026-10"],
    ];
    for args in cases {
        let over = remote(args, None);
        assert!(over.status.success(), "{args:?}: {}", String::from_utf8_lossy(&over.stderr));
        assert_eq!(String::from_utf8_lossy(&over.stdout), local(args).stdout, "{args:?}");
    }
    // A write prints the new record's id, and the same errors come back: a lead logs a contact,
    // a bad date is named.
    let id = remote(&["contact", "P1", "--date", "2026-11-02", "--minutes", "15", "--by", "LEAD"], None);
    assert!(id.status.success(), "{}", String::from_utf8_lossy(&id.stderr));
    assert_eq!(String::from_utf8_lossy(&id.stdout).trim().len(), 36);
    let bad = remote(&["contact", "P1", "--date", "2026-13-02", "--minutes", "15", "--by", "LEAD"], None);
    let (bad_local, bad_remote) =
        (local(&["contact", "P1", "--date", "2026-13-02", "--minutes", "15", "--by", "LEAD"]), String::from_utf8_lossy(&bad.stderr));
    assert!(!bad.status.success());
    assert_eq!(bad_remote.trim(), bad_local.stderr.trim());
    // Status changes and settings go through the core's rules there, as here.
    let discharge = remote(&["status", "P1", "--to", "discharged", "--date", "2026-11-20", "--reason", "moved"], None);
    assert!(discharge.status.success(), "{}", String::from_utf8_lossy(&discharge.stderr));
    assert!(!local(&["caseload", "--json", "--as-of", "2026-11-30"]).stdout.contains("\"P1\""));
    let set = remote(&["settings", "set", "auto_lock_minutes", "0"], None);
    assert!(!set.status.success() && String::from_utf8_lossy(&set.stderr).contains("auto_lock_minutes"));
    assert_eq!(String::from_utf8_lossy(&set.stderr).trim(), local(&["settings", "set", "auto_lock_minutes", "0"]).stderr.trim());
    // Another certificate than the pinned one is refused, and nothing is sent.
    let other = ["AB"; 32].join(":");
    let refused = remote(&["queue", "--json"], Some(&other));
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not the one pinned"));
    // A wrong --fingerprint pins nothing: the server's stays trusted.
    assert!(remote(&["queue", "--json"], None).status.success());
}

/// A browser (or a remote app or CLI) has no path on the server's disk: files go up by content
/// and the FHIR export comes down as one archive. The guards are the core's, as on a file.
#[test]
fn files_go_up_by_content_and_the_fhir_export_comes_down_as_an_archive() {
    use cocm::commands::{FhirDownload, FileContent};
    use std::io::Read;
    let practice = Practice::serve(None);
    let lead = practice.signed_in("LEAD");
    let care_manager = practice.signed_in("CM");
    let csv = FileContent::new("new-patients.csv", b"MRN,Name,DOB\nU001,Uma Upload,1970-01-01\nU002,Ulf Upload,1980-02-02\n");
    let mapping = json!({ "shape": "patients", "columns": { "mrn": "MRN", "name": "Name", "dob": "DOB" } });
    let patients = || practice.count("SELECT count(*) FROM patients");
    let before = patients();

    // The wizard's preview reads the uploaded file and stores nothing.
    let preview = lead.call("import_preview_upload", json!({ "file": csv, "shape": "patients", "mapping": mapping })).unwrap();
    assert_eq!((preview["file"].as_str(), preview["report"]["rows"].as_i64()), (Some("new-patients.csv"), Some(2)));
    assert_eq!(preview["report"]["added"]["patients"], 2);
    assert_eq!(patients(), before);
    // The desktop app connected to the server names a path on its own computer, as it does on a
    // file; its client reads the file and sends it, and gets the same preview.
    let on_disk = practice.t.dir.path().join("new-patients.csv");
    std::fs::write(&on_disk, csv.decode().unwrap().1).unwrap();
    let args = json!({ "path": on_disk.display().to_string(), "shape": "patients", "mapping": mapping });
    assert_eq!(lead.run("import_preview", args).unwrap(), preview);
    // A care manager may not import; content that is not base64 is named; neither stores anything.
    let refused = care_manager.call("import_upload", json!({ "file": csv, "mapping": mapping })).unwrap_err();
    assert_eq!(refused.code(), "permission_denied");
    let damaged = json!({ "file": { "name": "new-patients.csv", "content": "%%%" }, "mapping": mapping });
    let refused = lead.call("import_upload", damaged).unwrap_err();
    assert_eq!(refused.code(), "validation");
    assert!(refused.to_string().contains("new-patients.csv"), "{refused}");
    assert_eq!(patients(), before);
    // The import itself, audited with the workstation.
    let report = lead.call("import_upload", json!({ "file": csv, "mapping": mapping })).unwrap();
    assert_eq!((report["added"]["patients"].as_i64(), report["dry_run"].as_bool()), (Some(2), Some(false)));
    assert_eq!(patients(), before + 2);
    // Each stored record's audit row names its file row and the workstation.
    assert_eq!(
        practice.count(
            "SELECT count(*) FROM audit_log WHERE json_extract(details, '$.source') LIKE 'new-patients.csv row %'
             AND json_extract(details, '$.client') = '127.0.0.1' AND record_type = 'patient'"
        ),
        2
    );

    // The FHIR export: a lead's only; one zip of NDJSON files and a manifest naming them.
    assert_eq!(care_manager.call("export_fhir_download", json!({})).unwrap_err().code(), "permission_denied");
    let download: FhirDownload = serde_json::from_value(lead.call("export_fhir_download", json!({})).unwrap()).unwrap();
    assert!(download.archive.name.starts_with("fhir-export-") && download.archive.name.ends_with(".zip"));
    let (_, bytes) = download.archive.decode().unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut entry = |name: &str| {
        let mut text = String::new();
        zip.by_name(name).unwrap_or_else(|e| panic!("{name}: {e}")).read_to_string(&mut text).unwrap();
        text
    };
    let exported_patients = entry("Patient.ndjson").lines().count() as i64;
    assert_eq!(exported_patients, patients());
    let manifest: Value = serde_json::from_str(&entry("manifest.json")).unwrap();
    let listed: Vec<&str> = manifest["output"].as_array().unwrap().iter().map(|o| o["url"].as_str().unwrap()).collect();
    assert!(listed.contains(&"Patient.ndjson"), "{listed:?}");
    let patient_file = download.report.files.iter().find(|f| f.resource_type == "Patient").unwrap();
    assert_eq!(patient_file.count as i64, exported_patients);
    assert_eq!(practice.count("SELECT count(*) FROM audit_log WHERE action = 'export' AND record_type = 'fhir'"), 1);

    // The archive's files go back up as a FHIR import: everything is already there.
    let files: Vec<FileContent> = listed.iter().map(|name| FileContent::new(name, entry(name).as_bytes())).collect();
    let check = lead.call("import_fhir_upload", json!({ "files": files, "dryRun": true })).unwrap();
    assert_eq!(check["already_present"]["patients"].as_i64(), Some(exported_patients));
    assert_eq!(check["added"]["patients"], 0);
    assert_eq!(check["problems"].as_array().map(Vec::len), Some(0));

    // An ordinary command's arguments stay small: 3 MB is refused before it is read. (The
    // server may answer and close while the client still sends, which the client sees as a
    // closed connection; either way the command does not run.)
    let contacts = practice.count("SELECT count(*) FROM contacts");
    let big = json!({ "mrn": "P1", "contact": { "date": "2026-11-02", "minutes": 20, "by": "LEAD", "note": "x".repeat(3 << 20) } });
    match lead.request("POST", "/api/log_contact", Some(big), true) {
        Ok(answer) => assert_eq!((answer.status, answer.body["code"].as_str()), (400, Some("validation"))),
        Err(e) => assert!(e.to_string().contains("cannot reach"), "{e}"),
    }
    assert_eq!(practice.count("SELECT count(*) FROM contacts"), contacts);
}

/// `cocm --server` reads the files to import and writes the export where it runs, and prints
/// what the same command prints on the registry file.
#[test]
fn cocm_with_server_imports_and_exports_files_on_its_own_machine() {
    let practice = Practice::serve(None);
    let dir = practice.t.dir.path();
    std::fs::write(dir.join("new-patients.csv"), "MRN,Name,DOB\nU001,Uma Upload,1970-01-01\n").unwrap();
    let mapping = json!({ "shape": "patients", "columns": { "mrn": "MRN", "name": "Name", "dob": "DOB" } });
    std::fs::write(dir.join("map.json"), mapping.to_string()).unwrap();
    let path = |name: &str| dir.join(name).display().to_string();
    let same = |args: &[&str]| {
        let (over, here) = (practice.cocm(args, None), practice.cocm_on_file(args));
        assert!(over.status.success(), "{args:?}: {}", String::from_utf8_lossy(&over.stderr));
        assert_eq!(String::from_utf8_lossy(&over.stdout), here.stdout, "{args:?}");
    };

    // A dry run, a mapping saved by name on the server, then the import by that name.
    same(&["import", "csv", &path("new-patients.csv"), "--mapping", &path("map.json"), "--dry-run"]);
    let saved = practice.cocm(
        &["import", "csv", &path("new-patients.csv"), "--mapping", &path("map.json"), "--dry-run", "--save-mapping", "monthly"],
        None,
    );
    assert!(saved.status.success(), "{}", String::from_utf8_lossy(&saved.stderr));
    same(&["import", "mappings"]);
    let imported = practice.cocm(&["import", "csv", &path("new-patients.csv"), "--mapping", "monthly"], None);
    assert!(String::from_utf8_lossy(&imported.stdout).contains("added 1 patient"), "{}", String::from_utf8_lossy(&imported.stderr));
    assert_eq!(practice.count("SELECT count(*) FROM patients WHERE mrn = 'U001'"), 1);

    // The FHIR export unpacked here has the same files, resource for resource, as one on the file.
    let (over, here) = (path("over"), path("here"));
    let exported = practice.cocm(&["export", "fhir", "--out", &over, "--json"], None);
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    assert!(practice.cocm_on_file(&["export", "fhir", "--out", &here]).ok);
    let files = |dir: &str| {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    };
    assert_eq!(files(&over), files(&here));
    for name in files(&here).iter().filter(|n| n.ends_with(".ndjson")) {
        let read = |dir: &str| std::fs::read_to_string(std::path::Path::new(dir).join(name)).unwrap();
        assert_eq!(read(&over), read(&here), "{name}");
    }
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(std::path::Path::new(&over).join("manifest.json")).unwrap()).unwrap();
    let first_url = manifest["output"][0]["url"].as_str().unwrap();
    assert!(first_url.starts_with("file://") && first_url.contains("/over/"), "{first_url}");
    // A used folder is refused here before anything is asked of the server.
    let refused = practice.cocm(&["export", "fhir", "--out", &over], None);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not empty"));
    // And the export read back by the server finds everything already there, as on the file.
    same(&["import", "fhir", &over, "--dry-run"]);
}

/// Every other command a person runs on a registry file runs over `--server` too, with the
/// same output and the same refusals; the file-level ones say where to run them instead.
#[test]
fn cocm_with_server_runs_every_other_command_as_on_the_file() {
    let practice = Practice::serve(None);
    let ok = |args: &[&str]| {
        let out = practice.cocm(args, None);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let same = |args: &[&str]| {
        let here = practice.cocm_on_file(args);
        assert!(here.ok, "{args:?} on the file: {}", here.stderr);
        assert_eq!(ok(args), here.stdout.trim(), "{args:?}");
    };

    // Writes: a new patient, enrolled, edited, scored (with the PHQ-9's difficulty question),
    // treated; one entry marked in error.
    assert_eq!(ok(&["patient", "add", "--mrn", "S1", "--name", "Sol Server", "--dob", "1975-03-04", "--care-manager", "CM"]).len(), 36);
    ok(&["enroll", "S1", "--date", "2026-09-01", "--consent", "2026-09-01", "--targets", "depression"]);
    ok(&["patient", "edit", "S1", "--payer", "medicaid"]);
    let items = "2,2,2,2,2,1,1,1,0";
    ok(&["assess", "S1", "--date", "2026-09-01", "--instrument", "phq9", "--items", items, "--difficulty", "very-difficult"]);
    ok(&["assess", "S1", "--date", "2026-10-20", "--instrument", "phq9", "--items", "1,1,1,1,1,0,0,0,0"]);
    ok(&["treatment", "S1", "--date", "2026-09-15", "--kind", "medication-started", "--description", "Sertraline 50 mg"]);
    let wrong = ok(&["contact", "S1", "--date", "2026-10-02", "--minutes", "30", "--by", "LEAD"]);
    ok(&["void", "contact", &wrong, "--reason", "wrong patient"]);
    // Reads print the same bytes as on the file.
    let cases: [&[&str]; 12] = [
        &["patient", "show", "S1"],
        &["patient", "show", "S1", "--json", "--as-of", "2026-11-01"],
        &["report", "--from", "2026-09", "--to", "2026-10", "--as-of", "2026-11-01"],
        &["report", "--from", "2026-09", "--to", "2026-10", "--as-of", "2026-11-01", "--json"],
        &["report", "--monthly", "--from", "2026-08", "--to", "2026-10", "--as-of", "2026-11-01"],
        &["report", "--by-care-manager", "--from", "2026-10", "--as-of", "2026-11-01", "--json"],
        &["report", "--from", "2026-10", "--list", "caseload", "--as-of", "2026-11-01"],
        &["report", "--from", "2026-10", "--csv", "--as-of", "2026-11-01"],
        &["rules", "list"],
        &["audit", "--patient", "S1", "--json"],
        &["team", "accounts"],
        &["team", "accounts", "--json"],
    ];
    for args in cases {
        same(args);
    }
    let chart: Value = serde_json::from_str(&ok(&["patient", "show", "S1", "--json"])).unwrap();
    assert_eq!(chart["patient"]["payer"], "medicaid");
    assert_eq!(chart["assessments"][0]["difficulty"], "very-difficult", "{}", chart["assessments"]);
    assert_eq!(practice.count("SELECT count(*) FROM contacts WHERE voided_at IS NOT NULL"), 1);

    // Rules and the team: a rule set from a file here, a new member, their first password.
    let rules_file = practice.t.dir.path().join("rules-2031.json");
    let rules: Value = serde_json::from_str(&ok(&["rules", "list", "--json"])).unwrap();
    std::fs::write(&rules_file, rules[0]["rules"].to_string()).unwrap();
    ok(&["rules", "set", "--year", "2031", "--file", &rules_file.display().to_string()]);
    assert!(ok(&["rules", "list"]).contains("2031"));
    assert_eq!(ok(&["rules", "preset", "nc-medicaid"]), "cocm/medicaid/2026");
    assert!(ok(&["rules", "list"]).contains("99494 76+ each 30 (at most 4)"));
    let member = ok(&["team", "add", "--name", "Nia New", "--role", "care-manager"]);
    assert_eq!(member.len(), 36);
    let mut set = std::process::Command::new(env!("CARGO_BIN_EXE_cocm"));
    set.args(["--server", &practice.url(), "--as", "LEAD", "team", "password", "Nia New"])
        .env("COCM_PASSWORD", PASSWORD)
        .env("COCM_NEW_PASSWORD", "nia-first-password")
        .env("COCM_PINS", practice.t.dir.path().join("pins.json"));
    let out = set.output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "password set for Nia New; they choose their own at first sign-in");
    assert!(practice.cocm_on_file(&["team", "accounts"]).stdout.contains("Nia New"));
    // A member who is not on the team is the same error as on the file.
    let (over, here) = (practice.cocm(&["team", "password", "Nobody"], None), practice.cocm_on_file(&["team", "password", "Nobody"]));
    assert!(!over.status.success() && !here.ok);
    assert_eq!(String::from_utf8_lossy(&over.stderr).trim(), here.stderr.trim());

    // The audit log is a practice lead's, over the server as on the file.
    let mut as_cm = std::process::Command::new(env!("CARGO_BIN_EXE_cocm"));
    as_cm
        .args(["--server", &practice.url(), "--as", "CM", "audit"])
        .env("COCM_PASSWORD", PASSWORD)
        .env("COCM_PINS", practice.t.dir.path().join("pins.json"));
    let refused = as_cm.output().unwrap();
    assert!(!refused.status.success());
    let on_file = cocm_with(&practice.t.path, &["audit"], &[("COCM_AS", "CM"), ("COCM_PASSWORD", PASSWORD)]);
    assert_eq!(String::from_utf8_lossy(&refused.stderr).trim(), on_file.stderr.trim());
    assert!(on_file.stderr.contains("reading the audit log"), "{}", on_file.stderr);

    // The commands that work on the file itself say where to run them; nothing is sent.
    let backup = practice.cocm(&["backup", "--to", "/tmp/nowhere.cocm"], None);
    assert!(!backup.status.success());
    assert!(String::from_utf8_lossy(&backup.stderr).contains("backups are made on the server's machine"));
}

/// JSON a careless or hostile client might send: any shape, the field names the commands
/// use with values of every type, and strings that look like the registry's own.
fn arbitrary_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let field = prop_oneof![
        Just("mrn"),
        Just("member"),
        Just("date"),
        Just("key"),
        Just("value"),
        Just("code"),
        Just("instrument"),
        Just("items"),
        Just("minutes"),
        Just("month"),
        Just("kind"),
        Just("id"),
        Just("reason"),
        Just("asOfDate"),
        Just("patient"),
        Just("targets"),
        Just("name"),
        Just("role"),
        Just("expected"),
        Just("year"),
        Just("rules"),
    ]
    .prop_map(String::from);
    let text = prop_oneof![
        Just(String::new()),
        Just("P1".into()),
        Just("CM".into()),
        Just("2025-11-31".into()),
        Just("phq9".into()),
        Just("1,2,3".into()),
        Just("-1".into()),
        Just("🙂\u{0}".into()),
        "[ -~]{0,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text.prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(field.clone(), inner, 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn every_command_refuses_malformed_input_without_a_5xx_and_writes_nothing() {
    use proptest::strategy::{Strategy, ValueTree};
    let practice = Practice::serve(None);
    let lead = practice.signed_in("LEAD");
    // Reads that are audited (an export, a chart viewed) and refusals add audit rows; those are
    // left out of the comparison, and nothing else may change.
    let reads = ["sign-in", "sign-out", "permission-denied", "export", "view"];
    let before = dump_skipping(&practice.t.path, &reads);
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = arbitrary_json();
    // Bodies that are not JSON at all, or not an object, for every command; then random JSON.
    let broken: [&[u8]; 6] = [b"{", b"\xff\xfe", b"[]", b"null", b"\"text\"", b"{\"mrn\": {\"$gt\": \"\"}}"];
    let mut sent = 0;
    for command in cocm::commands::COMMANDS {
        let path = format!("/api/{}", command.name);
        let mut bodies: Vec<Vec<u8>> = broken.iter().map(|b| b.to_vec()).collect();
        for _ in 0..8 {
            bodies.push(strategy.new_tree(&mut runner).unwrap().current().to_string().into_bytes());
        }
        for body in bodies {
            let answer = lead.request_raw("POST", &path, &body).unwrap();
            assert!(
                answer.status < 500,
                "{} answered {} to {:?}: {}",
                command.name,
                answer.status,
                String::from_utf8_lossy(&body),
                answer.body
            );
            // A read that takes no arguments may answer; a refusal is {code, message}.
            if answer.status >= 400 {
                assert!(answer.body.get("code").is_some() && answer.body.get("message").is_some(), "{}: {}", command.name, answer.body);
            }
            sent += 1;
        }
    }
    eprintln!("{sent} malformed requests, none answered 5xx");
    // Nothing was written, and the server is healthy.
    let after = dump_skipping(&practice.t.path, &reads);
    let new: Vec<&str> = after.lines().filter(|l| !before.lines().any(|b| b == *l)).collect();
    assert!(new.is_empty(), "written by malformed requests: {new:?}");
    let health = lead.request("GET", "/api/health", None, false).unwrap();
    assert_eq!((health.status, health.body["status"].as_str()), (200, Some("ok")));
    assert!(lead.call("caseload", json!({})).is_ok(), "the session still works");
    // A client tells of its prints and PDFs, never of made-up exports: the one command that
    // wrote audit rows from any words (found by this test) takes only the registry's kinds.
    assert_eq!(lead.call("record_export", json!({ "what": "anything at all", "details": {} })).unwrap_err().code(), "validation");
    assert_eq!(lead.call("record_export", json!({ "what": "program-report-print", "details": [1] })).unwrap_err().code(), "validation");
    assert!(lead.call("record_export", json!({ "what": "program-report-print", "details": {} })).is_ok());
}
