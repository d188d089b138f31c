//! The registry's key slots, kept beside it in `<registry>.keys` (LUKS-like).
//!
//! The registry file is encrypted by SQLCipher under one random 256-bit *data key*. Nobody
//! types that key. Each account has a slot holding the data key for that account alone:
//!
//! - the account's password, through argon2id (OWASP's m = 19 MiB, t = 2, p = 1, a fresh salt),
//!   gives a key-encryption key;
//! - that key encrypts (XChaCha20-Poly1305, bound to the registry and the member) the slot's
//!   X25519 secret key;
//! - the data key is sealed to the slot's public key (`crypto_box` sealed box).
//!
//! A password opens its slot only if the AEAD tag checks, so the slot is also the password's
//! argon2id verifier: no separate hash is kept, and signing in costs one derivation. Public
//! keys let the registry re-key (`PRAGMA rekey`) and seal the new data key to every remaining
//! slot, and to the recovery key, without knowing their passwords: a removed member's old slot
//! opens nothing written afterwards. The recovery key is itself an X25519 secret key, printed
//! once when the registry is created (HIPAA's emergency access).
//!
//! The file also holds what must be known before the registry can be decrypted: the lockout
//! policy (a copy of the `lockout_*` settings), each account's failed attempts and lock, and
//! sign-in failures waiting to be written to the audit log at the next successful sign-in.
//! Nothing in it is patient data. Every secret here lives in a `Zeroizing` buffer.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use base64ct::{Base64, Encoding};
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use crypto_box::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{Error, Result};

/// OWASP's minimum for argon2id (2023 cheat sheet): 19 MiB, 2 passes, 1 lane.
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
pub const ARGON2_PASSES: u32 = 2;
pub const ARGON2_LANES: u32 = 1;

const FORMAT: &str = "cocm-keyring-1";

/// The key SQLCipher encrypts the registry with. Zeroed when dropped.
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    /// A second copy for a second connection on the same file (zeroed when dropped too).
    pub(crate) fn duplicate(&self) -> DataKey {
        DataKey(Zeroizing::new(*self.0))
    }

    fn random() -> DataKey {
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&XChaCha20Poly1305::generate_key(&mut OsRng));
        DataKey(key)
    }

    fn from_slice(bytes: &[u8]) -> Result<DataKey> {
        let mut key = Zeroizing::new([0u8; 32]);
        if bytes.len() != 32 {
            return Err(Error::Incompatible("a key slot holds a data key of the wrong length".into()));
        }
        key.copy_from_slice(bytes);
        Ok(DataKey(key))
    }

    /// SQLCipher's raw-key form, `x'…'`: 64 hex digits, used as is (no PBKDF2 on every open).
    pub(crate) fn sqlcipher_literal(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::with_capacity(67));
        s.push_str("x'");
        for b in self.0.iter() {
            s.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
            s.push(char::from_digit((b & 0xf) as u32, 16).unwrap_or('0'));
        }
        s.push('\'');
        s
    }
}

/// The recovery key as the lead writes it down: 64 hex digits in groups of 8.
pub struct RecoveryKey(Zeroizing<String>);

impl RecoveryKey {
    fn from_secret(secret: &SecretKey) -> RecoveryKey {
        let bytes = Zeroizing::new(secret.to_bytes());
        let mut s = Zeroizing::new(String::with_capacity(71));
        for (i, b) in bytes.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                s.push('-');
            }
            s.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
            s.push(char::from_digit((b & 0xf) as u32, 16).unwrap_or('0'));
        }
        RecoveryKey(s)
    }

    /// Reads a recovery key as typed: hex digits, dashes and spaces ignored, any case.
    pub fn parse(text: &str) -> Result<RecoveryKey> {
        let digits: Zeroizing<String> =
            Zeroizing::new(text.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_lowercase).collect());
        if digits.len() != 64 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::Auth("a recovery key is 64 hexadecimal digits (dashes between groups are optional)".into()));
        }
        let bytes = hex_to_key(&digits)?;
        Ok(RecoveryKey::from_secret(&SecretKey::from_bytes(*bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn secret(&self) -> Result<SecretKey> {
        let digits: Zeroizing<String> = Zeroizing::new(self.0.chars().filter(|c| *c != '-').collect());
        Ok(SecretKey::from_bytes(*hex_to_key(&digits)?))
    }
}

fn hex_to_key(digits: &str) -> Result<Zeroizing<[u8; 32]>> {
    let mut out = Zeroizing::new([0u8; 32]);
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(digits.get(2 * i..2 * i + 2).unwrap_or("zz"), 16)
            .map_err(|_| Error::Auth("a recovery key is 64 hexadecimal digits".into()))?;
    }
    Ok(out)
}

/// How many wrong passwords lock an account, and for how long (the `lockout_*` settings).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct LockoutPolicy {
    pub attempts: u32,
    pub minutes: u32,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy { attempts: 5, minutes: 15 }
    }
}

/// One account's slot.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Slot {
    pub member_id: String,
    pub member_name: String,
    /// argon2id's parameters, PHC style, e.g. `argon2id$v=19$m=19456,t=2,p=1`.
    kdf: String,
    salt: String,
    public_key: String,
    /// The XChaCha20-Poly1305 nonce followed by the encrypted X25519 secret key.
    wrapped_secret: String,
    sealed_data_key: String,
    pub must_change_password: bool,
    pub failed_attempts: u32,
    /// UTC RFC 3339; the account refuses sign-in until then.
    pub locked_until: Option<String>,
    /// Over a practice server: many failed sign-ins at this account from other addresses
    /// within an hour (`accounts::guard`), shown to the practice lead until they clear it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_alert: Option<NetworkAlert>,
}

/// Failed sign-ins at one account from many addresses (never a lock: a slowdown and this note).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct NetworkAlert {
    /// UTC RFC 3339 of the latest failure counted.
    pub at: String,
    /// Failures at the account in the hour before `at`.
    pub failures: u32,
}

/// The recovery key's slot: no password, only the public key and the sealed data key.
#[derive(Clone, Serialize, Deserialize)]
struct RecoverySlot {
    public_key: String,
    sealed_data_key: String,
}

/// A sign-in event that happened while the registry was locked, for the audit log.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PendingEvent {
    pub at: String,
    pub member_id: String,
    pub member_name: String,
    pub action: String,
    /// The workstation the attempt came from (a practice server's client address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

/// The key file's contents.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Keyring {
    format: String,
    /// Binds slots to this registry (part of each slot's AEAD associated data).
    registry_id: String,
    /// Counts re-keys; a backup's key file says which data key it holds.
    pub key_generation: u32,
    /// True for `cocm demo` registries: the start screen may show the demo password.
    #[serde(default)]
    pub demo: bool,
    pub lockout: LockoutPolicy,
    pub slots: Vec<Slot>,
    recovery: RecoverySlot,
    #[serde(default)]
    pub pending_audit: Vec<PendingEvent>,
    /// The practice's SMTP password (spec §10 e-mail), sealed under a key derived from the data
    /// key: whoever can open the registry can send its mail, and the key file alone opens nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    smtp_password: Option<String>,
}

/// A file beside `path` named by adding `suffix` (`registry.cocm` → `registry.cocm-wal`).
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The key file of a registry file: `registry.cocm` → `registry.cocm.keys`.
pub fn key_file_path(registry: &Path) -> PathBuf {
    sibling(registry, ".keys")
}

/// Where a re-key writes the new key file before `PRAGMA rekey` (see `Registry::rekey_with`).
pub fn next_key_file_path(registry: &Path) -> PathBuf {
    sibling(registry, ".keys.next")
}

fn b64(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}

fn unb64(field: &str, text: &str) -> Result<Vec<u8>> {
    Base64::decode_vec(text).map_err(|_| Error::Incompatible(format!("the key file's {field} is damaged")))
}

fn kdf_label() -> String {
    format!("argon2id$v=19$m={ARGON2_MEMORY_KIB},t={ARGON2_PASSES},p={ARGON2_LANES}")
}

/// argon2id(password, salt) → the key that wraps a slot's secret key.
fn derive(kdf: &str, password: &str, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
    let params = parse_kdf(kdf)?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), salt, out.as_mut())
        .map_err(|e| Error::Storage(format!("argon2id: {e}")))?;
    Ok(out)
}

fn parse_kdf(kdf: &str) -> Result<Params> {
    let bad = || Error::Incompatible(format!("the key file names an unknown key derivation '{kdf}'"));
    let rest = kdf.strip_prefix("argon2id$v=19$").ok_or_else(bad)?;
    let mut m = None;
    let mut t = None;
    let mut p = None;
    for part in rest.split(',') {
        let (k, v) = part.split_once('=').ok_or_else(bad)?;
        let v: u32 = v.parse().map_err(|_| bad())?;
        match k {
            "m" => m = Some(v),
            "t" => t = Some(v),
            "p" => p = Some(v),
            _ => return Err(bad()),
        }
    }
    let (m, t, p) = (m.ok_or_else(bad)?, t.ok_or_else(bad)?, p.ok_or_else(bad)?);
    // A key file asking for less than the minimum was not written by this app.
    if m < ARGON2_MEMORY_KIB || t < ARGON2_PASSES {
        return Err(bad());
    }
    Params::new(m, t, p, Some(32)).map_err(|_| bad())
}

impl Keyring {
    /// A new keyring with a fresh data key and recovery key, and no accounts yet.
    pub(crate) fn new(demo: bool) -> Result<(Keyring, DataKey, RecoveryKey)> {
        let data_key = DataKey::random();
        let recovery_secret = SecretKey::generate(&mut OsRng);
        let recovery_public = recovery_secret.public_key();
        let keyring = Keyring {
            format: FORMAT.into(),
            registry_id: uuid::Uuid::new_v4().to_string(),
            key_generation: 1,
            demo,
            lockout: LockoutPolicy::default(),
            slots: Vec::new(),
            recovery: RecoverySlot {
                public_key: b64(recovery_public.as_bytes()),
                sealed_data_key: b64(&seal(&recovery_public, &data_key)?),
            },
            pending_audit: Vec::new(),
            smtp_password: None,
        };
        Ok((keyring, data_key, RecoveryKey::from_secret(&recovery_secret)))
    }

    pub(crate) fn load(registry: &Path) -> Result<Keyring> {
        Keyring::load_from(&key_file_path(registry)).map_err(|e| match e {
            Error::Incompatible(_) if !key_file_path(registry).exists() => Error::Incompatible(format!(
                "{} is not a CoCM registry, or its key file {} is missing (a registry opens with the .keys file beside it)",
                registry.display(),
                key_file_path(registry).display()
            )),
            other => other,
        })
    }

    pub(crate) fn load_from(path: &Path) -> Result<Keyring> {
        let text = fs::read_to_string(path).map_err(|e| Error::Incompatible(format!("{}: {e}", path.display())))?;
        let keyring: Keyring =
            serde_json::from_str(&text).map_err(|e| Error::Incompatible(format!("{} is damaged: {e}", path.display())))?;
        if keyring.format != FORMAT {
            return Err(Error::Incompatible(format!("{} is a key file of another version ({})", path.display(), keyring.format)));
        }
        Ok(keyring)
    }

    pub(crate) fn save(&self, registry: &Path) -> Result<()> {
        self.save_to(&key_file_path(registry))
    }

    /// Writes a key file whole: to a temporary file, synced, then renamed over the old one.
    pub(crate) fn save_to(&self, path: &Path) -> Result<()> {
        let tmp = sibling(path, ".tmp");
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Storage(e.to_string()))?;
        let mut file = fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        Ok(())
    }

    /// The slot of a member id or name; a name as typed, in any case.
    pub(crate) fn slot(&self, member: &str) -> Option<&Slot> {
        let member = member.trim();
        self.slots.iter().find(|s| s.member_id == member || s.member_name == member).or_else(|| {
            let folded = member.to_lowercase();
            self.slots.iter().find(|s| s.member_name.to_lowercase() == folded)
        })
    }

    /// Spends the work of a slot's key derivation without opening anything, so that over the
    /// network an unknown name is refused after as long as a wrong password.
    pub(crate) fn derive_as_if_a_slot(&self, password: &str) {
        let kdf = self.slots.first().map_or_else(kdf_label, |s| s.kdf.clone());
        let _ = derive(&kdf, password, &[0u8; 16]);
    }

    pub(crate) fn slot_mut(&mut self, member_id: &str) -> Option<&mut Slot> {
        self.slots.iter_mut().find(|s| s.member_id == member_id)
    }

    fn aad(&self, member_id: &str) -> String {
        format!("{FORMAT}|{}|{member_id}", self.registry_id)
    }

    /// Adds or replaces `member_id`'s slot: a new key pair and salt, the data key sealed to it.
    pub(crate) fn set_slot(
        &mut self,
        member_id: &str,
        member_name: &str,
        password: &str,
        data_key: &DataKey,
        must_change: bool,
    ) -> Result<()> {
        let kdf = kdf_label();
        let salt: [u8; 16] = {
            let bytes = XChaCha20Poly1305::generate_nonce(&mut OsRng);
            let mut s = [0u8; 16];
            s.copy_from_slice(&bytes[..16]);
            s
        };
        let kek = derive(&kdf, password, &salt)?;
        let secret = SecretKey::generate(&mut OsRng);
        let public = secret.public_key();
        let cipher = XChaCha20Poly1305::new(kek.as_ref().into());
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let secret_bytes = Zeroizing::new(secret.to_bytes());
        let aad = self.aad(member_id);
        let wrapped = cipher
            .encrypt(&nonce, Payload { msg: secret_bytes.as_ref(), aad: aad.as_bytes() })
            .map_err(|_| Error::Storage("could not wrap the key slot".into()))?;
        let mut wrapped_secret = nonce.to_vec();
        wrapped_secret.extend_from_slice(&wrapped);
        let slot = Slot {
            member_id: member_id.to_string(),
            member_name: member_name.to_string(),
            kdf,
            salt: b64(&salt),
            public_key: b64(public.as_bytes()),
            wrapped_secret: b64(&wrapped_secret),
            sealed_data_key: b64(&seal(&public, data_key)?),
            must_change_password: must_change,
            failed_attempts: 0,
            locked_until: None,
            network_alert: None,
        };
        match self.slot_mut(member_id) {
            Some(existing) => *existing = slot,
            None => self.slots.push(slot),
        }
        Ok(())
    }

    /// The data key, if `password` opens `member_id`'s slot; `None` for a wrong password.
    pub(crate) fn open_slot(&self, member_id: &str, password: &str) -> Result<Option<DataKey>> {
        let slot = self.slots.iter().find(|s| s.member_id == member_id).ok_or_else(|| Error::Auth("no such account".into()))?;
        let kek = derive(&slot.kdf, password, &unb64("salt", &slot.salt)?)?;
        let wrapped = unb64("wrapped secret", &slot.wrapped_secret)?;
        if wrapped.len() < 24 {
            return Err(Error::Incompatible("the key file's wrapped secret is damaged".into()));
        }
        let (nonce, ciphertext) = wrapped.split_at(24);
        let cipher = XChaCha20Poly1305::new(kek.as_ref().into());
        let aad = self.aad(member_id);
        let Ok(secret_bytes) = cipher.decrypt(nonce.into(), Payload { msg: ciphertext, aad: aad.as_bytes() }) else {
            return Ok(None);
        };
        let secret_bytes = Zeroizing::new(secret_bytes);
        let secret = SecretKey::from_slice(&secret_bytes).map_err(|_| Error::Incompatible("the key slot is damaged".into()))?;
        unseal(&secret, &slot.sealed_data_key).map(Some)
    }

    /// The data key, if `key` is this registry's recovery key.
    pub(crate) fn open_with_recovery_key(&self, key: &RecoveryKey) -> Result<DataKey> {
        let secret = key.secret()?;
        if b64(secret.public_key().as_bytes()) != self.recovery.public_key {
            return Err(Error::Auth("that is not this registry's recovery key".into()));
        }
        unseal(&secret, &self.recovery.sealed_data_key)
    }

    /// Seals a new data key to every slot and the recovery key, after `PRAGMA rekey`.
    pub(crate) fn reseal_all(&mut self, data_key: &DataKey) -> Result<()> {
        for slot in &mut self.slots {
            let public = public_key(&slot.public_key)?;
            slot.sealed_data_key = b64(&seal(&public, data_key)?);
        }
        let public = public_key(&self.recovery.public_key)?;
        self.recovery.sealed_data_key = b64(&seal(&public, data_key)?);
        self.key_generation += 1;
        Ok(())
    }

    /// The key that seals the practice's SMTP password: BLAKE2b keyed with the data key, so it
    /// is never the data key itself, and changes with it.
    fn secret_cipher(data_key: &DataKey) -> Result<XChaCha20Poly1305> {
        use blake2::digest::{Mac, consts::U32};
        let mut mac =
            <blake2::Blake2bMac<U32> as Mac>::new_from_slice(data_key.0.as_ref()).map_err(|_| Error::Storage("the secret key".into()))?;
        mac.update(b"cocm smtp password v1");
        let key = Zeroizing::new(mac.finalize().into_bytes());
        Ok(XChaCha20Poly1305::new(key.as_slice().into()))
    }

    pub(crate) fn has_smtp_password(&self) -> bool {
        self.smtp_password.is_some()
    }

    /// Seals `password` (or, with `None`, forgets the one kept).
    pub(crate) fn set_smtp_password(&mut self, data_key: &DataKey, password: Option<&str>) -> Result<()> {
        let Some(password) = password else {
            self.smtp_password = None;
            return Ok(());
        };
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = self.aad("smtp");
        let sealed = Self::secret_cipher(data_key)?
            .encrypt(&nonce, Payload { msg: password.as_bytes(), aad: aad.as_bytes() })
            .map_err(|_| Error::Storage("could not seal the SMTP password".into()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        self.smtp_password = Some(b64(&bytes));
        Ok(())
    }

    /// The SMTP password kept, if any.
    pub(crate) fn smtp_password(&self, data_key: &DataKey) -> Result<Option<Zeroizing<String>>> {
        let Some(text) = &self.smtp_password else { return Ok(None) };
        let bytes = unb64("SMTP password", text)?;
        if bytes.len() < 24 {
            return Err(Error::Incompatible("the key file's SMTP password is damaged".into()));
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let aad = self.aad("smtp");
        let plain = Self::secret_cipher(data_key)?
            .decrypt(nonce.into(), Payload { msg: ciphertext, aad: aad.as_bytes() })
            .map_err(|_| Error::Incompatible("the key file's SMTP password does not open with this registry's key".into()))?;
        let plain = Zeroizing::new(plain);
        let text = std::str::from_utf8(&plain).map_err(|_| Error::Incompatible("the SMTP password is damaged".into()))?;
        Ok(Some(Zeroizing::new(text.to_string())))
    }

    pub(crate) fn new_data_key() -> DataKey {
        DataKey::random()
    }
}

fn public_key(text: &str) -> Result<PublicKey> {
    PublicKey::from_slice(&unb64("public key", text)?).map_err(|_| Error::Incompatible("the key file's public key is damaged".into()))
}

fn seal(public: &PublicKey, data_key: &DataKey) -> Result<Vec<u8>> {
    public.seal(&mut OsRng, data_key.0.as_ref()).map_err(|_| Error::Storage("could not seal the data key".into()))
}

fn unseal(secret: &SecretKey, sealed: &str) -> Result<DataKey> {
    let bytes = Zeroizing::new(
        secret.unseal(&unb64("sealed data key", sealed)?).map_err(|_| Error::Incompatible("the key slot's data key is damaged".into()))?,
    );
    DataKey::from_slice(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_opens_with_its_password_only() {
        let (mut k, dk, _) = Keyring::new(false).unwrap();
        k.set_slot("m1", "Ana", "correct horse battery", &dk, false).unwrap();
        let opened = k.open_slot("m1", "correct horse battery").unwrap().expect("opens");
        assert_eq!(opened.0.as_ref(), dk.0.as_ref());
        assert!(k.open_slot("m1", "correct horse batterY").unwrap().is_none());
    }

    #[test]
    fn a_slot_moved_to_another_member_does_not_open() {
        let (mut k, dk, _) = Keyring::new(false).unwrap();
        k.set_slot("m1", "Ana", "correct horse battery", &dk, false).unwrap();
        let mut stolen = k.slots[0].clone();
        stolen.member_id = "m2".into();
        k.slots.push(stolen);
        // The associated data binds the wrapped secret to m1: as m2's slot it fails its tag.
        assert!(k.open_slot("m2", "correct horse battery").unwrap().is_none());
    }

    #[test]
    fn the_recovery_key_opens_and_survives_a_rekey() {
        let (mut k, dk, recovery) = Keyring::new(false).unwrap();
        assert_eq!(k.open_with_recovery_key(&recovery).unwrap().0.as_ref(), dk.0.as_ref());
        let typed = RecoveryKey::parse(&recovery.as_str().to_uppercase().replace('-', " ")).unwrap();
        assert_eq!(k.open_with_recovery_key(&typed).unwrap().0.as_ref(), dk.0.as_ref());
        let new = Keyring::new_data_key();
        k.reseal_all(&new).unwrap();
        assert_eq!(k.open_with_recovery_key(&recovery).unwrap().0.as_ref(), new.0.as_ref());
        let (other, _, other_recovery) = Keyring::new(false).unwrap();
        drop(other);
        assert!(matches!(k.open_with_recovery_key(&other_recovery), Err(Error::Auth(_))));
    }

    #[test]
    fn the_key_derivation_is_at_least_owasps_minimum() {
        assert!(parse_kdf("argon2id$v=19$m=19456,t=2,p=1").is_ok());
        assert!(parse_kdf("argon2id$v=19$m=4096,t=2,p=1").is_err());
        assert!(parse_kdf("argon2id$v=19$m=19456,t=1,p=1").is_err());
        assert!(parse_kdf("pbkdf2$i=1").is_err());
    }
}
