import { describe, expect, it } from "vitest";
import { highlight, linkify, queryWords, safeHref } from "./text";
import { snoozeTimes } from "./snooze";
import { matchCanned } from "./canned";

describe("linkify", () => {
  it("makes only http(s) URLs links and keeps everything else as text", () => {
    expect(linkify("<img src=x onerror=alert(1)>")).toEqual([{ text: "<img src=x onerror=alert(1)>" }]);
    expect(linkify("see javascript:alert(1) or https://a.example/x?y=1.")).toEqual([
      { text: "see javascript:alert(1) or " },
      { text: "https://a.example/x?y=1", href: "https://a.example/x?y=1" },
      { text: "." },
    ]);
  });
  it("refuses other schemes as link targets", () => {
    expect(safeHref("javascript:alert(1)")).toBeUndefined();
    expect(safeHref("data:text/html,x")).toBeUndefined();
    expect(safeHref("http://ok.example/")).toBe("http://ok.example/");
  });
});

describe("highlight", () => {
  it("marks words that start with a query word, case-insensitively", () => {
    const pieces = highlight("My Pineapple order, pineapples!", queryWords("pineapp"));
    expect(pieces.filter((p) => p.mark).map((p) => p.text)).toEqual(["Pineapple", "pineapples"]);
    expect(pieces.map((p) => p.text).join("")).toBe("My Pineapple order, pineapples!");
  });
});

describe("snoozeTimes", () => {
  it("offers an hour from now, tomorrow 9:00 and next Monday 9:00, all in the future", () => {
    const now = new Date(2026, 11, 2, 15, 30).getTime(); // a Wednesday
    const t = snoozeTimes(now);
    expect(t.hour).toBe(now + 3_600_000);
    expect(new Date(t.tomorrow)).toEqual(new Date(2026, 11, 3, 9, 0));
    expect(new Date(t.nextWeek)).toEqual(new Date(2026, 11, 7, 9, 0));
  });
});

describe("matchCanned", () => {
  const all = [
    { id: "1", shortcode: "thanks", text: "Thank you!" },
    { id: "2", shortcode: "hours", text: "9 to 5" },
    { id: "3", shortcode: "shipping-hours", text: "Ships daily" },
  ];
  it("puts shortcodes starting with what was typed first, then those containing it", () => {
    expect(matchCanned(all, "hou").map((c) => c.id)).toEqual(["2", "3"]);
    expect(matchCanned(all, "").map((c) => c.id)).toEqual(["1", "2", "3"]);
    expect(matchCanned(all, "zzz")).toEqual([]);
  });
});
