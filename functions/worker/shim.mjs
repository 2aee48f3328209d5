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

export class ConversationObject extends DurableObject {
  // Private: RPC exposes the prototype's methods, never this field.
  #inner;

  constructor(ctx, env) {
    super(ctx, env);
    this.#inner = new rust.ConversationObject(ctx, env);
  }

  // Every internal route, `POST /ingest` too for a caller of the previous
  // version during a deploy.
  fetch(request) {
    return this.#inner.fetch(request);
  }

  // RPC from the worker: the webhook's and the widget's messages
  // (`objects::ingest` in Rust). Resolves to the answer string of
  // `IngestResult::to_rpc_answer`.
  ingest(body) {
    return this.#inner.ingest(body);
  }

  // The object's alarm: index, outbox, snoozes, attachments, translation.
  alarm() {
    return this.#inner.alarm();
  }

  // Hibernating WebSockets: workerd calls these on this class.
  webSocketMessage(ws, message) {
    return this.#inner.webSocketMessage(ws, message);
  }

  webSocketClose(ws, code, reason, wasClean) {
    return this.#inner.webSocketClose(ws, code, reason, wasClean);
  }

  webSocketError(ws, error) {
    return this.#inner.webSocketError(ws, error);
  }
}

export class WorkspaceObject extends DurableObject {
  #inner;

  constructor(ctx, env) {
    super(ctx, env);
    this.#inner = new rust.WorkspaceObject(ctx, env);
  }

  // Every internal route, `POST /index` too for a caller of the previous
  // version during a deploy.
  fetch(request) {
    return this.#inner.fetch(request);
  }

  // RPC from a conversation object's alarm: its summary and new messages
  // (`objects::index` in Rust). Answers `WorkspaceObject::index_rpc`'s string.
  index(body) {
    return this.#inner.index(body);
  }

  // The workspace's alarm: presence, visitors, label jobs, ticket expiry.
  alarm() {
    return this.#inner.alarm();
  }

  // The dashboard's feed sockets (hibernating).
  webSocketMessage(ws, message) {
    return this.#inner.webSocketMessage(ws, message);
  }

  webSocketClose(ws, code, reason, wasClean) {
    return this.#inner.webSocketClose(ws, code, reason, wasClean);
  }

  webSocketError(ws, error) {
    return this.#inner.webSocketError(ws, error);
  }
}
