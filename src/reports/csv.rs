//! Reports as CSV: one row per report (a period, or a month of a monthly run), every rate as
//! numerator, denominator and rate, so that a spreadsheet can recompute and chart them.

use super::{Report, ReportMember};
use crate::billing::{CPT_99492, CPT_99493, CPT_99494, G2214};
use crate::vocab::DischargeReason;
use crate::{Error, Result};

const CODES: [&str; 4] = [G2214, CPT_99492, CPT_99493, CPT_99494];

/// The rates of a report by their JSON key, in report order.
pub fn rates(r: &Report) -> [(&'static str, &super::Rate); 9] {
    [
        ("contact_rate", &r.contact_rate),
        ("improvement_rate", &r.improvement_rate),
        ("response_rate", &r.response_rate),
        ("remission_rate", &r.remission_rate),
        ("consultation_rate", &r.consultation_rate),
        ("drr_followup_rate", &r.drr_followup_rate),
        ("drr_response_rate", &r.drr_response_rate),
        ("drr_remission_rate", &r.drr_remission_rate),
        ("remission_12m_rate", &r.remission_12m_rate),
    ]
}

/// A CSV writer's failure, as every CSV export reports it.
pub(crate) fn err(e: impl std::fmt::Display) -> Error {
    Error::Storage(format!("CSV: {e}"))
}

/// The written CSV as text.
pub(crate) fn finish(w: csv::Writer<Vec<u8>>) -> Result<String> {
    String::from_utf8(w.into_inner().map_err(err)?).map_err(err)
}

/// The reports as CSV, one row each.
pub fn to_csv(reports: &[Report]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> =
        ["from", "to", "end", "care_manager", "caseload", "newly_enrolled", "discharged"].map(String::from).to_vec();
    header.extend(DischargeReason::ALL.iter().map(|r| format!("discharged_{r}")));
    header.push("avg_weeks_to_discharge".into());
    if let Some(first) = reports.first() {
        for (key, _) in rates(first) {
            header.extend([format!("{key}_numerator"), format!("{key}_denominator"), key.to_string()]);
        }
    }
    header.extend(["billing_months", "billing_patients", "billing_minutes"].map(String::from));
    header.extend(CODES.iter().map(|c| format!("units_{c}")));
    header.push("estimated_revenue".into());
    w.write_record(&header).map_err(err)?;
    for r in reports {
        let mut row: Vec<String> = vec![
            r.from.to_string(),
            r.to.to_string(),
            r.end.to_string(),
            r.care_manager.clone().unwrap_or_else(|| "practice".into()),
            r.caseload.to_string(),
            r.newly_enrolled.to_string(),
            r.discharged.to_string(),
        ];
        row.extend(DischargeReason::ALL.iter().map(|reason| r.discharged_by_reason.get(reason.as_str()).copied().unwrap_or(0).to_string()));
        row.push(r.avg_weeks_to_discharge.map(|w| format!("{w:.1}")).unwrap_or_default());
        for (_, rate) in rates(r) {
            row.extend([
                rate.numerator.to_string(),
                rate.denominator.to_string(),
                rate.rate.map(|x| format!("{x:.4}")).unwrap_or_default(),
            ]);
        }
        let b = &r.billing;
        row.extend([b.months.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(";"), b.patients.to_string(), b.minutes.to_string()]);
        row.extend(CODES.iter().map(|c| b.units.get(*c).copied().unwrap_or(0).to_string()));
        row.push(format!("{:.2}", b.estimated_revenue));
        w.write_record(&row).map_err(err)?;
    }
    finish(w)
}

/// The patients behind a figure as CSV.
pub fn members_to_csv(members: &[ReportMember]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["mrn", "name", "care_manager", "in_numerator", "detail"]).map_err(err)?;
    for m in members {
        let in_numerator = if m.in_numerator { "yes" } else { "no" };
        w.write_record([m.mrn.as_str(), &m.name, m.care_manager.as_deref().unwrap_or(""), in_numerator, &m.detail]).map_err(err)?;
    }
    finish(w)
}
