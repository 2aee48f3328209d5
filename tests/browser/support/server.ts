// One real Switchboard worker per Playwright worker: scripts/serve.mjs
// (wrangler's dev server on local workerd, the same engine as the tests in
// Rust) on a free port, with its own fresh state folder and D1 migrations.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export const repoRoot = path.resolve(__dirname, "../../..");
export const TEST_SESSION_SECRET = "test-session-secret-not-for-production";
/** Seals platform secrets at rest in tests (a demo value). */
export const TEST_SECRETS_KEY = "7e57000000000000000000000000000000000000000000000000000000007e57";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const env = {
  ...process.env,
  SWITCHBOARD_SKIP_BUILD: "1",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  NO_COLOR: "1",
};

export class WorkerServer {
  base = "";
  port = 0;
  private child: ChildProcess | null = null;
  readonly state: string;
  private logFile = "";

  constructor(private vars: Record<string, string> = {}) {
    this.state = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-browser-"));
    execFileSync(
      path.join(repoRoot, "node_modules/.bin/wrangler"),
      ["d1", "migrations", "apply", "DB", "--local", "--persist-to", this.state],
      { cwd: repoRoot, env, stdio: "pipe" },
    );
  }

  /** Starts the worker and waits until /healthz answers; retries a stuck start twice. */
  async start(): Promise<void> {
    let last = "";
    for (let attempt = 1; attempt <= 3; attempt++) {
      this.port = await freePort();
      this.base = `http://127.0.0.1:${this.port}`;
      this.logFile = path.join(this.state, `serve-${this.port}.log`);
      const log = fs.openSync(this.logFile, "w");
      const args = [path.join(repoRoot, "scripts/serve.mjs"), "--port", String(this.port), "--persist-to", this.state,
        "--var", `SESSION_SECRET:${TEST_SESSION_SECRET}`, "--var", `SECRETS_KEY:${TEST_SECRETS_KEY}`];
      for (const [k, v] of Object.entries(this.vars)) args.push("--var", `${k}:${v}`);
      this.child = spawn("node", args, { cwd: repoRoot, env, stdio: ["ignore", log, log], detached: true });
      const deadline = Date.now() + 45_000;
      while (Date.now() < deadline) {
        try {
          const r = await fetch(`${this.base}/healthz`);
          if (r.ok) return;
        } catch {
          /* not up yet */
        }
        if (this.child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 150));
      }
      last = this.log();
      this.kill();
    }
    throw new Error(`the worker did not start (scripts/serve.mjs); its log:\n${last}`);
  }

  log(): string {
    try {
      return fs.readFileSync(this.logFile, "utf8");
    } catch {
      return "";
    }
  }

  /** SIGKILL to the whole process group (node and workerd). */
  kill(): void {
    if (this.child?.pid) {
      try {
        process.kill(-this.child.pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    this.child = null;
  }

  async restart(): Promise<void> {
    this.kill();
    await new Promise((r) => setTimeout(r, 300));
    await this.start();
  }

  stop(): void {
    this.kill();
    fs.rmSync(this.state, { recursive: true, force: true });
  }
}
