#!/usr/bin/env bash
# Fuzz smoke: runs every cargo-fuzz target in fuzz/ for N seconds each
# (default 25) from its seed corpus, and fails on any crash (panic, hang over
# 10 s, out-of-memory). Installs cargo-fuzz first if it is missing.
#
#   scripts/fuzz.sh [seconds-per-target] [target...]
#
# Built without a sanitizer: the code is Rust with no unsafe of its own, so
# what we look for is panics and hangs, and an AddressSanitizer build of the
# dependencies costs minutes for nothing more. The instrumented build goes to
# its own target dir (FUZZ_TARGET_DIR, default "$CARGO_TARGET_DIR-fuzz", i.e.
# target-fuzz/ beside target/) so it does not invalidate the main one. New
# inputs found go to a scratch copy of the corpus; only the seeds in
# fuzz/corpus/ are committed. A crash leaves its input in fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CARGO_FUZZ_VERSION=0.13.1
seconds=${1:-25}
shift || true

if [ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$PWD/target}-fuzz}
# cargo-fuzz passes -Z flags to rustc; stable accepts them with this.
export RUSTC_BOOTSTRAP=1

cd fuzz
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi

started=$SECONDS
cargo fuzz build --sanitizer none
printf '[fuzz] built in %ss\n' "$((SECONDS - started))"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=()
for target in "${targets[@]}"; do
  mkdir -p "$scratch/$target"
  cp corpus/"$target"/* "$scratch/$target/"
  log="$scratch/$target.log"
  if cargo fuzz run --sanitizer none "$target" "$scratch/$target" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    printf '[fuzz] %-16s ok: %s runs, %s exec/s, corpus %s\n' "$target" \
      "$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")" \
      "$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")" \
      "$(ls "$scratch/$target" | wc -l)"
  else
    echo "[fuzz] $target FAILED:"
    # The panic message, then how to reproduce it.
    grep -A2 'panicked at' "$log" | head -n 6 || true
    grep -v -e '^#' -e '^ *[0-9]*: ' -e '^ *at ' "$log" | grep -A8 '^Failing input' || tail -n 20 "$log"
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "[fuzz] crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
printf '[fuzz] all %s targets clean in %ss\n' "${#targets[@]}" "$((SECONDS - started))"
