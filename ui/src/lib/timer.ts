// The contact timer: started when the call begins, stopped when it ends; it fills in the
// minutes field (whole minutes, a started minute counts, at least 1).
export function elapsedMinutes(startedAt: number, now: number): number {
  const seconds = Math.max(0, (now - startedAt) / 1000);
  return Math.max(1, Math.ceil(seconds / 60));
}

export function clock(startedAt: number, now: number): string {
  const s = Math.max(0, Math.floor((now - startedAt) / 1000));
  const mm = String(Math.floor(s / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return `${mm}:${ss}`;
}

/** Today in the practice's local time, as the ISO date the core expects. */
export function todayIso(now = new Date()): string {
  const y = now.getFullYear();
  const m = String(now.getMonth() + 1).padStart(2, "0");
  const d = String(now.getDate()).padStart(2, "0");
  return `${y}-${m}-${d}`;
}
