var __defProp = Object.defineProperty;
var __name = (target, value) => __defProp(target, "name", { value, configurable: true });

// worker.js
import { DurableObject } from "cloudflare:workers";
var encoder = new TextEncoder();
var keyPromise = null;
function key(env) {
  if (!keyPromise) {
    keyPromise = crypto.subtle.importKey(
      "raw",
      encoder.encode(env.APP_SECRET),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"]
    );
  }
  return keyPromise;
}
__name(key, "key");
function hexToBytes(hex) {
  if (hex.length !== 64 || !/^[0-9a-f]+$/i.test(hex)) return null;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}
__name(hexToBytes, "hexToBytes");
function jsonResponse(status, value) {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json" }
  });
}
__name(jsonResponse, "jsonResponse");
async function webhook(request, env) {
  const raw = await request.arrayBuffer();
  const header = request.headers.get("x-hub-signature-256") || "";
  const sig = header.startsWith("sha256=") ? hexToBytes(header.slice(7)) : null;
  if (!sig || !await crypto.subtle.verify("HMAC", await key(env), sig, raw)) {
    return jsonResponse(401, { error: "signature verification failed" });
  }
  let body;
  try {
    body = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    return jsonResponse(400, { error: "body is not JSON" });
  }
  const groups = /* @__PURE__ */ new Map();
  for (const entry of body.entry || []) {
    for (const m of entry.messaging || []) {
      if (!m.message || !m.sender) continue;
      const psid = String(m.sender.id);
      if (!groups.has(psid)) groups.set(psid, []);
      groups.get(psid).push({ mid: String(m.message.mid), text: String(m.message.text || "") });
    }
  }
  const results = await Promise.all(
    [...groups].map(
      ([psid, messages]) => env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(psid)).ingest(messages)
    )
  );
  let stored = 0;
  for (const n of results) stored += n;
  return jsonResponse(200, { stored });
}
__name(webhook, "webhook");
var worker_default = {
  async fetch(request, env) {
    const url = new URL(request.url);
    const parts = url.pathname.split("/").filter(Boolean);
    if (request.method === "POST" && parts.length === 3 && parts[0] === "webhooks") {
      return webhook(request, env);
    }
    if (request.method === "GET" && parts.length === 4 && parts[0] === "api" && parts[1] === "conversations" && parts[3] === "live") {
      if (request.headers.get("upgrade") !== "websocket") {
        return jsonResponse(426, { error: "send Upgrade: websocket" });
      }
      return env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(parts[2])).fetch(request);
    }
    if (url.pathname === "/healthz") return jsonResponse(200, { ok: true });
    return jsonResponse(404, { error: "no route" });
  }
};
var FloorConversation = class extends DurableObject {
  static {
    __name(this, "FloorConversation");
  }
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, mid TEXT UNIQUE, at INTEGER NOT NULL, body TEXT NOT NULL)"
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
        message: { id: `msg_${seq}`, seq, platform_id: m.mid, text: m.text, direction: "inbound" }
      });
      const cursor = this.sql.exec(
        "INSERT INTO events (seq, mid, at, body) VALUES (?, ?, ?, ?) ON CONFLICT(mid) DO NOTHING",
        seq,
        m.mid,
        at,
        body
      );
      if (cursor.rowsWritten === 0) continue;
      this.lastSeq = seq;
      stored++;
      for (const ws of sockets) {
        try {
          ws.send(body);
        } catch {
        }
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
  webSocketMessage() {
  }
  webSocketClose(ws, code) {
    try {
      ws.close(code === 1005 || code === 1006 ? 1e3 : code, "closing");
    } catch {
    }
  }
};

// ../../node_modules/wrangler/templates/middleware/middleware-ensure-req-body-drained.ts
var drainBody = /* @__PURE__ */ __name(async (request, env, _ctx, middlewareCtx) => {
  try {
    return await middlewareCtx.next(request, env);
  } finally {
    try {
      if (request.body !== null && !request.bodyUsed) {
        const reader = request.body.getReader();
        while (!(await reader.read()).done) {
        }
      }
    } catch (e) {
      console.error("Failed to drain the unused request body.", e);
    }
  }
}, "drainBody");
var middleware_ensure_req_body_drained_default = drainBody;

// ../../node_modules/wrangler/templates/middleware/middleware-miniflare3-json-error.ts
function reduceError(e) {
  return {
    name: e?.name,
    message: e?.message ?? String(e),
    stack: e?.stack,
    cause: e?.cause === void 0 ? void 0 : reduceError(e.cause)
  };
}
__name(reduceError, "reduceError");
var jsonError = /* @__PURE__ */ __name(async (request, env, _ctx, middlewareCtx) => {
  try {
    return await middlewareCtx.next(request, env);
  } catch (e) {
    const error = reduceError(e);
    return Response.json(error, {
      status: 500,
      headers: { "MF-Experimental-Error-Stack": "true" }
    });
  }
}, "jsonError");
var middleware_miniflare3_json_error_default = jsonError;

// .wrangler/tmp/bundle-SkvL2f/middleware-insertion-facade.js
var __INTERNAL_WRANGLER_MIDDLEWARE__ = [
  middleware_ensure_req_body_drained_default,
  middleware_miniflare3_json_error_default
];
var middleware_insertion_facade_default = worker_default;

// ../../node_modules/wrangler/templates/middleware/common.ts
var __facade_middleware__ = [];
function __facade_register__(...args) {
  __facade_middleware__.push(...args.flat());
}
__name(__facade_register__, "__facade_register__");
function __facade_invokeChain__(request, env, ctx, dispatch, middlewareChain) {
  const [head, ...tail] = middlewareChain;
  const middlewareCtx = {
    dispatch,
    next(newRequest, newEnv) {
      return __facade_invokeChain__(newRequest, newEnv, ctx, dispatch, tail);
    }
  };
  return head(request, env, ctx, middlewareCtx);
}
__name(__facade_invokeChain__, "__facade_invokeChain__");
function __facade_invoke__(request, env, ctx, dispatch, finalMiddleware) {
  return __facade_invokeChain__(request, env, ctx, dispatch, [
    ...__facade_middleware__,
    finalMiddleware
  ]);
}
__name(__facade_invoke__, "__facade_invoke__");

// .wrangler/tmp/bundle-SkvL2f/middleware-loader.entry.ts
var __Facade_ScheduledController__ = class ___Facade_ScheduledController__ {
  constructor(scheduledTime, cron, noRetry) {
    this.scheduledTime = scheduledTime;
    this.cron = cron;
    this.#noRetry = noRetry;
  }
  static {
    __name(this, "__Facade_ScheduledController__");
  }
  #noRetry;
  noRetry() {
    if (!(this instanceof ___Facade_ScheduledController__)) {
      throw new TypeError("Illegal invocation");
    }
    this.#noRetry();
  }
};
function wrapExportedHandler(worker) {
  if (__INTERNAL_WRANGLER_MIDDLEWARE__ === void 0 || __INTERNAL_WRANGLER_MIDDLEWARE__.length === 0) {
    return worker;
  }
  for (const middleware of __INTERNAL_WRANGLER_MIDDLEWARE__) {
    __facade_register__(middleware);
  }
  const fetchDispatcher = /* @__PURE__ */ __name(function(request, env, ctx) {
    if (worker.fetch === void 0) {
      throw new Error("Handler does not export a fetch() function.");
    }
    return worker.fetch(request, env, ctx);
  }, "fetchDispatcher");
  return {
    ...worker,
    fetch(request, env, ctx) {
      const dispatcher = /* @__PURE__ */ __name(function(type, init) {
        if (type === "scheduled" && worker.scheduled !== void 0) {
          const controller = new __Facade_ScheduledController__(
            Date.now(),
            init.cron ?? "",
            () => {
            }
          );
          return worker.scheduled(controller, env, ctx);
        }
      }, "dispatcher");
      return __facade_invoke__(request, env, ctx, dispatcher, fetchDispatcher);
    }
  };
}
__name(wrapExportedHandler, "wrapExportedHandler");
function wrapWorkerEntrypoint(klass) {
  if (__INTERNAL_WRANGLER_MIDDLEWARE__ === void 0 || __INTERNAL_WRANGLER_MIDDLEWARE__.length === 0) {
    return klass;
  }
  for (const middleware of __INTERNAL_WRANGLER_MIDDLEWARE__) {
    __facade_register__(middleware);
  }
  return class extends klass {
    #fetchDispatcher = /* @__PURE__ */ __name((request, env, ctx) => {
      this.env = env;
      this.ctx = ctx;
      if (super.fetch === void 0) {
        throw new Error("Entrypoint class does not define a fetch() function.");
      }
      return super.fetch(request);
    }, "#fetchDispatcher");
    #dispatcher = /* @__PURE__ */ __name((type, init) => {
      if (type === "scheduled" && super.scheduled !== void 0) {
        const controller = new __Facade_ScheduledController__(
          Date.now(),
          init.cron ?? "",
          () => {
          }
        );
        return super.scheduled(controller);
      }
    }, "#dispatcher");
    fetch(request) {
      return __facade_invoke__(
        request,
        this.env,
        this.ctx,
        this.#dispatcher,
        this.#fetchDispatcher
      );
    }
  };
}
__name(wrapWorkerEntrypoint, "wrapWorkerEntrypoint");
var WRAPPED_ENTRY;
if (typeof middleware_insertion_facade_default === "object") {
  WRAPPED_ENTRY = wrapExportedHandler(middleware_insertion_facade_default);
} else if (typeof middleware_insertion_facade_default === "function") {
  WRAPPED_ENTRY = wrapWorkerEntrypoint(middleware_insertion_facade_default);
}
var middleware_loader_entry_default = WRAPPED_ENTRY;
export {
  FloorConversation,
  __INTERNAL_WRANGLER_MIDDLEWARE__,
  middleware_loader_entry_default as default
};
//# sourceMappingURL=worker.js.map
