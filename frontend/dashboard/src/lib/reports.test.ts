import { describe, expect, it } from "vitest";
import { bucketLabel, csvField, exactDuration, presetRange, rangeProblem, timeGrouping, toCsv, today } from "./reports";

describe("report ranges", () => {
  it("end today in the workspace's zone, not the browser's", () => {
    // 2026-12-01T20:00Z is already Dec 2 in Kolkata (UTC+05:30) and still Dec 1 in New York.
    const at = Date.UTC(2026, 11, 1, 20, 0);
    expect(today("Asia/Kolkata", at)).toBe("2026-12-02");
    expect(today("America/New_York", at)).toBe("2026-12-01");
    expect(today("Not/A_Zone", at)).toBe("2026-12-01");
  });
  it("cover whole local days, crossing months and leap days", () => {
    expect(presetRange("today", "2026-12-02")).toEqual({ from: "2026-12-02", to: "2026-12-02" });
    expect(presetRange("7d", "2026-12-02")).toEqual({ from: "2026-11-26", to: "2026-12-02" });
    expect(presetRange("30d", "2024-03-01")).toEqual({ from: "2024-02-01", to: "2024-03-01" });
    expect(presetRange("90d", "2026-03-31")).toEqual({ from: "2026-01-01", to: "2026-03-31" });
  });
  it("refuse what the server refuses", () => {
    expect(rangeProblem({ from: "2026-02-30", to: "2026-03-01" })).toBe("reports.errors.date");
    expect(rangeProblem({ from: "", to: "2026-03-01" })).toBe("reports.errors.date");
    expect(rangeProblem({ from: "2026-03-02", to: "2026-03-01" })).toBe("reports.errors.order");
    expect(rangeProblem({ from: "2025-01-01", to: "2026-01-02" })).toBe("reports.errors.tooLong");
    expect(rangeProblem({ from: "2025-01-01", to: "2026-01-01" })).toBe(null);
  });
  it("show one day by hour", () => {
    expect(timeGrouping({ from: "2026-12-02", to: "2026-12-02" })).toBe("hour");
    expect(timeGrouping({ from: "2026-12-01", to: "2026-12-02" })).toBe("day");
  });
});

describe("report figures as text", () => {
  it("durations are exact to the second", () => {
    expect(exactDuration(90_000, "en")).toBe("1 min 30 sec");
    expect(exactDuration(3_600_000 + 5_000, "en")).toBe("1 hr 5 sec");
    expect(exactDuration(0, "en")).toBe("0 sec");
    expect(exactDuration(null, "en")).toBe("—");
  });
  it("hour keys read as local hours, day keys as dates", () => {
    expect(bucketLabel("2026-12-01T09:00+05:30", "en")).toBe("09:00");
    expect(bucketLabel("2026-12-01", "en-US")).toBe("Dec 1");
  });
});

describe("CSV", () => {
  it("defuses cells a spreadsheet would run, like the server's export", () => {
    for (const bad of ["=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]) expect(csvField(bad).replace(/^"/, "").startsWith("'")).toBe(true);
    expect(csvField("Alice")).toBe("Alice");
    expect(csvField(42)).toBe("42");
  });
  it("quotes commas, quotes and line breaks", () => {
    expect(csvField('say "hi", twice')).toBe('"say ""hi"", twice"');
    expect(toCsv([["a", 1], ["b\nc", null]])).toBe('a,1\r\n"b\nc",\r\n');
  });
});
