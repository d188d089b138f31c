// The psychiatric consultant opens on the consult queue, in the core's order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { App, cli, demoRegistry } from "./driver.mjs";

const TEST = "consultant";

test("consultant: the queue lists the expected patients in order, with reasons", async () => {
  const db = demoRegistry();
  const expected = cli(db, "queue");
  const app = await App.start({ db, as: "Dr. Sam Rivera" });
  try {
    await app.find('[data-testid="queue-row"]');
    const mrns = await app.script("return [...document.querySelectorAll('[data-testid=queue-row]')].map((r) => r.dataset.mrn)");
    assert.deepEqual(mrns, expected.map((e) => e.mrn));
    assert.equal(expected[0].reasons[0].reason, "safety");
    assert.match(await app.text('[data-testid="queue-row"]'), new RegExp(`Safety since ${expected[0].reasons[0].since}`));
    await app.screenshot("consultant-1-queue");
    await app.click(`[data-testid="queue-row"][data-mrn="${expected[0].mrn}"] .name`);
    assert.equal(await app.text('[data-testid="patient-name"]'), expected[0].name);
    await app.screenshot("consultant-2-patient");
  } catch (e) {
    await app.screenshot(`failed-${TEST}`).catch(() => {});
    throw e;
  } finally {
    await app.stop();
  }
});
