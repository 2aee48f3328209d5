#!/usr/bin/env bash
# Runs Switchboard locally on workerd with a demo workspace: installs what
# is missing, builds, applies the D1 migrations, creates the demo workspace
# (with sample conversations) once, prints the URL, the demo login and every
# inbox's webhook URL and secrets, and serves on http://127.0.0.1:8787 until
# Ctrl-C. State persists in .wrangler/state across restarts.
#
# It serves through scripts/serve.mjs: the same local workerd as
# `wrangler dev`, without the devtools inspector, which costs more CPU than
# Switchboard itself (docs/BENCHMARKS.md). To debug with the inspector:
#   SWITCHBOARD_INSPECT=1 bash scripts/run.sh   # plain `wrangler dev`, inspector on 127.0.0.1:9229
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false
port="${PORT:-8787}"
base="http://127.0.0.1:$port"
state=.wrangler/state

bash scripts/setup.sh
bash scripts/build.sh

# Local secrets, made once and kept out of git: the session secret and the
# key that seals platform secrets at rest.
touch .dev.vars
for name in SESSION_SECRET SECRETS_KEY; do
  if ! grep -q "^$name=" .dev.vars; then
    printf '%s="%s"\n' "$name" "$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))')" >> .dev.vars
  fi
done

node_modules/.bin/wrangler d1 migrations apply DB --local --persist-to "$state" >/dev/null

# Both read SESSION_SECRET and SECRETS_KEY from .dev.vars (next to wrangler.toml).
if [ "${SWITCHBOARD_INSPECT:-0}" = "1" ]; then
  SWITCHBOARD_SKIP_BUILD=1 node_modules/.bin/wrangler dev --ip 127.0.0.1 --port "$port" \
    --persist-to "$state" --inspector-port "${INSPECTOR_PORT:-9229}" --show-interactive-dev-session=false &
else
  node scripts/serve.mjs --ip 127.0.0.1 --port "$port" --persist-to "$state" --env-file .dev.vars &
fi
server=$!
trap 'kill $server 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 1 120); do
  if curl -fsS "$base/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
curl -fsS "$base/healthz" >/dev/null || { echo "[run] the worker did not start; see the output above" >&2; exit 1; }

node scripts/demo.mjs "$base" "$state/demo.json"
if [ "${SWITCHBOARD_INSPECT:-0}" = "1" ]; then
  echo "  Inspector   chrome://inspect → 127.0.0.1:${INSPECTOR_PORT:-9229} (wrangler dev; slower than the default run)"
fi
wait $server
