#!/usr/bin/env bash
# Release build of the server and the site (wasm, JS, CSS), with compressed
# twins of the site files.
#
# --precompress writes .br/.gz twins that the server sends as they are
# (leptos_axum's static handler looks for them): browsers get the wasm as
# brotli (313 KB instead of 416 KB gzip), and the server no longer spends
# ~75 ms compressing 1.1 MB on every first page load. cargo-leptos gzips at a
# low level (490 KB for the wasm), so the .gz twins are redone at -9 for
# gzip-only clients. A later `cargo leptos build` empties target/site/pkg, so
# stale twins never outlive their file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/.tools/node_modules/.bin:$PATH"
cargo leptos build --release --precompress
for f in target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css; do
  gzip -9 -k -f "$f"
done
