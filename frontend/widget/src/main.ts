// The snippet's script: <script src="https://<host>/widget.js" data-inbox="in_…" async>.
// It finds its own origin from its src, draws nothing until the inbox's
// config says this page may use it, and leaves one global: `Switchboard`
// (open, close, toggle, identify, on, off). Calls made before it loaded,
// queued as `window.Switchboard = [[name, ...args], …]`, are replayed.

import { Api } from "./api";
import { Widget } from "./widget";

type Call = [string, ...unknown[]];

const script =
  (document.currentScript as HTMLScriptElement | null) ??
  document.querySelector<HTMLScriptElement>("script[data-inbox][src*='widget.js']");
const inbox = script?.dataset.inbox;
const w = window as unknown as { Switchboard?: unknown };
const queued: Call[] = Array.isArray(w.Switchboard) ? (w.Switchboard as Call[]) : [];

if (script && inbox && !(w.Switchboard && !Array.isArray(w.Switchboard))) {
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
