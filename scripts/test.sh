#!/usr/bin/env bash
# Sets up the toolchain (first time only) and runs every check and test:
# formatting, clippy (server and wasm), unit + integration tests (real SQLite,
# real HTTP/WebSocket, fault tests on the real binary), a fuzz smoke run of
# every network-input parser, the end-to-end tests in Debian Chromium, and the load
# tool's smoke run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export PATH="$PWD/.tools/node_modules/.bin:$PATH"
# A one-shot CI build gains nothing from incremental caches but their disk space.
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL=0; fi
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
mkdir -p "$target_dir"
printf '[test] disk free for %s: %s\n' "$target_dir" "$(df -h --output=avail "$target_dir" | tail -1 | tr -d ' ')"

started=$SECONDS
last=$SECONDS
step() {
  printf '    (%ss, %s free)\n\n==> %s\n' "$((SECONDS - last))" \
    "$(df -h --output=avail "$target_dir" | tail -1 | tr -d ' ')" "$*"
  last=$SECONDS
}

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (host: server, domain, tools)"
cargo clippy --workspace --all-targets -- -D warnings

step "clippy (wasm: hydrate build)"
cargo clippy -p app -p frontend --target wasm32-unknown-unknown --features app/hydrate -- -D warnings

step "unit and integration tests"
cargo test --workspace

step "fuzz smoke (each target ${FUZZ_SECONDS:-20} s)"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
# The instrumented build shares nothing with the steps that follow; on a
# one-shot CI machine its gigabytes are better given back to them.
if [ "${CI:-}" = "true" ]; then rm -rf "${FUZZ_TARGET_DIR:-$target_dir-fuzz}"; fi

step "build the site (server + wasm)"
cargo leptos build --split

step "end-to-end tests (Chromium)"
bash scripts/e2e.sh

if [ -f bench/smoke.sh ]; then
  step "load tool smoke run"
  bash bench/smoke.sh
fi

printf '    (%ss)\nall checks passed in %ss\n' "$((SECONDS - last))" "$((SECONDS - started))"
