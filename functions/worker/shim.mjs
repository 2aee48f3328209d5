// The worker's entry (wrangler.toml `main`): worker-build's module as it
// is (built into ./build by scripts/build.sh), except that both Durable
// Object classes are exported as classes that extend DurableObject.
// workerd accepts JS RPC only to such a class, and a Rust
// `#[durable_object]` class is not one. Every method forwards to the Rust
// object (worker-build's export, with its reinitialization after a panic),
// which does all the work; this file adds no logic of its own.
import { DurableObject } from "cloudflare:workers";
import * as rust from "./build/index.js";

export * from "./build/index.js";
export { default } from "./build/index.js";

// Each wrapper's Rust object, kept out of the instance: RPC exposes the
// prototype's methods and nothing else.
const inner = new WeakMap();

// What workerd calls on every Durable Object class, forwarded.
class RustObject extends DurableObject {
  constructor(ctx, env, Rust) {
    super(ctx, env);
    inner.set(this, new Rust(ctx, env));
  }

  // Every internal route, and the fetch route of each RPC method below for
  // a caller of the previous version during a deploy.
  fetch(request) {
    return inner.get(this).fetch(request);
  }

  // Conversation: index, outbox, snoozes, attachments, translation.
  // Workspace: presence, visitors, label jobs, ticket expiry.
  alarm() {
    return inner.get(this).alarm();
  }

  // Hibernating WebSockets: workerd calls these on the exported class.
  webSocketMessage(ws, message) {
    return inner.get(this).webSocketMessage(ws, message);
  }

  webSocketClose(ws, code, reason, wasClean) {
    return inner.get(this).webSocketClose(ws, code, reason, wasClean);
  }

  webSocketError(ws, error) {
    return inner.get(this).webSocketError(ws, error);
  }
}

export class ConversationObject extends RustObject {
  constructor(ctx, env) {
    super(ctx, env, rust.ConversationObject);
  }

  // RPC from the worker: the webhook's and the widget's messages
  // (`objects::ingest` in Rust). Resolves to the answer string of
  // `IngestResult::to_rpc_answer`.
  ingest(body) {
    return inner.get(this).ingest(body);
  }
}

export class WorkspaceObject extends RustObject {
  constructor(ctx, env) {
    super(ctx, env, rust.WorkspaceObject);
  }

  // RPC from a conversation object's alarm: its summary and new messages
  // (`objects::index` in Rust). Answers `WorkspaceObject::index_rpc`'s string.
  index(body) {
    return inner.get(this).index(body);
  }
}
