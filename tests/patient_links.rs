//! Questionnaire links (spec §10), over real HTTPS on loopback: a care manager sends one, the
//! patient answers it once, and every way past it (reuse, expiry, cancellation, wrong dates of
//! birth, staff routes on the patient listener, too many requests) is tried and refused.

mod common;

use std::time::Duration;

use cocm::Registry;
use cocm::client::Client;
use cocm::server::{RunningServer, ServerOptions};
use common::*;
use serde_json::{Value, json};

struct Practice {
    t: TempRegistry,
    runtime: tokio::runtime::Runtime,
    server: Option<RunningServer>,
}

impl Practice {
    /// The `setup()` practice (P1 born 1970-05-05, enrolled for depression), with a portal
    /// address and a phone, served with the patient pages on an address of their own.
    fn serve() -> Practice {
        let (t, mut lead) = setup();
        lead.set_setting("patient_portal_url", "https://checkin.example.org/").unwrap();
        lead.set_setting("practice_phone", "(555) 010-4477").unwrap();
        for member in ["CM", "PSY"] {
            drop(sign_in_as(&mut lead, member));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let options = ServerOptions {
            db: t.path.clone(),
            listen: "127.0.0.1:0".parse().unwrap(),
            tls: None,
            ui: None,
            idle_limit: None,
            patient_listen: Some("127.0.0.1:0".parse().unwrap()),
        };
        let server = runtime.block_on(cocm::server::start(options, lead)).expect("the server starts");
        Practice { t, runtime, server: Some(server) }
    }

    fn server(&self) -> &RunningServer {
        self.server.as_ref().unwrap()
    }

    fn staff(&self, member: &str) -> Client {
        let mut client = Client::new(&format!("https://{}", self.server().addr), &self.server().fingerprint).unwrap();
        client.sign_in(member, PASSWORD).unwrap();
        client
    }

    /// A browser on the patient listener: no session, no CSRF token.
    fn patient(&self) -> Client {
        Client::new(&format!("https://{}", self.server().patient_addr.unwrap()), &self.server().fingerprint).unwrap()
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

/// Sends P1 a questionnaire as the care manager; returns (request id, token).
fn send(cm: &Client, args: Value) -> (String, String) {
    let sent = cm.call("send_questionnaire", json!({ "mrn": "P1", "questionnaire": args })).unwrap();
    let link = sent["link"].as_str().unwrap();
    let token = link.strip_prefix("https://checkin.example.org/r/").unwrap_or_else(|| panic!("{link}"));
    (sent["request"]["id"].as_str().unwrap().to_string(), token.to_string())
}

fn answer(patient: &Client, token: &str, body: Value) -> cocm::client::Answer {
    patient.request("POST", &format!("/api/patient/{token}"), Some(body), false).unwrap()
}

const UNUSABLE: &str = "this link cannot be used: please contact your practice";

#[test]
fn a_patient_answers_once_in_spanish_and_a_positive_item_9_reaches_the_care_team_at_once() {
    let practice = Practice::serve();
    let cm = practice.staff("CM");
    let psy = practice.staff("PSY");
    let patient = practice.patient();
    // The default for a depression episode is its primary scale, the PHQ-9, which has item 9.
    let (id, token) = send(&cm, json!({ "language": "es" }));
    assert_eq!(token.len(), 43, "256 random bits in URL-safe base64");

    // The questions name the practice and the language, and nothing of the patient.
    let questions = patient.request("GET", &format!("/api/patient/{token}"), None, false).unwrap();
    assert_eq!(questions.status, 200);
    let text = questions.body.to_string();
    assert_eq!(questions.body["practice"], "Test");
    assert_eq!(questions.body["language"], "es");
    let items = questions.body["instruments"][0]["items"].as_array().unwrap();
    assert_eq!(items.len(), 9);
    assert_eq!(questions.body["instruments"][0]["id"], "phq9");
    assert!(items[0]["text"].as_str().unwrap().starts_with("Poco interés"), "{}", items[0]["text"]);
    for secret in ["P1", "Patient P1", "1970", "CM"] {
        assert!(!text.contains(secret), "the questions leak {secret}: {text}");
    }

    // The date of birth first; a wrong one is refused, and says only that it does not match.
    let wrong = patient.request("POST", &format!("/api/patient/{token}/verify"), Some(json!({ "dob": "1970-05-06" })), false).unwrap();
    assert_eq!((wrong.status, wrong.body["code"].as_str()), (400, Some("validation")));
    let right = patient.request("POST", &format!("/api/patient/{token}/verify"), Some(json!({ "dob": "1970-05-05" })), false).unwrap();
    assert_eq!(right.status, 200, "{:?}", right.body);

    // The care manager's caseload is listening, as the app's screen does.
    let events = cm.request_stream("/api/events").unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(events).lines().map_while(Result::ok) {
            if let Some(v) = line.strip_prefix("data:") {
                let _ = tx.send(v.trim().to_string());
            }
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(5)).unwrap();

    // An incomplete form changes nothing.
    let short = answer(&patient, &token, json!({ "dob": "1970-05-05", "answers": { "phq9": [1, 1, 1] } }));
    assert_eq!(short.status, 400, "{:?}", short.body);
    assert_eq!(practice.count("SELECT count(*) FROM assessments WHERE source <> 'staff'"), 0);

    // Item 9 answered 1 ("several days"): total 1+2+1+1+0+1+0+0+1 = 7, and the crisis text.
    let reply = answer(&patient, &token, json!({ "dob": "1970-05-05", "answers": { "phq9": [1, 2, 1, 1, 0, 1, 0, 0, 1] } }));
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["crisis"], true);
    let message = reply.body["message"].as_str().unwrap();
    assert!(message.contains("988") && message.contains("911") && message.contains("(555) 010-4477"), "{message}");
    assert!(message.starts_with("Si está pensando en hacerse daño"), "{message}");

    // Every open screen hears of it within 5 seconds, and the caseload puts P1 first with the
    // safety flag and one new answer.
    let next = rx.recv_timeout(Duration::from_secs(5)).expect("a live update");
    assert_ne!(first, next);
    let caseload = psy.call("caseload", json!({})).unwrap();
    let top = &caseload["rows"][0];
    assert_eq!(top["mrn"], "P1");
    assert!(top["flags"].as_array().unwrap().contains(&json!("safety")), "{top}");
    assert_eq!(top["new_answers"], 1);
    assert_eq!(caseload["counts"]["new_answers"], 1);
    // And an alert that stays until someone acknowledges it: for P1's care manager, and the consultant.
    for member in [&cm, &psy] {
        let alerts = member.call("safety_alerts", json!({})).unwrap();
        assert_eq!(alerts.as_array().unwrap().len(), 1, "{alerts}");
        assert_eq!((alerts[0]["mrn"].as_str(), alerts[0]["instrument"].as_str()), (Some("P1"), Some("phq9")));
        assert_eq!(alerts[0]["source"], "patient");
    }

    // An ordinary assessment, scored by the core, from the patient, audited with the request and address.
    let (total, source, request): (i64, String, String) = raw(&practice.t.path)
        .query_row("SELECT total, source, request_id FROM assessments WHERE source <> 'staff'", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!((total, source.as_str(), request.as_str()), (7, "patient", id.as_str()));
    let details: String = raw(&practice.t.path)
        .query_row(
            "SELECT details FROM audit_log WHERE record_type = 'assessment' AND action = 'create' ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let details: Value = serde_json::from_str(&details).unwrap();
    assert_eq!((details["request"].as_str(), details["answered_by"].as_str()), (Some(id.as_str()), Some("patient")));
    assert_eq!(details["client"], "127.0.0.1");

    // Answered once: the link now gets the one refusal, on every route.
    let again = answer(&patient, &token, json!({ "dob": "1970-05-05", "answers": { "phq9": [0, 0, 0, 0, 0, 0, 0, 0, 0] } }));
    assert_eq!((again.status, again.body["message"].as_str()), (404, Some(UNUSABLE)));
    let get = patient.request("GET", &format!("/api/patient/{token}"), None, false).unwrap();
    assert_eq!((get.status, get.body["message"].as_str()), (404, Some(UNUSABLE)));

    // The token itself is stored nowhere: only its hash.
    for sql in [
        "SELECT count(*) FROM questionnaire_requests WHERE instr(token_hash || id || instruments, ?1)",
        "SELECT count(*) FROM audit_log WHERE instr(details, ?1)",
    ] {
        let n: i64 = raw(&practice.t.path).query_row(sql, [&token], |r| r.get(0)).unwrap();
        assert_eq!(n, 0, "{sql}");
    }

    // Reviewed (acknowledged) by a team member: no longer new, and the alert is gone for everyone.
    assert_eq!(psy.call("safety_alerts", json!({})).unwrap().as_array().unwrap().len(), 1, "an answer is no acknowledgement");
    assert_eq!(cm.call("mark_answers_reviewed", json!({ "mrn": "P1" })).unwrap(), 1);
    assert_eq!(psy.call("safety_alerts", json!({})).unwrap(), json!([]));
    assert_eq!(psy.call("caseload", json!({})).unwrap()["rows"][0]["new_answers"], 0);
    let requests = cm.call("questionnaires", json!({ "mrn": "P1" })).unwrap();
    assert_eq!(requests[0]["state"], "answered");
}

#[test]
fn expired_cancelled_and_locked_links_look_alike_and_the_patient_listener_serves_nothing_else() {
    let practice = Practice::serve();
    let cm = practice.staff("CM");
    let patient = practice.patient();
    let same_refusal = |token: &str| {
        let a = patient.request("GET", &format!("/api/patient/{token}"), None, false).unwrap();
        assert_eq!((a.status, a.body["message"].as_str()), (404, Some(UNUSABLE)), "{token}");
    };
    same_refusal("not-a-token-at-all");

    // Expired: its instant has passed (moved back in the file, as a week would).
    let (expired, token) = send(&cm, json!({}));
    let file = raw(&practice.t.path);
    file.execute_batch("PRAGMA query_only = OFF").unwrap();
    file.execute("UPDATE questionnaire_requests SET expires_at = '2026-01-01T00:00:00.000Z' WHERE id = ?1", [&expired]).unwrap();
    same_refusal(&token);

    // Cancelled: at once; and cancelling again is a conflict.
    let (cancelled, token) = send(&cm, json!({}));
    assert_eq!(cm.call("cancel_questionnaire", json!({ "id": cancelled })).unwrap()["state"], "cancelled");
    same_refusal(&token);
    assert_eq!(cm.call("cancel_questionnaire", json!({ "id": cancelled })).unwrap_err().code(), "conflict");

    // Five wrong dates of birth lock it; then even the right one gets the one refusal.
    let (locked, token) = send(&cm, json!({}));
    for attempt in 1..=5 {
        let a = patient.request("POST", &format!("/api/patient/{token}/verify"), Some(json!({ "dob": "1971-01-01" })), false).unwrap();
        let expected = if attempt < 5 { 400 } else { 404 };
        assert_eq!(a.status, expected, "attempt {attempt}: {:?}", a.body);
    }
    let a = answer(&patient, &token, json!({ "dob": "1970-05-05", "answers": { "phq9": [0, 0, 0, 0, 0, 0, 0, 0, 0] } }));
    assert_eq!((a.status, a.body["message"].as_str()), (404, Some(UNUSABLE)));
    assert_eq!(practice.count(&format!("SELECT count(*) FROM audit_log WHERE action = 'lock' AND record_id = '{locked}'")), 1);
    assert_eq!(practice.count("SELECT count(*) FROM assessments WHERE source <> 'staff'"), 0);
    let states: Vec<String> = cm
        .call("questionnaires", json!({ "mrn": "P1" }))
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["state"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(states, ["locked", "cancelled", "expired"], "newest first");

    // The patient listener has no staff route, and the staff listener no patient page.
    for (method, path) in [("GET", "/api/session"), ("POST", "/api/caseload"), ("GET", "/api/health"), ("GET", "/api/events"), ("GET", "/")]
    {
        let a = patient.request(method, path, Some(json!({})).filter(|_| method == "POST"), false).unwrap();
        assert_eq!(a.status, 404, "{method} {path} on the patient listener");
    }
    let page = patient.request("GET", &format!("/r/{token}"), None, false).unwrap();
    assert_eq!(page.status, 200);
    assert!(page.headers["content-security-policy"].contains("script-src 'self'"), "{:?}", page.headers);
    let staff_side = cm.request("GET", &format!("/api/patient/{token}"), None, false).unwrap();
    assert_ne!(staff_side.status, 200, "no patient API on the staff listener when the patient pages have their own");

    // A kiosk-like link cannot be sent for a form whose text is not shipped, nor in a language
    // the catalogue lacks; a care manager's request names the field.
    let e = cm.call("send_questionnaire", json!({ "mrn": "P1", "questionnaire": { "instruments": ["scared-c"] } })).unwrap_err();
    assert!(e.to_string().starts_with("instruments: the SCARED"), "{e}");
    let e =
        cm.call("send_questionnaire", json!({ "mrn": "P1", "questionnaire": { "instruments": ["gad7"], "language": "es" } })).unwrap_err();
    assert!(e.to_string().starts_with("language:"), "{e}");
    // A consultant may not send links.
    let psy = practice.staff("PSY");
    assert_eq!(psy.call("send_questionnaire", json!({ "mrn": "P1", "questionnaire": {} })).unwrap_err().code(), "permission_denied");

    // Too many requests from one address: past the minute's limit (which the requests above
    // partly used), 429 with Retry-After.
    let mut last = None;
    for _ in 0..=cocm::server::PATIENT_REQUESTS_PER_MINUTE {
        last = Some(patient.request("GET", "/api/patient/x", None, false).unwrap());
    }
    let last = last.unwrap();
    assert_eq!(last.status, 429);
    assert!(last.headers.contains_key("retry-after"));
}

#[test]
fn a_link_needs_the_portal_address_and_an_open_episode_and_the_cli_prints_it() {
    let (t, mut lead) = setup();
    let e = lead.send_questionnaire("P1", &Default::default()).unwrap_err();
    assert!(e.to_string().starts_with("patient_portal_url:"), "{e}");
    lead.set_setting("patient_portal_url", "https://checkin.example.org").unwrap();
    assert!(lead.set_setting("patient_portal_url", "http://checkin.example.org").is_err(), "https only");
    add_patient(&mut lead, "P2");
    let e = lead.send_questionnaire("P2", &Default::default()).unwrap_err();
    assert!(e.to_string().starts_with("mrn: P2 has no open episode"), "{e}");
    drop(lead);

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cocm"))
        .args(["--db", t.path.to_str().unwrap(), "--as", "LEAD", "questionnaire", "send", "P1", "--instruments", "phq9,gad7"])
        .env("COCM_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("https://checkin.example.org/r/"), "{stdout}");
    assert!(stdout.contains("(PHQ-9, GAD-7)"), "{stdout}");
    let lead = Registry::sign_in(&t.path, "LEAD", PASSWORD, None).unwrap();
    let list = lead.questionnaires(None).unwrap();
    assert_eq!((list.len(), list[0].state.as_str()), (1, "open"));
}

#[test]
fn a_check_in_falls_due_with_the_episodes_cadence() {
    let (_t, mut lead) = setup();
    lead.set_setting("patient_portal_url", "https://checkin.example.org").unwrap();
    let due = |r: &Registry, day: &str| -> Vec<String> {
        r.questionnaires_due(cocm::dates::parse_date("d", day).unwrap()).unwrap().into_iter().map(|d| d.mrn).collect()
    };
    // P1 started 2025-11-03 with no score: due 14 days on, 2025-11-17 (3 + 14 = 17), not the 16th.
    assert!(due(&lead, "2025-11-16").is_empty());
    assert_eq!(due(&lead, "2025-11-17"), ["P1"]);
    // A score on 2025-12-01: next due 2025-12-15 (1 + 14), not the 14th.
    phq(&mut lead, "P1", "2025-12-01", [1, 1, 1, 1, 1, 1, 1, 1, 0]);
    assert!(due(&lead, "2025-12-14").is_empty());
    assert_eq!(due(&lead, "2025-12-15"), ["P1"]);
    // In relapse prevention from 2025-12-02 the cadence is 30 days: 2025-12-01 + 30 = 2025-12-31.
    lead.change_status("P1", cocm::vocab::EpisodeStatus::RelapsePrevention, "2025-12-02", None).unwrap();
    assert!(due(&lead, "2025-12-30").is_empty());
    assert_eq!(due(&lead, "2025-12-31"), ["P1"]);
    // An open request takes the patient off the list until it is settled.
    let sent = lead.send_questionnaire("P1", &Default::default()).unwrap();
    assert!(due(&lead, "2025-12-31").is_empty());
    lead.cancel_questionnaire(&sent.request.id).unwrap();
    assert_eq!(due(&lead, "2025-12-31"), ["P1"]);
}

#[test]
fn a_tablet_handed_over_as_a_kiosk_answers_its_one_request_then_locks_and_never_reads_the_registry() {
    let practice = Practice::serve();
    let cm = practice.staff("CM");
    let (id, _) = send(&cm, json!({}));
    const LOCKED: &str = "this tablet is locked: a team member signs in to start the next check-in";

    // A consultant may not hand a tablet over (sending is a care manager's), and keeps their session.
    let mut psy = practice.staff("PSY");
    let refused = psy.start_kiosk(&id).unwrap_err();
    assert_eq!(refused.code(), "permission_denied", "{refused}");
    psy.call("caseload", json!({})).expect("still signed in");

    // The care manager signs the tablet in, and hands it over for P1's request.
    let mut tablet = practice.staff("CM");
    assert_eq!(tablet.start_kiosk(&id).unwrap()["location"], "/kiosk");

    // Now it is a kiosk: every staff route refuses it, reads as much as writes, and it hears
    // no live events; it is no one signed in.
    for command in ["caseload", "queue", "patient", "questionnaires", "settings", "team"] {
        let a = tablet.request("POST", &format!("/api/{command}"), Some(json!({ "mrn": "P1" })), false).unwrap();
        assert_eq!(a.status, 403, "{command}: {:?}", a.body);
        assert!(a.body["message"].as_str().unwrap().contains("check-in kiosk"), "{command}: {:?}", a.body);
        assert!(!a.body.to_string().contains("P1 "), "{command}");
    }
    let events = tablet.request("GET", "/api/events", None, false).unwrap();
    assert_eq!(events.status, 403);
    assert_eq!(tablet.start_state().unwrap()["registry"], Value::Null);
    // Nor may a kiosk hand itself over to another request.
    let (other, _) = send(&cm, json!({ "instruments": ["gad7"] }));
    assert_eq!(tablet.start_kiosk(&other).unwrap_err().code(), "permission_denied");

    // The questions name nothing of the patient; the date of birth comes first, as on a link.
    let questions = tablet.request("GET", "/api/kiosk", None, false).unwrap();
    assert_eq!((questions.status, questions.body["instruments"][0]["id"].as_str()), (200, Some("phq9")));
    for secret in ["P1", "1970", "Care"] {
        assert!(!questions.body.to_string().contains(secret), "{secret}");
    }
    let wrong = tablet.request("POST", "/api/kiosk/verify", Some(json!({ "dob": "1971-05-05" })), false).unwrap();
    assert_eq!(wrong.status, 400);
    let right = tablet.request("POST", "/api/kiosk/verify", Some(json!({ "dob": "1970-05-05" })), false).unwrap();
    assert_eq!(right.status, 200, "{:?}", right.body);
    // All zeros: total 0, no crisis.
    let body = json!({ "dob": "1970-05-05", "answers": { "phq9": [0, 0, 0, 0, 0, 0, 0, 0, 0] } });
    let reply = tablet.request("POST", "/api/kiosk", Some(body.clone()), false).unwrap();
    assert_eq!((reply.status, reply.body["crisis"].as_bool()), (200, Some(false)), "{:?}", reply.body);

    // Afterwards the tablet is locked: it holds no request, and says nothing of the last one.
    for (method, path, body) in [("GET", "/api/kiosk", None), ("POST", "/api/kiosk", Some(body.clone()))] {
        let a = tablet.request(method, path, body, false).unwrap();
        assert_eq!((a.status, a.body["message"].as_str()), (404, Some(LOCKED)), "{method} {path}");
    }
    // Without any session, the same locked tablet.
    let stranger = Client::new(&format!("https://{}", practice.server().addr), &practice.server().fingerprint).unwrap();
    let a = stranger.request("GET", "/api/kiosk", None, false).unwrap();
    assert_eq!((a.status, a.body["message"].as_str()), (404, Some(LOCKED)));

    // One assessment, from the patient, for that request; audited as handed over by the care
    // manager and answered by the kiosk, and the care manager's tablet session ended.
    let (source, request): (String, String) = raw(&practice.t.path)
        .query_row("SELECT source, request_id FROM assessments WHERE source <> 'staff'", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((source.as_str(), request.as_str()), ("patient", id.as_str()));
    let actions: Vec<(String, String)> = raw(&practice.t.path)
        .prepare("SELECT actor, action FROM audit_log WHERE record_id = ?1 ORDER BY seq")
        .unwrap()
        .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let kiosk = "kiosk (handed over by CM)";
    assert!(actions.contains(&("CM".into(), "hand-to-kiosk".into())), "{actions:?}");
    assert!(actions.contains(&(kiosk.into(), "wrong-dob".into())), "{actions:?}");
    assert!(actions.contains(&(kiosk.into(), "answer".into())), "{actions:?}");
    assert_eq!(cm.call("questionnaires", json!({ "mrn": "P1" })).unwrap()[1]["state"], "answered");

    // A member signs the tablet in again: the kiosk session ends with it.
    tablet.sign_in("CM", PASSWORD).unwrap();
    tablet.call("caseload", json!({})).expect("a member's session again");
    let kiosk_ends: i64 = raw(&practice.t.path)
        .query_row("SELECT count(*) FROM audit_log WHERE actor = ?1 AND action = 'sign-out'", [kiosk], |r| r.get(0))
        .unwrap();
    assert_eq!(kiosk_ends, 1);

    // The kiosk routes live only inside: the patient listener has none of them.
    let outside = practice.patient().request("GET", "/api/kiosk", None, false).unwrap();
    assert_eq!(outside.status, 404);
    assert_ne!(outside.body["message"].as_str(), Some(LOCKED));
}
