//! A report's billing (spec §7, §8): each calendar month's billing loaded once, in one pass,
//! however many reports read it, kept as the little a report sums (a year of full billing rows,
//! each with its contacts and warnings, is most of a 12-month report's memory), and summed for
//! a scope.

use std::collections::BTreeMap;

use super::evaluate::Who;
use super::load::{PrimaryCoverage, ReportData};
use super::{ReportBilling, ReportMember};
use crate::billing::{BilledPatients, CodeUnits, MonthKind, codes_text};
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

impl BillingMonths {
    /// Loads every month from the earliest of `months` to the latest, in one pass, seeing no
    /// contact after `until`, and keeps `months`' rows of the report's patients; their contact
    /// days go into `data` as each month is read (the contact rate's), and their primary
    /// coverage from the patients billing read (a second read of every coverage was a twentieth
    /// of a 12-month report).
    pub fn load(registry: &Registry, data: &mut ReportData, months: &[Month], until: Date) -> Result<BillingMonths> {
        let mut kept = BTreeMap::new();
        let (Some(first), Some(last)) = (months.iter().min(), months.iter().max()) else {
            let mut coverages = crate::coverage::by_patient(&registry.conn, crate::coverage::Whose::Enrolled)?;
            for (id, &p) in &data.patient_index {
                data.patients[p].primary_coverage = PrimaryCoverage::of(&coverages.remove(id).unwrap_or_default());
            }
            return Ok(BillingMonths(kept));
        };
        // Billing's patient places → the report's, looked up by id once per patient, not per row.
        let mut places: Option<Vec<Option<usize>>> = None;
        let place_of = |data: &ReportData, patients: &BilledPatients| -> Vec<Option<usize>> {
            patients.iter().map(|p| data.patient_index.get(&p.id).copied()).collect()
        };
        let patients = registry.billing_each_month(*first, *last, Some(until), &mut |month, sums, patients| {
            if !months.contains(&month) {
                return Ok(());
            }
            let places = places.get_or_insert_with(|| place_of(data, patients));
            let place = |billed: usize| places.get(billed).copied().flatten();
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
            Ok(())
        })?;
        let places = places.unwrap_or_else(|| place_of(data, &patients));
        for (billed, place) in patients.iter().zip(places) {
            if let Some(p) = place {
                data.patients[p].primary_coverage = PrimaryCoverage::of(&billed.coverages);
            }
        }
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
