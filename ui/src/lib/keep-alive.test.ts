import { describe, expect, it } from "vitest";
import { KEEP_ALIVE_MS, keepAliveDue } from "./keep-alive";

describe("keeping a practice server's session alive while the screen is in use", () => {
  it("touches only after input since the last touch", () => {
    // Touched at 0, no input since: 10 minutes later nothing is sent, the session may end.
    expect(keepAliveDue(0, 0, 600_000)).toBe(false);
    // Input at 1 s after the touch at 0: due once the touch is 30 s old, not before.
    expect(keepAliveDue(1_000, 0, KEEP_ALIVE_MS - 1)).toBe(false);
    expect(keepAliveDue(1_000, 0, KEEP_ALIVE_MS)).toBe(true);
  });
  it("keeps the last touch at or after the last input", () => {
    // Input at 59 s, last touch at 30 s: the next touch is due at 60 s, after the input.
    let lastTouch = 30_000;
    const lastInput = 59_000;
    let now = 59_000;
    while (!keepAliveDue(lastInput, lastTouch, now)) now += 2_000; // the shell's 2-second tick
    lastTouch = now;
    expect(lastTouch).toBeGreaterThanOrEqual(lastInput);
    expect(keepAliveDue(lastInput, lastTouch, lastTouch + 600_000)).toBe(false);
  });
});
