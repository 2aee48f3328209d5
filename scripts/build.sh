#!/usr/bin/env bash
# Builds the worker's wasm and JS shim into functions/worker/build and the
# front end (dashboard, widget, API types) into frontend/dist.
# `wrangler dev` runs this on every start; SWITCHBOARD_SKIP_BUILD=1 skips it
# when the caller has just built (the test suite starts many servers).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ "${SWITCHBOARD_SKIP_BUILD:-0}" = "1" ] && [ -f "$root/functions/worker/build/worker/shim.mjs" ] \
  && [ -f "$root/frontend/dist/index.html" ]; then
  exit 0
fi
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$HOME/.cargo/bin/wasm-bindgen}"
export ESBUILD_BIN="${ESBUILD_BIN:-$root/node_modules/.bin/esbuild}"
(cd "$root/functions/worker" && worker-build --release)
(cd "$root" && node frontend/build.mjs)
