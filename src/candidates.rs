//! Referral candidates (spec §9, issue 23): practice patients whose depression screen is
//! positive and who are not in collaborative care, newest screen first, for the team to
//! consider enrolling. A screen counts when it is the patient's latest PHQ-2, PHQ-9 or PHQ-A
//! after their last discharge (or ever, for a patient never enrolled): a positive PHQ-2
//! followed by a PHQ-9 below 10 is a negative screen, and the screen that led to an earlier
//! episode does not bring the patient back. Positive is the practice's threshold for the form:
//! `positive_screen` (PHQ-2 ≥ 3), else its elevated baseline (PHQ-9, PHQ-A ≥ 10).
//! Above the list: the NYS screening rate and yield of the last full month (metrics 9, 10).

use serde::{Deserialize, Serialize};

use crate::dates::{self, Date, Month};
use crate::instruments::{Instrument, Rules};
use crate::measures::Point;
use crate::reports::Rate;
use crate::reports::nys::{self, NysEpisode, NysFacts};
use crate::{Registry, Result};

/// A patient with a positive screen and no open episode.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct Candidate {
    pub mrn: String,
    pub name: String,
    pub dob: Date,
    /// On the screen's date.
    #[ts(type = "number")]
    pub age: i64,
    pub care_manager: Option<String>,
    pub instrument: Instrument,
    pub date: Date,
    pub total: u8,
    /// The total from which the form is a positive screen.
    pub positive_from: u8,
    /// The last episode's discharge, for a patient enrolled before.
    pub discharged: Option<Date>,
}

/// The candidates screen: the last full month's screening figures, then the candidates.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct CandidatesView {
    pub since: Option<Date>,
    #[ts(type = "string")]
    pub month: Month,
    pub screening_rate: Rate,
    pub screening_yield: Rate,
    pub candidates: Vec<Candidate>,
}

/// The total from which a form is a positive screen, by its rules.
fn positive_from(rules: &Rules) -> Option<u8> {
    rules.positive_screen.or(rules.elevated_baseline)
}

/// The candidates among `facts`, newest screen first (then by MRN); `rules` are the practice's
/// thresholds of a form.
pub(crate) fn candidates<'s>(facts: &NysFacts, rules: impl Fn(Instrument) -> &'s Rules, since: Option<Date>) -> Vec<Candidate> {
    let mut episodes: Vec<Vec<&NysEpisode>> = vec![Vec::new(); facts.patients.len()];
    for e in &facts.episodes {
        episodes[e.patient].push(e);
    }
    let mut out = Vec::new();
    for (k, p) in facts.patients.iter().enumerate() {
        if episodes[k].iter().any(|e| e.discharge.is_none()) {
            continue;
        }
        let discharged = episodes[k].iter().filter_map(|e| e.discharge).max();
        let latest: Option<&(Instrument, Point)> = p
            .scores
            .iter()
            .rfind(|(i, s)| crate::assessments::SCREENING_FORMS.contains(&i.as_str()) && discharged.is_none_or(|d| s.date > d));
        let Some((instrument, screen)) = latest else { continue };
        let Some(from) = positive_from(rules(*instrument)) else { continue };
        if screen.total < from || since.is_some_and(|s| screen.date < s) {
            continue;
        }
        out.push(Candidate {
            mrn: p.mrn.clone(),
            name: p.name.clone(),
            dob: p.dob,
            age: dates::age_on(p.dob, screen.date),
            care_manager: p.care_manager_id.as_ref().and_then(|id| facts.care_manager_names.get(id)).cloned(),
            instrument: *instrument,
            date: screen.date,
            total: screen.total,
            positive_from: from,
            discharged,
        });
    }
    out.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.mrn.cmp(&b.mrn)));
    out
}

impl Registry {
    /// Patients with a positive depression screen (on or after `since`) and no open episode,
    /// with the last full month's NYS screening rate and yield. Anyone signed in may read it;
    /// enrolling one is `enroll`, with its own permission.
    pub fn candidates(&self, since: Option<Date>) -> Result<CandidatesView> {
        let today = dates::today();
        let facts = nys::load(&self.conn, today)?;
        let month = Month::of(today).plus(-1);
        let report = nys::evaluate(&facts, month, None);
        let settings = self.settings()?;
        Ok(CandidatesView {
            since,
            month,
            screening_rate: report.depression_screening_rate,
            screening_yield: report.depression_screening_yield,
            candidates: candidates(&facts, |i| settings.rules(i), since),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::nys::NysPatient;

    fn d(s: &str) -> Date {
        dates::parse_date("d", s).unwrap()
    }
    fn screen(id: &str, date: &str, total: u8) -> (Instrument, Point) {
        (Instrument::by_id(id).unwrap(), Point { date: d(date), total, safety: None })
    }
    fn patient(mrn: &str, scores: Vec<(Instrument, Point)>) -> NysPatient {
        NysPatient { mrn: mrn.into(), name: mrn.into(), dob: d("1980-06-01"), scores, ..Default::default() }
    }
    fn catalogue(i: Instrument) -> &'static Rules {
        i.rules()
    }

    #[test]
    fn a_positive_latest_screen_without_an_open_episode_makes_a_candidate() {
        let facts = NysFacts {
            patients: vec![
                // PHQ-2 3 is positive (≥ 3); 2 is not.
                patient("A", vec![screen("phq2", "2026-11-02", 3)]),
                patient("B", vec![screen("phq2", "2026-11-03", 2)]),
                // PHQ-9 10 is positive (≥ 10), 9 is not; PHQ-A 10 is.
                patient("C", vec![screen("phq9", "2026-11-04", 10)]),
                patient("D", vec![screen("phq9", "2026-11-05", 9)]),
                patient("E", vec![screen("phq-a", "2026-11-06", 10)]),
                // A positive PHQ-2 followed by a PHQ-9 of 6: the latest screen is negative.
                patient("F", vec![screen("phq2", "2026-11-01", 5), screen("phq9", "2026-11-08", 6)]),
                // In care (open episode): not a candidate whatever the screen.
                patient("G", vec![screen("phq9", "2026-11-09", 20)]),
                // Discharged 2026-10-01: the 09-20 screen led to the episode; 10-02's is new.
                patient("H", vec![screen("phq9", "2026-09-20", 15)]),
                patient("I", vec![screen("phq9", "2026-09-20", 15), screen("phq2", "2026-10-02", 4)]),
            ],
            episodes: vec![
                NysEpisode { patient: 6, start: d("2026-10-01"), ..Default::default() },
                NysEpisode { patient: 7, start: d("2026-09-21"), discharge: Some(d("2026-10-01")), ..Default::default() },
                NysEpisode { patient: 8, start: d("2026-09-21"), discharge: Some(d("2026-10-01")), ..Default::default() },
            ],
            ..Default::default()
        };
        let found = candidates(&facts, catalogue, None);
        let mrns: Vec<&str> = found.iter().map(|c| c.mrn.as_str()).collect();
        // Newest first: E (11-06), C (11-04), A (11-02), I (10-02).
        assert_eq!(mrns, ["E", "C", "A", "I"]);
        assert_eq!((found[3].discharged, found[3].positive_from, found[2].positive_from), (Some(d("2026-10-01")), 3, 3));
        // --since 2026-11-03 keeps the screens from that day on.
        let since: Vec<String> = candidates(&facts, catalogue, Some(d("2026-11-03"))).into_iter().map(|c| c.mrn).collect();
        assert_eq!(since, ["E", "C"]);
    }
}
