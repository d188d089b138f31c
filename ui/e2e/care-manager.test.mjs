// A care manager's morning in the real app, on a fresh demo registry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cli, demoRegistry, withApp } from "./driver.mjs";

const rowMrns = (app) => app.script("return [...document.querySelectorAll('[data-testid=caseload-row]')].map((r) => r.dataset.mrn)");
const minutesThisMonth = async (app) => Number((await app.text('[data-testid="minutes-this-month"]')).match(/^(\d+)/)[1]);

test("care manager: needs-action first; item 9 raises safety; a safety check clears it; minutes appear", async () => {
  const db = demoRegistry();
  const expected = cli(db, "caseload", "--care-manager", "Ana Morales");
  await withApp("care-manager", { db, as: "Ana Morales" }, async (app) => {
    // My patients, in the core's order: the demo's safety patient first.
    await app.find('[data-testid="caseload-row"]');
    assert.deepEqual((await rowMrns(app)).slice(0, 8), expected.slice(0, 8).map((r) => r.mrn));
    assert.equal(expected[0].flags[0], "safety");
    assert.match(await app.text('[data-testid="caseload-row"]'), /Safety/);
    assert.match(await app.text('[data-testid="count-on-caseload"]'), new RegExp(`^${expected.length} `));
    assert.match(await app.script("return document.title"), /^CoCM Registry — Riverside Family Medicine \(demo\) — .*registry\.cocm$/);
    // Every shown PHQ-9 whose item 9 is positive is outlined red: first and last scores alike.
    const outlined = await app.script(`return [...document.querySelectorAll('[data-testid=caseload-row]')].slice(0, 8).map((r) => {
      const cell = (id) => r.querySelector('[data-testid=phq9-cell] [data-testid=' + id + ']');
      return [cell('baseline-score')?.classList.contains('item9') ?? false, cell('latest-score')?.classList.contains('item9') ?? false];
    })`);
    const core = expected.slice(0, 8).map((r) => [r.phq9?.baseline_item9_positive ?? false, r.phq9?.latest_item9_positive ?? false]);
    assert.deepEqual(outlined, core);
    assert.ok(core.flat().some(Boolean), "the demo shows at least one positive item 9 on the first screen");
    await app.screenshot("care-manager-1-caseload");

    // Search as you type, then open Robert Chen.
    await app.type('[data-testid="search"]', "D004");
    await app.waitFor("the search to narrow the list", async () => (await rowMrns(app)).join() === "D004");
    await app.click('[data-testid="caseload-row"][data-mrn="D004"]');
    assert.equal(await app.text('[data-testid="patient-name"]'), "Robert Chen");
    assert.doesNotMatch(await app.text('[data-testid="patient-flags"]'), /Safety/);
    const before = await minutesThisMonth(app);

    // A PHQ-9 with item 9 positive: the alert shows while filling in, the flag once saved.
    await app.click('[data-testid="record-phq9"]');
    for (let item = 1; item <= 8; item++) await app.click(`[data-testid="item-${item}-1"]`);
    await app.click('[data-testid="item-9-2"]');
    await app.find('[data-testid="safety-alert"]');
    assert.match(await app.text('[data-testid="live-score"]'), /Total 10 · 9 of 9 answered · moderate/);
    await app.screenshot("care-manager-2-phq9-item9-alert");
    await app.click('[data-testid="save-assessment"]');
    await app.waitFor("the PHQ-9 to save", async () => /PHQ-9 saved/.test(await app.text('[data-testid="notice"]')));
    assert.match(await app.text('[data-testid="patient-flags"]'), /Safety/);
    assert.match(await app.attribute('header [data-testid="latest-score"]', "class"), /\bitem9\b/);
    await app.screenshot("care-manager-3-safety-flag");

    // A safety check, with the minutes typed in: the flag clears and the minutes count.
    await app.click('[data-testid="log-contact"]');
    await app.select('[data-testid="contact-kind"]', "safety-check");
    await app.type('[data-testid="contact-minutes"]', "15");
    await app.click('[data-testid="save-contact"]');
    await app.waitFor("the contact to save", async () => /Contact saved/.test(await app.text('[data-testid="notice"]')));
    await app.waitFor("the safety flag to clear", async () => !/Safety/.test(await app.text('[data-testid="patient-flags"]')));
    assert.equal(await minutesThisMonth(app), before + 15);
    await app.screenshot("care-manager-4-safety-cleared");

    // The core agrees.
    const chart = cli(db, "patient", "show", "D004");
    assert.ok(!chart.current.flags.includes("safety"));
    assert.equal(chart.contacts.at(-1).kind, "safety-check");
    assert.equal(chart.contacts.at(-1).author.name, "Ana Morales");
    assert.equal(chart.assessments.at(-1).total, 10);
  });
});
