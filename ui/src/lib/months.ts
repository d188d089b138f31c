// The months a practice lead picks from: the current month and the 23 before it, newest first.
export function recentMonths(today: Date, count = 24): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const d = new Date(today.getFullYear(), today.getMonth() - i, 1);
    out.push(`${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`);
  }
  return out;
}

/** "2026-10" → "October 2026". */
export function monthLabel(month: string): string {
  const [y, m] = month.split("-").map(Number);
  return new Date(y, m - 1, 1).toLocaleDateString("en-US", { month: "long", year: "numeric" });
}

/** The first and last day of a month: "2026-02" → ["2026-02-01", "2026-02-28"]. */
export function monthRange(month: string): [string, string] {
  const [y, m] = month.split("-").map(Number);
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return [`${month}-01`, `${month}-${String(last).padStart(2, "0")}`];
}

/** A rate's whole percentage (rounded by the core, `Rate.percent`), or "—" when it has no denominator. */
export function percent(pct: number | null): string {
  return pct === null ? "—" : `${pct} %`;
}
