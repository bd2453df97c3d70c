#!/usr/bin/env bash
# Screenshots of a conversation with photo, voice and video messages at
# 1280x800 and 390x844, into OUT_DIR (default docs/screens). Expects
# `cargo leptos build --split`. Two people sign up on a fresh server and send
# a photo, voice clips and a video through the UI (real uploads, stored and
# served by the server); the pages are then shot server-rendered and
# hydrated (see end2end/screens/media-screens.mjs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-docs/screens}
bin=${CARGO_TARGET_DIR:-./target}/debug/teahouse
[ -x "$bin" ] || { echo "missing $bin: run 'cargo leptos build' first" >&2; exit 1; }
data=$(mktemp -d)
port=$(( 20000 + RANDOM % 20000 ))
pid=""
start() {
  "$bin" --data-dir "$data" --addr "127.0.0.1:$port" >>"$data/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$data/server.log"; exit 1; }
    sleep 0.1
  done
  echo "server did not start" >&2; exit 1
}
stop() { [ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; pid=""; }
trap 'stop; rm -rf "$data"' EXIT

start
node end2end/screens/media-screens.mjs setup "http://127.0.0.1:$port" "$data/state.json"
node end2end/screens/media-screens.mjs shoot "http://127.0.0.1:$port" "$data/state.json" "$out"
ls -la "$out"
