#!/usr/bin/env bash
# Scenario 5, first load: builds the release server and site
# (scripts/build-release.sh, compressed twins included), starts the server on
# a free port pinned to core 0 with an empty data directory, and runs
# bench/firstload.js in headless Debian Chromium pinned to core 1.
#
# Usage: bench/firstload.sh [OUT_DIR]   (default bench/results/scratch)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results/scratch}
mkdir -p "$out"
[ -n "${TEAHOUSE_BIN:-}" ] || bash scripts/build-release.sh
data=$(mktemp -d -t teahouse-firstload-XXXXXX)
port=$(( 20000 + RANDOM % 20000 ))
LEPTOS_SITE_ROOT=target/site RUST_LOG=warn taskset -c 0 "${TEAHOUSE_BIN:-target/release/teahouse}" \
  --addr "127.0.0.1:$port" --data-dir "$data" --sends-per-sec 0 >"$data/server.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$data/server.log" >&2; exit 1; }
  sleep 0.1
done
# FIRSTLOAD_BROWSER_CORES: cores for Chromium (default 1; "0,1" = a two-core device).
taskset -c "${FIRSTLOAD_BROWSER_CORES:-1}" node bench/firstload.js "http://127.0.0.1:$port" "$out"
