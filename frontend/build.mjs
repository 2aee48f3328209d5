// Builds the front end into frontend/dist (the worker's static assets):
// API types from schema/openapi.yaml, the dashboard, the widget; then prints
// the gzipped sizes and fails above the budgets.
//
//   node frontend/build.mjs
import { build } from "vite";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const dist = path.join(here, "dist");

// Initial JavaScript the dashboard loads before it is interactive, and the
// whole widget script, gzipped.
const BUDGET = { dashboard: 150 * 1024, widget: 15 * 1024 };

export async function generateApiTypes() {
  const spec = new URL(`file://${path.join(root, "schema/openapi.yaml")}`);
  const ast = await openapiTS(spec);
  const out = path.join(here, "api/schema.gen.ts");
  // A fresh clone has no frontend/api/ (its only file is generated and ignored).
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const text =
    "// Generated from schema/openapi.yaml by frontend/build.mjs. Do not edit.\n" + astToString(ast);
  if (!fs.existsSync(out) || fs.readFileSync(out, "utf8") !== text) fs.writeFileSync(out, text);
}

const gz = (file) => zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

/** The scripts index.html loads at once: its module entry and modulepreloads. */
function initialScripts(html) {
  const refs = new Set();
  for (const m of html.matchAll(/<script[^>]+src="([^"]+\.js)"/g)) refs.add(m[1]);
  for (const m of html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g)) refs.add(m[1]);
  for (const m of html.matchAll(/<link[^>]+href="([^"]+\.js)"[^>]+rel="modulepreload"/g)) refs.add(m[1]);
  return [...refs].map((r) => path.join(dist, r.replace(/^\//, "")));
}

async function main() {
  await generateApiTypes();
  fs.rmSync(dist, { recursive: true, force: true });
  fs.mkdirSync(dist, { recursive: true });
  const quiet = { logLevel: "warn" };
  await build({ ...quiet, configFile: path.join(here, "vite.dashboard.config.ts") });
  await build({ ...quiet, configFile: path.join(here, "vite.widget.config.ts") });
  const headers = path.join(here, "headers");
  if (fs.existsSync(headers)) fs.copyFileSync(headers, path.join(dist, "_headers"));

  const html = fs.readFileSync(path.join(dist, "index.html"), "utf8");
  const dashboard = initialScripts(html).reduce((n, f) => n + gz(f), 0);
  const widget = gz(path.join(dist, "widget.js"));
  let failed = false;
  for (const [name, size] of Object.entries({ dashboard, widget })) {
    const over = size > BUDGET[name];
    failed ||= over;
    console.log(
      `[build] ${name.padEnd(9)} ${kb(size).padStart(9)} gzipped (budget ${kb(BUDGET[name])})${over ? "  OVER BUDGET" : ""}`,
    );
  }
  if (failed) {
    console.error("[build] a front-end bundle is over its budget: shrink it or load the extra part lazily");
    process.exit(1);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`[build] front-end build failed: ${e?.message ?? e}`);
    process.exit(1);
  });
}
