// A Switchboard worker for the browser benchmark: scripts/serve.mjs (local
// workerd, inspector off) on a free port with a fresh state folder and the
// D1 migrations applied, as tests/browser/support/server.ts does. Killed by
// process group (node and workerd) on stop().
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const env = {
  ...process.env,
  SWITCHBOARD_SKIP_BUILD: "1",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  NO_COLOR: "1",
};

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function startWorker() {
  for (const f of ["functions/worker/build/worker/shim.mjs", "frontend/dist/index.html"]) {
    if (!fs.existsSync(path.join(repoRoot, f))) throw new Error(`${f} is missing: run bash scripts/build.sh first`);
  }
  const state = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-bench-browser-"));
  execFileSync(path.join(repoRoot, "node_modules/.bin/wrangler"),
    ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { cwd: repoRoot, env, stdio: "pipe" });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const logFile = path.join(state, "serve.log");
  const log = fs.openSync(logFile, "w");
  const child = spawn("node", [path.join(repoRoot, "scripts/serve.mjs"), "--port", String(port), "--persist-to", state,
    "--var", "SESSION_SECRET:bench-session-secret-not-for-production",
    "--var", "SECRETS_KEY:be7c00000000000000000000000000000000000000000000000000000000be7c"],
  { cwd: repoRoot, env, stdio: ["ignore", log, log], detached: true });
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
    fs.rmSync(state, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return { base, stop };
    } catch {
      /* not up yet */
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 150));
  }
  const text = fs.readFileSync(logFile, "utf8");
  stop();
  throw new Error(`the worker did not start; its log:\n${text}`);
}
