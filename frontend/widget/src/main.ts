// The snippet's script: <script src="https://<host>/widget.js" data-inbox="in_…" async>.
// It finds its own origin from its src, draws nothing until the inbox's
// config says this page may use it, and leaves one global: `Switchboard`
// (open, close, toggle, identify, on, off). Calls made before it loaded,
// queued as `window.Switchboard = [[name, ...args], …]`, are replayed.

import { Api, type Config } from "./api";
import { Widget } from "./widget";

type Call = [string, ...unknown[]];

const script =
  (document.currentScript as HTMLScriptElement | null) ??
  document.querySelector<HTMLScriptElement>("script[data-inbox][src*='widget.js']");
const inbox = script?.dataset.inbox;
const w = window as unknown as { Switchboard?: unknown };
const queued: Call[] = Array.isArray(w.Switchboard) ? (w.Switchboard as Call[]) : [];

if (script && inbox && script.dataset.preview !== undefined) {
  // The dashboard's live preview (an iframe of the dashboard's own origin):
  // settings arrive by postMessage from the parent, nothing is fetched and
  // no session starts. Only the Switchboard origin may drive it.
  const base = new URL(script.src).origin;
  let shown: Widget | null = null;
  addEventListener("message", (e: MessageEvent) => {
    const d = e.data as { type?: string; config?: Config; available?: boolean } | null;
    if (e.origin !== base || e.source !== parent || d?.type !== "switchboard:preview" || !d.config) return;
    shown?.destroy();
    shown = new Widget(new Api(base, inbox), { ...d.config, inbox_id: inbox });
    shown.preview(d.available !== false);
  });
  parent.postMessage({ type: "switchboard:preview-ready" }, base);
} else if (script && inbox && !(w.Switchboard && !Array.isArray(w.Switchboard))) {
  const base = new URL(script.src).origin;
  const ready: Promise<Widget | null> = (async () => {
    if (document.readyState === "loading") {
      await new Promise((r) => document.addEventListener("DOMContentLoaded", r, { once: true }));
    }
    try {
      const api = new Api(base, inbox);
      const config = await api.config();
      // Not an allowed origin, or no such inbox: nothing shows, no session.
      if (!config) return null;
      if (!api.saved.token && !(await api.session())) return null;
      const widget = new Widget(api, config);
      await widget.start();
      return widget;
    } catch {
      return null;
    }
  })();
  const call =
    (name: keyof Widget) =>
    (...args: unknown[]) =>
      ready.then((widget) => (widget?.[name] as ((...a: unknown[]) => unknown) | undefined)?.apply(widget, args));
  const api = {
    open: call("open"),
    close: call("close"),
    toggle: call("toggle"),
    identify: call("identify"),
    on: call("on"),
    off: call("off"),
  };
  w.Switchboard = api;
  for (const [name, ...args] of queued) (api as Record<string, (...a: unknown[]) => unknown>)[name]?.(...args);
}
