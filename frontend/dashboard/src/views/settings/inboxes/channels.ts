// What each channel's inbox asks for: its fields (which are secrets, how a
// value is checked in the browser before the server checks it again) and
// the i18n keys that explain them. The server's rules live in
// functions/core/src/channels/*.rs; these mirror them so a form says what
// is wrong before it is sent.

export type ChannelName = "messenger" | "instagram" | "whatsapp" | "telegram" | "api" | "widget";

export interface ChannelField {
  key: string;
  /** Write-only: masked after saving, changed only by rotating. */
  secret: boolean;
  /** A pattern the value must match (the server's own rule). */
  pattern?: RegExp;
  /** Filled with a random value when the form opens (the admin may change it). */
  generate?: boolean;
  type?: "text" | "url";
}

const metaFields = (idKey: string, tokenKey: string): ChannelField[] => [
  { key: idKey, secret: false, pattern: /^[0-9]{1,64}$/ },
  { key: "app_secret", secret: true },
  { key: "verify_token", secret: false, generate: true, pattern: /^\S{1,256}$/ },
  { key: tokenKey, secret: true },
];

export const CHANNELS: Record<ChannelName, ChannelField[]> = {
  messenger: metaFields("page_id", "page_access_token"),
  instagram: metaFields("account_id", "access_token"),
  whatsapp: metaFields("phone_number_id", "access_token"),
  telegram: [
    { key: "bot_token", secret: true, pattern: /^[0-9]+:[A-Za-z0-9_-]+$/ },
    { key: "secret_token", secret: true, generate: true, pattern: /^[A-Za-z0-9_-]{1,256}$/ },
  ],
  api: [
    { key: "secret", secret: true, generate: true, pattern: /^\S+$/ },
    { key: "callback_url", secret: false, type: "url", pattern: /^https?:\/\/\S+$/ },
  ],
  widget: [],
};

export const CHANNEL_NAMES = Object.keys(CHANNELS) as ChannelName[];

/** Meta's channels: their webhook is set in the Meta app's dashboard with a verify token. */
export const isMeta = (c: string): boolean => c === "messenger" || c === "instagram" || c === "whatsapp";

/** A random token of URL-safe characters (Telegram's secret_token alphabet). */
export function randomToken(bytes = 24): string {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The field a server reason names (`settings.page_id is required…` → `page_id`), if any. */
export function fieldOf(reason: string): string | null {
  const m = /\bsettings\.([a-z_]+)/.exec(reason);
  if (m) return m[1]!;
  if (/^name\b/.test(reason)) return "name";
  return null;
}

/** The browser's check of one value: an i18n key of what is wrong, or null. */
export function checkField(f: ChannelField, value: string): string | null {
  const v = value.trim();
  if (!v) return "inboxSettings.errors.required";
  if (f.pattern && !f.pattern.test(v)) return `inboxSettings.errors.${f.key}`;
  return null;
}
