// A freshly signed-up workspace per test (unique email), with a Messenger,
// a Telegram, a WhatsApp and a website-widget inbox, and helpers to send the
// platforms' signed webhooks exactly as the platforms sign them.
import crypto from "node:crypto";

export const APP_SECRET = "meta-app-secret";
export const VERIFY_TOKEN = "meta-verify-token";
export const PAGE_ID = "1000001";
export const PAGE_TOKEN = "EAAG-page-access-token";
export const WA_PHONE_ID = "2000002";
export const WA_TOKEN = "EAAG-whatsapp-access-token";
export const BOT_TOKEN = "123456:browser-test-bot-token";
export const TG_SECRET = "telegram-secret-token";
export const WIDGET_IDENTITY_SECRET = "widget-identity-secret";
export const PASSWORD = "correct horse battery staple";

let counter = 0;
export const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}${crypto.randomBytes(3).toString("hex")}`;

export interface Inbox {
  id: string;
  channel: string;
  webhook_url?: string;
  [k: string]: unknown;
}

export class Workspace {
  constructor(
    readonly base: string,
    readonly token: string,
    readonly email: string,
    readonly workspaceId: string,
    readonly inboxes: Record<string, Inbox>,
  ) {}

  /** A JSON call with this workspace's admin token; throws on a non-2xx answer. */
  async api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.raw(method, path, body);
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path} answered ${r.status}: ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  }

  raw(method: string, path: string, body?: unknown, token = this.token): Promise<Response> {
    return fetch(this.base + path, {
      method,
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /** POSTs a Messenger webhook with one text message per item, signed with the app secret. */
  async messenger(items: Array<{ psid: string; mid: string; text: string }>): Promise<Response> {
    const now = Date.now();
    const body = JSON.stringify({
      object: "page",
      entry: [
        {
          id: PAGE_ID,
          time: now,
          messaging: items.map((m) => ({
            sender: { id: m.psid },
            recipient: { id: PAGE_ID },
            timestamp: now,
            message: { mid: m.mid, text: m.text },
          })),
        },
      ],
    });
    return this.signedMeta("messenger", body);
  }

  /** POSTs any raw body to a Meta channel's webhook, signed as Meta signs it. */
  signedMeta(channel: "messenger" | "instagram" | "whatsapp", body: string): Promise<Response> {
    const sig = "sha256=" + crypto.createHmac("sha256", APP_SECRET).update(body).digest("hex");
    const inbox = this.inboxes[channel];
    if (!inbox) throw new Error(`no ${channel} inbox in this workspace`);
    return fetch(`${this.base}/webhooks/${channel}/${inbox.id}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hub-signature-256": sig },
      body,
    });
  }

  /** POSTs a WhatsApp text message from `from` (a phone number), signed. */
  whatsapp(from: string, id: string, text: string, name = "WhatsApp Customer"): Promise<Response> {
    const ts = Math.floor(Date.now() / 1000).toString();
    const body = JSON.stringify({
      object: "whatsapp_business_account",
      entry: [{
        id: "waba-1",
        changes: [{
          field: "messages",
          value: {
            messaging_product: "whatsapp",
            metadata: { display_phone_number: "15550000000", phone_number_id: WA_PHONE_ID },
            contacts: [{ profile: { name }, wa_id: from }],
            messages: [{ from, id, timestamp: ts, type: "text", text: { body: text } }],
          },
        }],
      }],
    });
    return this.signedMeta("whatsapp", body);
  }

  /** POSTs a Telegram update (a text message from `chatId`) with the secret token header. */
  telegram(updateId: number, chatId: number, text: string, firstName = "Telegram", languageCode = "en"): Promise<Response> {
    const inbox = this.inboxes.telegram;
    if (!inbox) throw new Error("no telegram inbox in this workspace");
    const body = JSON.stringify({
      update_id: updateId,
      message: {
        message_id: updateId,
        date: Math.floor(Date.now() / 1000),
        chat: { id: chatId, type: "private", first_name: firstName },
        from: { id: chatId, is_bot: false, first_name: firstName, language_code: languageCode },
        text,
      },
    });
    return fetch(`${this.base}/webhooks/telegram/${inbox.id}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": TG_SECRET },
      body,
    });
  }

  /** Waits until the conversation list has a conversation with this contact; returns its id. */
  async conversationOf(externalId: string, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const list = await this.api<{ conversations: any[] }>("GET", "/api/conversations?limit=100");
      const c = list.conversations.find((c) => c.contact?.external_id === externalId);
      if (c) return c.id;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no conversation with contact ${externalId} after ${timeoutMs} ms`);
  }
}

/** Signs up a workspace with one inbox per channel the browser tests use. */
export async function signUp(base: string, label = "Browser Test"): Promise<Workspace> {
  const email = `${label.toLowerCase().replace(/\W+/g, "-")}-${unique()}@example.test`;
  const r = await fetch(`${base}/api/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ workspace: label, name: "Alice Agent", email, password: PASSWORD }),
  });
  const signup = await r.json();
  if (!r.ok) throw new Error(`signup answered ${r.status}: ${JSON.stringify(signup)}`);
  const ws = new Workspace(base, signup.token, email, signup.workspace_id, {});
  const make = async (channel: string, name: string, settings: Record<string, unknown>) => {
    ws.inboxes[channel] = await ws.api<Inbox>("POST", "/api/inboxes", { channel, name, settings });
  };
  await make("messenger", "Messenger page", {
    page_id: PAGE_ID, app_secret: APP_SECRET, verify_token: VERIFY_TOKEN, page_access_token: PAGE_TOKEN,
  });
  await make("whatsapp", "WhatsApp number", {
    phone_number_id: WA_PHONE_ID, app_secret: APP_SECRET, verify_token: VERIFY_TOKEN, access_token: WA_TOKEN,
  });
  await make("telegram", "Telegram bot", { bot_token: BOT_TOKEN, secret_token: TG_SECRET });
  await make("widget", "Website", { identity_secret: WIDGET_IDENTITY_SECRET });
  return ws;
}
