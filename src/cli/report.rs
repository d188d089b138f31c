//! `cocm report`: the program report (spec §8) for a period, per month, per care manager, or
//! the patients behind one figure. Every figure comes from the core's `reports` module.

use clap::Args;
use std::io::Write;

use serde_json::{Value, json};

use cocm::client::Client;
use cocm::dates::{self, Date, Month};
use cocm::reports::nys::{NysQuarter, NysReport};
use cocm::reports::{self, Measure, ProgramReport, Report, ReportMember};
use cocm::{Registry, Result};

use super::output::{self, stdout, table};
use super::remote;

#[derive(Args)]
pub struct ReportArgs {
    /// First day of the period (YYYY-MM-DD, or YYYY-MM for the whole month) [default: last month]
    #[arg(long)]
    from: Option<String>,
    /// Last day of the period (YYYY-MM-DD, or YYYY-MM for the whole month) [default: the end of --from's month]
    #[arg(long)]
    to: Option<String>,
    /// Only this care manager's patients (id or exact name)
    #[arg(long)]
    care_manager: Option<String>,
    /// One row per calendar month from --from to --to (YYYY-MM)
    #[arg(long, conflicts_with_all = ["by_care_manager", "list"])]
    monthly: bool,
    /// The practice and one line per care manager, against the AIMS caseload guidance
    #[arg(long, conflicts_with_all = ["care_manager", "list"])]
    by_care_manager: bool,
    /// The patients behind one figure: caseload, newly_enrolled, discharged, contact_rate,
    /// improvement_rate, response_rate, remission_rate, consultation_rate, drr_followup_rate,
    /// drr_response_rate, drr_remission_rate, remission_12m_rate or billing; with --nys-omh,
    /// a metric: 1 to 10 or its key (total_enrollment … depression_screening_yield)
    #[arg(long, value_name = "MEASURE")]
    list: Option<String>,
    /// Judge the period as of this date [default: today]
    #[arg(long)]
    as_of: Option<String>,
    /// New York State OMH's eleven collaborative care metrics for --month (spec §9)
    #[arg(long, conflicts_with_all = ["monthly", "by_care_manager", "from", "to"])]
    nys_omh: bool,
    /// The month of --nys-omh (YYYY-MM)
    #[arg(long, requires = "nys_omh")]
    month: Option<String>,
    /// --nys-omh for a quarter's three months side by side, as submitted (YYYY-Qn)
    #[arg(long, requires = "nys_omh", conflicts_with = "month")]
    quarter: Option<String>,
    #[arg(long)]
    json: bool,
    #[arg(long, conflicts_with = "json")]
    csv: bool,
}

/// A day, or a month standing for its first (or last) day.
fn day_or_month(field: &str, s: &str, last: bool) -> Result<Date> {
    match Month::parse(field, s) {
        Ok(m) if last => Ok(m.last_day()),
        Ok(m) => Ok(m.first_day()),
        Err(_) => dates::parse_date(field, s),
    }
}

fn month_of(field: &str, s: Option<&str>, default: Month) -> Result<Month> {
    s.map_or(Ok(default), |s| Month::parse(field, s))
}

/// Where the report's figures come from: the registry file, or a practice server (the same
/// core computes them either way; this is only the door).
pub trait ReportSource {
    fn record_csv_export(&mut self, details: Value) -> Result<()>;
    fn report(&mut self, from: Date, to: Date, as_of: Date, care_manager: Option<&str>) -> Result<Report>;
    fn monthly(&mut self, from: Month, to: Month, as_of: Date, care_manager: Option<&str>) -> Result<Vec<Report>>;
    fn program(&mut self, from: Date, to: Date, as_of: Date) -> Result<ProgramReport>;
    fn members(&mut self, from: Date, to: Date, as_of: Date, care_manager: Option<&str>, m: Measure)
    -> Result<(Report, Vec<ReportMember>)>;
    fn nys(&mut self, month: Month, care_manager: Option<&str>) -> Result<NysReport>;
    fn nys_quarter(&mut self, quarter: &str, care_manager: Option<&str>) -> Result<NysQuarter>;
    /// The quarter's CSV, audited as an export.
    fn nys_quarter_csv(&mut self, quarter: &str, care_manager: Option<&str>) -> Result<String>;
    /// The NYS report's CSV, audited as an export.
    fn nys_csv(&mut self, month: Month, care_manager: Option<&str>) -> Result<String>;
    fn nys_members(&mut self, month: Month, care_manager: Option<&str>, metric: &str) -> Result<(NysReport, Vec<ReportMember>)>;
}

impl ReportSource for Registry {
    fn record_csv_export(&mut self, details: Value) -> Result<()> {
        self.record_export("report-csv", details)
    }
    fn report(&mut self, from: Date, to: Date, as_of: Date, care_manager: Option<&str>) -> Result<Report> {
        Registry::report(self, from, to, as_of, care_manager)
    }
    fn monthly(&mut self, from: Month, to: Month, as_of: Date, care_manager: Option<&str>) -> Result<Vec<Report>> {
        self.monthly_reports(from, to, as_of, care_manager)
    }
    fn program(&mut self, from: Date, to: Date, as_of: Date) -> Result<ProgramReport> {
        self.program_report(from, to, as_of)
    }
    fn members(
        &mut self,
        from: Date,
        to: Date,
        as_of: Date,
        care_manager: Option<&str>,
        m: Measure,
    ) -> Result<(Report, Vec<ReportMember>)> {
        self.report_members(from, to, as_of, care_manager, Some(m))
    }
    fn nys(&mut self, month: Month, care_manager: Option<&str>) -> Result<NysReport> {
        self.nys_report(month, care_manager)
    }
    fn nys_quarter(&mut self, quarter: &str, care_manager: Option<&str>) -> Result<NysQuarter> {
        Registry::nys_quarter(self, quarter, care_manager)
    }
    fn nys_quarter_csv(&mut self, quarter: &str, care_manager: Option<&str>) -> Result<String> {
        let q = Registry::nys_quarter(self, quarter, care_manager)?;
        self.record_export("nys-omh-csv", json!({ "quarter": q.quarter, "care_manager": care_manager }))?;
        reports::nys::quarter_csv(&q)
    }
    fn nys_csv(&mut self, month: Month, care_manager: Option<&str>) -> Result<String> {
        let report = self.nys_report(month, care_manager)?;
        self.record_export("nys-omh-csv", json!({ "month": month.to_string(), "care_manager": care_manager }))?;
        reports::nys::to_csv(&report)
    }
    fn nys_members(&mut self, month: Month, care_manager: Option<&str>, metric: &str) -> Result<(NysReport, Vec<ReportMember>)> {
        Registry::nys_members(self, month, care_manager, metric)
    }
}

impl ReportSource for &Client {
    fn record_csv_export(&mut self, details: Value) -> Result<()> {
        self.call("record_export", json!({ "what": "report-csv", "details": details })).map(drop)
    }
    fn report(&mut self, from: Date, to: Date, as_of: Date, care_manager: Option<&str>) -> Result<Report> {
        let args = json!({ "from": from, "to": to, "asOfDate": as_of, "careManager": care_manager });
        remote::typed(self.call("report", args)?)
    }
    fn monthly(&mut self, from: Month, to: Month, as_of: Date, care_manager: Option<&str>) -> Result<Vec<Report>> {
        let args = json!({ "from": from.to_string(), "to": to.to_string(), "asOfDate": as_of, "careManager": care_manager });
        remote::typed(self.call("monthly_reports", args)?)
    }
    fn program(&mut self, from: Date, to: Date, as_of: Date) -> Result<ProgramReport> {
        remote::typed(self.call("program_report", json!({ "from": from, "to": to, "asOfDate": as_of }))?)
    }
    fn members(
        &mut self,
        from: Date,
        to: Date,
        as_of: Date,
        care_manager: Option<&str>,
        m: Measure,
    ) -> Result<(Report, Vec<ReportMember>)> {
        let args = json!({ "from": from, "to": to, "asOfDate": as_of, "careManager": care_manager, "measure": m.as_str() });
        remote::typed(self.call("report_members", args)?)
    }
    fn nys(&mut self, month: Month, care_manager: Option<&str>) -> Result<NysReport> {
        remote::typed(self.call("nys_report", json!({ "month": month.to_string(), "careManager": care_manager }))?)
    }
    fn nys_quarter(&mut self, quarter: &str, care_manager: Option<&str>) -> Result<NysQuarter> {
        remote::typed(self.call("nys_quarter", json!({ "quarter": quarter, "careManager": care_manager }))?)
    }
    fn nys_quarter_csv(&mut self, quarter: &str, care_manager: Option<&str>) -> Result<String> {
        let csv = self.call("nys_quarter_csv", json!({ "quarter": quarter, "careManager": care_manager }))?;
        Ok(csv.as_str().unwrap_or_default().to_string())
    }
    fn nys_csv(&mut self, month: Month, care_manager: Option<&str>) -> Result<String> {
        let csv = self.call("nys_csv", json!({ "month": month.to_string(), "careManager": care_manager }))?;
        Ok(csv.as_str().unwrap_or_default().to_string())
    }
    fn nys_members(&mut self, month: Month, care_manager: Option<&str>, metric: &str) -> Result<(NysReport, Vec<ReportMember>)> {
        remote::typed(self.call("nys_members", json!({ "month": month.to_string(), "careManager": care_manager, "metric": metric }))?)
    }
}

pub fn run(source: &mut dyn ReportSource, a: ReportArgs) -> Result<()> {
    if a.nys_omh
        && let Some(quarter) = &a.quarter
    {
        if a.csv {
            return write_out(&source.nys_quarter_csv(quarter, a.care_manager.as_deref())?);
        }
        let q = source.nys_quarter(quarter, a.care_manager.as_deref())?;
        if a.json {
            return output::json(&q);
        }
        for month in &q.months {
            print_nys(month)?;
        }
        return Ok(());
    }
    if a.nys_omh {
        let month = a.month.as_deref().ok_or_else(|| cocm::Error::validation("month", "give --month YYYY-MM or --quarter YYYY-Qn"))?;
        let month = Month::parse("month", month)?;
        if let Some(metric) = &a.list {
            let (report, members) = source.nys_members(month, a.care_manager.as_deref(), metric)?;
            if a.csv {
                source.record_csv_export(json!({ "nys_omh": month.to_string(), "care_manager": a.care_manager, "list": metric }))?;
            }
            let label = format!("NYS OMH {metric}, {}", report.month);
            return print_member_rows(&label, &members, a.json, a.csv);
        }
        if a.csv {
            return write_out(&source.nys_csv(month, a.care_manager.as_deref())?);
        }
        let report = source.nys(month, a.care_manager.as_deref())?;
        return if a.json { output::json(&report) } else { print_nys(&report) };
    }
    if a.csv {
        let details = json!({ "from": a.from, "to": a.to, "care_manager": a.care_manager, "list": a.list, "monthly": a.monthly });
        source.record_csv_export(details)?;
    }
    let as_of = a.as_of.as_deref().map_or_else(|| Ok(dates::today()), |s| dates::parse_date("as-of", s))?;
    let last_month = Month::of(as_of).plus(-1);
    if a.monthly {
        let from = month_of("from", a.from.as_deref(), last_month.plus(-11))?;
        let to = month_of("to", a.to.as_deref(), last_month)?;
        let reports = source.monthly(from, to, as_of, a.care_manager.as_deref())?;
        return print_reports(&reports, a.json, a.csv);
    }
    let from = a.from.as_deref().map_or(Ok(last_month.first_day()), |s| day_or_month("from", s, false))?;
    let to = a.to.as_deref().map_or(Ok(Month::of(from).last_day()), |s| day_or_month("to", s, true))?;
    if let Some(measure) = &a.list {
        let measure = Measure::parse("list", measure)?;
        let (report, members) = source.members(from, to, as_of, a.care_manager.as_deref(), measure)?;
        return print_members(&report, measure, &members, a.json, a.csv);
    }
    if a.by_care_manager {
        let program = source.program(from, to, as_of)?;
        return print_program(&program, a.json, a.csv);
    }
    let report = source.report(from, to, as_of, a.care_manager.as_deref())?;
    if a.json {
        // The contract: one report is one object; `--monthly` and `--by-care-manager` are lists.
        return output::json(&report);
    }
    if a.csv {
        return print_reports(std::slice::from_ref(&report), false, true);
    }
    print_report(&report)
}

fn print_nys(r: &NysReport) -> Result<()> {
    let mut out = stdout();
    writeln!(out, "NYS OMH collaborative care metrics, {} ({})", r.month, r.care_manager.as_deref().unwrap_or("the practice"))?;
    let rows: Vec<Vec<String>> = r
        .metrics()
        .into_iter()
        .map(|(n, name, value, rate)| {
            let of = rate.map_or(String::new(), |r| format!("{} of {}", r.numerator, r.denominator));
            let target = rate.and_then(|r| r.target_percent).map_or(String::new(), |t| format!("≥ {t} %"));
            vec![n.to_string(), name.replace('_', " "), value, of, target]
        })
        .collect();
    table(&["#", "METRIC", "VALUE", "OF", "TARGET"], &rows)?;
    for reading in &r.readings {
        writeln!(stdout(), "  * {reading}")?;
    }
    Ok(())
}

fn write_out(text: &str) -> Result<()> {
    let mut out = stdout();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn print_reports(reports: &[Report], as_json: bool, as_csv: bool) -> Result<()> {
    if as_csv {
        return write_out(&reports::to_csv(reports)?);
    }
    if as_json {
        return output::json(reports);
    }
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            let mut row =
                vec![Month::of(r.from).to_string(), r.caseload.to_string(), r.newly_enrolled.to_string(), r.discharged.to_string()];
            row.extend([&r.contact_rate, &r.improvement_rate, &r.consultation_rate].map(percent));
            row.extend([units(r), format!("{:.2}", r.billing.estimated_revenue)]);
            row
        })
        .collect();
    table(&["MONTH", "CASELOAD", "NEW", "DISCHARGED", "CONTACT", "IMPROVED", "CONSULTED", "UNITS", "EST $"], &rows)
}

fn percent(rate: &reports::Rate) -> String {
    rate.percent.map_or("-".into(), |p| format!("{p} %"))
}

fn units(r: &Report) -> String {
    let units: Vec<String> = r.billing.units.iter().map(|(code, n)| format!("{code}×{n}")).collect();
    if units.is_empty() { "no codes".into() } else { units.join(" ") }
}

fn print_report(r: &Report) -> Result<()> {
    let mut out = stdout();
    let whose = r.care_manager.as_deref().unwrap_or("the practice");
    writeln!(
        out,
        "Program report for {whose}, {} to {}{}",
        r.from,
        r.to,
        if r.end < r.to { format!(" (as of {})", r.end) } else { String::new() }
    )?;
    let reasons: Vec<String> = r.discharged_by_reason.iter().map(|(k, v)| format!("{k} {v}")).collect();
    writeln!(out, "Caseload on {}: {}   newly enrolled: {}   discharged: {}", r.end, r.caseload, r.newly_enrolled, r.discharged)?;
    if !reasons.is_empty() {
        let weeks = r.avg_weeks_to_discharge.map(|w| format!(", on average {w:.1} weeks after enrolment")).unwrap_or_default();
        writeln!(out, "Discharged by reason: {}{weeks}", reasons.join(", "))?;
    }
    writeln!(out)?;
    out.flush()?;
    let rows: Vec<Vec<String>> = reports::rates(r)
        .iter()
        .map(|(key, rate)| {
            let target = match (rate.target, rate.meets_target) {
                (Some(t), Some(met)) => format!("≥ {:.0} % ({})", t * 100.0, if met { "met" } else { "not met" }),
                (Some(t), None) => format!("≥ {:.0} %", t * 100.0),
                _ => String::new(),
            };
            vec![key.to_string(), rate.numerator.to_string(), rate.denominator.to_string(), percent(rate), target]
        })
        .collect();
    table(&["MEASURE", "NUMERATOR", "DENOMINATOR", "RATE", "TARGET"], &rows)?;
    let b = &r.billing;
    let months: Vec<String> = b.months.iter().map(Month::to_string).collect();
    println!(
        "\nBilling {}: {} patients billed · {} countable minutes · {} · estimated ${:.2} (fee estimates)",
        months.join(", "),
        b.patients,
        b.minutes,
        units(r),
        b.estimated_revenue
    );
    Ok(())
}

fn print_program(p: &ProgramReport, as_json: bool, as_csv: bool) -> Result<()> {
    if as_json {
        // The contract: the per-care-manager lines as one array; the practice is `report --json`.
        return output::json(&p.care_managers);
    }
    if as_csv {
        return write_out(&reports::to_csv(&p.reports())?);
    }
    let mut rows: Vec<Vec<String>> = vec![];
    for (name, guidance, r) in
        std::iter::once(("Practice".to_string(), String::new(), &p.practice)).chain(p.care_managers.iter().map(|c| {
            let fte = c.cocm_fte.map_or(String::new(), |f| format!(" ({}–{} at {f:.2} FTE)", c.guidance.min, c.guidance.max));
            (c.name.clone(), format!("{}{fte}", c.caseload_guidance), &c.report)
        }))
    {
        let mut row = vec![name, r.caseload.to_string(), guidance];
        row.extend([&r.contact_rate, &r.improvement_rate, &r.consultation_rate].map(percent));
        row.extend([r.billing.minutes.to_string(), units(r)]);
        rows.push(row);
    }
    table(&["", "CASELOAD", "GUIDANCE", "CONTACT", "IMPROVED", "CONSULTED", "MINUTES", "UNITS"], &rows)?;
    println!(
        "\nAIMS caseload guidance: {}–{} active patients per full-time care manager (practice setting)",
        p.guidance.min, p.guidance.max
    );
    Ok(())
}

fn print_members(r: &Report, measure: Measure, members: &[ReportMember], as_json: bool, as_csv: bool) -> Result<()> {
    print_member_rows(&format!("{measure}, {} to {}", r.from, r.end), members, as_json, as_csv)
}

/// The patients behind a figure, as a table ending in "<label>: 3 of 5 patients".
fn print_member_rows(label: &str, members: &[ReportMember], as_json: bool, as_csv: bool) -> Result<()> {
    if as_json {
        return output::json(members);
    }
    if as_csv {
        return write_out(&reports::members_to_csv(members)?);
    }
    let rows: Vec<Vec<String>> = members
        .iter()
        .map(|m| {
            let yes = if m.in_numerator { "yes" } else { "no" };
            vec![m.mrn.clone(), m.name.clone(), m.care_manager.clone().unwrap_or_default(), yes.into(), m.detail.clone()]
        })
        .collect();
    table(&["MRN", "NAME", "CARE MANAGER", "COUNTED", "WHY"], &rows)?;
    let counted = members.iter().filter(|m| m.in_numerator).count();
    println!("\n{label}: {counted} of {} patients", members.len());
    Ok(())
}
