import { describe, expect, it } from "vitest";
import type { Message } from "@api/client";
import { advances, applyEvent, emptyTimeline, layout, matchPending, upsertMessage } from "./timeline";

const msg = (seq: number, extra: Partial<Message> = {}): Message => ({
  id: `msg_${seq}`,
  conversation_id: "cv_1",
  seq,
  direction: "inbound",
  kind: "text",
  text: `m${seq}`,
  status: "received",
  created_at: 1_700_000_000_000 + seq * 1000,
  ...extra,
});
const created = (m: Message) => ({ seq: m.seq, at: m.created_at, type: "message_created", message: m });

describe("applyEvent", () => {
  it("applies each seq once and keeps messages in seq order", () => {
    const s = emptyTimeline();
    expect(applyEvent(s, created(msg(1)), null)).toBe(true);
    expect(applyEvent(s, created(msg(2)), null)).toBe(true);
    expect(applyEvent(s, created(msg(2)), null)).toBe(false);
    expect(applyEvent(s, created(msg(1)), null)).toBe(false);
    expect(s.messages.map((m) => m.seq)).toEqual([1, 2]);
  });
  it("merges a replayed create of a message already loaded from history", () => {
    const s = emptyTimeline();
    upsertMessage(s, msg(3, { direction: "outbound", status: "delivered" }), null);
    applyEvent(s, created(msg(3, { direction: "outbound", status: "pending" })), null);
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0]!.status).toBe("delivered");
  });
  it("moves statuses only forward and keeps the failure reason", () => {
    const s = emptyTimeline();
    applyEvent(s, created(msg(1, { direction: "outbound", status: "pending" })), null);
    applyEvent(s, { seq: 2, at: 0, type: "message_status", message_id: "msg_1", status: "read" }, null);
    applyEvent(s, { seq: 3, at: 0, type: "message_status", message_id: "msg_1", status: "delivered" }, null);
    expect(s.messages[0]!.status).toBe("read");
    const f = emptyTimeline();
    applyEvent(f, created(msg(1, { direction: "outbound", status: "pending" })), null);
    applyEvent(f, { seq: 2, at: 0, type: "message_status", message_id: "msg_1", status: "failed", error: "blocked" }, null);
    expect(f.messages[0]).toMatchObject({ status: "failed", error: "blocked" });
  });
  it("puts a translation that arrives later beside the original, a later one replacing it", () => {
    const s = emptyTimeline();
    applyEvent(s, created(msg(1, { text: "Wo ist meine Bestellung?" })), null);
    applyEvent(s, { seq: 2, at: 0, type: "message_translated", message_id: "msg_1", translation: { lang: "en", source: "de", error: "the service failed", pending: true } }, null);
    expect(s.messages[0]!.translation).toMatchObject({ pending: true });
    applyEvent(s, { seq: 3, at: 0, type: "message_translated", message_id: "msg_1", translation: { lang: "en", source: "de", text: "Where is my order?", provider: "libretranslate" } }, null);
    expect(s.messages[0]).toMatchObject({ text: "Wo ist meine Bestellung?", translation: { text: "Where is my order?" } });
    expect(s.messages[0]!.translation!.pending).toBeUndefined();
  });
  it("records activity lines in seq order", () => {
    const s = emptyTimeline();
    applyEvent(s, { seq: 5, at: 1, type: "assigned", assignee: "ag_1", by: "ag_2" }, null);
    applyEvent(s, { seq: 6, at: 2, type: "conversation_status", status: "resolved", by: "ag_2" }, null);
    expect(s.activities.map((a) => [a.seq, a.type])).toEqual([
      [5, "assigned"],
      [6, "conversation_status"],
    ]);
  });
});

describe("optimistic replies", () => {
  it("are matched by client_id", () => {
    const s = emptyTimeline();
    s.pending.push({ client_id: "c1", text: "hello", kind: "text", created_at: 0 });
    applyEvent(s, created(msg(4, { direction: "outbound", text: "hello", client_id: "c1", sender_id: "ag_me", status: "pending" })), "ag_me");
    expect(s.pending).toHaveLength(0);
    expect(s.messages).toHaveLength(1);
  });
  it("without a client_id, by the same author, kind and text", () => {
    const pending = [
      { client_id: "c1", text: "one", kind: "text" as const, created_at: 0 },
      { client_id: "c2", text: "two", kind: "text" as const, created_at: 0 },
    ];
    expect(matchPending(pending, msg(1, { direction: "outbound", text: "two", sender_id: "ag_me" }), "ag_me")).toBe(1);
    expect(matchPending(pending, msg(1, { direction: "outbound", text: "two", sender_id: "ag_other" }), "ag_me")).toBe(-1);
    expect(matchPending(pending, msg(1, { direction: "inbound", text: "two" }), "ag_me")).toBe(-1);
    expect(matchPending(pending, msg(1, { direction: "outbound", kind: "note", text: "two", sender_id: "ag_me" }), "ag_me")).toBe(-1);
  });
});

describe("advances", () => {
  it("never revives a failed message and never fails a read one", () => {
    expect(advances("pending", "sent")).toBe(true);
    expect(advances("failed", "sent")).toBe(false);
    expect(advances("read", "failed")).toBe(false);
    expect(advances("sent", "failed")).toBe(true);
  });
});

describe("layout", () => {
  it("puts a day separator before each new day and folds reactions onto their message", () => {
    const day = 86_400_000;
    const a = msg(1, { platform_id: "p1", created_at: Date.UTC(2026, 0, 1, 12) });
    const r = msg(2, { kind: "reaction", content: { kind: "reaction", emoji: "👍", target_platform_id: "p1" }, created_at: a.created_at + 1000 });
    const b = msg(3, { reply_to: "p1", created_at: a.created_at + day });
    const items = layout([a, r, b], [{ seq: 4, at: b.created_at + 1, type: "conversation_status", status: "resolved" }], "UTC");
    expect(items.map((i) => i.type)).toEqual(["day", "message", "day", "message", "activity"]);
    const first = items[1] as Extract<(typeof items)[number], { type: "message" }>;
    expect(first.reactions).toEqual(["👍"]);
    const reply = items[3] as Extract<(typeof items)[number], { type: "message" }>;
    expect(reply.quote?.id).toBe("msg_1");
  });
});
