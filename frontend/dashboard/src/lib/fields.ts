// The server names the field it refuses first in its one-line reason
// ("shortcode must be …", "settings.time_zone must be …"); this finds which
// of a form's fields that is, so the reason shows next to that field.

/** The field of `fields` the reason is about, or null (then it belongs to the whole form). */
export function fieldOf(reason: string, fields: readonly string[]): string | null {
  const head = reason.trim().toLowerCase();
  // Longest first: "settings.business_hours.time_zone" before "time_zone".
  const sorted = [...fields].sort((a, b) => b.length - a.length);
  for (const f of sorted) {
    const name = f.toLowerCase();
    for (const prefix of ["", "settings.", "each "]) {
      const p = prefix + name;
      if (head.startsWith(p) && !/[a-z0-9_]/.test(head.charAt(p.length))) return f;
    }
  }
  return null;
}
