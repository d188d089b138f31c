//! A report's billing (spec §7, §8): each calendar month's billing summary loaded once, in one
//! pass, however many reports read it, and summed for a scope.

use std::collections::BTreeMap;

use super::evaluate::Who;
use super::load::ReportData;
use super::{ReportBilling, ReportMember};
use crate::billing::BillingRow;
use crate::dates::{Date, Month};
use crate::{Registry, Result};

/// Billing rows by month, each month loaded once however many reports read it.
#[derive(Default)]
pub(super) struct BillingMonths(pub BTreeMap<Month, Vec<BillingRow>>);

impl BillingMonths {
    /// Loads every month from the earliest of `months` to the latest, in one pass, seeing no
    /// contact after `until`.
    pub fn load(registry: &Registry, months: &[Month], until: Date) -> Result<BillingMonths> {
        Ok(match (months.iter().min(), months.iter().max()) {
            (Some(first), Some(last)) => BillingMonths(registry.billing_months(*first, *last, Some(until))?.into_iter().collect()),
            _ => BillingMonths::default(),
        })
    }

    /// The scope's billing over `months`, and its patient-months behind the figure.
    pub fn summarise(&self, data: &ReportData, who: Who, months: Vec<Month>, members: Option<&mut Vec<ReportMember>>) -> ReportBilling {
        let mut b = ReportBilling::default();
        let mut billed: Vec<&str> = Vec::new();
        let mut cents = 0i64;
        let mut list = Vec::new();
        for row in months.iter().flat_map(|m| self.0.get(m).into_iter().flatten()) {
            let Some(p) = data.patient_index.get(&row.patient_id).map(|&i| &data.patients[i]) else { continue };
            if !who.includes(p) {
                continue;
            }
            b.minutes += row.minutes;
            for c in &row.codes {
                *b.units.entry(c.code.clone()).or_default() += c.units;
            }
            cents += (row.estimated_revenue * 100.0).round() as i64;
            if !row.codes.is_empty() {
                billed.push(&row.patient_id);
            }
            if members.is_some() && (row.minutes > 0 || !row.codes.is_empty()) {
                let codes = if row.codes.is_empty() { "no code" } else { row.codes_text.as_str() };
                list.push(ReportMember {
                    mrn: row.mrn.clone(),
                    name: row.name.clone(),
                    care_manager: p.care_manager_id.as_ref().and_then(|id| data.care_managers.get(id).cloned()),
                    in_numerator: !row.codes.is_empty(),
                    detail: format!("{}: {} ({} {} min, ${:.2})", row.month, codes, row.month_kind, row.minutes, row.estimated_revenue),
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
