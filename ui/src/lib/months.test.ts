import { describe, expect, it } from "vitest";
import { monthLabel, recentMonths } from "./months";

describe("month picker", () => {
  it("lists the current month and those before it, across a year end", () => {
    expect(recentMonths(new Date(2026, 1, 15), 4)).toEqual(["2026-02", "2026-01", "2025-12", "2025-11"]);
  });
  it("labels months for people", () => {
    expect(monthLabel("2026-10")).toBe("October 2026");
  });
});
