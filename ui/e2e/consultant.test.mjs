// The psychiatric consultant opens on the consult queue, in the core's order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cli, demoRegistry, withApp } from "./driver.mjs";

test("consultant: the queue in order; a review session reviews a patient, who leaves the queue", async () => {
  const db = demoRegistry();
  const expected = cli(db, "queue");
  await withApp("consultant", { db, as: "Dr. Sam Rivera" }, async (app) => {
    await app.find('[data-testid="queue-row"]');
    const mrns = await app.script("return [...document.querySelectorAll('[data-testid=queue-row]')].map((r) => r.dataset.mrn)");
    assert.deepEqual(mrns, expected.map((e) => e.mrn));
    assert.equal(expected[0].reasons[0].reason, "safety");
    assert.match(await app.text('[data-testid="queue-row"]'), new RegExp(`Safety since ${expected[0].reasons[0].since}`));
    await app.screenshot("consultant-1-queue");

    // Review session: the safety patients first (a review does not clear safety; only a
    // safety check does), so skip to the first patient a review takes off the queue, review
    // them, and end the session.
    const at = expected.findIndex((e) => !e.reasons.some((r) => r.reason === "safety"));
    const reviewed = expected[at];
    assert.ok(at >= 1, "the demo queues safety patients first");
    await app.click('[data-testid="start-session"]');
    assert.equal(await app.attribute('[data-testid="session-patient"]', "data-mrn"), expected[0].mrn);
    for (let i = 1; i <= at; i++) {
      await app.click('[data-testid="skip"]');
      await app.waitFor(`patient ${i + 1}`, async () => (await app.attribute('[data-testid="session-patient"]', "data-mrn")) === expected[i].mrn);
    }
    await app.type('[data-testid="rec-medication"]', "Switch sertraline to escitalopram 10 mg");
    await app.screenshot("consultant-2-review-session");
    await app.click('[data-testid="save-review"]');
    await app.waitFor("the session to move on", async () => (await app.attribute('[data-testid="session-patient"]', "data-mrn")) === expected[at + 1].mrn);
    await app.click('[data-testid="end-session"]');

    // Back on the queue: the reviewed patient has left it, in the app and in the core.
    await app.waitFor("the queue to reload", async () => !(await app.script(`return [...document.querySelectorAll('[data-testid=queue-row]')].map((r) => r.dataset.mrn)`)).includes(reviewed.mrn));
    assert.ok(!cli(db, "queue").some((e) => e.mrn === reviewed.mrn));
    await app.screenshot("consultant-3-queue-after-review");

    // And the review shows on the patient.
    await app.click('nav button:first-child');
    await app.type('[data-testid="search"]', reviewed.mrn);
    await app.click(`[data-testid="caseload-row"][data-mrn="${reviewed.mrn}"]`);
    await app.waitFor("the case review on the chart", async () => /medication: Switch sertraline to escitalopram 10 mg/.test(await app.text('[data-testid="reviews"]')));
    await app.screenshot("consultant-4-patient-review");

    // A consultant records scores and review requests, not contacts, status or demographics:
    // the app shows only what the core's role matrix allows.
    const shown = (id) => app.script(`return document.querySelector('[data-testid=${id}]') !== null`);
    for (const id of ["record-phq9", "request-review"]) assert.ok(await shown(id), `${id} shown`);
    for (const id of ["log-contact", "change-status", "edit-patient", "record-treatment", "nav-enrol"]) assert.ok(!(await shown(id)), `${id} hidden`);
  });
});
