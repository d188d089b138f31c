//! The practice server under load (`make bench-server`): simulated team members, each opening
//! the caseload, a patient and the queue with a second of thought between, and logging a
//! contact about every 20 seconds, while simulated patients answer check-in links
//! (`patients.rs`), for a fixed time. Prints p50/p95/p99 per request kind and the errors.
//! Loopback only: the server's address comes from `scripts/bench-server.sh`.
//!
//! Usage: bench_server URL FINGERPRINT USERS SECONDS [PATIENTS]

mod patients;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cocm::client::Client;
use serde_json::{Value, json};

const CARE_MANAGERS: [&str; 3] = ["Ana Morales", "Ben Okafor", "Chloe Nguyen"];
const PASSWORD: &str = "cocm-demo-password";

type Timings = Arc<Mutex<BTreeMap<&'static str, Vec<Duration>>>>;
type Errors = Arc<Mutex<Vec<String>>>;

/// Links each simulated patient holds: more than a minute's answering needs.
const LINKS_PER_PATIENT: usize = 4;

/// A small deterministic generator (xorshift): which patient to open, how long to think.
struct Dice(u64);

impl Dice {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below.max(1)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (url, fingerprint, users, seconds, patients) = match &args[..] {
        [_, url, fingerprint, users, seconds] => (url, fingerprint, users, seconds, "0"),
        [_, url, fingerprint, users, seconds, patients] => (url, fingerprint, users, seconds, patients.as_str()),
        _ => {
            eprintln!("usage: bench_server URL FINGERPRINT USERS SECONDS [PATIENTS]");
            std::process::exit(2);
        }
    };
    let (users, seconds): (usize, u64) = (users.parse().expect("USERS"), seconds.parse().expect("SECONDS"));
    let patients: usize = patients.parse().expect("PATIENTS");
    assert!(patients <= 250, "one loopback address each: 127.0.2.1 to 127.0.2.250");
    let timings: Timings = Arc::default();
    let errors: Errors = Arc::default();
    // Everyone signs in first (one argon2id derivation each), then the clock starts.
    let clients: Vec<(usize, Client, String)> = (0..users)
        .map(|i| {
            let member = CARE_MANAGERS[i % CARE_MANAGERS.len()];
            let mut client = Client::new(url, fingerprint).expect("client");
            let info = client.sign_in(member, PASSWORD).expect("sign in");
            (i, client, info["actor"]["member_id"].as_str().unwrap().to_string())
        })
        .collect();
    // Each care manager sends the patients' links (before the clock, like yesterday's sending).
    let senders: Vec<(&Client, &str)> =
        clients.iter().take(CARE_MANAGERS.len()).map(|(_, client, member_id)| (client, member_id.as_str())).collect();
    let mut links = if patients == 0 { Vec::new() } else { patients::send_links(&senders, patients * LINKS_PER_PATIENT) };
    let server = Arc::new(patients::Server::new(url, fingerprint));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut threads: Vec<_> = clients
        .into_iter()
        .map(|(i, client, member_id)| {
            let (timings, errors) = (timings.clone(), errors.clone());
            std::thread::spawn(move || user(i, client, member_id, deadline, timings, errors))
        })
        .collect();
    for i in 0..patients {
        let held: Vec<_> = links.drain(..LINKS_PER_PATIENT).collect();
        let (server, timings, errors) = (server.clone(), timings.clone(), errors.clone());
        threads.push(std::thread::spawn(move || patients::patient(i, held, &server, deadline, timings, errors)));
    }
    for t in threads {
        t.join().expect("a simulated user or patient panicked");
    }
    let timings = timings.lock().unwrap();
    let errors = errors.lock().unwrap();
    println!("{users} users and {patients} patients for {seconds} s against {url}");
    println!("{:<12} {:>8} {:>8} {:>8} {:>8}", "request", "count", "p50 ms", "p95 ms", "p99 ms");
    for (kind, list) in timings.iter() {
        let mut ms: Vec<f64> = list.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        let at = |p: f64| ms[((ms.len() as f64 * p).ceil() as usize).clamp(1, ms.len()) - 1];
        println!("{kind:<12} {:>8} {:>8.0} {:>8.0} {:>8.0}", ms.len(), at(0.50), at(0.95), at(0.99));
    }
    println!("errors: {}", errors.len());
    for e in errors.iter().take(10) {
        println!("  {e}");
    }
    if !errors.is_empty() {
        std::process::exit(1);
    }
}

fn user(i: usize, client: Client, member_id: String, deadline: Instant, timings: Timings, errors: Errors) {
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DDD1));
    let member = CARE_MANAGERS[i % CARE_MANAGERS.len()];
    let mut mrns: Vec<String> = Vec::new();
    // Spread the users' first contacts over the first 20 seconds.
    let mut next_contact = Instant::now() + Duration::from_millis(dice.next(20_000));
    let timed = |kind: &'static str, command: &str, args: Value| -> Option<Value> {
        let started = Instant::now();
        let out = client.call(command, args);
        timings.lock().unwrap().entry(kind).or_default().push(started.elapsed());
        out.map_err(|e| errors.lock().unwrap().push(format!("{kind}: {}", e.code()))).ok()
    };
    while Instant::now() < deadline {
        if let Some(view) = timed("caseload", "caseload", json!({ "careManager": member_id, "asOfDate": null })) {
            mrns = view["rows"]
                .as_array()
                .map(|rows| rows.iter().filter_map(|r| r["mrn"].as_str().map(String::from)).collect())
                .unwrap_or_default();
        }
        think(&mut dice);
        if !mrns.is_empty() {
            let mrn = mrns[dice.next(mrns.len() as u64) as usize].clone();
            timed("patient", "patient_chart", json!({ "mrn": mrn, "asOfDate": null }));
            think(&mut dice);
            if Instant::now() >= next_contact {
                let today = cocm::dates::today().to_string();
                let contact = json!({ "date": today, "minutes": 5 + dice.next(30), "by": member, "note": "" });
                timed("write", "log_contact", json!({ "mrn": mrn, "contact": contact }));
                next_contact = Instant::now() + Duration::from_millis(15_000 + dice.next(10_000));
            }
        }
        timed("queue", "queue", json!({ "asOfDate": null }));
        think(&mut dice);
    }
}

/// A person reads the screen before the next click: 0.5–1.5 s.
fn think(dice: &mut Dice) {
    std::thread::sleep(Duration::from_millis(500 + dice.next(1000)));
}
