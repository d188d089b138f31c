// The practice lead's import wizard: a sample file's columns guessed from its headers, a
// problem shown by row and column and fixed by mapping another column, the preview as the
// registry will store it, then the import, and the patients on the caseload.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { cli, demoRegistry, withApp } from "./driver.mjs";

const SEEDS = resolve(import.meta.dirname, "../../seeds/import");

test("practice lead: import a patients file through the wizard, all or nothing", async () => {
  const db = demoRegistry();
  // The sample with one row's care manager misspelt: the wizard must show it and refuse.
  const file = join(dirname(db), "patients.csv");
  writeFileSync(file, readFileSync(join(SEEDS, "patients.csv"), "utf8").replace("I003,Riley Haddad,07/21/1990,Medicaid,Chloe Nguyen", "I003,Riley Haddad,07/21/1990,Medicaid,Chloe Nguyn"));
  await withApp("import", { db, as: "Morgan Grant" }, async (app) => {
    await app.click('[data-testid="nav-import"]');
    // The native file dialog is outside WebDriver's reach; the path field takes the same path.
    await app.type('[data-testid="import-path"]', file);
    await app.click('[data-testid="import-check"]');
    await app.find('[data-testid="import-mapping"]');
    // The guess maps the headers the sample uses.
    assert.equal(await app.script("return document.querySelector('[data-testid=map-dob]').value"), "DOB");
    assert.equal(await app.script("return document.querySelector('[data-testid=map-care_manager]').value"), "Care Manager");
    // Row 4 (the third patient) names no such team member: shown, and Import is disabled.
    await app.find('[data-testid="import-problems"]');
    assert.match(await app.text('[data-testid="import-problems"]'), /Row 4, column Care Manager: no team member with id or name 'Chloe Nguyn'/);
    assert.equal(await app.script("return document.querySelector('[data-testid=import-run]').disabled"), true);
    await app.screenshot("import-1-problem");

    // Leaving the care manager unmapped clears the problem; the preview shows the rows as stored.
    await app.select('[data-testid="map-care_manager"]', "");
    await app.waitFor("no problems", async () => !(await app.script("return !!document.querySelector('[data-testid=import-problems]')")));
    assert.match(await app.text('[data-testid="import-summary"]'), /5 rows: would add 5 patients, 4 enrolments; already there: nothing/);
    assert.match(await app.text('[data-testid="import-preview"]'), /new patient Avery Stone \(MRN I001\), born 1961-03-14, medicare, PCP Dr\. Priya Patel, consultant Dr\. Sam Rivera; enrolled 2026-08-03, consent 2026-08-03, treating depression/);
    // The mapping is kept by name for next month's file.
    await app.type('[data-testid="mapping-name"]', "Patients sheet");
    await app.click('[data-testid="save-mapping"]');
    await app.waitFor("the mapping saved", async () => /Saved as “Patients sheet”/.test(await app.text('[data-testid="save-notice"]')));
    await app.screenshot("import-2-preview");
    // Nothing is stored by looking.
    assert.ok(!cli(db, "caseload").some((r) => r.mrn === "I001"));

    await app.click('[data-testid="import-run"]');
    await app.find('[data-testid="import-result"]');
    assert.match(await app.text('[data-testid="import-result"]'), /Imported patients\.csv: 5 rows; added 5 patients, 4 enrolments/);
    await app.screenshot("import-3-done");
  });
  const saved = cli(db, "import", "mappings");
  assert.deepEqual(saved.map((m) => [m.name, m.mapping.columns.care_manager ?? null]), [["Patients sheet", null]]);
  const caseload = cli(db, "caseload");
  for (const mrn of ["I001", "I002", "I003", "I004"]) assert.ok(caseload.some((r) => r.mrn === mrn), mrn);
  // Each record's audit row names the file and its row.
  const created = cli(db, "audit", "--limit", "200").filter((e) => e.record_type === "patient" && /patients\.csv row/.test(JSON.stringify(e.details)));
  assert.equal(created.length, 5);
});

test("practice lead: import an Excel workbook's sheet, title row and date cells included", async () => {
  const db = demoRegistry();
  const file = join(dirname(db), "patients.xlsx");
  copyFileSync(join(SEEDS, "patients.xlsx"), file);
  await withApp("import-xlsx", { db, as: "Morgan Grant" }, async (app) => {
    await app.click('[data-testid="nav-import"]');
    await app.type('[data-testid="import-path"]', file);
    await app.click('[data-testid="import-check"]');
    await app.find('[data-testid="import-sheet"]');
    assert.equal(await app.script("return document.querySelector('[data-testid=import-sheet]').value"), "Caseload");
    // Row 3: the sheet's title is row 1 and its header row 2; the DOB cell is an Excel date.
    assert.match(await app.text('[data-testid="import-preview"]'), /3\s*new\s*new patient Avery Stone \(MRN I001\), born 1961-03-14/);
    await app.screenshot("import-4-workbook");
    await app.click('[data-testid="import-run"]');
    await app.find('[data-testid="import-result"]');
    assert.match(await app.text('[data-testid="import-result"]'), /Imported patients\.xlsx: 5 rows; added 5 patients, 4 enrolments/);
  });
  assert.ok(cli(db, "caseload").some((r) => r.mrn === "I004"));
});

test("practice lead: a tracking sheet's wide layout, a score group the guess missed mapped by hand", async () => {
  const db = demoRegistry();
  // The wide sample with its third group's headers unnumbered: the guess finds two groups.
  const file = join(dirname(db), "tracking.csv");
  writeFileSync(file, readFileSync(join(SEEDS, "wide.csv"), "utf8").replace("Date 3,PHQ-9 3,GAD-7 3", "Last visit,Last PHQ,Last GAD"));
  await withApp("import-wide", { db, as: "Morgan Grant" }, async (app) => {
    await app.click('[data-testid="nav-import"]');
    await app.select('[data-testid="import-shape"]', "wide");
    await app.type('[data-testid="import-path"]', file);
    await app.click('[data-testid="import-check"]');
    await app.find('[data-testid="import-groups"]');
    assert.equal(await app.script("return document.querySelector('[data-testid=group-2-date]').value"), "Date 2");
    assert.equal(await app.script("return !!document.querySelector('[data-testid=group-3-date]')"), false);
    assert.match(await app.text('[data-testid="import-summary"]'), /3 rows: would add 3 patients, 3 enrolments, 8 assessments/);

    // A group with no date column is named as the problem until its date is mapped.
    await app.click('[data-testid="group-add"]');
    await app.find('[data-testid="mapping-problem"]');
    assert.match(await app.text('[data-testid="mapping-problem"]'), /group 3: the date column is not mapped/);
    await app.select('[data-testid="group-3-date"]', "Last visit");
    await app.waitFor("the dry run again", async () => !(await app.script("return !!document.querySelector('[data-testid=mapping-problem]')")));
    await app.select('[data-testid="group-3-phq9"]', "Last PHQ");
    await app.waitFor("group 3's PHQ-9 mapped", async () => /9 assessments/.test(await app.text('[data-testid="import-summary"]')));
    await app.select('[data-testid="group-3-gad7"]', "Last GAD");
    // The third group's GAD-7s: W001's 6 of 2026-09-08 and W003's 5 of 2026-11-02 (the sample's rows 2 and 4).
    await app.waitFor("group 3's GAD-7 mapped", async () => /11 assessments/.test(await app.text('[data-testid="import-summary"]')));
    assert.match(await app.text('[data-testid="import-preview"]'), /PHQ-9 on 2026-09-08: 8 \(imported, total only\); GAD-7 on 2026-09-08: 6 \(imported, total only\)/);
    await app.screenshot("import-5-wide-groups");
    await app.click('[data-testid="import-run"]');
    await app.find('[data-testid="import-result"]');
    assert.match(await app.text('[data-testid="import-result"]'), /Imported tracking\.csv: 3 rows; added 3 patients, 3 enrolments, 11 assessments/);
  });
  const chart = cli(db, "patient", "show", "W001");
  const third = chart.assessments.filter((a) => a.date === "2026-09-08").map((a) => [a.instrument, a.total, a.total_only]).sort();
  assert.deepEqual(third, [["gad7", 6, true], ["phq9", 8, true]], "the third group's totals, stored as total-only scores");
});

test("practice lead: export the registry as FHIR, then check and import an EHR's Bundle", async () => {
  const db = demoRegistry();
  const out = join(dirname(db), "fhir-export");
  // The sample Bundle with its PHQ-9 total one off the items' sum: shown, and Import disabled.
  const wrong = join(dirname(db), "wrong-total.json");
  writeFileSync(wrong, readFileSync(join(SEEDS, "ehr-bundle.json"), "utf8").replace('"value": 10,', '"value": 12,'));
  await withApp("fhir", { db, as: "Morgan Grant" }, async (app) => {
    await app.click('[data-testid="nav-import"]');
    await app.type('[data-testid="fhir-export-dir"]', out);
    await app.click('[data-testid="fhir-export"]');
    await app.find('[data-testid="fhir-export-result"]');
    assert.match(await app.text('[data-testid="fhir-export-files"]'), /Patient\.ndjson\s*72\s*Coverage/);
    assert.match(await app.text('[data-testid="fhir-export-files"]'), /Observation\.ndjson\s*\d+/);
    // The same folder again is refused: an export never mixes with another.
    await app.click('[data-testid="fhir-export"]');
    await app.find('[data-testid="fhir-export-error"]');
    assert.match(await app.text('[data-testid="fhir-export-error"]'), /is not empty; export into a new or empty folder/);
    await app.screenshot("fhir-1-export");

    await app.type('[data-testid="fhir-import-path"]', wrong);
    await app.click('[data-testid="fhir-check"]');
    await app.find('[data-testid="fhir-problems"]');
    assert.match(await app.text('[data-testid="fhir-problems"]'), /wrong-total\.json entry \d+, Observation\/ehr-phq-panel: total 12 is not the PHQ-9's score of the item answers \(10\)/);
    assert.equal(await app.script("return document.querySelector('[data-testid=fhir-import]').disabled"), true);
    await app.screenshot("fhir-2-problem");

    await app.clear('[data-testid="fhir-import-path"]');
    await app.type('[data-testid="fhir-import-path"]', join(SEEDS, "ehr-bundle.json"));
    await app.click('[data-testid="fhir-check"]');
    await app.waitFor("the clean preview", async () => !(await app.script("return !!document.querySelector('[data-testid=fhir-problems]')")));
    const preview = await app.text('[data-testid="fhir-preview"]');
    assert.match(preview, /16 resources in ehr-bundle\.json: would add 1 patient, 1 episode, 2 assessments; already there: nothing/);
    assert.match(preview, /Skipped 1: AllergyIntolerance \(not kept by the registry\)/);
    // Nothing is stored by checking.
    assert.ok(!cli(db, "caseload").some((r) => r.mrn === "E001"));
    await app.click('[data-testid="fhir-import"]');
    await app.find('[data-testid="fhir-import-result"]');
    assert.match(await app.text('[data-testid="fhir-import-result"]'), /Imported 16 resources: added 1 patient, 1 episode, 2 assessments/);
    await app.screenshot("fhir-3-imported");
  });
  assert.ok(cli(db, "caseload").some((r) => r.mrn === "E001"), "the EHR's patient is on the caseload");
  const lines = readFileSync(join(out, "Patient.ndjson"), "utf8").trim().split("\n");
  assert.equal(lines.length, 72);
  const exported = cli(db, "audit", "--limit", "100").find((e) => e.action === "export" && e.record_type === "fhir");
  assert.equal(exported.details.resources.Patient, 72, "the export is audited with its counts");
});
