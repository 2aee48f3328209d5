// A stand-in for Meta's Graph API and Telegram's Bot API on 127.0.0.1, the
// JavaScript twin of tests/harness/fake_platform.rs: it records every
// request, checks the access token and the body's shape as the platform
// would, and can be told to fail the next requests. Setting an inbox up is
// answered too: Telegram's setWebhook (recorded with its secret_token) and
// getMe, and Graph GETs of /me or a node, each checking the token and
// refusing an unknown one in the platform's own error shape.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
}

export class FakePlatform {
  base = "";
  readonly requests: Recorded[] = [];
  private forced: Array<{ status: number; body: unknown }> = [];
  private tokens = new Set<string>();
  /** Page token → the page Graph's GET /me names. */
  private pages = new Map<string, { id: string; name: string }>();
  private server: http.Server;
  private n = 1;
  private media = new Map<string, { type: string; bytes: Buffer }>();

  constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        let json: any = null;
        try {
          json = JSON.parse(body);
        } catch {
          /* not JSON */
        }
        const rec: Recorded = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body, json };
        this.requests.push(rec);
        const media = req.method === "GET" ? this.media.get(rec.path.split("?")[0]!) : undefined;
        if (media) {
          // A platform's CDN link: the file's own bytes and type.
          res.writeHead(200, { "content-type": media.type, "content-length": String(media.bytes.length) });
          res.end(media.bytes);
          return;
        }
        const forced = this.forced.shift();
        // A GET is a file download (404 when not served) unless it is a setup read (getMe, a Graph account's fields).
        const setupRead = /\/getMe(\?|$)/.test(rec.path) || rec.path.includes("?fields=");
        const [status, answer] = forced ? [forced.status, forced.body] : req.method === "GET" && !setupRead ? [404, { error: "no such file" }] : this.answer(rec);
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(answer));
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", () => r()));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  /** Accept this access token (Graph) or bot token (Telegram). */
  acceptToken(token: string): void {
    this.tokens.add(token);
  }

  /** Answer the next request with `status` and `body` instead. */
  forceNext(status: number, body: unknown): void {
    this.forced.push({ status, body });
  }

  /** Accept this page token; Graph's GET /me with it names this page. */
  acceptPage(token: string, id: string, name: string): void {
    this.tokens.add(token);
    this.pages.set(token, { id, name });
  }

  /** The setWebhook calls Telegram received, newest last. */
  webhooks(): Array<{ token: string; url: string; secret_token: string }> {
    return this.matching("/setWebhook").map((r) => ({
      token: r.path.split("/")[1]!.slice(3),
      url: String(r.json?.url ?? ""),
      secret_token: String(r.json?.secret_token ?? ""),
    }));
  }

  /** Serve `bytes` at `path`, as a Meta CDN link does (no token); other GETs are 404. */
  serveMedia(path: string, type: string, bytes: Buffer): void {
    this.media.set(path, { type, bytes });
  }

  /** Requests whose path contains `part`. */
  matching(part: string): Recorded[] {
    return this.requests.filter((r) => r.path.includes(part));
  }

  private answer(r: Recorded): [number, unknown] {
    const segments = r.path.split("?")[0]!.replace(/^\/+|\/+$/g, "").split("/");
    const first = segments[0] ?? "";
    if (first.startsWith("bot")) {
      if (!this.tokens.has(first.slice(3))) return [401, { ok: false, error_code: 401, description: "Unauthorized" }];
      if (segments[1] === "getMe") return [200, { ok: true, result: { id: 123456, is_bot: true, first_name: "Fake bot", username: "fake_bot" } }];
      if (segments[1] === "setWebhook") {
        if (!/^https?:\/\//.test(String(r.json?.url ?? ""))) {
          return [400, { ok: false, error_code: 400, description: "Bad Request: bad webhook: An HTTPS URL must be provided for webhook" }];
        }
        if (!/^[A-Za-z0-9_-]{1,256}$/.test(String(r.json?.secret_token ?? ""))) {
          return [400, { ok: false, error_code: 400, description: "Bad Request: secret token contains unallowed characters" }];
        }
        return [200, { ok: true, result: true, description: "Webhook was set" }];
      }
      if (r.json?.chat_id == null || !r.json?.text) {
        return [400, { ok: false, error_code: 400, description: "Bad Request: message text is empty" }];
      }
      return [200, { ok: true, result: { message_id: this.n++, chat: { id: r.json.chat_id }, text: r.json.text } }];
    }
    // A Graph read of an account (Test connection asks for its fields).
    if (r.method === "GET" && r.path.includes("?fields=") && segments.length === 2 && first.startsWith("v")) {
      const token = String(r.headers.authorization ?? "").replace(/^Bearer /, "");
      if (!this.tokens.has(token)) {
        return [401, { error: { message: "Invalid OAuth access token - Cannot parse access token", type: "OAuthException", code: 190 } }];
      }
      if (segments[1] === "me") return [200, this.pages.get(token) ?? { id: "0", name: "Fake user" }];
      return [200, { id: segments[1], username: "fake_account", display_phone_number: "+1 555 0100", verified_name: "Fake Business" }];
    }
    if (segments.length === 3 && first.startsWith("v") && segments[2] === "messages") {
      const token = String(r.headers.authorization ?? "").replace(/^Bearer /, "");
      const graphError = (status: number, message: string, code: number): [number, unknown] => [
        status,
        { error: { message, type: "OAuthException", code } },
      ];
      if (!this.tokens.has(token)) return graphError(401, "Invalid OAuth access token - Cannot parse access token", 190);
      if (String(r.headers["content-type"] ?? "").startsWith("multipart/form-data")) {
        // An attachment upload: the recipient, the attachment's type, the file.
        const ok = ['name="recipient"', 'name="message"', 'name="filedata"; filename="'].every((p) => r.body.includes(p));
        return ok ? [200, { recipient_id: "x", message_id: `m_file${this.n++}` }] : graphError(400, "(#100) Upload attachment failure.", 100);
      }
      if (r.json?.messaging_product === "whatsapp") {
        if (r.json.to == null) return graphError(400, "(#100) The parameter to is required.", 100);
        return [200, { messaging_product: "whatsapp", contacts: [{ input: r.json.to, wa_id: r.json.to }], messages: [{ id: `wamid.fake${this.n++}` }] }];
      }
      if (r.json?.recipient?.id == null || r.json?.message == null) {
        return graphError(400, "(#100) param recipient must be non-empty.", 100);
      }
      return [200, { recipient_id: r.json.recipient.id, message_id: `m_fake${this.n++}` }];
    }
    return [200, { ok: true, id: `cb_${this.n++}` }];
  }
}
