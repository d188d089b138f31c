//! A report's billing (spec §7, §8): each calendar month's billing loaded once, in one pass,
//! however many reports read it, kept as the little a report sums (a year of full billing rows,
//! each with its contacts and warnings, is most of a 12-month report's memory), and summed for
//! a scope.

use std::collections::BTreeMap;

use super::evaluate::Who;
use super::load::ReportData;
use super::{ReportBilling, ReportMember};
use crate::billing::{BillingRow, CodeUnits, ExclusionReason, MonthKind};
use crate::dates::{Date, Month};
use crate::{Registry, Result};

/// What a report reads of one billing row.
pub(super) struct BilledMonth {
    /// Index into [`ReportData::patients`].
    patient: usize,
    month_kind: MonthKind,
    minutes: u32,
    codes: Vec<CodeUnits>,
    codes_text: String,
    estimated_revenue: f64,
}

/// Billing by month, each month loaded once however many reports read it.
#[derive(Default)]
pub(super) struct BillingMonths(BTreeMap<Month, Vec<BilledMonth>>);

impl BillingMonths {
    /// Loads every month from the earliest of `months` to the latest, in one pass, seeing no
    /// contact after `until`, and keeps `months`' rows of the report's patients; their contact
    /// days go into `data` as each month is read (the contact rate's).
    pub fn load(registry: &Registry, data: &mut ReportData, months: &[Month], until: Date) -> Result<BillingMonths> {
        let mut kept = BTreeMap::new();
        let (Some(first), Some(last)) = (months.iter().min(), months.iter().max()) else { return Ok(BillingMonths(kept)) };
        registry.billing_each_month(*first, *last, Some(until), &mut |month, rows| {
            if months.contains(&month) {
                let mut rows: Vec<BilledMonth> = rows.into_iter().filter_map(|row| keep(data, row)).collect();
                // The collect reuses the billing rows' allocation, sized for rows several times
                // larger: a year of it was a quarter of a 12-month report's heap.
                rows.shrink_to_fit();
                kept.insert(month, rows);
            }
            Ok(())
        })?;
        for p in &mut data.patients {
            p.contact_days.sort_unstable();
            p.contact_days.dedup();
        }
        Ok(BillingMonths(kept))
    }

    /// The scope's billing over `months`, and its patient-months behind the figure.
    pub fn summarise(&self, data: &ReportData, who: Who, months: Vec<Month>, members: Option<&mut Vec<ReportMember>>) -> ReportBilling {
        let mut b = ReportBilling::default();
        let mut billed: Vec<usize> = Vec::new();
        let mut cents = 0i64;
        let mut list = Vec::new();
        for (month, row) in months.iter().flat_map(|m| self.0.get(m).into_iter().flatten().map(move |row| (m, row))) {
            let p = &data.patients[row.patient];
            if !who.includes(p) {
                continue;
            }
            b.minutes += row.minutes;
            for c in &row.codes {
                *b.units.entry(c.code.clone()).or_default() += c.units;
            }
            cents += (row.estimated_revenue * 100.0).round() as i64;
            if !row.codes.is_empty() {
                billed.push(row.patient);
            }
            if members.is_some() && (row.minutes > 0 || !row.codes.is_empty()) {
                let codes = if row.codes.is_empty() { "no code" } else { row.codes_text.as_str() };
                list.push(ReportMember {
                    mrn: p.mrn.clone(),
                    name: p.name.clone(),
                    care_manager: p.care_manager_id.as_ref().and_then(|id| data.care_managers.get(id).cloned()),
                    in_numerator: !row.codes.is_empty(),
                    detail: format!("{month}: {codes} ({} {} min, ${:.2})", row.month_kind, row.minutes, row.estimated_revenue),
                });
            }
        }
        billed.sort_unstable();
        billed.dedup();
        b.patients = billed.len() as u32;
        b.estimated_revenue = cents as f64 / 100.0;
        b.months = months;
        if let Some(members) = members {
            list.sort_by(|a, b| (&a.mrn, &a.detail).cmp(&(&b.mrn, &b.detail)));
            *members = list;
        }
        b
    }
}

/// A row of one of the report's patients, as the report keeps it; its contact days (every
/// contact but those entered in error, or logged under an enrolment entered in error) go to
/// the patient.
fn keep(data: &mut ReportData, row: BillingRow) -> Option<BilledMonth> {
    let patient = *data.patient_index.get(&row.patient_id)?;
    let real = |c: &&crate::billing::BilledContact| {
        !matches!(c.excluded, Some(ExclusionReason::EnteredInError | ExclusionReason::EnrolmentEnteredInError))
    };
    data.patients[patient].contact_days.extend(row.contacts.iter().filter(real).map(|c| c.date));
    Some(BilledMonth {
        patient,
        month_kind: row.month_kind,
        minutes: row.minutes,
        codes: row.codes,
        codes_text: row.codes_text,
        estimated_revenue: row.estimated_revenue,
    })
}
