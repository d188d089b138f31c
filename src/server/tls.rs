//! The server's certificate: the one given, or a self-signed one made on first start and kept
//! beside the registry; and its SHA-256 fingerprint, which clients pin.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// The certificate and key files a server uses.
#[derive(Clone, Debug)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl CertFiles {
    /// Where the self-signed certificate of the registry at `db` lives: beside it.
    pub fn beside(db: &Path) -> CertFiles {
        let stem = db.file_stem().map_or_else(|| "registry".into(), |s| s.to_string_lossy().into_owned());
        let dir = db.parent().unwrap_or(Path::new("."));
        CertFiles { cert: dir.join(format!("{stem}.server-cert.pem")), key: dir.join(format!("{stem}.server-key.pem")) }
    }

    /// Makes a self-signed certificate for this machine's names, unless one is already there.
    /// Returns true if it made one. The key file is readable by its owner only.
    pub fn make_self_signed_unless_present(&self) -> Result<bool> {
        if self.cert.exists() && self.key.exists() {
            return Ok(false);
        }
        let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
        if let Ok(host) = std::fs::read_to_string("/etc/hostname") {
            let host = host.trim();
            if !host.is_empty() {
                names.push(host.to_string());
            }
        }
        let made = rcgen::generate_simple_self_signed(names).map_err(|e| Error::Storage(format!("making the certificate: {e}")))?;
        write_private(&self.key, made.key_pair.serialize_pem().as_bytes())?;
        std::fs::write(&self.cert, made.cert.pem())?;
        Ok(true)
    }

    /// The SHA-256 fingerprint of the certificate file's first certificate.
    pub fn fingerprint(&self) -> Result<String> {
        let pem = std::fs::read_to_string(&self.cert)
            .map_err(|e| Error::validation("tls-cert", format!("cannot read {}: {e}", self.cert.display())))?;
        let der = first_certificate_der(&pem).ok_or_else(|| Error::validation("tls-cert", "the file holds no PEM certificate"))?;
        Ok(fingerprint(&der))
    }
}

/// A certificate's SHA-256 fingerprint as browsers show it: upper-case hex pairs joined by colons.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// A fingerprint as typed (any case, with or without colons or spaces), in the canonical form.
pub fn normalise_fingerprint(typed: &str) -> Result<String> {
    let hex: String = typed.trim().trim_start_matches("SHA256:").chars().filter(|c| !matches!(c, ':' | ' ')).collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::validation("fingerprint", "a SHA-256 fingerprint is 64 hex digits (32 pairs, colons optional)"));
    }
    let upper = hex.to_ascii_uppercase();
    Ok(upper.as_bytes().chunks(2).map(|p| String::from_utf8_lossy(p).into_owned()).collect::<Vec<_>>().join(":"))
}

fn first_certificate_der(pem: &str) -> Option<Vec<u8>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem.as_bytes()).next()?.ok().map(|c| c.to_vec())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_is_made_once_and_its_fingerprint_is_stable() {
        let dir = tempfile::tempdir().unwrap();
        let files = CertFiles::beside(&dir.path().join("practice.cocm"));
        assert!(files.cert.ends_with("practice.server-cert.pem"));
        assert!(files.make_self_signed_unless_present().unwrap());
        let first = files.fingerprint().unwrap();
        assert!(!files.make_self_signed_unless_present().unwrap());
        assert_eq!(files.fingerprint().unwrap(), first);
        // 32 bytes: 64 hex digits and 31 colons.
        assert_eq!(first.len(), 95);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&files.key).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn fingerprints_are_read_as_typed() {
        let canonical = ["AB"; 32].join(":");
        assert_eq!(normalise_fingerprint(&"ab".repeat(32)).unwrap(), canonical);
        assert_eq!(normalise_fingerprint(&format!("SHA256:{}", canonical.to_lowercase())).unwrap(), canonical);
        assert!(normalise_fingerprint("AB:CD").is_err());
        assert!(normalise_fingerprint(&"zz".repeat(32)).is_err());
    }
}
