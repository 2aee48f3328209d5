// A website visitor for the dashboard's tests: a widget session from the API
// and a socket held open in a page of its own (as the widget would hold it).
import type { Page } from "@playwright/test";
import type { Workspace } from "./workspace";

export interface VisitorSession {
  token: string;
  conversation_id: string;
}

export async function visitorSession(ws: Workspace, name = "Vera Visitor"): Promise<VisitorSession> {
  const inbox = ws.inboxes.widget;
  if (!inbox) throw new Error("no widget inbox");
  const r = await fetch(`${ws.base}/api/widget/${inbox.id}/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const body = await r.json();
  if (!r.ok) throw new Error(`widget session answered ${r.status}: ${JSON.stringify(body)}`);
  return body;
}

/** The visitor writes, as the widget does. */
export async function visitorWrites(ws: Workspace, v: VisitorSession, text: string, name?: string): Promise<void> {
  const r = await fetch(`${ws.base}/api/widget/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${v.token}` },
    body: JSON.stringify({ text, name, client_id: `v-${Date.now()}-${Math.random().toString(36).slice(2)}` }),
  });
  if (!r.ok) throw new Error(`widget write answered ${r.status}: ${await r.text()}`);
}

/** The widget's page view (visitor monitoring). */
export async function visitorVisits(ws: Workspace, v: VisitorSession, url: string, title: string): Promise<void> {
  const r = await fetch(`${ws.base}/api/widget/visit`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${v.token}` },
    body: JSON.stringify({ kind: "view", url, title, language: "en-GB", time_zone: "Europe/London" }),
  });
  if (!r.ok) throw new Error(`widget visit answered ${r.status}: ${await r.text()}`);
}

/** Opens the visitor's socket in `page`; its frames collect in window.frames_. */
export async function visitorSocket(page: Page, base: string, v: VisitorSession): Promise<void> {
  await page.goto(`${base}/healthz`);
  await page.evaluate(
    ({ url }) =>
      new Promise<void>((resolve, reject) => {
        const w = window as unknown as { frames_: unknown[]; sock: WebSocket };
        w.frames_ = [];
        w.sock = new WebSocket(url);
        w.sock.onmessage = (e) => {
          try {
            w.frames_.push(JSON.parse(String(e.data)));
          } catch {
            w.frames_.push(e.data);
          }
        };
        w.sock.onopen = () => resolve();
        w.sock.onerror = () => reject(new Error("visitor socket failed"));
      }),
    { url: `${base.replace(/^http/, "ws")}/api/widget/live?since=0&token=${encodeURIComponent(v.token)}` },
  );
}

export const visitorFrames = (page: Page) => page.evaluate(() => (window as unknown as { frames_: any[] }).frames_);
export const visitorSends = (page: Page, frame: object) =>
  page.evaluate((f) => (window as unknown as { sock: WebSocket }).sock.send(JSON.stringify(f)), frame);
