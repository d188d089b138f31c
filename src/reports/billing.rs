//! A report's billing (spec §7, §8): each calendar month's billing loaded once, in one pass,
//! however many reports read it, kept as the little a report sums (a year of full billing rows,
//! each with its contacts and warnings, is most of a 12-month report's memory), and summed for
//! a scope.

use std::collections::BTreeMap;

use super::evaluate::Who;
use super::load::{PrimaryCoverage, ReportData};
use super::{ReportBilling, ReportMember};
use crate::billing::{BilledPatients, CodeUnits, MonthKind, MonthOfSums, codes_text};
use crate::dates::{Date, Month};
use crate::{Registry, Result};

/// What a report reads of one billing row.
pub(super) struct BilledMonth {
    /// Index into [`ReportData::patients`].
    patient: usize,
    month_kind: MonthKind,
    minutes: u32,
    codes: Vec<CodeUnits>,
    estimated_revenue: f64,
}

/// Billing by month, each month loaded once however many reports read it.
#[derive(Default)]
pub(super) struct BillingMonths(BTreeMap<Month, Vec<BilledMonth>>);

/// The billing of a report's months as read, before it is matched to the report's patients:
/// read on its own connection while the rest of the report loads on another (see
/// `Registry::report_data`).
pub(super) struct ReadBilling {
    months: Vec<(Month, MonthOfSums)>,
    patients: BilledPatients,
}

impl ReadBilling {
    /// Every month from the earliest of `months` to the latest, in one pass, seeing no contact
    /// after `until`; `months`' own are kept.
    pub fn read(registry: &Registry, months: &[Month], until: Date) -> Result<ReadBilling> {
        let mut kept = Vec::new();
        // No month (no caller asks for none) still reads the patients, for their coverage.
        let first = months.iter().min().copied().unwrap_or(Month::of(until));
        let last = months.iter().max().copied().unwrap_or(first);
        let patients = registry.billing_each_month(first, last, Some(until), &mut |month, sums, _| {
            if months.contains(&month) {
                kept.push((month, sums));
            }
            Ok(())
        })?;
        Ok(ReadBilling { months: kept, patients })
    }
}

impl BillingMonths {
    /// The rows of the report's patients; their contact days go into `data` (the contact
    /// rate's), and their primary coverage, from the patients billing read (a second read of
    /// every coverage was a twentieth of a 12-month report).
    pub fn attach(read: ReadBilling, data: &mut ReportData) -> BillingMonths {
        // Billing's patient places → the report's, looked up by id once per patient, not per row.
        let places: Vec<Option<usize>> = read.patients.iter().map(|p| data.patient_index.get(&p.id).copied()).collect();
        let place = |billed: usize| places.get(billed).copied().flatten();
        for (billed, patient) in read.patients.iter().enumerate() {
            if let Some(p) = place(billed) {
                data.patients[p].primary_coverage = PrimaryCoverage::of(&patient.coverages);
            }
        }
        let mut kept = BTreeMap::new();
        for (month, sums) in read.months {
            for (billed, day) in sums.contact_days {
                if let Some(p) = place(billed) {
                    data.patients[p].contact_days.push(day);
                }
            }
            let rows = sums.rows.into_iter().filter_map(|row| {
                Some(BilledMonth {
                    patient: place(row.patient)?,
                    month_kind: row.month_kind,
                    minutes: row.minutes,
                    codes: row.codes,
                    estimated_revenue: row.estimated_revenue,
                })
            });
            kept.insert(month, rows.collect());
        }
        for p in &mut data.patients {
            p.contact_days.sort_unstable();
            p.contact_days.dedup();
        }
        BillingMonths(kept)
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
                // A code seen before is counted without a copy of its name.
                match b.units.get_mut(&c.code) {
                    Some(units) => *units += c.units,
                    None => {
                        b.units.insert(c.code.clone(), c.units);
                    }
                }
            }
            cents += (row.estimated_revenue * 100.0).round() as i64;
            if !row.codes.is_empty() {
                billed.push(row.patient);
            }
            if members.is_some() && (row.minutes > 0 || !row.codes.is_empty()) {
                let codes = if row.codes.is_empty() { "no code".to_string() } else { codes_text(&row.codes) };
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
