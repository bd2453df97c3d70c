#!/usr/bin/env bash
# Installs everything a fresh machine lacks to build, run and test Teahouse.
# Idempotent: every step checks first, so the second run is a quick no-op.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
CARGO_LEPTOS_VERSION="0.3.10"
# Must equal the wasm-bindgen crate version pinned in Cargo.toml / Cargo.lock.
WASM_BINDGEN_VERSION="0.2.130"

log() { printf '[setup] %s\n' "$*"; }

# 1. Debian Chromium (end-to-end tests) — only if missing.
if ! command -v chromium >/dev/null 2>&1; then
  log "installing chromium from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# 2. The wasm target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding rustup target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 3. cargo-leptos, pinned (0.3.11 needs a newer rustc).
if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (takes ~16 min on 2 cores)"
  cargo install cargo-leptos@"$CARGO_LEPTOS_VERSION" --locked --features no_downloads
fi

# 4. wasm-bindgen CLI matching the crate (no --locked: its lock pins a yanked dependency).
if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# 5. wasm-opt (npm binaryen; Debian's v108 breaks hydration) and sass, in a project-local folder.
if [ ! -x "$TOOLS/node_modules/.bin/wasm-opt" ]; then
  log "installing binaryen (wasm-opt) from npm into .tools/"
  mkdir -p "$TOOLS"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS" binaryen@132 >/dev/null
fi

# 6. Playwright for end2end (uses the system Chromium; never downloads a browser).
if [ -f "$ROOT/end2end/package-lock.json" ]; then
  stamp="$ROOT/end2end/node_modules/.lock-stamp"
  if [ ! -f "$stamp" ] || ! cmp -s "$stamp" "$ROOT/end2end/package-lock.json"; then
    log "installing end2end npm packages"
    (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund)
    cp "$ROOT/end2end/package-lock.json" "$stamp"
  fi
fi

log "toolchain ready"
