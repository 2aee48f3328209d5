// V8's heap of Switchboard's isolate over time, through the devtools
// inspector: what JS objects hold, which workerd's RSS does not separate
// from the rest of the process.
//
//   SWITCHBOARD_INSPECTOR_PORT=9339 ./target/release/switchboard-bench --soak --soak-rounds 4 --soak-same-visitors &
//   node bench/heap.mjs --port 9339 --every 15 --gc
//
// Every `--every` seconds it prints the heap's used and total MiB
// (`Runtime.getHeapUsage`); with `--gc` it then forces a full collection
// (`HeapProfiler.collectGarbage`) and prints them again: what is still
// alive. It reconnects when the server restarts (the soak kills it once)
// and runs until stopped. Only talks to 127.0.0.1.
import { connect } from "./inspector.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const port = Number(opt("--port", "9229"));
const every = Number(opt("--every", "15"));
const gc = args.includes("--gc");
const started = Date.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const mib = (u) => (u ? `used=${(u.usedSize / 2 ** 20).toFixed(1)} total=${(u.totalSize / 2 ** 20).toFixed(1)}` : "?");

for (;;) {
  const ws = await connect(port, Infinity);
  let id = 0;
  let closed = false;
  const pending = new Map();
  ws.on("message", (data) => {
    const m = JSON.parse(data);
    pending.get(m.id)?.(m);
    pending.delete(m.id);
  });
  ws.on("error", () => {});
  ws.on("close", () => {
    closed = true;
    for (const done of pending.values()) done({ error: "closed" });
  });
  const rpc = (method) => {
    if (closed) return Promise.resolve({ error: "closed" });
    const n = ++id;
    ws.send(JSON.stringify({ id: n, method, params: {} }));
    return new Promise((ok) => pending.set(n, ok));
  };
  while (!closed) {
    const at = ((Date.now() - started) / 1000).toFixed(0);
    let line = `heap ${at}s ${mib((await rpc("Runtime.getHeapUsage")).result)}`;
    if (gc) {
      await rpc("HeapProfiler.collectGarbage");
      line += ` after GC ${mib((await rpc("Runtime.getHeapUsage")).result)}`;
    }
    console.log(line);
    await sleep(every * 1000);
  }
  console.log("heap: inspector closed (server restarting?), reconnecting");
}
