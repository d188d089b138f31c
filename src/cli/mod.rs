//! Argument parsing and dispatch for `cocm`. The command set is a contract (see README.md).

mod billing;
mod catalogue;
mod fhir;
mod import;
mod mfa;
mod output;
mod population;
mod questionnaire;
mod remote;
mod report;
mod serve;

use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

use cocm::assessments::NewAssessment;
use cocm::contacts::NewContact;
use cocm::dates::{self, Date, Month};
use cocm::demo::{self, DemoOptions};
use cocm::episodes::Enrolment;
use cocm::instruments;
use cocm::keyring::RecoveryKey;
use cocm::patients::{NewPatient, PatientChanges};
use cocm::reviews::{NewCaseReview, NewReviewRequest};
use cocm::store::default_registry_path;
use cocm::team::MemberEdit;
use cocm::treatment::NewTreatmentChange;
use cocm::vocab::{DischargeReason, EpisodeStatus, Role};
use cocm::voids::RecordKind;
use cocm::{Error, Registry, Result};

#[derive(Parser)]
#[command(name = "cocm", version, about = "CoCM Registry: a collaborative-care registry for depression and anxiety")]
pub struct Cli {
    /// The registry file [default: $COCM_DB, else registry.cocm in the user's data directory]
    #[arg(long, global = true, value_name = "FILE")]
    db: Option<PathBuf>,
    /// Who signs in, by team member id or exact name [default: $COCM_AS]; the password comes
    /// from $COCM_PASSWORD, else a prompt that does not echo
    #[arg(long = "as", global = true, value_name = "MEMBER")]
    as_member: Option<String>,
    /// Open the registry with its recovery key instead ($COCM_RECOVERY_KEY, else a prompt):
    /// emergency access with a practice lead's permissions, e.g. to reset a lead's password
    #[arg(long, global = true, conflicts_with = "as_member")]
    recovery_key: bool,
    /// Run the command against a practice server (https://host:port) instead of a file, signed
    /// in as --as; its certificate is pinned on first use or with --fingerprint
    #[arg(long, global = true, value_name = "URL", conflicts_with_all = ["db", "recovery_key"])]
    server: Option<String>,
    /// The server certificate's SHA-256 fingerprint (as `cocm serve` prints it), pinned from now on
    #[arg(long, global = true, value_name = "SHA256", requires = "server")]
    fingerprint: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new, empty, encrypted registry and its practice lead's account (the lead's
    /// password from $COCM_PASSWORD, else a prompt); prints the recovery key once
    Init {
        #[arg(long)]
        practice: String,
        /// The practice lead's name; they sign in first and add the team
        #[arg(long)]
        lead: String,
    },
    /// Create a registry filled with the demo practice
    Demo {
        /// Synthetic patients to add on top of the demo practice, for scale
        #[arg(long, default_value_t = 0)]
        patients: usize,
        /// Synthetic practice patients not in collaborative care (a year of visits and screens each)
        #[arg(long, default_value_t = 0)]
        practice_patients: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The date the demo's histories are written relative to [default: today]
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
    },
    /// Team members
    #[command(subcommand)]
    Team(TeamCommand),
    /// Your second factor (an authenticator app's codes): set it up, see it; a lead resets one
    #[command(subcommand)]
    Mfa(MfaCommand),
    /// Patients
    #[command(subcommand)]
    Patient(PatientCommand),
    /// Enrol a patient in collaborative care (opens an episode)
    Enroll {
        mrn: String,
        #[arg(long)]
        date: String,
        #[arg(long)]
        consent: Option<String>,
        /// depression, anxiety, ptsd, pediatric-behavioral, comma separated [default: depression]
        #[arg(long)]
        targets: Option<String>,
        /// The targets' primary scales, comma separated (e.g. pcl5, phq-a, smfq); a target left
        /// out takes its default for the patient's age (`cocm instruments`)
        #[arg(long)]
        primary_scale: Option<String>,
        /// cocm [default] or general-bhi (spec §7a)
        #[arg(long)]
        program: Option<String>,
        /// ICD-10-CM chapter 5 codes, comma separated, the first primary (e.g. F33.1,F41.1)
        #[arg(long)]
        diagnosis: Option<String>,
    },
    /// The instrument catalogue: every form, its items, answers, bands and rules, and each
    /// target's default scales (no registry needed)
    Instruments {
        /// One form's items and answers in full (e.g. pcl5)
        id: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A practice lead corrects a target's primary scale on the open episode, before its second score
    PrimaryScale {
        mrn: String,
        /// The target whose scale is corrected (depression, anxiety, ptsd, pediatric-behavioral)
        #[arg(long)]
        target: String,
        /// The scale it is measured by from now on (e.g. phq-a, smfq)
        #[arg(long)]
        scale: String,
    },
    /// Record consent for the patient's open episode
    Consent {
        mrn: String,
        #[arg(long)]
        date: String,
    },
    /// Record an instrument's answers, item by item
    Assess {
        mrn: String,
        #[arg(long)]
        date: String,
        /// An instrument's id: phq9, gad7, phq-a, pcl5, psc17, smfq-c, smfq-p, scared-c,
        /// scared-p, phq2, gad2, auditc (`cocm instruments` lists their items and answers)
        #[arg(long)]
        instrument: String,
        /// Answers, item 1 first, comma separated
        #[arg(long)]
        items: String,
        /// PHQ-9 functional question: not-difficult-at-all, somewhat-difficult, very-difficult, extremely-difficult
        #[arg(long)]
        difficulty: Option<String>,
    },
    /// Record a depression screen (PHQ-2, PHQ-9, PHQ-A) for any patient, enrolled or not
    Screen {
        mrn: String,
        #[arg(long)]
        date: String,
        /// phq2, phq9 or phq-a
        #[arg(long)]
        instrument: String,
        /// Answers, item 1 first, comma separated
        #[arg(long)]
        items: String,
    },
    /// A patient's visits (date, provider category, codes, modality), for the screening metrics
    #[command(subcommand)]
    Visit(population::VisitCommand),
    /// Questionnaire links patients answer themselves: send, list, cancel, mark answers reviewed
    #[command(subcommand)]
    Questionnaire(questionnaire::QuestionnaireCommand),
    /// Referral candidates: patients whose latest depression screen is positive (PHQ-2 ≥ 3,
    /// PHQ-9 or PHQ-A ≥ 10) and who have no open episode, newest first
    Candidates {
        /// Only screens on or after this date (YYYY-MM-DD)
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Log a care-team contact
    Contact {
        mrn: String,
        #[arg(long)]
        date: String,
        #[arg(long, allow_hyphen_values = true)]
        minutes: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        mode: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Ask the psychiatric consultant to review a patient
    Flag {
        mrn: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: String,
        /// [default: today]
        #[arg(long)]
        date: Option<String>,
    },
    /// Record the psychiatric consultant's case review
    Review {
        mrn: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        date: String,
        /// The recommendation for the PCP (free text)
        #[arg(long, default_value = "")]
        recommendation: String,
        #[arg(long, default_value = "")]
        medication: String,
        #[arg(long, default_value = "")]
        psychotherapy: String,
        #[arg(long, default_value = "")]
        referral: String,
        #[arg(long, default_value = "")]
        other: String,
    },
    /// Record a treatment change (medication or psychotherapy started or changed)
    Treatment {
        mrn: String,
        #[arg(long)]
        date: String,
        /// medication-started, medication-changed, psychotherapy-started, psychotherapy-changed, other
        #[arg(long)]
        kind: String,
        #[arg(long)]
        description: String,
    },
    /// Change the open episode's status
    Status {
        mrn: String,
        /// relapse-prevention, active or discharged
        #[arg(long)]
        to: String,
        #[arg(long)]
        date: String,
        /// Discharge reason
        #[arg(long)]
        reason: Option<String>,
    },
    /// Mark a record entered in error (records are never deleted)
    Void {
        /// assessment, contact, review, flag, treatment-change, enrolment, consent, status-change, apcm-period or coverage
        kind: String,
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// The caseload: patients active or in relapse prevention on the as-of date
    Caseload {
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long)]
        care_manager: Option<String>,
        #[command(flatten)]
        format: Format,
    },
    /// The psychiatric consultant's review queue
    Queue {
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The month's billing-minute summary, one row per patient-month
    Billing {
        #[arg(long)]
        month: String,
        /// Claim lines instead of patient-months: one per code, with coverage, NPI, date and
        /// place of service, diagnoses, charge, and why a line is held (spec §7a)
        #[arg(long)]
        claims: bool,
        #[command(flatten)]
        format: Format,
    },
    /// The program report: caseload, quality measures and billing for a period (spec §8)
    Report(report::ReportArgs),
    /// Practice settings (the spec's defaults)
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Billing rule sets by program, payer, plan and the year they take effect (spec §7a)
    #[command(subcommand)]
    Rules(billing::RulesCommand),
    /// A patient's coverage records (spec §7a): billing uses the primary one on the date of service
    #[command(subcommand)]
    Coverage(billing::CoverageCommand),
    /// The open episode's ICD-10-CM diagnoses (chapter 5, F01–F99): a claim needs one
    #[command(subcommand)]
    Diagnosis(billing::DiagnosisCommand),
    /// The open episode's billing program (cocm or general-bhi) from a month on; without
    /// --to/--from, its program history
    Program {
        mrn: String,
        #[arg(long)]
        to: Option<String>,
        /// YYYY-MM: the first month billed under the new program
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The months the PCP bills Advanced Primary Care Management for the patient (their CoCM
    /// and general BHI months become the APCM add-ons): --from D [--to D], --end D, or nothing
    /// to list them
    Apcm {
        mrn: String,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        end: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Convert a plain registry (written before encryption) into an encrypted one in place, and
    /// create the practice lead's account (password from $COCM_PASSWORD, else a prompt); prints
    /// the recovery key once
    Encrypt {
        /// The practice lead who signs in first: an existing practice lead, or a new one
        #[arg(long)]
        lead: String,
    },
    /// Export the registry (practice lead; audited)
    #[command(subcommand)]
    Export(ExportCommand),
    /// Import records from a practice's files (practice lead; audited by file and row)
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Re-encrypt the registry under a new key, sealed to every account and the recovery key
    /// (after a suspected leak of a password or a copy of the file)
    Rekey,
    /// The audit log, newest first; with --patient, who viewed or changed that patient's
    /// record and when, oldest first
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, value_name = "MRN")]
        patient: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Copy the registry (and its key file) while it is in use; the copy opens with the same
    /// passwords or the recovery key
    Backup {
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Check a registry or backup: integrity, foreign keys, the audit chain, the schema version
    Verify {
        /// The file to check [default: the registry, --db]
        file: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Serve the registry to the practice over HTTPS: browsers, desktop apps and `cocm --server`
    /// connect to it. Unlocked at start by a practice lead (--as, $COCM_PASSWORD or a prompt)
    /// or with --recovery-key; runs until Ctrl-C or SIGTERM
    Serve(serve::ServeArgs),
    /// Restore a backup to a new file (it must not exist), after verifying the backup
    Restore {
        backup: PathBuf,
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
}

#[derive(Args)]
#[group(multiple = false)]
struct Format {
    #[arg(long)]
    json: bool,
    #[arg(long)]
    csv: bool,
}

#[derive(Subcommand)]
pub(crate) enum MfaCommand {
    /// Set up your second factor: shows a QR code and the secret, asks for a first code
    /// ($COCM_TOTP), prints ten single-use recovery codes once
    Enrol,
    /// Whether you have one, and how many recovery codes are left
    Status {
        #[arg(long)]
        json: bool,
    },
    /// A practice lead removes a member's second factor (a lost phone); audited
    Reset { member: String },
}

#[derive(Subcommand)]
enum TeamCommand {
    /// Add a team member; prints the new member's id
    Add {
        #[arg(long)]
        name: String,
        /// care-manager, psychiatric-consultant, pcp or practice-lead
        #[arg(long)]
        role: String,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    /// A practice lead sets a member's NPI (10 digits, checked), credential and CoCM FTE; an
    /// empty value clears one
    Edit {
        member: String,
        #[arg(long)]
        npi: Option<String>,
        /// physician, nurse-practitioner, physician-assistant, clinical-psychologist,
        /// clinical-social-worker or other
        #[arg(long)]
        credential: Option<String>,
        /// The share of a full-time post on collaborative care, 0 to 1 (e.g. 0.6)
        #[arg(long = "cocm-fte")]
        cocm_fte: Option<String>,
    },
    /// Set a password: your own (with your current one), or, as a practice lead, another
    /// member's first password, which they change at first sign-in. The new password comes from
    /// $COCM_NEW_PASSWORD, else a prompt that does not echo
    Password { member: String },
    /// Unlock an account locked by wrong passwords (practice lead)
    Unlock { member: String },
    /// Remove a member's account and re-key the registry, so a copy of their old key slot opens
    /// nothing written afterwards (practice lead); the member stays named on their records
    Revoke { member: String },
    /// Who has an account, who must change their password, which accounts are locked
    Accounts {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// A plain, unencrypted SQLite copy, for migration or inspection: it holds PHI in the clear
    Sqlite {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// FHIR R4 Bulk Data: one NDJSON file per resource type and manifest.json, in a new or
    /// empty folder (US Core 6.1.0 profiles where one fits)
    Fhir {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Only records created, changed or marked in error on or after this date
        #[arg(long, value_name = "YYYY-MM-DD")]
        since: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum PatientCommand {
    /// Add a patient; prints the new patient's id
    Add {
        #[arg(long)]
        mrn: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        dob: String,
        #[arg(long)]
        payer: Option<String>,
        #[arg(long)]
        pcp: Option<String>,
        #[arg(long)]
        care_manager: Option<String>,
        #[arg(long)]
        consultant: Option<String>,
    },
    /// A patient's chart: team, episodes, scores, flags, records
    Show {
        mrn: String,
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Edit demographics or the care team ("" clears a team member)
    Edit {
        mrn: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        dob: Option<String>,
        #[arg(long)]
        payer: Option<String>,
        #[arg(long)]
        pcp: Option<String>,
        #[arg(long)]
        care_manager: Option<String>,
        #[arg(long)]
        consultant: Option<String>,
    },
}

#[derive(Subcommand)]
enum SettingsCommand {
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change one setting
    Set { key: String, value: String },
    /// Keep the SMTP account's password, sealed in the key file ($COCM_SMTP_PASSWORD, else a prompt)
    SmtpPassword {
        /// Forget the password kept
        #[arg(long)]
        clear: bool,
    },
}

/// `cocm settings smtp-password`'s password: none with `--clear`.
pub(crate) fn smtp_password(clear: bool) -> Result<Option<Zeroizing<String>>> {
    if clear { Ok(None) } else { secret("COCM_SMTP_PASSWORD", "SMTP password: ").map(Some) }
}

/// A billing rule set from a JSON file (`cocm rules set --file`).
fn read_rules(file: &Path) -> Result<cocm::billing::BillingRules> {
    let text = std::fs::read_to_string(file).map_err(|e| Error::validation("file", format!("{}: {e}", file.display())))?;
    serde_json::from_str(&text).map_err(|e| Error::validation("file", format!("not a billing rule set: {e}")))
}

fn as_of(value: Option<&str>) -> Result<Date> {
    value.map_or_else(|| Ok(dates::today()), |s| dates::parse_date("as-of", s))
}

fn parse_minutes(s: &str) -> Result<i64> {
    s.trim().parse().map_err(|_| Error::validation("minutes", format!("'{s}' is not a whole number of minutes")))
}

/// A secret from an environment variable, else a no-echo prompt on a terminal.
fn secret(var: &str, prompt: &str) -> Result<Zeroizing<String>> {
    if let Some(value) = std::env::var_os(var) {
        return Ok(Zeroizing::new(value.into_string().map_err(|_| Error::Auth(format!("${var} is not valid text")))?));
    }
    if let Some(value) = systemd_credential(var)? {
        return Ok(value);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Auth(format!("no password given: set ${var}, or run in a terminal to be asked")));
    }
    rpassword::prompt_password(prompt).map(Zeroizing::new).map_err(|e| Error::Auth(format!("could not read the password: {e}")))
}

/// A secret handed over by systemd (`LoadCredentialEncrypted=`): `$COCM_PASSWORD` is the
/// credential `cocm-password`, `$COCM_RECOVERY_KEY` is `cocm-recovery-key`. Encrypted at rest
/// by systemd-creds, decrypted only into the service's private credentials folder.
fn systemd_credential(var: &str) -> Result<Option<Zeroizing<String>>> {
    let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") else { return Ok(None) };
    let path = Path::new(&dir).join(var.to_ascii_lowercase().replace('_', "-"));
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(Zeroizing::new(text.trim_end_matches(['\n', '\r']).to_string()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Auth(format!("cannot read the systemd credential {}: {e}", path.display()))),
    }
}

/// A new password, asked twice on a terminal.
fn new_secret(var: &str, whose: &str) -> Result<Zeroizing<String>> {
    if std::env::var_os(var).is_some() || !std::io::stdin().is_terminal() {
        return secret(var, "");
    }
    let first = secret(var, &format!("New password for {whose}: "))?;
    let again = secret(var, "Type it again: ")?;
    if *first != *again {
        return Err(Error::validation("new password", "the two passwords differ"));
    }
    Ok(first)
}

/// `--cocm-fte`: a number from 0 to 1, or empty to clear it (the core's `-1`).
pub(crate) fn fte_argument(text: Option<&str>) -> Result<Option<f64>> {
    match text.map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(-1.0)),
        Some(t) => t
            .parse::<f64>()
            .map(Some)
            .map_err(|_| Error::validation("cocm-fte", format!("a CoCM FTE is a number from 0 to 1, e.g. 0.6 (got '{t}')"))),
    }
}

fn member_to_sign_in(as_member: &Option<String>) -> Result<String> {
    as_member
        .clone()
        .or_else(|| std::env::var("COCM_AS").ok())
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Error::Auth("say who is signing in: --as MEMBER (or $COCM_AS)".into()))
}

/// Who signs in, and their password: `--as` (else `$COCM_AS`) and `$COCM_PASSWORD` or the prompt.
fn credentials(as_member: &Option<String>) -> Result<(String, Zeroizing<String>)> {
    let member = member_to_sign_in(as_member)?;
    let password = secret("COCM_PASSWORD", &format!("Password for {member}: "))?;
    Ok((member, password))
}

/// Signs in with `credentials`, or opens with the recovery key.
fn open(db: &Path, as_member: &Option<String>, recovery_key: bool) -> Result<Registry> {
    if recovery_key {
        let key = secret("COCM_RECOVERY_KEY", "Recovery key: ")?;
        return Registry::open_with_recovery_key(db, &RecoveryKey::parse(&key)?);
    }
    let (member, password) = credentials(as_member)?;
    let registry = match Registry::sign_in(db, &member, &password, None) {
        // `mfa_required` is `always`: `$COCM_TOTP`, else the prompt.
        Err(Error::MfaRequired(_)) => {
            let code = secret("COCM_TOTP", "Code from your authenticator app (or a recovery code): ")?;
            Registry::sign_in_with_code(db, &member, &password, None, Some(&code))?
        }
        other => other?,
    };
    Ok(registry)
}

/// [`open`] for every command but the second factor's own: a member who must enrol does that first.
fn open_for_work(db: &Path, as_member: &Option<String>, recovery_key: bool) -> Result<Registry> {
    let registry = open(db, as_member, recovery_key)?;
    if registry.must_enrol_second_factor() {
        return Err(Error::PermissionDenied("this registry asks for a second factor: set yours up first with `cocm mfa enrol`".into()));
    }
    Ok(registry)
}

pub fn run(cli: Cli) -> Result<()> {
    let Cli { db, as_member, recovery_key, server, fingerprint, command } = cli;
    // The catalogue is part of the program: listed without a registry or a server.
    if let Command::Instruments { id, json } = command {
        return catalogue::print(id.as_deref(), json);
    }
    if let Command::Diagnosis(billing::DiagnosisCommand::Search { words }) = &command {
        return billing::search_diagnoses(words);
    }
    if let Some(url) = server {
        let (member, password) = credentials(&as_member)?;
        let client = remote::connect(&url, fingerprint.as_deref(), &member, &password)?;
        return remote::run(&client, &member, command);
    }
    let db = db.unwrap_or_else(default_registry_path);
    let open = || open_for_work(&db, &as_member, recovery_key);
    match command {
        Command::Mfa(MfaCommand::Enrol) => {
            let mut r = self::open(&db, &as_member, recovery_key)?;
            let begun = r.begin_second_factor()?;
            mfa::enrol(|| Ok(begun), |code| r.confirm_second_factor(code))?;
        }
        Command::Mfa(MfaCommand::Status { json }) => mfa::status(&self::open(&db, &as_member, recovery_key)?.own_second_factor()?, json)?,
        Command::Mfa(MfaCommand::Reset { member }) => {
            let mut r = open()?;
            r.reset_second_factor(&member)?;
            println!("reset {}'s second factor; they set up a new one at their next sign-in", r.find_member("member", &member)?.name);
        }
        Command::Instruments { id, json } => catalogue::print(id.as_deref(), json)?,
        Command::Serve(args) => serve::serve(db.clone(), open()?, args)?,
        Command::Init { practice, lead } => {
            let password = new_secret("COCM_PASSWORD", &lead)?;
            let (r, recovery) = Registry::create(&db, &practice, &lead, &password)?;
            println!("created {} for {}; {} signs in first", r.path().display(), r.practice_name()?, lead.trim());
            println!("recovery key (shown once; store it offline, it opens the registry if every password is lost):");
            println!("  {}", recovery.as_str());
        }
        Command::Demo { patients, practice_patients, seed, as_of: date } => {
            let options = DemoOptions { as_of: as_of(date.as_deref())?, synthetic_patients: patients, practice_patients, seed };
            let r = demo::create_demo(&db, &options)?;
            println!("created {} for {} (as of {})", r.path().display(), r.practice_name()?, options.as_of);
            println!("every demo member's password is {}", demo::DEMO_PASSWORD);
        }
        Command::Team(TeamCommand::Password { member }) => {
            let signing_in = member_to_sign_in(&as_member).ok();
            let is_self = !recovery_key && signing_in.as_deref().map(str::trim) == Some(member.trim());
            if is_self {
                // Your own password: the current one signs you in, even when it must be changed.
                let current = secret("COCM_PASSWORD", &format!("Current password for {member}: "))?;
                let new = new_secret("COCM_NEW_PASSWORD", &member)?;
                Registry::sign_in(&db, &member, &current, Some(&new))?;
                println!("password changed for {}", member.trim());
            } else {
                let mut r = open()?;
                let m = r.find_member("member", &member)?;
                let new = new_secret("COCM_NEW_PASSWORD", &m.name)?;
                r.set_password(&m.id, &new)?;
                println!("password set for {}; they choose their own at first sign-in", m.name);
            }
        }
        Command::Team(TeamCommand::Unlock { member }) => {
            let mut r = open()?;
            r.unlock_account(&member)?;
            println!("unlocked {}", r.find_member("member", &member)?.name);
        }
        Command::Team(TeamCommand::Revoke { member }) => {
            let mut r = open()?;
            r.remove_account(&member)?;
            println!("removed {}'s account and re-keyed the registry", r.find_member("member", &member)?.name);
        }
        Command::Team(TeamCommand::Accounts { json }) => output::accounts(&open()?.accounts()?, json)?,
        Command::Encrypt { lead } => {
            let password = new_secret("COCM_PASSWORD", &lead)?;
            let (r, recovery) = cocm::conversion::encrypt(&db, &lead, &password)?;
            println!("encrypted {}; {} signs in first", r.path().display(), r.actor().name);
            println!("recovery key (shown once; store it offline, it opens the registry if every password is lost):");
            println!("  {}", recovery.as_str());
        }
        Command::Export(ExportCommand::Sqlite { out }) => {
            open()?.export_plain_sqlite(&out)?;
            println!("wrote a plain SQLite copy to {}; it is not encrypted, so keep it as safe as the data it holds", out.display());
        }
        Command::Export(ExportCommand::Fhir { out, since, json }) => fhir::export(open()?, &out, since, json)?,
        Command::Import(import::ImportCommand::Csv(args)) => import::csv(open(), args)?,
        Command::Import(import::ImportCommand::Fhir { path, dry_run, json }) => fhir::import(open(), &path, dry_run, json)?,
        Command::Import(import::ImportCommand::Guess { file, shape }) => import::guess(file, &shape)?,
        Command::Import(import::ImportCommand::Mappings { json }) => import::mappings(open()?, json)?,
        Command::Rekey => {
            open()?.rekey()?;
            println!("re-keyed the registry; every account and the recovery key still open it");
        }
        Command::Team(TeamCommand::Add { name, role }) => {
            let role = Role::parse("role", &role)?;
            println!("{}", open()?.add_member(&name, role)?.id);
        }
        Command::Team(TeamCommand::List { json }) => output::team(&open()?.list_members()?, json)?,
        Command::Team(TeamCommand::Edit { member, npi, credential, cocm_fte }) => {
            let edit = MemberEdit { npi, credential, cocm_fte: fte_argument(cocm_fte.as_deref())? };
            let m = open()?.edit_member(&member, &edit)?;
            output::team(std::slice::from_ref(&m), false)?;
        }
        Command::Patient(PatientCommand::Add { mrn, name, dob, payer, pcp, care_manager, consultant }) => {
            let p = NewPatient { mrn, name, dob, payer, pcp, care_manager, consultant };
            println!("{}", open()?.add_patient(&p)?);
        }
        Command::Patient(PatientCommand::Show { mrn, as_of: date, json }) => {
            output::chart(&open()?.patient_chart(&mrn, as_of(date.as_deref())?)?, json)?
        }
        Command::Patient(PatientCommand::Edit { mrn, name, dob, payer, pcp, care_manager, consultant }) => {
            let changes = PatientChanges { name, dob, payer, pcp, care_manager, consultant, version: None };
            println!("{}", open()?.update_patient(&mrn, &changes)?.id);
        }
        Command::Enroll { mrn, date, consent, targets, primary_scale, program, diagnosis } => {
            println!("{}", open()?.enroll(&mrn, &Enrolment { start: date, consent, targets, primary_scale, program, diagnosis })?);
        }
        Command::Consent { mrn, date } => open()?.record_consent(&mrn, &date)?,
        Command::Assess { mrn, date, instrument, items, difficulty } => {
            let a = NewAssessment { date, instrument, answers: instruments::parse_answers(&items)?, difficulty };
            println!("{}", open()?.record_assessment(&mrn, &a)?);
        }
        Command::Contact { mrn, date, minutes, by, kind, mode, note } => {
            let c = NewContact { date, minutes: parse_minutes(&minutes)?, by, kind, mode, note };
            println!("{}", open()?.log_contact(&mrn, &c)?);
        }
        Command::Flag { mrn, by, reason, date } => {
            println!("{}", open()?.request_review(&mrn, &NewReviewRequest { date, by, reason })?);
        }
        Command::Review { mrn, by, date, recommendation, medication, psychotherapy, referral, other } => {
            let r = NewCaseReview { date, by, medication, psychotherapy, referral, other, note: recommendation };
            println!("{}", open()?.record_case_review(&mrn, &r)?);
        }
        Command::Treatment { mrn, date, kind, description } => {
            println!("{}", open()?.record_treatment_change(&mrn, &NewTreatmentChange { date, kind, description })?);
        }
        Command::Status { mrn, to, date, reason } => {
            let to = EpisodeStatus::parse("to", &to)?;
            let reason = reason.filter(|r| !r.trim().is_empty()).map(|r| DischargeReason::parse("reason", &r)).transpose()?;
            println!("{}", open()?.change_status(&mrn, to, &date, reason)?);
        }
        Command::PrimaryScale { mrn, target, scale } => {
            open()?.correct_primary_scale(&mrn, &target, &scale)?;
            println!("{} is now measured by {} on {mrn}'s open episode", target.trim(), scale.trim());
        }
        Command::Void { kind, id, reason } => {
            open()?.mark_entered_in_error(RecordKind::parse("kind", &kind)?, &id, &reason)?;
        }
        Command::Caseload { as_of: date, care_manager, format } => {
            let mut r = open()?;
            let date = as_of(date.as_deref())?;
            if format.csv {
                r.record_export("caseload-csv", serde_json::json!({ "as_of": date, "care_manager": care_manager }))?;
            }
            output::caseload(&r.caseload(date, care_manager.as_deref())?, format.json, format.csv)?;
        }
        Command::Queue { as_of: date, json } => output::queue(&open()?.queue(as_of(date.as_deref())?)?, json)?,
        Command::Billing { month, claims: true, format } => billing::claims(&mut open()?, &month, format.json, format.csv)?,
        Command::Billing { month, claims: false, format } => {
            let month = Month::parse("month", &month)?;
            let mut r = open()?;
            if format.csv {
                r.record_export("billing-csv", serde_json::json!({ "month": month.to_string() }))?;
            }
            output::billing(&r.billing(month)?, format.json, format.csv)?;
        }
        Command::Report(args) => report::run(&mut open()?, args)?,
        Command::Settings(SettingsCommand::List { json }) => output::settings(&open()?.settings_shown()?, json)?,
        Command::Settings(SettingsCommand::Set { key, value }) => output::settings(&open()?.set_setting(&key, &value)?, false)?,
        Command::Settings(SettingsCommand::SmtpPassword { clear }) => {
            let password = smtp_password(clear)?;
            let kept = open()?.set_smtp_password(password.as_deref().map(|p| p.as_str()))?;
            println!("{}", if kept { "the SMTP password is kept in the key file" } else { "no SMTP password is kept" });
        }
        Command::Rules(command) => billing::rules(&mut open()?, command)?,
        Command::Coverage(command) => billing::coverage(&mut open()?, command)?,
        Command::Diagnosis(command) => billing::diagnosis(&mut open()?, command)?,
        Command::Visit(command) => population::visit(&mut open()?, command)?,
        Command::Questionnaire(command) => questionnaire::run(&mut open()?, command)?,
        Command::Candidates { since, json } => population::candidates(&mut open()?, since.as_deref(), json)?,
        Command::Screen { mrn, date, instrument, items } => population::screen(&mut open()?, &mrn, &date, &instrument, &items)?,
        Command::Program { mrn, to, from, json } => billing::program(&mut open()?, &mrn, to, from, json)?,
        Command::Apcm { mrn, from, to, end, json } => billing::apcm(&mut open()?, &mrn, from, to, end, json)?,
        Command::Audit { limit, patient, json } => {
            let mut r = open()?;
            match patient {
                Some(mrn) => output::audit(&r.read_patient_audit(&mrn)?, json)?,
                None => output::audit(&r.read_audit_log(limit)?, json)?,
            }
        }
        Command::Backup { to } => {
            open()?.backup_to(&to)?;
            println!("backed up to {} (and {})", to.display(), cocm::keyring::key_file_path(&to).display());
        }
        Command::Verify { file, json } => {
            let file = file.unwrap_or_else(|| db.clone());
            let (member, password) = credentials(&as_member)?;
            let report = cocm::backup::verify_file(&file, &member, &password)?;
            if json {
                output::json(&report)?;
            } else {
                println!("{}", report.verdict);
            }
            if !report.ok {
                return Err(Error::Incompatible(report.verdict));
            }
        }
        Command::Restore { backup, to } => {
            let (member, password) = credentials(&as_member)?;
            let r = cocm::backup::restore(&backup, &to, &member, &password)?;
            println!("restored {} to {}", backup.display(), r.path().display());
        }
    }
    Ok(())
}
