//! Loads calendar months' billing from the registry, set-based: the team, episodes and
//! enrolled patients once each; then, a month at a time (the month before first, for its
//! history), the month's contacts from the covering `contacts_by_date` index and the older
//! history of the few episodes that need it, and applies the rules of `billing`, each month's
//! countable contacts becoming the next one's history. Only one month's contacts are in memory
//! at once, however long the run.

use rusqlite::Connection;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use super::programs::{self, ProgramFrom};
use super::{
    BilledContact, BillingRow, CodeUnits, ContactFacts, ExcludedMinutes, ExclusionReason, MonthKind, Program, RuleBook, codes_text,
    counted_roles, exclusion, month_kind, no_rule_set_warning, rule_book,
};
use crate::Result;
use crate::coverage::{self, Coverage};
use crate::dates::{self, Date, Month};
use crate::id_index::{IdIndex, canonical_uuid};
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

/// One contact of the month, as loaded: its patient and episode by place, never by id (a
/// year of contacts is 300,000 of them, and each id string was an allocation and, looked up,
/// a cache miss).
struct MonthContact {
    /// The patient's place in [`BilledPatients`] (`usize::MAX`: one the load did not see).
    patient: usize,
    /// The episode's place in id order (`usize::MAX`: one the load did not see).
    episode: usize,
    /// The patient's and episode's ids when either is one the load did not see (foreign keys
    /// make that a contact written behind the registry's back); else none.
    unseen: Option<Box<(String, String)>>,
    /// The episode's program as enrolled.
    program: Program,
    episode_start: Date,
    created_at: String,
    facts: ContactFacts,
    contact: BilledContact,
}

impl MonthContact {
    /// The id of an episode the load did not see, which its place alone cannot tell apart
    /// from another; else empty.
    fn unknown_episode(&self) -> &str {
        match &self.unseen {
            Some(ids) if self.episode == usize::MAX => &ids.1,
            _ => "",
        }
    }

    /// Whether two contacts (sorted next to each other) are in one row: same patient, same
    /// episode (an unseen one by its id, compared only then).
    fn same_row(&self, other: &MonthContact) -> bool {
        (self.patient, self.episode) == (other.patient, other.episode)
            && (self.episode != usize::MAX || self.unknown_episode() == other.unknown_episode())
    }

    fn patient_id<'a>(&'a self, book: &'a Book) -> &'a str {
        match &self.unseen {
            Some(ids) => &ids.0,
            None => &book.patients.list[self.patient].id,
        }
    }

    fn episode_id<'a>(&'a self, book: &'a Book) -> &'a str {
        match &self.unseen {
            Some(ids) => &ids.1,
            None => &book.episode_ids[self.episode],
        }
    }

    /// The contact as a row lists it, its strings moved out (each contact is listed once).
    fn take_contact(&mut self) -> BilledContact {
        BilledContact { id: std::mem::take(&mut self.contact.id), author: std::mem::take(&mut self.contact.author), ..self.contact.clone() }
    }
}

/// An episode's dates, as billing needs them.
#[derive(Clone, Copy)]
struct EpisodeDates {
    /// Its patient's place in [`BilledPatients`] (`usize::MAX`: not loaded), and their id's
    /// key (see `id_index`): a contact naming the same patient takes the place without a
    /// lookup of its own.
    patient: usize,
    patient_key: Option<u128>,
    start: Date,
    consent: Option<Date>,
    discharge: Option<Date>,
    entered_in_error: bool,
    program: Program,
}

impl Default for EpisodeDates {
    fn default() -> Self {
        EpisodeDates {
            patient: usize::MAX,
            patient_key: None,
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
    pub id: String,
    mrn: String,
    name: String,
    pub dob: Date,
    pub coverages: Vec<Coverage>,
    pcp: Option<String>,
    pcp_credential: Option<Credential>,
    /// The billing practitioner's (the PCP's) NPI.
    pub pcp_npi: Option<String>,
    /// Their APCM periods (§7a).
    apcm: Vec<programs::Span>,
}

/// The patients a billing load read, in load order, found by id or by place.
#[derive(Default)]
pub(crate) struct BilledPatients {
    list: Vec<BilledPatient>,
    index: IdIndex,
}

impl BilledPatients {
    pub fn get(&self, id: &str) -> Option<&BilledPatient> {
        self.index.get(id).map(|i| &self.list[i])
    }

    /// Each patient, by place (a [`MonthSums::patient`] is one).
    pub fn iter(&self) -> impl Iterator<Item = &BilledPatient> {
        self.list.iter()
    }
}

/// How much of each row a caller reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// Everything, warnings included (the billing screen, claims, exports): [`BillingRow`]s.
    Full,
    /// A report's: [`MonthSums`].
    Sums,
}

/// A report's reading of one patient-month and episode: what it sums, with no names, MRNs,
/// PCP, rule-set key, contacts or warnings (a year of those strings was most of a 12-month
/// report's time).
pub(crate) struct MonthSums {
    /// The patient's place in the load's [`BilledPatients`].
    pub patient: usize,
    pub month_kind: MonthKind,
    pub minutes: u32,
    pub codes: Vec<CodeUnits>,
    pub estimated_revenue: f64,
}

/// A month as a report reads it: its rows, in no order, and each patient's contact days
/// (every contact but those entered in error or under an enrolment entered in error), by
/// patient place, unsorted and with repeats.
#[derive(Default)]
pub(crate) struct MonthOfSums {
    pub rows: Vec<MonthSums>,
    pub contact_days: Vec<(usize, Date)>,
}

/// What a month's rows become, by [`Detail`].
enum MonthRows {
    Full(Vec<BillingRow>),
    Sums(MonthOfSums),
}

/// What every month's rows are read against, loaded once.
struct Book {
    detail: Detail,
    settings: settings::Settings,
    rules: RuleBook,
    patients: BilledPatients,
    /// Each episode's dates and id, by place (id order), and its place by id.
    episodes: Vec<EpisodeDates>,
    episode_ids: Vec<String>,
    episode_index: IdIndex,
    /// Each episode's program changes, by place.
    program_changes: Vec<Vec<ProgramFrom>>,
}

/// The billing rows of a month up to `until` (its last day when none), for the whole practice
/// or one patient.
pub(crate) fn rows(conn: &Connection, month: Month, until: Option<Date>, patient_id: Option<&str>) -> Result<Vec<BillingRow>> {
    Ok(months(conn, month, month, until, patient_id)?.pop().map(|(_, rows)| rows).unwrap_or_default())
}

/// A whole month's rows and the patients they were read with (claim lines need their
/// coverage, date of birth and PCP's NPI; loaded once, here).
pub(crate) fn rows_and_patients(conn: &Connection, month: Month) -> Result<(Vec<BillingRow>, BilledPatients)> {
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
type MonthsAndPatients = (Vec<(Month, Vec<BillingRow>)>, BilledPatients);

fn load(conn: &Connection, from: Month, to: Month, until: Option<Date>, patient_id: Option<&str>) -> Result<MonthsAndPatients> {
    let mut out = Vec::new();
    let patients = each_month(conn, from, to, until, patient_id, Detail::Full, &mut |month, rows, _| {
        if let MonthRows::Full(rows) = rows {
            out.push((month, rows));
        }
        Ok(())
    })?;
    Ok((out, patients))
}

/// The practice's months from `from` to `to` as a report sums them, handed to `on_month` a
/// month at a time in order with the patients read (a year of reports keeps only what it needs
/// of each, never every row at once); returns the patients read.
pub(crate) fn each_month_sums(
    conn: &Connection,
    from: Month,
    to: Month,
    until: Option<Date>,
    on_month: &mut dyn FnMut(Month, MonthOfSums, &BilledPatients) -> Result<()>,
) -> Result<BilledPatients> {
    each_month(conn, from, to, until, None, Detail::Sums, &mut |month, rows, patients| match rows {
        MonthRows::Sums(sums) => on_month(month, sums, patients),
        MonthRows::Full(_) => Ok(()),
    })
}

/// The rows of each month from `from` to `to`, handed to `on_month` a month at a time in
/// order; returns the patients read.
fn each_month(
    conn: &Connection,
    from: Month,
    to: Month,
    until: Option<Date>,
    patient_id: Option<&str>,
    detail: Detail,
    on_month: &mut dyn FnMut(Month, MonthRows, &BilledPatients) -> Result<()>,
) -> Result<BilledPatients> {
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
    // Each contact's author by place (a year's contacts look 300,000 of them up).
    let mut author_index = IdIndex::default();
    let authors: Vec<(&str, Role)> = team
        .iter()
        .enumerate()
        .map(|(i, (id, (name, role)))| {
            author_index.insert(id, i);
            (name.as_str(), *role)
        })
        .collect();
    let date = |s: Option<String>| s.as_deref().and_then(dates::parse_iso);
    let one_patient: Vec<&dyn rusqlite::ToSql> = patient_id.iter().map(|p| p as &dyn rusqlite::ToSql).collect();
    let where_patient = |column: &str| if patient_id.is_some() { format!(" WHERE {column} = ?1") } else { String::new() };
    let mut patients = BilledPatients::default();
    {
        let mut coverages = coverage::by_patient(conn, patient_id.map_or(coverage::Whose::Enrolled, coverage::Whose::Patient))?;
        let mut apcm = programs::apcm_by_patient(conn, patient_id)?;
        // Every patient with an episode (a practice's patients never enrolled bill nothing here).
        let sql = match patient_id {
            Some(_) => "SELECT id, mrn, name, pcp_id, dob FROM patients WHERE id = ?1".to_string(),
            None => "SELECT id, mrn, name, pcp_id, dob FROM patients WHERE id IN (SELECT patient_id FROM episodes)".to_string(),
        };
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(one_patient.as_slice())?;
        while let Some(r) = rows.next()? {
            let (id, pcp_id): (String, Option<String>) = (r.get(0)?, r.get(3)?);
            patients.index.insert(&id, patients.list.len());
            patients.list.push(BilledPatient {
                mrn: r.get(1)?,
                name: r.get(2)?,
                dob: date(r.get(4)?).unwrap_or_default(),
                coverages: coverages.remove(&id).unwrap_or_default(),
                pcp: pcp_id.as_ref().and_then(|id| team.get(id).map(|(name, _)| name.clone())),
                pcp_credential: pcp_id.as_ref().and_then(|id| credentials.get(id).copied()),
                pcp_npi: pcp_id.as_ref().and_then(|id| npis.get(id).cloned()),
                apcm: apcm.remove(&id).unwrap_or_default(),
                id,
            });
        }
    }
    let (mut episodes, mut episode_ids, mut episode_index) = (Vec::new(), Vec::new(), IdIndex::default());
    {
        let sql = format!(
            "SELECT id, start_date, consent_date, discharge_date, voided_at IS NOT NULL, program, patient_id FROM episodes{} ORDER BY id",
            where_patient("patient_id")
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(one_patient.as_slice())?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            episode_index.insert(&id, episodes.len());
            episode_ids.push(id);
            let patient_id = text(r, 6)?;
            episodes.push(EpisodeDates {
                patient: patients.index.get(patient_id).unwrap_or(usize::MAX),
                patient_key: canonical_uuid(patient_id),
                start: date(r.get(1)?).unwrap_or_default(),
                consent: date(r.get(2)?),
                discharge: date(r.get(3)?),
                entered_in_error: r.get(4)?,
                program: Program::parse("program", &r.get::<_, String>(5)?).unwrap_or(Program::Cocm),
            });
        }
    }
    let mut changes = programs::changes(conn, patient_id)?;
    let book = Book {
        detail,
        rules: rule_book(conn)?,
        program_changes: episode_ids.iter().map(|id| changes.remove(id).unwrap_or_default()).collect(),
        settings,
        patients,
        episodes,
        episode_ids,
        episode_index,
    };

    // One month's contacts (to `last_day`), from the covering `contacts_by_date` index; by
    // patient and episode, each episode's contacts in date order.
    let mut contacts_stmt = conn.prepare_cached(&format!(
        "SELECT c.id, c.patient_id, c.episode_id, c.date, c.minutes, c.author_id, c.voided_at IS NOT NULL, c.created_at
         FROM contacts c WHERE c.date BETWEEN ?1 AND ?2{patient_filter}"
    ))?;
    // `full`: with each contact's id, author and entry time, which only a row of the billing
    // screen lists; a report's months and the lead-in (read for its countable months alone) go
    // without.
    let mut read_month = |month: Month, full: bool| -> Result<Vec<MonthContact>> {
        let full_text = |r: &rusqlite::Row, i: usize| -> rusqlite::Result<String> { if full { r.get(i) } else { Ok(String::new()) } };
        let (month_first, month_last) = (month.first_day().to_string(), month.last_day().min(last_day).to_string());
        let mut params: Vec<&dyn rusqlite::ToSql> = vec![&month_first, &month_last];
        if let Some(p) = &patient_id {
            params.push(p);
        }
        let mut contacts = Vec::new();
        let mut rows = contacts_stmt.query(params.as_slice())?;
        while let Some(r) = rows.next()? {
            let (patient_id, episode_id) = (text(r, 1)?, text(r, 2)?);
            let episode_place = book.episode_index.get(episode_id);
            let episode = episode_place.map(|i| book.episodes[i]).unwrap_or_default();
            let patient = match canonical_uuid(patient_id) {
                Some(key) if episode.patient != usize::MAX && episode.patient_key == Some(key) => Some(episode.patient),
                _ => book.patients.index.get(patient_id),
            };
            let unseen = match (patient, episode_place) {
                (Some(_), Some(_)) => None,
                _ => Some(Box::new((patient_id.to_string(), episode_id.to_string()))),
            };
            let author_id = text(r, 5)?;
            let member = author_index.get(author_id).map(|i| authors[i]);
            let role = member.map_or(Role::PracticeLead, |(_, role)| role);
            let author = match (full, member) {
                (false, _) => String::new(),
                (true, Some((name, _))) => name.to_string(),
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
            contacts.push(MonthContact {
                patient: patient.unwrap_or(usize::MAX),
                episode: episode_place.unwrap_or(usize::MAX),
                unseen,
                program: episode.program,
                episode_start: episode.start,
                created_at: full_text(r, 7)?,
                facts,
                contact,
            });
        }
        // By patient, episode (an unseen one by its id), date and entry; the strings are
        // compared only where the numbers tie (most of a year's sort was comparing empty ones).
        contacts.sort_unstable_by(|a, b| {
            (a.patient, a.episode_start, a.episode)
                .cmp(&(b.patient, b.episode_start, b.episode))
                .then_with(|| if a.episode == usize::MAX { a.unknown_episode().cmp(b.unknown_episode()) } else { Ordering::Equal })
                .then(a.facts.date.cmp(&b.facts.date))
                .then_with(|| a.created_at.cmp(&b.created_at))
        });
        Ok(contacts)
    };

    // The last countable month before the month being read, per episode place: the lead-in's
    // countable contacts give most episodes theirs.
    let mut last_before: Vec<Option<Month>> = vec![None; book.episodes.len()];
    for c in read_month(lead_in, false)? {
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

    // Whether a patient (by place) had an assessment in a month (for the initial-month
    // warning), asked only of the initial months. One patient's: through the covering
    // `assessments_by_patient` index. The practice's: the month's assessed patients in one pass
    // over the covering `assessments_by_date` index, the first time the month asks (a lookup
    // per initial month decrypted a page apiece: a tenth of a 12-month report's time).
    let mut one_assessed_stmt = conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM assessments WHERE patient_id = ?1 AND date BETWEEN ?2 AND ?3 AND voided_at IS NULL)",
    )?;
    let mut month_assessed_stmt =
        conn.prepare_cached("SELECT patient_id FROM assessments WHERE date BETWEEN ?1 AND ?2 AND voided_at IS NULL")?;
    let mut assessed_in: Option<(Month, Vec<bool>)> = None;
    let patients = &book.patients;
    let mut assessed = |patient: &str, month: Month| -> Result<bool> {
        let (first_day, last_day) = (month.first_day().to_string(), month.last_day().to_string());
        if patient_id.is_some() {
            return Ok(one_assessed_stmt.query_row((patient, &first_day, &last_day), |r| r.get(0))?);
        }
        if assessed_in.as_ref().is_none_or(|(m, _)| *m != month) {
            let mut seen = vec![false; patients.list.len()];
            let mut rows = month_assessed_stmt.query((&first_day, &last_day))?;
            while let Some(r) = rows.next()? {
                if let Some(p) = patients.index.get(text(r, 0)?) {
                    seen[p] = true;
                }
            }
            assessed_in = Some((month, seen));
        }
        let place = patients.index.get(patient);
        Ok(assessed_in.as_ref().is_some_and(|(_, seen)| place.is_some_and(|p| seen[p])))
    };

    for i in 0..=from.months_until(to).max(0) {
        let month = from.plus(i);
        let contacts = if month.first_day() > last_day { Vec::new() } else { read_month(month, detail == Detail::Full)? };
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
            let last: Option<String> = history_stmt.query_row((&first, &horizon, &book.episode_ids[c.episode]), |r| r.get(0))?;
            if let Some(d) = last.as_deref().and_then(dates::parse_iso) {
                set(&mut last_before, c.episode, Month::of(d));
            }
        }
        let rows = month_rows(month, contacts, &book, &mut assessed, &mut last_before)?;
        on_month(month, rows, &book.patients)?;
    }
    Ok(book.patients)
}

/// One month's rows from its contacts, one per patient and episode; afterwards `last_before`
/// holds this month for every episode counted in it, ready for the next month.
fn month_rows(
    month: Month,
    mut contacts: Vec<MonthContact>,
    book: &Book,
    assessed: &mut dyn FnMut(&str, Month) -> Result<bool>,
    last_before: &mut [Option<Month>],
) -> Result<MonthRows> {
    let full = book.detail == Detail::Full;
    // One row per patient-month and episode (§7: a new registry episode starts over): the
    // contacts arrive sorted, so each row's are a run of them; each run with its patient.
    let mut groups: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
    for (i, c) in contacts.iter().enumerate() {
        match groups.last_mut() {
            Some((_, g)) if contacts[g.start].same_row(c) => g.end = i + 1,
            _ => groups.push((c.patient, i..i + 1)),
        }
    }
    let mut out = Vec::with_capacity(if full { groups.len() } else { 0 });
    let mut sums = MonthOfSums { rows: Vec::with_capacity(if full { 0 } else { groups.len() }), contact_days: Vec::new() };
    // The runs arrive by patient: a patient's runs are the episodes they have this month.
    for same_patient in groups.chunk_by(|a, b| a.0 == b.0) {
        for (_, range) in same_patient {
            let list = &mut contacts[range.clone()];
            match month_row(month, list, same_patient.len(), book, assessed, last_before)? {
                Row::Full(row) => out.push(*row),
                Row::Sums(row) => {
                    let real = list.iter().filter(|c| {
                        !matches!(c.contact.excluded, Some(ExclusionReason::EnteredInError | ExclusionReason::EnrolmentEnteredInError))
                    });
                    sums.contact_days.extend(real.map(|c| (row.patient, c.facts.date)));
                    sums.rows.push(row);
                }
                Row::Unseen => {}
            }
        }
    }
    if !full {
        return Ok(MonthRows::Sums(sums));
    }
    out.sort_by(|a, b| (&a.mrn, a.episode_start).cmp(&(&b.mrn, b.episode_start)));
    Ok(MonthRows::Full(out))
}

/// One row, as [`Detail`] asks.
enum Row {
    Full(Box<BillingRow>),
    Sums(MonthSums),
    /// A report's row of a patient the load did not see (no report lists one).
    Unseen,
}

/// The row of one patient-month and episode, from its contacts (in date order).
fn month_row(
    month: Month,
    list: &mut [MonthContact],
    episodes_in_month: usize,
    book: &Book,
    assessed: &mut dyn FnMut(&str, Month) -> Result<bool>,
    last_before: &mut [Option<Month>],
) -> Result<Row> {
    let full = book.detail == Detail::Full;
    let (episode_place, episode_start) = (list[0].episode, list[0].episode_start);
    let unknown = BilledPatient::default();
    let patient = book.patients.list.get(list[0].patient).unwrap_or(&unknown);
    // §7a: the primary coverage on the date of service (the month's last day).
    let primary = coverage::primary_on(&patient.coverages, month.last_day());
    let (payer, plan) = (primary.map(|c| c.payer), primary.and_then(|c| c.plan.as_deref()));
    let minutes: u32 = list.iter().filter(|c| c.contact.excluded.is_none()).map(|c| c.contact.minutes).sum();
    // What countable minutes count as in this episode; a month with none has no kind.
    let counts_as = month_kind(month, last(last_before, episode_place), book.settings.billing_restart_gap_months);
    let kind = if minutes == 0 { MonthKind::None } else { counts_as };
    if minutes > 0 {
        set(last_before, episode_place, month);
    }

    // §7a: the episode's program this month, or the APCM add-ons in an APCM month (when the
    // year has an `apcm-bhi` rule set; before 2026 the episode's own codes are billed).
    let enrolled = list[0].program;
    let changes = book.program_changes.get(episode_place).map_or(&[][..], |c| c.as_slice());
    let episode_program = programs::program_in(enrolled, changes, month);
    let apcm_month = programs::apcm_in(&patient.apcm, month);
    let apcm_rules = apcm_month.then(|| book.rules.find(Program::ApcmBhi, payer, plan, month.year)).flatten();
    let program = if apcm_rules.is_some() { Program::ApcmBhi } else { episode_program };
    // A month whose year has no rule set still shows its minutes (with a warning): rates and
    // charts never depend on billing rules.
    let rule_set = apcm_rules.or_else(|| book.rules.find(program, payer, plan, month.year));
    let table = rule_set.and_then(|set| set.rules.table(kind, episode_program));
    let codes = rule_set.zip(table).map(|(set, t)| set.rules.codes(t, minutes, patient.pcp_credential)).unwrap_or_default();
    let estimated_revenue = rule_set.map_or(0.0, |s| s.rules.revenue(&codes));

    if !full {
        if list[0].patient == usize::MAX {
            return Ok(Row::Unseen);
        }
        return Ok(Row::Sums(MonthSums { patient: list[0].patient, month_kind: kind, minutes, codes, estimated_revenue }));
    }

    let mut excluded: BTreeMap<ExclusionReason, u32> = BTreeMap::new();
    for c in list.iter() {
        if let Some(reason) = c.contact.excluded {
            *excluded.entry(reason).or_default() += c.contact.minutes;
        }
    }
    let mut warnings = Vec::new();
    if apcm_month && apcm_rules.is_none() {
        warnings.push(format!("APCM this month, but no apcm-bhi rule set for {}: billed as {episode_program}", month.year));
    }
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
        warnings.push(format!("{episodes_in_month} episodes this month: this row bills the episode enrolled {episode_start} on its own"));
    }
    if list.iter().any(|c| c.facts.consent.is_none()) {
        warnings.push("no consent recorded".to_string());
    }
    let patient_id = list[0].patient_id(book).to_string();
    if kind == MonthKind::Initial && !assessed(&patient_id, month)? {
        warnings.push("initial month without an assessment".to_string());
    }
    for (reason, m) in &excluded {
        warnings.push(format!("{m} minutes excluded: {reason}"));
    }
    Ok(Row::Full(Box::new(BillingRow {
        estimated_revenue,
        minutes_to_next_tier: rule_set
            .and_then(|s| s.rules.table(counts_as, episode_program))
            .and_then(|t| t.minutes_to_next_tier(minutes)),
        mrn: patient.mrn.clone(),
        name: patient.name.clone(),
        patient_id,
        payer,
        plan: plan.map(str::to_string),
        pcp: patient.pcp.clone(),
        program,
        rule_set: rule_set.map(|s| s.key.to_string()),
        month,
        episode_id: list[0].episode_id(book).to_string(),
        episode_start,
        month_kind: kind,
        minutes,
        excluded: excluded.into_iter().map(|(reason, minutes)| ExcludedMinutes { reason, minutes }).collect(),
        codes_text: codes_text(&codes),
        codes,
        unit_minutes,
        held_for_consent,
        warnings,
        contacts: list.iter_mut().map(MonthContact::take_contact).collect(),
    })))
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
