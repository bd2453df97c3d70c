#!/usr/bin/env bash
# Runs the Playwright tests against a freshly started debug server on a free
# port with an empty temporary data directory. Expects `cargo leptos build --split`.
# Arguments go to `playwright test` (e.g. a spec file, `-g NAME`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Honour CARGO_TARGET_DIR (a shared target directory), like cargo does.
target_dir=${CARGO_TARGET_DIR:-./target}
bin=$target_dir/debug/teahouse
[ -x "$bin" ] || { echo "missing $bin: run 'cargo leptos build' first" >&2; exit 1; }

data=$(mktemp -d)
log="$data/server.log"
# A higher send rate than the default lets tests seed history quickly.
# The desk: a short grace so "the agent closed the tab" is seen quickly;
# no per-address guest limits (every test browser is 127.0.0.1).
"$bin" --data-dir "$data" --addr 127.0.0.1:0 --sends-per-sec 200 \
  --agent-grace-secs 2 --guests-per-min 0 --guest-sends-per-min 0 >"$log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

url=""
for _ in $(seq 1 300); do   # up to 30 s
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -n 1 || true)
  [ -n "$url" ] && curl -fsS "$url/healthz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "server exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$log"; echo "server did not start" >&2; exit 1; }

rc=0
# The desk tests make their admin the operator's way (teahouse grant-role).
bin_abs=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
(cd end2end && BASE_URL="$url" TEAHOUSE_BIN="$bin_abs" TEAHOUSE_DATA_DIR="$data" npx playwright test "$@") || rc=$?
node end2end/summary.js end2end/test-results/results.json || true
if [ "$rc" -ne 0 ]; then
  echo "--- server log ---"; tail -n 50 "$log"
fi
exit "$rc"
