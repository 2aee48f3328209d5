// The dashboard in a real browser, measured: run by hand, prints figures.
//
//   bash scripts/build.sh                      # once: the worker and the front end
//   node bench/browser/dashboard.mjs [--messages 200] [--rate 20] [--history 1000]
//        [--url http://127.0.0.1:PORT] [--headed] [--contract-stub]
//
// Starts its own worker (scripts/serve.mjs on a free port, fresh state;
// --url drives a running one instead), signs up a workspace with a
// Messenger inbox, seeds conversations through signed webhooks, then in
// Chromium (/usr/bin/chromium) logs in through the UI and prints:
//   - login click → interactive inbox (the first list row in the DOM);
//   - webhook → visible in the DOM, p50/p99, for N messages into the open
//     conversation and N messages into the list (each from a new
//     customer), beside webhook → agent WebSocket for the same messages (a
//     second, blank page holding the conversation's live socket and the
//     feed socket with the browser's own WebSocket), and what the
//     dashboard adds on top of its own socket;
//   - opening a conversation of 1,000 messages (click → its newest message
//     in the DOM), cold and warm.
// Webhooks are sent at a fixed rate (--rate per second) so that queueing
// does not hide what the dashboard costs. Times are wall-clock ms taken in
// Node and in the pages (one machine, one clock).
//
// The DOM contract it relies on (frontend/dashboard): timeline messages
// carry data-message-id and data-seq, list rows data-conversation-id; the
// login form has fields labelled "Email" and "Password" and a "Log in"
// button; a conversation's route is /conversations/<id>. Without a login
// form at / it says so and measures the socket side only.
// --contract-stub serves bench/browser/contract-stub.html (a bare page that
// meets that contract) instead of the dashboard: a check of the benchmark
// itself, and the floor a dashboard is compared with.
import { chromium } from "playwright-core";
import crypto from "node:crypto";
import fs from "node:fs";
import { startWorker } from "./server.mjs";
import { dashboardProbe, openAgentSockets, TOKEN_SOURCE } from "./probe.mjs";
import { messagingPayload, postMeta } from "../../scripts/platforms.mjs";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const N = Number(opt("messages", 200));
const RATE = Number(opt("rate", 20));
const HISTORY = Number(opt("history", 1000));
const URL_GIVEN = opt("url", null);
const HEADED = args.includes("--headed");
const STUB = args.includes("--contract-stub");
if (!(N > 0 && N <= 5000 && RATE > 0 && RATE <= 1000 && HISTORY > 0 && HISTORY <= 20_000)) {
  console.error("dashboard.mjs: --messages 1..5000, --rate 1..1000, --history 1..20000");
  process.exit(2);
}

const PAGE_ID = "1000001";
const APP_SECRET = "bench-meta-app-secret";
const PASSWORD = "bench password, long enough";
const run = crypto.randomBytes(3).toString("hex");
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function pct(values, p) {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
const ms = (v) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : "—");
const p50p99 = (v) => `${ms(pct(v, 50))} / ${ms(pct(v, 99))}`;

async function api(base, method, path, body, token) {
  const res = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${json.error ?? "?"}`);
  return json;
}

async function conversationOf(base, token, psid) {
  for (let i = 0; i < 200; i++) {
    const { conversations } = await api(base, "GET", "/api/conversations?status=all&limit=100", undefined, token);
    const c = conversations.find((c) => c.contact?.external_id === psid);
    if (c) return c;
    await sleep(100);
  }
  throw new Error(`no conversation with ${psid}`);
}

/** Sends `texts[i]` from `from(i)` at RATE per second; returns each send time by token. */
async function sendAtRate(base, inbox, items) {
  const sent = {};
  const answers = [];
  const start = now() + 50;
  for (let i = 0; i < items.length; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - now();
    if (wait > 0) await sleep(wait);
    const { from, token, text } = items[i];
    const payload = messagingPayload("page", PAGE_ID, [{ from, mid: `m_${token}`, text }], Date.now());
    sent[token] = now();
    answers.push(postMeta(base, "messenger", inbox, APP_SECRET, payload).then(() => true, () => false));
  }
  const ok = (await Promise.all(answers)).filter(Boolean).length;
  return { sent, failed: items.length - ok };
}

/** Waits until every token is in each of `sources()`'s maps, or `timeoutMs`. */
async function settle(sources, tokens, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let maps = await sources();
  while (Date.now() < deadline && !maps.every((m) => tokens.every((t) => t in m))) {
    await sleep(200);
    maps = await sources();
  }
  return maps;
}

function latencies(sent, arrived) {
  const out = [];
  for (const [token, t0] of Object.entries(sent)) if (token in arrived) out.push(arrived[token] - t0);
  return out;
}

async function main() {
  const server = URL_GIVEN ? { base: URL_GIVEN.replace(/\/$/, ""), stop: () => {} } : await startWorker();
  const { base } = server;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: !HEADED,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-quic",
      // A page fulfilled by Playwright has no address space; its sockets to 127.0.0.1 would be refused.
      ...(STUB ? ["--disable-features=LocalNetworkAccessChecks"] : [])],
  });
  const stopAll = async () => {
    await browser.close().catch(() => {});
    server.stop();
  };
  process.on("SIGINT", () => stopAll().then(() => process.exit(130)));
  try {
    await bench(base, browser);
  } finally {
    await stopAll();
  }
}

async function bench(base, browser) {
  const email = `bench-${run}@example.test`;
  const signup = await api(base, "POST", "/api/signup", { workspace: "Browser Bench", name: "Bench Agent", email, password: PASSWORD });
  const token = signup.token;
  agentToken = token;
  const inbox = (await api(base, "POST", "/api/inboxes", {
    channel: "messenger", name: "Bench page",
    settings: { page_id: PAGE_ID, app_secret: APP_SECRET, verify_token: "bench-verify", page_access_token: "bench-page-token" },
  }, token)).id;

  // Seed: 20 conversations for the list, one to keep open, one of HISTORY messages.
  await postMeta(base, "messenger", inbox, APP_SECRET, messagingPayload("page", PAGE_ID,
    Array.from({ length: 20 }, (_, i) => ({ from: `seed-${i}`, mid: `m_seed_${i}`, text: `Seeded question ${i}` }))));
  await postMeta(base, "messenger", inbox, APP_SECRET, messagingPayload("page", PAGE_ID,
    [{ from: "bench-open", mid: "m_open_0", text: "The conversation the agent keeps open" }]));
  for (let done = 0; done < HISTORY; done += 100) {
    const batch = Array.from({ length: Math.min(100, HISTORY - done) }, (_, k) => ({
      from: "bench-history", mid: `m_hist_${done + k}`, text: `History message ${done + k + 1} of ${HISTORY}`,
    }));
    await postMeta(base, "messenger", inbox, APP_SECRET, messagingPayload("page", PAGE_ID, batch));
  }
  const open = await conversationOf(base, token, "bench-open");
  let history = await conversationOf(base, token, "bench-history");
  for (let i = 0; i < 100 && history.last_seq < HISTORY; i++) {
    await sleep(100);
    history = await conversationOf(base, token, "bench-history");
  }

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  if (STUB) {
    const html = fs.readFileSync(new URL("./contract-stub.html", import.meta.url), "utf8");
    await context.route((u) => u.origin === base && !/^\/(api|webhooks)\//.test(u.pathname),
      (route) => route.fulfill({ contentType: "text/html", body: html }));
  }
  const version = browser.version();
  const results = { version };

  // The agent's sockets, in a blank page with the browser's own WebSocket.
  const socketPage = await context.newPage();
  const wsBase = base.replace(/^http/, "ws");
  await socketPage.evaluate(openAgentSockets, {
    tokenSource: TOKEN_SOURCE,
    urls: {
      conversation: `${wsBase}/api/conversations/${open.id}/live?since=${open.last_seq}&token=${encodeURIComponent(token)}`,
      feed: `${wsBase}/api/live?since=0&token=${encodeURIComponent(token)}`,
    },
  });
  const sockets = () => socketPage.evaluate(() => window.__sockets);

  // The dashboard, probed from before its first script.
  const page = await context.newPage();
  await page.addInitScript(dashboardProbe, TOKEN_SOURCE);
  await page.goto(`${base}/`);
  const emailField = page.getByLabel("Email");
  const hasDashboard = await emailField.waitFor({ state: "visible", timeout: 15_000 }).then(() => true, () => false);
  const probe = () => page.evaluate(() => window.__bench);

  if (hasDashboard) {
    await emailField.fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.locator("[data-conversation-id]").first().waitFor({ state: "visible", timeout: 30_000 });
    const p = await probe();
    results.login = p.firstRow - p.click;
    // Show every conversation, whatever the default filter is.
    const all = page.getByRole("button", { name: /^All$/ }).or(page.getByRole("tab", { name: /^All$/ }));
    if (await all.count()) await all.first().click().catch(() => {});
    await openConversation(page, base, open);
  } else {
    console.log(`No login form labelled "Email" at ${base}/: the dashboard is not built yet; DOM figures are skipped.`);
  }

  // 1. Into the open conversation.
  const intoOpen = Array.from({ length: N }, (_, i) => {
    const t = `bench-open-${run}-${i}`;
    return { from: "bench-open", token: t, text: `Any news on my order? ${t}` };
  });
  const a = await sendAtRate(base, inbox, intoOpen);
  const tokensA = intoOpen.map((x) => x.token);
  const [sockA, domA] = await settle(async () => {
    const s = await sockets();
    return [s.conversation, hasDashboard ? (await probe()).message : {}];
  }, tokensA);
  const pA = hasDashboard ? await probe() : null;
  results.open = {
    failed: a.failed,
    socket: latencies(a.sent, sockA),
    dom: hasDashboard ? latencies(a.sent, domA) : [],
    own: hasDashboard ? latencies(a.sent, pA.socket) : [],
    added: hasDashboard ? tokensA.filter((t) => t in domA && t in pA.socket).map((t) => domA[t] - pA.socket[t]) : [],
  };

  // 2. Into the list: each message from a new customer.
  const intoList = Array.from({ length: N }, (_, i) => {
    const t = `bench-list-${run}-${i}`;
    return { from: `bench-new-${run}-${i}`, token: t, text: `Hello, a question ${t}` };
  });
  const b = await sendAtRate(base, inbox, intoList);
  const tokensB = intoList.map((x) => x.token);
  const [sockB, domB] = await settle(async () => {
    const s = await sockets();
    return [s.feed, hasDashboard ? (await probe()).row : {}];
  }, tokensB);
  const pB = hasDashboard ? await probe() : null;
  results.list = {
    failed: b.failed,
    socket: latencies(b.sent, sockB),
    dom: hasDashboard ? latencies(b.sent, domB) : [],
    own: hasDashboard ? latencies(b.sent, pB.socket) : [],
    added: hasDashboard ? tokensB.filter((t) => t in domB && t in pB.socket).map((t) => domB[t] - pB.socket[t]) : [],
  };

  // 3. Opening the conversation of HISTORY messages: cold, then warm.
  if (hasDashboard) {
    results.history = [];
    for (let i = 0; i < 4; i++) {
      results.history.push(await openConversation(page, base, history));
      await openConversation(page, base, open);
    }
  }
  results.historySize = await newestSeq(base, history.id);
  report(results);
}

let agentToken = "";
async function newestSeq(base, id) {
  const { messages } = await api(base, "GET", `/api/conversations/${id}/messages?limit=1`, undefined, agentToken);
  return messages.at(-1)?.seq ?? 0;
}

/** Clicks the conversation's row (or goes to its route) and waits for its newest message; returns click → DOM ms. */
async function openConversation(page, base, conv) {
  // Forget what the previous opening showed: this one is timed afresh.
  await page.evaluate(() => {
    window.__bench.click = 0;
    window.__bench.seq = {};
  });
  const row = page.locator(`[data-conversation-id="${conv.id}"]`).first();
  const viaRow = (await row.count()) > 0;
  const started = now();
  if (viaRow) await row.click();
  else await page.goto(`${base}/conversations/${conv.id}`);
  const seq = String(await newestSeq(base, conv.id));
  await page.locator(`[data-message-id][data-seq="${seq}"]`).first().waitFor({ state: "attached", timeout: 30_000 });
  const p = await page.evaluate(() => window.__bench);
  // A click made in the page has its own time; a navigation falls back to Node's.
  return (p.seq[seq] ?? now()) - (viaRow && p.click ? p.click : started);
}

function report(r) {
  const lost = (x) => N - x.socket.length;
  const lines = [
    `${STUB ? "Contract stub (not the dashboard)" : "Dashboard"} in the browser — Chromium ${r.version}, ${N} messages per scenario at ${RATE}/s, ${HEADED ? "headed" : "headless"}`,
    "",
    `  login click → interactive inbox (first list row)      ${ms(r.login)}`,
    "",
    "                                         p50 / p99",
    `  open conversation: webhook → agent socket     ${p50p99(r.open.socket)}   (lost ${lost(r.open)}, webhooks failed ${r.open.failed})`,
    `  open conversation: webhook → DOM              ${p50p99(r.open.dom)}   (seen ${r.open.dom.length}/${N})`,
    `  open conversation: dashboard's own socket     ${p50p99(r.open.own)}`,
    `  open conversation: DOM − own socket (added)   ${p50p99(r.open.added)}`,
    `  list: webhook → feed socket                   ${p50p99(r.list.socket)}   (lost ${lost(r.list)}, webhooks failed ${r.list.failed})`,
    `  list: webhook → DOM (row with the preview)    ${p50p99(r.list.dom)}   (seen ${r.list.dom.length}/${N})`,
    `  list: dashboard's own socket                  ${p50p99(r.list.own)}`,
    `  list: DOM − own socket (added)                ${p50p99(r.list.added)}`,
    "",
  ];
  if (r.history) {
    const [cold, ...warm] = r.history;
    lines.push(`  open a conversation of ${r.historySize} messages (click → newest message in the DOM): cold ${ms(cold)}, warm p50 ${ms(pct(warm, 50))} (${warm.length} runs)`);
  } else {
    lines.push("  DOM figures: not measured (no dashboard login form)");
  }
  console.log(lines.join("\n"));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
