import { describe, expect, it } from "vitest";
import type { ConversationSummary } from "@api/client";
import { appendPage, defaultFilters, listQuery, matches, mergeSummary } from "./list";

const conv = (id: string, updated_at: number, extra: Partial<ConversationSummary> = {}): ConversationSummary => ({
  id,
  inbox_id: "in_1",
  channel: "messenger",
  contact: { external_id: id },
  status: "open",
  assignee: null,
  labels: [],
  unread: 0,
  last_seq: updated_at,
  updated_at,
  ...extra,
});
const ids = (l: ConversationSummary[]) => l.map((c) => c.id);

describe("matches", () => {
  it("checks status, view, channel, inbox and label", () => {
    const f = defaultFilters();
    expect(matches(conv("a", 1), f, "ag_me")).toBe(true);
    expect(matches(conv("a", 1, { status: "resolved" }), f, "ag_me")).toBe(false);
    expect(matches(conv("a", 1, { status: "resolved" }), { ...f, status: "all" }, "ag_me")).toBe(true);
    expect(matches(conv("a", 1, { assignee: "ag_other" }), { ...f, view: "mine" }, "ag_me")).toBe(false);
    expect(matches(conv("a", 1, { assignee: "ag_me" }), { ...f, view: "mine" }, "ag_me")).toBe(true);
    expect(matches(conv("a", 1, { assignee: "ag_me" }), { ...f, view: "unassigned" }, "ag_me")).toBe(false);
    expect(matches(conv("a", 1), { ...f, channel: "telegram" }, null)).toBe(false);
    expect(matches(conv("a", 1), { ...f, inbox: "in_2" }, null)).toBe(false);
    expect(matches(conv("a", 1, { labels: ["vip"] }), { ...f, label: "vip" }, null)).toBe(true);
    expect(matches(conv("a", 1), { ...f, label: "vip" }, null)).toBe(false);
  });
});

describe("mergeSummary", () => {
  const f = defaultFilters();
  const list = [conv("c", 30), conv("b", 20), conv("a", 10)];

  it("moves a conversation with new activity to the top", () => {
    expect(ids(mergeSummary(list, conv("a", 40), f, null, true))).toEqual(["a", "c", "b"]);
  });
  it("inserts a new conversation in order", () => {
    expect(ids(mergeSummary(list, conv("d", 25), f, null, true))).toEqual(["c", "d", "b", "a"]);
  });
  it("drops a conversation that no longer matches the filters", () => {
    expect(ids(mergeSummary(list, conv("b", 35, { status: "resolved" }), f, null, true))).toEqual(["c", "a"]);
  });
  it("ignores a summary older than the one held (the index never moves backwards)", () => {
    const held = [conv("a", 50, { last_seq: 9 })];
    expect(mergeSummary(held, conv("a", 60, { last_seq: 8 }), f, null, true)).toBe(held);
  });
  it("leaves out what sorts past the loaded page while more pages wait", () => {
    expect(ids(mergeSummary(list, conv("z", 5), f, null, false))).toEqual(["c", "b", "a"]);
    expect(ids(mergeSummary(list, conv("z", 5), f, null, true))).toEqual(["c", "b", "a", "z"]);
  });
  it("ignores a non-matching conversation it does not hold", () => {
    expect(mergeSummary(list, conv("x", 99, { status: "snoozed" }), f, null, true)).toBe(list);
  });
  it("breaks ties on updated_at by id, like the server", () => {
    expect(ids(mergeSummary([conv("b", 10)], conv("a", 10), f, null, true))).toEqual(["a", "b"]);
  });
});

describe("the offline filter", () => {
  it("moves rows already listed but cannot place new ones (a summary does not say it was left offline)", () => {
    const f = { ...defaultFilters(), offline: true };
    const list = [conv("b", 20), conv("a", 10)];
    expect(mergeSummary(list, conv("z", 99), f, null, true)).toBe(list);
    expect(ids(mergeSummary(list, conv("a", 30), f, null, true))).toEqual(["a", "b"]);
    expect(listQuery(f, null)).toEqual({ status: "open", offline: "true" });
  });
});

describe("appendPage", () => {
  it("skips rows the feed already placed", () => {
    expect(ids(appendPage([conv("a", 10)], [conv("a", 10), conv("b", 5)]))).toEqual(["a", "b"]);
  });
});

describe("listQuery", () => {
  it("maps views to the API's assignee filter", () => {
    expect(listQuery({ ...defaultFilters(), view: "unassigned" }, "ag_me")).toEqual({ status: "open", assignee: "none" });
    expect(listQuery({ ...defaultFilters(), view: "mine", label: "vip" }, "ag_me")).toEqual({ status: "open", assignee: "ag_me", label: "vip" });
  });
});
