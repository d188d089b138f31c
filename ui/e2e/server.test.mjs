// The practice server with two real clients at once: the consultant in Chromium (the UI the
// server serves) and the care manager in the desktop app, connected to the same server after
// checking its certificate. Each sees the other's saves within 5 seconds, without a reload.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { App, CLI, DEMO_LEAD, DEMO_PASSWORD, cli, cliText, demoRegistry, serve, tempDir } from "./driver.mjs";

const SEEDS = resolve(import.meta.dirname, "../../seeds/import");

/** Stops the server as systemd would (SIGTERM) and starts it again at the same address. */
async function restart(server, db) {
  const stopped = new Promise((done) => server.process.once("exit", done));
  server.process.kill("SIGTERM");
  await stopped;
  return serve(db, new URL(server.url).host);
}

/** Trusts the server's certificate on the app's start screen, as a first connection does. */
async function connect(app, server) {
  await app.type('[data-testid="server-url"]', server.url);
  await app.click('[data-testid="connect-server"]');
  assert.match(await app.text('[data-testid="server-fingerprint"]'), new RegExp(server.fingerprint));
  await app.click('[data-testid="trust-server"]');
}

const queueMrns = (client) => client.script("return [...document.querySelectorAll('[data-testid=queue-row]')].map((r) => r.dataset.mrn)");
const within5s = (client, what, check) => client.waitFor(`${what} within 5 seconds`, check, 5_000);

test("practice server: the consultant's review in Chromium leaves the app's queue, the app's contact shows in Chromium", async () => {
  const db = demoRegistry();
  const expected = cli(db, "queue");
  // The first patient a review takes off the queue: the safety patients before them wait for
  // a safety check (a review does not clear safety).
  const at = expected.findIndex((e) => !e.reasons.some((r) => r.reason === "safety"));
  const reviewed = expected[at];
  assert.ok(at >= 1, "the demo queues safety patients first");
  const server = await serve(db);
  const pins = join(tempDir("cocm-pins-"), "servers.json");
  let app, browser;
  try {
    app = await App.start({ db: "", as: null, env: { COCM_PINS: pins } });

    // A certificate that is not the one trusted before is refused, with a warning.
    writeFileSync(pins, JSON.stringify({ [server.url]: Array(32).fill("AB").join(":") }));
    await app.type('[data-testid="server-url"]', server.url);
    await app.click('[data-testid="connect-server"]');
    assert.match(await app.text('[data-testid="certificate-changed"]'), /certificate has changed/);
    await app.screenshot("server-1-app-certificate-changed");

    // First connection: the app shows the fingerprint, the user compares and trusts it.
    rmSync(pins);
    await app.click('[data-testid="connect-server"]');
    assert.match(await app.text('[data-testid="server-fingerprint"]'), new RegExp(server.fingerprint));
    await app.screenshot("server-2-app-fingerprint");
    await app.click('[data-testid="trust-server"]');
    await app.signedIn("Ana Morales");
    await app.click("nav button:nth-child(2)");
    await app.waitFor("the queue in the app", async () => (await queueMrns(app)).includes(reviewed.mrn));
    await app.screenshot("server-3-app-queue-before");

    // The consultant, off site, in a browser: the same screens, served by the server.
    browser = await App.browser(server.url);
    await browser.signedIn("Dr. Sam Rivera");
    await browser.find('[data-testid="queue-row"]');
    assert.deepEqual(await queueMrns(browser), expected.map((e) => e.mrn));
    await browser.screenshot("server-4-browser-queue");
    await browser.click('[data-testid="start-session"]');
    for (let i = 1; i <= at; i++) {
      await browser.click('[data-testid="skip"]');
      await browser.waitFor(`patient ${i + 1}`, async () => (await browser.attribute('[data-testid="session-patient"]', "data-mrn")) === expected[i].mrn);
    }
    await browser.type('[data-testid="rec-medication"]', "Switch sertraline to escitalopram 10 mg");
    await browser.click('[data-testid="save-review"]');
    await browser.waitFor("the session to move on", async () => (await browser.attribute('[data-testid="session-patient"]', "data-mrn")) === expected[at + 1].mrn);

    // The care manager's app drops the patient from its queue by itself.
    await within5s(app, "the reviewed patient to leave the app's queue", async () => !(await queueMrns(app)).includes(reviewed.mrn));
    await app.screenshot("server-5-app-queue-after-review");
    await browser.click('[data-testid="end-session"]');

    // The consultant opens the patient; the care manager logs a contact from the app.
    await browser.click("nav button:first-child");
    await browser.type('[data-testid="search"]', reviewed.mrn);
    await browser.click(`[data-testid="caseload-row"][data-mrn="${reviewed.mrn}"]`);
    const minutes = async (client) => Number((await client.text('[data-testid="minutes-this-month"]')).match(/^(\d+)/)[1]);
    const before = await minutes(browser);
    await app.click("nav button:first-child");
    await app.type('[data-testid="search"]', reviewed.mrn);
    await app.click(`[data-testid="caseload-row"][data-mrn="${reviewed.mrn}"]`);
    await app.click('[data-testid="log-contact"]');
    await app.type('[data-testid="contact-minutes"]', "25");
    await app.click('[data-testid="save-contact"]');
    await app.waitFor("the contact to save", async () => /Contact saved/.test(await app.text('[data-testid="notice"]')));
    await within5s(browser, "the contact's minutes in the consultant's browser", async () => (await minutes(browser)) === before + 25);
    await browser.screenshot("server-6-browser-sees-contact");
    // The server's strict Content-Security-Policy (no inline script or style, no eval) let
    // every screen so far work: Chromium reported no violation of it.
    const violations = (await browser.browserLog()).filter((e) => e.source === "security" || /Content Security Policy/i.test(e.message));
    assert.deepEqual(violations, []);

    // The audit log names each member and the workstation they acted from.
    const log = cli(db, "audit", "--limit", "80");
    assert.ok(log.some((e) => e.actor === "Dr. Sam Rivera" && e.record_type === "case_review" && e.details.client === "127.0.0.1"));
    assert.ok(log.some((e) => e.actor === "Ana Morales" && e.record_type === "contact" && e.details.client === "127.0.0.1"));
  } catch (e) {
    await app?.screenshot("failed-server-app").catch(() => {});
    await browser?.screenshot("failed-server-browser").catch(() => {});
    throw e;
  } finally {
    await browser?.stop();
    await app?.stop();
    server.process.kill("SIGTERM");
  }
});

test("practice server: the practice lead imports files and downloads the FHIR export in Chromium", async () => {
  const db = demoRegistry();
  const server = await serve(db);
  const downloads = tempDir("cocm-downloads-");
  let browser;
  try {
    browser = await App.browser(server.url, { downloads });
    await browser.signedIn("Morgan Grant");
    await browser.click('[data-testid="nav-import"]');

    // The import wizard takes the file from the browser's file input: checked, then imported.
    await browser.type('[data-testid="import-file"]', join(SEEDS, "patients.csv"));
    await browser.find('[data-testid="import-mapping"]');
    assert.match(await browser.text('[data-testid="import-summary"]'), /5 rows: would add 5 patients, 4 enrolments; already there: nothing/);
    assert.ok(!cli(db, "caseload").some((r) => r.mrn === "I001"), "nothing is stored by checking");
    await browser.screenshot("server-7-browser-import-preview");
    await browser.click('[data-testid="import-run"]');
    await browser.find('[data-testid="import-result"]');
    assert.match(await browser.text('[data-testid="import-result"]'), /Imported patients\.csv: 5 rows; added 5 patients, 4 enrolments/);
    assert.ok(cli(db, "caseload").some((r) => r.mrn === "I001"));

    // The FHIR export arrives as one .zip in the browser's downloads.
    await browser.click('[data-testid="fhir-export"]');
    await browser.find('[data-testid="fhir-export-result"]');
    assert.match(await browser.text('[data-testid="fhir-export-result"]'), /Downloaded fhir-export-\d{4}-\d{2}-\d{2}\.zip/);
    assert.match(await browser.text('[data-testid="fhir-export-files"]'), /Patient\.ndjson\s*77\s*Coverage/);
    const zip = await browser.waitFor("the archive in the downloads folder", () => readdirSync(downloads).find((f) => /^fhir-export-.*\.zip$/.test(f)));
    assert.equal(readFileSync(join(downloads, zip)).subarray(0, 2).toString(), "PK", "a zip archive");

    // An EHR's Bundle, uploaded: checked, then imported.
    await browser.type('[data-testid="fhir-import-files"]', join(SEEDS, "ehr-bundle.json"));
    await browser.find('[data-testid="fhir-preview"]');
    assert.match(await browser.text('[data-testid="fhir-preview"]'), /16 resources in ehr-bundle\.json: would add 1 patient, 1 episode, 2 assessments/);
    await browser.click('[data-testid="fhir-import"]');
    await browser.find('[data-testid="fhir-import-result"]');
    assert.match(await browser.text('[data-testid="fhir-import-result"]'), /Imported 16 resources: added 1 patient, 1 episode, 2 assessments/);
    await browser.screenshot("server-8-browser-fhir");
    assert.ok(cli(db, "caseload").some((r) => r.mrn === "E001"));
    const exported = cli(db, "audit", "--limit", "100").find((e) => e.action === "export" && e.record_type === "fhir");
    assert.equal(exported.details.client, "127.0.0.1", "the export is audited with the workstation");
  } catch (e) {
    await browser?.screenshot("failed-server-browser-files").catch(() => {});
    throw e;
  } finally {
    await browser?.stop();
    server.process.kill("SIGTERM");
  }
});

test("practice server: after a restart the browser and the app ask for the password and go on where they were", async () => {
  const db = demoRegistry();
  let server = await serve(db);
  const pins = join(tempDir("cocm-pins-"), "servers.json");
  const recommendation = "Add bupropion XL 150 mg";
  const inputValue = (client, css) => client.script("return document.querySelector(arguments[0]).value", css);
  let app, browser;
  try {
    // The consultant, in the app, starts a review and types a recommendation for the first patient.
    app = await App.start({ db: "", as: null, env: { COCM_PINS: pins } });
    await connect(app, server);
    await app.signedIn("Dr. Sam Rivera");
    await app.click('[data-testid="start-session"]');
    const mrn = await app.attribute('[data-testid="session-patient"]', "data-mrn");
    await app.type('[data-testid="rec-medication"]', recommendation);

    // The care manager, in a browser, opens that patient's chart and starts a 20-minute contact.
    browser = await App.browser(server.url);
    await browser.signedIn("Ana Morales");
    await browser.type('[data-testid="search"]', mrn);
    await browser.click(`[data-testid="caseload-row"][data-mrn="${mrn}"]`);
    await browser.click('[data-testid="log-contact"]');
    await browser.type('[data-testid="contact-minutes"]', "20");

    // The server restarts (an upgrade, a reboot): every session is gone, and it stops at once
    // although both clients hold an event stream open.
    const stopping = Date.now();
    server = await restart(server, db);
    assert.ok(Date.now() - stopping < 15_000, `the server took ${Date.now() - stopping} ms to restart`);

    // Saving finds no session: the lock form says why, and the contact typed is still there.
    await browser.click('[data-testid="save-contact"]');
    assert.match(await browser.text('[data-testid="session-ended"]'), /your session has ended; sign in again.*Ana Morales, enter your password/);
    await browser.screenshot("server-9-browser-session-ended");
    await browser.type('[data-testid="unlock-password"]', DEMO_PASSWORD);
    await browser.click('[data-testid="unlock"]');
    await browser.waitFor("the lock form to close", async () => (await browser.findAll('[data-testid="lock-screen"]')).length === 0);
    assert.equal(await inputValue(browser, '[data-testid="contact-minutes"]'), "20");
    await browser.click('[data-testid="save-contact"]');
    await browser.waitFor("the contact to save", async () => /Contact saved/.test(await browser.text('[data-testid="notice"]')));

    // The same in the app, whose shell holds the connection.
    await app.click('[data-testid="save-review"]');
    assert.match(await app.text('[data-testid="session-ended"]'), /your session has ended; sign in again.*Dr\. Sam Rivera, enter your password/);
    await app.screenshot("server-10-app-session-ended");
    await app.type('[data-testid="unlock-password"]', DEMO_PASSWORD);
    await app.click('[data-testid="unlock"]');
    await app.waitFor("the lock form to close", async () => (await app.findAll('[data-testid="lock-screen"]')).length === 0);
    assert.equal(await inputValue(app, '[data-testid="rec-medication"]'), recommendation);
    await app.click('[data-testid="save-review"]');
    await app.waitFor("the session to move on", async () => (await app.attribute('[data-testid="session-patient"]', "data-mrn")) !== mrn);

    // Live updates came back with the session: the chart the browser opened before the restart
    // shows the consultant's review without a reload.
    await within5s(browser, "the review in the care manager's browser", async () => (await browser.text('[data-testid="reviews"]')).includes(recommendation));
    await browser.screenshot("server-11-browser-sees-review-after-restart");
    const log = cli(db, "audit", "--limit", "40");
    assert.ok(log.some((e) => e.actor === "Ana Morales" && e.record_type === "contact" && e.details.client === "127.0.0.1"));
    assert.ok(log.some((e) => e.actor === "Dr. Sam Rivera" && e.record_type === "case_review" && e.details.client === "127.0.0.1"));
  } catch (e) {
    await app?.screenshot("failed-server-restart-app").catch(() => {});
    await browser?.screenshot("failed-server-restart-browser").catch(() => {});
    throw e;
  } finally {
    await browser?.stop();
    await app?.stop();
    server.process.kill("SIGTERM");
  }
});

test("practice server: a browser in use keeps its session past the idle limit; left idle, it locks and the password opens it", async () => {
  const db = demoRegistry();
  cliText(db, ["settings", "set", "auto_lock_minutes", "1"]);
  const server = await serve(db);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const lockForms = async () => (await browser.findAll('[data-testid="lock-screen"]')).length;
  let browser;
  try {
    browser = await App.browser(server.url);
    await browser.signedIn("Ana Morales");
    await browser.find('[data-testid="caseload-row"]');

    // 75 seconds of reading: the mouse moves, the screen asks the server for nothing of its own.
    for (let i = 0; i < 15; i++) {
      await browser.script("window.dispatchEvent(new PointerEvent('pointermove')); return true");
      await sleep(5_000);
    }
    // The session outlived the 1-minute idle limit because the screen was in use.
    await browser.click('[data-testid="caseload-row"]');
    await browser.find('[data-testid="minutes-this-month"]');
    assert.equal(await lockForms(), 0, "no lock form while the screen is in use");

    // Then nobody touches it: the screen locks after a minute, and the password opens it again.
    await browser.waitFor("the auto-lock", async () => (await lockForms()) === 1, 75_000);
    await browser.screenshot("server-12-browser-auto-locked");
    await browser.type('[data-testid="unlock-password"]', DEMO_PASSWORD);
    await browser.click('[data-testid="unlock"]');
    await browser.waitFor("the lock form to close", async () => (await lockForms()) === 0);
    await browser.find('[data-testid="minutes-this-month"]');
    const log = cli(db, "audit", "--limit", "20");
    assert.ok(log.some((e) => e.actor === "Ana Morales" && e.action === "auto-lock"), "the lock is audited");
  } catch (e) {
    await browser?.screenshot("failed-server-keep-alive").catch(() => {});
    throw e;
  } finally {
    await browser?.stop();
    server.process.kill("SIGTERM");
  }
});
