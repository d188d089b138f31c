// The one module that talks to the core: every call is a Tauri command that returns the
// core's own types (generated from Rust into ./bindings) or rejects with {code, message}.
import { invoke } from "@tauri-apps/api/core";
import type { BillingView } from "./bindings/BillingView";
import type { BillingRules } from "./bindings/BillingRules";
import type { Enrolment } from "./bindings/Enrolment";
import type { NewPatient } from "./bindings/NewPatient";
import type { Patient } from "./bindings/Patient";
import type { PatientChanges } from "./bindings/PatientChanges";
import type { RuleSet } from "./bindings/RuleSet";
import type { StartState } from "./bindings/StartState";
import type { Settings } from "./bindings/Settings";
import type { CaseloadView } from "./bindings/CaseloadView";
import type { ErrorPayload } from "./bindings/ErrorPayload";
import type { FhirExportReport } from "./bindings/FhirExportReport";
import type { FhirImportReport } from "./bindings/FhirImportReport";
import type { Item } from "./bindings/Item";
import type { LiveScore } from "./bindings/LiveScore";
import type { NewCaseReview } from "./bindings/NewCaseReview";
import type { NewContact } from "./bindings/NewContact";
import type { NewReviewRequest } from "./bindings/NewReviewRequest";
import type { NewTreatmentChange } from "./bindings/NewTreatmentChange";
import type { PatientChart } from "./bindings/PatientChart";
import type { QueueEntry } from "./bindings/QueueEntry";
import type { RegistryInfo } from "./bindings/RegistryInfo";
import type { TeamMember } from "./bindings/TeamMember";
import type { ReportsView } from "./bindings/ReportsView";
import type { ReportMember } from "./bindings/ReportMember";
import type { Measure } from "./bindings/Measure";
import type { Account } from "./bindings/Account";
import type { CreatedRegistry } from "./bindings/CreatedRegistry";
import type { SignInChoices } from "./bindings/SignInChoices";
import type { ImportPreview } from "./bindings/ImportPreview";
import type { ImportReport } from "./bindings/ImportReport";
import type { Mapping } from "./bindings/Mapping";
import type { SavedMapping } from "./bindings/SavedMapping";

export type { Account, BillingView, CaseloadView, ErrorPayload, SignInChoices, StartState };

/** A rejected command's payload, with its human message (never a debug string). */
export class ApiError extends Error {
  code: string;
  constructor(payload: ErrorPayload) {
    super(payload.message);
    this.code = payload.code;
  }
}

async function call<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    if (e && typeof e === "object" && "code" in e && "message" in e) throw new ApiError(e as ErrorPayload);
    throw new ApiError({ code: "storage", message: String(e) });
  }
}

export const api = {
  registryInfo: () => call<StartState>("registry_info"),
  chooseRegistry: (path: string) => call<SignInChoices>("choose_registry", { path }),
  createRegistry: (path: string, practice: string, lead: string, password: string) =>
    call<CreatedRegistry>("create_registry", { path, practice, lead, password }),
  chooseDemoRegistry: () => call<SignInChoices>("choose_demo_registry"),
  signIn: (member: string, password: string, newPassword: string | null = null) =>
    call<RegistryInfo>("sign_in", { member, password, newPassword }),
  signOut: () => call<null>("sign_out"),
  encryptRegistry: (lead: string, password: string) => call<CreatedRegistry>("encrypt_registry", { lead, password }),
  lockApp: () => call<null>("lock_app"),
  unlockApp: (password: string) => call<RegistryInfo>("unlock_app", { password }),
  changeOwnPassword: (current: string, next: string) => call<null>("change_own_password", { current, new: next }),
  accounts: () => call<Account[]>("accounts"),
  setPassword: (member: string, password: string) => call<null>("set_password", { member, password }),
  unlockAccount: (member: string) => call<null>("unlock_account", { member }),
  team: () => call<TeamMember[]>("team"),
  caseload: (careManager: string | null, asOfDate?: string) =>
    call<CaseloadView>("caseload", { careManager, asOfDate: asOfDate ?? null }),
  patientChart: (mrn: string, asOfDate?: string) => call<PatientChart>("patient_chart", { mrn, asOfDate: asOfDate ?? null }),
  instrumentItems: (instrument: string) => call<Item[]>("instrument_items", { instrument }),
  liveScore: (instrument: string, answers: (number | null)[]) => call<LiveScore>("live_score", { instrument, answers }),
  recordAssessment: (mrn: string, date: string, instrument: string, answers: (number | null)[]) =>
    call<string>("record_assessment", { mrn, date, instrument, answers }),
  logContact: (mrn: string, contact: NewContact) => call<string>("log_contact", { mrn, contact }),
  requestReview: (mrn: string, request: NewReviewRequest) => call<string>("request_review", { mrn, request }),
  recordTreatmentChange: (mrn: string, change: NewTreatmentChange) =>
    call<string>("record_treatment_change", { mrn, change }),
  recordCaseReview: (mrn: string, review: NewCaseReview) => call<string>("record_case_review", { mrn, review }),
  queue: (asOfDate?: string) => call<QueueEntry[]>("queue", { asOfDate: asOfDate ?? null }),
  changeStatus: (mrn: string, to: string, date: string, reason: string | null) => call<null>("change_status", { mrn, to, date, reason }),
  recordConsent: (mrn: string, date: string) => call<null>("record_consent", { mrn, date }),
  updatePatient: (mrn: string, changes: PatientChanges) => call<Patient>("update_patient", { mrn, changes }),
  enrollNewPatient: (patient: NewPatient, enrolment: Enrolment) => call<string>("enroll_new_patient", { patient, enrolment }),
  addMember: (name: string, role: string) => call<TeamMember>("add_member", { name, role }),
  settings: () => call<Settings>("settings"),
  setSetting: (key: string, value: string) => call<Settings>("set_setting", { key, value }),
  billingRuleSets: () => call<RuleSet[]>("billing_rule_sets"),
  setBillingRules: (year: number, rules: BillingRules) => call<RuleSet[]>("set_billing_rules", { year, rules }),
  billing: (month: string) => call<BillingView>("billing", { month }),
  exportBillingCsv: (month: string, path: string) => call<number>("export_billing_csv", { month, path }),
  reportsView: (from: string, to: string) => call<ReportsView>("reports_view", { from, to, asOfDate: null }),
  reportMembers: (from: string, to: string, careManager: string | null, measure: Measure) =>
    call<ReportMember[]>("report_members", { from, to, careManager, measure, asOfDate: null }),
  printPage: (what: string) => call<null>("print_page", { what }),
  savePdf: (what: string, path: string) => call<null>("save_pdf", { what, path }),
  exportReportCsv: (from: string, to: string, path: string) => call<number>("export_report_csv", { from, to, path, asOfDate: null }),
  markEnteredInError: (kind: string, id: string, reason: string) => call<null>("mark_entered_in_error", { kind, id, reason }),
  importPreview: (path: string, shape: string, mapping: Mapping | null) =>
    call<ImportPreview>("import_preview", { path, shape, mapping }),
  importFile: (path: string, mapping: Mapping) => call<ImportReport>("import_file", { path, mapping }),
  importMappings: () => call<SavedMapping[]>("import_mappings"),
  saveImportMapping: (name: string, mapping: Mapping) => call<SavedMapping>("save_import_mapping", { name, mapping }),
  exportFhir: (dir: string, since: string | null) => call<FhirExportReport>("export_fhir", { dir, since }),
  importFhir: (path: string, dryRun: boolean) => call<FhirImportReport>("import_fhir", { path, dryRun }),
};
