// Translation as the agent meets it: whether the workspace translates (and
// why it currently does not: off, or today's quota spent), each open
// conversation's customer language, and translating one message on request.
// Messages carry their own translation; this store holds only what is around them.
import { defineStore } from "pinia";
import { api, unwrap, rawJson, type CustomerLanguage, type Translation } from "@api/client";
import { useSession } from "./session";

type Usage = { provider?: string; daily_quota_chars?: number; usage?: { chars?: number; calls?: number } };

const LEARN_EVERY_MS = 5_000;
const askedAt = new Map<string, number>();
const inFlight = new Map<string, { again: boolean }>();

/** Refresh the workspace's usage at most this often (it only changes by sending and receiving). */
const USAGE_FRESH_MS = 60_000;

export const useTranslation = defineStore("translation", {
  state: () => ({
    usage: null as Usage | null,
    loadedAt: 0,
    languages: {} as Record<string, CustomerLanguage>,
    /** Messages being translated on request, and why a request failed. */
    asking: [] as string[],
    refused: {} as Record<string, string>,
  }),
  getters: {
    active: (s) => !!s.usage?.provider && s.usage.provider !== "off",
    /** Today's characters are spent: messages flow untranslated until tomorrow (UTC). */
    quotaReached: (s) => {
      const quota = s.usage?.daily_quota_chars ?? 0;
      return quota > 0 && (s.usage?.usage?.chars ?? 0) >= quota;
    },
    /** The language the agent reads: their own, else the workspace's, else English. */
    agentLanguage: () => useSession().me?.language || "en",
  },
  actions: {
    async load(force = false) {
      if (!force && Date.now() - this.loadedAt < USAGE_FRESH_MS) return;
      this.loadedAt = Date.now();
      try {
        this.usage = (await unwrap(api.GET("/api/workspace/translation"))) as Usage;
      } catch {
        this.loadedAt = 0;
      }
    },
    async loadLanguage(id: string) {
      try {
        const l = await unwrap(api.GET("/api/conversations/{id}/language", { params: { path: { id } } }));
        if (l) this.languages[id] = l;
      } catch {
        /* the sidebar shows no language; replies go untranslated as the server decides */
      }
    },
    /** Asks for the language again; a burst of asks (a replay of many translations) makes at most two requests. */
    refreshLanguage(id: string) {
      const state = inFlight.get(id);
      if (state) {
        state.again = true;
        return;
      }
      const run = async () => {
        const s = { again: false };
        inFlight.set(id, s);
        try {
          await this.loadLanguage(id);
        } finally {
          inFlight.delete(id);
        }
        if (s.again) void run();
      };
      void run();
    },
    /** Asks again for a conversation whose language is not known yet, at most every few seconds (a replay brings many messages at once). */
    learnLanguage(id: string) {
      if (!this.active || this.languages[id]?.language) return;
      const now = Date.now();
      if (now - (askedAt.get(id) ?? 0) < LEARN_EVERY_MS) return;
      askedAt.set(id, now);
      void this.loadLanguage(id);
    },
    /** Sets (or with null clears) the customer's language: what replies are translated into. */
    async setLanguage(id: string, language: string | null) {
      const l = (await unwrap(api.PATCH("/api/conversations/{id}", { params: { path: { id } }, body: { language } }))) as CustomerLanguage;
      if (l && "language_source" in l) this.languages[id] = l;
      else await this.loadLanguage(id);
    },
    /** Translates one message now; the conversation's stream brings the result to every open dashboard. */
    async translate(conversationId: string, messageId: string): Promise<Translation | undefined> {
      if (this.asking.includes(messageId)) return undefined;
      this.asking.push(messageId);
      delete this.refused[messageId];
      try {
        const r = await rawJson<{ translation?: Translation }>("POST", `/api/conversations/${conversationId}/messages/${messageId}/translate`, {});
        if (r.status >= 300) {
          this.refused[messageId] = (r.data as { error?: string })?.error ?? `HTTP ${r.status}`;
          return undefined;
        }
        void this.load(true);
        return (r.data as { translation?: Translation }).translation;
      } finally {
        this.asking.splice(this.asking.indexOf(messageId), 1);
      }
    },
  },
});

/** Two language tags name the same language when their primary subtags agree (pt-BR and pt). */
export function sameLanguage(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return false;
  return a.split("-")[0]!.toLowerCase() === b.split("-")[0]!.toLowerCase();
}
