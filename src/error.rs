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
    /// `permission_denied`, `auth`, `password_change_required`, `incompatible` or `storage`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Validation { .. } => "validation",
            Error::NotFound(_) => "not_found",
            Error::Conflict(_) => "conflict",
            Error::PermissionDenied(_) => "permission_denied",
            Error::Auth(_) => "auth",
            Error::PasswordChangeRequired(_) => "password_change_required",
            Error::Incompatible(_) => "incompatible",
            Error::Storage(_) => "storage",
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
