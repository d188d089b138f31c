import { describe, expect, it } from "vitest";
import type { CaseloadRow } from "./bindings/CaseloadRow";
import { matches, sorted, visibleRange } from "./caseload-view";

function row(over: Partial<CaseloadRow>): CaseloadRow {
  return {
    mrn: "M1", name: "Pat", patient_id: "p", care_manager: null, status: "active", start_date: "2026-01-01",
    consent_date: null, targets: ["depression"], weeks_in_treatment: 3, last_contact: null, follow_up_due: "2026-01-15",
    contacts: 0, last_review: null, latest_measurement: null, phq9: null, gad7: null, measures: [], improved: false, response: false,
    remission: false, flags: [], new_answers: 0, ...over,
  };
}

describe("caseload filters", () => {
  const none = { search: "", status: "" as const, flag: "" as const };
  it("searches name and MRN, case-insensitively", () => {
    expect(matches(row({ name: "Maria Lopez" }), { ...none, search: "lop" })).toBe(true);
    expect(matches(row({ mrn: "D001" }), { ...none, search: "d00" })).toBe(true);
    expect(matches(row({ name: "Maria", mrn: "D001" }), { ...none, search: "zz" })).toBe(false);
  });
  it("filters by status and flag", () => {
    expect(matches(row({ status: "relapse-prevention" }), { ...none, status: "active" })).toBe(false);
    expect(matches(row({ flags: ["safety"] }), { ...none, flag: "safety" })).toBe(true);
    expect(matches(row({ flags: [] }), { ...none, flag: "safety" })).toBe(false);
  });
});

describe("caseload sorting", () => {
  const rows = [row({ name: "B", weeks_in_treatment: 5 }), row({ name: "A", weeks_in_treatment: 12 }), row({ name: "C", last_contact: "2026-02-01" })];
  it("keeps the core's action order by default", () => {
    expect(sorted(rows, "action", true).map((r) => r.name)).toEqual(["B", "A", "C"]);
  });
  it("sorts a column both ways and puts blanks last", () => {
    expect(sorted(rows, "weeks", false).map((r) => r.name)).toEqual(["A", "B", "C"]);
    expect(sorted(rows, "last_contact", true).map((r) => r.name)).toEqual(["C", "A", "B"]);
  });
});

describe("virtualised rows", () => {
  it("renders only the window plus overscan, padding the rest", () => {
    const r = visibleRange(10_000, 3_600, 720, 36, 8);
    expect(r.first).toBe(92);
    expect(r.last).toBe(128);
    expect(r.padTop + (r.last - r.first) * 36 + r.padBottom).toBe(360_000);
  });
  it("clamps at both ends", () => {
    expect(visibleRange(5, 0, 720, 36)).toMatchObject({ first: 0, last: 5, padTop: 0, padBottom: 0 });
  });
});
