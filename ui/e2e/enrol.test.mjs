// Enrolling a new patient for PTSD on the PCL-5, recording one item by item, then moving them
// through relapse prevention to discharge.
import { test } from "node:test";
import assert from "node:assert/strict";
import { audit, cli, demoRegistry, withApp } from "./driver.mjs";

test("enrol: a duplicate MRN is refused; a PTSD patient is enrolled, scored on the PCL-5, moved to relapse prevention and discharged", async () => {
  const db = demoRegistry();
  await withApp("enrol", { db, as: "Ana Morales" }, async (app) => {
    await app.click('[data-testid="nav-enrol"]');
    await app.type('[data-testid="enrol-mrn"]', "D001");
    await app.type('[data-testid="enrol-name"]', "Nora Quinn");
    await app.setValue('[data-testid="enrol-dob"]', "1985-03-04");
    await app.click('[data-testid="save-enrol"]');
    assert.equal(await app.text('[data-testid="form-error"]'), "mrn: a patient with MRN 'D001' already exists");
    assert.equal(cli(db, "patient", "show", "D001").patient.name, "Maria Lopez", "nothing changed");
    await app.screenshot("enrol-1-duplicate-mrn");
    // The typed-in details are not lost by a stray click on the top bar.
    await app.click("nav button:first-child");
    await app.find('[data-testid="discard-prompt"]');
    await app.click('[data-testid="keep-editing"]');

    await app.clear('[data-testid="enrol-mrn"]');
    await app.type('[data-testid="enrol-mrn"]', "N100");
    // Treating PTSD, not depression, measured by the PCL-5.
    await app.click('[data-testid="target-depression"]');
    await app.click('[data-testid="target-ptsd"]');
    await app.select('[data-testid="scale-ptsd"]', "pcl5");
    await app.screenshot("enrol-2-ptsd-on-the-pcl5");
    await app.click('[data-testid="save-enrol"]');
    await app.waitFor("the new patient's chart", async () => (await app.text('[data-testid="patient-name"]')) === "Nora Quinn");
    assert.match(await app.text('[data-testid="episode-status"]'), /active/);
    assert.match(await app.text('[data-testid="patient-flags"]'), /No baseline/);
    assert.deepEqual(cli(db, "patient", "show", "N100").episodes[0].primary_scales, [{ target: "ptsd", scale: "pcl5" }]);

    // The PCL-5 item by item: twenty items answered 0–4, the total as they are answered.
    await app.click('[data-testid="record-pcl5"]');
    for (let item = 1; item <= 19; item++) await app.click(`[data-testid="item-${item}-2"]`);
    await app.waitFor("the running total", async () => /Total 38 · 19 of 20 answered/.test(await app.text('[data-testid="live-score"]')));
    await app.click('[data-testid="item-20-4"]');
    await app.waitFor("the complete total", async () => /Total 42 · 20 of 20 answered · positive/.test(await app.text('[data-testid="live-score"]')));
    await app.screenshot("enrol-3-pcl5-form");
    await app.click('[data-testid="save-assessment"]');
    await app.waitFor("the PCL-5 to save", async () => /PCL-5 saved/.test(await app.text('[data-testid="notice"]')));
    await app.find('[data-testid="trend-pcl5"]');
    assert.match(await app.text('[data-testid="measure-ptsd"]'), /ptsd · PCL-5\s+42\s+→\s+42/);
    assert.doesNotMatch(await app.text('[data-testid="patient-flags"]'), /No baseline/);
    await app.screenshot("enrol-4-pcl5-chart");
    // The caseload shows the PTSD target's scale beside the PHQ-9 and GAD-7 columns.
    await app.click("nav button:first-child");
    await app.type('[data-testid="search"]', "N100");
    const row = '[data-testid="caseload-row"][data-mrn="N100"]';
    await app.waitFor("the new patient's row", async () => /PCL-5\s+42\s+→\s+42/.test(await app.text(`${row} [data-testid="other-scales"]`)));
    await app.screenshot("enrol-5-caseload-pcl5");
    await app.click(row);
    await app.waitFor("the chart again", async () => (await app.text('[data-testid="patient-name"]')) === "Nora Quinn");

    // Demographics and the care team can be edited; the core audits what changed.
    await app.click('[data-testid="edit-patient"]');
    await app.clear('[data-testid="edit-name"]');
    await app.type('[data-testid="edit-name"]', "Nora Quinn-Baker");
    await app.click('[data-testid="save-edit"]');
    await app.waitFor("the new name", async () => (await app.text('[data-testid="patient-name"]')) === "Nora Quinn-Baker");
    const edit = audit(db)[0];
    assert.deepEqual([edit.action, edit.record_type, edit.details.name.to], ["update", "patient", "Nora Quinn-Baker"]);

    // A goals-met discharge goes through relapse prevention (the core refuses the shortcut).
    await app.click('[data-testid="change-status"]');
    await app.select('[data-testid="status-to"]', "discharged");
    await app.select('[data-testid="status-reason"]', "goals-met");
    await app.click('[data-testid="save-status"]');
    assert.match(await app.text('[data-testid="form-error"]'), /moves to relapse-prevention before discharge/);
    await app.select('[data-testid="status-to"]', "relapse-prevention");
    await app.click('[data-testid="save-status"]');
    await app.waitFor("relapse prevention", async () => /relapse-prevention/.test(await app.text('[data-testid="episode-status"]')));
    await app.click('[data-testid="change-status"]');
    await app.select('[data-testid="status-to"]', "discharged");
    await app.select('[data-testid="status-reason"]', "goals-met");
    await app.click('[data-testid="save-status"]');
    await app.waitFor("the discharge", async () => /Discharged .* \(goals-met\)/.test(await app.text('[data-testid="episode-status"]')));
    await app.screenshot("enrol-6-discharged");

    const episodes = cli(db, "patient", "show", "N100").episodes;
    assert.deepEqual(episodes[0].status_history.map((s) => s.status), ["active", "relapse-prevention", "discharged"]);
    assert.equal(audit(db)[0].actor, "Ana Morales");

    // A wrong discharge is undone: marked entered in error (a reason is required), the episode
    // is back in relapse prevention, and the discharge stays on the chart, struck out.
    await app.click('[data-testid="void-status-change"]');
    await app.click('[data-testid="void-confirm"]');
    assert.equal(await app.text('[data-testid="void-error"]'), "reason: say why the entry is in error");
    await app.type('[data-testid="void-reason"]', "discharged the wrong patient");
    await app.click('[data-testid="void-confirm"]');
    await app.waitFor("the episode to reopen", async () => /^relapse-prevention/.test(await app.text('[data-testid="episode-status"]')));
    assert.equal(await app.text('[data-testid="notice"]'), "The status change is marked entered in error.");
    assert.match(await app.text('[data-testid="episodes"]'), /→ discharged \(goals-met\)\s*entered in error: discharged the wrong patient/);
    await app.screenshot("enrol-7-discharge-undone");
    const reopened = cli(db, "patient", "show", "N100").episodes[0];
    assert.deepEqual(
      [reopened.status, reopened.discharge_date, reopened.status_history[2].entered_in_error.reason],
      ["relapse-prevention", null, "discharged the wrong patient"],
    );
    assert.deepEqual(audit(db)[0].record_type, "status-change");
  });
});
