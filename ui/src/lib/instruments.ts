// Reading the core's instrument catalogue for display: which answers an item offers and which
// forms a patient's screen offers to record. Every score and rule stays in the core.
import type { AnswerOption } from "./bindings/AnswerOption";
import type { Form } from "./bindings/Form";

type Listed = Pick<Form, "id" | "label" | "scale" | "respondent" | "kind" | "options" | "items">;

/** The answers item `index` (from 0) offers: its own where it lists them, else the form's. */
export function answersOf(form: Pick<Form, "options" | "items">, index: number): AnswerOption[] {
  const own = form.items[index]?.options ?? [];
  return own.length > 0 ? own : form.options;
}

/** A form's short label by id ("PHQ-9"), or the id itself for a form this build lacks. */
export function labelOf(forms: Pick<Form, "id" | "label">[], id: string): string {
  return forms.find((f) => f.id === id)?.label ?? id;
}

/** The forms to offer on a patient's screen: the episode's primary scales' forms first (a
 *  paired scale offers both its child and parent forms), then every other form grouped by who
 *  answers it, the patient's before the caregiver's, screens last in each group. */
export function formsToRecord<F extends Listed>(forms: F[], primaryScales: string[]): { primary: F[]; others: { respondent: string; forms: F[] }[] } {
  const primary = forms.filter((f) => primaryScales.includes(f.scale));
  const rest = forms.filter((f) => !primaryScales.includes(f.scale));
  const groups = ["patient", "caregiver"].map((respondent) => ({
    respondent,
    forms: rest.filter((f) => f.respondent === respondent).sort((a, b) => Number(a.kind === "screen") - Number(b.kind === "screen")),
  }));
  return { primary, others: groups.filter((g) => g.forms.length > 0) };
}
