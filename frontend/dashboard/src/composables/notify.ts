// Opt-in browser notifications and a short sound for a new conversation, or
// a new customer message in a conversation assigned to me, while the tab is
// hidden. The choices are kept in this browser: the browser's permission
// to notify belongs to this device, so another device asks its own.
import type { ConversationSummary } from "@api/client";
import { storage } from "../lib/storage";
import { useSession } from "../stores/session";

const KEY = "sb.notify";
const SOUND_KEY = "sb.notify.sound";
const SCOPE_KEY = "sb.notify.scope";

/** `all`: new conversations and messages in mine; `mine`: only conversations assigned to me. */
export type NotifyScope = "all" | "mine";
export interface NotifyPrefs {
  desktop: boolean;
  sound: boolean;
  scope: NotifyScope;
}

export function notificationsOn(): boolean {
  return storage.get(KEY) === "1";
}

export function notifyPrefs(): NotifyPrefs {
  return { desktop: notificationsOn(), sound: storage.get(SOUND_KEY) !== "0", scope: storage.get(SCOPE_KEY) === "mine" ? "mine" : "all" };
}

export function saveNotifyPrefs(patch: Partial<Omit<NotifyPrefs, "desktop">>): NotifyPrefs {
  if (patch.sound !== undefined) storage.set(SOUND_KEY, patch.sound ? "1" : "0");
  if (patch.scope !== undefined) storage.set(SCOPE_KEY, patch.scope);
  return notifyPrefs();
}

export async function setNotifications(on: boolean): Promise<boolean> {
  if (on && typeof Notification !== "undefined" && Notification.permission !== "granted") {
    const p = await Notification.requestPermission().catch(() => "denied");
    if (p !== "granted") on = false;
  }
  storage.set(KEY, on ? "1" : "0");
  return on;
}

let audio: AudioContext | null = null;
function chime(): void {
  try {
    audio ??= new AudioContext();
    const o = audio.createOscillator();
    const g = audio.createGain();
    o.frequency.value = 880;
    g.gain.setValueAtTime(0.08, audio.currentTime);
    g.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.35);
    o.connect(g).connect(audio.destination);
    o.start();
    o.stop(audio.currentTime + 0.35);
  } catch {
    /* no audio here */
  }
}

/** Called for each summary the feed brings, with what we held before. */
export function notifyIncoming(before: ConversationSummary | undefined, c: ConversationSummary): void {
  if (!notificationsOn() || typeof document === "undefined" || document.visibilityState !== "hidden") return;
  const m = c.last_message;
  if (!m || m.direction !== "inbound" || (before?.last_message && before.last_message.id === m.id)) return;
  const me = useSession().meId;
  const prefs = notifyPrefs();
  if ((before || prefs.scope === "mine") && c.assignee !== me) return;
  if (prefs.sound) chime();
  if (typeof Notification !== "undefined" && Notification.permission === "granted") {
    // Text only: a notification body is never HTML.
    const n = new Notification(c.contact?.name || c.contact?.external_id || "Switchboard", { body: m.text ?? "", tag: c.id });
    n.onclick = () => {
      window.focus();
      location.assign(`/conversations/${c.id}`);
    };
  }
}
