#!/bin/sh
# bench/reliability.sh — the delivery figures of docs/reliability.md:
#   1. catch-up rate: a day of San Ysidro events (poe-sim peak) replayed as
#      fast as possible through a real agent (spool on disk) and collector,
#      until everything is durable: samples/s and batches/s;
#   2. time for an agent to notice a dead collector (SIGSTOP: the TCP
#      connection stays open and says nothing, the hardest case);
#   3. spool bytes per hour at the busiest simulated crossing (San Ysidro,
#      34 passenger + 22 pedestrian lanes) while its collector is away.
# Loopback and a temporary directory only; prints figures, asserts nothing.
set -eu
BIN=${POE_BIN:-$(pwd)/build/bin}
SRC=$(cd "$(dirname "$0")/.." && pwd)
DIR=$(mktemp -d /tmp/poenet-rel.XXXXXX)
PIDS=""
cleanup() { for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$DIR"; }
trap cleanup EXIT INT TERM
PORT=$((30000 + $$ % 20000))
EP=tcp://127.0.0.1:$PORT
HTTP=127.0.0.1:$((PORT + 1))

now_ms() { date +%s%3N; }
wait_for() { i=0; until "$@" >/dev/null 2>&1; do i=$((i + 1)); [ $i -gt 100 ] && return 1; sleep 0.1; done; }

mkdir -p "$DIR/journal"
rrdcached -g -l "unix:$DIR/rrd.sock" -j "$DIR/journal" -p "$DIR/rrd.pid" -w 3600 -z 60 -f 7200 -F \
    >"$DIR/rrdcached.log" 2>&1 &
PIDS="$PIDS $!"
wait_for test -S "$DIR/rrd.sock"
start_collector() {
    "$BIN/poe-collector" --listen "$EP" --http "$HTTP" --rrdcached "unix:$DIR/rrd.sock" \
        --archive "$DIR/archive" --registry "$SRC/deploy/registry.conf" --rra-profile compact \
        --state "$DIR/state" >>"$DIR/collector.log" 2>&1 &
    COLL=$!
    PIDS="$PIDS $COLL"
    wait_for curl -sf "http://$HTTP/health"
}
start_collector

# 1. catch-up
"$BIN/poe-sim" --scenario peak --seed 7 --events "$DIR/day.txt" --truth "$DIR/truth.txt" >/dev/null 2>&1
EVENTS=$(grep -vc '^#' "$DIR/day.txt")
T0=$(now_ms)
"$BIN/poe-agent" --crossing 250401 --direction northbound --collector "$EP" --replay "$DIR/day.txt" \
    --speed 0 --spool "$DIR/spool-day" >"$DIR/agent-day.log" 2>&1
T1=$(now_ms)
SAMPLES=$(sed -n 's/.*replay done: \([0-9]*\) samples in \([0-9]*\) batches.*/\1 \2/p' "$DIR/agent-day.log")
set -- $SAMPLES
MS=$((T1 - T0))
echo "catch-up: $EVENTS events -> $1 samples in $2 batches, durable in $MS ms:" \
     "$(( $1 * 1000 / (MS > 0 ? MS : 1) )) samples/s, $(( $2 * 1000 / (MS > 0 ? MS : 1) )) batches/s"

# 2. dead collector
"$BIN/poe-agent" --crossing 250601 --direction northbound --collector "$EP" --simulate \
    --sim-lanes passenger=13,pedestrian=6 --spool "$DIR/spool-sim" >"$DIR/agent-sim.log" 2>&1 &
AGENT=$!
PIDS="$PIDS $AGENT"
sleep 3
kill -STOP "$COLL"
T0=$(now_ms)
until grep -q "silent for" "$DIR/agent-sim.log"; do sleep 0.02; done
T1=$(now_ms)
echo "dead collector noticed after $((T1 - T0)) ms (SIGSTOP: connection open, no answers)"
kill -CONT "$COLL"

# 3. spool growth at San Ysidro with no collector
kill -9 "$COLL"
"$BIN/poe-agent" --crossing 250401 --direction northbound --collector "$EP" --simulate \
    --sim-lanes passenger=34,pedestrian=22 --spool "$DIR/spool-sy" >"$DIR/agent-sy.log" 2>&1 &
PIDS="$PIDS $!"
sleep 61
BYTES=$(du -sb "$DIR/spool-sy" | cut -f1)
echo "spool growth at San Ysidro (56 lanes, 5 s intervals): $BYTES bytes in 61 s ->" \
     "$((BYTES * 3600 / 61 / 1024)) KiB/hour, $((BYTES * 3600 * 24 * 7 / 61 / 1048576)) MiB for 7 days"
