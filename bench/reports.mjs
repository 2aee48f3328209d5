// Times GET /api/reports over 90 days against the densest rollup a single
// inbox and agent can have: N conversations x 100 messages spread evenly over
// the last 90 days (platform timestamps), so nearly every quarter hour holds
// traffic, half of it replies (first responses), 100 conversations resolved.
// Prints p50/p90 beside a conversation-list page and /api/me of the same run.
//
//   bash scripts/build.sh && node bench/reports.mjs [conversations, default 200]
import { startWorker } from "./browser/server.mjs";
import { postMeta } from "../scripts/platforms.mjs";
const PAGE = "1000001", SECRET = "s";
const server = await startWorker();
const { base } = server;
const call = async (m, p, b, t) => { const r = await fetch(base + p, { method: m, headers: { "content-type": "application/json", ...(t ? { authorization: `Bearer ${t}` } : {}) }, body: b ? JSON.stringify(b) : undefined }); const j = await r.json().catch(() => ({})); if (!r.ok) throw new Error(`${m} ${p} ${r.status} ${JSON.stringify(j)}`); return j; };
try {
  const s = await call("POST", "/api/signup", { workspace: "rt", name: "a", email: "rt@example.test", password: "correct horse battery" });
  const inbox = (await call("POST", "/api/inboxes", { channel: "messenger", name: "m", settings: { page_id: PAGE, app_secret: SECRET, verify_token: "v", page_access_token: "t" } }, s.token)).id;
  const now = Date.now(), span = 90 * 86400e3, C = Number(process.argv[2] ?? 200), PER = 100;
  const t0 = Date.now();
  for (let c = 0; c < C; c++) {
    const start = now - span + (c * span) / C;
    const messaging = [];
    for (let i = 0; i < PER; i++) {
      const ts = Math.floor(start + i * ((span / C) / PER));
      const echo = i % 2 === 1;
      messaging.push({ sender: { id: echo ? PAGE : `p${c}` }, recipient: { id: echo ? `p${c}` : PAGE }, timestamp: ts, message: { mid: `m${c}.${i}`, text: `message ${i}`, is_echo: echo } });
    }
    await postMeta(base, "messenger", inbox, SECRET, { object: "page", entry: [{ id: PAGE, time: now, messaging }] });
  }
  console.log(`seeded ${C * PER} messages in ${C} conversations over 90 days in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const list = await call("GET", "/api/conversations?status=all&limit=100", null, s.token);
  for (const c of list.conversations.slice(0, 100)) await call("PATCH", `/api/conversations/${c.id}`, { status: "resolved" }, s.token);
  const day = (d) => new Date(now - d * 86400e3).toISOString().slice(0, 10);
  const q = `from=${day(89)}&to=${day(0)}`;
  for (let i = 0; i < 100; i++) { const r = await call("GET", `/api/reports?${q}`, null, s.token); if (r.totals.messages_in + r.totals.messages_out >= C * PER && r.totals.conversations_resolved >= 100) break; await new Promise((r) => setTimeout(r, 500)); }
  {
    const variants = { list: `/api/conversations?status=all&limit=50`, me: `/api/me`, day1: `/api/reports?from=${day(0)}&to=${day(0)}&group_by=channel`, ch90: `/api/reports?${q}&group_by=channel`, day90: `/api/reports?${q}&group_by=day` };
    const res = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    for (let i = 0; i < 40; i++) for (const [k, p] of Object.entries(variants)) { const a = performance.now(); await call("GET", p, null, s.token); res[k].push(performance.now() - a); }
    for (const [k, v] of Object.entries(res)) { v.sort((a, b) => a - b); console.log(`${k.padEnd(6)} p50 ${v[19].toFixed(1)} ms  p90 ${v[35].toFixed(1)} ms`); }
  }
  for (const g of ["day", "agent", "channel"]) {
    const ms = [];
    let last;
    for (let i = 0; i < 30; i++) { const a = performance.now(); last = await call("GET", `/api/reports?${q}&group_by=${g}`, null, s.token); ms.push(performance.now() - a); }
    ms.sort((a, b) => a - b);
    console.log(`group_by=${g}: p50 ${ms[14].toFixed(1)} ms, p99 ${ms[29].toFixed(1)} ms; rows ${last.rows.length}; totals in ${last.totals.messages_in} out ${last.totals.messages_out} opened ${last.totals.conversations_opened} resolved ${last.totals.conversations_resolved} FR ${JSON.stringify(last.totals.first_response)}`);
  }
  const ms = []; for (let i = 0; i < 30; i++) { const a = performance.now(); await call("GET", `/api/conversations?status=all&limit=50`, null, s.token); ms.push(performance.now() - a); } ms.sort((a, b) => a - b);
  console.log(`for scale: conversation list page p50 ${ms[14].toFixed(1)} ms`);
} finally { server.stop(); }
