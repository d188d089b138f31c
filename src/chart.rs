//! The patient's chart: demographics, episodes, every record with its entered-in-error marks,
//! and what the rules derive today (flags, queue reasons, this month's billing minutes).

use serde::Serialize;

use crate::assessments::{self, Assessment};
use crate::billing::BillingRow;
use crate::caseload::{self, CaseloadRow};
use crate::contacts::{self, Contact};
use crate::dates::{Date, Month};
use crate::episodes::{self, Episode};
use crate::flags;
use crate::patients::{self, Patient};
use crate::queue::{self, ReasonSince};
use crate::reviews::{self, CaseReview, ReviewRequest};
use crate::snapshot::{self, Scope};
use crate::treatment::{self, TreatmentChange};
use crate::{Registry, Result};

#[derive(Clone, Debug, Serialize, PartialEq, ts_rs::TS)]
pub struct PatientChart {
    pub as_of: Date,
    pub patient: Patient,
    /// Oldest first; the last may be open.
    pub episodes: Vec<Episode>,
    /// The derived caseload row, when the patient is on the caseload on `as_of`.
    pub current: Option<CaseloadRow>,
    pub queue_reasons: Vec<ReasonSince>,
    /// This month's billing (minutes, codes, minutes to the next tier), when any minutes.
    pub billing_this_month: Option<BillingRow>,
    pub assessments: Vec<Assessment>,
    pub contacts: Vec<Contact>,
    pub review_requests: Vec<ReviewRequest>,
    pub case_reviews: Vec<CaseReview>,
    pub treatment_changes: Vec<TreatmentChange>,
}

impl Registry {
    pub fn patient_chart(&self, mrn: &str, as_of: Date) -> Result<PatientChart> {
        let patient = patients::load(&self.conn, mrn)?;
        let settings = self.settings()?;
        let snap = snapshot::load(&self.conn, as_of, Scope::Patient(&patient.id), &settings)?.pop();
        let (current, queue_reasons) = match snap {
            None => (None, Vec::new()),
            Some(s) => {
                let e = flags::evaluate(&s, &settings, as_of);
                let reasons = queue::reasons(&s, &e, &settings, as_of);
                let row = caseload::row(&s, e);
                (Some(row), reasons)
            }
        };
        Ok(PatientChart {
            as_of,
            episodes: episodes::for_patient(&self.conn, &patient.id)?,
            current,
            queue_reasons,
            billing_this_month: self.patient_billing(mrn, Month::of(as_of))?,
            assessments: assessments::for_patient(&self.conn, &patient.id)?,
            contacts: contacts::for_patient(&self.conn, &patient.id)?,
            review_requests: reviews::requests_for_patient(&self.conn, &patient.id)?,
            case_reviews: reviews::case_reviews_for_patient(&self.conn, &patient.id)?,
            treatment_changes: treatment::for_patient(&self.conn, &patient.id)?,
            patient,
        })
    }
}
