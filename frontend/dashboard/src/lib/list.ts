// Pure logic of the conversation list: which summaries a filter shows, their
// order, and how a summary pushed by the feed enters the loaded list.
import type { ConversationSummary } from "@api/client";

export type View = "mine" | "unassigned" | "all";
export interface Filters {
  view: View;
  status: "open" | "pending" | "resolved" | "snoozed" | "all";
  channel: string;
  inbox: string;
  label: string;
  /** Only conversations left with the widget's leave-a-message form. */
  offline: boolean;
}

export const defaultFilters = (): Filters => ({ view: "all", status: "open", channel: "", inbox: "", label: "", offline: false });

/** Whether `c` belongs in the list that `f` selects, for the agent `me`. */
export function matches(c: ConversationSummary, f: Filters, me: string | null): boolean {
  if (f.status !== "all" && c.status !== f.status) return false;
  if (f.view === "mine" && (!me || c.assignee !== me)) return false;
  if (f.view === "unassigned" && c.assignee) return false;
  if (f.channel && c.channel !== f.channel) return false;
  if (f.inbox && c.inbox_id !== f.inbox) return false;
  if (f.label && !(c.labels ?? []).includes(f.label)) return false;
  return true;
}

/** The server's order: latest activity first, then id. Negative when a comes first. */
export function compare(a: ConversationSummary, b: ConversationSummary): number {
  if (a.updated_at !== b.updated_at) return b.updated_at - a.updated_at;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Whether `next` should replace what we hold: the index never moves backwards. */
export function isNewer(next: ConversationSummary, held: ConversationSummary | undefined): boolean {
  return !held || next.last_seq >= held.last_seq;
}

/**
 * The list after the feed says `c` changed. `list` is sorted by `compare`;
 * `complete` is false while more pages wait on the server, and then a
 * summary that sorts after the last loaded row stays out (paging brings it).
 * Returns the same array when nothing changed.
 */
export function mergeSummary(
  list: ConversationSummary[],
  c: ConversationSummary,
  f: Filters,
  me: string | null,
  complete: boolean,
): ConversationSummary[] {
  const at = list.findIndex((x) => x.id === c.id);
  if (at >= 0 && !isNewer(c, list[at])) return list;
  // A summary does not say whether it was left offline: with that filter only rows already listed move.
  if (at < 0 && f.offline) return list;
  const rest = at >= 0 ? [...list.slice(0, at), ...list.slice(at + 1)] : list;
  if (!matches(c, f, me)) return at >= 0 ? rest : list;
  const last = rest[rest.length - 1];
  if (!complete && last && compare(c, last) > 0) return at >= 0 ? rest : list;
  let i = 0;
  while (i < rest.length && compare(rest[i]!, c) < 0) i++;
  return [...rest.slice(0, i), c, ...rest.slice(i)];
}

/** Appends a page, skipping rows the feed already placed. */
export function appendPage(list: ConversationSummary[], page: ConversationSummary[]): ConversationSummary[] {
  const have = new Set(list.map((c) => c.id));
  return [...list, ...page.filter((c) => !have.has(c.id))];
}

export function removeConversation(list: ConversationSummary[], id: string): ConversationSummary[] {
  return list.some((c) => c.id === id) ? list.filter((c) => c.id !== id) : list;
}

/** Query parameters for GET /api/conversations (the inbox filter is applied here: the API has none). */
export function listQuery(f: Filters, me: string | null) {
  return {
    status: f.status,
    ...(f.channel ? { channel: f.channel as "messenger" } : {}),
    ...(f.label ? { label: f.label } : {}),
    ...(f.offline ? { offline: "true" as const } : {}),
    ...(f.view === "unassigned" ? { assignee: "none" } : f.view === "mine" && me ? { assignee: me } : {}),
  };
}
