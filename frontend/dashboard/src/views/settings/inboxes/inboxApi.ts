// The inbox settings' calls, through the one API module. Bodies whose
// shape depends on the channel go as plain JSON (the schema's oneOf cannot
// type a form's free fields); answers are the server's inbox view.
import { api, unwrap, rawJson, ApiError } from "@api/client";
import { useSession } from "../../../stores/session";

export interface WebhookState {
  status: "registered" | "failed";
  error?: string;
  url: string;
  at: number;
}

export interface InboxView {
  id: string;
  channel: string;
  name: string;
  webhook_url?: string | null;
  session_url?: string | null;
  settings: Record<string, unknown>;
  options?: { auto_assign?: boolean };
  webhook?: WebhookState | null;
  created_at?: number;
}

async function send<T>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await rawJson<T>(method, path, body);
  if (r.status >= 300) {
    const reason = (r.data as { error?: string } | null)?.error;
    throw new ApiError(r.status, reason ?? `HTTP ${r.status}`);
  }
  return r.data as T;
}

/** Keeps the session's inbox list (the inbox view's filters) in step. */
async function refreshSession(): Promise<void> {
  const session = useSession();
  const r = await unwrap(api.GET("/api/inboxes")).catch(() => null);
  if (r?.inboxes) session.inboxes = r.inboxes as typeof session.inboxes;
}

const path = (id: string) => ({ params: { path: { id } } });

export const inboxApi = {
  async list(): Promise<InboxView[]> {
    const r = await unwrap(api.GET("/api/inboxes"));
    return (r?.inboxes ?? []) as InboxView[];
  },
  async get(id: string): Promise<InboxView> {
    return (await unwrap(api.GET("/api/inboxes/{id}", path(id)))) as InboxView;
  },
  async create(channel: string, name: string, settings: Record<string, unknown>): Promise<InboxView> {
    const inbox = await send<InboxView>("POST", "/api/inboxes", { channel, name, settings });
    await refreshSession();
    return inbox;
  },
  async update(id: string, patch: { name?: string; settings?: Record<string, unknown>; options?: { auto_assign: boolean } }): Promise<InboxView> {
    const inbox = await send<InboxView>("PATCH", `/api/inboxes/${encodeURIComponent(id)}`, patch);
    await refreshSession();
    return inbox;
  },
  async remove(id: string): Promise<void> {
    await unwrap(api.DELETE("/api/inboxes/{id}", path(id)));
    await refreshSession();
  },
  async test(id: string): Promise<{ ok: boolean; account?: string; error?: string }> {
    return (await unwrap(api.POST("/api/inboxes/{id}/test", path(id)))) as { ok: boolean; account?: string; error?: string };
  },
  async testMessage(id: string, text?: string): Promise<{ conversation_id: string }> {
    return send<{ conversation_id: string }>("POST", `/api/inboxes/${encodeURIComponent(id)}/test_message`, text ? { text } : {});
  },
  async retryWebhook(id: string): Promise<InboxView> {
    return (await unwrap(api.POST("/api/inboxes/{id}/webhook", path(id)))) as InboxView;
  },
};
