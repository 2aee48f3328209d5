// A business's website on another origin than Switchboard: a tiny static
// server on its own 127.0.0.1 port whose page embeds the widget snippet,
// with hostile global CSS and a strict Content-Security-Policy (no inline
// script or style, no eval), to prove the widget survives real sites.
import http from "node:http";
import type { AddressInfo } from "node:net";

const HOSTILE_CSS = `* { all: unset; }
head, script, style, title, link { display: none; }
html, body, main, h1, p { display: block; }
button { display: none !important; }
div { color: red !important; font-size: 40px !important; }
switchboard-widget { opacity: 0.2; }`;

export class CustomerSite {
  base = "";
  private server: http.Server | null = null;

  constructor(private readonly switchboard: string) {}

  async start(): Promise<void> {
    const worker = this.switchboard;
    const ws = worker.replace(/^http/, "ws");
    this.server = http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://site");
      if (url.pathname === "/hostile.css") {
        res.writeHead(200, { "content-type": "text/css" });
        res.end(HOSTILE_CSS);
        return;
      }
      const inbox = (url.searchParams.get("inbox") ?? "").replace(/[^\w]/g, "");
      const title = (url.searchParams.get("title") ?? "Acme Shop — Pricing").replace(/[<>&"]/g, "");
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        // What a careful business runs: only its own scripts and Switchboard's.
        "content-security-policy": [
          "default-src 'self'",
          `script-src 'self' ${worker}`,
          `connect-src 'self' ${worker} ${ws}`,
          "style-src 'self'",
          "img-src 'self' data:",
        ].join("; "),
      });
      res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<link rel="stylesheet" href="/hostile.css"></head>
<body><main><h1>Acme Shop</h1><p>Plans and pricing for every team.</p>
<button type="button">Buy now</button></main>
<script src="${worker}/widget.js" data-inbox="${inbox}" async></script>
</body></html>`);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The sample page embedding the widget of `inbox`. */
  page(inbox: string, title?: string): string {
    const q = new URLSearchParams({ inbox, ...(title ? { title } : {}) });
    return `${this.base}/pricing?${q}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
