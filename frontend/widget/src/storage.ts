// localStorage when the page allows it (it may throw: privacy modes,
// sandboxed frames), memory otherwise. Keys are namespaced per inbox.

const memory = new Map<string, string>();

export const store = {
  get(key: string): string | null {
    try {
      return localStorage.getItem(key) ?? memory.get(key) ?? null;
    } catch {
      return memory.get(key) ?? null;
    }
  },
  set(key: string, value: string): void {
    memory.set(key, value);
    try {
      localStorage.setItem(key, value);
    } catch {
      /* memory has it */
    }
  },
};

export function readJson<T>(key: string): Partial<T> {
  try {
    const v = JSON.parse(store.get(key) ?? "{}");
    return v && typeof v === "object" ? v : {};
  } catch {
    return {};
  }
}
