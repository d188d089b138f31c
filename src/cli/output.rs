//! How `cocm` prints results: readable tables, `--json` (the core's types as they are) and
//! `--csv`. Nothing here computes a clinical or billing figure; it only formats the core's.

use serde::Serialize;
use std::io::{BufWriter, Write};

use cocm::accounts::Account;
use cocm::audit::AuditEntry;
use cocm::billing::{self, BillingRow};
use cocm::caseload::{self, CaseloadRow};
use cocm::chart::PatientChart;
use cocm::instruments::Instrument;
use cocm::measures::InstrumentMeasures;
use cocm::queue::QueueEntry;
use cocm::settings::Settings;
use cocm::team::TeamMember;
use cocm::{Error, Result};

/// Standard output, buffered: stdout alone is line-buffered, a syscall per line.
pub fn stdout() -> BufWriter<std::io::StdoutLock<'static>> {
    BufWriter::with_capacity(1 << 16, std::io::stdout().lock())
}

pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let mut out = stdout();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Prints rows as aligned columns.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = stdout();
    let line = |cells: Vec<&str>| -> String {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        padded.join("  ").trim_end().to_string()
    };
    writeln!(out, "{}", line(headers.to_vec()))?;
    for row in rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    out.flush()?;
    Ok(())
}

fn csv_out(headers: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let mut w = csv::Writer::from_writer(stdout());
    let err = |e: csv::Error| Error::Storage(format!("CSV: {e}"));
    w.write_record(headers).map_err(err)?;
    for row in rows {
        w.write_record(row).map_err(err)?;
    }
    w.flush()?;
    Ok(())
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(T::to_string).unwrap_or_default()
}

fn or_dash<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(T::to_string).unwrap_or_else(|| "-".into())
}

/// "18→9 (-50%)", with "!" when the latest PHQ-9 has item 9 positive.
fn score_cell(m: Option<&InstrumentMeasures>) -> String {
    let Some(m) = m else { return "-".into() };
    let change = m.change_pct.map(|c| format!(" ({c:+}%)")).unwrap_or_default();
    let alert = if m.latest_item9_positive { " !9" } else { "" };
    format!("{}→{}{change}{alert}", m.baseline, m.latest)
}

pub fn team(members: &[TeamMember], as_json: bool) -> Result<()> {
    if as_json {
        return json(members);
    }
    let rows: Vec<Vec<String>> = members
        .iter()
        .map(|m| vec![m.name.clone(), m.role.to_string(), m.id.clone(), opt(&m.npi), opt(&m.credential), opt(&m.cocm_fte)])
        .collect();
    table(&["NAME", "ROLE", "ID", "NPI", "CREDENTIAL", "COCM FTE"], &rows)
}

pub fn accounts(accounts: &[Account], as_json: bool) -> Result<()> {
    if as_json {
        return json(accounts);
    }
    let rows: Vec<Vec<String>> = accounts
        .iter()
        .map(|a| {
            let state = match (&a.locked_until, a.must_change_password) {
                (Some(until), _) => format!("locked until {until}"),
                (None, true) => "must change password".to_string(),
                (None, false) => "active".to_string(),
            };
            vec![a.member_name.clone(), state]
        })
        .collect();
    table(&["MEMBER", "ACCOUNT"], &rows)
}

pub fn caseload(rows: &[CaseloadRow], as_json: bool, as_csv: bool) -> Result<()> {
    if as_json {
        return json(rows);
    }
    let flags = |r: &CaseloadRow| r.flags.iter().map(|f| f.as_str()).collect::<Vec<_>>();
    if as_csv {
        let instrument = |m: &Option<InstrumentMeasures>| -> Vec<String> {
            match m {
                None => vec![String::new(); 4],
                Some(m) => vec![m.baseline.to_string(), m.latest.to_string(), m.latest_date.to_string(), opt(&m.change_pct)],
            }
        };
        let body: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                let mut row = vec![
                    r.mrn.clone(),
                    r.name.clone(),
                    opt(&r.care_manager),
                    r.status.to_string(),
                    r.weeks_in_treatment.to_string(),
                    opt(&r.last_contact),
                    r.follow_up_due.to_string(),
                    r.contacts.to_string(),
                    opt(&r.last_review),
                ];
                row.extend(instrument(&r.phq9));
                row.extend(instrument(&r.gad7));
                row.extend([r.improved.to_string(), r.response.to_string(), r.remission.to_string(), flags(r).join(";")]);
                row
            })
            .collect();
        return csv_out(
            &[
                "mrn",
                "name",
                "care_manager",
                "status",
                "weeks_in_treatment",
                "last_contact",
                "follow_up_due",
                "contacts",
                "last_review",
                "phq9_baseline",
                "phq9_latest",
                "phq9_latest_date",
                "phq9_change_pct",
                "gad7_baseline",
                "gad7_latest",
                "gad7_latest_date",
                "gad7_change_pct",
                "improved",
                "response",
                "remission",
                "flags",
            ],
            &body,
        );
    }
    let c = caseload::counts(rows);
    println!(
        "{} on caseload · {} safety · {} flagged · {} contact overdue · {} measurement overdue · {} not improving",
        c.on_caseload, c.safety, c.flagged, c.contact_overdue, c.measurement_overdue, c.not_improving
    );
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                flags(r).join(","),
                r.status.to_string(),
                r.name.clone(),
                r.mrn.clone(),
                r.weeks_in_treatment.to_string(),
                or_dash(&r.last_contact),
                r.follow_up_due.to_string(),
                r.contacts.to_string(),
                or_dash(&r.last_review),
                score_cell(r.phq9.as_ref()),
                score_cell(r.gad7.as_ref()),
                other_scales(r),
                or_dash(&r.latest_measurement),
            ]
        })
        .collect();
    table(
        &["FLAGS", "STATUS", "NAME", "MRN", "WKS", "LAST CONTACT", "DUE", "#", "LAST REVIEW", "PHQ-9", "GAD-7", "OTHER SCALES", "MEASURED"],
        &body,
    )
}

/// The targets measured by a scale other than the PHQ-9 and GAD-7: "PCL-5 52→38 (-27%)".
fn other_scales(r: &CaseloadRow) -> String {
    let others: Vec<String> = r
        .measures
        .iter()
        .filter(|m| m.instrument != Instrument::PHQ9 && m.instrument != Instrument::GAD7)
        .map(|m| format!("{} {}", m.instrument.label(), score_cell(Some(&m.numbers))))
        .collect();
    if others.is_empty() { "-".into() } else { others.join(", ") }
}

pub fn queue(entries: &[QueueEntry], as_json: bool) -> Result<()> {
    if as_json {
        return json(entries);
    }
    let body: Vec<Vec<String>> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let reasons: Vec<String> = e.reasons.iter().map(|r| format!("{} since {}", r.reason, r.since)).collect();
            vec![(i + 1).to_string(), e.mrn.clone(), e.name.clone(), opt(&e.care_manager), score_cell(e.phq9.as_ref()), reasons.join("; ")]
        })
        .collect();
    table(&["#", "MRN", "NAME", "CARE MANAGER", "PHQ-9", "REASONS"], &body)
}

pub fn billing(rows: &[BillingRow], as_json: bool, as_csv: bool) -> Result<()> {
    if as_json {
        return json(rows);
    }
    let excluded = |r: &BillingRow| r.excluded.iter().map(|e| format!("{}:{}", e.reason, e.minutes)).collect::<Vec<_>>().join(";");
    if as_csv {
        let mut out = stdout();
        out.write_all(billing::to_csv(rows)?.as_bytes())?;
        out.flush()?;
        return Ok(());
    }
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.mrn.clone(),
                r.name.clone(),
                r.month_kind.to_string(),
                r.minutes.to_string(),
                excluded(r),
                r.codes_text.clone(),
                or_dash(&r.minutes_to_next_tier),
                format!("{:.2}", r.estimated_revenue),
                r.warnings.join("; "),
            ]
        })
        .collect();
    table(&["MRN", "NAME", "MONTH", "MIN", "EXCLUDED", "CODES", "TO NEXT", "EST $", "WARNINGS"], &body)?;
    let t = billing::totals(rows);
    let units: Vec<String> = t.units.iter().map(|(c, u)| format!("{c} ×{u}")).collect();
    println!(
        "\n{} patients billed · {} countable minutes · {} excluded · {} · estimated ${:.2} (fee estimates)",
        t.patients,
        t.minutes,
        t.excluded_minutes,
        if units.is_empty() { "no codes".into() } else { units.join(", ") },
        t.estimated_revenue
    );
    Ok(())
}

pub fn settings(s: &Settings, as_json: bool) -> Result<()> {
    if as_json {
        return json(s);
    }
    let value = serde_json::to_value(s)?;
    let rows: Vec<Vec<String>> = value
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !matches!(k.as_str(), "instrument_rules" | "thresholds"))
        .map(|(k, v)| vec![k.clone(), v.to_string()])
        .collect();
    table(&["SETTING", "VALUE"], &rows)?;
    // §3a thresholds, one settings key each (`cocm settings set pcl5.remission_below 30`).
    println!();
    let thresholds: Vec<Vec<String>> = s
        .thresholds
        .iter()
        .map(|t| {
            let changed = if t.value == t.default { "" } else { "changed" };
            vec![t.key.clone(), t.value.to_string(), t.default.to_string(), t.meaning.clone(), changed.to_string()]
        })
        .collect();
    table(&["THRESHOLD", "VALUE", "DEFAULT", "MEANING", ""], &thresholds)
}

pub fn audit(entries: &[AuditEntry], as_json: bool) -> Result<()> {
    if as_json {
        return json(entries);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| vec![e.at.clone(), e.actor.clone(), e.action.clone(), e.record_type.clone(), opt(&e.record_id), e.details.to_string()])
        .collect();
    table(&["AT (UTC)", "WHO", "ACTION", "RECORD", "ID", "DETAILS"], &rows)
}

pub fn chart(c: &PatientChart, as_json: bool) -> Result<()> {
    if as_json {
        return json(c);
    }
    let p = &c.patient;
    let name = |m: &Option<TeamMember>| m.as_ref().map(|m| m.name.clone()).unwrap_or_else(|| "-".into());
    println!("{} (MRN {}), born {}, {}", p.name, p.mrn, p.dob, p.payer.map_or("no coverage", |p| p.as_str()));
    for cov in p.coverages.iter().filter(|c| c.entered_in_error.is_none()) {
        let order = if cov.secondary { "secondary" } else { "primary" };
        let from = cov.from.map_or("—".into(), |f| f.to_string());
        let to = cov.to.map_or("open".into(), |t| t.to_string());
        println!(
            "  coverage: {order} {}{} from {from} to {to}",
            cov.payer,
            cov.plan.as_ref().map(|p| format!(" ({p})")).unwrap_or_default()
        );
    }
    println!("PCP {} · care manager {} · consultant {}", name(&p.pcp), name(&p.care_manager), name(&p.consultant));
    let err =
        |e: &Option<cocm::voids::EnteredInError>| e.as_ref().map(|e| format!("  [entered in error: {}]", e.reason)).unwrap_or_default();
    for e in &c.episodes {
        let targets: Vec<&str> = e.targets.iter().map(|t| t.as_str()).collect();
        let end = e.discharge_date.map(|d| format!(" → discharged {d} ({})", opt(&e.discharge_reason))).unwrap_or_default();
        println!(
            "Episode from {} ({}), consent {}, {}{end}{}  enrolment {}",
            e.start_date,
            targets.join("+"),
            or_dash(&e.consent_date),
            e.status,
            err(&e.entered_in_error),
            e.id
        );
        for s in &e.status_history {
            let reason = s.reason.map(|r| format!(" ({r})")).unwrap_or_default();
            println!("  {}  {}{reason}{}  status-change {}", s.date, s.status, err(&s.entered_in_error), s.id);
        }
        for x in &e.consents {
            println!("  {}  consent{}  consent {}", x.date, err(&x.entered_in_error), x.id);
        }
    }
    if let Some(r) = &c.current {
        println!(
            "As of {}: week {}, last contact {}, follow-up due {}, PHQ-9 {}, GAD-7 {}",
            c.as_of,
            r.weeks_in_treatment,
            or_dash(&r.last_contact),
            r.follow_up_due,
            score_cell(r.phq9.as_ref()),
            score_cell(r.gad7.as_ref())
        );
        let flags: Vec<&str> = r.flags.iter().map(|f| f.as_str()).collect();
        println!("Flags: {}", if flags.is_empty() { "none".into() } else { flags.join(", ") });
    }
    if !c.queue_reasons.is_empty() {
        let reasons: Vec<String> = c.queue_reasons.iter().map(|r| format!("{} since {}", r.reason, r.since)).collect();
        println!("In the consult queue: {}", reasons.join("; "));
    }
    if let Some(b) = &c.billing_this_month {
        println!(
            "This month: {} countable minutes ({}), {} minutes to the next tier",
            b.minutes,
            if b.codes.is_empty() { "no code yet" } else { b.codes_text.as_str() },
            or_dash(&b.minutes_to_next_tier)
        );
    }
    println!("\nAssessments:");
    for a in &c.assessments {
        let alert = if a.item9_positive {
            "  item 9 positive"
        } else if a.total_only {
            "  imported, total only (item 9 unknown)"
        } else {
            ""
        };
        println!("  {}  {}  {:>2} {}{alert}{}  {}", a.date, a.instrument.label(), a.total, a.severity, err(&a.entered_in_error), a.id);
    }
    println!("Contacts:");
    for x in &c.contacts {
        println!("  {}  {:>3} min  {} by {} ({}){}  {}", x.date, x.minutes, x.kind, x.author.name, x.mode, err(&x.entered_in_error), x.id);
    }
    for r in &c.review_requests {
        let state = r.closed_by_review_on.map(|d| format!("closed by review {d}")).unwrap_or_else(|| "open".into());
        println!("Review request {} by {}: {} ({state}){}", r.date, r.requested_by, r.reason, err(&r.entered_in_error));
    }
    for r in &c.case_reviews {
        let parts: Vec<String> = [
            ("medication", &r.medication),
            ("psychotherapy", &r.psychotherapy),
            ("referral", &r.referral),
            ("other", &r.other),
            ("note", &r.note),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
        println!("Case review {} by {}: {}{}", r.date, r.consultant, parts.join("; "), err(&r.entered_in_error));
    }
    for t in &c.treatment_changes {
        println!("Treatment {} {}: {}{}", t.date, t.kind, t.description, err(&t.entered_in_error));
    }
    Ok(())
}
