//! CoCM Registry core: the collaborative-care registry's domain and storage. Every rule of
//! `cocm-spec.md` lives here once; the `cocm` CLI and the desktop app only call this API.
//!
//! Open a [`Registry`] on a file, act as a team member, and call its methods. Each write is one
//! transaction with an audit row; reads take an "as of" date so results are reproducible.

pub mod dates;
pub mod error;
pub mod vocab;

pub mod access;
pub mod accounts;
pub mod audit;
pub mod backup;
pub mod conversion;
pub mod keyring;
pub mod netfs;
pub mod settings;
pub mod store;

pub mod assessments;
pub mod contacts;
pub mod coverage;
pub mod diagnoses;
pub mod episodes;
pub mod instruments;
pub mod loinc;
pub mod mail;
pub mod patients;
pub mod reviews;
pub mod team;
pub mod treatment;
pub mod visits;
pub mod voids;

pub mod billing;
pub mod candidates;
pub mod caseload;
pub mod chart;
pub mod flags;
mod id_index;
pub mod measures;
pub mod questionnaires;
pub mod queue;
pub mod reports;
mod snapshot;

pub mod demo;
pub mod fhir;
pub mod import;

pub mod client;
pub mod commands;
pub mod server;

pub use error::{Error, ErrorPayload, Result};
pub use store::Registry;
