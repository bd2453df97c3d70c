#!/usr/bin/env bash
# CI smoke test of the load tool against a real Teahouse server (seconds).
#
# Builds the load tool (debug), starts target/debug/teahouse on a free
# loopback port with a temporary data directory, and runs `loadtool smoke`:
# 50 connections of 25 users in one room, 200 messages sent through
# POST /api/send_message, and every message must reach every connection
# exactly once and in seq order (a retried client_id must not deliver twice).
# Then the same against the bare Rust peer (bench/peers/bare), so the
# peer that bounds the rooms scenario keeps speaking the protocol.
# Exits non-zero on any lost or duplicated delivery, or if anything fails.
#
# Usage: bench/smoke.sh [--peers]   (--peers also smokes the Node peers;
#                                    needs bench/setup.sh to have run)
# Env:   TEAHOUSE_BIN   server binary (default target/debug/teahouse; built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

target_dir=${CARGO_TARGET_DIR:-$root/target}
bin=${TEAHOUSE_BIN:-$target_dir/debug/teahouse}
if [ ! -x "$bin" ]; then
  echo "smoke.sh: building the server ($bin missing)"
  cargo build -p server --bin teahouse
fi
cargo build -p loadtool -p bare-peer --quiet
loadtool="$target_dir/debug/loadtool"

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "smoke.sh: no free port found" >&2
  return 1
}

data_dir=$(mktemp -d -t teahouse-smoke-XXXXXX)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$data_dir"
}
trap cleanup EXIT

port=$(free_port)
LEPTOS_SITE_ROOT=target/site RUST_LOG=${RUST_LOG:-warn} \
  "$bin" --addr "127.0.0.1:$port" --data-dir "$data_dir" --sends-per-sec 0 \
  >"$data_dir/server.log" 2>&1 &
server_pid=$!

# Wait (at most 30 s) for GET /healthz to answer 200.
ready=""
for _ in $(seq 1 300); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "smoke.sh: the server exited during start-up:" >&2
    tail -n 40 "$data_dir/server.log" >&2
    exit 1
  fi
  status=$( (exec 3<>"/dev/tcp/127.0.0.1/$port" &&
      printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3 &&
      head -n 1 <&3) 2>/dev/null || true)
  case "$status" in *" 200"*) ready=1; break ;; esac
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "smoke.sh: the server did not become healthy in 30 s:" >&2
  tail -n 40 "$data_dir/server.log" >&2
  exit 1
fi

status=0
timeout 120 "$loadtool" smoke --target teahouse --addr "127.0.0.1:$port" --pid "$server_pid" || status=$?
if [ "$status" -ne 0 ]; then
  echo "smoke.sh: Teahouse smoke FAILED (exit $status); server log tail:" >&2
  tail -n 40 "$data_dir/server.log" >&2
  exit "$status"
fi

# The bare Rust peer (bench/peers/bare) needs nothing from npm: always smoked.
timeout 60 "$loadtool" smoke --target bare --server-cores "" || exit $?

if [ "${1:-}" = "--peers" ]; then
  for peer in ws socketio; do
    timeout 60 "$loadtool" smoke --target "$peer" --server-cores "" || exit $?
  done
fi
echo "smoke.sh: OK"
