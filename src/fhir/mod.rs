//! Exchange with EHRs in FHIR R4 (issue 10). `export` writes the whole registry (or what changed
//! since a date) as Bulk Data NDJSON, one file per resource type plus the manifest; `import`
//! reads a Bundle or NDJSON back, matching patients by MRN and adding only what is new, with the
//! CSV import's all-or-nothing and audit. `resources` is the one map between the registry's
//! records and FHIR's; the LOINC codes come from `crate::loinc`.
//!
//! What FHIR has no element for (relapse prevention as a status, a contact's mode and note, a
//! member's role) travels in extensions under `BASE`, so an export imports back whole.

mod bulk;
mod export;
mod fields;
mod import;
mod resources;
mod source;

pub use export::{FhirArchive, FhirExportReport, FhirFile, refuse_used_folder};
pub use import::{FhirCounts, FhirImportReport, FhirProblem};
pub use source::{FhirSource, sources_at};

/// The registry's own namespace for identifiers, code systems and extensions.
pub const BASE: &str = "https://cocm-registry.org/fhir";
/// The practice's MRNs (an EHR's own MRN system is matched too, by the identifier's type `MR`).
pub const MRN_SYSTEM: &str = "https://cocm-registry.org/fhir/sid/mrn";
const TEAM_MEMBER_SYSTEM: &str = "https://cocm-registry.org/fhir/sid/team-member";
const EXT_TEAM_ROLE: &str = "https://cocm-registry.org/fhir/StructureDefinition/team-role";
/// The share of a full-time week a member gives collaborative care (the caseload guidance scales with it).
const EXT_COCM_FTE: &str = "https://cocm-registry.org/fhir/StructureDefinition/cocm-fte";
const NPI_SYSTEM: &str = "http://hl7.org/fhir/sid/us-npi";
const CREDENTIAL_SYSTEM: &str = "https://cocm-registry.org/fhir/CodeSystem/credential";
const EXT_EPISODE_STATUS: &str = "https://cocm-registry.org/fhir/StructureDefinition/episode-status";
const EXT_DISCHARGE_REASON: &str = "https://cocm-registry.org/fhir/StructureDefinition/discharge-reason";
const EXT_CONTACT_MODE: &str = "https://cocm-registry.org/fhir/StructureDefinition/contact-mode";
const EXT_VOID_REASON: &str = "https://cocm-registry.org/fhir/StructureDefinition/entered-in-error-reason";
const EXT_CONTACT_NOTE: &str = "https://cocm-registry.org/fhir/StructureDefinition/contact-note";
const TARGET_SYSTEM: &str = "https://cocm-registry.org/fhir/CodeSystem/episode-target";
const TEAM_ROLE_SYSTEM: &str = "https://cocm-registry.org/fhir/CodeSystem/team-role";
const CONTACT_KIND_SYSTEM: &str = "https://cocm-registry.org/fhir/CodeSystem/contact-kind";
const VISIT_CATEGORY_SYSTEM: &str = "https://cocm-registry.org/fhir/CodeSystem/visit-category";
/// A visit's billed codes: CPT (digits) and HCPCS Level II (a letter and four digits).
const CPT: &str = "http://www.ama-assn.org/go/cpt";
const HCPCS: &str = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets";
const TREATMENT_CHANGE_SYSTEM: &str = "https://cocm-registry.org/fhir/CodeSystem/treatment-change";
const EXT_TREATMENT_CHANGE: &str = "https://cocm-registry.org/fhir/StructureDefinition/treatment-change";
const SERVICE_SYSTEM: &str = "https://cocm-registry.org/fhir/CodeSystem/service";
const CASE_REVIEW_SERVICE: &str = "psychiatric-case-review";

const US_CORE: &str = "http://hl7.org/fhir/us/core/StructureDefinition";
const US_CORE_VERSION: &str = "6.1.0";
const US_CORE_DOCUMENT_CATEGORY: &str = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category";
const V2_0203: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const CONSENT_SCOPE: &str = "http://terminology.hl7.org/CodeSystem/consentscope";
const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const SUBSCRIBER_RELATIONSHIP: &str = "http://terminology.hl7.org/CodeSystem/subscriber-relationship";
const PAYER_TYPOLOGY: &str = "urn:oid:2.16.840.1.113883.3.221.5";
const COVERAGE_CLASS: &str = "http://terminology.hl7.org/CodeSystem/coverage-class";
const ICD_10_CM: &str = "http://hl7.org/fhir/sid/icd-10-cm";
const CONDITION_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
const CONDITION_VERIFICATION: &str = "http://terminology.hl7.org/CodeSystem/condition-ver-status";
const CONDITION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/condition-category";
const UCUM: &str = "http://unitsofmeasure.org";

/// The note on a total-only score (item answers unknown, spec §3 and §5).
const TOTAL_ONLY_NOTE: &str = "Imported, total only: the item answers (and so item 9) are unknown.";
