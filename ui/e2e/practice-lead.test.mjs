// The practice lead's month-end: the billing summary the core computes, its CSV export, the
// team's NPIs, payer rule sets, a patient's billing program, coverage and diagnosis, and the
// Claims view holding a line until the PCP's NPI is set.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { cli, cliText, demoRegistry, withApp } from "./driver.mjs";

function monthsAgo(n) {
  const now = new Date();
  const d = new Date(now.getFullYear(), now.getMonth() - n, 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
}
const codes = (row) => row.codes.map((c) => (c.units > 1 ? `${c.code}×${c.units}` : c.code)).join(" + ") || "—";
const shown = (app) =>
  app.script("return [...document.querySelectorAll('[data-testid=billing-row]')].map((r) => [r.dataset.mrn, r.querySelector('[data-testid=codes]').textContent])");

test("practice lead: the month's codes are the core's, and the CSV export holds its rows", async () => {
  const db = demoRegistry();
  const lastMonth = monthsAgo(1);
  const expected = cli(db, "billing", "--month", lastMonth);
  await withApp("practice-lead", { db, as: "Morgan Grant" }, async (app) => {
    // Home is billing, last month by default, every patient-month with the core's codes.
    await app.find('[data-testid="billing-row"]');
    assert.deepEqual(await shown(app), expected.map((r) => [r.mrn, codes(r)]));
    const tiers = new Set(expected.map(codes));
    for (const tier of ["G2214", "99492", "99493", "99492 + 99494", "99492 + 99494×2", "99493 + 99494×2"]) assert.ok(tiers.has(tier), tier);
    assert.match(await app.text('[data-testid="totals"]'), new RegExp(`${expected.filter((r) => r.codes.length).length} patients billed`));
    await app.screenshot("practice-lead-1-billing");

    // A patient-month opens onto the contacts behind it, excluded minutes marked.
    await app.click('[data-testid="billing-row"][data-mrn="D029"] .name');
    assert.match(await app.text(".detail"), /not counted: psychiatric-consultant/);
    await app.screenshot("practice-lead-2-contacts-behind");

    // Another month from the picker.
    const earlier = monthsAgo(2);
    await app.select('[data-testid="month"]', earlier);
    const expectedEarlier = cli(db, "billing", "--month", earlier);
    await app.waitFor("the earlier month", async () => JSON.stringify(await shown(app)) === JSON.stringify(expectedEarlier.map((r) => [r.mrn, codes(r)])));
    await app.select('[data-testid="month"]', lastMonth);
    await app.find('[data-testid="billing-row"][data-mrn="D022"]');

    // Export: the native save dialog is outside WebDriver's reach, so the test sends the
    // export command the dialog's path goes to, through the app's own IPC.
    const path = join(dirname(db), `billing-${lastMonth}.csv`);
    const exported = await app.asyncScript(
      "const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('run', { command: 'export_billing_csv', args: { month: arguments[0], path: arguments[1] } }).then(done, (e) => done(e));",
      lastMonth,
      path,
    );
    assert.equal(exported, expected.length);
    const csv = readFileSync(path, "utf8");
    assert.equal(csv, cliText(db, ["billing", "--month", lastMonth, "--csv"]));
    assert.equal(csv.trim().split("\n").length, expected.length + 1);

    // Team & settings: a threshold out of range is refused with the core's message; a valid
    // one is stored.
    await app.click('[data-testid="nav-settings"]');
    await app.clear('[data-testid="setting-contact_due_days_active"]');
    await app.type('[data-testid="setting-contact_due_days_active"]', "0");
    await app.click('[data-testid="save-setting-contact_due_days_active"]');
    await app.waitFor("the refusal", async () => /must be a whole number from 1 to 365/.test(await app.text(".settings")));
    await app.clear('[data-testid="setting-contact_due_days_active"]');
    await app.type('[data-testid="setting-contact_due_days_active"]', "21");
    await app.click('[data-testid="save-setting-contact_due_days_active"]');
    await app.waitFor("the saved setting", async () => /Setting saved/.test(await app.text('[data-testid="notice"]')));
    assert.equal(cli(db, "settings", "list").contact_due_days_active, 21);
    await app.screenshot("practice-lead-3-settings");

    // The instruments' thresholds are practice settings too (spec §3a): the PCL-5's remission
    // line past its 80-point total is refused; 30 is stored and shown as changed.
    await app.click('[data-testid="instrument-thresholds"] summary');
    const pcl5Remission = '[data-testid="threshold-input-pcl5.remission_below"]';
    await app.clear(pcl5Remission);
    await app.type(pcl5Remission, "90");
    await app.click('[data-testid="save-threshold-pcl5.remission_below"]');
    await app.waitFor("the threshold's refusal", async () => /must be a whole number from 0 to 80 for the PCL-5/.test(await app.text(".settings")));
    await app.clear(pcl5Remission);
    await app.type(pcl5Remission, "30");
    await app.click('[data-testid="save-threshold-pcl5.remission_below"]');
    await app.waitFor("the saved threshold", async () => /Threshold saved/.test(await app.text('[data-testid="notice"]')));
    assert.match(await app.text('[data-testid="threshold-pcl5.remission_below"]'), /remission below\s*33\s*· changed/);
    assert.equal(cli(db, "settings", "list").instrument_rules.pcl5.remission_below, 30);
    await app.screenshot("practice-lead-4-thresholds");

    // The billing PCP's NPI: a wrong check digit is refused naming the field; the right one
    // is kept with her credential and the care manager's CoCM FTE.
    const npi = '[data-testid="npi-Dr. Priya Patel"]';
    await app.clear(npi);
    await app.type(npi, "1234567890");
    await app.click('[data-testid="save-attributes-Dr. Priya Patel"]');
    await app.waitFor("the NPI's refusal", async () => /npi: 1234567890 is not a valid NPI/.test(await app.text(".settings")));
    await app.clear(npi);
    await app.type(npi, "1234567893");
    await app.select('[data-testid="credential-Dr. Priya Patel"]', "physician");
    await app.click('[data-testid="save-attributes-Dr. Priya Patel"]');
    await app.waitFor("the saved NPI", async () => /NPI, credential and CoCM FTE are saved/.test(await app.text('[data-testid="notice"]')));
    await app.clear('[data-testid="fte-Ana Morales"]');
    await app.type('[data-testid="fte-Ana Morales"]', "0.6");
    await app.click('[data-testid="save-attributes-Ana Morales"]');
    await app.waitFor("the saved FTE", async () => /Ana Morales's NPI/.test(await app.text('[data-testid="notice"]')));
    const team = cli(db, "team", "list");
    assert.deepEqual(
      [team.find((m) => m.name === "Dr. Priya Patel").npi, team.find((m) => m.name === "Dr. Priya Patel").credential, team.find((m) => m.name === "Ana Morales").cocm_fte],
      ["1234567893", "physician", 0.6],
    );
    await app.screenshot("practice-lead-5-team-attributes");

    // Payer rule sets (spec §7a): North Carolina Medicaid's cap on 99494 switched on.
    await app.select('[data-testid="rule-sets"] select[aria-label="Preset"]', "nc-medicaid");
    await app.click('[data-testid="apply-preset"]');
    await app.waitFor("the preset's rule set", async () => /Collaborative care · medicaid · from 2026[\s\S]*at most 4/.test(await app.text('[data-testid="rule-sets"]')));
    assert.ok(cli(db, "rules", "list").some((s) => s.program === "cocm" && s.payer === "medicaid" && s.effective_year === 2026));
    await app.screenshot("practice-lead-6-rule-sets");

    // A patient on the caseload with 20 or more minutes this month is billed as general BHI
    // from this month: the patient screen changes it, and the month's row becomes 99484.
    const thisMonth = monthsAgo(0);
    const open = new Set(cli(db, "caseload").map((r) => r.mrn));
    // Their PCP has no NPI yet, so their claim line will be held until the lead sets it.
    const bhi = cli(db, "billing", "--month", thisMonth)
      .find((r) => r.minutes >= 20 && r.program === "cocm" && open.has(r.mrn) && r.pcp && r.pcp !== "Dr. Priya Patel");
    assert.ok(bhi, "the demo has a CoCM patient with 20 minutes this month and a PCP without an NPI");
    await app.click('[data-testid="nav-caseload"]');
    await app.type('[data-testid="search"]', bhi.mrn);
    await app.click(`[data-testid="caseload-row"][data-mrn="${bhi.mrn}"]`);
    await app.find('[data-testid="program-history"]');
    await app.select('[data-testid="program-to"]', "general-bhi");
    await app.click('[data-testid="change-program"]');
    await app.waitFor("the program change", async () => new RegExp(`General BHI from ${thisMonth}`).test(await app.text('[data-testid="program-history"]')));
    await app.screenshot("practice-lead-7-billing-program");
    const changed = cli(db, "billing", "--month", thisMonth).find((r) => r.mrn === bhi.mrn);
    assert.deepEqual([changed.program, codes(changed)], ["general-bhi", "99484"]);
    await app.click('[data-testid="nav-billing"]');
    await app.select('[data-testid="month"]', thisMonth);
    const row = `[data-testid="billing-row"][data-mrn="${bhi.mrn}"]`;
    await app.waitFor("the general BHI row", async () => (await app.text(`${row} [data-testid="program"]`)) === "general-bhi");
    assert.equal(await app.text(`${row} [data-testid="codes"]`), "99484");

    // Coverage and a diagnosis (spec §7a): the lead records Medicaid as the patient's
    // secondary coverage (dual-eligible) and adds F41.1 with the picker.
    await app.click('[data-testid="nav-caseload"]');
    await app.clear('[data-testid="search"]');
    await app.type('[data-testid="search"]', bhi.mrn);
    await app.click(`[data-testid="caseload-row"][data-mrn="${bhi.mrn}"]`);
    await app.find('[data-testid="coverage-row"]');
    await app.select('[data-testid="coverage-payer"]', "medicaid");
    await app.type('[data-testid="coverage-member-id"]', "NC-1001");
    await app.setValue('[data-testid="coverage-from"]', `${thisMonth}-01`);
    await app.click('[data-testid="coverage-secondary"]');
    await app.click('[data-testid="add-coverage"]');
    const rowsText = (css) => app.script("return [...document.querySelectorAll(arguments[0])].map((r) => (r.cells ? [...r.cells].map((c) => c.textContent.trim()).join(' ') : r.textContent).replace(/\\s+/g, ' '))", css);
    await app.waitFor("the secondary coverage", async () => (await rowsText('[data-testid="coverage-row"]')).some((t) => /secondary medicaid — NC-1001/.test(t)));
    const hasAnxiety = cli(db, "diagnosis", "list", bhi.mrn).some((d) => d.code === "F41.1");
    const [dx, words, description] = hasAnxiety
      ? ["F43.10", "post-traumatic stress", "Post-traumatic stress disorder, unspecified"]
      : ["F41.1", "generalized anxiety", "Generalized anxiety disorder"];
    await app.type('[data-testid="add-diagnosis-search"]', words);
    await app.click(`[data-testid="add-diagnosis-option"][data-code="${dx}"]`);
    await app.click('[data-testid="add-diagnosis"]');
    await app.waitFor("the diagnosis", async () => (await rowsText('[data-testid="diagnosis-row"]')).some((t) => t.trim().startsWith(`${dx} ${description}`)));
    await app.screenshot("practice-lead-8-coverage-and-diagnosis");
    const coverage = cli(db, "coverage", "list", bhi.mrn);
    assert.ok(coverage.some((c) => c.secondary && c.payer === "medicaid" && c.member_id === "NC-1001"));

    // The Claims view holds the patient's 99484 line for the PCP's missing NPI, held lines
    // first; once the lead sets the NPI, the line is ready.
    const claims = () => cli(db, "billing", "--month", thisMonth, "--claims").filter((l) => l.mrn === bhi.mrn);
    const held = claims();
    assert.deepEqual(held.map((l) => [l.code, l.held]), [["99484", "no NPI"]]);
    assert.equal(held[0].member_id, `DM-${bhi.mrn}`, "the primary coverage bills; the secondary Medicaid does not");
    await app.click('[data-testid="nav-billing"]');
    await app.select('[data-testid="month"]', thisMonth);
    await app.click('[data-testid="view-claims"]');
    const line = `[data-testid="claim-line"][data-mrn="${bhi.mrn}"]`;
    await app.waitFor("the held claim line", async () => (await app.text(`${line} [data-testid="claim-held"]`)) === "no NPI");
    const firstHeld = await app.script("return [...document.querySelectorAll('[data-testid=claim-line]')].map((l) => l.classList.contains('held'))");
    assert.ok(firstHeld.every((h, i) => i === 0 || firstHeld[i - 1] || !h), "held lines first");
    await app.screenshot("practice-lead-9-claims-held");
    await app.click('[data-testid="nav-settings"]');
    const pcpNpi = `[data-testid="npi-${bhi.pcp}"]`;
    await app.clear(pcpNpi);
    await app.type(pcpNpi, "9876543213");
    await app.click(`[data-testid="save-attributes-${bhi.pcp}"]`);
    await app.waitFor("the PCP's NPI", async () => /NPI, credential and CoCM FTE are saved/.test(await app.text('[data-testid="notice"]')));
    await app.click('[data-testid="nav-billing"]');
    await app.select('[data-testid="month"]', thisMonth);
    await app.click('[data-testid="view-claims"]');
    await app.waitFor("the released claim line", async () => (await app.text(`${line} [data-testid="claim-held"]`)) === "ready");
    assert.equal(await app.text(`${line} [data-testid="claim-code"]`), "99484");
    await app.screenshot("practice-lead-10-claims-released");
    assert.deepEqual(claims().map((l) => [l.code, l.billing_npi, l.held]), [["99484", "9876543213", ""]]);
  });
});
