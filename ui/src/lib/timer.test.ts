import { describe, expect, it } from "vitest";
import { clock, elapsedMinutes, todayIso } from "./timer";

describe("contact timer", () => {
  it("counts a started minute and never less than one", () => {
    expect(elapsedMinutes(0, 5_000)).toBe(1);
    expect(elapsedMinutes(0, 60_000)).toBe(1);
    expect(elapsedMinutes(0, 61_000)).toBe(2);
    expect(elapsedMinutes(0, 25 * 60_000)).toBe(25);
  });
  it("shows mm:ss", () => {
    expect(clock(0, 125_000)).toBe("02:05");
  });
  it("gives local ISO dates", () => {
    expect(todayIso(new Date(2026, 0, 5))).toBe("2026-01-05");
  });
});
