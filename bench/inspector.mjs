// The devtools inspector of `scripts/serve.mjs` (SWITCHBOARD_INSPECTOR_PORT),
// shared by bench/profile.mjs and bench/heap.mjs. Only talks to 127.0.0.1.
import WebSocket from "ws";

/// A WebSocket to the inspector's first target on 127.0.0.1:`port`, trying
/// every 250 ms (the server may still be starting, or restarting) up to
/// `attempts` times.
export async function connect(port, attempts = 600) {
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      const list = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
      const t = list.find((x) => x.webSocketDebuggerUrl) ?? list[0];
      if (t?.webSocketDebuggerUrl) {
        const url = t.webSocketDebuggerUrl.replace(/^ws:\/\/[^/]+/, `ws://127.0.0.1:${port}`);
        const ws = new WebSocket(url);
        await new Promise((ok, err) => {
          ws.once("open", ok);
          ws.once("error", err);
        });
        return ws;
      }
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no inspector on 127.0.0.1:${port}`);
}
