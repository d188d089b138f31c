//! The second factor (issue 21): time-based one-time codes (RFC 6238: SHA-1, 6 digits, 30 s,
//! one step either side, each step accepted once; computed by the `totp-rs` crate) and ten
//! single-use recovery codes. A member enrols from their own settings: the registry makes a
//! secret, shows it as an `otpauth://` QR code and as text, and keeps it once a first code
//! confirms it. The secret and the recovery codes' hashes live in the encrypted registry
//! (migration 0012).
//!
//! Setting `mfa_required`: `off`, `server` (every sign-in through a practice server; new
//! registries), `always` (on a file too). A member who must and has not enrolled signs in to
//! enrolment only: every command but the second factor's is refused (`commands::admit`).

use rusqlite::OptionalExtension;
use serde::Serialize;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Totp};
use zeroize::Zeroizing;

use crate::access::Action;
use crate::audit;
use crate::vocab::string_enum;
use crate::{Error, Registry, Result};

string_enum!(
    /// When a sign-in needs a code (setting `mfa_required`).
    MfaPolicy {
        Off => "off",
        Server => "server",
        Always => "always",
    }
);

/// Recovery codes a member gets at enrolment.
pub const RECOVERY_CODES: usize = 10;

/// A sign-in's second-factor state, kept with its `Registry`.
#[derive(Default)]
pub struct FactorState {
    /// The member must enrol before anything else.
    pub must_enrol: bool,
    /// The secret of an enrolment begun and not yet confirmed.
    pending: Option<Zeroizing<Vec<u8>>>,
}

/// What the enrolment screen shows: the secret as text and as a QR code of its URI.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct FactorEnrolment {
    /// Base32, in groups of four, for typing into an authenticator app.
    pub secret: String,
    pub otpauth_uri: String,
    /// The URI's QR code as an SVG document.
    pub qr_svg: String,
}

/// The signed-in member's own second factor, for their settings.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct OwnFactor {
    pub enrolled: bool,
    /// The setting: whether this registry asks for it.
    pub policy: MfaPolicy,
    pub must_enrol: bool,
    #[ts(type = "number")]
    pub recovery_codes_left: i64,
}

fn totp(secret: &[u8], account: &str, issuer: &str) -> Result<Totp> {
    // Issuer and account may not contain ':' in an otpauth URI.
    let clean = |s: &str| s.replace(':', " ");
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret.to_vec())
        .with_account_name(clean(account))
        .with_issuer(Some(clean(issuer)))
        .build()
        .map_err(|e| Error::Storage(format!("the second factor's secret: {e}")))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn hash_code(code: &str) -> String {
    let normal: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_uppercase();
    Sha256::digest(normal.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Base32 text in groups of four, for reading and typing (`ABCD EFGH …`).
fn in_fours(text: &str, separator: &str) -> String {
    text.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(separator)
}

/// Ten random recovery codes, 16 base32 characters (80 bits) each, as `ABCD-EFGH-IJKL-MNOP`.
fn new_recovery_codes() -> Vec<Zeroizing<String>> {
    use chacha20poly1305::aead::{OsRng, rand_core::RngCore};
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = Zeroizing::new([0u8; 10]);
            OsRng.fill_bytes(bytes.as_mut());
            let text = totp_rs::Secret::from(bytes.as_ref()).to_base32();
            Zeroizing::new(in_fours(&text, "-"))
        })
        .collect()
}

/// Whether a sign-in this way needs the second factor under `policy`.
pub(crate) fn needed(policy: MfaPolicy, over_network: bool) -> bool {
    match policy {
        MfaPolicy::Off => false,
        MfaPolicy::Server => over_network,
        MfaPolicy::Always => true,
    }
}

/// Checks `code` (a 6-digit code of the secret, or an unused recovery code) for `member_id`,
/// consuming it; `Ok(Some(kind))` names what was used, `Ok(None)` is a wrong or reused code.
fn consume(
    conn: &rusqlite::Connection,
    member_id: &str,
    secret: &[u8],
    last_step: i64,
    code: &str,
    now: u64,
) -> Result<Option<&'static str>> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit()) {
        let step = totp(secret, "-", "-")?.check(&digits, now);
        return match step.map(|s| s as i64) {
            // RFC 6238 §5.2: a step is accepted once, and never one older than the last.
            Some(step) if step > last_step => {
                conn.execute("UPDATE second_factors SET last_step = ?2 WHERE member_id = ?1", (member_id, step))?;
                Ok(Some("code"))
            }
            _ => Ok(None),
        };
    }
    let used = conn.execute(
        "UPDATE recovery_codes SET used_at = ?3 WHERE member_id = ?1 AND code_hash = ?2 AND used_at IS NULL",
        (member_id, hash_code(code), audit::now()),
    )?;
    Ok((used == 1).then_some("recovery-code"))
}

impl Registry {
    /// At sign-in, after the password: asks for and checks the second factor when the policy
    /// needs one here. Not enrolled: the member may only enrol. A wrong code is an `auth`
    /// error (counted by the network guard), audited.
    pub(crate) fn check_second_factor(&mut self, code: Option<&str>, over_network: bool) -> Result<()> {
        let policy = self.settings()?.mfa_required;
        if !needed(policy, over_network) {
            return Ok(());
        }
        let member_id = self.actor.member_id.clone();
        let stored: Option<(Vec<u8>, i64)> = self
            .conn
            .query_row("SELECT secret, last_step FROM second_factors WHERE member_id = ?1", [&member_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((secret, last_step)) = stored else {
            self.factor.must_enrol = true;
            return Ok(());
        };
        let secret = Zeroizing::new(secret);
        let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
            return Err(Error::MfaRequired("enter the 6-digit code from your authenticator app (or a recovery code)".into()));
        };
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let used = consume(&tx, &member_id, &secret, last_step, code, unix_now())?;
        let action = match used {
            Some("recovery-code") => "recovery-code-used",
            Some(_) => "second-factor-passed",
            None => "second-factor-failed",
        };
        audit::record(&tx, &self.actor, action, "account", Some(&member_id), serde_json::json!({}))?;
        tx.commit()?;
        match used {
            Some(_) => Ok(()),
            None => Err(Error::Auth("that code is not right, or was used already; wait for the next one".into())),
        }
    }

    /// The signed-in member's second factor, for their settings.
    pub fn own_second_factor(&self) -> Result<OwnFactor> {
        let id = &self.actor.member_id;
        let enrolled = self.conn.query_row("SELECT count(*) FROM second_factors WHERE member_id = ?1", [id], |r| r.get::<_, i64>(0))? > 0;
        let left =
            self.conn.query_row("SELECT count(*) FROM recovery_codes WHERE member_id = ?1 AND used_at IS NULL", [id], |r| r.get(0))?;
        Ok(OwnFactor { enrolled, policy: self.settings()?.mfa_required, must_enrol: self.factor.must_enrol, recovery_codes_left: left })
    }

    /// Whether this sign-in may do nothing but enrol its second factor.
    pub fn must_enrol_second_factor(&self) -> bool {
        self.factor.must_enrol
    }

    /// Begins enrolling the signed-in member: a new random secret (160 bits), kept with this
    /// sign-in until a first code confirms it.
    pub fn begin_second_factor(&mut self) -> Result<FactorEnrolment> {
        self.permit(Action::ManageOwnSecondFactor)?;
        let mut secret = Zeroizing::new(vec![0u8; 20]);
        chacha20poly1305::aead::rand_core::RngCore::fill_bytes(&mut chacha20poly1305::aead::OsRng, secret.as_mut_slice());
        let practice: String = self.conn.query_row("SELECT name FROM practice WHERE id = 1", [], |r| r.get(0))?;
        let totp = totp(&secret, &self.actor.name, &format!("CoCM Registry ({practice})"))?;
        let uri = totp.to_url().map_err(|e| Error::Storage(format!("the otpauth URI: {e}")))?;
        let qr = qrcode::QrCode::new(uri.as_bytes()).map_err(|e| Error::Storage(format!("the QR code: {e}")))?;
        let qr_svg = qr.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build();
        let base32 = Zeroizing::new(totp_rs::Secret::from(secret.as_slice()).to_base32());
        let grouped = in_fours(&base32, " ");
        self.factor.pending = Some(secret);
        Ok(FactorEnrolment { secret: grouped, otpauth_uri: uri, qr_svg })
    }

    /// Confirms the enrolment begun with a first code from the app: the secret is kept, and the
    /// ten recovery codes are returned, to be shown once (only their hashes are kept).
    pub fn confirm_second_factor(&mut self, code: &str) -> Result<Vec<String>> {
        self.permit(Action::ManageOwnSecondFactor)?;
        let Some(secret) = self.factor.pending.clone() else {
            return Err(Error::Conflict("begin the enrolment first: no second factor is being set up".into()));
        };
        let step = totp(&secret, "-", "-")?.check(code.trim(), unix_now());
        let Some(step) = step else {
            return Err(Error::validation("code", "that code does not match; check the app's clock and type the code it shows now"));
        };
        let codes = new_recovery_codes();
        let member_id = self.actor.member_id.clone();
        self.write(Action::ManageOwnSecondFactor, |tx, actor| {
            tx.execute("DELETE FROM recovery_codes WHERE member_id = ?1", [&member_id])?;
            tx.execute(
                "INSERT INTO second_factors (member_id, secret, last_step, enrolled_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (member_id) DO UPDATE SET secret = ?2, last_step = ?3, enrolled_at = ?4",
                (&member_id, secret.as_slice(), step as i64, audit::now()),
            )?;
            for c in &codes {
                tx.execute("INSERT INTO recovery_codes (member_id, code_hash) VALUES (?1, ?2)", (&member_id, hash_code(c)))?;
            }
            audit::record(tx, actor, "second-factor-enrolled", "account", Some(&member_id), serde_json::json!({}))
        })?;
        self.factor = FactorState::default();
        Ok(codes.iter().map(|c| c.to_string()).collect())
    }

    /// A practice lead removes a member's second factor (lost phone): they enrol again at
    /// their next sign-in that needs one. Audited.
    pub fn reset_second_factor(&mut self, member: &str) -> Result<()> {
        let m = crate::team::find(&self.conn, "member", member)?;
        self.write(Action::ManageAccounts, |tx, actor| {
            let removed = tx.execute("DELETE FROM second_factors WHERE member_id = ?1", [&m.id])?;
            tx.execute("DELETE FROM recovery_codes WHERE member_id = ?1", [&m.id])?;
            if removed == 0 {
                return Err(Error::NotFound(format!("{} has no second factor to reset", m.name)));
            }
            audit::record(tx, actor, "second-factor-reset", "account", Some(&m.id), serde_json::json!({ "member": m.name }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_test_vectors_for_sha1() {
        // RFC 6238 appendix B: the SHA-1 seed "12345678901234567890", 8-digit codes; a 6-digit
        // code is the same number's last six digits (the truncation is modulo 10^digits).
        let t = totp(b"12345678901234567890", "Ana", "Test").unwrap();
        for (time, eight) in
            [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"), (1234567890, "89005924"), (2000000000, "69279037")]
        {
            assert_eq!(t.generate(time).to_string(), eight[2..], "T = {time}");
            // ±1 step: the code of T is accepted 30 s before and after, not 60 s.
            assert!(t.check(&eight[2..], time + 30).is_some() && t.check(&eight[2..], time.saturating_sub(30)).is_some());
            assert_eq!(t.check(&eight[2..], time + 61), None);
        }
    }

    #[test]
    fn recovery_codes_are_long_random_and_read_in_any_case() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        assert!(
            codes.iter().all(|c| c.len() == 19 && c.matches('-').count() == 3),
            "{:?}",
            codes.iter().map(|c| c.len()).collect::<Vec<_>>()
        );
        assert_ne!(*codes[0], *codes[1]);
        assert_eq!(hash_code(&codes[0]), hash_code(&codes[0].to_lowercase().replace('-', " ")));
    }

    #[test]
    fn the_policy_decides_where_a_code_is_asked() {
        assert!(!needed(MfaPolicy::Off, true) && !needed(MfaPolicy::Server, false));
        assert!(needed(MfaPolicy::Server, true) && needed(MfaPolicy::Always, false));
    }
}
