#!/usr/bin/env bash
# Runs the Teahouse benchmark scenarios against Teahouse and its peers (Node
# ws, Socket.IO) on this machine and writes one JSON file per row plus
# RESULTS.md (tables with ratios vs the peers) into a results directory.
#
# Fairness: every server is spawned by the load tool pinned to core 0
# (`taskset -c 0`); the load tool itself runs pinned to core 1. Teahouse is
# also measured on both cores (`taskset -c 0,1`) as an extra row, and with its
# data directory on tmpfs (disk sync taken out) as another. Each run first
# waits (bounded) for the machine to be quiet and records how much CPU other
# processes used in every row.
#
# Usage: bench/run.sh [--quick] [--out DIR] [SCENARIO...]
#   SCENARIO: idle fanout rooms persist (default: all), and soak (only when
#             named: 10k churning sockets for 10 minutes; RSS and fd slopes)
#   --quick   small sizes, for trying the scripts (about 2 minutes)
#   --out DIR results directory (default bench/results/<date>-<time>)
# Env: LOADTOOL_QUIET_WAIT  seconds to wait for a quiet machine per row (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

quick=""
out=""
scenarios=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) out="$2"; shift ;;
    idle|fanout|rooms|persist|soak) scenarios+=("$1") ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ ${#scenarios[@]} -eq 0 ] && scenarios=(idle fanout rooms persist)
out=${out:-bench/results/$(date -u +%Y%m%d-%H%M)}
mkdir -p "$out"

if [ "$(nproc)" -lt 2 ]; then
  echo "run.sh: needs 2 cores (server on core 0, load tool on core 1)" >&2
  exit 1
fi

bash bench/setup.sh
cargo build --release -p loadtool -p bare-peer
if [ ! -x target/release/teahouse ] || [ -n "${REBUILD_SERVER:-}" ]; then
  cargo build --release -p server --bin teahouse
fi

lt=(taskset -c 1 "$root/target/release/loadtool" --out "$out"
    --quiet-wait-secs "${LOADTOOL_QUIET_WAIT:-60}")
failed=0
row() {
  echo
  echo "=== $*"
  # One failing row (e.g. a server that cannot take 19k sockets) must not
  # stop the others; it is reported at the end.
  if ! timeout "${row_timeout:-600}" "${lt[@]}" "$@"; then
    echo "run.sh: row failed: $*" >&2
    failed=$((failed + 1))
  fi
}

started=$(date +%s)
for s in "${scenarios[@]}"; do
  case "$s" in
    idle)
      sizes=(1000 10000 19000)
      [ -n "$quick" ] && sizes=(1000)
      for n in "${sizes[@]}"; do
        for t in teahouse ws socketio; do
          row idle --target "$t" --conns "$n"
        done
      done
      row idle --target teahouse --conns "${sizes[-1]}" --server-cores 0,1
      ;;
    fanout)
      args=()
      [ -n "$quick" ] && args=(--members 200 --step-secs 2)
      for t in teahouse ws socketio; do
        row fanout --target "$t" "${args[@]}"
      done
      row fanout --target teahouse --server-cores 0,1 "${args[@]}"
      row fanout --target teahouse --data-parent /dev/shm --variant tmpfs "${args[@]}"
      ;;
    rooms)
      args=()
      [ -n "$quick" ] && args=(--rooms 100 --users 100 --step-secs 2)
      # The bare peer: one write per delivery and nothing else, the most
      # any server can deliver here (no socket gets frames often enough
      # for its writes to be batched).
      for t in teahouse ws socketio bare; do
        row rooms --target "$t" "${args[@]}"
      done
      row rooms --target teahouse --server-cores 0,1 "${args[@]}"
      row rooms --target teahouse --data-parent /dev/shm --variant tmpfs "${args[@]}"
      ;;
    persist)
      args=()
      [ -n "$quick" ] && args=(--secs 3 --history-pages 50)
      row persist --target teahouse "${args[@]}"
      row persist --target teahouse --senders 128 "${args[@]}"
      row persist --target teahouse --senders 256 "${args[@]}"
      row persist --target teahouse --server-cores 0,1 "${args[@]}"
      row persist --target teahouse --data-parent /dev/shm --variant tmpfs "${args[@]}"
      if [ -z "$quick" ]; then
        # History pages with 10M messages stored (fills ~1.5 GB under $TMPDIR).
        bash bench/history10m.sh --out "$out" || { echo "run.sh: history10m failed" >&2; failed=$((failed + 1)); }
      fi
      ;;
    soak)
      # Ten minutes of churn and sends plus set-up and the silent sockets'
      # last heartbeats; --quick: 500 sockets for 20 s.
      args=()
      [ -n "$quick" ] && args=(--quick)
      row_timeout=1200 row soak --target teahouse "${args[@]}"
      ;;
  esac
done

"$root/target/release/loadtool" report "$out" > /dev/null
echo
echo "run.sh: $(( $(date +%s) - started )) s; results in $out/RESULTS.md ($failed failed rows)"
[ "$failed" -eq 0 ]
