// Sends typed while offline are kept, survive a reload, go out in order,
// and carry the same client_id on every retry.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SendQueue, postJson, type Outgoing, type PostResult } from "./send-queue";

function memoryStorage() {
  const m = new Map<string, string>();
  return { get: (k: string) => m.get(k) ?? null, set: (k: string, v: string) => void m.set(k, v), m };
}

let ids = 0;
const newId = () => `c${++ids}`;

beforeEach(() => {
  vi.useFakeTimers();
  ids = 0;
});
afterEach(() => vi.useRealTimers());

describe("SendQueue", () => {
  it("retries a failed send with the same client_id until it lands, then reports it once", async () => {
    const tries: string[] = [];
    let down = 2;
    const sent = vi.fn();
    const q = new SendQueue({
      key: "k",
      newId,
      random: () => 0.5,
      post: async (item) => {
        tries.push(item.body.client_id as string);
        return down-- > 0 ? { ok: false, retry: true, error: "offline" } : { ok: true, result: { id: "msg_1" } };
      },
      onSent: sent,
    });
    q.enqueue("/api/conversations/cv_1/messages", { text: "hello" });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(tries).toEqual(["c1", "c1", "c1"]);
    expect(sent).toHaveBeenCalledOnce();
    expect(q.pending).toHaveLength(0);
  });

  it("keeps the order: a later message waits for the earlier one", async () => {
    const order: string[] = [];
    let online = false;
    const q = new SendQueue({
      key: "k",
      newId,
      random: () => 0.5,
      post: async (item) => {
        if (!online) return { ok: false, retry: true, error: "offline" };
        order.push(item.body.text as string);
        return { ok: true, result: null };
      },
    });
    q.enqueue("/p", { text: "first" });
    q.enqueue("/p", { text: "second" });
    await vi.advanceTimersByTimeAsync(100);
    expect(q.pending.map((i) => i.body.text)).toEqual(["first", "second"]);
    online = true;
    q.flush();
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(["first", "second"]);
  });

  it("survives a reload through storage and sends what was pending", async () => {
    const storage = memoryStorage();
    const first = new SendQueue({
      key: "drafts",
      storage,
      newId,
      random: () => 0.5,
      post: async () => ({ ok: false, retry: true, error: "offline" }),
    });
    first.enqueue("/p", { text: "typed offline" });
    await vi.advanceTimersByTimeAsync(0);
    const posted: Outgoing[] = [];
    const second = new SendQueue({
      key: "drafts",
      storage,
      post: async (item) => {
        posted.push(item);
        return { ok: true, result: null };
      },
    });
    expect(second.pending.map((i) => i.client_id)).toEqual(["c1"]);
    second.flush();
    await vi.advanceTimersByTimeAsync(0);
    expect(posted.map((i) => i.body)).toEqual([{ text: "typed offline", client_id: "c1" }]);
    expect(JSON.parse(storage.m.get("drafts")!)).toEqual([]);
  });

  it("drops a refused send (4xx) and reports its reason", async () => {
    const failed = vi.fn();
    const q = new SendQueue({
      key: "k",
      newId,
      post: async (): Promise<PostResult> => ({ ok: false, retry: false, status: 422, error: "the 24-hour window is closed" }),
      onFailed: failed,
    });
    q.enqueue("/p", { text: "late" });
    await vi.advanceTimersByTimeAsync(0);
    expect(failed).toHaveBeenCalledWith(expect.objectContaining({ client_id: "c1" }), "the 24-hour window is closed", 422);
    expect(q.pending).toHaveLength(0);
  });

  it("ignores corrupt storage", () => {
    const storage = memoryStorage();
    storage.set("k", "{oops");
    expect(new SendQueue({ key: "k", storage, post: async () => ({ ok: true, result: null }) }).pending).toEqual([]);
  });
});

describe("postJson", () => {
  const answer = (status: number, body: unknown) =>
    (async () => new Response(JSON.stringify(body), { status })) as unknown as typeof fetch;

  it("sorts answers into sent, retry and refused", async () => {
    expect(await postJson("http://x/p", {}, {}, answer(201, { id: "m" }))).toEqual({ ok: true, result: { id: "m" } });
    expect(await postJson("http://x/p", {}, {}, answer(503, { error: "busy" }))).toMatchObject({ ok: false, retry: true, status: 503 });
    expect(await postJson("http://x/p", {}, {}, answer(429, { error: "slow down" }))).toMatchObject({ ok: false, retry: true });
    expect(await postJson("http://x/p", {}, {}, answer(400, { error: "text must be 1 to 4096 characters" }))).toEqual({
      ok: false,
      retry: false,
      status: 400,
      error: "text must be 1 to 4096 characters",
    });
    const down = (async () => {
      throw new TypeError("Failed to fetch");
    }) as unknown as typeof fetch;
    expect(await postJson("http://x/p", {}, {}, down)).toMatchObject({ ok: false, retry: true });
  });
});
