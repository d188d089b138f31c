//! A writer killed with SIGKILL at random points loses no acknowledged write and leaves a
//! registry that verifies. The writer is this test binary itself, run again with
//! `COCM_CRASH_WRITER` set: it signs in once and logs contacts one by one, printing each id
//! after its transaction commits (the acknowledgement).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use cocm::Registry;
use cocm::contacts::NewContact;
use common::{PASSWORD, add_patient, enroll, setup};

const KILLS: usize = 50;
const CONTACTS: usize = 2_000;

/// The writer's side: only does anything when started by `sigkill_at_random_points…`.
#[test]
fn crash_writer() {
    let Ok(path) = std::env::var("COCM_CRASH_WRITER") else { return };
    let mut r = Registry::sign_in(std::path::Path::new(&path), "LEAD", PASSWORD, None).unwrap();
    let stdout = std::io::stdout();
    for i in 0.. {
        // Dates stay within the episode and in the past: 2025-11-03 plus i mod 300 days.
        let date = cocm::dates::add_days(common::d("2025-11-03"), i % 300).to_string();
        let c = NewContact { date, minutes: 1 + i % 30, by: "CM".into(), ..Default::default() };
        let id = r.log_contact("P1", &c).unwrap();
        use std::io::Write;
        let mut out = stdout.lock();
        writeln!(out, "{id}").unwrap();
        out.flush().unwrap();
    }
}

/// A small xorshift, so that the kill points differ from run to run of a seed but the test
/// needs no random-number crate.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn sigkill_at_random_points_loses_no_acknowledged_write() {
    let (t, mut lead) = setup();
    add_patient(&mut lead, "P2");
    enroll(&mut lead, "P2", "2025-11-03", None);
    drop(lead);
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut rng = Rng(seed);
    let mut acknowledged: Vec<String> = Vec::new();
    for run in 0..KILLS {
        // Each run writes a random share of what is left, then is killed wherever it is:
        // between writes, inside a transaction, or in the middle of a WAL write.
        let left = (CONTACTS - acknowledged.len().min(CONTACTS)) as u64;
        let target = if run + 1 == KILLS { left.max(1) } else { 1 + rng.below((2 * left / (KILLS - run) as u64).max(2)) };
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_writer", "--nocapture", "--test-threads=1"])
            .env("COCM_CRASH_WRITER", &t.path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = 0;
        while seen < target {
            match lines.next() {
                Some(Ok(line)) if line.len() == 36 => {
                    acknowledged.push(line);
                    seen += 1;
                }
                Some(Ok(_)) => {} // the test harness's own output
                _ => break,
            }
        }
        // A random extra moment lets the kill land inside the next write.
        std::thread::sleep(std::time::Duration::from_micros(rng.below(3_000)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    assert!(acknowledged.len() >= CONTACTS, "{} acknowledged writes over {KILLS} kills", acknowledged.len());
    let r = Registry::sign_in(&t.path, "LEAD", PASSWORD, None).unwrap();
    let report = r.verify().unwrap();
    assert!(report.ok, "{}", report.verdict);
    let conn = common::raw(&t.path);
    let mut missing = Vec::new();
    for id in &acknowledged {
        let found: bool = conn.query_row("SELECT EXISTS (SELECT 1 FROM contacts WHERE id = ?1)", [id], |r| r.get(0)).unwrap();
        if !found {
            missing.push(id.clone());
        }
    }
    assert!(missing.is_empty(), "seed {seed}: {} acknowledged contacts lost, e.g. {:?}", missing.len(), missing.first());
}
