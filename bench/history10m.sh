#!/usr/bin/env bash
# Scenario 4 at full size: history-page latency (and persisted sends) with
# 10 million messages stored.
#
# 1. Starts target/release/teahouse once on a fresh data directory (schema,
#    system user, lobby), stops it.
# 2. Fills the lobby's log with N messages straight into SQLite (python3's
#    sqlite3 module, one transaction; the same columns, seq order and unique
#    client ids the server writes), and sets the lobby's last_seq.
# 3. Starts the server again pinned to core 0 and runs
#    `loadtool persist --history-room 1` pinned to core 1: 32 closed-loop
#    senders for 10 s, then history pages of 50 at cursors spread over the
#    whole 10M-event log. Result JSON goes to --out (default
#    bench/results/scratch).
#
# Usage: bench/history10m.sh [--messages N] [--out DIR] [--keep]
#        (--keep leaves the filled data directory for another run)
# Needs: ~1.5 GB free under ${TMPDIR:-/tmp}; a release build
#        (cargo build --release -p server -p loadtool).
set -euo pipefail
cd "$(dirname "$0")/.."

messages=10000000
out=bench/results/scratch
keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --messages) messages=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "history10m.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

bin=target/release/teahouse
loadtool=target/release/loadtool
for b in "$bin" "$loadtool"; do
  [ -x "$b" ] || { echo "history10m.sh: $b missing: cargo build --release -p server -p loadtool" >&2; exit 1; }
done

data_dir=$(mktemp -d "${TMPDIR:-/tmp}/teahouse-history10m-XXXXXX")
port=$(( 20000 + RANDOM % 20000 ))
server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
cleanup() {
  stop_server
  if [ -z "$keep" ]; then rm -rf "$data_dir"; else echo "data kept in $data_dir"; fi
}
trap cleanup EXIT

start_server() {
  LEPTOS_SITE_ROOT=target/site RUST_LOG=warn taskset -c 0 \
    "$bin" --addr "127.0.0.1:$port" --data-dir "$data_dir" --sends-per-sec 0 \
    >>"$data_dir/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do
    if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then return 0; fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$data_dir/server.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "history10m.sh: server did not become healthy" >&2
  exit 1
}

start_server
stop_server

echo "filling the lobby with $messages messages…"
start=$(date +%s)
python3 - "$data_dir/teahouse.db" "$messages" <<'PY'
import sqlite3, sys
path, n = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA synchronous=OFF")
(room, last), = db.execute("SELECT id, last_seq FROM rooms WHERE is_default = 1")
(actor,), = db.execute("SELECT id FROM users WHERE username = 'teahouse'")
t0 = 1_700_000_000_000
rows = ((room, last + i, t0 + i, actor, "message", "text",
         f"history filler {i}", f"fill-{i}") for i in range(1, n + 1))
db.execute("BEGIN")
db.executemany(
    "INSERT INTO events (room_id, seq, at_ms, actor_id, kind, msgtype, body, client_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
db.execute("UPDATE rooms SET last_seq = last_seq + ? WHERE id = ?", (n, room))
db.execute("COMMIT")
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
(count,), = db.execute("SELECT count(*) FROM events")
print(f"events stored: {count}")
PY
echo "filled in $(( $(date +%s) - start )) s; database: $(du -sh "$data_dir" | cut -f1)"

start_server
taskset -c 1 "$loadtool" persist --addr "127.0.0.1:$port" --pid "$server_pid" \
  --history-room 1 --history-pages 2000 --variant "${messages}-stored" --out "$out"
