// Creates the demo workspace once (remembered in <state>/demo.json) and
// prints how to reach it. Called by scripts/run.sh with the server running.
// Every value here is an obvious demo value for local runs, not a secret.
import fs from "node:fs";
import { seedDemoTraffic } from "./demo-traffic.mjs";

const [base, file] = process.argv.slice(2);
const login = { email: "demo@switchboard.local", password: "switchboard-demo" };

async function call(method, path, body, token) {
  const res = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${json.error ?? "?"}`);
  return json;
}

const inboxes = [
  { channel: "messenger", name: "Demo Messenger page",
    settings: { page_id: "100000000000001", app_secret: "demo-meta-app-secret", verify_token: "demo-verify-token", page_access_token: "demo-page-access-token" } },
  { channel: "instagram", name: "Demo Instagram account",
    settings: { account_id: "17841400000000001", app_secret: "demo-meta-app-secret", verify_token: "demo-verify-token", access_token: "demo-instagram-access-token" } },
  { channel: "whatsapp", name: "Demo WhatsApp number",
    settings: { phone_number_id: "100000000000002", app_secret: "demo-meta-app-secret", verify_token: "demo-verify-token", access_token: "demo-whatsapp-access-token" } },
  { channel: "telegram", name: "Demo Telegram bot",
    settings: { bot_token: "123456:demo-bot-token", secret_token: "demo-telegram-secret" } },
  { channel: "api", name: "Demo API channel",
    settings: { secret: "demo-api-channel-secret", callback_url: "http://127.0.0.1:9/callback" } },
  { channel: "widget", name: "Demo website widget",
    settings: { identity_secret: "demo-widget-identity-secret" } },
];

let demo = null;
let session = null;
if (fs.existsSync(file)) {
  demo = JSON.parse(fs.readFileSync(file, "utf8"));
  try {
    session = await call("POST", "/api/login", login);
  } catch {
    demo = null; // the state folder was reset: make it again
  }
}
if (!demo) {
  const signup = await call("POST", "/api/signup", { workspace: "Demo Workspace", name: "Demo Agent", ...login });
  const created = [];
  for (const inbox of inboxes) {
    const made = await call("POST", "/api/inboxes", inbox, signup.token);
    created.push({ ...made, secrets: inbox.settings });
  }
  demo = { workspace_id: signup.workspace_id, inboxes: created, seeded: false };
  session = signup;
  fs.writeFileSync(file, JSON.stringify(demo, null, 2));
}
// The sample traffic, once. A run cut short seeds again: every step is
// idempotent (platform message ids, client ids), so nothing doubles.
if (!demo.seeded) {
  await seedDemoTraffic({ base, call, token: session.token, agentId: session.agent_id, inboxes: demo.inboxes });
  demo.seeded = true;
  fs.writeFileSync(file, JSON.stringify(demo, null, 2));
}

console.log(`
Switchboard is running.

  Dashboard   ${base}/
  Login       ${login.email} / ${login.password}
  Sample      8 conversations on Messenger, Instagram, WhatsApp, Telegram, the API channel and the widget

Inboxes (webhook URL and the demo secrets to sign with):`);
for (const i of demo.inboxes) {
  const url = i.webhook_url ?? `${i.session_url} (visitor sessions)`;
  console.log(`
  ${i.channel.padEnd(10)} ${url}
             ${Object.entries(i.secrets).map(([k, v]) => `${k}=${v}`).join("  ")}`);
}
console.log(`
State is kept in .wrangler/state. Ctrl-C stops the server.`);
