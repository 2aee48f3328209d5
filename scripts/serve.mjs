// Serves the built worker on local workerd through wrangler's own API
// (`unstable_startWorker`), the same engine as `wrangler dev`, but without
// the devtools inspector: under `wrangler dev` every subrequest (each
// Durable Object call, each D1 query) is traced to the inspector and
// written to wrangler's debug log, which costs more CPU than the work it
// traces. Used by the tests, the benchmark and scripts/run.sh.
//
//   node scripts/serve.mjs --port 8787 --persist-to .wrangler/state \
//       [--config wrangler.toml] [--env-file .dev.vars]... [--var KEY:VALUE]...
//
// Secrets come only from what it is given: `--env-file` (a `.dev.vars` /
// dotenv file, repeatable; scripts/run.sh passes `.dev.vars`) and `--var`.
// Unlike `wrangler dev` it never picks up a `.dev.vars` by itself, so the
// tests and the bench cannot be changed by a developer's local secrets.
// It never builds: run scripts/build.sh first. Stops on SIGTERM/SIGINT.
//
// Profiling: SWITCHBOARD_INSPECTOR_PORT=9229 opens the devtools inspector on
// that port, for Switchboard's own wrangler.toml only (the bench's floor runs
// through this script too and is left as is); bench/profile.mjs reads a CPU
// profile from it. The inspector traces every subrequest, so measure without.
import { unstable_startWorker } from "wrangler";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
let port = 8787;
let ip = "127.0.0.1";
let persist = path.join(root, ".wrangler/state");
let config = path.join(root, "wrangler.toml");
const vars = {};
const envFiles = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--port") port = Number(args[++i]);
  else if (a === "--ip") ip = args[++i];
  else if (a === "--persist-to") persist = path.resolve(args[++i]);
  else if (a === "--config") config = path.resolve(args[++i]);
  else if (a === "--env-file") envFiles.push(path.resolve(args[++i]));
  else if (a === "--var") {
    const kv = args[++i];
    const at = kv.indexOf(":");
    if (at < 1) throw new Error(`--var wants KEY:VALUE, got ${kv}`);
    vars[kv.slice(0, at)] = { type: "plain_text", value: kv.slice(at + 1) };
  } else {
    console.error(`serve.mjs: unknown argument ${a}`);
    process.exit(2);
  }
}

const inspectorPort =
  config === path.join(root, "wrangler.toml") ? Number(process.env.SWITCHBOARD_INSPECTOR_PORT || 0) : 0;
process.env.SWITCHBOARD_SKIP_BUILD = "1";
const worker = await unstable_startWorker({
  config,
  bindings: vars,
  // Given files only; an empty list would make wrangler read .dev.vars.
  envFiles: envFiles.length ? envFiles : [os.devNull],
  dev: {
    server: { hostname: ip, port },
    inspector: inspectorPort ? { port: inspectorPort } : false,
    persist,
    watch: false,
    liveReload: false,
    logLevel: "warn",
    remote: false,
  },
});
await worker.ready;
console.log(`Ready on http://${ip}:${port}`);

const stop = async () => {
  try {
    await worker.dispose();
  } finally {
    process.exit(0);
  }
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
