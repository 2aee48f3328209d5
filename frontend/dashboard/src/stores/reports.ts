// Reports: the figures of one range (GET /api/reports, once per grouping:
// over time, by channel, by inbox, by agent) and the names the tables show
// for inbox and agent ids.
import { defineStore } from "pinia";
import { api, unwrap } from "@api/client";
import type { components } from "@api/schema.gen";
import { timeGrouping, type Range } from "../lib/reports";

export type ReportRow = components["schemas"]["ReportRow"];
export type Dimension = "channel" | "inbox" | "agent";
export interface Report {
  rows: ReportRow[];
  totals: ReportRow;
}

const empty = (): Report => ({ rows: [], totals: {} });

export const useReports = defineStore("reports", {
  state: () => ({
    zone: "UTC",
    zoneLoaded: false,
    range: null as Range | null,
    grouping: "day" as "day" | "hour",
    time: empty(),
    by: { channel: empty(), inbox: empty(), agent: empty() } as Record<Dimension, Report>,
    inboxNames: {} as Record<string, string>,
    agentNames: {} as Record<string, string>,
    loading: false,
    error: "",
  }),
  actions: {
    /** The workspace's time zone (the presets' "today") and the names of inboxes and agents. */
    async loadContext() {
      const [ws, inboxes, agents] = await Promise.all([
        unwrap(api.GET("/api/workspace")),
        unwrap(api.GET("/api/inboxes")),
        unwrap(api.GET("/api/agents")),
      ]);
      const zone = (ws?.settings as Record<string, unknown> | undefined)?.time_zone;
      this.zone = typeof zone === "string" && zone ? zone : "UTC";
      this.inboxNames = Object.fromEntries((inboxes?.inboxes ?? []).map((i) => [i.id ?? "", i.name ?? ""]));
      this.agentNames = Object.fromEntries((agents?.agents ?? []).map((a) => [a.id ?? "", a.name ?? ""]));
      this.zoneLoaded = true;
    },
    async load(range: Range) {
      this.loading = true;
      this.error = "";
      const grouping = timeGrouping(range);
      const get = async (group_by: "day" | "hour" | Dimension): Promise<Report> => {
        const r = await unwrap(api.GET("/api/reports", { params: { query: { from: range.from, to: range.to, group_by } } }));
        return { rows: r?.rows ?? [], totals: r?.totals ?? {} };
      };
      try {
        if (!this.zoneLoaded) await this.loadContext();
        const [time, channel, inbox, agent] = await Promise.all([get(grouping), get("channel"), get("inbox"), get("agent")]);
        this.range = range;
        this.grouping = grouping;
        this.time = time;
        this.by = { channel, inbox, agent };
      } catch (e) {
        this.error = e instanceof Error ? e.message : String(e);
      } finally {
        this.loading = false;
      }
    },
  },
});
