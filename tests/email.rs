//! Check-in links by e-mail (spec §10), through a real SMTP server run by this test (Debian's
//! python3-aiosmtpd, `tests/support/smtp_server.py`) on loopback: STARTTLS required, a CA of the
//! test's own, and a password that lives sealed in the key file.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use cocm::questionnaires::NewQuestionnaire;
use common::*;
use serde_json::Value;

const SMTP_PASSWORD: &str = "smtp-secret-4417";

struct SmtpServer {
    child: Child,
    _stdin: ChildStdin,
    port: u16,
    messages: Receiver<Value>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the test's SMTP server with a certificate for 127.0.0.1 signed by a CA made here;
/// returns it and the CA's PEM file.
fn smtp_server(dir: &std::path::Path) -> (SmtpServer, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().signed_by(&leaf_key, &ca, &ca_key).unwrap();
    let (ca_file, cert_file, key_file) = (dir.join("ca.pem"), dir.join("smtp.pem"), dir.join("smtp.key"));
    std::fs::write(&ca_file, ca.pem()).unwrap();
    std::fs::write(&cert_file, leaf.pem()).unwrap();
    std::fs::write(&key_file, leaf_key.serialize_pem()).unwrap();
    // Debian's python3 carries aiosmtpd; another python3 earlier on PATH may not.
    let python = if std::path::Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_server.py");
    let mut child = Command::new(python)
        .args([script, cert_file.to_str().unwrap(), key_file.to_str().unwrap(), "registry", SMTP_PASSWORD])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs (make deps installs python3-aiosmtpd)");
    let stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = lines.next().expect("the SMTP server starts (is python3-aiosmtpd installed? make deps)").unwrap();
    let port: u16 = ready.strip_prefix("READY ").unwrap_or_else(|| panic!("{ready}")).parse().unwrap();
    let (tx, messages) = channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = tx.send(serde_json::from_str(&line).unwrap());
        }
    });
    (SmtpServer { child, _stdin: stdin, port, messages }, ca_file)
}

#[test]
fn a_check_in_link_is_e_mailed_over_starttls_and_names_nothing_clinical() {
    let (t, mut lead) = setup();
    let (smtp, ca_file) = smtp_server(t.path.parent().unwrap());
    for (key, value) in [
        ("patient_portal_url", "https://checkin.example.org"),
        ("smtp_host", "127.0.0.1"),
        ("smtp_port", &smtp.port.to_string()),
        ("smtp_from", "checkin@example.org"),
        ("smtp_user", "registry"),
        ("smtp_ca_file", ca_file.to_str().unwrap()),
    ] {
        lead.set_setting(key, value).unwrap();
    }
    // Mail is never sent unencrypted.
    assert_eq!(lead.set_setting("smtp_security", "none").unwrap_err().code(), "validation");

    // The password is kept sealed: not in the key file's text, the settings or the audit.
    assert!(lead.set_smtp_password(Some(SMTP_PASSWORD)).unwrap());
    assert!(lead.settings_shown().unwrap().smtp_password_set);
    let key_file = std::fs::read_to_string(cocm::keyring::key_file_path(&t.path)).unwrap();
    assert!(!key_file.contains(SMTP_PASSWORD));
    let leaked: i64 =
        raw(&t.path).query_row("SELECT count(*) FROM audit_log WHERE instr(details, ?1)", [SMTP_PASSWORD], |r| r.get(0)).unwrap();
    assert_eq!(leaked, 0);
    let settings_text: String = raw(&t.path).query_row("SELECT group_concat(value) FROM settings", [], |r| r.get(0)).unwrap();
    assert!(!settings_text.contains(SMTP_PASSWORD));

    // The care manager sends P1 a check-in to an address: it arrives, signed in as the account.
    let mut cm = sign_in_as(&mut lead, "CM");
    let asked = NewQuestionnaire { email: Some("pat@example.org".into()), ..Default::default() };
    let sent = cm.send_questionnaire("P1", &asked).unwrap();
    assert!(sent.emailed, "{:?}", sent.email_error);
    let message = smtp.messages.recv_timeout(Duration::from_secs(10)).expect("the message arrives");
    assert_eq!((message["from"].as_str(), message["to"][0].as_str()), (Some("checkin@example.org"), Some("pat@example.org")));
    assert_eq!(message["auth"], "registry");
    let content = message["content"].as_str().unwrap().replace("=\r\n", "").replace("=3D", "=");
    assert!(content.contains(&sent.link), "the message holds the link: {content}");
    assert!(content.contains("Subject: A short check-in from Test"), "{content}");
    // Nothing names the patient, their date of birth, a condition or an instrument.
    let without_link = content.replace(&sent.link, "");
    for secret in ["P1", "Patient", "1970", "05-05", "PHQ", "phq", "depression", "Depression", "GAD"] {
        assert!(!without_link.contains(secret), "the e-mail names {secret}: {without_link}");
    }

    // TLS from the first byte against a server that speaks STARTTLS fails: the request stays,
    // the link still works, and the failure is said.
    cm.cancel_questionnaire(&sent.request.id).unwrap();
    lead.set_setting("smtp_security", "tls").unwrap();
    let failed = cm.send_questionnaire("P1", &asked).unwrap();
    assert!(!failed.emailed);
    assert!(failed.email_error.as_deref().unwrap().contains("could not be sent"), "{:?}", failed.email_error);
    cm.cancel_questionnaire(&failed.request.id).unwrap();
    lead.set_setting("smtp_security", "starttls").unwrap();

    // The nightly job: P1 is due (no open request, cadence passed) and has an address (the
    // latest check-in's), so one more message arrives and the request is open.
    let outcome = cm.send_due_questionnaires(cocm::dates::today()).unwrap();
    assert_eq!(outcome.sent.len(), 1, "{:?}", outcome.not_sent);
    assert_eq!(outcome.sent[0].request.email.as_deref(), Some("pat@example.org"));
    let nightly = smtp.messages.recv_timeout(Duration::from_secs(10)).expect("the due check-in arrives");
    assert!(nightly["content"].as_str().unwrap().contains("checkin.example.org/r/"));
    // Sent once: P1 is no longer due.
    assert!(cm.send_due_questionnaires(cocm::dates::today()).unwrap().sent.is_empty());

    // A wrong password: nothing is sent, and the due request is cancelled again so it stays due.
    cm.cancel_questionnaire(&outcome.sent[0].request.id).unwrap();
    lead.set_smtp_password(Some("a-wrong-password")).unwrap();
    let refused = cm.send_due_questionnaires(cocm::dates::today()).unwrap();
    assert!(refused.sent.is_empty());
    assert_eq!(refused.not_sent.len(), 1);
    assert!(cm.questionnaires(Some("P1")).unwrap().iter().all(|q| q.state != cocm::questionnaires::RequestState::Open));
    let _ = std::io::stdout().flush();
}
