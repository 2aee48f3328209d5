// The live client against a scripted server: resume from the last applied
// seq, de-duplication across reconnects, fallback to long-poll, fatal stops.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LiveStream, type LiveEvent, type LiveStatus } from "./stream";
import { SeqGate } from "./seq-gate";

/** A WebSocket double the test drives: open, deliver, drop. */
class FakeSocket {
  static all: FakeSocket[] = [];
  static refuse = false;
  readyState = 0;
  sent: string[] = [];
  onopen: ((e: unknown) => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: unknown) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
    queueMicrotask(() => {
      if (FakeSocket.refuse) this.drop();
      else {
        this.readyState = 1;
        this.onopen?.({});
      }
    });
  }
  get since(): number {
    return Number(new URL(this.url).searchParams.get("since"));
  }
  send(data: string) {
    this.sent.push(data);
  }
  push(...events: Array<Record<string, unknown>>) {
    for (const e of events) this.onmessage?.({ data: JSON.stringify(e) });
  }
  drop() {
    this.readyState = 3;
    this.onclose?.({});
  }
  close() {
    this.readyState = 3;
  }
  static last(): FakeSocket {
    return FakeSocket.all[FakeSocket.all.length - 1]!;
  }
}

const ev = (seq: number): LiveEvent => ({ seq, at: seq, type: "message_created" });
const endpoint = {
  socketUrl: (since: number) => `ws://x.test/live?since=${since}`,
  pollUrl: (since: number, wait: number) => `http://x.test/events?since=${since}&wait=${wait}`,
};

function make(extra: Partial<ConstructorParameters<typeof LiveStream>[0]> = {}) {
  const seen: number[] = [];
  const statuses: LiveStatus[] = [];
  const stream = new LiveStream({
    endpoint,
    WebSocket: FakeSocket as unknown as typeof WebSocket,
    onEvent: (e) => seen.push(e.seq),
    onStatus: (s) => statuses.push(s),
    random: () => 0.5,
    watchBrowser: false,
    ...extra,
  });
  return { stream, seen, statuses };
}

/** Lets microtasks and due timers run. */
async function settle(ms = 0) {
  await vi.advanceTimersByTimeAsync(ms);
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.all = [];
  FakeSocket.refuse = false;
});
afterEach(() => {
  vi.useRealTimers();
});

describe("SeqGate", () => {
  it("applies each seq once, in order", () => {
    const g = new SeqGate(0);
    expect([1, 2, 2, 1, 3].map((s) => g.offer(s))).toEqual(["apply", "apply", "duplicate", "duplicate", "apply"]);
    expect(g.lastSeq).toBe(3);
  });
  it("reports a jump on a gapless stream and does not apply it", () => {
    const g = new SeqGate(4, true);
    expect(g.offer(6)).toBe("gap");
    expect(g.lastSeq).toBe(4);
    expect(g.offer(5)).toBe("apply");
  });
  it("accepts holes on a visitor's stream but never goes backwards", () => {
    const g = new SeqGate(0, false);
    expect([2, 5, 4, 9].map((s) => g.offer(s))).toEqual(["apply", "apply", "duplicate", "apply"]);
  });
  it("drops seqs that are not safe integers", () => {
    const g = new SeqGate(0);
    expect(g.offer(Number.NaN)).toBe("duplicate");
    expect(g.offer(1.5)).toBe("duplicate");
  });
});

describe("LiveStream over WebSocket", () => {
  it("resumes from the last applied seq after a drop and drops the replayed overlap", async () => {
    const { stream, seen } = make({ since: 3 });
    stream.start();
    await settle();
    expect(FakeSocket.last().since).toBe(3);
    FakeSocket.last().push(ev(4), ev(5));
    FakeSocket.last().drop();
    await settle(1000);
    const second = FakeSocket.last();
    expect(FakeSocket.all).toHaveLength(2);
    expect(second.since).toBe(5);
    // A server that replays a little too much: nothing is doubled.
    second.push(ev(4), ev(5), ev(6));
    expect(seen).toEqual([4, 5, 6]);
    expect(stream.lastSeq).toBe(6);
    stream.stop();
  });

  it("asks for a fresh ticket for every socket and resumes with it", async () => {
    let n = 0;
    const tickets: string[] = [];
    const { stream, seen } = make({
      endpoint: {
        ...endpoint,
        socketUrl: async (since: number) => {
          const t = `t${++n}`;
          tickets.push(t);
          return `ws://x.test/live?since=${since}&ticket=${t}`;
        },
      },
    });
    stream.start();
    await settle();
    expect(FakeSocket.last().url).toBe("ws://x.test/live?since=0&ticket=t1");
    FakeSocket.last().push(ev(1), ev(2));
    FakeSocket.last().drop();
    await settle(1000);
    expect(FakeSocket.all).toHaveLength(2);
    expect(FakeSocket.last().url).toBe("ws://x.test/live?since=2&ticket=t2");
    expect(seen).toEqual([1, 2]);
    stream.stop();
  });

  it("stops when the ticket is refused for good, and retries when it could not be had", async () => {
    const fatal: number[] = [];
    let answer: "down" | "refused" = "down";
    const { stream } = make({
      transport: "websocket",
      onFatal: (e) => fatal.push(e.status),
      endpoint: {
        ...endpoint,
        socketUrl: async () => {
          throw answer === "down" ? new TypeError("network down") : Object.assign(new Error("token has expired"), { status: 401 });
        },
      },
      fetch: (async () => new Response("{}", { status: 200 })) as typeof fetch,
    });
    stream.start();
    await settle(2000);
    expect(fatal).toEqual([]);
    expect(stream.status).toBe("reconnecting");
    answer = "refused";
    await settle(20_000);
    expect(fatal).toEqual([401]);
    expect(stream.status).toBe("stopped");
    expect(FakeSocket.all).toHaveLength(0);
  });

  it("on a gap, reconnects from the last seq instead of applying past it", async () => {
    const { stream, seen } = make({ contiguous: true });
    stream.start();
    await settle();
    FakeSocket.last().push(ev(1), ev(3));
    await settle(1000);
    expect(seen).toEqual([1]);
    expect(FakeSocket.last().since).toBe(1);
    FakeSocket.last().push(ev(2), ev(3));
    expect(seen).toEqual([1, 2, 3]);
    stream.stop();
  });

  it("passes frames without seq through, and ignores pong and junk", async () => {
    const frames: unknown[] = [];
    const { stream, seen } = make({ onFrame: (f) => frames.push(f) });
    stream.start();
    await settle();
    const s = FakeSocket.last();
    s.onmessage?.({ data: "pong" });
    s.onmessage?.({ data: "{not json" });
    s.push({ type: "typing", who: "ag_1" });
    expect(frames).toEqual([{ type: "typing", who: "ag_1" }]);
    expect(seen).toEqual([]);
    stream.stop();
  });

  it("closes a socket that stops answering pings and resumes on a new one", async () => {
    const { stream } = make({ heartbeatMs: 1000 });
    stream.start();
    await settle();
    const first = FakeSocket.last();
    await settle(1000);
    expect(first.sent).toContain("ping");
    await settle(3000); // no pong for 2.5 heartbeats
    expect(FakeSocket.all.length).toBeGreaterThan(1);
    stream.stop();
  });

  it("backs off between failed reconnects", async () => {
    const { stream } = make({ transport: "websocket", fetch: (async () => new Response("{}", { status: 200 })) as typeof fetch });
    stream.start();
    await settle();
    FakeSocket.refuse = true;
    FakeSocket.last().drop();
    await settle(200);
    const early = FakeSocket.all.length;
    await settle(30_000);
    // Exponential: far fewer than one attempt per 200 ms over 30 s.
    expect(FakeSocket.all.length).toBeGreaterThan(early);
    expect(FakeSocket.all.length).toBeLessThan(15);
    stream.stop();
  });

  it("send() works only over an open socket", async () => {
    const { stream } = make();
    expect(stream.send({ type: "typing" })).toBe(false);
    stream.start();
    await settle();
    expect(stream.send({ type: "typing" })).toBe(true);
    expect(FakeSocket.last().sent).toContain('{"type":"typing"}');
    stream.stop();
    expect(stream.send({ type: "typing" })).toBe(false);
  });
});

/** A long-poll server holding a log; answers like the worker does. */
function pollServer(log: LiveEvent[], opts: { status?: number } = {}) {
  const calls: Array<{ since: number; wait: number }> = [];
  const fetchImpl = (async (input: RequestInfo | URL) => {
    const u = new URL(String(input));
    const since = Number(u.searchParams.get("since"));
    const wait = Number(u.searchParams.get("wait"));
    calls.push({ since, wait });
    if (opts.status) return new Response(JSON.stringify({ error: "token expired" }), { status: opts.status });
    const events = log.filter((e) => e.seq > since);
    if (events.length === 0 && wait > 0) await new Promise((r) => setTimeout(r, wait * 1000));
    return new Response(JSON.stringify({ events, last_seq: log.length }), { status: 200 });
  }) as typeof fetch;
  return { calls, fetchImpl };
}

describe("LiveStream over long-poll", () => {
  it("HTTP only: loops from the last seq, first answer at once", async () => {
    const log = [ev(1), ev(2)];
    const { calls, fetchImpl } = pollServer(log);
    const { stream, seen, statuses } = make({ transport: "http", fetch: fetchImpl });
    stream.start();
    await settle();
    expect(calls[0]).toEqual({ since: 0, wait: 0 });
    expect(seen).toEqual([1, 2]);
    expect(statuses).toContain("live-http");
    log.push(ev(3));
    await settle(26_000);
    expect(seen).toEqual([1, 2, 3]);
    expect(calls.every((c, i) => i === 0 || c.since >= 2)).toBe(true);
    expect(FakeSocket.all).toHaveLength(0);
    stream.stop();
  });

  it("auto: falls back to long-poll when the socket cannot connect, without losing the place", async () => {
    FakeSocket.refuse = true;
    const log = [ev(1), ev(2), ev(3)];
    const { fetchImpl, calls } = pollServer(log);
    const { stream, seen } = make({ since: 1, fetch: fetchImpl });
    stream.start();
    await settle(2000);
    expect(FakeSocket.all.length).toBe(2);
    expect(stream.transport).toBe("http");
    expect(calls[0]!.since).toBe(1);
    expect(seen).toEqual([2, 3]);
    stream.stop();
  });

  it("auto: falls back when the socket keeps dropping, then tries the socket again later", async () => {
    const log: LiveEvent[] = [];
    const { fetchImpl } = pollServer(log);
    const { stream } = make({ fetch: fetchImpl });
    stream.start();
    for (let i = 0; i < 3; i++) {
      await settle();
      FakeSocket.last().drop();
      await settle(3000);
    }
    expect(stream.transport).toBe("http");
    const sockets = FakeSocket.all.length;
    await settle(125_000);
    expect(FakeSocket.all.length).toBe(sockets + 1);
    expect(stream.transport).toBe("websocket");
    stream.stop();
  });

  it("stops and reports when the server refuses the stream", async () => {
    const { fetchImpl } = pollServer([], { status: 401 });
    const fatal = vi.fn();
    const { stream, statuses } = make({ transport: "http", fetch: fetchImpl, onFatal: fatal });
    stream.start();
    await settle();
    expect(fatal).toHaveBeenCalledWith({ status: 401, message: "token expired" });
    expect(stream.status).toBe("stopped");
    expect(statuses.at(-1)).toBe("stopped");
  });

  it("WebSocket only: a refused upgrade is checked over HTTP so a revoked session stops", async () => {
    FakeSocket.refuse = true;
    const { fetchImpl } = pollServer([], { status: 401 });
    const fatal = vi.fn();
    const { stream } = make({ transport: "websocket", fetch: fetchImpl, onFatal: fatal });
    stream.start();
    await settle(100);
    expect(fatal).toHaveBeenCalledOnce();
    expect(stream.status).toBe("stopped");
  });

  it("a dropped poll retries from the same seq and delivers nothing twice", async () => {
    const log = [ev(1), ev(2)];
    let failNext = 1;
    const { fetchImpl: inner } = pollServer(log);
    const fetchImpl = (async (...a: Parameters<typeof fetch>) => {
      if (failNext-- > 0) throw new TypeError("network down");
      return inner(...a);
    }) as typeof fetch;
    const { stream, seen } = make({ transport: "http", fetch: fetchImpl });
    stream.start();
    await settle(1000);
    expect(seen).toEqual([1, 2]);
    stream.stop();
  });
});
