// Opt-in browser notifications and a short sound for a new conversation, or
// a new customer message in a conversation assigned to me, while the tab is
// hidden. The choice is kept in this browser.
import type { ConversationSummary } from "@api/client";
import { storage } from "../lib/storage";
import { useSession } from "../stores/session";

const KEY = "sb.notify";

export function notificationsOn(): boolean {
  return storage.get(KEY) === "1";
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
  if (before && c.assignee !== me) return;
  chime();
  if (typeof Notification !== "undefined" && Notification.permission === "granted") {
    // Text only: a notification body is never HTML.
    const n = new Notification(c.contact?.name || c.contact?.external_id || "Switchboard", { body: m.text ?? "", tag: c.id });
    n.onclick = () => {
      window.focus();
      location.assign(`/conversations/${c.id}`);
    };
  }
}
