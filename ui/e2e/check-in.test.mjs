// Patient self-report (spec §10), end to end: the care manager, in the desktop app connected to
// the practice server, sends a Spanish check-in; the patient opens the link in Chromium at a
// phone's size (390 × 844), confirms their date of birth, answers the PHQ-9 with item 9
// positive and sees the crisis text at once; within 5 seconds the care manager's caseload shows
// the patient first, with the safety flag and the new badge. Every patient screen passes
// axe-core's WCAG 2.1 AA checks with no violation. Then kiosk mode: the care manager signs a
// clinic tablet in, hands it over for a new check-in, the patient answers, and the tablet
// locks, naming no one, and cannot read the registry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { App, cli, cliText, demoRegistry, serve, tempDir } from "./driver.mjs";

const AXE = readFileSync(resolve(import.meta.dirname, "../node_modules/axe-core/axe.min.js"), "utf8");
const PHONE = { width: 390, height: 844 };
const TABLET = { width: 820, height: 1180 };

/** axe-core's WCAG 2.0/2.1 A and AA rules on the page as it is now; returns the violations. */
async function axe(browser) {
  await browser.script(`${AXE}; return true;`);
  const result = await browser.asyncScript(
    "const done = arguments[arguments.length - 1]; axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }).then((r) => done(r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)), (e) => done([String(e)]));",
  );
  return result;
}

async function noViolations(browser, screen) {
  assert.deepEqual(await axe(browser), [], `axe-core on the ${screen} screen`);
}

test("check-in: a Spanish PHQ-9 answered on a phone with item 9 positive reaches the care manager's caseload at once", async () => {
  const db = demoRegistry();
  const server = await serve(db);
  cliText(db, ["settings", "set", "patient_portal_url", server.url]);
  cliText(db, ["settings", "set", "practice_phone", "(555) 010-4477"]);
  // A patient of Ana Morales's, active for depression, not flagged for safety.
  const rows = cli(db, "caseload");
  const patient = rows.find((r) => r.care_manager === "Ana Morales" && r.status === "active" && r.targets.includes("depression")
    && !r.flags.includes("safety") && r.new_answers === 0);
  assert.ok(patient, "the demo has such a patient");
  const dob = cli(db, "patient", "show", patient.mrn).patient.dob;
  const pins = join(tempDir("cocm-pins-"), "servers.json");
  let app, phone, tablet;
  try {
    app = await App.start({ db: "", as: null, env: { COCM_PINS: pins } });
    await app.type('[data-testid="server-url"]', server.url);
    await app.click('[data-testid="connect-server"]');
    await app.click('[data-testid="trust-server"]');
    await app.signedIn("Ana Morales");
    await app.type('[data-testid="search"]', patient.mrn);
    await app.click(`[data-testid="caseload-row"][data-mrn="${patient.mrn}"]`);

    // Send check-in: in Spanish, the link shown once.
    await app.click('[data-testid="send-check-in"]');
    await app.select('[data-testid="check-in-language"]', "es");
    await app.click('[data-testid="send-check-in-confirm"]');
    const link = await app.text('[data-testid="link-text"]');
    assert.match(link, new RegExp(`^${server.url}/r/[A-Za-z0-9_-]{43}$`));
    assert.equal(await app.text('[data-testid="check-in-state"]'), "waiting");
    await app.screenshot("check-in-1-app-link");

    // The patient's phone.
    phone = await App.browser(link, { mobile: PHONE });
    await phone.find("#dob-month");
    assert.equal(await phone.script("return document.documentElement.lang"), "es");
    assert.equal(await phone.script("return window.innerWidth"), PHONE.width);
    await noViolations(phone, "date of birth");
    await phone.screenshot("check-in-2-phone-dob");
    // A wrong date of birth first: refused, nothing more said.
    const [year, month, day] = dob.split("-");
    await phone.select("#dob-month", month);
    await phone.type("#dob-day", String(Number(day)));
    await phone.type("#dob-year", String(Number(year) + 1));
    await phone.click("#dob-continue");
    assert.match(await phone.text("#dob-error"), /no coincide/);
    await phone.clear("#dob-year");
    await phone.type("#dob-year", year);
    await phone.click("#dob-continue");

    // Nine questions, one per screen, with progress and a way back; item 9 answered 1.
    const answers = [1, 2, 1, 1, 0, 1, 0, 0, 1];
    for (let i = 0; i < answers.length; i++) {
      await phone.waitFor(`question ${i + 1}`, async () => (await phone.text("#heading")) === `Pregunta ${i + 1} de 9`);
      if (i === 0) {
        assert.match(await phone.text("#question"), /^Poco interés/);
        await noViolations(phone, "first question");
        await phone.screenshot("check-in-3-phone-question");
      }
      if (i === 1) {
        // Back to the first, its answer kept, then on again.
        await phone.click("#back");
        await phone.waitFor("question 1 again", async () => (await phone.text("#heading")) === "Pregunta 1 de 9");
        assert.equal(await phone.script("return document.querySelector('input[name=answer-0]:checked')?.value"), "1");
        await phone.click("#next");
        await phone.waitFor("question 2", async () => (await phone.text("#heading")) === "Pregunta 2 de 9");
      }
      await phone.click(`#answer-${i}-${answers[i]}`);
      await phone.click("#next");
    }

    // The crisis text, first and at once.
    await phone.waitFor("the crisis text", async () => (await phone.text("#heading")) === "Busque ayuda ahora");
    const message = await phone.text("#message");
    assert.match(message, /988/);
    assert.match(message, /911/);
    assert.match(message, /\(555\) 010-4477/);
    assert.equal(await phone.attribute('a[href="tel:988"]', "href"), "tel:988");
    await noViolations(phone, "crisis");
    await phone.screenshot("check-in-4-phone-crisis");

    // The care manager's caseload, within 5 seconds and without a reload: first, safety, new.
    await app.click('[data-testid="back"]');
    await app.clear('[data-testid="search"]');
    await app.waitFor("the patient first with safety and new within 5 seconds", async () => app.script(
      "const row = document.querySelector('[data-testid=caseload-row]'); return row?.dataset.mrn === arguments[0] && !!row.querySelector('.flag-safety') && !!row.querySelector('[data-testid=new-badge]');",
      patient.mrn,
    ), 5_000);
    assert.equal(await app.text('[data-testid="count-new-answers"]'), "1 with new answers");
    // The safety alert, on every screen until acknowledged.
    assert.match(await app.text(`[data-testid="safety-alert"][data-mrn="${patient.mrn}"]`), /PHQ-9 safety question/);
    await app.screenshot("check-in-5-app-caseload");

    // The link is spent: opened again, the one plain page.
    await phone.go(link);
    await phone.waitFor("the spent link's page", async () => (await phone.text("#heading")) === "This link cannot be used");
    await noViolations(phone, "unusable link");

    // Reviewed on the chart: the badge goes.
    await app.click(`[data-testid="caseload-row"][data-mrn="${patient.mrn}"]`);
    await app.find('[data-testid="assessment-new"]');
    await app.click('[data-testid="mark-reviewed"]');
    await app.waitFor("the new badge to go", async () => !(await app.script("return !!document.querySelector('[data-testid=assessment-new]')")));
    await app.waitFor("the safety alert to go", async () => !(await app.script("return !!document.querySelector('[data-testid=safety-alert]')")));

    // Kiosk mode: the care manager signs the clinic's tablet in, sends a check-in and hands it over.
    await phone.stop();
    phone = null;
    tablet = await App.browser(server.url, { mobile: TABLET });
    await tablet.signedIn("Ana Morales");
    await tablet.type('[data-testid="search"]', patient.mrn);
    await tablet.click(`[data-testid="caseload-row"][data-mrn="${patient.mrn}"]`);
    await tablet.click('[data-testid="send-check-in"]');
    await tablet.click('[data-testid="send-check-in-confirm"]');
    await tablet.find('[data-testid="link-text"]');
    await tablet.click('[data-testid="hand-over"]');
    await tablet.click('[data-testid="hand-over-confirm"]');
    await tablet.waitFor("the kiosk's first screen", async () => (await tablet.script("return location.pathname")) === "/kiosk"
      && !!(await tablet.script("return document.querySelector('#dob-month') !== null")));
    await tablet.select("#dob-month", month);
    await tablet.type("#dob-day", String(Number(day)));
    await tablet.type("#dob-year", year);
    await tablet.click("#dob-continue");
    for (let i = 0; i < 9; i++) {
      await tablet.waitFor(`kiosk question ${i + 1}`, async () => (await tablet.text("#heading")) === `Question ${i + 1} of 9`);
      await tablet.click(`#answer-${i}-0`);
      await tablet.click("#next");
    }
    await tablet.waitFor("the thanks", async () => (await tablet.text("#heading")) === "Thank you");
    await tablet.click("#done");
    // The locked tablet: nothing about the patient who just used it.
    await tablet.waitFor("the locked tablet", async () => (await tablet.text("#heading")) === "Check-in tablet");
    const shown = await tablet.script("return document.body.innerText");
    for (const secret of [patient.mrn, patient.name, dob, "Ana Morales"]) assert.ok(!shown.includes(secret), `the locked tablet shows ${secret}`);
    await noViolations(tablet, "locked tablet");
    await tablet.screenshot("check-in-6-tablet-locked");
    // The kiosk cannot read the registry: the staff API refuses its session.
    const status = await tablet.asyncScript(
      "const done = arguments[arguments.length - 1]; fetch('/api/caseload', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then((r) => done(r.status), () => done(0));",
    );
    assert.equal(status, 403);
    // The answers arrived: the caseload shows them new again.
    await app.click('[data-testid="back"]');
    await app.waitFor("the kiosk's answers on the caseload", async () => app.script(
      "const row = document.querySelector(`[data-testid=caseload-row][data-mrn='${arguments[0]}']`); return !!row?.querySelector('[data-testid=new-badge]');",
      patient.mrn,
    ), 5_000);
  } finally {
    await tablet?.stop();
    await phone?.stop();
    await app?.stop();
    server.process.kill("SIGTERM");
  }
});
