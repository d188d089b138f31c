//! Deterministic synthetic patients for scale (`cocm demo --patients N --seed S`): each with
//! roughly 20 assessments and 30 contacts over up to 14 months. Written with bulk prepared
//! inserts in the demo's one transaction; the demo's audit row records how many were made.
//! `--practice-patients N` adds the rest of a practice: patients who are not in collaborative
//! care, each with a year of visits and most with a depression screen.

use rusqlite::Connection;

use super::DemoOptions;
use crate::Result;
use crate::audit;
use crate::dates::{self, Date};
use crate::instruments::{self, Instrument};
use crate::store::new_id;
use crate::vocab::DischargeReason;

/// SplitMix64: a tiny, well-known generator; the same seed always gives the same practice.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number from `lo` to `hi`, inclusive.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    fn chance(&mut self, percent: i64) -> bool {
        self.range(1, 100) <= percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as i64 - 1) as usize]
    }
}

const FIRST: &[&str] = &[
    "Alex", "Blair", "Casey", "Dana", "Eli", "Frances", "Gabriel", "Hana", "Ian", "Jordan", "Kai", "Lena", "Milo", "Nora", "Omar", "Priya",
    "Quinn", "Rosa", "Sami", "Tess", "Uma", "Victor", "Wren", "Yara", "Zane",
];
const LAST: &[&str] = &[
    "Abbott", "Becker", "Castillo", "Dawson", "Ellis", "Fischer", "Gomez", "Holt", "Ibarra", "Jansen", "Kowalski", "Lam", "Mendez",
    "Novak", "Ortiz", "Park", "Quintero", "Reyes", "Silva", "Tran", "Urban", "Vega", "Walsh", "Yilmaz",
];
const PAYERS: &[&str] = &["medicare", "medicare", "medicaid", "commercial", "commercial", "self-pay", "other"];
const KINDS: &[&str] = &["follow-up", "follow-up", "follow-up", "care-coordination", "outreach-attempt", "case-review"];
const MODES: &[&str] = &["phone", "phone", "video", "in-person", "portal"];

/// Answers summing to `total` (the safety item, the PHQ-9's item 9 and last, given separately).
fn answers(rng: &mut Rng, instrument: Instrument, total: i64, item9: i64) -> Vec<i64> {
    let n = instrument.items().len();
    let safety_item = instrument.form().safety.first().map(|s| s.item - 1);
    let scored = if safety_item.is_some() { n - 1 } else { n };
    let mut a = vec![0i64; n];
    let mut left = total.clamp(0, 3 * scored as i64);
    while left > 0 {
        let i = rng.range(0, scored as i64 - 1) as usize;
        if a[i] < 3 {
            a[i] += 1;
            left -= 1;
        }
    }
    if let Some(i) = safety_item {
        a[i] = item9;
    }
    a
}

fn ids_of_role(conn: &Connection, role: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT id FROM team_members WHERE role = ?1 ORDER BY name")?;
    let ids = stmt.query_map([role], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(ids)
}

/// Adds the synthetic patients; returns how many.
pub(super) fn generate(conn: &Connection, o: &DemoOptions) -> Result<usize> {
    if o.synthetic_patients == 0 {
        return Ok(0);
    }
    let (cms, pcps, psys) = (ids_of_role(conn, "care-manager")?, ids_of_role(conn, "pcp")?, ids_of_role(conn, "psychiatric-consultant")?);
    let now = audit::now();
    let mut patient = conn.prepare(
        "INSERT INTO patients (id, mrn, name, dob, pcp_id, care_manager_id, consultant_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut coverage = conn.prepare("INSERT INTO coverages (id, patient_id, payer, from_date, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    let mut episode = conn.prepare(
        "INSERT INTO episodes (id, patient_id, start_date, consent_date, targets, status, discharge_date, discharge_reason, created_at,
                               primary_scales)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut status =
        conn.prepare("INSERT INTO episode_status_changes (id, episode_id, date, status, reason) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    let mut consent_record = conn.prepare("INSERT INTO episode_consents (id, episode_id, date, created_at) VALUES (?1, ?2, ?3, ?4)")?;
    let mut assessment = conn.prepare(
        "INSERT INTO assessments (id, patient_id, date, instrument, items, total, safety, recorded_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'demo', ?8)",
    )?;
    let mut contact = conn.prepare(
        "INSERT INTO contacts (id, patient_id, episode_id, date, author_id, kind, mode, minutes, note, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, '', ?9)",
    )?;
    let mut review = conn.prepare(
        "INSERT INTO case_reviews (id, patient_id, episode_id, date, consultant_id, medication, note, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, '', ?7)",
    )?;
    let mut request = conn.prepare(
        "INSERT INTO review_requests (id, patient_id, episode_id, date, requested_by, reason, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;

    for n in 0..o.synthetic_patients {
        let mut rng = Rng(o.seed.wrapping_mul(0x1000_0000_01B3) ^ n as u64);
        let day = |k: i64| dates::add_days(o.as_of, -k);
        let (pid, eid) = (new_id(), new_id());
        let cm = rng.pick(&cms).clone();
        let name = format!("{} {}", rng.pick(FIRST), rng.pick(LAST));
        let dob = Date::from_ymd_opt(rng.range(1940, 2004) as i32, rng.range(1, 12) as u32, rng.range(1, 28) as u32).expect("valid");
        let payer = rng.pick(PAYERS); // drawn where it was when it was a patient column: the same data
        patient.execute(rusqlite::params![
            pid,
            format!("S{:06}", n + 1),
            name,
            dob.to_string(),
            rng.pick(&pcps),
            cm,
            rng.pick(&psys),
            now
        ])?;

        // The episode: started 5–14 months ago; most still active, some in relapse
        // prevention, some discharged.
        let start_ago = rng.range(150, 420);
        let start = day(start_ago);
        coverage.execute(rusqlite::params![new_id(), pid, payer, start.to_string(), now])?;
        let consent = rng.chance(96).then(|| start.to_string());
        let both = rng.chance(30);
        let targets = if both {
            "depression,anxiety"
        } else if rng.chance(15) {
            "anxiety"
        } else {
            "depression"
        };
        let roll = rng.range(1, 100);
        let mut end_ago = 0; // records stop this many days ago
        let mut changes: Vec<(Date, &str, Option<&str>)> = vec![(start, "active", None)];
        let (state, discharge, reason) = if roll <= 70 {
            ("active", None, None)
        } else {
            let rp_ago = rng.range(20, start_ago / 2);
            changes.push((day(rp_ago), "relapse-prevention", None));
            if roll <= 85 {
                ("relapse-prevention", None, None)
            } else {
                let reason = rng.pick(DischargeReason::ALL).as_str();
                end_ago = rng.range(1, rp_ago.max(2) - 1);
                changes.push((day(end_ago), "discharged", Some(reason)));
                ("discharged", Some(day(end_ago).to_string()), Some(reason))
            }
        };
        // Every synthetic patient is an adult: the adult scales (spec §3a).
        let scales = match targets {
            "depression,anxiety" => "depression=phq9,anxiety=gad7",
            "anxiety" => "anxiety=gad7",
            _ => "depression=phq9",
        };
        episode.execute(rusqlite::params![eid, pid, start.to_string(), consent, targets, state, discharge, reason, now, scales])?;
        if let Some(consent) = &consent {
            consent_record.execute(rusqlite::params![new_id(), eid, consent, now])?;
        }
        for (date, to, why) in changes {
            status.execute(rusqlite::params![new_id(), eid, date.to_string(), to, why])?;
        }

        // Scores fall towards a patient-specific floor; a few never improve.
        let instruments: &[Instrument] = match targets {
            "depression,anxiety" => &[Instrument::PHQ9, Instrument::GAD7],
            "anxiety" => &[Instrument::GAD7],
            _ => &[Instrument::PHQ9],
        };
        let every = if both { 28 } else { 14 };
        let (baseline, floor) = (rng.range(10, 24), rng.range(1, 14));
        let mut k = start_ago;
        let mut last_positive: Option<i64> = None;
        while k > end_ago {
            let progress = (start_ago - k) as f64 / start_ago as f64;
            for &inst in instruments {
                let max = inst.max_total() as i64;
                let target = (baseline as f64 - (baseline - floor) as f64 * (progress * 2.0).min(1.0)).round() as i64;
                let total = (target + rng.range(-2, 2)).clamp(0, max);
                let item9 = if inst.has_safety_items() && rng.chance(2) { 1 } else { 0 };
                let a = answers(&mut rng, inst, total - item9, item9);
                let score = instruments::score(inst, &a)?;
                if score.item9_positive {
                    last_positive = Some(k);
                }
                let items: Vec<String> = a.iter().map(|x| x.to_string()).collect();
                assessment.execute(rusqlite::params![
                    new_id(),
                    pid,
                    day(k).to_string(),
                    inst.as_str(),
                    items.join(","),
                    score.total,
                    score.safety,
                    now
                ])?;
            }
            k -= every + rng.range(-3, 3);
        }

        // Contacts about every 10 days; a same-day safety check after most positive item 9s.
        let mut k = start_ago;
        let mut first = true;
        while k > end_ago {
            let (kind, author) = if first {
                ("initial-assessment", &cm)
            } else if rng.chance(3) {
                ("case-review", rng.pick(&psys))
            } else {
                (*rng.pick(KINDS), &cm)
            };
            contact.execute(rusqlite::params![
                new_id(),
                pid,
                eid,
                day(k).to_string(),
                author,
                kind,
                rng.pick(MODES),
                rng.range(10, 40),
                now
            ])?;
            first = false;
            k -= rng.range(7, 13);
        }
        if let Some(k) = last_positive.filter(|_| rng.chance(80)) {
            contact.execute(rusqlite::params![new_id(), pid, eid, day(k).to_string(), cm, "safety-check", "phone", 15, now])?;
        }

        // A case review every couple of months for about half, an open request now and then.
        if rng.chance(50) {
            let mut k = start_ago - rng.range(20, 40);
            while k > end_ago {
                review.execute(rusqlite::params![new_id(), pid, eid, day(k).to_string(), rng.pick(&psys), "Continue current plan", now])?;
                k -= rng.range(45, 75);
            }
        }
        if state != "discharged" && rng.chance(4) {
            request.execute(rusqlite::params![
                new_id(),
                pid,
                eid,
                day(rng.range(0, 10)).to_string(),
                cm,
                "Please review: not improving",
                now
            ])?;
        }
    }
    Ok(o.synthetic_patients)
}

const VISIT_CODES: &[&str] = &["99213", "99214", "99214", "99396", "99397", "99213,G0444"];

/// Adds the practice patients who are not enrolled: 1–4 primary care visits in the year before
/// the as-of date, a PHQ-2 at about half of them, and a PHQ-9 the same day after a positive
/// one (3 or more); returns how many patients.
pub(super) fn practice_patients(conn: &Connection, o: &DemoOptions) -> Result<usize> {
    if o.practice_patients == 0 {
        return Ok(0);
    }
    let pcps = ids_of_role(conn, "pcp")?;
    let phq2 = Instrument::by_id("phq2").expect("the catalogue has the PHQ-2");
    let now = audit::now();
    let mut patient = conn.prepare("INSERT INTO patients (id, mrn, name, dob, pcp_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
    let mut coverage = conn.prepare("INSERT INTO coverages (id, patient_id, payer, from_date, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    let mut visit = conn.prepare(
        "INSERT INTO visits (id, patient_id, date, category, codes, modality, created_at) VALUES (?1, ?2, ?3, 'primary-care', ?4, ?5, ?6)",
    )?;
    let mut assessment = conn.prepare(
        "INSERT INTO assessments (id, patient_id, date, instrument, items, total, safety, recorded_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'demo', ?8)",
    )?;
    for n in 0..o.practice_patients {
        // Its own stream, apart from the enrolled patients' (the same seed gives the same both).
        let mut rng = Rng(o.seed.wrapping_mul(0x1000_0000_01B3) ^ (n as u64 | 1 << 40));
        let pid = new_id();
        let name = format!("{} {}", rng.pick(FIRST), rng.pick(LAST));
        let dob = Date::from_ymd_opt(rng.range(1935, 2016) as i32, rng.range(1, 12) as u32, rng.range(1, 28) as u32).expect("valid");
        patient.execute(rusqlite::params![pid, format!("P{:06}", n + 1), name, dob.to_string(), rng.pick(&pcps), now])?;
        coverage.execute(rusqlite::params![new_id(), pid, rng.pick(PAYERS), dates::add_days(o.as_of, -800).to_string(), now])?;
        for _ in 0..rng.range(1, 4) {
            let date = dates::add_days(o.as_of, -rng.range(0, 364)).to_string();
            let modality = if rng.chance(15) { "telehealth" } else { "in-person" };
            visit.execute(rusqlite::params![new_id(), pid, date, rng.pick(VISIT_CODES), modality, now])?;
            if !rng.chance(50) {
                continue;
            }
            let positive = rng.chance(12);
            let total = if positive { rng.range(3, 6) } else { rng.range(0, 2) };
            let a = answers(&mut rng, phq2, total, 0);
            let score = instruments::score(phq2, &a)?;
            let items: Vec<String> = a.iter().map(|x| x.to_string()).collect();
            assessment.execute(rusqlite::params![new_id(), pid, date, "phq2", items.join(","), score.total, score.safety, now])?;
            if positive {
                let total = rng.range(5, 22);
                let a = answers(&mut rng, Instrument::PHQ9, total, 0);
                let score = instruments::score(Instrument::PHQ9, &a)?;
                let items: Vec<String> = a.iter().map(|x| x.to_string()).collect();
                assessment.execute(rusqlite::params![new_id(), pid, date, "phq9", items.join(","), score.total, score.safety, now])?;
            }
        }
    }
    Ok(o.practice_patients)
}
