// The widget on the page: a launcher and a chat panel in a shadow
// root, a live stream of its one conversation, a send queue, and the
// monitoring beacon. Text from anyone is only ever a text node.

import { LiveStream, SendQueue, postJson } from "../../live/index";
import type { Frame, LiveEvent, Outgoing } from "../../live/index";
import { Api, type Config } from "./api";
import { h, show } from "./dom";
import { strings, type Strings } from "./i18n";
import { store } from "./storage";
import { css } from "./style";
import { attachButton, attachmentNode, upload, type Attachment } from "./attachments";

interface Message {
  id: string;
  seq: number;
  direction: string;
  kind: string;
  text: string;
  platform_id?: string | null;
  /** An agent's reply in the visitor's language, when the workspace translates. */
  translation?: { text?: string } | null;
  content?: { attachment?: Attachment };
}

/** What the visitor reads: an agent's reply as it was sent to them (translated), else as written. */
const shownText = (m: Message): string => (m.direction === "outbound" && m.translation?.text) || m.text;

type Listener = (data?: unknown) => void;

const HEARTBEAT_MS = 20_000;

export class Widget {
  readonly t: Strings;
  private readonly host = document.createElement("switchboard-widget");
  private readonly launcher: HTMLButtonElement;
  private readonly badge: HTMLElement;
  private readonly panel: HTMLElement;
  private readonly log: HTMLElement;
  private readonly typing: HTMLElement;
  private readonly info: HTMLElement;
  private readonly slot: HTMLElement;
  private readonly foot: HTMLElement;
  private readonly input: HTMLTextAreaElement;
  private seenNote: HTMLElement | null = null;
  private stream: LiveStream | null = null;
  private queue: SendQueue;
  private listeners = new Map<string, Set<Listener>>();
  private shown = new Map<string, HTMLElement>();
  private isOpen = false;
  private available = true;
  private wrote = false;
  private agentWrote = false;
  private leftMessage = false;
  private unread = 0;
  private lastInbound = 0;
  private agentRead = 0;
  private typingTimer = 0;
  private typedAt = 0;
  private heartbeat = 0;

  constructor(
    private readonly api: Api,
    private readonly config: Config,
  ) {
    const t = (this.t = strings(config.language, navigator.languages ?? [navigator.language]));
    const color = /^#[0-9a-f]{6}$/i.test(config.color ?? "") ? config.color! : "#2563eb";
    const root = this.host.attachShadow({ mode: "open" });
    const sheet = css(color, config.position === "left");
    if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function") {
      const s = new CSSStyleSheet();
      s.replaceSync(sheet);
      root.adoptedStyleSheets = [s];
    } else root.append(h("style", {}, sheet));

    this.badge = h("span", { class: "badge", "aria-hidden": "true", hidden: true });
    this.launcher = h(
      "button",
      { class: "launcher", type: "button", "aria-expanded": "false", click: () => this.toggle() },
      config.launcher_text || t.launcher,
      this.badge,
    );
    const faces = h("div", { class: "faces", "aria-hidden": "true" });
    for (const a of (config.agents ?? []).slice(0, 3)) {
      faces.append(
        h("span", { class: "face" }, a.avatar_url ? h("img", { src: a.avatar_url, alt: "" }) : a.name.slice(0, 1)),
      );
    }
    const names = (config.agents ?? []).map((a) => a.name).join(", ");
    const reply = config.reply_time ? t[config.reply_time] : "";
    this.log = h("div", { class: "log", role: "log", "aria-label": t.messages, "aria-live": "polite" });
    this.log.append(h("div", { class: "msg out" }, config.greeting || t.greeting));
    this.typing = h("div", { class: "note left", hidden: true }, t.typing);
    this.info = h("p", { class: "info", hidden: true });
    this.slot = h("div");
    this.input = h("textarea", {
      "aria-label": t.message,
      rows: "1",
      keydown: (e: Event) => {
        const k = e as KeyboardEvent;
        if (k.key === "Enter" && !k.shiftKey) {
          k.preventDefault();
          this.sendTyped();
        }
      },
      input: () => this.typed(),
    });
    this.foot = h(
      "div",
      { class: "foot" },
      attachButton(t, (f) => void this.sendFile(f)),
      this.input,
      h("button", { type: "button", click: () => this.sendTyped() }, t.send),
    );
    this.panel = h(
      "section",
      { class: "panel", role: "dialog", "aria-label": config.name || t.title, hidden: true },
      h(
        "div",
        { class: "head" },
        faces,
        h("div", {}, h("h2", {}, config.name || t.title), h("p", {}, names && reply ? `${names} · ${reply}` : names || reply)),
        h("button", { class: "x", type: "button", "aria-label": t.close, click: () => this.close() }, "×"),
      ),
      this.log,
      this.typing,
      this.info,
      this.slot,
      this.foot,
    );
    root.append(this.launcher, this.panel);

    this.queue = new SendQueue({
      storage: store,
      key: `${api.key}:outbox`,
      post: (item) => postJson(api.base + item.path, item.body, api.auth()),
      onSent: (item) => this.emit("message:sent", { text: item.body.text }),
      onFailed: (item) => this.markFailed(item),
    });
    for (const item of this.queue.pending) this.showPending(item);
  }

  // ---- the public API ------------------------------------------------------

  on(name: string, fn: Listener): void {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name)!.add(fn);
  }

  off(name: string, fn: Listener): void {
    this.listeners.get(name)?.delete(fn);
  }

  open(): void {
    if (this.isOpen) return;
    this.isOpen = true;
    show(this.panel, true);
    this.launcher.setAttribute("aria-expanded", "true");
    this.markSeen();
    this.render();
    this.emit("widget:opened");
  }

  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    show(this.panel, false);
    this.launcher.setAttribute("aria-expanded", "false");
    this.emit("widget:closed");
  }

  toggle(): void {
    if (this.isOpen) this.close();
    else this.open();
  }

  /** A signed-in customer: `user_hash` is the business's HMAC of `user_id`. */
  async identify(who: { user_id?: string; user_hash?: string; name?: string; email?: string }): Promise<boolean> {
    const identity: Record<string, string> = {};
    for (const [k, v] of Object.entries(who)) if (typeof v === "string" && v) identity[k] = v;
    const before = this.api.saved.conversation_id;
    if (!(await this.api.session(identity))) return false;
    if (who.name || who.email) this.api.save({ name: who.name ?? "", email: who.email ?? "" });
    if (this.api.saved.conversation_id !== before) this.restart();
    return true;
  }

  // ---- lifecycle -------------------------------------------------------------

  /** The settings page's live preview: drawn and opened, never connected;
   * `available` false shows the offline form. */
  preview(available: boolean): void {
    document.body.append(this.host);
    this.available = available;
    this.input.disabled = true;
    this.open();
  }

  /** Gone from the page (the preview redraws with new settings). */
  destroy(): void {
    this.stream?.stop();
    clearInterval(this.heartbeat);
    this.host.remove();
  }

  async start(): Promise<void> {
    document.body.append(this.host);
    let v = await this.api.visit("view");
    if (v.status === 401 || v.status === 404) {
      // The token expired or names an inbox that changed: a new session
      // with the same visitor id continues the same conversation.
      if (await this.api.session()) v = await this.api.visit("view");
    }
    if (v.status === 403 || v.status === 401) {
      this.host.remove();
      return;
    }
    this.available = v.available ?? true;
    this.listen();
    this.heartbeat = window.setInterval(async () => {
      const b = await this.api.visit("heartbeat");
      if (b.available !== undefined && b.available !== this.available) {
        this.available = b.available;
        this.render();
      }
    }, HEARTBEAT_MS);
    addEventListener("pagehide", () => this.api.leave());
    addEventListener("online", () => this.queue.flush());
    this.render();
  }

  private listen(): void {
    const api = this.api;
    this.stream = new LiveStream({
      endpoint: {
        socketUrl: async (since) =>
          `${api.base.replace(/^http/, "ws")}/api/widget/live?since=${since}&ticket=${encodeURIComponent(await api.ticket())}`,
        pollUrl: (since, wait) => `${api.base}/api/widget/events?since=${since}&wait=${wait}`,
        pollHeaders: () => api.auth(),
      },
      transport: this.config.http_only ? "http" : "auto",
      onEvent: (e) => this.apply(e),
      onFrame: (f) => this.frame(f),
      onStatus: (s) => {
        if (s === "live-websocket" || s === "live-http") this.queue.flush();
      },
      onFatal: async (err) => {
        if (err.status === 401 && (await api.session())) this.restart();
      },
    });
    this.stream.start();
  }

  private restart(): void {
    this.stream?.stop();
    this.shown.clear();
    while (this.log.childNodes.length > 1) this.log.lastChild!.remove();
    this.wrote = this.agentWrote = false;
    this.unread = this.lastInbound = this.agentRead = 0;
    this.seenNote = null;
    this.listen();
    this.render();
  }

  // ---- events ------------------------------------------------------------------

  private apply(e: LiveEvent): void {
    if (e.type === "message_created") {
      const m = e.message as Message;
      if (!m || m.kind === "note") return;
      this.showMessage(m);
      if (m.direction === "inbound") {
        this.wrote = true;
        this.lastInbound = Math.max(this.lastInbound, m.seq);
      } else {
        this.agentWrote = true;
        if (m.seq > (this.api.saved.seen ?? 0)) this.arrived(m, e.at);
      }
      this.render();
    } else if (e.type === "read" && typeof e.reader === "string" && e.reader.startsWith("ag_")) {
      this.agentRead = Math.max(this.agentRead, Number(e.read_seq) || 0);
      this.render();
    }
  }

  /** A new agent message: seen at once when open; otherwise unread, a
   * sound, and — when the visitor has not written yet (an agent reaching
   * out) — the panel opens. */
  private arrived(m: Message, at: number): void {
    this.emit("message:received", { text: shownText(m) });
    if (this.isOpen) {
      this.markSeen();
      return;
    }
    this.unread++;
    if (Date.now() - at < 60_000) beep();
    if (!this.wrote) this.open();
  }

  private frame(f: Frame): void {
    if (f.type === "typing" && f.role === "agent") {
      show(this.typing, true);
      clearTimeout(this.typingTimer);
      this.typingTimer = window.setTimeout(() => show(this.typing, false), 4000);
    }
  }

  private markSeen(): void {
    this.unread = 0;
    const seq = this.stream?.lastSeq ?? 0;
    if (seq > (this.api.saved.seen ?? 0)) {
      this.api.save({ seen: seq });
      this.stream?.send({ type: "read", seq });
    }
  }

  // ---- messages ------------------------------------------------------------------

  private bubble(text: string, inbound: boolean): HTMLElement {
    const el = h("div", { class: `msg ${inbound ? "in" : "out"}` }, text);
    this.log.insertBefore(el, this.seenNote);
    this.log.scrollTop = this.log.scrollHeight;
    return el;
  }

  private showMessage(m: Message): void {
    const pending = m.platform_id?.startsWith("widget:") ? this.shown.get(`c:${m.platform_id.slice(7)}`) : undefined;
    if (pending) {
      if (pending.nextElementSibling?.classList.contains("sending")) pending.nextElementSibling.remove();
      this.shown.delete(`c:${m.platform_id!.slice(7)}`);
      this.shown.set(m.id, pending);
      this.withFile(pending, m);
      return;
    }
    if (!this.shown.has(m.id)) this.shown.set(m.id, this.withFile(this.bubble(shownText(m), m.direction === "inbound"), m));
  }

  /** Adds a message's stored file to its bubble (attachments.ts). */
  private withFile(el: HTMLElement, m: Message): HTMLElement {
    const node = attachmentNode(m.content?.attachment, m.kind, this.api, this.t);
    if (node && !el.querySelector(".file")) el.append(node);
    return el;
  }

  /** Uploads a file, then sends it with what is typed as its caption. */
  private async sendFile(file: File): Promise<void> {
    const up = await upload(this.api, file);
    if ("error" in up) {
      this.bubble(`${this.t.notSent} ${up.error}`, true).classList.add("failed");
      return;
    }
    const caption = this.input.value.trim();
    this.input.value = "";
    this.send(caption, { attachment_id: up.id });
    this.render();
  }

  private showPending(item: Outgoing): void {
    const el = this.bubble(String(item.body.text ?? "") || (item.body.attachment_id ? "📎" : ""), true);
    this.shown.set(`c:${item.client_id}`, el);
    el.after(h("div", { class: "note sending" }, this.t.sending));
  }

  private markFailed(item: Outgoing): void {
    const el = this.shown.get(`c:${item.client_id}`);
    const note = el?.nextElementSibling;
    if (note?.classList.contains("sending")) note.textContent = this.t.failed;
  }

  private send(text: string, extra: Record<string, unknown> = {}): void {
    const { name, email } = this.api.saved;
    // The browser's language is the customer's: agents' replies are translated into it.
    const body: Record<string, unknown> = { text, ...extra };
    if (/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$/.test(navigator.language ?? "")) body.language = navigator.language;
    if (name) body.name = name;
    if (email) body.email = email;
    this.wrote = true;
    this.showPending(this.queue.enqueue("/api/widget/messages", body));
  }

  private sendTyped(): void {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.value = "";
    this.send(text);
    this.render();
  }

  private typed(): void {
    const now = Date.now();
    if (now - this.typedAt > 3000) {
      this.typedAt = now;
      this.stream?.send({ type: "typing" });
    }
  }

  private emit(name: string, data?: unknown): void {
    for (const fn of this.listeners.get(name) ?? []) {
      try {
        fn(data);
      } catch {
        /* a host listener's error is not ours */
      }
    }
  }

  // ---- what the panel shows ---------------------------------------------------

  private render(): void {
    const t = this.t;
    this.badge.textContent = String(this.unread);
    show(this.badge, this.unread > 0);
    const label = this.config.launcher_text || t.launcher;
    if (this.unread > 0) this.launcher.setAttribute("aria-label", `${label} (${this.unread} ${t.unread})`);
    else this.launcher.removeAttribute("aria-label");
    // "Seen" under the visitor's last message once an agent read it.
    const seen = this.lastInbound > 0 && this.agentRead >= this.lastInbound;
    if (seen && !this.seenNote) {
      this.seenNote = h("div", { class: "note" }, t.seen);
      this.log.append(this.seenNote);
    } else if (!seen && this.seenNote) {
      this.seenNote.remove();
      this.seenNote = null;
    }
    if (!this.isOpen) return;
    const away = !this.available && !this.agentWrote && !this.leftMessage;
    const prechat = !away && (this.config.prechat ?? "off") !== "off" && !this.api.saved.name && !this.wrote;
    const mode = away ? "away" : prechat ? "prechat" : "chat";
    show(this.foot, mode === "chat");
    if (this.slot.dataset.mode !== mode) {
      this.slot.dataset.mode = mode;
      this.slot.replaceChildren(mode === "away" ? this.awayForm() : mode === "prechat" ? this.prechatForm() : "");
    }
    this.info.textContent = away ? this.config.offline_message || t.away : this.leftMessage ? t.thanks : "";
    show(this.info, !!this.info.textContent);
  }

  private field(label: string, name: string, type = "text", required = true): HTMLLabelElement {
    const input =
      type === "textarea"
        ? h("textarea", { name, required })
        : h("input", { name, type, required, value: (this.api.saved as Record<string, string>)[name] ?? "" });
    return h("label", {}, label, input);
  }

  private prechatForm(): HTMLFormElement {
    const t = this.t;
    const withEmail = this.config.prechat === "name_email";
    return h(
      "form",
      {
        class: "card",
        submit: (e: Event) => {
          e.preventDefault();
          const data = new FormData(e.target as HTMLFormElement);
          this.api.save({ name: String(data.get("name") ?? ""), email: String(data.get("email") ?? "") });
          this.render();
          this.input.focus();
        },
      },
      this.field(t.name, "name"),
      withEmail ? this.field(t.email, "email", "email") : null,
      h("button", { type: "submit" }, t.start),
    );
  }

  private awayForm(): HTMLFormElement {
    const t = this.t;
    return h(
      "form",
      {
        class: "card",
        submit: (e: Event) => {
          e.preventDefault();
          const data = new FormData(e.target as HTMLFormElement);
          const name = String(data.get("name") ?? "");
          const email = String(data.get("email") ?? "");
          this.api.save({ name, email });
          this.send(String(data.get("message") ?? ""), { offline: true });
          this.leftMessage = true;
          this.render();
        },
      },
      this.field(t.name, "name"),
      this.field(t.email, "email", "email"),
      this.field(t.message, "message", "textarea"),
      h("button", { type: "submit" }, t.leave),
    );
  }
}

/** A short, quiet chime for a message that arrives while the panel is closed. */
function beep(): void {
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    gain.gain.value = 0.04;
    osc.frequency.value = 880;
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.12);
    setTimeout(() => void ctx.close(), 500);
  } catch {
    /* no audio here */
  }
}
