// Language tags shown as names, in the agent's own language ("de" → "German").
const names = new Map<string, Intl.DisplayNames | null>();

export function languageName(tag: string | null | undefined, locale: string): string {
  if (!tag || tag === "auto") return tag === "auto" ? "?" : "";
  let n = names.get(locale);
  if (n === undefined) {
    try {
      n = new Intl.DisplayNames([locale], { type: "language" });
    } catch {
      n = null;
    }
    names.set(locale, n);
  }
  try {
    return n?.of(tag) ?? tag;
  } catch {
    // Not a well-formed tag: show it as it came.
    return tag;
  }
}
