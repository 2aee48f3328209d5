// The workspace's label catalog: each label's color for the chips, and its
// names as suggestions when labelling a conversation. Loaded once a
// session; the labels settings page hands it every fresh copy it reads.
import { defineStore } from "pinia";
import { api, unwrap } from "@api/client";

export interface CatalogLabel {
  name: string;
  color: string;
}

export const useLabels = defineStore("labels", {
  state: () => ({ colors: {} as Record<string, string>, names: [] as string[], loaded: false }),
  actions: {
    adopt(list: CatalogLabel[]) {
      this.colors = Object.fromEntries(list.map((l) => [l.name, l.color]));
      this.names = list.map((l) => l.name);
      this.loaded = true;
    },
    async load() {
      if (this.loaded) return;
      try {
        const r = (await unwrap(api.GET("/api/labels"))) as { labels?: CatalogLabel[] };
        this.adopt((r?.labels ?? []).filter((l) => l.name));
      } catch {
        /* chips stay uncolored; labelling still works */
      }
    },
  },
});
