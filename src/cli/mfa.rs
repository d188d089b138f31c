//! `cocm mfa`: setting up one's second factor from a terminal, and seeing it. The core does
//! the work (`accounts::second_factor`); this prints the QR code and reads the first code.

use cocm::Result;
use cocm::accounts::second_factor::{FactorEnrolment, OwnFactor};

/// Shows the secret (a QR code of its URI for the phone's camera, and the text for typing),
/// reads the app's first code (`$COCM_TOTP`, else a prompt) and prints the recovery codes once.
pub fn enrol(begin: impl FnOnce() -> Result<FactorEnrolment>, confirm: impl FnOnce(&str) -> Result<Vec<String>>) -> Result<()> {
    let enrolment = begin()?;
    let qr = qrcode::QrCode::new(enrolment.otpauth_uri.as_bytes()).map_err(|e| cocm::Error::Storage(format!("the QR code: {e}")))?;
    let picture = qr.render::<qrcode::render::unicode::Dense1x2>().quiet_zone(true).build();
    eprintln!("Scan this with an authenticator app (or type the secret below into it):\n{picture}");
    eprintln!("secret: {}", enrolment.secret);
    let code = super::secret("COCM_TOTP", "The 6-digit code the app shows now: ")?;
    let codes = confirm(code.trim())?;
    println!("second factor set up. Recovery codes: each works once instead of a code; shown only now, keep them offline:");
    for c in codes {
        println!("  {c}");
    }
    Ok(())
}

pub fn status(own: &OwnFactor, as_json: bool) -> Result<()> {
    if as_json {
        println!("{}", serde_json::to_string_pretty(own)?);
        return Ok(());
    }
    match own.enrolled {
        true => {
            println!("second factor set up; {} recovery codes left; this registry asks for it: {}", own.recovery_codes_left, own.policy)
        }
        false => println!("no second factor set up; this registry asks for it: {} (cocm mfa enrol)", own.policy),
    }
    Ok(())
}
