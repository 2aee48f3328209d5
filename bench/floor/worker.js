// The floor: a minimal hand-written Worker doing what Switchboard's hot path
// does, and nothing more.
//
//   POST /webhooks/messenger/{any}          verify X-Hub-Signature-256 over the
//        raw body (WebCrypto HMAC-SHA256), parse, group events by sender, one
//        Durable Object call per conversation in parallel, 200 after every
//        object has stored its events.
//   GET  /api/conversations/{psid}/live     WebSocket to that conversation's
//        object (hibernating), replaying events after ?since= first.
//   GET  /healthz                           200.
//
// One SQLite Durable Object per conversation: insert each message with the
// next seq (platform id unique: a redelivery stores nothing), then broadcast
// the event to every socket. The output gate holds the broadcast and the
// answer until the write is durable, as in Switchboard.
import { DurableObject } from "cloudflare:workers";

const encoder = new TextEncoder();
let keyPromise = null;

function key(env) {
  if (!keyPromise) {
    keyPromise = crypto.subtle.importKey(
      "raw",
      encoder.encode(env.APP_SECRET),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
  }
  return keyPromise;
}

function hexToBytes(hex) {
  if (hex.length !== 64 || !/^[0-9a-f]+$/i.test(hex)) return null;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

function jsonResponse(status, value) {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json" },
  });
}

async function webhook(request, env) {
  const raw = await request.arrayBuffer();
  const header = request.headers.get("x-hub-signature-256") || "";
  const sig = header.startsWith("sha256=") ? hexToBytes(header.slice(7)) : null;
  // crypto.subtle.verify compares in constant time.
  if (!sig || !(await crypto.subtle.verify("HMAC", await key(env), sig, raw))) {
    return jsonResponse(401, { error: "signature verification failed" });
  }
  let body;
  try {
    body = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    return jsonResponse(400, { error: "body is not JSON" });
  }
  const groups = new Map();
  for (const entry of body.entry || []) {
    for (const m of entry.messaging || []) {
      if (!m.message || !m.sender) continue;
      const psid = String(m.sender.id);
      if (!groups.has(psid)) groups.set(psid, []);
      groups.get(psid).push({ mid: String(m.message.mid), text: String(m.message.text || "") });
    }
  }
  const results = await Promise.all(
    [...groups].map(([psid, messages]) =>
      env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(psid)).ingest(messages),
    ),
  );
  let stored = 0;
  for (const n of results) stored += n;
  return jsonResponse(200, { stored });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const parts = url.pathname.split("/").filter(Boolean);
    if (request.method === "POST" && parts.length === 3 && parts[0] === "webhooks") {
      return webhook(request, env);
    }
    if (
      request.method === "GET" &&
      parts.length === 4 &&
      parts[0] === "api" &&
      parts[1] === "conversations" &&
      parts[3] === "live"
    ) {
      if (request.headers.get("upgrade") !== "websocket") {
        return jsonResponse(426, { error: "send Upgrade: websocket" });
      }
      return env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(parts[2])).fetch(request);
    }
    if (url.pathname === "/healthz") return jsonResponse(200, { ok: true });
    return jsonResponse(404, { error: "no route" });
  },
};

export class FloorConversation extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, mid TEXT UNIQUE, at INTEGER NOT NULL, body TEXT NOT NULL)",
    );
    this.lastSeq = this.sql.exec("SELECT COALESCE(MAX(seq), 0) AS n FROM events").one().n;
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  // RPC from the worker: store, broadcast, return how many were new.
  ingest(messages) {
    let stored = 0;
    const sockets = this.ctx.getWebSockets();
    for (const m of messages) {
      const seq = this.lastSeq + 1;
      const at = Date.now();
      const body = JSON.stringify({
        seq,
        at,
        type: "message_created",
        message: { id: `msg_${seq}`, seq, platform_id: m.mid, text: m.text, direction: "inbound" },
      });
      const cursor = this.sql.exec(
        "INSERT INTO events (seq, mid, at, body) VALUES (?, ?, ?, ?) ON CONFLICT(mid) DO NOTHING",
        seq,
        m.mid,
        at,
        body,
      );
      if (cursor.rowsWritten === 0) continue;
      this.lastSeq = seq;
      stored++;
      for (const ws of sockets) {
        try {
          ws.send(body);
        } catch {}
      }
    }
    return stored;
  }

  async fetch(request) {
    const since = Number(new URL(request.url).searchParams.get("since") || 0);
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    for (const row of this.sql.exec("SELECT body FROM events WHERE seq > ? ORDER BY seq", since)) {
      pair[1].send(row.body);
    }
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  webSocketMessage() {}

  webSocketClose(ws, code) {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closing");
    } catch {}
  }
}
