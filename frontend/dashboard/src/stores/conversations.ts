// The conversation list: a page-by-page load of the filtered list, kept live
// by the workspace feed (each summary checked against the filters before it
// enters), plus a cache of every summary seen, which the conversation view
// and the tab title read.
import { defineStore } from "pinia";
import type { LiveStream, LiveEvent, LiveStatus } from "@live/stream";
import { api, unwrap, type ConversationSummary } from "@api/client";
import { useSession } from "./session";
import { usePresence } from "./presence";
import { openStream } from "./live";
import { appendPage, defaultFilters, isNewer, listQuery, matches, mergeSummary, removeConversation, type Filters } from "../lib/list";
import { storage } from "../lib/storage";
import { notifyIncoming } from "../composables/notify";

const PAGE = 30;
const FILTERS_KEY = "sb.filters";
const UNREAD_KEY = "sb.markedUnread";

let feed: LiveStream | null = null;

const unreadOf = (c: ConversationSummary) => (c.status === "resolved" ? 0 : (c.unread ?? 0));

function savedFilters(): Filters {
  try {
    return { ...defaultFilters(), ...JSON.parse(storage.get(FILTERS_KEY) ?? "{}") };
  } catch {
    return defaultFilters();
  }
}

export const useConversations = defineStore("conversations", {
  state: () => ({
    filters: savedFilters(),
    list: [] as ConversationSummary[],
    byId: {} as Record<string, ConversationSummary>,
    nextCursor: null as string | null,
    loading: false,
    error: "",
    /** Bumped on every reload so a late page of an older filter is dropped. */
    generation: 0,
    status: "connecting" as LiveStatus,
    /** Conversations the agent marked unread (kept in this browser: the API has no such state). */
    markedUnread: JSON.parse(storage.get(UNREAD_KEY) ?? "[]") as string[],
    /** Unread messages over every conversation seen that is not resolved; kept as summaries arrive. */
    unreadSum: 0,
    /** Every label seen on a conversation, for the filter. */
    knownLabels: [] as string[],
  }),
  getters: {
    complete: (s) => s.nextCursor === null,
    unreadTotal(s): number {
      return s.unreadSum + s.markedUnread.filter((id) => !s.byId[id]?.unread).length;
    },
  },
  actions: {
    /** Keeps a summary if it is newer; the totals follow it without a pass over every conversation. */
    remember(c: ConversationSummary) {
      const held = this.byId[c.id];
      if (!isNewer(c, held)) return;
      this.unreadSum += unreadOf(c) - (held ? unreadOf(held) : 0);
      this.byId[c.id] = c;
      for (const l of c.labels ?? []) if (!this.knownLabels.includes(l)) this.knownLabels = [...this.knownLabels, l].sort();
    },
    forget(id: string) {
      const held = this.byId[id];
      if (held) this.unreadSum -= unreadOf(held);
      delete this.byId[id];
    },
    setFilters(f: Partial<Filters>) {
      this.filters = { ...this.filters, ...f };
      storage.set(FILTERS_KEY, JSON.stringify(this.filters));
      void this.reload();
    },
    async reload() {
      const gen = ++this.generation;
      this.list = [];
      this.nextCursor = null;
      await this.loadMore(gen, true);
    },
    /** The next page (the inbox filter is applied here, so pages may come back short). */
    async loadMore(generation?: number, first = false) {
      const gen = generation ?? this.generation;
      if (this.loading && !first) return;
      if (!first && this.nextCursor === null) return;
      this.loading = true;
      this.error = "";
      const me = useSession().meId;
      try {
        let cursor = first ? undefined : (this.nextCursor ?? undefined);
        for (let tries = 0; tries < 5; tries++) {
          const page = await unwrap(
            api.GET("/api/conversations", { params: { query: { ...listQuery(this.filters, me), limit: PAGE, ...(cursor ? { cursor } : {}) } } }),
          );
          if (gen !== this.generation) return;
          const rows = (page?.conversations ?? []) as ConversationSummary[];
          rows.forEach((c) => this.remember(c));
          const fresh = rows.map((c) => this.byId[c.id]!).filter((c) => matches(c, this.filters, me));
          this.list = appendPage(this.list, fresh);
          this.nextCursor = page?.next_cursor ?? null;
          cursor = this.nextCursor ?? undefined;
          if (!cursor || fresh.length > 0) break;
        }
      } catch (e) {
        if (gen === this.generation) this.error = e instanceof Error ? e.message : String(e);
      } finally {
        if (gen === this.generation) this.loading = false;
      }
    },
    /** Loads the list and follows the feed from its head, so nothing falls between. */
    async start() {
      this.stop();
      let head = 0;
      try {
        const r = await unwrap(api.GET("/api/feed", { params: { query: { since: Number.MAX_SAFE_INTEGER, wait: 0 } } }));
        head = r?.last_seq ?? 0;
      } catch {
        head = 0;
      }
      await Promise.all([this.reload(), usePresence().loadVisitors()]);
      feed = openStream("/api/live", "/api/feed", {
        since: head,
        onEvent: (e) => this.applyFeed(e),
        onStatus: (s) => (this.status = s),
      });
    },
    stop() {
      feed?.stop();
      feed = null;
    },
    applyFeed(e: LiveEvent) {
      if (e.type === "conversation" && e.conversation) {
        const c = e.conversation as ConversationSummary;
        const before = this.byId[c.id];
        if (!isNewer(c, before)) return;
        this.remember(c);
        this.list = mergeSummary(this.list, c, this.filters, useSession().meId, this.complete);
        notifyIncoming(before, c);
      } else if (e.type === "erased") {
        const id = String(e.conversation_id ?? "");
        this.forget(id);
        this.list = removeConversation(this.list, id);
      } else {
        usePresence().applyFeed(e);
      }
    },
    /** What a PATCH answered: the conversation as it now stands. */
    applyLocal(c: ConversationSummary) {
      if (!isNewer(c, this.byId[c.id])) return;
      this.remember(c);
      this.list = mergeSummary(this.list, c, this.filters, useSession().meId, this.complete);
    },
    /** Finds a conversation not in the cache (a link from elsewhere); the API has no single-conversation read. */
    async ensure(id: string): Promise<ConversationSummary | undefined> {
      if (this.byId[id]) return this.byId[id];
      let cursor: string | undefined;
      for (let i = 0; i < 5; i++) {
        const page = await unwrap(api.GET("/api/conversations", { params: { query: { status: "all", limit: 200, ...(cursor ? { cursor } : {}) } } }));
        ((page?.conversations ?? []) as ConversationSummary[]).forEach((c) => this.remember(c));
        if (this.byId[id] || !page?.next_cursor) break;
        cursor = page.next_cursor;
      }
      return this.byId[id];
    },
    markUnread(id: string, on: boolean) {
      this.markedUnread = on ? [...new Set([...this.markedUnread, id])] : this.markedUnread.filter((x) => x !== id);
      storage.set(UNREAD_KEY, JSON.stringify(this.markedUnread));
    },
    neighbour(id: string | undefined, step: 1 | -1): string | undefined {
      const i = this.list.findIndex((c) => c.id === id);
      const next = this.list[i < 0 ? 0 : i + step];
      return next?.id;
    },
  },
});
