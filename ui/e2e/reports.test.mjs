// The practice lead's program report: the figures are the core's, every figure opens onto the
// patients behind it, and the report exports as the CLI's CSV.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { audit, cli, cliText, demoRegistry, withApp } from "./driver.mjs";

function lastMonth() {
  const now = new Date();
  const d = new Date(now.getFullYear(), now.getMonth() - 1, 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
}
const percent = (pct) => (pct === null ? "—" : `${pct} %`);

test("practice lead: the program report is the core's, traceable to its patients, and exports", async () => {
  const db = demoRegistry();
  const month = lastMonth();
  const expected = cli(db, "report", "--from", month);
  const program = cli(db, "report", "--from", month, "--by-care-manager");
  const candidates = cli(db, "candidates");
  await withApp("reports", { db, as: "Morgan Grant" }, async (app) => {
    await app.click('[data-testid="nav-reports"]');
    await app.find('[data-testid="tile-contact_rate"]');

    // Each rate tile shows the core's rate, numerator and denominator.
    for (const key of ["contact_rate", "improvement_rate", "consultation_rate", "drr_followup_rate", "remission_12m_rate"]) {
      const r = expected[key];
      assert.equal(await app.text(`[data-testid="tile-${key}"] [data-testid="rate"]`), percent(r.percent), key);
      assert.equal(await app.text(`[data-testid="tile-${key}"] [data-testid="numerator"]`), String(r.numerator), key);
      assert.equal(await app.text(`[data-testid="tile-${key}"] [data-testid="denominator"]`), String(r.denominator), key);
    }
    assert.equal(await app.text('[data-testid="tile-caseload"] [data-testid="figure"]'), String(expected.caseload));
    assert.match(await app.text('[data-testid="tile-contact_rate"]'), /target ≥ 80 %/);
    // One line per care manager, against the AIMS guidance.
    const names = await app.texts('[data-testid="cm-row"] td:first-child');
    assert.deepEqual(names, program.map((c) => c.name));
    assert.match(await app.text('[data-testid="care-managers"]'), new RegExp(program[0].caseload_guidance));
    await app.screenshot("reports-1-program-report");

    // The consultation rate's denominator: every patient in it, the counted ones marked, as the CLI lists them.
    const behind = cli(db, "report", "--from", month, "--list", "consultation_rate");
    await app.click('[data-testid="tile-consultation_rate"] [data-testid="denominator"]');
    await app.waitFor("the patients behind the figure", async () => (await app.findAll('[data-testid="member"]')).length === behind.length);
    const rows = await app.script(
      "return [...document.querySelectorAll('[data-testid=member]')].map((r) => [r.dataset.mrn, r.dataset.counted === 'true'])",
    );
    assert.deepEqual(rows, behind.map((m) => [m.mrn, m.in_numerator]));
    assert.match(await app.text('[data-testid="members-count"]'), new RegExp(`${expected.consultation_rate.numerator} of ${expected.consultation_rate.denominator} counted`));
    await app.screenshot("reports-2-behind-the-consultation-rate");

    // The numerator alone, then a patient opens from the list.
    await app.click('[data-testid="show-numerator"]');
    await app.waitFor("the numerator", async () => (await app.findAll('[data-testid="member"]')).length === expected.consultation_rate.numerator);
    await app.click('[data-testid="show-all"]');
    const first = behind[0];
    await app.click(`[data-testid="member"][data-mrn="${first.mrn}"] button`);
    await app.waitFor("the patient's chart", async () => (await app.text("main")).includes(first.name) && (await app.text("main")).includes(first.mrn));

    // Export: the program report as the CLI writes it (the dialog's path goes to this command).
    const path = join(dirname(db), `report-${month}.csv`);
    const [from, to] = [expected.from, expected.to];
    const exported = await app.asyncScript(
      "const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('run', { command: 'export_report_csv', args: { from: arguments[0], to: arguments[1], path: arguments[2], asOfDate: null } }).then(done, (e) => done(e));",
      from,
      to,
      path,
    );
    assert.equal(exported, 1 + program.length);
    assert.equal(readFileSync(path, "utf8"), cliText(db, ["report", "--from", month, "--by-care-manager", "--csv"]));

    // The printed report, saved as a PDF by the same command the Save as PDF… dialog calls.
    await app.click('[data-testid="nav-reports"]');
    await app.find('[data-testid="tile-contact_rate"]');
    const pdf = join(dirname(db), `report-${month}.pdf`);
    const saved = await app.asyncScript(
      "const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('save_pdf', { what: 'program-report', path: arguments[0] }).then(() => done('ok'), (e) => done(e));",
      pdf,
    );
    assert.equal(saved, "ok");
    const bytes = readFileSync(pdf);
    assert.equal(bytes.subarray(0, 5).toString(), "%PDF-");
    assert.ok(bytes.length > 20_000, `a report, not an empty page: ${bytes.length} bytes`);
    if (process.env.COCM_KEEP_PDF) execFileSync("cp", [pdf, process.env.COCM_KEEP_PDF]);

    // New York's report (the demo practice reports to NYS OMH): last month's eleven metrics,
    // each the CLI's figure.
    const nys = cli(db, "report", "--nys-omh", "--month", month);
    await app.click('[data-testid="tab-nys-omh"]');
    await app.find('[data-testid="nys-monthly_contact_rate"]');
    for (const key of ["total_enrollment", "medicaid_enrollment", "newly_enrolled"]) {
      assert.equal(await app.text(`[data-testid="nys-${key}"] [data-testid="figure"]`), String(nys[key]), key);
    }
    const nysRates = ["monthly_contact_rate", "improvement_rate", "remission_rate", "psychiatric_consultation_rate", "depression_screening_rate", "depression_screening_yield"];
    for (const key of nysRates) {
      const r = nys[key];
      assert.equal(await app.text(`[data-testid="nys-${key}"] [data-testid="rate"]`), percent(r.percent), key);
      assert.equal(await app.text(`[data-testid="nys-${key}"] [data-testid="numerator"]`), String(r.numerator), key);
      assert.equal(await app.text(`[data-testid="nys-${key}"] [data-testid="denominator"]`), String(r.denominator), key);
    }
    assert.equal(await app.text('[data-testid="nys-bhcm_fte"] [data-testid="figure"]'), nys.bhcm_fte.toFixed(2));
    assert.match(await app.text('[data-testid="nys-depression_screening_rate"]'), /state target ≥ 85 %/);
    assert.match(await app.text('[data-testid="nys-readings"]'), /Medicaid/);
    await app.screenshot("reports-3-nys-omh");

    // Metric 9's patients (seen for a medical visit, screened or not), as --list 9 gives them.
    const screened = cli(db, "report", "--nys-omh", "--month", month, "--list", "9");
    await app.click('[data-testid="nys-depression_screening_rate"] [data-testid="denominator"]');
    await app.waitFor("the patients behind metric 9", async () => (await app.findAll('[data-testid="member"]')).length === screened.length);
    const judged = await app.script(
      "return [...document.querySelectorAll('[data-testid=member]')].map((r) => [r.dataset.mrn, r.dataset.counted === 'true'])",
    );
    assert.deepEqual(judged, screened.map((m) => [m.mrn, m.in_numerator]));
    assert.match(await app.text('[data-testid="members"]'), new RegExp(screened[0].detail.replace(/[()]/g, ".")));
    await app.screenshot("reports-4-behind-the-screening-rate");

    // The CSV the state's form is filled from, as the CLI writes it.
    const nysPath = join(dirname(db), `nys-omh-${month}.csv`);
    const nysRows = await app.asyncScript(
      "const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('run', { command: 'export_nys_csv', args: { month: arguments[0], careManager: null, path: arguments[1] } }).then(done, (e) => done(e));",
      month,
      nysPath,
    );
    assert.equal(typeof nysRows, "number", JSON.stringify(nysRows));
    assert.equal(readFileSync(nysPath, "utf8"), cliText(db, ["report", "--nys-omh", "--month", month, "--csv"]));

    // Referral candidates: positive screens without an open episode; the lead enrols the newest.
    assert.ok(candidates.candidates.length >= 2, "the demo has positive screens since discharge");
    await app.click('[data-testid="nav-candidates"]');
    await app.find('[data-testid="screening-rate"]');
    await app.select('[data-testid="candidates-window"]', "all");
    await app.waitFor("every candidate", async () => (await app.findAll('[data-testid="candidate"]')).length === candidates.candidates.length);
    const listed = await app.script("return [...document.querySelectorAll('[data-testid=candidate]')].map((r) => r.dataset.mrn)");
    assert.deepEqual(listed, candidates.candidates.map((c) => c.mrn));
    assert.match(await app.text('[data-testid="screening-rate"]'), new RegExp(`${candidates.screening_rate.numerator} of ${candidates.screening_rate.denominator}`));
    const newest = candidates.candidates[0];
    await app.click(`[data-testid="candidate"][data-mrn="${newest.mrn}"] [data-testid="enrol-candidate"]`);
    await app.find('[data-testid="candidate-enrol-form"]');
    await app.screenshot("reports-5-candidates");
    await app.click('[data-testid="confirm-enrol"]');
    await app.waitFor("the enrolled patient's chart", async () => (await app.text("main")).includes(newest.name) && !(await app.text("main")).includes("Referral candidates"));
    await app.screenshot("reports-6-enrolled-candidate");
  });
  // The candidate is in collaborative care now, and off the list.
  assert.deepEqual(cli(db, "candidates").candidates.map((c) => c.mrn), candidates.candidates.slice(1).map((c) => c.mrn));
  // Each export is in the audit log, by the practice lead (the NYS CSV twice: the app's, then
  // the CLI's it was compared with).
  const exports = audit(db, 20).filter((e) => e.action === "export").map((e) => `${e.actor} ${e.record_type}`);
  assert.deepEqual(exports.slice(0, 3), ["Morgan Grant nys-omh-csv", "Morgan Grant nys-omh-csv", "Morgan Grant program-report-pdf"]);
});
