//! Simulated patients answering check-in links on their phones (the patient pages, spec §10)
//! while the team works: each opens the page, confirms the date of birth, answers one question
//! every half second to second and a half, and submits; then the next link it holds.
//!
//! Every patient comes from a loopback address of its own (127.0.2.N), as phones would, so the
//! per-address rate limit of the patient routes applies to each as it would in the field. Each
//! request is one TLS connection (a phone that kept none open): the pessimistic case.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cocm::client::Client;
use serde_json::{Value, json};

use crate::{Dice, Errors, Timings};

/// One check-in link, and the date of birth its patient will confirm.
pub struct Link {
    token: String,
    dob: String,
}

/// Where the patients connect, and the one certificate they accept.
pub struct Server {
    address: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    runtime: tokio::runtime::Runtime,
}

impl Server {
    pub fn new(url: &str, fingerprint: &str) -> Server {
        let address = url.trim_start_matches("https://").trim_end_matches('/').parse().expect("the server's address is host:port");
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_io().build().expect("a runtime");
        Server { address, tls: cocm::client::pinned_tls_config(fingerprint), runtime }
    }

    /// One request on its own connection from `source`: the status and the JSON body (null
    /// when the body is not JSON).
    fn exchange(&self, source: Ipv4Addr, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Value), String> {
        let tcp = self
            .runtime
            .block_on(async {
                let socket = tokio::net::TcpSocket::new_v4()?;
                socket.bind(SocketAddr::from((source, 0)))?;
                socket.connect(self.address).await?.into_std()
            })
            .map_err(|e| format!("connect: {}", e.kind()))?;
        tcp.set_nonblocking(false).map_err(|e| e.to_string())?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        let connection = rustls::ClientConnection::new(self.tls.clone(), "localhost".try_into().unwrap()).map_err(|e| e.to_string())?;
        let mut stream = rustls::StreamOwned::new(connection, tcp);
        let body = body.map(Value::to_string).unwrap_or_default();
        let content_type = if body.is_empty() { "" } else { "content-type: application/json\r\n" };
        let request = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\n{content_type}content-length: {}\r\nconnection: close\r\n\r\n{body}",
            self.address,
            body.len()
        );
        stream.write_all(request.as_bytes()).map_err(|e| format!("send: {}", e.kind()))?;
        let mut answer = Vec::new();
        // The server closes without a TLS close_notify at times; what arrived is the answer.
        let _ = stream.read_to_end(&mut answer);
        let text = String::from_utf8_lossy(&answer);
        let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let json = text.split_once("\r\n\r\n").and_then(|(_, b)| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
        Ok((status, json))
    }
}

/// Before the clock starts: `count` links for different patients on the care managers'
/// caseloads, sent by their care managers (`clients`: one per care manager, with its member id).
pub fn send_links(clients: &[(&Client, &str)], count: usize) -> Vec<Link> {
    let caseloads: Vec<Vec<String>> = clients
        .iter()
        .map(|(client, member_id)| {
            let view = client.call("caseload", json!({ "careManager": member_id, "asOfDate": null })).expect("caseload");
            view["rows"].as_array().into_iter().flatten().filter_map(|r| r["mrn"].as_str().map(String::from)).collect()
        })
        .collect();
    let mut links = Vec::with_capacity(count);
    let mut next = 0;
    'rows: while links.len() < count {
        let before = links.len();
        for ((client, _), mrns) in clients.iter().zip(&caseloads) {
            let Some(mrn) = mrns.get(next) else { continue };
            if links.len() == count {
                break 'rows;
            }
            let chart = client.call("patient_chart", json!({ "mrn": mrn, "asOfDate": null })).expect("chart");
            // A patient whose episode has no scale to ask is skipped, as a care manager would.
            let Ok(sent) = client.call("send_questionnaire", json!({ "mrn": mrn, "questionnaire": { "instruments": [] } })) else {
                continue;
            };
            let link = sent["link"].as_str().expect("a link");
            let token = link.rsplit_once("/r/").expect("a /r/ link").1.to_string();
            links.push(Link { token, dob: chart["patient"]["dob"].as_str().expect("dob").to_string() });
        }
        next += 1;
        if links.len() == before && caseloads.iter().all(|m| next >= m.len()) {
            panic!("the caseloads hold only {} patients a link could be sent to", links.len());
        }
    }
    links
}

/// Patient `i` answers its links one after another until the deadline (a questionnaire still
/// being answered then is left unsent, so every timing is taken while the team works).
pub fn patient(i: usize, links: Vec<Link>, server: &Server, deadline: Instant, timings: Timings, errors: Errors) {
    let source = Ipv4Addr::new(127, 0, 2, 1 + i as u8);
    let mut dice = Dice(0xD1B5_4A32_D192_ED03 ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let timed = |kind: &'static str, method: &str, path: &str, body: Option<&Value>| -> Option<Value> {
        let started = Instant::now();
        let out = server.exchange(source, method, path, body);
        timings.lock().unwrap().entry(kind).or_default().push(started.elapsed());
        match out {
            Ok((200, json)) => Some(json),
            // The token is a secret, so it is never printed: the kind and status say enough.
            Ok((status, _)) => {
                errors.lock().unwrap().push(format!("{kind}: HTTP {status}"));
                None
            }
            Err(e) => {
                errors.lock().unwrap().push(format!("{kind}: {e}"));
                None
            }
        }
    };
    // Patients open their links over the first ten seconds.
    std::thread::sleep(Duration::from_millis(dice.next(10_000)));
    for link in links {
        if Instant::now() >= deadline {
            break;
        }
        let path = format!("/api/patient/{}", link.token);
        timed("p-page", "GET", &format!("/r/{}", link.token), None);
        for asset in ["/r/_/patient.js", "/r/_/patient.css"] {
            let _ = server.exchange(source, "GET", asset, None);
        }
        let Some(questions) = timed("p-questions", "GET", &path, None) else { continue };
        tap(&mut dice);
        let dob = json!({ "dob": link.dob });
        if timed("p-verify", "POST", &format!("{path}/verify"), Some(&dob)).is_none() {
            continue;
        }
        let mut answers = serde_json::Map::new();
        for form in questions["instruments"].as_array().into_iter().flatten() {
            let scores: Vec<Value> = form["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|item| {
                    tap(&mut dice);
                    // Seven in ten "not at all", two "several days", one any answer: about a third
                    // of PHQ-9s raise the safety flag (item 9), each refreshing every open view,
                    // more than a real caseload would (the pessimistic case).
                    let options = item["options"].as_array().map_or(1, Vec::len) as u64;
                    let pick = match dice.next(10) {
                        0..=6 => 0,
                        7 | 8 => 1.min(options - 1),
                        _ => dice.next(options),
                    };
                    item["options"][pick as usize]["score"].clone()
                })
                .collect();
            answers.insert(form["id"].as_str().unwrap_or_default().to_string(), Value::Array(scores));
        }
        if Instant::now() >= deadline {
            break;
        }
        timed("p-submit", "POST", &path, Some(&json!({ "dob": link.dob, "answers": answers })));
    }
}

/// A patient reads a question and taps an answer: 0.5–1.5 s.
fn tap(dice: &mut Dice) {
    std::thread::sleep(Duration::from_millis(500 + dice.next(1000)));
}
