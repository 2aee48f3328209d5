// Messages typed while the network is down are kept and sent once, in the
// order they were typed. Each carries a client-generated `client_id` that
// stays the same on every retry, so the server stores a retried send once
// (the answer to a repeat is the stored message).

export interface Outgoing {
  client_id: string;
  /** The API path to POST to, e.g. `/api/conversations/cv_…/messages`. */
  path: string;
  /** What to POST; it carries `client_id` too. */
  body: Record<string, unknown>;
  created_at: number;
}

export type PostResult =
  | { ok: true; result: unknown }
  | { ok: false; retry: boolean; status?: number; error: string };

export interface QueueStorage {
  get(key: string): string | null;
  set(key: string, value: string): void;
}

export interface SendQueueOptions {
  /** Where pending sends survive a reload (localStorage); memory only when absent. */
  storage?: QueueStorage;
  key: string;
  post(item: Outgoing): Promise<PostResult>;
  onSent?(item: Outgoing, result: unknown): void;
  /** Refused for good (a 4xx): dropped from the queue, not retried. */
  onFailed?(item: Outgoing, error: string, status?: number): void;
  onChange?(pending: readonly Outgoing[]): void;
  // Seams for tests.
  newId?: () => string;
  now?: () => number;
  random?: () => number;
}

export class SendQueue {
  private items: Outgoing[];
  private busy = false;
  private attempts = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly opts: SendQueueOptions) {
    this.items = load(opts.storage, opts.key);
  }

  get pending(): readonly Outgoing[] {
    return this.items;
  }

  /** Queues a send and tries it at once. */
  enqueue(path: string, body: Record<string, unknown>): Outgoing {
    const client_id = this.opts.newId?.() ?? newClientId();
    const item: Outgoing = {
      client_id,
      path,
      body: { ...body, client_id },
      created_at: this.opts.now?.() ?? Date.now(),
    };
    this.items = [...this.items, item];
    this.changed();
    this.flush();
    return item;
  }

  /** Tries the oldest pending send now (on reconnect, on `online`). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.attempts = 0;
    }
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.items.length > 0) {
        const item = this.items[0]!;
        let outcome: PostResult;
        try {
          outcome = await this.opts.post(item);
        } catch (e) {
          outcome = { ok: false, retry: true, error: e instanceof Error ? e.message : String(e) };
        }
        if (!outcome.ok && outcome.retry) {
          // Keep the order: nothing after this one goes first.
          const step = Math.min(15_000, 500 * 2 ** Math.min(this.attempts, 5));
          const r = this.opts.random?.() ?? Math.random();
          this.attempts++;
          this.timer = setTimeout(() => {
            this.timer = null;
            void this.drain();
          }, Math.round(step * (0.5 + r / 2)));
          return;
        }
        this.attempts = 0;
        this.items = this.items.filter((i) => i.client_id !== item.client_id);
        this.changed();
        if (outcome.ok) this.opts.onSent?.(item, outcome.result);
        else this.opts.onFailed?.(item, outcome.error, outcome.status);
      }
    } finally {
      this.busy = false;
    }
  }

  private changed(): void {
    try {
      this.opts.storage?.set(this.opts.key, JSON.stringify(this.items));
    } catch {
      /* storage full or blocked: memory still has them */
    }
    this.opts.onChange?.(this.items);
  }
}

/** Posts JSON with `fetch` and sorts the answer into sent / retry / refused. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  fetchImpl: typeof fetch = (...a) => globalThis.fetch(...a),
): Promise<PostResult> {
  let r: Response;
  try {
    r = await fetchImpl(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  } catch (e) {
    return { ok: false, retry: true, error: e instanceof Error ? e.message : "network error" };
  }
  let json: unknown = null;
  try {
    json = await r.json();
  } catch {
    json = null;
  }
  if (r.ok) return { ok: true, result: json };
  const error =
    json && typeof (json as { error?: unknown }).error === "string"
      ? (json as { error: string }).error
      : `the server answered ${r.status}`;
  // 408, 429 and 5xx are worth another try; any other 4xx is final.
  const retry = r.status === 408 || r.status === 429 || r.status >= 500;
  return { ok: false, retry, status: r.status, error };
}

/** localStorage when the page may use it, else nothing (private modes, sandboxed iframes). */
export function browserStorage(): QueueStorage | undefined {
  try {
    const ls = globalThis.localStorage;
    const probe = "__sb_probe";
    ls.setItem(probe, "1");
    ls.removeItem(probe);
    return { get: (k) => ls.getItem(k), set: (k, v) => ls.setItem(k, v) };
  } catch {
    return undefined;
  }
}

function load(storage: QueueStorage | undefined, key: string): Outgoing[] {
  try {
    const raw = storage?.get(key);
    const parsed: unknown = raw ? JSON.parse(raw) : [];
    return Array.isArray(parsed)
      ? parsed.filter(
          (i): i is Outgoing =>
            !!i && typeof i.client_id === "string" && typeof i.path === "string" && typeof i.body === "object",
        )
      : [];
  } catch {
    return [];
  }
}

function newClientId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  const b = new Uint8Array(16);
  c.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
