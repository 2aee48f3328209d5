// Canned responses, loaded once per page and matched by shortcode prefix.
import { api, unwrap, type CannedResponse } from "@api/client";

let cache: Promise<CannedResponse[]> | null = null;

export function loadCanned(): Promise<CannedResponse[]> {
  cache ??= unwrap(api.GET("/api/canned_responses"))
    .then((r) => ((r?.canned_responses ?? []) as CannedResponse[]).filter((c) => c.shortcode))
    .catch(() => {
      cache = null;
      return [];
    });
  return cache ?? Promise.resolve([]);
}

/** Shortcodes starting with what was typed after "/", then those containing it. */
export function matchCanned(all: CannedResponse[], typed: string): CannedResponse[] {
  const q = typed.trim().toLowerCase();
  const starts = all.filter((c) => c.shortcode.toLowerCase().startsWith(q));
  const contains = all.filter((c) => !starts.includes(c) && c.shortcode.toLowerCase().includes(q));
  return [...starts, ...contains].slice(0, 8);
}

/** After an admin changed them: the next composer loads them afresh. */
export function forgetCanned(): void {
  cache = null;
}
