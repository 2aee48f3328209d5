// In-page probes for the browser benchmark. Each function runs inside
// Chromium (serialized by Playwright), so each is self-contained. Times are
// wall-clock milliseconds (performance.timeOrigin + performance.now()), the
// same clock as the Node side's, with sub-millisecond resolution.

/** The bench's message tokens, e.g. `bench-open-k3x9-17`. */
export const TOKEN_SOURCE = "bench-(?:open|list)-[a-z0-9]+-\\d+";

/**
 * Installed before the dashboard's scripts (addInitScript): records when
 * each token first appears inside a timeline message (`[data-message-id]`)
 * or a list row (`[data-conversation-id]`), when each `data-seq` first
 * appears, when the first list row appears, the last click, and when each
 * token first arrives on any of the dashboard's own WebSockets. The time
 * is the MutationObserver's (the DOM holds it; painting follows).
 */
export function dashboardProbe(tokenSource) {
  const now = () => performance.timeOrigin + performance.now();
  const re = () => new RegExp(tokenSource, "g");
  const seen = { message: {}, row: {}, socket: {}, seq: {}, firstRow: 0, click: 0 };
  window.__bench = seen;
  const mark = (map, key, t) => {
    if (!(key in map)) map[key] = t;
  };
  addEventListener("click", () => {
    seen.click = now();
  }, true);
  const record = (el, t) => {
    const text = el.textContent || "";
    if (el.hasAttribute("data-message-id")) {
      const seq = el.getAttribute("data-seq");
      if (seq) mark(seen.seq, seq, t);
      for (const m of text.matchAll(re())) mark(seen.message, m[0], t);
    } else {
      if (!seen.firstRow) seen.firstRow = t;
      for (const m of text.matchAll(re())) mark(seen.row, m[0], t);
    }
  };
  const SELECTOR = "[data-message-id],[data-conversation-id]";
  const observer = new MutationObserver((records) => {
    const t = now();
    const touched = new Set();
    for (const r of records) {
      const target = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      const around = target && target.closest(SELECTOR);
      if (around) touched.add(around);
      for (const n of r.addedNodes) {
        if (n.nodeType !== 1) continue;
        if (n.matches(SELECTOR)) touched.add(n);
        for (const e of n.querySelectorAll(SELECTOR)) touched.add(e);
      }
    }
    for (const el of touched) record(el, t);
  });
  const start = () => observer.observe(document.documentElement, { childList: true, subtree: true, characterData: true });
  if (document.documentElement) start();
  else addEventListener("DOMContentLoaded", start);

  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (ev) => {
        const t = now();
        if (typeof ev.data === "string") for (const m of ev.data.matchAll(re())) mark(seen.socket, m[0], t);
      });
    }
  };
}

/**
 * In a blank page: opens the agent's sockets (a conversation's live socket
 * and the workspace feed) with the browser's WebSocket and records when
 * each token first arrives on each. Resolves when both are open.
 */
export function openAgentSockets({ urls, tokenSource }) {
  const now = () => performance.timeOrigin + performance.now();
  window.__sockets = {};
  return Promise.all(Object.entries(urls).map(([name, url]) => new Promise((resolve, reject) => {
    const seen = (window.__sockets[name] = {});
    const ws = new WebSocket(url);
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`the ${name} socket did not open`));
    ws.onmessage = (ev) => {
      const t = now();
      if (typeof ev.data !== "string") return;
      for (const m of ev.data.matchAll(new RegExp(tokenSource, "g"))) if (!(m[0] in seen)) seen[m[0]] = t;
    };
  })));
}
