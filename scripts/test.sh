#!/usr/bin/env bash
# The test command: installs what is missing, then every check — format,
# clippy (host and wasm32, warnings denied), unit tests, and the integration
# tests against the real worker on local workerd, the OpenAPI file, the
# front end's type check and unit tests, and the browser tests in Chromium.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false

# Each step says when it starts, so a slow one is easy to see.
started=$SECONDS
step() { printf '\n\033[1m== %s\033[0m (at %d s)\n' "$*" "$((SECONDS - started))"; }

step "setup"
bash scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "OpenAPI: schema/openapi.yaml is valid"
python3 -m openapi_spec_validator schema/openapi.yaml

step "clippy (host)"
cargo clippy --workspace --exclude switchboard-worker --all-targets --locked -- -D warnings

step "clippy (wasm32)"
cargo clippy -p switchboard-core -p switchboard-worker --target wasm32-unknown-unknown --locked -- -D warnings

step "build the worker"
bash scripts/build.sh

step "front end: type check and unit tests"
node_modules/.bin/vue-tsc --noEmit -p frontend/tsconfig.json
node_modules/.bin/vitest run --config frontend/vitest.config.ts

step "unit, fuzz and integration tests"
# The worker was just built; the servers the tests start must not rebuild it.
SWITCHBOARD_SKIP_BUILD=1 cargo test --workspace --exclude switchboard-worker --locked

step "soak, 30 seconds (counts only: nothing lost, duplicated or out of order)"
# The same code as the 10-minute soak (docs/BENCHMARKS.md), with the kill
# and restart halfway; no timing assertions.
# The dev profile: its dependencies are the tests', already built.
SWITCHBOARD_SKIP_BUILD=1 cargo run --locked -p switchboard-bench -- --soak --soak-seconds 30 --check

step "API fuzzer (Schemathesis on schema/openapi.yaml)"
bash tests/fuzz/api.sh

step "browser tests (Chromium)"
rm -rf tests/browser/artifacts
SWITCHBOARD_SKIP_BUILD=1 node_modules/.bin/playwright test --config tests/browser/playwright.config.ts
echo "screenshots: tests/browser/artifacts/screenshots"
echo "all tests passed in $((SECONDS - started)) s"
