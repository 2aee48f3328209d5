#!/usr/bin/env bash
# Installs what Switchboard needs and skips what is already there. Safe to
# run any number of times. Reaches only crates.io, PyPI, Debian's packages and the npm registry.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# Rust: formatter, linter, the wasm32 target.
installed_components="$(rustup component list --installed 2>/dev/null || true)"
for c in rustfmt clippy; do
  if ! grep -q "^$c" <<<"$installed_components"; then
    say "adding rustup component $c"
    rustup component add "$c"
  fi
done
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# worker-build, pinned.
want_wb=0.8.7
if ! worker-build --version 2>/dev/null | grep -q "$want_wb"; then
  say "installing worker-build $want_wb (about 5 minutes, once)"
  cargo install worker-build --version "$want_wb" --locked
fi

# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock exactly.
want_wbg="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)"
if [ -z "$want_wbg" ]; then
  echo "[setup] could not read the wasm-bindgen version from Cargo.lock" >&2
  exit 1
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q " $want_wbg\$"; then
  say "installing wasm-bindgen-cli $want_wbg (about 4 minutes, once)"
  # Its own lockfile names a webpki-roots release the registry may not
  # serve; fall back to resolving fresh versions when --locked cannot.
  cargo install wasm-bindgen-cli --version "=$want_wbg" --locked \
    || cargo install wasm-bindgen-cli --version "=$want_wbg"
fi

# Node packages (wrangler 4.86.0, pinned in package-lock.json).
if [ ! -x node_modules/.bin/wrangler ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund
fi

# The OpenAPI validator the test command runs on schema/openapi.yaml.
if ! python3 -c 'import openapi_spec_validator' 2>/dev/null; then
  say "installing openapi-spec-validator (PyPI)"
  python3 -m pip install --quiet --disable-pip-version-check openapi-spec-validator
fi

# The API fuzzer (tests/fuzz/api.sh), pinned so a run is reproducible.
want_st=4.32.5
if ! python3 -c "import schemathesis, sys; sys.exit(schemathesis.__version__ != '$want_st')" 2>/dev/null; then
  say "installing schemathesis $want_st (PyPI)"
  python3 -m pip install --quiet --disable-pip-version-check "schemathesis==$want_st"
fi

# Chromium for the browser tests: Debian's package (Playwright cannot
# download its own browser here).
if ! command -v chromium >/dev/null 2>&1; then
  say "installing Debian's chromium (about a minute, once)"
  sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq chromium >/dev/null
fi
