import { describe, expect, it } from "vitest";
import { applyEvent, emptyTimeline } from "./timeline";
import type { Message } from "@api/client";

const image = (attachment: Record<string, unknown>): Message =>
  ({ id: "msg_1", conversation_id: "cv_1", seq: 1, direction: "inbound", kind: "image", text: "", status: "received", created_at: 0, content: { kind: "image", attachment } }) as Message;

describe("message_updated", () => {
  it("swaps the platform's link for the stored copy and keeps the rest", () => {
    const s = emptyTimeline();
    applyEvent(s, { seq: 1, at: 0, type: "message_created", message: image({ url: "https://cdn.example/x.png", state: "pending", id: "at_1" }) }, null);
    applyEvent(s, { seq: 2, at: 0, type: "message_translated", message_id: "msg_1", translation: { lang: "en", text: "hi" } }, null);
    applyEvent(s, { seq: 3, at: 0, type: "message_updated", message: image({ url: "/api/attachments/at_1", state: "stored", size: 9 }) }, null);
    expect(s.messages).toHaveLength(1);
    expect((s.messages[0]!.content as { attachment: { url: string; state: string } }).attachment).toMatchObject({ url: "/api/attachments/at_1", state: "stored" });
    expect(s.messages[0]!.translation?.text).toBe("hi");
    // A replayed update (same seq) changes nothing; one for an unknown message adds none.
    expect(applyEvent(s, { seq: 3, at: 0, type: "message_updated", message: image({ state: "failed" }) }, null)).toBe(false);
    applyEvent(s, { seq: 4, at: 0, type: "message_updated", message: { ...image({}), id: "msg_9" } }, null);
    expect(s.messages.map((m) => m.id)).toEqual(["msg_1"]);
  });
});
