// A V8 CPU profile of workerd through the devtools inspector, summarized.
//
//   SWITCHBOARD_INSPECTOR_PORT=9229 ./target/release/switchboard-bench --quick | \
//     node bench/profile.mjs --port 9229 --after "scenario 2:" --seconds 8 --out /tmp/tp.cpuprofile
//
// `scripts/serve.mjs` opens the inspector on SWITCHBOARD_INSPECTOR_PORT for
// Switchboard's own wrangler.toml only (never the floor's), so the bench's
// servers are otherwise unchanged. The script echoes its stdin (the bench's
// output), starts the profiler when a line contains `--after` (scenario 2
// measures Switchboard first, then the floor), stops after `--seconds`,
// writes the .cpuprofile (open it in Chrome DevTools) and prints the top
// functions by self time and by total time. Only talks to 127.0.0.1.
import { connect } from "./inspector.mjs";
import fs from "node:fs";
import readline from "node:readline";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const port = Number(opt("--port", "9229"));
const after = opt("--after", "");
const seconds = Number(opt("--seconds", "8"));
const out = opt("--out", "/tmp/workerd.cpuprofile");
const top = Number(opt("--top", "30"));
const interval = Number(opt("--interval-us", "200"));

let id = 0;
const pending = new Map();
function rpc(ws, method, params = {}) {
  const n = ++id;
  ws.send(JSON.stringify({ id: n, method, params }));
  return new Promise((ok, err) => pending.set(n, { ok, err }));
}

function summarize(profile) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  for (const s of profile.samples) self.set(s, (self.get(s) ?? 0) + 1);
  const name = (n) => {
    const f = n.callFrame;
    return f.functionName || `(anonymous ${f.url.split("/").pop()}:${f.lineNumber})`;
  };
  const total = profile.samples.length;
  const bySelf = new Map();
  const byTotal = new Map();
  for (const [nid, count] of self) {
    const n = nodes.get(nid);
    bySelf.set(name(n), (bySelf.get(name(n)) ?? 0) + count);
    // Each name once per stack, so recursion does not count twice.
    const seen = new Set();
    for (let cur = nid; cur !== undefined; cur = parent.get(cur)) {
      const nm = name(nodes.get(cur));
      if (seen.has(nm)) continue;
      seen.add(nm);
      byTotal.set(nm, (byTotal.get(nm) ?? 0) + count);
    }
  }
  const idle = bySelf.get("(idle)") ?? 0;
  const busy = total - idle;
  const pct = (c, of) => ((100 * c) / of).toFixed(1).padStart(5);
  console.log(`\nprofile: ${total} samples, idle ${pct(idle, total)}% — shares below are of busy samples (${busy})`);
  console.log("top by self time:");
  for (const [nm, c] of [...bySelf].filter(([n]) => n !== "(idle)").sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${pct(c, busy)}%  ${nm}`);
  console.log("top by total time:");
  for (const [nm, c] of [...byTotal]
    .filter(([n]) => !["(root)", "(idle)"].includes(n))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    console.log(`  ${pct(c, busy)}%  ${nm}`);
}

const ws = await connect(port);
ws.on("message", (data) => {
  const m = JSON.parse(data);
  if (m.id && pending.has(m.id)) {
    const p = pending.get(m.id);
    pending.delete(m.id);
    m.error ? p.err(new Error(JSON.stringify(m.error))) : p.ok(m.result);
  }
});
await rpc(ws, "Profiler.enable");
await rpc(ws, "Profiler.setSamplingInterval", { interval });

let started = false;
let done;
const finished = new Promise((r) => (done = r));
async function run() {
  started = true;
  console.log(`profile: started for ${seconds} s`);
  await rpc(ws, "Profiler.start");
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const { profile } = await rpc(ws, "Profiler.stop");
  fs.writeFileSync(out, JSON.stringify(profile));
  console.log(`profile: written to ${out}`);
  summarize(profile);
  done();
}
if (!after) run();
const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  console.log(line);
  if (!started && after && line.includes(after)) run();
});
rl.on("close", async () => {
  await finished;
  ws.close();
});
await finished;
