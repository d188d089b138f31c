// How the caseload screen filters, searches and sorts the rows the core computed. Nothing
// here decides a flag or a score: it only arranges what the core returned.
import type { CaseloadRow } from "./bindings/CaseloadRow";
import type { Flag } from "./bindings/Flag";

export type SortKey =
  | "action"
  | "name"
  | "mrn"
  | "status"
  | "weeks"
  | "last_contact"
  | "follow_up_due"
  | "contacts"
  | "last_review"
  | "phq9"
  | "gad7"
  | "other_scales"
  | "measured";

export interface Filter {
  search: string;
  status: "" | "active" | "relapse-prevention";
  flag: "" | Flag;
}

export function matches(row: CaseloadRow, f: Filter): boolean {
  if (f.status && row.status !== f.status) return false;
  if (f.flag && !row.flags.includes(f.flag)) return false;
  const q = f.search.trim().toLowerCase();
  if (q && !row.name.toLowerCase().includes(q) && !row.mrn.toLowerCase().includes(q)) return false;
  return true;
}

type Value = string | number | null;

function value(row: CaseloadRow, key: SortKey): Value {
  switch (key) {
    case "name": return row.name.toLowerCase();
    case "mrn": return row.mrn;
    case "status": return row.status;
    case "weeks": return row.weeks_in_treatment;
    case "last_contact": return row.last_contact;
    case "follow_up_due": return row.follow_up_due;
    case "contacts": return row.contacts;
    case "last_review": return row.last_review;
    case "phq9": return row.phq9?.latest ?? null;
    case "gad7": return row.gad7?.latest ?? null;
    case "other_scales": return otherScales(row)[0]?.latest ?? null;
    case "measured": return row.latest_measurement;
    case "action": return null;
  }
}

/** The targets' primary-scale measures other than the PHQ-9 and GAD-7 (which have their own
 *  columns): a PTSD target's PCL-5, an adolescent's PHQ-A, a child's SMFQ. */
export function otherScales(row: CaseloadRow): CaseloadRow["measures"] {
  return row.measures.filter((m) => m.instrument !== "phq9" && m.instrument !== "gad7");
}

/** Sorted copy. "action" keeps the core's order (who needs action today first); blanks sort last. */
export function sorted(rows: CaseloadRow[], key: SortKey, ascending: boolean): CaseloadRow[] {
  if (key === "action") return ascending ? [...rows] : [...rows].reverse();
  const dir = ascending ? 1 : -1;
  return [...rows].sort((a, b) => {
    const va = value(a, key);
    const vb = value(b, key);
    if (va === vb) return a.name.localeCompare(b.name);
    if (va === null) return 1;
    if (vb === null) return -1;
    return (va < vb ? -1 : 1) * dir;
  });
}

/** The slice of rows to render in a scrolled window of fixed-height rows (virtualised list). */
export function visibleRange(total: number, scrollTop: number, viewport: number, rowHeight: number, overscan = 8) {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(total, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return { first, last, padTop: first * rowHeight, padBottom: (total - last) * rowHeight };
}

export const FLAG_LABELS: Record<Flag, string> = {
  safety: "Safety",
  "contact-overdue": "Contact overdue",
  "measurement-overdue": "Measurement overdue",
  "no-baseline": "No baseline",
  "review-overdue": "Review overdue",
  "not-improving": "Not improving",
  flagged: "Review requested",
  "consider-relapse-prevention": "Consider relapse prevention",
  "long-episode": "Long episode",
  inactive: "Inactive: consider discharge",
};
