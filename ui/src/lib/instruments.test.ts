import { describe, expect, it } from "vitest";
import { answersOf, formsToRecord, labelOf } from "./instruments";

const option = (score: number, label: string) => ({ score, label });
const form = (id: string, scale: string, respondent: string, kind = "measure") => ({
  id, label: id.toUpperCase(), scale, respondent, kind, options: [option(0, "No"), option(1, "Yes")], items: [],
});

describe("answersOf", () => {
  it("takes an item's own answers where it lists them, else the form's", () => {
    const f = { options: [option(0, "Not at all"), option(3, "Nearly every day")], items: [
      { number: 1, text: null, code: null, scored: true, options: [] },
      { number: 2, text: null, code: null, scored: true, options: [option(0, "Never"), option(4, "Daily")] },
    ] };
    expect(answersOf(f, 0).map((o) => o.score)).toEqual([0, 3]);
    expect(answersOf(f, 1).map((o) => o.label)).toEqual(["Never", "Daily"]);
  });
});

describe("formsToRecord", () => {
  const forms = [
    form("phq9", "phq9", "patient"), form("gad7", "gad7", "patient"), form("phq2", "phq2", "patient", "screen"),
    form("smfq-c", "smfq", "patient"), form("smfq-p", "smfq", "caregiver"), form("psc17", "psc17", "caregiver"),
  ];
  it("offers a paired primary scale's both forms first", () => {
    const { primary } = formsToRecord(forms, ["smfq"]);
    expect(primary.map((f) => f.id)).toEqual(["smfq-c", "smfq-p"]);
  });
  it("groups the rest by respondent, patient first, screens last", () => {
    const { others } = formsToRecord(forms, ["smfq"]);
    expect(others.map((g) => [g.respondent, g.forms.map((f) => f.id)])).toEqual([
      ["patient", ["phq9", "gad7", "phq2"]],
      ["caregiver", ["psc17"]],
    ]);
  });
  it("labels an unknown id by itself", () => {
    expect(labelOf(forms, "gad7")).toBe("GAD7");
    expect(labelOf(forms, "epds")).toBe("epds");
  });
});
