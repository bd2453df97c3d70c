#!/usr/bin/env bash
# Screenshots of a conversation with photo, voice and video messages at
# 1280x800 and 390x844, into OUT_DIR (default /work/notes/screens). Expects
# `cargo leptos build`. Two people sign up and talk on a fresh server; the
# media messages are then written into its database (server stopped), so
# the pictures show what the stored messages look like, server-rendered and
# hydrated. Where the server has no media routes yet, the browser is given
# generated files for /media/* (see end2end/screens/media-screens.mjs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-/work/notes/screens}
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
stop
python3 - "$data/teahouse.db" "$data/state.json" <<'PY'
import json, sqlite3, sys, time, uuid
db, state = sqlite3.connect(sys.argv[1]), json.load(open(sys.argv[2]))
uid = lambda name: db.execute("SELECT id FROM users WHERE username = ?", (name,)).fetchone()[0]
alice, bob = uid(state["alice"]["username"]), uid(state["bob"]["username"])
room, last = db.execute("SELECT id, last_seq FROM rooms WHERE name = ?", (state["room"],)).fetchone()
now = int(time.time() * 1000)
media = [
    (alice, "image", {"id": "a" * 26, "mime": "image/jpeg", "bytes": 812345, "width": 4032, "height": 3024}),
    (bob, "voice", {"id": "b" * 25 + "c", "mime": "audio/webm", "bytes": 9600, "duration_ms": 3200}),
    (alice, "voice", {"id": "b" * 25 + "d", "mime": "audio/webm", "bytes": 41000, "duration_ms": 14800}),
    (alice, "video", {"id": "c" * 26, "mime": "video/mp4", "bytes": 5123456, "width": 1280, "height": 720, "duration_ms": 12400}),
    (bob, "image", {"id": "a" * 25 + "b", "mime": "image/png", "bytes": 300000, "width": 1080, "height": 1920}),
    (bob, "voice", {"id": "b" * 25 + "e", "mime": "audio/webm", "bytes": 120000, "duration_ms": 42000}),
]
for i, (actor, kind, ref) in enumerate(media, start=1):
    db.execute("INSERT INTO events (room_id, seq, at_ms, actor_id, kind, msgtype, body, client_id) VALUES (?, ?, ?, ?, 'message', ?, ?, ?)",
               (room, last + i, now + i * 1000, actor, kind, json.dumps(ref), str(uuid.uuid4())))
db.execute("UPDATE rooms SET last_seq = ? WHERE id = ?", (last + len(media), room))
db.commit()
PY
start
node end2end/screens/media-screens.mjs shoot "http://127.0.0.1:$port" "$data/state.json" "$out"
ls -la "$out"
