// The one live client of schema/PROTOCOL.md, shared by the dashboard and the
// widget. It owns the transport and nothing else: events go out through
// `onEvent`, exactly once and in `seq` order, whatever the network does.
//
// WebSocket first; long-poll when the socket cannot connect or keeps
// dropping (networks that kill long connections), with a fresh try of the
// socket now and then. Every (re)connect resumes from the last applied seq,
// so a drop costs a replay, never a gap or a double.

import { SeqGate } from "./seq-gate";

export interface LiveEvent {
  seq: number;
  at: number;
  type: string;
  [k: string]: unknown;
}

/** Ephemeral frames (typing, error): no seq, never replayed. */
export interface Frame {
  type: string;
  [k: string]: unknown;
}

export type TransportChoice = "auto" | "websocket" | "http";
export type LiveStatus = "connecting" | "live-websocket" | "live-http" | "reconnecting" | "stopped";

export interface Endpoint {
  /**
   * Absolute ws:// or wss:// URL for events after `since`, auth included.
   * Browsers' endpoints fetch a single-use ticket for it (never a token in
   * a URL), hence the promise; a rejection with a `status` of 401, 403 or
   * 404 stops the stream as a refused socket would.
   */
  socketUrl(since: number): string | Promise<string>;
  /** Absolute URL of the long-poll twin, held up to `wait` seconds. */
  pollUrl(since: number, wait: number): string;
  pollHeaders?(): Record<string, string>;
}

export interface LiveStreamOptions {
  endpoint: Endpoint;
  /** The last seq already applied (0: from the start). */
  since?: number;
  transport?: TransportChoice;
  /** Agents' streams are gapless: a jump means resume (see SeqGate). */
  contiguous?: boolean;
  onEvent(event: LiveEvent): void;
  onFrame?(frame: Frame): void;
  onStatus?(status: LiveStatus): void;
  /** The server refused the stream (401, 403, 404): it has stopped. */
  onFatal?(error: { status: number; message: string }): void;
  /** Reconnect on `online` and when the tab becomes visible (default: when there is a window). */
  watchBrowser?: boolean;
  // Seams for tests.
  WebSocket?: typeof WebSocket;
  fetch?: typeof fetch;
  heartbeatMs?: number;
  random?: () => number;
  now?: () => number;
}

/** Seconds a long-poll is held by the server (PROTOCOL.md allows up to 30). */
const POLL_WAIT = 25;
/** A socket that fails to open this many times in a row sends auto mode to HTTP. */
const OPEN_FAILURES_TO_FALL_BACK = 2;
/** …as do this many drops of young sockets within DROP_WINDOW_MS. */
const DROPS_TO_FALL_BACK = 3;
const DROP_WINDOW_MS = 60_000;
const YOUNG_SOCKET_MS = 10_000;
/** After falling back, auto mode tries the socket again this much later. */
const RETRY_SOCKET_AFTER_MS = 120_000;
const FATAL = new Set([401, 403, 404]);

export class LiveStream {
  private readonly gate: SeqGate;
  private readonly WS: typeof WebSocket;
  private readonly fetchImpl: typeof fetch;
  private readonly heartbeatMs: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly choice: TransportChoice;

  private mode: "websocket" | "http";
  private state: LiveStatus = "stopped";
  private running = false;
  /** Bumped on every (re)connect; callbacks of older attempts are ignored. */
  private generation = 0;
  private ws: WebSocket | null = null;
  private abort: AbortController | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private lastHeard = 0;
  private attempts = 0;
  private openFailures = 0;
  private drops: number[] = [];
  private socketAgainAt = 0;
  private unwatch: (() => void) | null = null;

  constructor(private readonly opts: LiveStreamOptions) {
    this.gate = new SeqGate(opts.since ?? 0, opts.contiguous ?? false);
    this.WS = opts.WebSocket ?? globalThis.WebSocket;
    this.fetchImpl = opts.fetch ?? ((...a) => globalThis.fetch(...a));
    this.heartbeatMs = opts.heartbeatMs ?? 20_000;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
    this.choice = opts.transport ?? "auto";
    this.mode = this.choice === "http" || !this.WS ? "http" : "websocket";
  }

  get lastSeq(): number {
    return this.gate.lastSeq;
  }

  get status(): LiveStatus {
    return this.state;
  }

  /** Which transport carries the stream now. */
  get transport(): "websocket" | "http" {
    return this.mode;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.setStatus("connecting");
    this.watch();
    this.connect();
  }

  stop(): void {
    this.running = false;
    this.teardown();
    this.unwatch?.();
    this.unwatch = null;
    this.setStatus("stopped");
  }

  /** Sends a frame over the open socket; false when the stream is not on one. */
  send(frame: object): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1 /* OPEN */) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  /** The network may be back (online, tab visible): check the socket, or retry now. */
  reconnectNow(): void {
    if (!this.running) return;
    if (this.ws && this.ws.readyState === 1) {
      // A socket can die silently while the laptop sleeps: a ping it cannot
      // answer soon is a dead socket.
      this.ws.send("ping");
      this.lastHeard = Math.min(this.lastHeard, this.now() - this.heartbeatMs * 2);
      return;
    }
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.attempts = 0;
      this.connect();
    }
  }

  // ---- internals ----------------------------------------------------------

  private setStatus(s: LiveStatus): void {
    if (s === this.state) return;
    this.state = s;
    this.opts.onStatus?.(s);
  }

  private watch(): void {
    const w = typeof window !== "undefined" ? window : undefined;
    if (!(this.opts.watchBrowser ?? !!w) || !w) return;
    const online = () => this.reconnectNow();
    const visible = () => {
      if (document.visibilityState === "visible") this.reconnectNow();
    };
    w.addEventListener("online", online);
    document.addEventListener("visibilitychange", visible);
    this.unwatch = () => {
      w.removeEventListener("online", online);
      document.removeEventListener("visibilitychange", visible);
    };
  }

  /** Closes whatever is open; callbacks of what it closed are ignored from now on. */
  private teardown(): void {
    this.generation++;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close();
      } catch {
        /* already closed */
      }
    }
    this.abort?.abort();
    this.abort = null;
  }

  private connect(): void {
    if (!this.running) return;
    this.teardown();
    const gen = this.generation;
    if (this.mode === "websocket") this.openSocket(gen);
    else void this.pollLoop(gen);
  }

  private retryLater(): void {
    if (!this.running) return;
    this.teardown();
    this.setStatus("reconnecting");
    // Full jitter over an exponential step, so a server restart is not met
    // by every client at the same instant.
    const step = Math.min(10_000, 300 * 2 ** Math.min(this.attempts, 6));
    const delay = Math.round(step * (0.5 + this.random() / 2));
    this.attempts++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  /** Applies what a transport delivered; false when the stream must resume. */
  private deliver(data: unknown): boolean {
    if (!data || typeof data !== "object") return true;
    const frame = data as Frame & { seq?: unknown };
    if (typeof frame.seq !== "number") {
      this.opts.onFrame?.(frame);
      return true;
    }
    const verdict = this.gate.offer(frame.seq);
    if (verdict === "apply") this.opts.onEvent(frame as LiveEvent);
    return verdict !== "gap";
  }

  private fatal(status: number, message: string): void {
    this.stop();
    this.opts.onFatal?.({ status, message });
  }

  // ---- WebSocket ----------------------------------------------------------

  private openSocket(gen: number): void {
    let url: string | Promise<string>;
    try {
      url = this.opts.endpoint.socketUrl(this.gate.lastSeq);
    } catch (e) {
      this.socketUrlFailed(gen, e);
      return;
    }
    if (typeof url === "string") {
      this.dial(gen, url);
      return;
    }
    url.then(
      (u) => {
        if (gen === this.generation && this.running) this.dial(gen, u);
      },
      (e) => {
        if (gen === this.generation && this.running) this.socketUrlFailed(gen, e);
      },
    );
  }

  /** The ticket for the socket was refused (fatal) or could not be had (a failed open). */
  private socketUrlFailed(gen: number, e: unknown): void {
    const status = (e as { status?: unknown } | null)?.status;
    if (typeof status === "number" && FATAL.has(status)) {
      this.fatal(status, e instanceof Error ? e.message : `the server answered ${status}`);
      return;
    }
    this.socketClosed(gen, false, 0);
  }

  private dial(gen: number, url: string): void {
    let ws: WebSocket;
    try {
      ws = new this.WS(url);
    } catch {
      this.socketClosed(gen, false, 0);
      return;
    }
    this.ws = ws;
    let openedAt = 0;
    ws.onopen = () => {
      if (gen !== this.generation) return;
      openedAt = this.now();
      this.lastHeard = openedAt;
      this.openFailures = 0;
      this.attempts = 0;
      this.setStatus("live-websocket");
      this.heartbeatTimer = setInterval(() => this.heartbeat(gen), this.heartbeatMs);
    };
    ws.onmessage = (m: MessageEvent) => {
      if (gen !== this.generation) return;
      this.lastHeard = this.now();
      if (typeof m.data !== "string" || m.data === "pong") return;
      let data: unknown;
      try {
        data = JSON.parse(m.data);
      } catch {
        return;
      }
      if (!this.deliver(data)) this.retryLater();
    };
    ws.onclose = () => this.socketClosed(gen, openedAt > 0, openedAt);
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  private heartbeat(gen: number): void {
    const ws = this.ws;
    if (gen !== this.generation || !ws) return;
    if (this.now() - this.lastHeard > this.heartbeatMs * 2.5) {
      this.socketClosed(gen, true, 0);
      return;
    }
    try {
      ws.send("ping");
    } catch {
      /* onclose follows */
    }
  }

  private socketClosed(gen: number, opened: boolean, openedAt: number): void {
    if (gen !== this.generation || !this.running) return;
    const now = this.now();
    if (!opened) this.openFailures++;
    else if (openedAt > 0 && now - openedAt < YOUNG_SOCKET_MS) this.drops.push(now);
    this.drops = this.drops.filter((t) => now - t < DROP_WINDOW_MS);
    const fallBack =
      this.choice === "auto" &&
      (this.openFailures >= OPEN_FAILURES_TO_FALL_BACK || this.drops.length >= DROPS_TO_FALL_BACK);
    if (fallBack) {
      this.mode = "http";
      this.openFailures = 0;
      this.drops = [];
      this.socketAgainAt = now + RETRY_SOCKET_AFTER_MS;
      this.attempts = 0;
      this.connect();
      return;
    }
    if (!opened && this.choice === "websocket") {
      // An upgrade refused for auth looks like any failed socket: ask the
      // HTTP twin once so a revoked session stops instead of retrying forever.
      void this.probe();
      return;
    }
    this.retryLater();
  }

  private async probe(): Promise<void> {
    this.teardown();
    const gen = this.generation;
    this.setStatus("reconnecting");
    try {
      const r = await this.fetchImpl(this.opts.endpoint.pollUrl(this.gate.lastSeq, 0), {
        headers: this.opts.endpoint.pollHeaders?.() ?? {},
      });
      if (gen !== this.generation) return;
      if (FATAL.has(r.status)) {
        this.fatal(r.status, await errorText(r));
        return;
      }
    } catch {
      /* the network is down: retry the socket later */
    }
    if (gen === this.generation) this.retryLater();
  }

  // ---- long-poll ----------------------------------------------------------

  private async pollLoop(gen: number): Promise<void> {
    // The first request answers at once, so the status turns live without
    // waiting out a quiet conversation's long-poll.
    let wait = 0;
    while (gen === this.generation && this.running) {
      if (this.choice === "auto" && this.socketAgainAt > 0 && this.now() >= this.socketAgainAt) {
        this.socketAgainAt = 0;
        this.mode = "websocket";
        this.connect();
        return;
      }
      const ctrl = new AbortController();
      this.abort = ctrl;
      const guard = setTimeout(() => ctrl.abort(), (wait + 15) * 1000);
      let r: Response;
      try {
        r = await this.fetchImpl(this.opts.endpoint.pollUrl(this.gate.lastSeq, wait), {
          headers: this.opts.endpoint.pollHeaders?.() ?? {},
          signal: ctrl.signal,
        });
      } catch {
        clearTimeout(guard);
        if (gen === this.generation) this.retryLater();
        return;
      } finally {
        clearTimeout(guard);
      }
      if (gen !== this.generation) return;
      if (FATAL.has(r.status)) {
        this.fatal(r.status, await errorText(r));
        return;
      }
      let body: { events?: unknown[] } | null = null;
      try {
        body = r.ok ? await r.json() : null;
      } catch {
        body = null;
      }
      if (gen !== this.generation) return;
      if (!body || !Array.isArray(body.events)) {
        this.retryLater();
        return;
      }
      this.attempts = 0;
      this.setStatus("live-http");
      for (const e of body.events) {
        if (gen !== this.generation) return;
        if (!this.deliver(e)) break; // ask again from the last applied seq
      }
      wait = POLL_WAIT;
    }
  }
}

async function errorText(r: Response): Promise<string> {
  try {
    const body = await r.json();
    if (body && typeof body.error === "string") return body.error;
  } catch {
    /* not JSON */
  }
  return `the server answered ${r.status}`;
}
