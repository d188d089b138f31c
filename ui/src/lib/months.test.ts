import { describe, expect, it } from "vitest";
import { monthLabel, monthRange, percent, recentMonths } from "./months";

describe("month picker", () => {
  it("lists the current month and those before it, across a year end", () => {
    expect(recentMonths(new Date(2026, 1, 15), 4)).toEqual(["2026-02", "2026-01", "2025-12", "2025-11"]);
  });
  it("labels months for people", () => {
    expect(monthLabel("2026-10")).toBe("October 2026");
  });

  it("gives a month's first and last day, leap years and year ends included", () => {
    expect(monthRange("2026-02")).toEqual(["2026-02-01", "2026-02-28"]);
    expect(monthRange("2024-02")).toEqual(["2024-02-01", "2024-02-29"]);
    expect(monthRange("2026-12")).toEqual(["2026-12-01", "2026-12-31"]);
  });

  it("shows a rate as a whole percentage, and no rate as a dash", () => {
    expect(percent(63)).toBe("63 %");
    expect(percent(0)).toBe("0 %");
    expect(percent(null)).toBe("—");
  });
});
