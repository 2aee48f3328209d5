// Who is around: teammates' presence and website visitors online now, from
// GET /api/visitors and the feed's `presence` and `visitor` events.
import { defineStore } from "pinia";
import type { LiveEvent } from "@live/stream";
import { api, unwrap, type Visitor } from "@api/client";

export const usePresence = defineStore("presence", {
  state: () => ({
    agents: {} as Record<string, string>,
    visitors: [] as Visitor[],
    error: "",
  }),
  actions: {
    async loadVisitors() {
      try {
        const r = await unwrap(api.GET("/api/visitors"));
        this.visitors = ((r?.visitors ?? []) as Visitor[]).filter((v) => v.conversation_id);
        this.error = "";
      } catch (e) {
        this.error = e instanceof Error ? e.message : String(e);
      }
    },
    applyFeed(e: LiveEvent) {
      if (e.type === "presence" && typeof e.agent_id === "string") {
        this.agents[e.agent_id] = String(e.status ?? "offline");
      } else if (e.type === "visitor" && typeof e.conversation_id === "string") {
        const rest = this.visitors.filter((v) => v.conversation_id !== e.conversation_id);
        if (e.status === "offline") {
          this.visitors = rest;
        } else {
          const held = this.visitors.find((v) => v.conversation_id === e.conversation_id);
          const { seq: _s, type: _t, ...fields } = e;
          this.visitors = [{ since: held?.since ?? e.at, ...held, ...fields } as Visitor, ...rest];
        }
      }
    },
  },
});
