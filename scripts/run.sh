#!/usr/bin/env bash
# Sets up the toolchain (first time only), builds Teahouse in release mode and
# runs it on embedded SQLite under ./data. Extra arguments go to the server
# (see `./target/release/teahouse --help`), e.g. `./scripts/run.sh --addr 0.0.0.0:8080`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
bash scripts/build-release.sh
exec ./target/release/teahouse --data-dir "${TEAHOUSE_DATA_DIR:-data}" "$@"
