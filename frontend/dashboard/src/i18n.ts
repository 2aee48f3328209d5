// Every string goes through vue-i18n. English is in the bundle; other
// languages load when chosen. Adding a language is adding locales/<tag>.json
// and a line in LANGUAGES.
import { ref } from "vue";
import { createI18n } from "vue-i18n";
import en from "./locales/en.json";
import { storage } from "./lib/storage";

export const LANGUAGES: { tag: string; name: string }[] = [
  { tag: "en", name: "English" },
  { tag: "zh-CN", name: "简体中文" },
];
const loaders: Record<string, () => Promise<{ default: Record<string, unknown> }>> = {
  "zh-CN": () => import("./locales/zh-CN.json"),
};
const KEY = "sb.locale";

export const i18n = createI18n({
  legacy: false,
  locale: "en" as string,
  fallbackLocale: "en",
  messages: { en } as Record<string, typeof en>,
  missingWarn: false,
  fallbackWarn: false,
});

function pick(): string {
  const saved = storage.get(KEY);
  if (saved && LANGUAGES.some((l) => l.tag === saved)) return saved;
  for (const lang of typeof navigator !== "undefined" ? navigator.languages : []) {
    const hit = LANGUAGES.find((l) => l.tag.toLowerCase() === lang.toLowerCase()) ?? LANGUAGES.find((l) => l.tag.split("-")[0] === lang.split("-")[0]);
    if (hit) return hit.tag;
  }
  return "en";
}

export async function setLocale(tag: string, remember = true): Promise<void> {
  if (!i18n.global.availableLocales.includes(tag) && loaders[tag]) {
    const m = await loaders[tag]!();
    i18n.global.setLocaleMessage(tag, m.default as typeof en);
  }
  i18n.global.locale.value = tag;
  document.documentElement.lang = tag;
  if (remember) storage.set(KEY, tag);
}

/** The profile's language applies unless this browser chose one. */
export function adoptProfileLanguage(tag: string | null | undefined): void {
  if (!tag || storage.get(KEY)) return;
  const hit = LANGUAGES.find((l) => l.tag.toLowerCase() === tag.toLowerCase()) ?? LANGUAGES.find((l) => l.tag.split("-")[0] === tag.split("-")[0]);
  if (hit && hit.tag !== i18n.global.locale.value) void setLocale(hit.tag, false);
}

export function initLocale(): Promise<void> {
  return setLocale(pick(), false);
}

/** Times in the agent's locale and time zone. */
const formats = new Map<string, Intl.DateTimeFormat>();
export function formatTime(at: number, style: "time" | "day" | "full" = "time"): string {
  const locale = i18n.global.locale.value;
  const key = `${locale}|${style}`;
  let f = formats.get(key);
  if (!f) {
    const opts: Intl.DateTimeFormatOptions =
      style === "time" ? { hour: "2-digit", minute: "2-digit" } : style === "day" ? { weekday: "long", year: "numeric", month: "long", day: "numeric" } : { dateStyle: "medium", timeStyle: "short" };
    f = new Intl.DateTimeFormat(locale, opts);
    formats.set(key, f);
  }
  return f.format(at);
}

/** The time, a little behind: relative times ("5 min ago") follow it. */
export const clock = ref(Date.now());
if (typeof window !== "undefined") setInterval(() => (clock.value = Date.now()), 30_000);

/** "5 min ago", short; never in the future. */
const relative = new Map<string, Intl.RelativeTimeFormat>();
export function ago(at: number, now = Math.max(clock.value, at)): string {
  const locale = i18n.global.locale.value;
  let rtf = relative.get(locale);
  if (!rtf) {
    rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto", style: "narrow" });
    relative.set(locale, rtf);
  }
  const s = Math.round((at - now) / 1000);
  if (Math.abs(s) < 60) return rtf.format(s, "second");
  const m = Math.round(s / 60);
  if (Math.abs(m) < 60) return rtf.format(m, "minute");
  const h = Math.round(m / 60);
  if (Math.abs(h) < 24) return rtf.format(h, "hour");
  return rtf.format(Math.round(h / 24), "day");
}

/** "3 min", "2 hr": a short length of time. */
export function duration(ms: number): string {
  const locale = i18n.global.locale.value;
  const min = Math.max(0, Math.round(ms / 60_000));
  const [value, unit] = min < 60 ? [min, "minute"] : min < 1440 ? [Math.round(min / 60), "hour"] : [Math.round(min / 1440), "day"];
  return new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "short" }).format(value);
}

/** A message without parameters, looked up once per language: list rows use many of them. */
const plain = new Map<string, string>();
export function ts(key: string, fallback?: string): string {
  const k = `${i18n.global.locale.value}\u0000${key}`;
  let v = plain.get(k);
  if (v === undefined) {
    v = i18n.global.te(key) || i18n.global.te(key, "en") ? i18n.global.t(key) : (fallback ?? key);
    plain.set(k, v);
  }
  return v;
}
