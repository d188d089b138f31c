import { describe, expect, it } from "vitest";
import { LeaveGuard } from "./leave-guard.svelte";

describe("leaving a form with unsaved input", () => {
  it("goes at once when nothing is typed", () => {
    const g = new LeaveGuard();
    let went = false;
    g.attempt(() => (went = true));
    expect(went).toBe(true);
  });
  it("waits for Discard, and Keep editing stays", () => {
    const g = new LeaveGuard();
    g.dirty = true;
    let went = 0;
    g.attempt(() => went++);
    expect(went).toBe(0);
    g.keep();
    expect(g.pending).toBeNull();
    g.attempt(() => went++);
    g.discard();
    expect(went).toBe(1);
    expect(g.dirty).toBe(false);
  });
});
