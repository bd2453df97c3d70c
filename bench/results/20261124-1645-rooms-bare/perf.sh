#!/usr/bin/env bash
# bench/results/20261124-1645-rooms-bare/perf.sh TARGET RATE — rooms at one rate, perf on the server for 8 s of it
set -euo pipefail
cd /work/main
t=$1; rate=$2
PORT=39911
case $t in
  bare) PORT=$PORT taskset -c 0 target/release/bare-peer > /tmp/bare/srv.log 2>&1 & ;;
  ws) PORT=$PORT NODE_ENV=production taskset -c 0 node bench/peers/ws/server.js > /tmp/bare/srv.log 2>&1 & ;;
esac
pid=$!
sleep 1
(sleep 6; perf record -F 1999 -o /tmp/bare/perf-$t.data -p $pid -- sleep 8 >/dev/null 2>&1) &
taskset -c 1 target/release/loadtool --target $t --addr 127.0.0.1:$PORT --pid $pid --out /tmp/bare/scratch --quiet-wait-secs 0 rooms --rates $rate --step-secs 20 2>&1 | grep "/s "
wait %2 2>/dev/null || true
kill $pid; wait $pid 2>/dev/null || true
perf report -i /tmp/bare/perf-$t.data --sort dso --stdio 2>/dev/null | grep -v "^#" | grep -v "^$" | head -8
perf report -i /tmp/bare/perf-$t.data --sort sym --stdio 2>/dev/null | grep -v "^#" | grep -v "^$" | head -25
