//! Program reports (spec §8): caseload statistics, quality measures and billing summaries for a
//! period, for the practice and per care manager, each rate with its numerator, denominator and
//! target, and the patients behind every figure.
//!
//! A report is a function of (registry, period F..L, as-of date T). A period that has not ended
//! by T is judged up to T: point-in-time measures are taken on min(L, T). Patients belong to
//! the care manager they are assigned to now (the registry keeps no history of reassignment).
//! Billing is per calendar month (§7), so a report's billing covers the calendar months from
//! F's through min(L, T)'s.

mod billing;
pub(crate) mod csv;
mod evaluate;
mod labels;
mod load;
pub mod nys;

use serde::Serialize;
use std::collections::BTreeMap;

use billing::BillingMonths;
pub use csv::{members_to_csv, rates, to_csv};
use evaluate::{Period, Who};
pub use labels::{RateLabel, rate_labels};
use load::ReportData;

use crate::dates::{Date, Month};
use crate::settings::Settings;
use crate::vocab::string_enum;
use crate::{Error, Registry, Result, team};

string_enum!(
    /// Every figure of a report a person can ask "who?" of.
    Measure {
        Caseload => "caseload",
        NewlyEnrolled => "newly_enrolled",
        Discharged => "discharged",
        ContactRate => "contact_rate",
        ImprovementRate => "improvement_rate",
        ResponseRate => "response_rate",
        RemissionRate => "remission_rate",
        ConsultationRate => "consultation_rate",
        DrrFollowupRate => "drr_followup_rate",
        DrrResponseRate => "drr_response_rate",
        DrrRemissionRate => "drr_remission_rate",
        Remission12mRate => "remission_12m_rate",
        Billing => "billing",
    }
);

/// A share with what it is a share of; `rate` is none when the denominator is 0 (spec §8).
#[derive(Clone, Copy, Debug, Default, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct Rate {
    pub numerator: u32,
    pub denominator: u32,
    /// numerator / denominator, 0–1.
    pub rate: Option<f64>,
    /// The rate as a whole percentage, rounded half away from zero (5 of 8 = 62.5 % → 63 %):
    /// the one rounding every screen, CSV and command line shows.
    pub percent: Option<u32>,
    /// The spec's target for this rate, 0–1, where it has one (a practice setting).
    pub target: Option<f64>,
    /// The target as a whole percentage.
    pub target_percent: Option<u32>,
    /// Whether the rate meets its target; none without a rate or a target.
    pub meets_target: Option<bool>,
}

/// n of d as a whole percentage, halves rounded up (5 of 8 = 62.5 % → 63 %); none when d is 0.
/// The one rounding of every percentage the registry shows.
pub fn whole_percent(numerator: u32, denominator: u32) -> Option<u32> {
    // round(100 n / d) with halves up, in integers: (200 n + d) / 2d.
    (denominator > 0).then(|| ((200 * numerator as u64 + denominator as u64) / (2 * denominator as u64)) as u32)
}

impl Rate {
    /// A rate against a target given in whole percent (a practice setting).
    pub fn new(numerator: u32, denominator: u32, target_percent: Option<u32>) -> Rate {
        let rate = (denominator > 0).then(|| numerator as f64 / denominator as f64);
        let percent = whole_percent(numerator, denominator);
        // Met when n / d ≥ t / 100, i.e. 100 n ≥ t d: exact, so 4 of 5 meets 80 %.
        let meets_target = target_percent.filter(|_| denominator > 0).map(|t| 100 * numerator as u64 >= t as u64 * denominator as u64);
        Rate { numerator, denominator, rate, percent, target: target_percent.map(|t| t as f64 / 100.0), target_percent, meets_target }
    }
}

/// Billing over the report's calendar months (spec §7, §8).
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct ReportBilling {
    #[ts(type = "Array<string>")]
    pub months: Vec<Month>,
    /// Patients with at least one code in those months.
    pub patients: u32,
    /// Countable minutes.
    pub minutes: u32,
    pub units: BTreeMap<String, u32>,
    pub estimated_revenue: f64,
}

/// One report: the practice's or one care manager's, for one period.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct Report {
    pub from: Date,
    pub to: Date,
    pub as_of: Date,
    /// The day point-in-time measures are taken: the period's end, or the as-of date if earlier.
    pub end: Date,
    /// The care manager's name; none for the whole practice.
    pub care_manager: Option<String>,
    /// Patients with an `active` or `relapse-prevention` episode on `end`.
    pub caseload: u32,
    pub newly_enrolled: u32,
    pub discharged: u32,
    pub discharged_by_reason: BTreeMap<String, u32>,
    pub avg_weeks_to_discharge: Option<f64>,
    /// The caseload on `end` by payer.
    pub payer_mix: BTreeMap<String, u32>,
    /// The same as whole percentages of the caseload ([`whole_percent`]).
    pub payer_mix_percent: BTreeMap<String, u32>,
    pub contact_rate: Rate,
    pub improvement_rate: Rate,
    pub response_rate: Rate,
    pub remission_rate: Rate,
    pub consultation_rate: Rate,
    pub drr_followup_rate: Rate,
    pub drr_response_rate: Rate,
    pub drr_remission_rate: Rate,
    pub remission_12m_rate: Rate,
    pub billing: ReportBilling,
}

/// A patient behind a figure: in the denominator, and in the numerator or not.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct ReportMember {
    pub mrn: String,
    pub name: String,
    pub care_manager: Option<String>,
    pub in_numerator: bool,
    /// Why, in words: the scores, dates or codes the patient was judged on.
    pub detail: String,
}

string_enum!(
    /// A care manager's caseload against the AIMS guidance range (spec §9).
    GuidanceStatus {
        Below => "below",
        Within => "within",
        Above => "above",
    }
);

/// The AIMS caseload-size guidance the practice set for its payer mix (spec §9).
#[derive(Clone, Copy, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct CaseloadGuidance {
    pub min: u32,
    pub max: u32,
}

impl CaseloadGuidance {
    /// The range for a care manager working `fte` of full time on CoCM (the guidance is per
    /// full-time care manager): 50–80 at 0.6 FTE is 30–48, each end rounded to a patient.
    pub fn for_fte(&self, fte: f64) -> CaseloadGuidance {
        let scale = |n: u32| (f64::from(n) * fte).round() as u32;
        CaseloadGuidance { min: scale(self.min), max: scale(self.max) }
    }

    pub fn judge(&self, caseload: u32) -> GuidanceStatus {
        if caseload < self.min {
            GuidanceStatus::Below
        } else if caseload > self.max {
            GuidanceStatus::Above
        } else {
            GuidanceStatus::Within
        }
    }
}

/// One care manager's line in the program report.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct CareManagerReport {
    /// None for the patients with no care manager.
    pub member_id: Option<String>,
    pub name: String,
    /// Their CoCM FTE, where set; without one the guidance is a full-time care manager's.
    pub cocm_fte: Option<f64>,
    /// The AIMS range for their FTE, and their caseload against it.
    pub guidance: CaseloadGuidance,
    pub caseload_guidance: GuidanceStatus,
    pub report: Report,
}

/// The practice's report and each care manager's.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct ProgramReport {
    pub practice: Report,
    pub guidance: CaseloadGuidance,
    pub care_managers: Vec<CareManagerReport>,
}

impl ProgramReport {
    /// The practice's report, then each care manager's: the rows of the program report's CSV.
    pub fn reports(&self) -> Vec<Report> {
        std::iter::once(self.practice.clone()).chain(self.care_managers.iter().map(|c| c.report.clone())).collect()
    }
}

/// The Reports screen: the program report and the practice's last 12 months, for trends.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct ReportsView {
    pub program: ProgramReport,
    pub trend: Vec<Report>,
    /// What each rate counts, from the settings the rules read.
    pub labels: Vec<RateLabel>,
}

fn period(from: Date, to: Date, as_of: Date) -> Result<Period> {
    if to < from {
        return Err(Error::validation("to", format!("{to} is before the period's start {from}")));
    }
    if from > as_of {
        return Err(Error::validation("from", format!("{from} is after the as-of date {as_of}; a report cannot look ahead")));
    }
    Ok(Period { from, to, as_of, end: to.min(as_of) })
}

fn month_period(month: Month, as_of: Date) -> Result<Period> {
    period(month.first_day(), month.last_day(), as_of)
}

/// The calendar months whose billing a period reports.
fn billing_months(p: &Period) -> Vec<Month> {
    let mut months = vec![Month::of(p.from)];
    while *months.last().expect("one month") < Month::of(p.end) {
        months.push(months.last().expect("one month").next());
    }
    months
}

/// The report of one period for one scope, its billing from months already loaded.
fn judge(data: &ReportData, settings: &Settings, billing: &BillingMonths, p: Period, who: Who) -> Report {
    let (mut report, _) = evaluate::evaluate(data, settings, p, who, None);
    report.billing = billing.summarise(data, who, billing_months(&p), None);
    report
}

/// The practice's report and one per care manager (and one for patients with none, if any
/// were on the caseload during the period), judged against the AIMS guidance.
fn program(data: &ReportData, settings: &Settings, billing: &BillingMonths, p: Period) -> ProgramReport {
    let report = |who: Who| judge(data, settings, billing, p, who);
    let guidance = CaseloadGuidance { min: settings.caseload_guidance_min as u32, max: settings.caseload_guidance_max as u32 };
    let mut members: Vec<(&String, &String)> = data.care_managers.iter().collect();
    members.sort_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0)));
    let mut care_managers: Vec<CareManagerReport> = members
        .into_iter()
        .map(|(id, name)| {
            let r = report(Who::CareManager(id));
            let cocm_fte = data.care_manager_fte.get(id).copied();
            let own = cocm_fte.map_or(guidance, |fte| guidance.for_fte(fte));
            CareManagerReport {
                member_id: Some(id.clone()),
                name: name.clone(),
                cocm_fte,
                guidance: own,
                caseload_guidance: own.judge(r.caseload),
                report: r,
            }
        })
        .collect();
    let unassigned = report(Who::Unassigned);
    if unassigned.contact_rate.denominator > 0 || unassigned.newly_enrolled > 0 || unassigned.discharged > 0 {
        let name = unassigned.care_manager.clone().unwrap_or_default();
        care_managers.push(CareManagerReport {
            member_id: None,
            name,
            cocm_fte: None,
            guidance,
            caseload_guidance: guidance.judge(unassigned.caseload),
            report: unassigned,
        });
    }
    ProgramReport { practice: report(Who::Practice), guidance, care_managers }
}

impl Registry {
    /// The registry up to `last`, and the billing of `months`, whose contact days it takes.
    /// Billing (half the time) is read on a second connection in another thread while this one
    /// loads the rest, both reading one snapshot of the file (see [`Registry::snapshot_twin`]);
    /// where there is none to be had, one after the other.
    fn report_data(&self, last: Date, months: &[Month]) -> Result<(ReportData, BillingMonths)> {
        let Some((twin, snapshot)) = self.snapshot_twin()? else {
            let mut data = load::load(&self.conn, last)?;
            let billing = BillingMonths::attach(billing::ReadBilling::read(self, months, last)?, &mut data);
            return Ok((data, billing));
        };
        let (data, read) = std::thread::scope(|scope| {
            let billing = scope.spawn(move || billing::ReadBilling::read(&twin, months, last));
            let data = load::load(&self.conn, last);
            (data, billing.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        });
        drop(snapshot);
        let mut data = data?;
        let billing = BillingMonths::attach(read?, &mut data);
        Ok((data, billing))
    }

    /// The care manager's id, from an id or exact name.
    fn care_manager_id(&self, care_manager: Option<&str>) -> Result<Option<String>> {
        care_manager.map(|m| team::find(&self.conn, "care_manager", m).map(|m| m.id)).transpose()
    }

    /// New York State OMH's eleven collaborative care metrics for `month` (spec §9), for the
    /// practice or one care manager. A practice lead's or a care manager's report.
    pub fn nys_report(&mut self, month: Month, care_manager: Option<&str>) -> Result<nys::NysReport> {
        Ok(self.nys_listing(month, care_manager, None)?.0)
    }

    /// The NYS report and the patients behind one metric (`6` or `improvement_rate`; 1–10):
    /// its denominator, each counted or not, with what they were judged on.
    pub fn nys_members(&mut self, month: Month, care_manager: Option<&str>, metric: &str) -> Result<(nys::NysReport, Vec<ReportMember>)> {
        let metric = nys::metric_number("list", metric)?;
        self.nys_listing(month, care_manager, Some(metric))
    }

    fn nys_listing(&mut self, month: Month, care_manager: Option<&str>, list: Option<u8>) -> Result<(nys::NysReport, Vec<ReportMember>)> {
        self.permit(crate::access::Action::StateReport)?;
        let member = care_manager.map(|m| team::find(&self.conn, "care_manager", m)).transpose()?;
        let facts = nys::load(&self.conn, month.last_day())?;
        Ok(nys::evaluate_listing(&facts, month, member.as_ref().map(|m| (m.id.as_str(), m.name.as_str())), list))
    }

    /// A quarter's three NYS OMH reports (`2026-Q4`), from one load of the registry.
    pub fn nys_quarter(&mut self, quarter: &str, care_manager: Option<&str>) -> Result<nys::NysQuarter> {
        self.permit(crate::access::Action::StateReport)?;
        let months = nys::quarter_months("quarter", quarter)?;
        let member = care_manager.map(|m| team::find(&self.conn, "care_manager", m)).transpose()?;
        let facts = nys::load(&self.conn, months[2].last_day())?;
        let who = member.as_ref().map(|m| (m.id.as_str(), m.name.as_str()));
        let reports = months.iter().map(|m| nys::evaluate(&facts, *m, who)).collect();
        Ok(nys::NysQuarter { quarter: format!("{}-Q{}", months[0].year, (months[0].month - 1) / 3 + 1), months: reports })
    }

    /// The report for a period, for the practice or one care manager (id or exact name).
    pub fn report(&self, from: Date, to: Date, as_of: Date, care_manager: Option<&str>) -> Result<Report> {
        Ok(self.report_members(from, to, as_of, care_manager, None)?.0)
    }

    /// The report, and the patients behind one of its figures (`measure`): everyone in the
    /// denominator, each marked in the numerator or not.
    pub fn report_members(
        &self,
        from: Date,
        to: Date,
        as_of: Date,
        care_manager: Option<&str>,
        measure: Option<Measure>,
    ) -> Result<(Report, Vec<ReportMember>)> {
        let p = period(from, to, as_of)?;
        let id = self.care_manager_id(care_manager)?;
        let who = Who::of(id.as_deref());
        let months = billing_months(&p);
        let (data, billing) = self.report_data(p.end, &months)?;
        let (mut report, mut members) = evaluate::evaluate(&data, &self.settings()?, p, who, measure);
        report.billing = billing.summarise(&data, who, months, (measure == Some(Measure::Billing)).then_some(&mut members));
        Ok((report, members))
    }

    /// One report per calendar month from `from` to `to`, for trends.
    pub fn monthly_reports(&self, from: Month, to: Month, as_of: Date, care_manager: Option<&str>) -> Result<Vec<Report>> {
        if to < from {
            return Err(Error::validation("to", format!("{to} is before {from}")));
        }
        let periods: Vec<Period> = (0..=from.months_until(to)).map(|i| month_period(from.plus(i), as_of)).collect::<Result<_>>()?;
        let id = self.care_manager_id(care_manager)?;
        let who = Who::of(id.as_deref());
        let months: Vec<Month> = periods.iter().flat_map(billing_months).collect();
        let (data, billing) = self.report_data(periods.last().expect("one month").end, &months)?;
        let settings = self.settings()?;
        Ok(periods.iter().map(|p| judge(&data, &settings, &billing, *p, who)).collect())
    }

    /// The practice's report with one line per care manager (and one for patients with none,
    /// if any are on the caseload during the period), judged against the AIMS guidance.
    pub fn program_report(&self, from: Date, to: Date, as_of: Date) -> Result<ProgramReport> {
        let p = period(from, to, as_of)?;
        let (data, billing) = self.report_data(p.end, &billing_months(&p))?;
        Ok(program(&data, &self.settings()?, &billing, p))
    }

    /// The Reports screen's data: the program report for the period and the practice's 12
    /// calendar months up to the period's end, from one load of the registry.
    pub fn reports_view(&self, from: Date, to: Date, as_of: Date) -> Result<ReportsView> {
        let p = period(from, to, as_of)?;
        let first_month = Month::of(p.end).plus(-11);
        let trend_periods: Vec<Period> = (0..12).map(|i| month_period(first_month.plus(i), as_of)).collect::<Result<_>>()?;
        // A period ending mid-month still trends its whole month (to the as-of date).
        let last = trend_periods.last().map_or(p.end, |t| t.end.max(p.end));
        let months: Vec<Month> = trend_periods.iter().flat_map(billing_months).chain(billing_months(&p)).collect();
        let (data, billing) = self.report_data(last, &months)?;
        let settings = self.settings()?;
        let program = program(&data, &settings, &billing, p);
        let trend = trend_periods.iter().map(|mp| judge(&data, &settings, &billing, *mp, Who::Practice)).collect();
        Ok(ReportsView { program, trend, labels: rate_labels(&settings) })
    }
}

#[cfg(test)]
mod tests {
    use super::Rate;

    #[test]
    fn one_rounding_for_every_percentage() {
        // 5 of 8 = 62.5 % → 63 % (halves away from zero); 1 of 8 = 12.5 % → 13 %; 2 of 3 =
        // 66.67 % → 67 %; 1 of 3 = 33.33 % → 33 %; 0 of 0 has no rate at all.
        assert_eq!(Rate::new(5, 8, None).percent, Some(63));
        assert_eq!(Rate::new(1, 8, None).percent, Some(13));
        assert_eq!(Rate::new(2, 3, None).percent, Some(67));
        assert_eq!(Rate::new(1, 3, None).percent, Some(33));
        // The payer mix uses the same rounding: 1 of 8 on the caseload is 13 %.
        assert_eq!(super::whole_percent(1, 8), Some(13));
        let empty = Rate::new(0, 0, Some(80));
        assert_eq!((empty.rate, empty.percent, empty.meets_target), (None, None, None));
    }

    #[test]
    fn the_caseload_guidance_scales_with_a_care_managers_cocm_fte() {
        // §9's AIMS range is per full-time care manager. 50–80 at 0.6 FTE: 30–48 (50 × 0.6,
        // 80 × 0.6); at 0.25: 12.5 → 13 and 20; a caseload of 30 is within 30–48, 29 below,
        // 49 above.
        let full = super::CaseloadGuidance { min: 50, max: 80 };
        let part = full.for_fte(0.6);
        assert_eq!((part.min, part.max), (30, 48));
        let quarter = full.for_fte(0.25);
        assert_eq!((quarter.min, quarter.max), (13, 20));
        use super::GuidanceStatus::*;
        assert_eq!((part.judge(29), part.judge(30), part.judge(48), part.judge(49)), (Below, Within, Within, Above));
    }

    #[test]
    fn a_rate_exactly_at_its_target_meets_it() {
        // §8 contact rate target ≥ 80 %: 4 of 5 = 80 % meets it; 79 of 100 does not; 5 of 6
        // (83 %) does.
        let at = Rate::new(4, 5, Some(80));
        assert_eq!((at.percent, at.target_percent, at.meets_target), (Some(80), Some(80), Some(true)));
        assert_eq!(Rate::new(79, 100, Some(80)).meets_target, Some(false));
        assert_eq!(Rate::new(5, 6, Some(80)).meets_target, Some(true));
        // 3 of 5 = 60 % against the 60 % improvement target: met.
        assert_eq!(Rate::new(3, 5, Some(60)).meets_target, Some(true));
    }
}
