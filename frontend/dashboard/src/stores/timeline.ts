// The open conversation: its history (paged upward), its live stream, the
// replies on their way (optimistic, matched to the stored message by
// client_id), typing, and the agent's read position.
import { defineStore } from "pinia";
import type { LiveStream, LiveEvent, Frame, LiveStatus } from "@live/stream";
import { SendQueue, type Outgoing } from "@live/send-queue";
import { api, unwrap, rawJson, uploadAttachment, type Message } from "@api/client";
import { useSession } from "./session";
import { useConversations } from "./conversations";
import { openStream } from "./live";
import { useTranslation } from "./translation";
import { addActivity, applyEvent, emptyTimeline, upsertMessage, type LiveEventLike, type Pending } from "../lib/timeline";
import { storage } from "../lib/storage";

const PAGE = 50;
const TYPING_SHOWN_MS = 5000;
const TYPING_SENT_EVERY_MS = 2500;

let stream: LiveStream | null = null;
let queue: SendQueue | null = null;
let queueKey = "";
let lastTypingSent = 0;
let onlineHooked = false;
const parked: { item: Outgoing; error: string; status?: number }[] = [];
let readTimer: ReturnType<typeof setTimeout> | null = null;
let pendingRead: { id: string; seq: number } | null = null;

const messagesPath = (id: string) => `/api/conversations/${id}/messages`;

export const useTimeline = defineStore("timeline", {
  state: () => ({
    id: "",
    t: emptyTimeline(),
    loading: false,
    loadingOlder: false,
    hasOlder: false,
    error: "",
    status: "connecting" as LiveStatus,
    typing: {} as Record<string, { role: string; until: number }>,
    /** The 422 reason for a reply the channel cannot send now (a closed WhatsApp window). */
    refusal: "",
    /** Text handed back to the composer after a refusal. */
    returnedText: "",
    readSeq: 0,
    /** The message to scroll to (a search result). */
    focusSeq: 0,
    /** Bumped when a reply is sent, so the view scrolls to it. */
    sentTick: 0,
    /** Failed messages already sent again from here. */
    retried: [] as string[],
  }),
  getters: {
    summary(s) {
      return useConversations().byId[s.id];
    },
    typingNow(s): { who: string; role: string }[] {
      const now = Date.now();
      return Object.entries(s.typing)
        .filter(([, v]) => v.until > now)
        .map(([who, v]) => ({ who, role: v.role }));
    },
  },
  actions: {
    queue(): SendQueue {
      const me = useSession().meId ?? "anon";
      const key = `sb.outbox.${me}`;
      if (!queue || queueKey !== key) {
        queueKey = key;
        queue = new SendQueue({
          key,
          storage: { get: (k) => storage.get(k), set: (k, v) => storage.set(k, v) },
          post: async (item: Outgoing) => {
            try {
              const r = await rawJson<Message>("POST", item.path, item.body);
              if (r.status >= 200 && r.status < 300) return { ok: true as const, result: r.data };
              const error = (r.data as { error?: string } | null)?.error ?? `HTTP ${r.status}`;
              const retry = r.status >= 500 || r.status === 429 || r.status === 401 || r.status === 408;
              return { ok: false as const, retry, status: r.status, error };
            } catch (e) {
              return { ok: false as const, retry: true, error: e instanceof Error ? e.message : String(e) };
            }
          },
          onSent: (item, result) => this.sent(item, result as Message),
          onFailed: (item, error, status) => this.refused(item, error, status),
        });
        if (typeof window !== "undefined" && !onlineHooked) {
          // Replies typed offline go as soon as the network is back.
          onlineHooked = true;
          window.addEventListener("online", () => queue?.flush());
        }
      }
      return queue;
    },
    async open(id: string, focusSeq = 0) {
      if (this.id === id && stream && !this.error && !focusSeq) return;
      // The outbox is the agent's own: wait for the profile before reading it.
      if (!useSession().loggedIn || !useSession().meId) return;
      this.close();
      this.id = id;
      this.t = emptyTimeline();
      this.error = "";
      this.refusal = "";
      this.typing = {};
      this.readSeq = 0;
      this.focusSeq = focusSeq;
      this.retried = [];
      this.loading = true;
      const path = messagesPath(id);
      this.t.pending = this.queue()
        .pending.filter((o) => o.path === path)
        .map((o) => ({ client_id: o.client_id, text: String(o.body.text ?? ""), kind: o.body.kind === "note" ? "note" : "text", created_at: o.created_at }));
      for (const p of parked.filter((x) => x.item.path === path)) {
        parked.splice(parked.indexOf(p), 1);
        const text = String(p.item.body.text ?? "");
        if (p.status === 422) {
          this.refusal = p.error;
          this.returnedText = text;
        } else {
          this.t.pending.push({ client_id: p.item.client_id, text, kind: p.item.body.kind === "note" ? "note" : "text", created_at: p.item.created_at, failed: p.error });
        }
      }
      void useConversations().ensure(id).catch(() => undefined);
      let first: Message[] = [];
      try {
        const query = focusSeq ? { limit: PAGE, before: focusSeq + 1 } : { limit: PAGE };
        const r = await unwrap(api.GET("/api/conversations/{id}/messages", { params: { path: { id }, query } }));
        if (this.id !== id) return;
        first = (r?.messages ?? []) as Message[];
      } catch (e) {
        if (this.id !== id) return;
        this.error = e instanceof Error ? e.message : String(e);
        this.loading = false;
        return;
      }
      const me = useSession().meId;
      for (const m of first) upsertMessage(this.t, m, me);
      this.hasOlder = first.length === PAGE;
      this.loading = false;
      // Replay from just before the page: activity between its messages, and everything after.
      const since = first.length ? Math.max(0, first[0]!.seq - 1) : 0;
      this.t.lastSeq = since;
      stream = openStream(`/api/conversations/${id}/live`, `/api/conversations/${id}/events`, {
        since,
        onEvent: (e) => this.apply(id, e),
        onFrame: (f) => this.frame(id, f),
        onGone: (err) => {
          if (this.id === id) this.error = err.message || `HTTP ${err.status}`;
        },
        onStatus: (s) => {
          this.status = s;
          if (s === "live-websocket" || s === "live-http") queue?.flush();
        },
      });
    },
    /** Opens the same conversation again on fresh streams (a new connection choice). */
    async reopen() {
      const id = this.id;
      if (!id) return;
      this.close();
      await this.open(id);
    },
    close() {
      if (pendingRead) {
        const r = pendingRead;
        pendingRead = null;
        if (readTimer) clearTimeout(readTimer);
        if (r.seq > this.readSeq) void api.POST("/api/conversations/{id}/read", { params: { path: { id: r.id } }, body: { seq: r.seq } }).catch(() => undefined);
      }
      stream?.stop();
      stream = null;
      this.id = "";
    },
    apply(id: string, e: LiveEvent) {
      if (id !== this.id) return;
      const me = useSession().meId;
      applyEvent(this.t, e as LiveEventLike, me);
      const conv = useConversations();
      const held = conv.byId[id];
      // A translation or a customer's message can settle the customer's language: a conversation that did not know it asks again.
      if (e.type === "message_created" && (e.message as Message | undefined)?.direction === "inbound") useTranslation().learnLanguage(id);
      // A customer's message translated: detection may have moved the customer's language (the server decides; ask it).
      if (e.type === "message_translated" && this.t.messages.find((x) => x.id === e.message_id)?.direction === "inbound") useTranslation().refreshLanguage(id);
      if (e.type === "read" && e.reader === me) this.readSeq = Math.max(this.readSeq, Number(e.read_seq) || 0);
      if (held && e.type === "contact_updated" && e.contact) conv.byId[id] = { ...held, contact: e.contact as typeof held.contact };
      if (e.type === "message_created") {
        const m = e.message as Message | undefined;
        if (m?.direction === "inbound") delete this.typing[Object.keys(this.typing).find((k) => this.typing[k]!.role !== "agent") ?? ""];
      }
    },
    frame(id: string, f: Frame) {
      if (id !== this.id || f.type !== "typing") return;
      const who = String(f.who ?? "");
      if (!who || who === useSession().meId) return;
      this.typing = { ...this.typing, [who]: { role: String(f.role ?? ""), until: Date.now() + TYPING_SHOWN_MS } };
      setTimeout(() => (this.typing = { ...this.typing }), TYPING_SHOWN_MS + 50);
    },
    async loadOlder() {
      if (this.loadingOlder || !this.hasOlder || !this.id) return;
      const id = this.id;
      const oldest = this.t.messages[0]?.seq;
      if (!oldest) return;
      this.loadingOlder = true;
      try {
        const r = await unwrap(api.GET("/api/conversations/{id}/messages", { params: { path: { id }, query: { before: oldest, limit: PAGE } } }));
        if (this.id !== id) return;
        const page = (r?.messages ?? []) as Message[];
        const me = useSession().meId;
        for (const m of page) upsertMessage(this.t, m, me);
        this.hasOlder = page.length === PAGE;
        if (page.length) await this.loadActivities(id, page[0]!.seq, oldest);
      } catch (e) {
        this.error = e instanceof Error ? e.message : String(e);
      } finally {
        this.loadingOlder = false;
      }
    },
    /** Activity lines between `from` and `to` (history holds only messages). */
    async loadActivities(id: string, from: number, to: number) {
      let since = from - 1;
      for (let pages = 0; pages < 10 && since < to; pages++) {
        const r = await unwrap(api.GET("/api/conversations/{id}/events", { params: { path: { id }, query: { since, wait: 0 } } }));
        const events = (r?.events ?? []) as LiveEventLike[];
        if (this.id !== id || !events.length) return;
        for (const e of events) {
          if (e.seq >= to) return;
          if (e.type === "conversation_status" || e.type === "assigned" || e.type === "labels") addActivity(this.t, e);
        }
        since = events[events.length - 1]!.seq;
      }
    },
    /** `extra`: `{translate: false}` sends what the agent wrote even where the workspace translates. */
    send(text: string, kind: "text" | "note", extra: { translate?: boolean } = {}) {
      if (!this.id) return;
      this.refusal = "";
      const item = this.queue().enqueue(messagesPath(this.id), { text, kind, ...extra });
      this.t.pending.push({ client_id: item.client_id, text, kind, created_at: item.created_at });
      this.sentTick++;
    },
    /** Uploads `file`, then sends it as a reply with `caption` (refusals shown like a 422). */
    /** `extra` as for `send`: `{translate: false}` sends the caption as written. */
    async sendAttachment(file: File, caption: string, extra: { translate?: boolean } = {}) {
      const id = this.id;
      if (!id) return;
      this.refusal = "";
      try {
        const up = await uploadAttachment(id, file);
        if (this.id !== id) return;
        const item = this.queue().enqueue(messagesPath(id), { attachment_id: up.id, ...(caption ? { text: caption } : {}), ...extra });
        this.t.pending.push({ client_id: item.client_id, text: caption || up.filename, kind: "text", created_at: item.created_at });
        this.sentTick++;
      } catch (e) {
        if (this.id === id) this.refusal = e instanceof Error ? e.message : String(e);
        this.returnedText = caption;
      }
    },
    sent(item: Outgoing, m: Message) {
      if (item.path !== messagesPath(this.id)) return;
      const i = this.t.pending.findIndex((p) => p.client_id === item.client_id);
      if (i >= 0) this.t.pending.splice(i, 1);
      if (m && m.id) upsertMessage(this.t, m, useSession().meId);
    },
    refused(item: Outgoing, error: string, status?: number) {
      if (item.path !== messagesPath(this.id)) {
        // Refused while the agent looks elsewhere: shown when they come back to it.
        parked.push({ item, error, status });
        return;
      }
      const p = this.t.pending.find((x) => x.client_id === item.client_id);
      if (status === 422 && p) {
        // Not a failed send: the channel cannot take it now. Say why, give the text back.
        this.t.pending.splice(this.t.pending.indexOf(p), 1);
        this.refusal = error;
        this.returnedText = p.text;
      } else if (p) {
        p.failed = error;
      }
    },
    /** Sends a failed reply again (a new message: the failed one stays as it was). */
    retry(p: Pending | Message) {
      if (this.t.pending.includes(p as Pending)) this.t.pending.splice(this.t.pending.indexOf(p as Pending), 1);
      if ("id" in p) this.retried.push(p.id);
      const kind = "kind" in p && p.kind === "note" ? "note" : "text";
      this.send(p.text, kind);
    },
    discard(p: Pending) {
      const i = this.t.pending.indexOf(p);
      if (i >= 0) this.t.pending.splice(i, 1);
    },
    typingNowSent() {
      const now = Date.now();
      if (now - lastTypingSent < TYPING_SENT_EVERY_MS) return;
      lastTypingSent = now;
      stream?.send({ type: "typing" });
    },
    /** Records that the agent has seen everything up to the newest message. */
    markRead() {
      const last = this.t.messages[this.t.messages.length - 1]?.seq ?? 0;
      const seq = Math.max(last, this.t.lastSeq);
      if (!this.id) return;
      const conv = useConversations();
      if (conv.markedUnread.includes(this.id)) conv.markUnread(this.id, false);
      if (seq <= this.readSeq) return;
      const id = this.id;
      if (readTimer) clearTimeout(readTimer);
      pendingRead = { id, seq };
      // While messages stream in, one read position a second is enough (each is an event and an index update).
      readTimer = setTimeout(() => this.sendRead(), 800);
    },
    /** Sends the read position waiting in the debounce (at once when the conversation closes). */
    sendRead() {
      if (readTimer) clearTimeout(readTimer);
      readTimer = null;
      const r = pendingRead;
      pendingRead = null;
      if (!r) return;
      if (r.id === this.id) {
        if (r.seq <= this.readSeq) return;
        this.readSeq = r.seq;
        if (stream?.send({ type: "read", seq: r.seq })) return;
      }
      void api.POST("/api/conversations/{id}/read", { params: { path: { id: r.id } }, body: { seq: r.seq } }).catch(() => undefined);
    },
    flush() {
      if (useSession().meId) this.queue().flush();
    },
  },
});
