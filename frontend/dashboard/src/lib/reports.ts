// Reports' pure logic: ranges in the workspace's time zone (local days as
// YYYY-MM-DD), exact durations as text, and the CSV of a table, built from
// the same numbers the page shows.

export type Preset = "today" | "7d" | "30d" | "90d" | "custom";
export type Grouping = "day" | "hour" | "channel" | "inbox" | "agent";
export interface Range {
  from: string;
  to: string;
}

const DAY_MS = 86_400_000;
/** The longest range the server reports (GET /api/reports). */
export const MAX_DAYS = 366;

/** `YYYY-MM-DD` → days since 1970-01-01, or null. */
export function dayNumber(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return t / DAY_MS;
}

export function dayString(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

/** Today's date in `zone` (an IANA name); UTC when the runtime does not know it. */
export function today(zone: string, now = Date.now()): string {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(now);
  } catch {
    return new Date(now).toISOString().slice(0, 10);
  }
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/** The local days a preset covers, ending today. */
export function presetRange(preset: Exclude<Preset, "custom">, todayStr: string): Range {
  const end = dayNumber(todayStr) ?? Math.floor(Date.now() / DAY_MS);
  const days = { today: 1, "7d": 7, "30d": 30, "90d": 90 }[preset];
  return { from: dayString(end - days + 1), to: dayString(end) };
}

/** Why a custom range cannot be asked for (an i18n key), or null. */
export function rangeProblem(r: Range): string | null {
  const from = dayNumber(r.from);
  const to = dayNumber(r.to);
  if (from === null || to === null) return "reports.errors.date";
  if (to < from) return "reports.errors.order";
  if (to - from >= MAX_DAYS) return "reports.errors.tooLong";
  return null;
}

/** One day is shown hour by hour; longer ranges day by day. */
export function timeGrouping(r: Range): "day" | "hour" {
  return r.from === r.to ? "hour" : "day";
}

/** "1 min 30 sec": exact to the second (the figures are exact; so is their text). */
export function exactDuration(ms: number | null | undefined, locale: string): string {
  if (ms === null || ms === undefined) return "—";
  let s = Math.round(ms / 1000);
  const units: [string, number][] = [
    ["day", 86_400],
    ["hour", 3_600],
    ["minute", 60],
    ["second", 1],
  ];
  const parts: string[] = [];
  for (const [unit, size] of units) {
    const n = Math.floor(s / size);
    s -= n * size;
    if (n > 0) parts.push(new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "short" }).format(n));
  }
  return parts.length ? parts.join(" ") : new Intl.NumberFormat(locale, { style: "unit", unit: "second", unitDisplay: "short" }).format(0);
}

/** The label of an hour key (`2026-12-01T09:00+05:30` → `09:00`) or a day key (a short local date). */
export function bucketLabel(key: string | null | undefined, locale: string): string {
  if (!key) return "";
  const hour = /T(\d{2}:\d{2})/.exec(key);
  if (hour) return hour[1]!;
  const d = dayNumber(key);
  if (d === null) return key;
  return new Intl.DateTimeFormat(locale, { timeZone: "UTC", month: "short", day: "numeric" }).format(d * DAY_MS);
}

/**
 * One CSV field. A cell starting with = + - @ tab or CR gets a leading `'`,
 * so a name like `=HYPERLINK(…)` stays text in a spreadsheet (OWASP; the
 * same rule as the server's transcript export, functions/core/src/transcript.rs).
 */
export function csvField(v: string | number | null | undefined): string {
  let s = v === null || v === undefined ? "" : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows of cells → CSV text (CRLF, RFC 4180). */
export function toCsv(rows: (string | number | null | undefined)[][]): string {
  return rows.map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}

/** Milliseconds as seconds for a CSV cell (exact: ms are whole, so 3 decimals at most). */
export function seconds(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? "" : String(ms / 1000);
}
