//! Loads calendar months' billing from the registry, set-based: the team, episodes and
//! enrolled patients once each; then, a month at a time (the month before first, for its
//! history), the month's contacts from the covering `contacts_by_date` index and the older
//! history of the few episodes that need it, and applies the rules of `billing`, each month's
//! countable contacts becoming the next one's history. Only one month's contacts are in memory
//! at once, however long the run.

use rusqlite::Connection;
use std::collections::{BTreeMap, HashMap, HashSet};

use super::programs::{self, ProgramFrom};
use super::{
    BilledContact, BillingRow, ContactFacts, ExcludedMinutes, ExclusionReason, MonthKind, Program, RuleBook, codes_text, counted_roles,
    exclusion, month_kind, no_rule_set_warning, rule_book,
};
use crate::Result;
use crate::coverage::{self, Coverage};
use crate::dates::{self, Date, Month};
use crate::settings;
use crate::snapshot::text;
use crate::team::Credential;
use crate::vocab::Role;

/// The latest countable contact date of one episode (?3) from the horizon (?2) to before ?1:
/// the same rule as [`exclusion`], as SQL, so the scan reads only the `contacts_by_episode`
/// index. Asked only of the episodes the lead-in month (see [`months`]) leaves without a
/// history. The billing tests check the SQL and the Rust rule agree, reason by reason.
fn last_countable_before_sql(roles: &[Role]) -> String {
    let roles: Vec<String> = roles.iter().map(|r| format!("'{}'", r.as_str())).collect();
    format!(
        "SELECT MAX(c.date) FROM episodes e JOIN contacts c ON c.episode_id = e.id
         WHERE e.id = ?3 AND e.consent_date IS NOT NULL AND e.voided_at IS NULL
           AND c.date < ?1 AND c.date >= ?2 AND c.date >= e.consent_date
           AND (e.discharge_date IS NULL OR c.date <= e.discharge_date)
           AND c.voided_at IS NULL
           AND c.author_id IN (SELECT id FROM team_members WHERE role IN ({}))",
        roles.join(", ")
    )
}

/// One contact of the month, as loaded.
struct MonthContact {
    /// The patient's place in `patients`, to group by without comparing ids.
    patient: usize,
    patient_id: String,
    /// The episode's place in id order, to sort and group by without comparing ids.
    episode: usize,
    episode_id: String,
    /// The episode's program as enrolled.
    program: Program,
    episode_start: Date,
    created_at: String,
    facts: ContactFacts,
    contact: BilledContact,
}

impl MonthContact {
    /// The id of an episode the load did not see (foreign keys make that a contact written
    /// behind the registry's back), which the index alone cannot tell apart; else empty.
    fn unknown_episode(&self) -> &str {
        if self.episode == usize::MAX { &self.episode_id } else { "" }
    }
}

/// An episode's dates, as billing needs them.
#[derive(Clone, Copy)]
struct EpisodeDates {
    /// Its place in id order.
    index: usize,
    start: Date,
    consent: Option<Date>,
    discharge: Option<Date>,
    entered_in_error: bool,
    program: Program,
}

impl Default for EpisodeDates {
    fn default() -> Self {
        EpisodeDates {
            index: usize::MAX,
            start: Date::default(),
            consent: None,
            discharge: None,
            entered_in_error: false,
            program: Program::Cocm,
        }
    }
}

/// A patient as billing (and its claim lines) need them.
#[derive(Clone, Default)]
pub(crate) struct BilledPatient {
    /// Their place in the load order, to group by without comparing ids.
    index: usize,
    mrn: String,
    name: String,
    pub dob: Date,
    pub coverages: Vec<Coverage>,
    pcp: Option<String>,
    pcp_credential: Option<Credential>,
    /// The billing practitioner's (the PCP's) NPI.
    pub pcp_npi: Option<String>,
}

/// How much of each row a caller reads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detail {
    /// Everything, warnings included (the billing screen, claims, exports).
    Full,
    /// A report's: minutes, codes, revenue and each contact's date, minutes and exclusion,
    /// by patient id, in no order. No names, MRNs, PCP, rule-set key, contact ids or authors
    /// (a report finds its patients by id), and no initial-month warning (it reads every
    /// assessment of the month); a year of those strings was most of a 12-month report's time.
    Sums,
}

/// What every month's rows are read against, loaded once.
struct Book {
    detail: Detail,
    settings: settings::Settings,
    rules: RuleBook,
    patients: HashMap<String, BilledPatient>,
    episodes: HashMap<String, EpisodeDates>,
    program_changes: HashMap<String, Vec<ProgramFrom>>,
    apcm: HashMap<String, Vec<programs::Span>>,
}

/// The billing rows of a month up to `until` (its last day when none), for the whole practice
/// or one patient.
pub(crate) fn rows(conn: &Connection, month: Month, until: Option<Date>, patient_id: Option<&str>) -> Result<Vec<BillingRow>> {
    Ok(months(conn, month, month, until, patient_id)?.pop().map(|(_, rows)| rows).unwrap_or_default())
}

/// A whole month's rows and the patients they were read with, by id (claim lines need their
/// coverage, date of birth and PCP's NPI; loaded once, here).
pub(crate) fn rows_and_patients(conn: &Connection, month: Month) -> Result<(Vec<BillingRow>, HashMap<String, BilledPatient>)> {
    let (mut months, patients) = load(conn, month, month, None, None)?;
    Ok((months.pop().map(|(_, rows)| rows).unwrap_or_default(), patients))
}

/// The billing rows of each month from `from` to `to`, for the whole practice or one patient.
/// Contacts dated after `until` are not seen, so a month read as of a day inside it is the
/// month so far.
pub(crate) fn months(
    conn: &Connection,
    from: Month,
    to: Month,
    until: Option<Date>,
    patient_id: Option<&str>,
) -> Result<Vec<(Month, Vec<BillingRow>)>> {
    Ok(load(conn, from, to, until, patient_id)?.0)
}

/// [`months`], and the patients it read.
type MonthsAndPatients = (Vec<(Month, Vec<BillingRow>)>, HashMap<String, BilledPatient>);

fn load(conn: &Connection, from: Month, to: Month, until: Option<Date>, patient_id: Option<&str>) -> Result<MonthsAndPatients> {
    let mut out = Vec::new();
    let patients = each_month(conn, from, to, until, patient_id, Detail::Full, &mut |month, rows| {
        out.push((month, rows));
        Ok(())
    })?;
    Ok((out, patients))
}

/// The billing rows of each month from `from` to `to`, handed to `on_month` a month at a time
/// in order (a year of reports keeps only what it needs of each, never every row at once);
/// returns the patients read.
pub(crate) fn each_month(
    conn: &Connection,
    from: Month,
    to: Month,
    until: Option<Date>,
    patient_id: Option<&str>,
    detail: Detail,
    on_month: &mut dyn FnMut(Month, Vec<BillingRow>) -> Result<()>,
) -> Result<HashMap<String, BilledPatient>> {
    let settings = settings::load(conn)?;
    let roles = counted_roles(&settings);
    let last_day = until.map_or(to.last_day(), |u| u.min(to.last_day()));
    // The month before `from` is loaded too, as a lead-in: its countable contacts give most
    // episodes their last countable month before `from` by the Rust rule, and only the rest need
    // the per-episode history query below (which reads far more of the file).
    let lead_in = from.plus(-1);
    let first = lead_in.first_day().to_string();
    let patient_filter = if patient_id.is_some() { " AND c.patient_id = ?3" } else { "" };

    // The team, episodes and patients, read once each (for one patient, or the whole practice,
    // which is cheaper than picking out those with contacts); the month's contacts then come
    // from the covering `contacts_by_date` index alone.
    let mut credentials: HashMap<String, Credential> = HashMap::new();
    let mut npis: HashMap<String, String> = HashMap::new();
    let team: HashMap<String, (String, Role)> = conn
        .prepare_cached("SELECT id, name, role, credential, npi FROM team_members")?
        .query_map([], |r| {
            let (id, role, credential): (String, String, Option<String>) = (r.get(0)?, r.get(2)?, r.get(3)?);
            Ok((id, (r.get(1)?, Role::parse("role", &role).unwrap_or(Role::PracticeLead)), credential, r.get::<_, Option<String>>(4)?))
        })?
        .map(|row| {
            row.map(|(id, member, credential, npi)| {
                if let Some(c) = credential.and_then(|c| Credential::parse("credential", &c).ok()) {
                    credentials.insert(id.clone(), c);
                }
                if let Some(npi) = npi {
                    npis.insert(id.clone(), npi);
                }
                (id, member)
            })
        })
        .collect::<rusqlite::Result<_>>()?;
    let date = |s: Option<String>| s.as_deref().and_then(dates::parse_iso);
    let one_patient: Vec<&dyn rusqlite::ToSql> = patient_id.iter().map(|p| p as &dyn rusqlite::ToSql).collect();
    let where_patient = |column: &str| if patient_id.is_some() { format!(" WHERE {column} = ?1") } else { String::new() };
    let mut episodes: HashMap<String, EpisodeDates> = HashMap::new();
    {
        let sql = format!(
            "SELECT id, start_date, consent_date, discharge_date, voided_at IS NOT NULL, program FROM episodes{} ORDER BY id",
            where_patient("patient_id")
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(one_patient.as_slice())?;
        while let Some(r) = rows.next()? {
            let dates = EpisodeDates {
                index: episodes.len(),
                start: date(r.get(1)?).unwrap_or_default(),
                consent: date(r.get(2)?),
                discharge: date(r.get(3)?),
                entered_in_error: r.get(4)?,
                program: Program::parse("program", &r.get::<_, String>(5)?).unwrap_or(Program::Cocm),
            };
            episodes.insert(r.get(0)?, dates);
        }
    }
    let mut patients: HashMap<String, BilledPatient> = HashMap::new();
    {
        let mut coverages = coverage::by_patient(conn, patient_id.map_or(coverage::Whose::Enrolled, coverage::Whose::Patient))?;
        // Every patient with an episode (a practice's patients never enrolled bill nothing here).
        let sql = match patient_id {
            Some(_) => "SELECT id, mrn, name, pcp_id, dob FROM patients WHERE id = ?1".to_string(),
            None => "SELECT id, mrn, name, pcp_id, dob FROM patients WHERE id IN (SELECT patient_id FROM episodes)".to_string(),
        };
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(one_patient.as_slice())?;
        while let Some(r) = rows.next()? {
            let (id, pcp_id): (String, Option<String>) = (r.get(0)?, r.get(3)?);
            let patient = BilledPatient {
                index: patients.len(),
                mrn: r.get(1)?,
                name: r.get(2)?,
                dob: date(r.get(4)?).unwrap_or_default(),
                coverages: coverages.remove(&id).unwrap_or_default(),
                pcp: pcp_id.as_ref().and_then(|id| team.get(id).map(|(name, _)| name.clone())),
                pcp_credential: pcp_id.as_ref().and_then(|id| credentials.get(id).copied()),
                pcp_npi: pcp_id.as_ref().and_then(|id| npis.get(id).cloned()),
            };
            patients.insert(id, patient);
        }
    }
    let book = Book {
        detail,
        rules: rule_book(conn)?,
        program_changes: programs::changes(conn, patient_id)?,
        apcm: programs::apcm_by_patient(conn, patient_id)?,
        settings,
        patients,
        episodes,
    };

    // One month's contacts (to `last_day`), from the covering `contacts_by_date` index; by
    // patient and episode, each episode's contacts in date order.
    let mut contacts_stmt = conn.prepare_cached(&format!(
        "SELECT c.id, c.patient_id, c.episode_id, c.date, c.minutes, c.author_id, c.voided_at IS NOT NULL, c.created_at
         FROM contacts c WHERE c.date BETWEEN ?1 AND ?2{patient_filter}"
    ))?;
    let full = detail == Detail::Full;
    let full_text = |r: &rusqlite::Row, i: usize| -> rusqlite::Result<String> { if full { r.get(i) } else { Ok(String::new()) } };
    let mut read_month = |month: Month| -> Result<Vec<MonthContact>> {
        let (month_first, month_last) = (month.first_day().to_string(), month.last_day().min(last_day).to_string());
        let mut params: Vec<&dyn rusqlite::ToSql> = vec![&month_first, &month_last];
        if let Some(p) = &patient_id {
            params.push(p);
        }
        let mut contacts = Vec::new();
        let mut rows = contacts_stmt.query(params.as_slice())?;
        while let Some(r) = rows.next()? {
            let episode_id: String = r.get(2)?;
            let episode = book.episodes.get(&episode_id).copied().unwrap_or_default();
            let author_id = text(r, 5)?;
            let member = team.get(author_id);
            let role = member.map_or(Role::PracticeLead, |(_, role)| *role);
            // A report sums minutes by day: a contact's id, author and entry time (its order
            // among the day's contacts) are for the screens, and would be most of its strings.
            let author = match (full, member) {
                (false, _) => String::new(),
                (true, Some((name, _))) => name.clone(),
                (true, None) => author_id.to_string(),
            };
            let facts = ContactFacts {
                date: dates::parse_iso(text(r, 3)?).unwrap_or_default(),
                author_role: role,
                entered_in_error: r.get(6)?,
                episode_entered_in_error: episode.entered_in_error,
                consent: episode.consent,
                discharge: episode.discharge,
            };
            let contact = BilledContact {
                id: full_text(r, 0)?,
                date: facts.date,
                author,
                role,
                minutes: r.get(4)?,
                excluded: exclusion(&facts, &roles),
            };
            let patient_id: String = r.get(1)?;
            let patient = book.patients.get(&patient_id).map_or(usize::MAX, |p| p.index);
            let (episode_start, created_at) = (episode.start, full_text(r, 7)?);
            let (episode, program) = (episode.index, episode.program);
            contacts.push(MonthContact { patient, patient_id, episode, episode_id, program, episode_start, created_at, facts, contact });
        }
        contacts.sort_unstable_by(|a, b| {
            (a.patient, a.episode_start, a.episode, a.unknown_episode(), a.facts.date)
                .cmp(&(b.patient, b.episode_start, b.episode, b.unknown_episode(), b.facts.date))
                .then_with(|| a.created_at.cmp(&b.created_at))
        });
        Ok(contacts)
    };

    // The last countable month before the month being read, per episode: the lead-in's
    // countable contacts give most episodes theirs.
    // By episode index (see `EpisodeDates::index`): looked up for every countable contact and
    // row, where a string-keyed map's lookups were a tenth of a 12-month report's time.
    let mut last_before: Vec<Option<Month>> = vec![None; book.episodes.len()];
    for c in read_month(lead_in)? {
        if c.contact.excluded.is_none() {
            set(&mut last_before, c.episode, lead_in);
        }
    }

    // Episodes with countable minutes in a month read and none before it since the lead-in:
    // their last countable month before the lead-in, from the horizon on (older history
    // cannot make a month subsequent). Asked once per episode.
    let horizon = from.plus(-(book.settings.billing_restart_gap_months as i32)).first_day().to_string();
    let mut history_stmt = conn.prepare_cached(&last_countable_before_sql(&roles))?;
    let mut asked = vec![false; book.episodes.len()];

    // Whether a patient had an assessment in a month (for the initial-month warning), asked
    // only of the initial months. One patient's: through the covering `assessments_by_patient`
    // index. The practice's: the month's assessed patients in one pass over the covering
    // `assessments_by_date` index, the first time the month asks (a lookup per initial month
    // decrypted a page apiece: a tenth of a 12-month report's time).
    let mut one_assessed_stmt = conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM assessments WHERE patient_id = ?1 AND date BETWEEN ?2 AND ?3 AND voided_at IS NULL)",
    )?;
    let mut month_assessed_stmt =
        conn.prepare_cached("SELECT patient_id FROM assessments WHERE date BETWEEN ?1 AND ?2 AND voided_at IS NULL")?;
    let mut assessed_in: Option<(Month, HashSet<usize>)> = None;
    let patients_by_id = &book.patients;
    let mut assessed = |patient: &str, month: Month| -> Result<bool> {
        let (first_day, last_day) = (month.first_day().to_string(), month.last_day().to_string());
        if patient_id.is_some() {
            return Ok(one_assessed_stmt.query_row((patient, &first_day, &last_day), |r| r.get(0))?);
        }
        if assessed_in.as_ref().is_none_or(|(m, _)| *m != month) {
            let mut patients = HashSet::new();
            let mut rows = month_assessed_stmt.query((&first_day, &last_day))?;
            while let Some(r) = rows.next()? {
                if let Some(p) = patients_by_id.get(text(r, 0)?) {
                    patients.insert(p.index);
                }
            }
            assessed_in = Some((month, patients));
        }
        let index = patients_by_id.get(patient).map(|p| p.index);
        Ok(assessed_in.as_ref().is_some_and(|(_, patients)| index.is_some_and(|i| patients.contains(&i))))
    };

    for i in 0..=from.months_until(to).max(0) {
        let month = from.plus(i);
        let contacts = if month.first_day() > last_day { Vec::new() } else { read_month(month)? };
        for c in contacts.iter().filter(|c| c.contact.excluded.is_none()) {
            if last(&last_before, c.episode).is_some() || asked.get(c.episode).is_none_or(|asked| *asked) {
                continue;
            }
            asked[c.episode] = true;
            // Consent on or after the lead-in's first day leaves nothing countable before it
            // (the query's `c.date >= e.consent_date`): most of a year's new episodes.
            if c.facts.consent.is_none_or(|consent| consent >= lead_in.first_day()) {
                continue;
            }
            let last: Option<String> = history_stmt.query_row((&first, &horizon, &c.episode_id), |r| r.get(0))?;
            if let Some(d) = last.as_deref().and_then(dates::parse_iso) {
                set(&mut last_before, c.episode, Month::of(d));
            }
        }
        let rows = if contacts.is_empty() { Vec::new() } else { month_rows(month, contacts, &book, &mut assessed, &mut last_before)? };
        on_month(month, rows)?;
    }
    Ok(book.patients)
}

/// One month's rows from its contacts, one per patient and episode; afterwards `last_before`
/// holds this month for every episode counted in it, ready for the next month.
fn month_rows(
    month: Month,
    contacts: Vec<MonthContact>,
    book: &Book,
    assessed: &mut dyn FnMut(&str, Month) -> Result<bool>,
    last_before: &mut [Option<Month>],
) -> Result<Vec<BillingRow>> {
    // One row per patient-month and episode (§7: a new registry episode starts over).
    let mut groups: Vec<Vec<MonthContact>> = Vec::new();
    for c in contacts {
        match groups.last_mut() {
            Some(list) if (list[0].patient, list[0].episode, list[0].unknown_episode()) == (c.patient, c.episode, c.unknown_episode()) => {
                list.push(c)
            }
            _ => groups.push(vec![c]),
        }
    }
    // How many episodes each group's patient has this month: the groups arrive by patient.
    let episodes_in_month: Vec<usize> = groups
        .chunk_by(|a, b| a[0].patient == b[0].patient)
        .flat_map(|same_patient| std::iter::repeat_n(same_patient.len(), same_patient.len()))
        .collect();
    let full = book.detail == Detail::Full;
    let mut out = Vec::with_capacity(groups.len());
    for (list, episodes_in_month) in groups.into_iter().zip(episodes_in_month) {
        let pid = list[0].patient_id.clone();
        let (episode_id, episode_start) = (list[0].episode_id.clone(), list[0].episode_start);
        let unknown = BilledPatient::default();
        let patient = book.patients.get(&pid).unwrap_or(&unknown);
        // §7a: the primary coverage on the date of service (the month's last day).
        let primary = coverage::primary_on(&patient.coverages, month.last_day());
        let (payer, plan) = (primary.map(|c| c.payer), primary.and_then(|c| c.plan.clone()));
        let minutes: u32 = list.iter().filter(|c| c.contact.excluded.is_none()).map(|c| c.contact.minutes).sum();
        let mut excluded: BTreeMap<ExclusionReason, u32> = BTreeMap::new();
        for c in &list {
            if let Some(reason) = c.contact.excluded {
                *excluded.entry(reason).or_default() += c.contact.minutes;
            }
        }
        // What countable minutes count as in this episode; a month with none has no kind.
        let counts_as = month_kind(month, last(last_before, list[0].episode), book.settings.billing_restart_gap_months);
        let kind = if minutes == 0 { MonthKind::None } else { counts_as };
        let mut warnings = Vec::new();

        // §7a: the episode's program this month, or the APCM add-ons in an APCM month (when the
        // year has an `apcm-bhi` rule set; before 2026 the episode's own codes are billed).
        let enrolled = list[0].program;
        let episode_program = programs::program_in(enrolled, book.program_changes.get(&episode_id).map_or(&[], |c| c), month);
        let apcm_month = book.apcm.get(&pid).is_some_and(|periods| programs::apcm_in(periods, month));
        let apcm_rules = apcm_month.then(|| book.rules.find(Program::ApcmBhi, payer, plan.as_deref(), month.year)).flatten();
        if apcm_month && apcm_rules.is_none() {
            warnings.push(format!("APCM this month, but no apcm-bhi rule set for {}: billed as {episode_program}", month.year));
        }
        let program = if apcm_rules.is_some() { Program::ApcmBhi } else { episode_program };
        // A month whose year has no rule set still shows its minutes (with a warning): rates and
        // charts never depend on billing rules.
        let rule_set = apcm_rules.or_else(|| book.rules.find(program, payer, plan.as_deref(), month.year));
        let table = rule_set.and_then(|set| set.rules.table(kind, episode_program));
        let codes = rule_set.zip(table).map(|(set, t)| set.rules.codes(t, minutes, patient.pcp_credential)).unwrap_or_default();
        let unit_minutes = table.map(|t| t.unit_minutes(minutes)).unwrap_or_default();
        // Minutes kept out only for want of consent: what they would bill, held on a claim line.
        let without_consent: u32 = excluded.iter().filter(|(r, _)| **r == ExclusionReason::NoConsent).map(|(_, m)| m).sum();
        let held_for_consent = match (rule_set, rule_set.and_then(|set| set.rules.table(counts_as, episode_program))) {
            (Some(set), Some(t)) if without_consent > 0 && codes.is_empty() => {
                set.rules.codes(t, minutes + without_consent, patient.pcp_credential)
            }
            _ => Vec::new(),
        };
        if rule_set.is_none() {
            warnings.push(no_rule_set_warning(program, month.year));
        }
        if episodes_in_month > 1 {
            warnings
                .push(format!("{episodes_in_month} episodes this month: this row bills the episode enrolled {episode_start} on its own"));
        }
        if list.iter().any(|c| c.facts.consent.is_none()) {
            warnings.push("no consent recorded".to_string());
        }
        if kind == MonthKind::Initial && full && !assessed(&pid, month)? {
            warnings.push("initial month without an assessment".to_string());
        }
        for (reason, m) in &excluded {
            warnings.push(format!("{m} minutes excluded: {reason}"));
        }
        if minutes > 0 {
            set(last_before, list[0].episode, month);
        }
        out.push(BillingRow {
            estimated_revenue: rule_set.map_or(0.0, |s| s.rules.revenue(&codes)),
            minutes_to_next_tier: rule_set
                .and_then(|s| s.rules.table(counts_as, episode_program))
                .and_then(|t| t.minutes_to_next_tier(minutes)),
            mrn: if full { patient.mrn.clone() } else { String::new() },
            name: if full { patient.name.clone() } else { String::new() },
            patient_id: pid,
            payer,
            plan,
            pcp: if full { patient.pcp.clone() } else { None },
            program,
            rule_set: rule_set.filter(|_| full).map(|s| s.key.to_string()),
            month,
            episode_id,
            episode_start,
            month_kind: kind,
            minutes,
            excluded: excluded.into_iter().map(|(reason, minutes)| ExcludedMinutes { reason, minutes }).collect(),
            codes_text: codes_text(&codes),
            codes,
            unit_minutes,
            held_for_consent,
            warnings,
            contacts: list.into_iter().map(|c| c.contact).collect(),
        });
    }
    if full {
        out.sort_by(|a, b| (&a.mrn, a.episode_start).cmp(&(&b.mrn, b.episode_start)));
    }
    Ok(out)
}

/// An episode's last countable month before the one being read, by episode index (an episode
/// the load did not see has none).
fn last(last_before: &[Option<Month>], episode: usize) -> Option<Month> {
    last_before.get(episode).copied().flatten()
}

fn set(last_before: &mut [Option<Month>], episode: usize, month: Month) {
    if let Some(slot) = last_before.get_mut(episode) {
        *slot = Some(month);
    }
}
