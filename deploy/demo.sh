#!/bin/sh
# make demo — rrdcached, one poe-collector and simulated poe-agents for both
# directions of seven crossings, all on loopback, in a private temporary
# directory. Prints the board and feed URLs; runs until Ctrl-C, or for DEMO_SECONDS.
#   DEMO_HTTP=127.0.0.1:8080  DEMO_AGENTS=tcp://127.0.0.1:5555  DEMO_KEEP=1 (keep logs)
#   DEMO_RRA=full (years of RRAs, ~3 MB per queue file; default compact, 1 day of minutes)
#   DEMO_OFFICIAL=127.0.0.1:8090 where the real CBP and CBSA sample documents
#   (deploy/data) are served, as bwt.cbp.gov and CBSA would, for the collector's
#   official importer: every registry crossing then shows the official value
#   (stale: the samples are from 2022, and the board says so).
set -eu

BIN=${POE_BIN:-$(pwd)/build/bin}
SRC=$(cd "$(dirname "$0")/.." && pwd)
HTTP=${DEMO_HTTP:-127.0.0.1:8080}
AGENTS=${DEMO_AGENTS:-tcp://127.0.0.1:5555}
LIVE=${DEMO_LIVE:-tcp://127.0.0.1:5556}
SNAP=${DEMO_SNAPSHOT:-tcp://127.0.0.1:5557}
REGISTRY=$SRC/deploy/registry.conf
CROSSINGS="250401 250601 240201 300401 300402 380001 090101"

DIR=$(mktemp -d /tmp/poenet-demo.XXXXXX)
PIDS=""

cleanup() {
    trap - EXIT INT TERM
    echo
    echo "demo: stopping"
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $PIDS; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$p" 2>/dev/null || true
    done
    if [ -n "${DEMO_KEEP:-}" ]; then echo "demo: logs and archive kept in $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # command... ; up to 10 s
    i=0
    until "$@" >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then echo "demo: timed out waiting for: $*" >&2; exit 1; fi
        sleep 0.1
    done
}

if curl -s -o /dev/null "http://$HTTP/health"; then
    echo "demo: something already answers on $HTTP; set DEMO_HTTP=127.0.0.1:PORT" >&2
    exit 1
fi

# The official documents, served on loopback (python3's http.server answers
# If-Modified-Since with 304, so the importer's conditional GET is exercised).
OFFICIAL=${DEMO_OFFICIAL:-127.0.0.1:8090}
mkdir -p "$DIR/official/api" "$DIR/official/bwt-taf"
cp "$SRC/deploy/data/cbp_api_bwtnew_2022-06-29.json" "$DIR/official/api/bwtnew"
cp "$SRC/deploy/data/cbsa_bwt-eng_2022-07-07.csv" "$DIR/official/bwt-taf/bwt-eng.csv"
python3 -m http.server --bind "${OFFICIAL%:*}" --directory "$DIR/official" "${OFFICIAL##*:}" \
    >"$DIR/official.log" 2>&1 &
PIDS="$PIDS $!"
wait_for curl -sf "http://$OFFICIAL/api/bwtnew"

mkdir -p "$DIR/journal" "$DIR/archive"
rrdcached -g -l "unix:$DIR/rrdcached.sock" -p "$DIR/rrdcached.pid" \
    -b "$DIR/archive" -w 60 -z 30 -f 120 -t 1 -F >"$DIR/rrdcached.log" 2>&1 &
PIDS="$PIDS $!"
wait_for test -S "$DIR/rrdcached.sock"

# CURVE everywhere, with keys made for this run: one pair for the collector,
# one per agent, each agent's key bound to its crossing direction.
mkdir -p "$DIR/keys"
"$BIN/poe-keygen" "$DIR/keys/collector" >/dev/null
{
    echo "agents = ("
    sep=""
    for id in $CROSSINGS; do
        for dir in northbound southbound; do
            "$BIN/poe-keygen" "$DIR/keys/$id-$dir" >/dev/null
            printf '%s  { key = "%s"; crossing = "%s"; direction = "%s"; }' "$sep" \
                "$DIR/keys/$id-$dir.pub" "$id" "$dir"
            sep=",
"
        done
    done
    printf '\n);\n'
} >"$DIR/keys/agents.conf"

"$BIN/poe-collector" --listen "$AGENTS" --http "$HTTP" --rrdcached "unix:$DIR/rrdcached.sock" \
    --curve-secret "$DIR/keys/collector.secret" --agent-keys "$DIR/keys/agents.conf" \
    --archive "$DIR/archive" --registry "$REGISTRY" --rra-profile "${DEMO_RRA:-compact}" \
    --state "$DIR/collector-state" --feed "$LIVE" --feed-snapshot "$SNAP" \
    --dashboards "$SRC/dashboards" \
    --official-cbp "http://$OFFICIAL/api/bwtnew" --official-cbsa "http://$OFFICIAL/bwt-taf/bwt-eng.csv" \
    --official-interval 60 \
    >"$DIR/collector.log" 2>&1 &
PIDS="$PIDS $!"
wait_for curl -sf "http://$HTTP/health"

# Simulated lanes per mode come from the registry's lane inventory.
lanes_of() {
    grep -A2 "id = \"$1\"" "$REGISTRY" |
        sed -n 's/.*max_lanes = { passenger = \([0-9]*\); pedestrian = \([0-9]*\); commercial = \([0-9]*\);.*/passenger=\1,pedestrian=\2,commercial=\3/p'
}

for id in $CROSSINGS; do
    lanes=$(lanes_of "$id")
    for dir in northbound southbound; do
        "$BIN/poe-agent" --crossing "$id" --direction "$dir" --collector "$AGENTS" \
            --curve-secret "$DIR/keys/$id-$dir.secret" --collector-key "$DIR/keys/collector.pub" \
            --spool "$DIR/spool/$id-$dir" \
            --simulate --sim-lanes "$lanes" --sim-load 1.05 >"$DIR/agent-$id-$dir.log" 2>&1 &
        PIDS="$PIDS $!"
    done
done

cat <<MSG
poenet demo running: rrdcached, 1 collector, $(echo $CROSSINGS | wc -w) crossings x 2 directions of simulated agents (CURVE)
  board:   http://$HTTP/   (one crossing: http://$HTTP/crossing/250401)
  feed:    http://$HTTP/v1/crossings
  CBP:     http://$HTTP/api/bwtnew   (and /xml/bwt.xml; CBSA: /bwt-taf/bwt-eng.csv)
  live:    $BIN/poe-sub --feed $LIVE --snapshot $SNAP
  one:     http://$HTTP/v1/crossings/250401
  history: http://$HTTP/v1/history?crossing=250401&direction=northbound&mode=passenger&lane=standard
  health:  http://$HTTP/health   (official importer: "official"; the samples on http://$OFFICIAL)
  logs:    $DIR
MSG
if [ -n "${DEMO_SECONDS:-}" ]; then
    echo "(stopping after $DEMO_SECONDS s)"
    sleep "$DEMO_SECONDS"
else
    echo "(Ctrl-C to stop)"
    while :; do sleep 3600; done
fi
