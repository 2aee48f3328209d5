// Pure logic of one conversation's timeline: applying its events (each seq
// once, statuses only forward), matching an optimistic reply to the stored
// message, and laying messages, activity lines and day separators out.
import type { Message } from "@api/client";

export interface Pending {
  client_id: string;
  text: string;
  kind: "text" | "note";
  created_at: number;
  /** Why the server refused it (a 4xx), when it did. */
  failed?: string;
}

/** Something that happened to the conversation, shown as a line. */
export interface Activity {
  seq: number;
  at: number;
  type: "conversation_status" | "assigned" | "labels";
  by?: string | null;
  status?: string;
  snoozed_until?: number | null;
  assignee?: string | null;
  labels?: string[];
}

export interface TimelineState {
  messages: Message[];
  activities: Activity[];
  pending: Pending[];
  /** The highest seq applied from the stream. */
  lastSeq: number;
}

export const emptyTimeline = (): TimelineState => ({ messages: [], activities: [], pending: [], lastSeq: 0 });

const RANK: Record<string, number> = { received: 0, pending: 1, sent: 2, delivered: 3, read: 4 };

/** A status only moves forward; failed is final, and read is never undone by failed. */
export function advances(from: string, to: string): boolean {
  if (from === "failed") return false;
  if (to === "failed") return from !== "read";
  return (RANK[to] ?? -1) > (RANK[from] ?? -1);
}

function insertAt(list: Message[], seq: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Drops the optimistic copy of `m`: by client_id, else by the same author, kind and text. */
export function matchPending(pending: Pending[], m: Message, me: string | null): number {
  if (m.client_id) return pending.findIndex((p) => p.client_id === m.client_id);
  if (m.direction !== "outbound" || !me || m.sender_id !== me) return -1;
  const kind = m.kind === "note" ? "note" : "text";
  return pending.findIndex((p) => !p.failed && p.kind === kind && p.text.trim() === m.text.trim());
}

/** Adds or updates a message (by id), keeping seq order. */
export function upsertMessage(s: TimelineState, m: Message, me: string | null): void {
  const i = matchPending(s.pending, m, me);
  if (i >= 0) s.pending.splice(i, 1);
  const at = insertAt(s.messages, m.seq);
  const held = s.messages[at];
  if (held && held.id === m.id) {
    // The stored copy may be newer than an echo of the create (status moved).
    const status = advances(held.status, m.status) ? m.status : held.status;
    s.messages[at] = { ...held, ...m, status, error: m.error ?? held.error };
    return;
  }
  const dup = s.messages.findIndex((x) => x.id === m.id);
  if (dup >= 0) s.messages.splice(dup, 1);
  s.messages.splice(insertAt(s.messages, m.seq), 0, m);
}

export interface LiveEventLike {
  seq: number;
  at: number;
  type: string;
  [k: string]: unknown;
}

/** Applies one event of the conversation's stream. Returns false for a seq already applied. */
export function applyEvent(s: TimelineState, e: LiveEventLike, me: string | null): boolean {
  if (e.seq <= s.lastSeq) return false;
  s.lastSeq = e.seq;
  switch (e.type) {
    case "message_created":
      if (e.message && typeof e.message === "object") upsertMessage(s, e.message as Message, me);
      break;
    case "message_status": {
      const m = s.messages.find((x) => x.id === e.message_id);
      const status = String(e.status ?? "");
      if (m && advances(m.status, status)) {
        m.status = status as Message["status"];
        if (typeof e.error === "string") m.error = e.error;
        if (typeof e.platform_id === "string") m.platform_id = e.platform_id;
      }
      break;
    }
    case "message_updated": {
      // A stored message changed in place (its attachment was copied, or the copy failed): take it whole.
      const m = e.message as Message | undefined;
      const i = m ? s.messages.findIndex((x) => x.id === m.id) : -1;
      if (m && i >= 0) s.messages[i] = { ...s.messages[i]!, ...m, status: s.messages[i]!.status, translation: s.messages[i]!.translation ?? m.translation };
      break;
    }
    case "message_translated": {
      // A later translation replaces an earlier one (a retry after a failure, or one asked for).
      const m = s.messages.find((x) => x.id === e.message_id);
      if (m && e.translation && typeof e.translation === "object") m.translation = e.translation as Message["translation"];
      break;
    }
    case "conversation_status":
    case "assigned":
    case "labels":
      addActivity(s, e);
      break;
  }
  return true;
}

/** Records an activity line (from the stream or from an older page of events). */
export function addActivity(s: TimelineState, e: LiveEventLike): void {
  if (s.activities.some((a) => a.seq === e.seq)) return;
  const a: Activity = {
    seq: e.seq,
    at: e.at,
    type: e.type as Activity["type"],
    by: (e.by as string | undefined) ?? null,
    status: e.status as string | undefined,
    snoozed_until: (e.snoozed_until as number | undefined) ?? null,
    assignee: (e.assignee as string | null | undefined) ?? null,
    labels: e.labels as string[] | undefined,
  };
  let i = s.activities.length;
  while (i > 0 && s.activities[i - 1]!.seq > a.seq) i--;
  s.activities.splice(i, 0, a);
}

/** Shared by every message without reactions, so unchanged rows keep equal props and skip re-rendering. */
const NO_REACTIONS: string[] = [];

export type Item =
  | { type: "day"; key: string; at: number }
  | { type: "message"; key: string; m: Message; reactions: string[]; quote?: Message }
  | { type: "activity"; key: string; a: Activity };

/** The calendar day of a time in a time zone, as a sortable key. */
const dayFormats = new Map<string, Intl.DateTimeFormat>();
export function dayKey(at: number, timeZone?: string): string {
  const key = timeZone ?? "";
  let f = dayFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
    dayFormats.set(key, f);
  }
  return f.format(at);
}

/**
 * Messages and activity lines in seq order with a separator before each new
 * day. Reactions are shown on the message they react to (by platform id),
 * and a reply carries the message it quotes.
 */
export function layout(messages: Message[], activities: Activity[], timeZone?: string): Item[] {
  const byPlatform = new Map<string, Message>();
  for (const m of messages) if (m.platform_id) byPlatform.set(m.platform_id, m);
  const reactions = new Map<string, Map<string, string>>();
  const folded = new Set<string>();
  for (const m of messages) {
    if (m.kind !== "reaction") continue;
    const c = (m.content ?? {}) as { emoji?: string; target_platform_id?: string };
    const target = c.target_platform_id ? byPlatform.get(c.target_platform_id) : undefined;
    if (!target) continue;
    folded.add(m.id);
    const perAuthor = reactions.get(target.id) ?? new Map<string, string>();
    // The latest reaction of a side replaces its earlier one; empty removes it.
    perAuthor.set(m.direction, c.emoji ?? "");
    reactions.set(target.id, perAuthor);
  }
  const out: Item[] = [];
  let day = "";
  let i = 0;
  let j = 0;
  while (i < messages.length || j < activities.length) {
    const m = messages[i];
    const a = activities[j];
    const takeMessage = m && (!a || m.seq < a.seq);
    const at = takeMessage ? m!.created_at : a!.at;
    if (takeMessage && folded.has(m!.id)) {
      i++;
      continue;
    }
    const d = dayKey(at, timeZone);
    if (d !== day) {
      day = d;
      out.push({ type: "day", key: `day-${d}`, at });
    }
    if (takeMessage) {
      const held = reactions.get(m!.id);
      const r = held ? [...held.values()].filter(Boolean) : NO_REACTIONS;
      const quote = m!.reply_to ? byPlatform.get(m!.reply_to) : undefined;
      out.push({ type: "message", key: m!.id, m: m!, reactions: r, quote });
      i++;
    } else {
      out.push({ type: "activity", key: `a-${a!.seq}`, a: a! });
      j++;
    }
  }
  return out;
}
