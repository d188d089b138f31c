//! Safety alerts (spec §10): a self-reported answer with a positive safety item (PHQ-9 or PHQ-A
//! item 9, EPDS item 10) is an alert on every screen of the care team until a member
//! acknowledges it. Acknowledging marks that patient's new answers reviewed (the same act as
//! *Mark reviewed*, audited in the member's name), so the alert cannot outlive the review, nor
//! the review leave an alert behind.
//!
//! A care manager is alerted for their own patients (and those with no care manager); every
//! other role sees the practice's.

use serde::{Deserialize, Serialize};

use crate::instruments::Instrument;
use crate::vocab::Role;
use crate::{Registry, Result};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct SafetyAlert {
    pub mrn: String,
    pub patient: String,
    pub care_manager: Option<String>,
    pub instrument: Instrument,
    /// What the screen calls it ("PHQ-9").
    pub instrument_label: String,
    /// `patient` or `caregiver`.
    pub source: String,
    pub date: crate::dates::Date,
    /// When the answers arrived.
    pub answered_at: String,
}

impl Registry {
    /// The alerts the signed-in member should see, newest first.
    pub fn safety_alerts(&self) -> Result<Vec<SafetyAlert>> {
        let actor = self.actor();
        let own_only = actor.role == Role::CareManager;
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.mrn, p.name, tm.name, a.instrument, a.source, a.date, a.created_at
             FROM assessments a JOIN patients p ON p.id = a.patient_id LEFT JOIN team_members tm ON tm.id = p.care_manager_id
             WHERE a.source <> 'staff' AND a.safety = 1 AND a.reviewed_at IS NULL AND a.voided_at IS NULL
               AND (NOT ?1 OR p.care_manager_id = ?2 OR p.care_manager_id IS NULL)
             ORDER BY a.created_at DESC",
        )?;
        let rows = stmt.query_map((own_only, &actor.member_id), |r| {
            let (instrument, date): (String, String) = (r.get(3)?, r.get(5)?);
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, instrument, r.get(4)?, date, r.get(6)?))
        })?;
        let mut alerts = Vec::new();
        for row in rows {
            let (mrn, patient, care_manager, instrument, source, date, answered_at) = row?;
            let Some(instrument) = Instrument::by_id(&instrument) else { continue };
            let date = crate::dates::parse_date("date", &date)?;
            let instrument_label = instrument.label().to_string();
            alerts.push(SafetyAlert { mrn, patient, care_manager, instrument, instrument_label, source, date, answered_at });
        }
        Ok(alerts)
    }
}
