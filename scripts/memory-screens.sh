#!/usr/bin/env bash
# Screenshots of issue 15's UI (badges, quote, recall, typing, mention
# picker, search) at 1280x800 and 390x844 into OUT_DIR (default
# /work/notes/screens). Expects `cargo leptos build`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-/work/notes/screens}
bin=${CARGO_TARGET_DIR:-./target}/debug/teahouse
[ -x "$bin" ] || { echo "missing $bin: run 'cargo leptos build' first" >&2; exit 1; }
data=$(mktemp -d)
port=$(( 20000 + RANDOM % 20000 ))
"$bin" --data-dir "$data" --addr "127.0.0.1:$port" --sends-per-sec 200 >>"$data/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$data/server.log"; exit 1; }
  sleep 0.1
done
(cd end2end && node screens/memory-screens.mjs "http://127.0.0.1:$port" "$out")
ls -la "$out" | grep memory-
