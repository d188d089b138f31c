//! The one error type of the registry. Every error has a stable `code` that the CLI and the
//! desktop app can match on, and a human message that names the field or record at fault.

use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: the field it concerns and what is wrong with it.
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    #[error("{0}")]
    NotFound(String),
    /// The input is well formed but clashes with what is stored (a duplicate MRN, an open episode).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PermissionDenied(String),
    /// Sign-in failed: unknown account, wrong or missing password, a locked account, or a
    /// password that must be changed first. Never says more than the person typing may know.
    #[error("{0}")]
    Auth(String),
    /// The password was right, but a practice lead set it: the member chooses their own first.
    #[error("{0}")]
    PasswordChangeRequired(String),
    /// The password was right and this sign-in needs the second factor's code as well.
    #[error("{0}")]
    MfaRequired(String),
    /// A practice server has no live session for this request: never signed in, signed out,
    /// or ended (idle, 12 hours, a server restart). The UI asks for the password again and
    /// goes on where the user was; `auth` stays a wrong password.
    #[error("{0}")]
    SignedOut(String),
    /// Too many failed sign-ins from this client address (or at this account from many): try
    /// again after `retry_after_secs` (a server answers 429 with `Retry-After`).
    #[error("{message}")]
    Throttled { message: String, retry_after_secs: u64 },
    /// The file is not a registry, or was written by a newer version of the app.
    #[error("{0}")]
    Incompatible(String),
    #[error("storage: {0}")]
    Storage(String),
}

impl Error {
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Error::Validation { field: field.to_string(), message: message.into() }
    }

    /// The stable code of this error: `validation`, `not_found`, `conflict`,
    /// `permission_denied`, `auth`, `password_change_required`, `mfa_required`, `signed_out`, `throttled`, `incompatible` or
    /// `storage`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Validation { .. } => "validation",
            Error::NotFound(_) => "not_found",
            Error::Conflict(_) => "conflict",
            Error::PermissionDenied(_) => "permission_denied",
            Error::Auth(_) => "auth",
            Error::PasswordChangeRequired(_) => "password_change_required",
            Error::MfaRequired(_) => "mfa_required",
            Error::SignedOut(_) => "signed_out",
            Error::Throttled { .. } => "throttled",
            Error::Incompatible(_) => "incompatible",
            Error::Storage(_) => "storage",
        }
    }

    /// The HTTP status a practice server answers this error with.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::Validation { .. } => 400,
            Error::NotFound(_) => 404,
            Error::Conflict(_) | Error::Incompatible(_) => 409,
            Error::PermissionDenied(_) => 403,
            Error::Auth(_) | Error::PasswordChangeRequired(_) | Error::MfaRequired(_) | Error::SignedOut(_) => 401,
            Error::Throttled { .. } => 429,
            Error::Storage(_) => 500,
        }
    }

    /// The error a `{code, message}` payload describes (what a server's client received), so
    /// that a command run against a server fails as it would on a file.
    pub fn from_payload(code: &str, message: &str) -> Error {
        let message = message.to_string();
        match code {
            "validation" => match message.split_once(": ") {
                Some((field, rest)) => Error::validation(field, rest),
                None => Error::validation("input", message),
            },
            "not_found" => Error::NotFound(message),
            "conflict" => Error::Conflict(message),
            "permission_denied" => Error::PermissionDenied(message),
            "auth" => Error::Auth(message),
            "password_change_required" => Error::PasswordChangeRequired(message),
            "mfa_required" => Error::MfaRequired(message),
            "signed_out" => Error::SignedOut(message),
            "throttled" => Error::Throttled { message, retry_after_secs: 0 },
            "incompatible" => Error::Incompatible(message),
            _ => Error::Storage(message.strip_prefix("storage: ").unwrap_or(&message).to_string()),
        }
    }

    /// The `{code, message}` shape that crosses the API boundary to the UI.
    pub fn payload(&self) -> ErrorPayload {
        ErrorPayload { code: self.code(), message: self.to_string() }
    }
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ErrorPayload {
    pub code: &'static str,
    pub message: String,
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Storage(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Storage(format!("JSON: {e}"))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Storage(e.to_string())
    }
}
