// The widget's calls to Switchboard: its config, a visitor session, page
// reports. Everything else goes through the shared live client.

import { readJson, store } from "./storage";

export interface Config {
  inbox_id: string;
  name?: string;
  color?: string;
  greeting?: string;
  position?: "left" | "right";
  launcher_text?: string;
  agents?: { name: string; avatar_url?: string }[];
  reply_time?: "minutes" | "hours" | "day";
  prechat?: "off" | "name" | "name_email";
  offline_message?: string;
  http_only?: boolean;
  language?: string;
}

export interface Saved {
  token: string;
  visitor_id: string | null;
  conversation_id: string;
  /** The last seq the visitor has seen with the panel open. */
  seen: number;
  name: string;
  email: string;
  /** A signed-in customer's `{user_id, user_hash}`, to renew their session. */
  identity: Record<string, string>;
}

export class Api {
  readonly key: string;
  saved: Partial<Saved>;

  constructor(readonly base: string, readonly inbox: string) {
    this.key = `switchboard:${inbox}`;
    this.saved = readJson<Saved>(this.key);
  }

  save(patch: Partial<Saved>): void {
    this.saved = { ...this.saved, ...patch };
    store.set(this.key, JSON.stringify(this.saved));
  }

  auth(): Record<string, string> {
    return { authorization: `Bearer ${this.saved.token ?? ""}` };
  }

  async json(path: string, init?: RequestInit): Promise<Response> {
    // A GET without a content type is a simple request: no preflight.
    const type: Record<string, string> = init?.body ? { "content-type": "application/json" } : {};
    return fetch(this.base + path, { ...init, headers: { ...type, ...(init?.headers ?? {}) } });
  }

  /**
   * A 30-second, single-use ticket for one socket: the visitor token stays
   * in headers, never in a URL. A refusal carries its status (401: a new
   * session is needed).
   */
  async ticket(): Promise<string> {
    const r = await this.json("/api/widget/ticket", { method: "POST", headers: this.auth() });
    if (!r.ok) throw Object.assign(new Error(`the server answered ${r.status}`), { status: r.status });
    const t = await r.json();
    return String(t.ticket);
  }

  async config(): Promise<Config | null> {
    const r = await this.json(`/api/widget/${encodeURIComponent(this.inbox)}/config`);
    return r.ok ? r.json() : null;
  }

  /** A session for `identity` (or the stored visitor id); false when refused. */
  async session(identity: Record<string, string> = this.saved.identity ?? {}): Promise<boolean> {
    const body = identity.user_id ? identity : { visitor_id: this.saved.visitor_id ?? undefined, ...identity };
    const r = await this.json(`/api/widget/${encodeURIComponent(this.inbox)}/session`, {
      method: "POST",
      body: JSON.stringify(body),
    });
    if (!r.ok) return false;
    const s = await r.json();
    const fresh = s.conversation_id !== this.saved.conversation_id;
    this.save({
      token: s.token,
      visitor_id: s.visitor_id ?? this.saved.visitor_id ?? null,
      conversation_id: s.conversation_id,
      identity: identity.user_id ? { user_id: identity.user_id, user_hash: identity.user_hash ?? "" } : {},
      ...(fresh ? { seen: 0 } : {}),
    });
    return true;
  }

  /** A page view or heartbeat; answers whether chat is available now. */
  async visit(kind: "view" | "heartbeat"): Promise<{ status: number; available?: boolean }> {
    const page =
      kind === "view"
        ? {
            url: location.href,
            title: document.title,
            referrer: document.referrer,
            language: navigator.language,
            time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone ?? "",
          }
        : {};
    try {
      const r = await this.json("/api/widget/visit", {
        method: "POST",
        headers: this.auth(),
        body: JSON.stringify({ kind, ...page }),
      });
      return r.ok ? { status: 200, ...(await r.json()) } : { status: r.status };
    } catch {
      return { status: 0 };
    }
  }

  /** The page closes: a beacon (it cannot carry headers, so the token rides in the body). */
  leave(): void {
    const body = JSON.stringify({ kind: "leave", token: this.saved.token });
    try {
      navigator.sendBeacon(this.base + "/api/widget/visit", new Blob([body], { type: "text/plain" }));
    } catch {
      /* best effort: heartbeats stopping says the same, later */
    }
  }
}
