//! The desktop UI's TypeScript types, generated from the core's API types with ts-rs, so they
//! are never written twice. This test fails, everywhere, when the committed files in
//! `ui/src/lib/bindings` are not what the Rust types generate; `make bindings` (which sets
//! `COCM_WRITE_BINDINGS=1`) rewrites them.

use std::collections::BTreeMap;
use std::path::Path;
use ts_rs::TS;

use cocm::billing::{BillingRow, BillingTotals, RuleSet};
use cocm::caseload::{CaseloadCounts, CaseloadRow};
use cocm::chart::PatientChart;
use cocm::instruments::{CatalogueListing, Item, LiveScore, Score};
use cocm::queue::QueueEntry;
use cocm::store::{RegistryInfo, StartState};
use cocm::voids::RecordKind;

fn export(dir: &Path) {
    macro_rules! all {
        ($($t:ty),+ $(,)?) => { $( <$t>::export_all_to(dir).expect(stringify!($t)); )+ };
    }
    all!(
        PatientChart,
        CaseloadRow,
        CaseloadCounts,
        QueueEntry,
        BillingRow,
        BillingTotals,
        RuleSet,
        RegistryInfo,
        cocm::settings::Settings,
        cocm::audit::AuditEntry,
        cocm::team::TeamMember,
        cocm::accounts::Account,
        cocm::store::CreatedRegistry,
        cocm::backup::VerifyReport,
        cocm::accounts::SignInChoices,
        cocm::accounts::second_factor::FactorEnrolment,
        cocm::accounts::second_factor::OwnFactor,
        cocm::access::Action,
        cocm::fhir::FhirExportReport,
        cocm::fhir::FhirFile,
        cocm::fhir::FhirImportReport,
        cocm::fhir::FhirCounts,
        cocm::fhir::FhirProblem,
        cocm::import::ImportPreview,
        cocm::import::ImportReport,
        cocm::import::SavedMapping,
        LiveScore,
        StartState,
        cocm::caseload::CaseloadView,
        cocm::billing::BillingView,
        cocm::reports::ReportsView,
        cocm::reports::ReportMember,
        cocm::reports::Measure,
        cocm::billing::BillingRules,
        cocm::billing::RuleSetKey,
        cocm::billing::BillingPrograms,
        cocm::billing::Program,
        cocm::billing::ClaimLine,
        cocm::coverage::Coverage,
        cocm::coverage::NewCoverage,
        cocm::diagnoses::Diagnosis,
        cocm::diagnoses::DiagnosisCode,
        cocm::reports::nys::NysReport,
        cocm::reports::nys::NysQuarter,
        cocm::visits::Visit,
        cocm::visits::NewVisit,
        cocm::candidates::Candidate,
        cocm::candidates::CandidatesView,
        cocm::questionnaires::NewQuestionnaire,
        cocm::questionnaires::SentQuestionnaire,
        cocm::questionnaires::QuestionnaireRequest,
        cocm::questionnaires::DueCheckIn,
        cocm::questionnaires::DueSending,
        cocm::questionnaires::NotSent,
        cocm::questionnaires::alerts::SafetyAlert,
        cocm::questionnaires::portal::PatientQuestionnaire,
        cocm::questionnaires::portal::PatientAnswers,
        cocm::questionnaires::portal::PatientReply,
        Score,
        Item,
        CatalogueListing,
        cocm::ErrorPayload,
        cocm::client::ServerCheck,
        cocm::commands::FileContent,
        cocm::commands::FhirDownload,
        RecordKind,
        cocm::patients::NewPatient,
        cocm::patients::PatientChanges,
        cocm::episodes::Enrolment,
        cocm::assessments::NewAssessment,
        cocm::contacts::NewContact,
        cocm::reviews::NewReviewRequest,
        cocm::reviews::NewCaseReview,
        cocm::treatment::NewTreatmentChange,
        cocm::vocab::Role,
        cocm::vocab::Payer,
        cocm::vocab::ContactKind,
        cocm::vocab::ContactMode,
        cocm::vocab::DischargeReason,
        cocm::vocab::TreatmentChangeKind,
        cocm::vocab::Target,
        cocm::vocab::EpisodeStatus,
        cocm::instruments::Instrument,
        cocm::instruments::Difficulty,
        cocm::flags::Flag,
    );
}

/// Every `.ts` file below `dir`, by its path relative to `dir`.
fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for path in entries.map(|e| e.unwrap().path()) {
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|x| x == "ts") {
                let name = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(name, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn typescript_bindings_are_current() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/lib/bindings");
    let fresh = tempfile::tempdir().unwrap();
    export(fresh.path());
    let generated = read_dir(fresh.path());
    assert!(generated.contains_key("CaseloadRow.ts"), "{:?}", generated.keys());
    if std::env::var_os("COCM_WRITE_BINDINGS").is_some_and(|v| !v.is_empty()) {
        write(&committed, &generated);
    }
    let committed = read_dir(&committed);
    let stale: Vec<&String> = generated.keys().filter(|f| committed.get(*f) != generated.get(*f)).collect();
    let extra: Vec<&String> = committed.keys().filter(|f| !generated.contains_key(*f)).collect();
    assert!(
        stale.is_empty() && extra.is_empty(),
        "ui/src/lib/bindings is stale: run `make bindings` and commit. Changed: {stale:?}; no longer generated: {extra:?}"
    );
}

/// Makes `dir` hold exactly the generated files.
fn write(dir: &Path, generated: &BTreeMap<String, String>) {
    std::fs::create_dir_all(dir).unwrap();
    for old in read_dir(dir).into_keys().filter(|f| !generated.contains_key(f)) {
        std::fs::remove_file(dir.join(old)).unwrap();
    }
    for (file, text) in generated {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}
