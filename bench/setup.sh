#!/usr/bin/env bash
# Installs the benchmark peers (Node ws 8, Socket.IO 4) from the npm registry
# with `npm ci`, i.e. the exact versions of the committed package-lock.json.
# Idempotent: a peer installed from the same lock file is skipped.
set -euo pipefail
cd "$(dirname "$0")/peers"
command -v node >/dev/null && command -v npm >/dev/null || {
  echo "setup.sh: node and npm are required (apt-get install -y nodejs npm)" >&2
  exit 1
}
for peer in ws socketio; do
  (
    cd "$peer"
    want=$(sha256sum package-lock.json | cut -d' ' -f1)
    stamp=node_modules/.teahouse-lock-sha256
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
      echo "setup.sh: $peer peer already installed"
    else
      echo "setup.sh: installing the $peer peer (npm ci)"
      npm ci --no-audit --no-fund --loglevel=error
      echo "$want" > "$stamp"
    fi
  )
done
