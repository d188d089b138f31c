// Bad input through the UI: the core's message is shown next to the form and nothing is saved.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cli, demoRegistry, withApp } from "./driver.mjs";

test("bad input: a PHQ-9 with a blank item and a contact of 0 minutes are refused, nothing saved", async () => {
  const db = demoRegistry();
  const before = cli(db, "patient", "show", "D004");
  await withApp("bad-input", { db, as: "Ana Morales" }, async (app) => {
    await app.type('[data-testid="search"]', "Robert");
    await app.click('[data-testid="caseload-row"][data-mrn="D004"]');
    await app.find('[data-testid="patient-name"]');

    await app.click('[data-testid="record-phq9"]');
    for (const item of [1, 2, 3, 4, 6, 7, 8, 9]) await app.click(`[data-testid="item-${item}-1"]`);
    await app.click('[data-testid="save-assessment"]');
    assert.equal(await app.text('[data-testid="form-error"]'), "items: item 5 is unanswered");
    await app.screenshot("bad-input-1-phq9-blank-item");
    // Leaving by the top bar asks before the unsaved answers are lost.
    await app.click("nav button:first-child");
    await app.find('[data-testid="discard-prompt"]');
    await app.click('[data-testid="keep-editing"]');
    assert.equal(await app.text('[data-testid="patient-name"]'), "Robert Chen");
    await app.click('[data-testid="log-contact"]'); // asks before discarding the unsaved PHQ-9
    await app.click('[data-testid="discard"]');

    await app.type('[data-testid="contact-minutes"]', "0");
    await app.click('[data-testid="save-contact"]');
    assert.equal(await app.text('[data-testid="form-error"]'), "minutes: must be from 1 to 600 (got 0)");
    await app.screenshot("bad-input-2-zero-minutes");
  });
  const after = cli(db, "patient", "show", "D004");
  assert.equal(after.assessments.length, before.assessments.length);
  assert.equal(after.contacts.length, before.contacts.length);
});
