#!/usr/bin/env bash
# The test command: installs what is missing, then every check — format,
# clippy (host and wasm32, warnings denied), unit tests, and the integration
# tests against the real worker on local workerd.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "setup"
bash scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (host)"
cargo clippy --workspace --exclude switchboard-worker --all-targets --locked -- -D warnings

step "clippy (wasm32)"
cargo clippy -p switchboard-core -p switchboard-worker --target wasm32-unknown-unknown --locked -- -D warnings

step "build the worker"
bash scripts/build.sh

step "unit, fuzz and integration tests"
# The worker was just built; the servers the tests start must not rebuild it.
SWITCHBOARD_SKIP_BUILD=1 cargo test --workspace --exclude switchboard-worker --locked
