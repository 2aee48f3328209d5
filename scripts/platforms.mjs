// Sends what the platforms send, signed exactly as each platform signs it,
// to a Switchboard server: Meta's X-Hub-Signature-256 over the raw body,
// Telegram's secret-token header, the API channel's HMAC over
// `timestamp.body`, and the widget's identity hash. Used by scripts/demo.mjs
// and the browser benchmark (bench/browser/dashboard.mjs).
import crypto from "node:crypto";

const hmacHex = (secret, data) => crypto.createHmac("sha256", secret).update(data).digest("hex");

async function post(url, headers, body) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Meta (Messenger, Instagram, WhatsApp): `sha256=<hex HMAC-SHA256(app secret, raw body)>`. */
export function metaSignature(appSecret, body) {
  return "sha256=" + hmacHex(appSecret, body);
}

export function postMeta(base, channel, inboxId, appSecret, payload) {
  const body = JSON.stringify(payload);
  return post(`${base}/webhooks/${channel}/${inboxId}`, { "x-hub-signature-256": metaSignature(appSecret, body) }, body);
}

/** Messenger or Instagram `entry[].messaging[]` with text messages `{from, mid, text}` to `accountId`. */
export function messagingPayload(object, accountId, items, now = Date.now()) {
  return {
    object,
    entry: [{
      id: accountId,
      time: now,
      messaging: items.map((m) => ({
        sender: { id: m.from },
        recipient: { id: accountId },
        timestamp: now,
        message: { mid: m.mid, text: m.text },
      })),
    }],
  };
}

/** A page's own reply sent from another tool, which Meta echoes back. */
export function echoPayload(object, accountId, to, mid, text, now = Date.now()) {
  return {
    object,
    entry: [{
      id: accountId,
      time: now,
      messaging: [{
        sender: { id: accountId },
        recipient: { id: to },
        timestamp: now,
        message: { is_echo: true, app_id: 1517776481860111, mid, text },
      }],
    }],
  };
}

/** The customer read everything sent up to `watermark` (ms). */
export function readPayload(object, accountId, from, watermark) {
  return {
    object,
    entry: [{
      id: accountId,
      time: watermark,
      messaging: [{ sender: { id: from }, recipient: { id: accountId }, timestamp: watermark, read: { watermark } }],
    }],
  };
}

/** WhatsApp Cloud API text messages `{from, name, id, text}` to `phoneNumberId`. */
export function whatsappPayload(phoneNumberId, items, now = Date.now()) {
  const ts = String(Math.floor(now / 1000));
  return {
    object: "whatsapp_business_account",
    entry: [{
      id: "demo-waba",
      changes: [{
        field: "messages",
        value: {
          messaging_product: "whatsapp",
          metadata: { display_phone_number: "15550000000", phone_number_id: phoneNumberId },
          contacts: items.map((m) => ({ profile: { name: m.name }, wa_id: m.from })),
          messages: items.map((m) => ({ from: m.from, id: m.id, timestamp: ts, type: "text", text: { body: m.text } })),
        },
      }],
    }],
  };
}

/** Telegram: an Update, with the `X-Telegram-Bot-Api-Secret-Token` header Telegram sends. */
export function postTelegram(base, inboxId, secretToken, update) {
  return post(`${base}/webhooks/telegram/${inboxId}`, { "x-telegram-bot-api-secret-token": secretToken }, JSON.stringify(update));
}

export function telegramText(updateId, from, text, now = Date.now()) {
  return {
    update_id: updateId,
    message: {
      message_id: updateId,
      date: Math.floor(now / 1000),
      chat: { id: from.id, type: "private", first_name: from.first_name, last_name: from.last_name, username: from.username },
      from: { is_bot: false, ...from },
      text,
    },
  };
}

/** The API channel: `X-Switchboard-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. */
export function postApiChannel(base, inboxId, secret, payload, nowSecs = Math.floor(Date.now() / 1000)) {
  const body = JSON.stringify(payload);
  const ts = String(nowSecs);
  return post(`${base}/webhooks/api/${inboxId}`, {
    "x-switchboard-timestamp": ts,
    "x-switchboard-signature": "sha256=" + hmacHex(secret, `${ts}.${body}`),
  }, body);
}

/** A website visitor identified by the business: `user_hash = hex(HMAC-SHA256(identity secret, user_id))`. */
export async function widgetVisitor(base, inboxId, identitySecret, user) {
  const session = await post(`${base}/api/widget/${inboxId}/session`, {}, JSON.stringify({
    user_id: user.id,
    user_hash: hmacHex(identitySecret, user.id),
    name: user.name,
    email: user.email,
  }));
  return {
    ...session,
    // The widget sends the name and email the visitor gave with each message.
    write: (text, clientId) => post(`${base}/api/widget/messages`, { authorization: `Bearer ${session.token}` },
      JSON.stringify({ text, client_id: clientId, name: user.name, email: user.email })),
  };
}
