//! E-mail through the practice's own SMTP server (spec §10): a check-in link, and nothing
//! else. The message names the practice and carries the link; it never names the patient, a
//! condition or an instrument, so a mailbox someone else reads learns nothing clinical.
//!
//! The connection is always encrypted (`smtp_security`: STARTTLS, or TLS from the first byte)
//! with rustls, trusting the public roots or the practice's own CA (`smtp_ca_file`). The
//! password lives sealed in the key file (`keyring`), never in the settings table or the audit.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

use crate::access::Action;
use crate::keyring::Keyring;
use crate::settings::Settings;
use crate::{Error, Registry, Result, audit};

/// The e-mail settings other than the port (a numeric setting).
pub const SETTINGS: &[&str] = &["smtp_host", "smtp_security", "smtp_from", "smtp_user", "smtp_ca_file"];

/// Checks one e-mail setting; `None` when `key` is not one of them.
pub(crate) fn check_setting(key: &str, value: &str) -> Option<Result<String>> {
    let checked = match key {
        "smtp_host" => {
            let ok = value.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
            if ok {
                Ok(value.to_lowercase())
            } else {
                Err(Error::validation(key, format!("must be a host name such as mail.example.org (got '{value}')")))
            }
        }
        "smtp_security" => match value {
            "starttls" | "tls" => Ok(value.to_string()),
            _ => Err(Error::validation(key, format!("must be starttls or tls: mail is never sent unencrypted (got '{value}')"))),
        },
        "smtp_from" if value.is_empty() => Ok(String::new()),
        "smtp_from" => value
            .parse::<Mailbox>()
            .map(|_| value.to_string())
            .map_err(|_| Error::validation(key, format!("must be an e-mail address such as checkin@example.org (got '{value}')"))),
        "smtp_user" => Ok(value.to_string()),
        "smtp_ca_file" if value.is_empty() => Ok(String::new()),
        "smtp_ca_file" => match std::fs::read(value) {
            Ok(pem) if Certificate::from_pem(&pem).is_ok() => Ok(value.to_string()),
            _ => Err(Error::validation(key, format!("must be a PEM certificate file this machine can read (got '{value}')"))),
        },
        _ => return None,
    };
    Some(checked)
}

/// Whether the key file keeps an SMTP password.
pub(crate) fn has_password(registry: &std::path::Path) -> Result<bool> {
    Ok(Keyring::load(registry)?.has_smtp_password())
}

impl Registry {
    /// Keeps the SMTP server's password sealed in the key file (or, with `None`, forgets it).
    /// Audited without the password.
    pub fn set_smtp_password(&mut self, password: Option<&str>) -> Result<bool> {
        self.permit(Action::ChangeSettings)?;
        let password = password.filter(|p| !p.is_empty());
        let path = self.path().to_path_buf();
        let data_key = self.data_key.duplicate();
        self.write(Action::ChangeSettings, |tx, actor| {
            let action = if password.is_some() { "update" } else { "clear" };
            audit::record(tx, actor, action, "setting", Some("smtp_password"), serde_json::json!({}))?;
            crate::accounts::update_keyring(&path, |ring| ring.set_smtp_password(&data_key, password))?
        })?;
        Ok(password.is_some())
    }

    /// Whether check-in links can be e-mailed: an SMTP host and a sender are set.
    pub fn can_email(&self) -> Result<bool> {
        let s = self.settings()?;
        Ok(!s.smtp_host.is_empty() && !s.smtp_from.is_empty())
    }

    /// E-mails a check-in link to `to`.
    pub(crate) fn email_link(&self, settings: &Settings, to: &str, link: &str, language: &str) -> Result<()> {
        let password = Keyring::load(self.path())?.smtp_password(&self.data_key)?;
        let message = link_message(settings, &self.practice_name()?, to, link, language)?;
        transport(settings, password.as_deref().map(|p| p.as_str()))?
            .send(&message)
            .map(|_| ())
            .map_err(|e| Error::Storage(format!("the e-mail could not be sent through {}:{}: {e}", settings.smtp_host, settings.smtp_port)))
    }
}

/// The message: the practice's name and the link, in the request's language.
fn link_message(settings: &Settings, practice: &str, to: &str, link: &str, language: &str) -> Result<Message> {
    let from: Mailbox = settings.smtp_from.parse().map_err(|_| Error::validation("smtp_from", "set the sender's e-mail address first"))?;
    let to: Mailbox = to.parse().map_err(|_| Error::validation("email", format!("'{to}' is not an e-mail address")))?;
    let days = settings.questionnaire_expiry_days;
    let phone = if settings.practice_phone.is_empty() { String::new() } else { format!(" ({})", settings.practice_phone) };
    let (subject, body) = match language {
        "es" => (
            format!("Un breve control de {practice}"),
            format!(
                "{practice} le pide que responda unas preguntas breves antes de su próximo contacto:\n\n{link}\n\n\
                 El enlace funciona una vez y vence en {days} días. Si no esperaba este mensaje, comuníquese con {practice}{phone}.\n\
                 Si está pensando en hacerse daño, llame o envíe un mensaje de texto al 988 ahora. En una emergencia, llame al 911.\n"
            ),
        ),
        _ => (
            format!("A short check-in from {practice}"),
            format!(
                "{practice} asks you to answer a few short questions before your next contact:\n\n{link}\n\n\
                 The link works once and expires in {days} days. If you did not expect this message, contact {practice}{phone}.\n\
                 If you are thinking about hurting yourself, call or text 988 now. In an emergency, call 911.\n"
            ),
        ),
    };
    Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| Error::validation("email", format!("the message could not be made: {e}")))
}

fn transport(settings: &Settings, password: Option<&str>) -> Result<SmtpTransport> {
    let host = settings.smtp_host.clone();
    let mut tls = TlsParameters::builder(host.clone());
    if !settings.smtp_ca_file.is_empty() {
        let pem = std::fs::read(&settings.smtp_ca_file)
            .map_err(|e| Error::validation("smtp_ca_file", format!("{} cannot be read: {e}", settings.smtp_ca_file)))?;
        let ca = Certificate::from_pem(&pem).map_err(|_| Error::validation("smtp_ca_file", "is not a PEM certificate"))?;
        tls = tls.add_root_certificate(ca);
    }
    let tls = tls.build_rustls().map_err(|e| Error::Storage(format!("the e-mail connection's TLS: {e}")))?;
    let tls = if settings.smtp_security == "tls" { Tls::Wrapper(tls) } else { Tls::Required(tls) };
    let port = u16::try_from(settings.smtp_port).map_err(|_| Error::validation("smtp_port", "must be a port from 1 to 65535"))?;
    let mut builder = SmtpTransport::builder_dangerous(host).port(port).tls(tls).timeout(Some(Duration::from_secs(15)));
    if !settings.smtp_user.is_empty() {
        let password =
            password.ok_or_else(|| Error::validation("smtp_password", "set the SMTP account's password (cocm settings smtp-password)"))?;
        builder = builder.credentials(Credentials::new(settings.smtp_user.clone(), password.to_string()));
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_settings_are_checked() {
        assert_eq!(check_setting("smtp_security", "starttls").unwrap().unwrap(), "starttls");
        assert_eq!(check_setting("smtp_security", "none").unwrap().unwrap_err().code(), "validation");
        assert!(check_setting("smtp_from", "not an address").unwrap().is_err());
        assert_eq!(check_setting("smtp_host", "Mail.Example.org").unwrap().unwrap(), "mail.example.org");
        assert!(check_setting("smtp_host", "mail example").unwrap().is_err());
        assert!(check_setting("smtp_ca_file", "/no/such/file.pem").unwrap().is_err());
        assert!(check_setting("lockout_minutes", "5").is_none());
    }
}
