//! Practice settings: every bracketed default of the spec, stored in the registry so that a
//! practice lead can change them (migration 0002 inserts the defaults).

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::access::Action;
use crate::accounts::second_factor::MfaPolicy;
use crate::audit;
use crate::instruments::{Instrument, Rules, thresholds};
use crate::{Error, Registry, Result};

crate::vocab::string_enum!(
    /// The kind of practice (spec §7a): FQHCs and RHCs bill collaborative care under their own codes.
    PracticeType {
        PhysicianPractice => "physician-practice",
        Fqhc => "fqhc",
        Rhc => "rhc",
    }
);

crate::vocab::string_enum!(
    /// A claim line's date of service (spec §7a).
    ClaimDateOfService {
        MonthEnd => "month-end",
        ThresholdMet => "threshold-met",
    }
);

/// The settings the rules read, loaded once per computation.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct Settings {
    /// §4: assessments from S − this many days count as baseline. [14]
    #[ts(type = "number")]
    pub baseline_lookback_days: i64,
    /// §5 contact-overdue: follow-up due this many days after the last contact while active. [14]
    #[ts(type = "number")]
    pub contact_due_days_active: i64,
    /// §5 contact-overdue while in relapse prevention. [30]
    #[ts(type = "number")]
    pub contact_due_days_relapse_prevention: i64,
    /// §5 measurement-overdue: latest assessment more than this many days before T. [30]
    #[ts(type = "number")]
    pub measurement_overdue_days: i64,
    /// §5 not-improving: weeks in treatment before non-improvement is flagged. [10]
    #[ts(type = "number")]
    pub not_improving_weeks: i64,
    /// §5 review-overdue / §6: a case review is expected within this many days. [60]
    #[ts(type = "number")]
    pub review_overdue_days: i64,
    /// §5 long-episode: calendar months after the start. [9]
    #[ts(type = "number")]
    pub long_episode_months: i64,
    /// §9 inactivity: days without a clinical contact that suggest discharge (`inactive`). [90]
    #[ts(type = "number")]
    pub inactivity_days: i64,
    /// §6 new-patient: days after enrolment a patient is queued as new. [28]
    #[ts(type = "number")]
    pub new_patient_days: i64,
    /// §7: also count minutes logged by the PCP. [false]
    pub billing_counts_pcp_minutes: bool,
    /// §7: a month is initial again after this many empty calendar months. [6]
    #[ts(type = "number")]
    pub billing_restart_gap_months: i64,
    /// §8: the monthly contact rate target, in percent. [80]
    #[ts(type = "number")]
    pub target_contact_rate_pct: i64,
    /// §8: the improvement rate target, in percent. [60]
    #[ts(type = "number")]
    pub target_improvement_rate_pct: i64,
    /// §8: the psychiatric consultation rate target, in percent. [80]
    #[ts(type = "number")]
    pub target_consultation_rate_pct: i64,
    /// §9 AIMS guidance: active patients per full-time care manager, low end (complex
    /// populations). [60]
    #[ts(type = "number")]
    pub caseload_guidance_min: i64,
    /// §9 AIMS guidance, high end. [120]
    #[ts(type = "number")]
    pub caseload_guidance_max: i64,
    /// Wrong passwords in a row that lock an account. [5]
    #[ts(type = "number")]
    pub lockout_attempts: i64,
    /// Minutes a locked account stays locked; a practice lead can unlock it sooner. [15]
    #[ts(type = "number")]
    pub lockout_minutes: i64,
    /// The app covers the screen and drops the registry key after this long without input. [10]
    #[ts(type = "number")]
    pub auto_lock_minutes: i64,
    /// Daily backups kept in `backups/` beside the registry. [14]
    #[ts(type = "number")]
    pub backup_keep: i64,
    /// §3a: from this age a target's default primary scale is the adolescent one (PHQ-A). [12]
    #[ts(type = "number")]
    pub adolescent_from_age: i64,
    /// §3a: from this age it is the adult one (PHQ-9, GAD-7). [18]
    #[ts(type = "number")]
    pub adult_from_age: i64,
    /// When a sign-in needs a second factor: `off`, `server` (through a practice server; new
    /// registries), `always` (on a file too).
    pub mfa_required: MfaPolicy,
    /// §7a: `physician-practice`, `fqhc` or `rhc`, for the billing programs' rules.
    pub practice_type: PracticeType,
    /// §7a: a claim line's date of service: `month-end` [default] or `threshold-met`.
    pub claim_date_of_service: ClaimDateOfService,
    /// §7a: the claim's place of service code, two digits. [11]
    pub place_of_service: String,
    /// §9: the state reports the practice submits, comma separated: `nys-omh` or none [].
    /// The Reports screen shows a tab for each.
    pub state_reporting: String,
    /// §10: days a questionnaire link stays open. [7]
    #[ts(type = "number")]
    pub questionnaire_expiry_days: i64,
    /// §10: wrong dates of birth that lock a questionnaire link. [5]
    #[ts(type = "number")]
    pub questionnaire_dob_tries: i64,
    /// §10 schedules: a check-in falls due this many days after the last score while active. [14]
    #[ts(type = "number")]
    pub measurement_cadence_days_active: i64,
    /// §10 schedules: the same in relapse prevention. [30]
    #[ts(type = "number")]
    pub measurement_cadence_days_relapse_prevention: i64,
    /// §10: where patients open their links (`https://checkin.example.org`); a link is
    /// `<patient_portal_url>/r/<token>`. [] (none: links cannot be sent until it is set)
    pub patient_portal_url: String,
    /// §10: the practice's phone number, shown to a respondent with the crisis text. []
    pub practice_phone: String,
    /// §10 e-mail: the practice's own SMTP server (a host name). [] (none: links are not e-mailed)
    pub smtp_host: String,
    /// Its port. [587]
    #[ts(type = "number")]
    pub smtp_port: i64,
    /// `starttls` [default] (upgrade a plain connection, usually port 587) or `tls` (TLS from
    /// the first byte, usually 465). Never unencrypted.
    pub smtp_security: String,
    /// The sender's address (`checkin@example.org`). []
    pub smtp_from: String,
    /// The account the server signs in as; its password is in the key file. [] (no sign-in)
    pub smtp_user: String,
    /// A PEM file of the CA that signed the SMTP server's certificate, for a server with a
    /// practice's own CA. [] (the public roots)
    pub smtp_ca_file: String,
    /// Whether an SMTP password is kept (the password itself never leaves the core).
    pub smtp_password_set: bool,
    /// §3a: every form's thresholds as this practice has them, by form id: the catalogue's
    /// defaults with the lead's changes (settings `<form>.<threshold>`, `instruments::thresholds`).
    pub instrument_rules: BTreeMap<String, Rules>,
    /// The same thresholds one by one, each with its settings key and catalogue default.
    pub thresholds: Vec<thresholds::ThresholdSetting>,
}

impl Settings {
    /// The thresholds the practice judges this instrument by (spec §3a). The published
    /// measures of §8 that are defined on the PHQ-9 (DRR-E, CMS159) read the catalogue instead.
    pub fn rules(&self, instrument: Instrument) -> &Rules {
        self.instrument_rules.get(instrument.as_str()).unwrap_or_else(|| instrument.rules())
    }
}

/// Each setting's key and the range a practice may set it to.
const NUMERIC_SETTINGS: &[(&str, i64, i64)] = &[
    ("baseline_lookback_days", 0, 90),
    ("contact_due_days_active", 1, 365),
    ("contact_due_days_relapse_prevention", 1, 365),
    ("measurement_overdue_days", 1, 365),
    ("not_improving_weeks", 1, 104),
    ("review_overdue_days", 1, 365),
    ("long_episode_months", 1, 60),
    ("inactivity_days", 14, 365),
    ("new_patient_days", 0, 365),
    ("billing_restart_gap_months", 1, 24),
    ("target_contact_rate_pct", 0, 100),
    ("target_improvement_rate_pct", 0, 100),
    ("target_consultation_rate_pct", 0, 100),
    ("caseload_guidance_min", 1, 1000),
    ("caseload_guidance_max", 1, 1000),
    ("lockout_attempts", 3, 20),
    ("lockout_minutes", 1, 1440),
    ("auto_lock_minutes", 1, 240),
    ("backup_keep", 1, 365),
    ("adolescent_from_age", 0, 30),
    ("adult_from_age", 0, 30),
    ("questionnaire_expiry_days", 1, 60),
    ("questionnaire_dob_tries", 3, 10),
    ("measurement_cadence_days_active", 1, 365),
    ("measurement_cadence_days_relapse_prevention", 1, 365),
    ("smtp_port", 1, 65535),
];
const BOOLEAN_SETTINGS: &[&str] = &["billing_counts_pcp_minutes"];
/// The state reports the registry computes (`state_reporting`).
pub const STATE_REPORTS: &[&str] = &["nys-omh"];

/// The patient portal's address: an `https://` origin with an optional path, no query, kept
/// without a trailing slash (links append `/r/<token>`). Blank switches links off.
fn portal_url(value: &str) -> Result<String> {
    let value = value.trim_end_matches('/');
    if value.is_empty() {
        return Ok(String::new());
    }
    let rest = value.strip_prefix("https://").unwrap_or("");
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || value.contains(['?', '#', ' ', '@', '"', '\'', '<', '>', '\\']) {
        return Err(Error::validation(
            "patient_portal_url",
            format!("must be an https:// address patients can reach, such as https://checkin.example.org (got '{value}')"),
        ));
    }
    Ok(value.to_string())
}

pub(crate) fn load(conn: &Connection) -> Result<Settings> {
    let mut stmt = conn.prepare_cached("SELECT key, value FROM settings")?;
    let pairs: std::collections::HashMap<String, String> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    let num = |k: &str| -> Result<i64> {
        pairs.get(k).and_then(|v| v.parse().ok()).ok_or_else(|| Error::Storage(format!("setting {k} is missing or not a number")))
    };
    let instrument_rules = thresholds::effective(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    Ok(Settings {
        baseline_lookback_days: num("baseline_lookback_days")?,
        contact_due_days_active: num("contact_due_days_active")?,
        contact_due_days_relapse_prevention: num("contact_due_days_relapse_prevention")?,
        measurement_overdue_days: num("measurement_overdue_days")?,
        not_improving_weeks: num("not_improving_weeks")?,
        review_overdue_days: num("review_overdue_days")?,
        long_episode_months: num("long_episode_months")?,
        inactivity_days: num("inactivity_days")?,
        new_patient_days: num("new_patient_days")?,
        billing_counts_pcp_minutes: pairs.get("billing_counts_pcp_minutes").map(|v| v == "true").unwrap_or(false),
        billing_restart_gap_months: num("billing_restart_gap_months")?,
        target_contact_rate_pct: num("target_contact_rate_pct")?,
        target_improvement_rate_pct: num("target_improvement_rate_pct")?,
        target_consultation_rate_pct: num("target_consultation_rate_pct")?,
        caseload_guidance_min: num("caseload_guidance_min")?,
        caseload_guidance_max: num("caseload_guidance_max")?,
        lockout_attempts: num("lockout_attempts")?,
        lockout_minutes: num("lockout_minutes")?,
        auto_lock_minutes: num("auto_lock_minutes")?,
        backup_keep: num("backup_keep")?,
        adolescent_from_age: num("adolescent_from_age")?,
        adult_from_age: num("adult_from_age")?,
        mfa_required: pairs.get("mfa_required").and_then(|v| MfaPolicy::parse("mfa_required", v).ok()).unwrap_or(MfaPolicy::Off),
        practice_type: pairs
            .get("practice_type")
            .and_then(|v| PracticeType::parse("practice_type", v).ok())
            .unwrap_or(PracticeType::PhysicianPractice),
        claim_date_of_service: pairs
            .get("claim_date_of_service")
            .and_then(|v| ClaimDateOfService::parse("claim_date_of_service", v).ok())
            .unwrap_or(ClaimDateOfService::MonthEnd),
        place_of_service: pairs.get("place_of_service").cloned().unwrap_or_else(|| "11".into()),
        state_reporting: pairs.get("state_reporting").cloned().unwrap_or_default(),
        questionnaire_expiry_days: num("questionnaire_expiry_days")?,
        questionnaire_dob_tries: num("questionnaire_dob_tries")?,
        measurement_cadence_days_active: num("measurement_cadence_days_active")?,
        measurement_cadence_days_relapse_prevention: num("measurement_cadence_days_relapse_prevention")?,
        patient_portal_url: pairs.get("patient_portal_url").cloned().unwrap_or_default(),
        practice_phone: pairs.get("practice_phone").cloned().unwrap_or_default(),
        smtp_host: pairs.get("smtp_host").cloned().unwrap_or_default(),
        smtp_port: pairs.get("smtp_port").and_then(|v| v.parse().ok()).unwrap_or(587),
        smtp_security: pairs.get("smtp_security").cloned().unwrap_or_else(|| "starttls".into()),
        smtp_from: pairs.get("smtp_from").cloned().unwrap_or_default(),
        smtp_user: pairs.get("smtp_user").cloned().unwrap_or_default(),
        smtp_ca_file: pairs.get("smtp_ca_file").cloned().unwrap_or_default(),
        smtp_password_set: false, // filled in by `Registry::settings_shown` from the key file
        thresholds: thresholds::listing(&instrument_rules),
        instrument_rules,
    })
}

impl Registry {
    pub fn settings(&self) -> Result<Settings> {
        load(&self.conn)
    }

    /// The settings as the settings screen and `cocm settings` show them: with whether an
    /// SMTP password is kept (read from the key file, so not on every rule's look-up).
    pub fn settings_shown(&self) -> Result<Settings> {
        let mut settings = load(&self.conn)?;
        settings.smtp_password_set = crate::mail::has_password(self.path())?;
        Ok(settings)
    }

    /// Changes one setting by key, validating its value.
    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<Settings> {
        self.set_setting_if(key, value, None)
    }

    /// [`Registry::set_setting`], refused as a `conflict` unless the setting still holds
    /// `expected` (the value the form showed): someone else changed it in between.
    pub fn set_setting_if(&mut self, key: &str, value: &str, expected: Option<&str>) -> Result<Settings> {
        self.permit(Action::ChangeSettings)?;
        let value = value.trim();
        if thresholds::is_threshold_key(key) {
            return self.set_threshold(key, value, expected);
        }
        let stored = if let Some((_, min, max)) = NUMERIC_SETTINGS.iter().find(|(k, _, _)| *k == key) {
            match value.parse::<i64>() {
                Ok(n) if (*min..=*max).contains(&n) => n.to_string(),
                _ => return Err(Error::validation(key, format!("must be a whole number from {min} to {max} (got '{value}')"))),
            }
        } else if key == "mfa_required" {
            MfaPolicy::parse(key, value)?.to_string()
        } else if key == "practice_type" {
            PracticeType::parse(key, value)?.to_string()
        } else if key == "claim_date_of_service" {
            ClaimDateOfService::parse(key, value)?.to_string()
        } else if key == "place_of_service" {
            // CMS's place of service codes are two digits, 01–99.
            match value.parse::<u8>() {
                Ok(1..=99) if value.len() == 2 => value.to_string(),
                _ => return Err(Error::validation(key, format!("must be a two-digit place of service code such as 11 (got '{value}')"))),
            }
        } else if key == "state_reporting" {
            let mut reports: Vec<&str> = value.split([',', ' ']).filter(|r| !r.is_empty()).collect();
            if let Some(bad) = reports.iter().find(|r| !STATE_REPORTS.contains(r)) {
                return Err(Error::validation(
                    key,
                    format!("'{bad}' is not a state report; the registry has {}", STATE_REPORTS.join(", ")),
                ));
            }
            reports.dedup();
            reports.join(",")
        } else if key == "patient_portal_url" {
            portal_url(value)?
        } else if key == "practice_phone" {
            // Digits and the usual separators only: it is shown to patients as it is stored.
            let ok = value.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c))
                && value.chars().filter(char::is_ascii_digit).count() >= 7;
            if !value.is_empty() && !ok {
                return Err(Error::validation(key, format!("must be a phone number such as (555) 010-4477 (got '{value}')")));
            }
            value.to_string()
        } else if let Some(checked) = crate::mail::check_setting(key, value) {
            checked?
        } else if BOOLEAN_SETTINGS.contains(&key) {
            match value {
                "true" | "false" => value.to_string(),
                _ => return Err(Error::validation(key, format!("must be true or false (got '{value}')"))),
            }
        } else {
            let known: Vec<&str> = NUMERIC_SETTINGS
                .iter()
                .map(|(k, _, _)| *k)
                .chain(BOOLEAN_SETTINGS.iter().copied())
                .chain(["mfa_required", "practice_type", "claim_date_of_service", "place_of_service", "state_reporting"])
                .chain(["patient_portal_url", "practice_phone"])
                .chain(crate::mail::SETTINGS.iter().copied())
                .collect();
            return Err(Error::validation(
                "key",
                format!(
                    "no setting named '{key}'; settings are {}, and <instrument>.<threshold> such as pcl5.remission_below",
                    known.join(", ")
                ),
            ));
        };
        let current = self.settings()?;
        let (min, max, what) = match key {
            "caseload_guidance_min" => (stored.parse().unwrap_or(0), current.caseload_guidance_max, "the caseload guidance range"),
            "caseload_guidance_max" => (current.caseload_guidance_min, stored.parse().unwrap_or(0), "the caseload guidance range"),
            "adolescent_from_age" => (stored.parse().unwrap_or(0), current.adult_from_age, "the adolescent ages"),
            "adult_from_age" => (current.adolescent_from_age, stored.parse().unwrap_or(0), "the adolescent ages"),
            _ => (0, 0, ""),
        };
        if min > max {
            return Err(Error::validation(key, format!("{what} must run low to high (got {min}–{max})")));
        }
        let settings = self.write(Action::ChangeSettings, |tx, actor| {
            // A setting newer than the registry (state_reporting) has no row until first set.
            let old: String =
                tx.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?.unwrap_or_default();
            if expected.is_some_and(|e| e.trim() != old) {
                return Err(audit::last_change(tx, "setting", key)?
                    .map_or_else(|| Error::Conflict(format!("{key} changed since you opened it; reload")), |c| c.conflict()));
            }
            tx.execute("INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2", (key, &stored))?;
            audit::record(tx, actor, "update", "setting", Some(key), serde_json::json!({ "from": old, "to": stored }))?;
            load(tx)
        })?;
        if key.starts_with("lockout_") {
            self.sync_lockout_policy(&settings)?;
        }
        Ok(settings)
    }

    /// Changes one instrument threshold (`pcl5.remission_below`), or with `default` returns
    /// it to the catalogue's value. Checked as a catalogue entry is: a percent from 1 to 100,
    /// every other threshold within the form's total.
    fn set_threshold(&mut self, key: &str, value: &str, expected: Option<&str>) -> Result<Settings> {
        let (instrument, threshold) = thresholds::parse_key(key)?;
        let default = thresholds::value(instrument.rules(), threshold);
        let number = if value == "default" {
            default.unwrap_or_default()
        } else {
            let n =
                value.parse::<u8>().map_err(|_| Error::validation(key, format!("must be a whole number or 'default' (got '{value}')")))?;
            thresholds::with_threshold(instrument, self.settings()?.rules(instrument), threshold, n, key)?;
            n
        };
        self.write(Action::ChangeSettings, |tx, actor| {
            let current = load(tx)?;
            let old = thresholds::value(current.rules(instrument), threshold).unwrap_or_default().to_string();
            if expected.is_some_and(|e| e.trim() != old) {
                return Err(audit::last_change(tx, "setting", key)?
                    .map_or_else(|| Error::Conflict(format!("{key} changed since you opened it; reload")), |c| c.conflict()));
            }
            // A threshold back at its default is not stored, so it follows the catalogue again.
            if Some(number) == default {
                tx.execute("DELETE FROM settings WHERE key = ?1", [key])?;
            } else {
                tx.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
                    (key, number.to_string()),
                )?;
            }
            audit::record(tx, actor, "update", "setting", Some(key), serde_json::json!({ "from": old, "to": number.to_string() }))?;
            load(tx)
        })
    }
}
