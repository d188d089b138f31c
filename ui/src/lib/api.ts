// The one module that talks to the core: in the desktop app through Tauri IPC, in a browser
// through the practice server's HTTPS API. Every call returns the core's own types (generated
// from Rust into ./bindings) or rejects with {code, message}.
import { invoke } from "@tauri-apps/api/core";
import type { BillingView } from "./bindings/BillingView";
import type { BillingRules } from "./bindings/BillingRules";
import type { Enrolment } from "./bindings/Enrolment";
import type { NewPatient } from "./bindings/NewPatient";
import type { Patient } from "./bindings/Patient";
import type { NewCoverage } from "./bindings/NewCoverage";
import type { ClaimLine } from "./bindings/ClaimLine";
import type { Diagnosis } from "./bindings/Diagnosis";
import type { DueCheckIn } from "./bindings/DueCheckIn";
import type { NewQuestionnaire } from "./bindings/NewQuestionnaire";
import type { SafetyAlert } from "./bindings/SafetyAlert";
import type { QuestionnaireRequest } from "./bindings/QuestionnaireRequest";
import type { SentQuestionnaire } from "./bindings/SentQuestionnaire";
import type { DiagnosisCode } from "./bindings/DiagnosisCode";
import type { PatientChanges } from "./bindings/PatientChanges";
import type { RuleSet } from "./bindings/RuleSet";
import type { RuleSetKey } from "./bindings/RuleSetKey";
import type { BillingPrograms } from "./bindings/BillingPrograms";
import type { StartState } from "./bindings/StartState";
import type { Settings } from "./bindings/Settings";
import type { CaseloadView } from "./bindings/CaseloadView";
import type { ErrorPayload } from "./bindings/ErrorPayload";
import type { FhirExportReport } from "./bindings/FhirExportReport";
import type { FhirImportReport } from "./bindings/FhirImportReport";
import type { CatalogueListing } from "./bindings/CatalogueListing";
import type { Item } from "./bindings/Item";
import type { LiveScore } from "./bindings/LiveScore";
import type { NewCaseReview } from "./bindings/NewCaseReview";
import type { NewContact } from "./bindings/NewContact";
import type { NewReviewRequest } from "./bindings/NewReviewRequest";
import type { NewTreatmentChange } from "./bindings/NewTreatmentChange";
import type { PatientChart } from "./bindings/PatientChart";
import type { QueueEntry } from "./bindings/QueueEntry";
import type { FactorEnrolment } from "./bindings/FactorEnrolment";
import type { OwnFactor } from "./bindings/OwnFactor";
import type { RegistryInfo } from "./bindings/RegistryInfo";
import type { TeamMember } from "./bindings/TeamMember";
import type { ReportsView } from "./bindings/ReportsView";
import type { ReportMember } from "./bindings/ReportMember";
import type { Report } from "./bindings/Report";
import type { Measure } from "./bindings/Measure";
import type { Account } from "./bindings/Account";
import type { CreatedRegistry } from "./bindings/CreatedRegistry";
import type { SignInChoices } from "./bindings/SignInChoices";
import type { ImportPreview } from "./bindings/ImportPreview";
import type { ImportReport } from "./bindings/ImportReport";
import type { Mapping } from "./bindings/Mapping";
import type { SavedMapping } from "./bindings/SavedMapping";
import type { ServerCheck } from "./bindings/ServerCheck";
import type { FileContent } from "./bindings/FileContent";
import type { FhirDownload } from "./bindings/FhirDownload";
import type { NysReport } from "./bindings/NysReport";
import type { CandidatesView } from "./bindings/CandidatesView";
import { listen } from "@tauri-apps/api/event";

export type { Account, BillingView, CaseloadView, ErrorPayload, FileContent, ServerCheck, SignInChoices, StartState };

/** A rejected command's payload, with its human message (never a debug string). */
export class ApiError extends Error {
  code: string;
  constructor(payload: ErrorPayload) {
    super(payload.message);
    this.code = payload.code;
  }
}

/** Where the core is: inside the desktop app (Tauri IPC), or behind a practice server (HTTPS).
 * No screen needs to know which, except to choose a save dialog or a browser download. */
export const transport: "app" | "server" = typeof window !== "undefined" && "__TAURI_INTERNALS__" in window ? "app" : "server";

function rejected(e: unknown): ApiError {
  if (e && typeof e === "object" && "code" in e && "message" in e) return new ApiError(e as ErrorPayload);
  return new ApiError({ code: "storage", message: String(e) });
}

// The server's CSRF token for this session: it comes with the session (a response header) and
// goes back on every request that changes anything.
let csrf = "";

async function http<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-cocm-csrf": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError({ code: "storage", message: "the practice server cannot be reached; check the network and try again" });
  }
  const token = response.headers.get("x-cocm-csrf");
  if (token !== null) csrf = token;
  const text = await response.text();
  const value = text ? JSON.parse(text) : null;
  if (!response.ok) throw rejected(value ?? { code: "storage", message: `the server answered ${response.status}` });
  return value as T;
}

/** A door's own command (sessions, files, windows): Tauri only. */
async function app<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
  if (transport !== "app") throw new ApiError({ code: "not_found", message: "this is done in the desktop app" });
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw rejected(e);
  }
}

// Who hears that the session is gone (`signed_out`): the app shell, which covers the screen
// with the lock form so that the same member goes on where they were.
const signedOutListeners = new Set<(message: string) => void>();

/** Calls `ended` with the server's reason whenever a command finds no live session: it ended
 * after `auto_lock_minutes` idle or 12 hours, or the server restarted. Returns the unsubscribe. */
export function onSignedOut(ended: (message: string) => void): () => void {
  signedOutListeners.add(ended);
  return () => signedOutListeners.delete(ended);
}

/** One of the core's shared commands (cocm::commands), through whichever door this is. */
async function call<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
  try {
    if (transport === "server") return await http<T>("POST", `/api/${command}`, args);
    return await invoke<T>("run", { command, args });
  } catch (e) {
    const error = e instanceof ApiError ? e : rejected(e);
    if (error.code === "signed_out") signedOutListeners.forEach((ended) => ended(error.message));
    throw error;
  }
}

// Whoever the browser signed in as, so that a locked or ended session unlocks as the same
// member (the server no longer says who it was).
let lockedMember: string | null = null;

/** Saves `text` (or bytes) as a file through the browser's downloads. */
export function download(name: string, text: string | Uint8Array<ArrayBuffer>, type = "text/csv") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

/** Saves a file the core sent by content (base64) through the browser's downloads. */
export function downloadContent(file: FileContent, type: string) {
  const bytes = Uint8Array.from(atob(file.content), (c) => c.charCodeAt(0));
  download(file.name, bytes, type);
}

/** A file the user chose in a browser's file input, as the core's upload commands take it. */
export function readUpload(file: File): Promise<FileContent> {
  return new Promise((done, failed) => {
    const reader = new FileReader();
    // A data URL is "data:<type>;base64,<content>": the content is what follows the comma.
    reader.onload = () => done({ name: file.name, content: String(reader.result).replace(/^[^,]*,/, "") });
    reader.onerror = () => failed(new ApiError({ code: "validation", message: `file: ${file.name} could not be read; choose it again` }));
    reader.readAsDataURL(file);
  });
}

/** Calls `report` with an import's progress (rows or resources done, and in all), where the
 * core reports it (the desktop app); a server answers when the import is done. */
export function onImportProgress(report: (done: number, all: number) => void): () => void {
  if (transport !== "app") return () => {};
  const unlisten = listen<[number, number]>("import-progress", (e) => report(e.payload[0], e.payload[1]));
  return () => void unlisten.then((f) => f());
}

/** Calls `report` with the core's message when the app's daily backup fails (it runs in the
 *  background after sign-in); returns the function that stops listening. */
export function onBackupFailed(report: (message: string) => void): () => void {
  if (transport !== "app") return () => {};
  const unlisten = listen<ErrorPayload>("backup-failed", (e) => report(e.payload.message));
  return () => void unlisten.then((f) => f());
}

/** Calls `changed` whenever anyone saves anything on the practice server (server-sent events
 * of its data version); returns the function that stops listening. On a registry file the
 * app is the only writer, so nothing comes, and screens reload after their own saves. */
export function onDataChanged(changed: () => void): () => void {
  const stop = followChanges(changed);
  dataChangedListeners.add(changed);
  return () => {
    dataChangedListeners.delete(changed);
    stop();
  };
}

// The safety alerts' reload when anyone on this screen marks answers reviewed (on a registry
// file no data-change event comes for one's own save).
const answersReviewedListeners = new Set<() => void>();
export function onAnswersReviewed(reviewed: () => void): () => void {
  answersReviewedListeners.add(reviewed);
  return () => answersReviewedListeners.delete(reviewed);
}

// Every open screen's reload: an unlock runs them all, since others may have saved meanwhile
// and a load that failed while the session was gone shows its error until it runs again.
const dataChangedListeners = new Set<() => void>();

function followChanges(changed: () => void): () => void {
  if (transport === "app") {
    // Connected to a practice server, the app's shell follows its events and tells the window.
    const unlisten = listen("data-changed", () => changed());
    return () => void unlisten.then((f) => f());
  }
  if (typeof EventSource === "undefined") return () => {};
  // The stream ends with its session (a lock, an ended session, a server restart), and a
  // browser gives up on an EventSource that is refused: listen again every few seconds until
  // a session lets it through, so live updates resume after the unlock. A version that moved
  // in between counts as a change.
  let last: string | null = null;
  let events: EventSource | null = null;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const connect = () => {
    events = new EventSource("/api/events");
    events.addEventListener("version", (e) => {
      const version = (e as MessageEvent).data as string;
      if (last !== null && version !== last) changed();
      last = version;
    });
    events.onerror = () => {
      if (events?.readyState !== EventSource.CLOSED) return;
      retry = setTimeout(connect, 3_000);
    };
  };
  connect();
  return () => {
    clearTimeout(retry);
    if (events) {
      events.onerror = null;
      events.close();
    }
  };
}

// Whether the desktop app is connected to a practice server rather than a registry file.
let appOnServer = false;
let catalogue: Promise<CatalogueListing> | null = null;
async function onFile<T>(chosen: Promise<T>): Promise<T> {
  const value = await chosen;
  appOnServer = false;
  return value;
}

export const api = {
  registryInfo: async () => {
    if (transport !== "server") return app<StartState>("registry_info");
    const start = await http<StartState>("GET", "/api/session");
    // A page reloaded in a live session is signed in without the sign-in form.
    if (start.registry) lockedMember = start.registry.actor.member_id;
    return start;
  },
  chooseRegistry: (path: string) => onFile(app<SignInChoices>("choose_registry", { path })),
  createRegistry: (path: string, practice: string, lead: string, password: string) =>
    onFile(app<CreatedRegistry>("create_registry", { path, practice, lead, password })),
  chooseDemoRegistry: () => onFile(app<SignInChoices>("choose_demo_registry")),
  checkServer: (url: string) => app<ServerCheck>("check_server", { url }),
  connectServer: async (url: string, fingerprint: string) => {
    const choices = await app<SignInChoices>("connect_server", { url, fingerprint });
    appOnServer = true;
    return choices;
  },
  /** Tells a practice server the user is still at the screen (lib/keep-alive.ts): any request
   * restarts the session's idle clock. A registry file has no session to keep. */
  keepAlive: async () => {
    if (transport === "server") await http<StartState>("GET", "/api/session");
    else if (appOnServer) await app<StartState>("registry_info");
  },
  /** `code`: the second factor's, after the core answered `mfa_required`. */
  signIn: async (member: string, password: string, newPassword: string | null = null, code: string | null = null) => {
    if (transport !== "server") return app<RegistryInfo>("sign_in", { member, password, newPassword, code });
    const info = await http<RegistryInfo>("POST", "/api/session", { member, password, newPassword, code });
    lockedMember = info.actor.member_id;
    return info;
  },
  // A session the server already ended (a restart, 12 hours) is signed out: Switch user goes on.
  signOut: () =>
    transport === "server"
      ? http<null>("DELETE", "/api/session").catch((e: ApiError) => {
          if (e.code !== "signed_out") throw e;
          return null;
        })
      : app<null>("sign_out"),
  encryptRegistry: (lead: string, password: string) => app<CreatedRegistry>("encrypt_registry", { lead, password }),
  // On a server the session may have ended already (its idle clock runs from the last request,
  // the screen's from the last input): the lock holds all the same.
  lockApp: () => (transport === "app" ? app<null>("lock_app") : http<null>("DELETE", "/api/session?reason=auto-lock").catch(() => null)),
  unlockApp: async (password: string, code: string | null = null) => {
    const info =
      transport === "server"
        ? await http<RegistryInfo>("POST", "/api/session", { member: lockedMember ?? "", password, code })
        : await app<RegistryInfo>("unlock_app", { password, code });
    dataChangedListeners.forEach((reload) => reload());
    return info;
  },
  changeOwnPassword: (current: string, next: string) => call<null>("change_own_password", { current, new: next }),
  accounts: () => call<Account[]>("accounts"),
  /** A lead sets a member's NPI, credential and CoCM FTE; an empty text clears one, `-1` the FTE. */
  editMember: (member: string, npi: string, credential: string, cocmFte: number) =>
    call<TeamMember>("edit_member", { member, npi, credential, cocmFte }),
  ownSecondFactor: () => call<OwnFactor>("own_second_factor"),
  beginSecondFactor: () => call<FactorEnrolment>("begin_second_factor"),
  /** The ten recovery codes, to be shown once. */
  confirmSecondFactor: (code: string) => call<string[]>("confirm_second_factor", { code }),
  resetSecondFactor: (member: string) => call<null>("reset_second_factor", { member }),
  setPassword: (member: string, password: string) => call<null>("set_password", { member, password }),
  unlockAccount: (member: string) => call<null>("unlock_account", { member }),
  team: () => call<TeamMember[]>("team"),
  caseload: (careManager: string | null, asOfDate?: string) =>
    call<CaseloadView>("caseload", { careManager, asOfDate: asOfDate ?? null }),
  patientChart: (mrn: string, asOfDate?: string) => call<PatientChart>("patient_chart", { mrn, asOfDate: asOfDate ?? null }),
  /** The instrument catalogue: part of the program, so asked once and kept. */
  instrumentCatalogue: () => (catalogue ??= call<CatalogueListing>("instrument_catalogue").catch((e) => { catalogue = null; throw e; })),
  instrumentItems: (instrument: string) => call<Item[]>("instrument_items", { instrument }),
  liveScore: (instrument: string, answers: (number | null)[]) => call<LiveScore>("live_score", { instrument, answers }),
  recordAssessment: (mrn: string, date: string, instrument: string, answers: (number | null)[], difficulty: string | null = null) =>
    call<string>("record_assessment", { mrn, date, instrument, answers, difficulty }),
  logContact: (mrn: string, contact: NewContact) => call<string>("log_contact", { mrn, contact }),
  requestReview: (mrn: string, request: NewReviewRequest) => call<string>("request_review", { mrn, request }),
  recordTreatmentChange: (mrn: string, change: NewTreatmentChange) =>
    call<string>("record_treatment_change", { mrn, change }),
  recordCaseReview: (mrn: string, review: NewCaseReview) => call<string>("record_case_review", { mrn, review }),
  queue: (asOfDate?: string) => call<QueueEntry[]>("queue", { asOfDate: asOfDate ?? null }),
  changeStatus: (mrn: string, to: string, date: string, reason: string | null) => call<string>("change_status", { mrn, to, date, reason }),
  recordConsent: (mrn: string, date: string) => call<null>("record_consent", { mrn, date }),
  updatePatient: (mrn: string, changes: PatientChanges) => call<Patient>("update_patient", { mrn, changes }),
  enrollNewPatient: (patient: NewPatient, enrolment: Enrolment) => call<string>("enroll_new_patient", { patient, enrolment }),
  // A patient already on the registry (a referral candidate, a discharged patient).
  enroll: (mrn: string, enrolment: Enrolment) => call<string>("enroll", { mrn, enrolment }),
  addMember: (name: string, role: string) => call<TeamMember>("add_member", { name, role }),
  settings: () => call<Settings>("settings"),
  setSetting: (key: string, value: string, expected: string | null = null) => call<Settings>("set_setting", { key, value, expected }),
  billingRuleSets: () => call<RuleSet[]>("billing_rule_sets"),
  // A rule set's key: year, program, payer (null: the practice's default) and plan (spec §7a).
  setBillingRules: (key: RuleSetKey, rules: BillingRules, expected: BillingRules | null = null) =>
    call<RuleSet[]>("set_billing_rules", { year: key.effective_year, program: key.program, payer: key.payer, plan: key.plan, rules, expected }),
  applyRulesPreset: (name: string) => call<RuleSetKey[]>("apply_rules_preset", { name }),
  addCoverage: (mrn: string, coverage: NewCoverage) => call<string>("add_coverage", { mrn, coverage }),
  endCoverage: (id: string, date: string) => call<null>("end_coverage", { id, date }),
  billingPrograms: (mrn: string) => call<BillingPrograms>("billing_programs", { mrn }),
  changeProgram: (mrn: string, to: string, from: string) => call<null>("change_program", { mrn, to, from }),
  recordApcm: (mrn: string, from: string, to: string | null) => call<string>("record_apcm", { mrn, from, to }),
  endApcm: (mrn: string, end: string) => call<null>("end_apcm", { mrn, end }),
  billing: (month: string) => call<BillingView>("billing", { month }),
  exportBillingCsv: (month: string, path: string) => call<number>("export_billing_csv", { month, path }),
  billingCsv: (month: string) => call<string>("billing_csv", { month }),
  billingClaims: (month: string) => call<ClaimLine[]>("billing_claims", { month }),
  claimsCsv: (month: string) => call<string>("claims_csv", { month }),
  exportClaimsCsv: (month: string, path: string) => call<number>("export_claims_csv", { month, path }),
  diagnoses: (mrn: string) => call<Diagnosis[]>("diagnoses", { mrn }),
  questionnaires: (mrn: string | null) => call<QuestionnaireRequest[]>("questionnaires", { mrn }),
  questionnairesDue: () => call<DueCheckIn[]>("questionnaires_due", { asOfDate: null }),
  sendQuestionnaire: (mrn: string, questionnaire: NewQuestionnaire) => call<SentQuestionnaire>("send_questionnaire", { mrn, questionnaire }),
  cancelQuestionnaire: (id: string) => call<QuestionnaireRequest>("cancel_questionnaire", { id }),
  /** Kiosk mode (a browser on the practice server only): the member's session ends, and this
   * device opens the request's questions for the patient at /kiosk. */
  startKiosk: async (request: string): Promise<void> => {
    if (transport !== "server") throw new ApiError({ code: "not_found", message: "a check-in tablet is a browser on the practice server" });
    await http<{ location: string }>("POST", "/api/kiosk/start", { request });
    window.location.assign("/kiosk");
  },
  markAnswersReviewed: async (mrn: string) => {
    const n = await call<number>("mark_answers_reviewed", { mrn });
    answersReviewedListeners.forEach((reviewed) => reviewed());
    return n;
  },
  safetyAlerts: () => call<SafetyAlert[]>("safety_alerts"),
  setSmtpPassword: (password: string | null) => call<boolean>("set_smtp_password", { password, clear: password === null }),
  addDiagnosis: (mrn: string, code: string, date: string | null) => call<string>("add_diagnosis", { mrn, code, date }),
  searchDiagnoses: (query: string) => call<DiagnosisCode[]>("search_diagnoses", { query }),
  reportsView: (from: string, to: string) => call<ReportsView>("reports_view", { from, to, asOfDate: null }),
  reportMembers: (from: string, to: string, careManager: string | null, measure: Measure) =>
    call<[Report, ReportMember[]]>("report_members", { from, to, careManager, measure, asOfDate: null }).then(([, members]) => members),
  printPage: async (what: string) => {
    if (transport === "app") return app<null>("print_page", { what });
    await call<null>("record_export", { what: `${what}-print` });
    window.print();
    return null;
  },
  savePdf: (what: string, path: string) => app<null>("save_pdf", { what, path }),
  exportReportCsv: (from: string, to: string, path: string) => call<number>("export_report_csv", { from, to, path, asOfDate: null }),
  reportCsv: (from: string, to: string) => call<string>("report_csv", { from, to, asOfDate: null }),
  // New York State OMH's eleven metrics (§9), the patients behind one, and its CSV.
  nysReport: (month: string) => call<NysReport>("nys_report", { month, careManager: null }),
  nysMembers: (month: string, metric: string) =>
    call<[NysReport, ReportMember[]]>("nys_members", { month, careManager: null, metric }).then(([, members]) => members),
  nysCsv: (month: string) => call<string>("nys_csv", { month, careManager: null }),
  exportNysCsv: (month: string, path: string) => call<number>("export_nys_csv", { month, careManager: null, path }),
  // Referral candidates: a positive depression screen and no open episode.
  candidates: (since: string | null) => call<CandidatesView>("candidates", { since }),
  markEnteredInError: (kind: string, id: string, reason: string) => call<null>("mark_entered_in_error", { kind, id, reason }),
  importPreview: (path: string, shape: string, mapping: Mapping | null) =>
    call<ImportPreview>("import_preview", { path, shape, mapping }),
  importFile: (path: string, mapping: Mapping) => call<ImportReport>("import_file", { path, mapping }),
  importMappings: () => call<SavedMapping[]>("import_mappings"),
  saveImportMapping: (name: string, mapping: Mapping) => call<SavedMapping>("save_import_mapping", { name, mapping }),
  exportFhir: (dir: string, since: string | null) => call<FhirExportReport>("export_fhir", { dir, since }),
  importFhir: (path: string, dryRun: boolean) => call<FhirImportReport>("import_fhir", { path, dryRun }),
  // The same imports and export by content, where the core cannot see this computer's files.
  importPreviewUpload: (file: FileContent, shape: string, mapping: Mapping | null) =>
    call<ImportPreview>("import_preview_upload", { file, shape, mapping }),
  importUpload: (file: FileContent, mapping: Mapping) => call<ImportReport>("import_upload", { file, mapping }),
  importFhirUpload: (files: FileContent[], dryRun: boolean) => call<FhirImportReport>("import_fhir_upload", { files, dryRun }),
  exportFhirDownload: (since: string | null) => call<FhirDownload>("export_fhir_download", { since }),
};
