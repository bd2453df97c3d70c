#!/usr/bin/env bash
# `cargo leptos end-to-end` entry (runs in end2end/): waits for the server
# cargo-leptos started on its site address, then runs Playwright.
set -euo pipefail
url="${BASE_URL:-http://127.0.0.1:3000}"
for _ in $(seq 1 300); do
  curl -fsS "$url/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
BASE_URL="$url" npx playwright test
