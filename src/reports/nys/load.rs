//! Reading the NYS report's facts from the registry, set-based, up to the month's last day.

use rusqlite::Connection;

use super::{NysEpisode, NysFacts, NysPatient};
use crate::dates::{self, Date};
use crate::id_index::IdIndex;
use crate::measures;
use crate::snapshot::text;
use crate::vocab::parse_targets;
use crate::{Result, assessments};

/// Reads the facts up to `last`, set-based.
pub(crate) fn load(conn: &Connection, last: Date) -> Result<NysFacts> {
    let settings = crate::settings::load(conn)?;
    let mut facts = NysFacts { inactivity_days: settings.inactivity_days, ..Default::default() };
    // Ids → places through `id_index`: the contacts, scores and visits of a whole practice
    // look their episode or patient up half a million times.
    let mut index = IdIndex::default();
    let mut coverages = crate::coverage::by_patient(conn, crate::coverage::Whose::Everyone)?;
    {
        let mut stmt = conn.prepare_cached("SELECT id, mrn, name, care_manager_id, dob FROM patients ORDER BY mrn")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            index.insert(&id, facts.patients.len());
            let dob: String = r.get(4)?;
            facts.patients.push(NysPatient {
                mrn: r.get(1)?,
                name: r.get(2)?,
                dob: dates::parse_iso(&dob).unwrap_or_default(),
                medical_visits: Vec::new(),
                care_manager_id: r.get(3)?,
                coverages: coverages.remove(&id).unwrap_or_default(),
                scores: Vec::new(),
            });
        }
    }
    let mut episode_index = IdIndex::default();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT id, patient_id, start_date, discharge_date, targets, primary_scales FROM episodes
             WHERE voided_at IS NULL AND start_date <= ?1 ORDER BY start_date",
        )?;
        let mut rows = stmt.query([last.to_string()])?;
        while let Some(r) = rows.next()? {
            let Some(patient) = index.get(text(r, 1)?) else { continue };
            let (start, discharge, targets, scales): (String, Option<String>, String, Option<String>) =
                (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?);
            let targets = parse_targets("targets", &targets).unwrap_or_default();
            episode_index.insert(text(r, 0)?, facts.episodes.len());
            facts.episodes.push(NysEpisode {
                patient,
                start: dates::parse_iso(&start).unwrap_or_default(),
                discharge: discharge.as_deref().and_then(dates::parse_iso),
                primary_scales: measures::parse_primary_scales(&targets, scales.as_deref().unwrap_or(""), crate::episodes::fallback_scale),
                ..Default::default()
            });
        }
    }
    let mut by_episode = |sql: &str, push: &mut dyn FnMut(&mut NysEpisode, Date)| -> Result<()> {
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query([last.to_string()])?;
        while let Some(r) = rows.next()? {
            if let (Some(i), Some(d)) = (episode_index.get(text(r, 0)?), dates::parse_iso(text(r, 1)?)) {
                push(&mut facts.episodes[i], d);
            }
        }
        Ok(())
    };
    by_episode(
        &format!(
            "SELECT c.episode_id, c.date FROM contacts c INDEXED BY contacts_clinical_by_episode
             WHERE c.voided_at IS NULL AND c.date <= ?1 AND {} ORDER BY c.date",
            crate::vocab::clinical_contact_sql("c")
        ),
        &mut |e, d| e.clinical_contacts.push(d),
    )?;
    by_episode(
        "SELECT episode_id, date FROM case_reviews WHERE voided_at IS NULL AND date <= ?1
           AND (medication <> '' OR psychotherapy <> '' OR referral <> '' OR other <> '') ORDER BY date",
        &mut |e, d| e.reviews.push(d),
    )?;
    let mut current: (String, Option<usize>) = (String::new(), None);
    assessments::for_each_score(conn, "", &[&last.to_string()], |pid, instrument, point| {
        if pid != current.0 {
            current = (pid.to_string(), index.get(pid));
        }
        if let Some(i) = current.1 {
            facts.patients[i].scores.push((instrument, point));
        }
        Ok(())
    })?;
    {
        let mut stmt = conn.prepare_cached(
            "SELECT patient_id, date, category, codes FROM visits WHERE voided_at IS NULL AND date <= ?1 ORDER BY patient_id, date",
        )?;
        let mut rows = stmt.query([last.to_string()])?;
        while let Some(r) = rows.next()? {
            let category = crate::visits::VisitCategory::parse("category", text(r, 2)?).unwrap_or(crate::visits::VisitCategory::Other);
            if let (Some(i), Some(d)) = (index.get(text(r, 0)?), dates::parse_iso(text(r, 1)?))
                && crate::visits::qualifies_for_screening(category, text(r, 3)?.split(','))
            {
                facts.patients[i].medical_visits.push(d);
            }
        }
    }
    let mut stmt = conn.prepare_cached("SELECT id, cocm_fte_hundredths, name FROM team_members WHERE role = 'care-manager'")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let fte: Option<i64> = r.get(1)?;
        facts.care_manager_fte.insert(r.get(0)?, fte.unwrap_or(0) as f64 / 100.0);
        facts.care_manager_names.insert(r.get(0)?, r.get(2)?);
    }
    Ok(facts)
}
