#!/bin/sh
# make network — a national poenet network on one machine. Hosts are Linux
# network namespaces made (and removed) by this script, joined by veth links
# with private addresses that exist only inside them:
#
#   host ──veth── national (collector + rrdcached; board at http://<NET>.0.2:8080/)
#                   ├─veth── region r1 (collector + rrdcached, agents of its crossings)
#                   ├─veth── region r2 ...
#                   └─veth── region r3 ...
#
# Every crossing direction of the registry (deploy/registry.conf) runs as a
# simulated agent (--simulate) in its region's namespace, talking to the
# region's collector on the namespace's loopback; each regional collector
# forwards every series it archives to the national collector (--upstream),
# whose allowlist says which region owns which crossing.
# Regions: r1 = the Canadian border, r2 = the Mexican border west of Texas
# (Pacific and Mountain-Standard time), r3 = Texas and New Mexico. CURVE
# everywhere, with keys made for the run: one pair per agent (bound to its
# crossing direction in its region's allowlist) and per collector (the
# national allowlist names each region and lists the crossings it owns).
#
# Needs root (ip netns, veth). Usage:
#   deploy/network.sh run              up, print the URLs, wait for Ctrl-C or NETWORK_SECONDS, down
#   deploy/network.sh up DIR           build and start everything with its state in DIR
#   deploy/network.sh down DIR         stop everything, remove the namespaces; exit 1 if a process leaked
#   deploy/network.sh kill DIR NAME    kill -9 one process: national, rN, rN-rrd, national-rrd,
#                                      agent-<crossing>-<direction>
#   deploy/network.sh start DIR NAME   (re)start it on its state (spool, archive, sessions, journal)
#   deploy/network.sh partition DIR rN on|off    cut / restore the link region rN <-> national
#   deploy/network.sh netem DIR rN SPEC|off      tc netem on that link (e.g. "loss 5% delay 50ms")
#   deploy/network.sh list DIR         the process names and pids
#   deploy/network.sh stray DIR rN CROSSING DIRECTION [AGENT ARGS]
#                                      bad input: an agent the region was not built with
#                                      (key made, added to rN's allowlist, rN reloaded;
#                                      not sent to the witness), named stray-CROSSING-DIRECTION
#                                      for kill; e.g. of a crossing another region owns,
#                                      or with --clock-offset 300
# Settings: NETWORK_SECONDS=N (run: stop after N s), NETWORK_CROSSINGS=N (the
# first N crossings of the registry; default all), NETWORK_NET=10.77 (the
# /16 the links use), NETWORK_WITNESS=1 (a second, never-disturbed collector
# per region that every agent also sends to: the chaos test's reference),
# NETWORK_KEEP=1 (run: keep DIR), NETWORK_LOAD=1.05 (simulated demand).
set -eu

BIN=${POE_BIN:-$(pwd)/build/bin}
SRC=$(cd "$(dirname "$0")/.." && pwd)
REGISTRY=$SRC/deploy/registry.conf
REGIONS="r1 r2 r3"

die() { echo "network: $*" >&2; exit 1; }

# ---- helpers --------------------------------------------------------------

wait_for() { # tries command...: 0.1 s apart
    tries=$1; shift
    i=0
    until "$@" >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -ge "$tries" ] && return 1
        sleep 0.1
    done
}

load_env() {
    DIR=$1
    [ -f "$DIR/env" ] || die "$DIR is not a network directory (no env file)"
    . "$DIR/env"
}

ns_of() { # process name -> namespace
    case $1 in
    national*) echo "${P}nat" ;;
    stray-*) echo "${P}$(cat "$DIR/stray/$1")" ;;
    agent-*) echo "${P}$(cat "$DIR/region/$1")" ;;
    r?|r?-rrd|w?|w?-rrd) echo "${P}$(echo "$1" | sed 's/^w/r/; s/-rrd$//')" ;;
    *) die "unknown process name $1" ;;
    esac
}

# A pid that runs: not gone and not a zombie (a daemon whose parent, e.g.
# the chaos driver, has not reaped it yet is dead all the same).
alive() {
    [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" ] &&
        [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]
}

# Start a process in a namespace, in the background, its log appended.
bg() { # name ns command...
    name=$1; ns=$2; shift 2
    ip netns exec "$ns" "$@" >>"$DIR/logs/$name.log" 2>&1 </dev/null &
    echo $! >"$DIR/pids/$name"
}

in_ns() { ns=$1; shift; ip netns exec "$ns" "$@"; }

# ---- the processes ----------------------------------------------------------

# rrdcached of a collector: name (national-rrd, rN-rrd, wN-rrd), its directory.
start_rrd() {
    name=$1; d=$2
    mkdir -p "$d/journal" "$d/archive"
    rm -f "$d/rrdcached.pid" "$d/rrdcached.sock"
    bg "$name" "$(ns_of "$name")" rrdcached -g -l "unix:$d/rrdcached.sock" \
        -p "$d/rrdcached.pid" -b "$d/archive" -w 60 -z 30 -f 120 -t 1 -F
    wait_for 100 test -S "$d/rrdcached.sock" || die "$name did not start (log $DIR/logs/$name.log)"
}

# A collector: name, directory, listen, http, key, allowlist, more arguments.
start_coll() {
    name=$1; d=$2; listen=$3; http=$4; key=$5; allow=$6; shift 6
    ns=$(ns_of "$name")
    bg "$name" "$ns" "$BIN/poe-collector" --listen "$listen" --http "$http" \
        --rrdcached "unix:$d/rrdcached.sock" --archive "$d/archive" --state "$d/state" \
        --registry "$REGISTRY" --rra-profile compact --curve-secret "$DIR/keys/$key.secret" \
        --agent-keys "$DIR/keys/$allow" "$@"
    wait_for 150 in_ns "$ns" curl -sf "http://$(echo "$http" | sed s/0.0.0.0/127.0.0.1/)/health" ||
        die "$name did not start (log $DIR/logs/$name.log)"
}

start_national() {
    # HTTP on every address of its namespace: the host link and its loopback.
    start_coll national "$DIR/national" "tcp://$NET.0.2:5555" 0.0.0.0:8080 national \
        national-allow.conf --dashboards "$SRC/dashboards"
}

start_region() { # rN
    r=$1
    start_coll "$r" "$DIR/$r" tcp://127.0.0.1:5555 127.0.0.1:8080 "$r" "$r-allow.conf" \
        --upstream "tcp://$NET.0.2:5555" --upstream-key "$DIR/keys/national.pub" --dashboards ""
}

start_witness() { # wN: the same agents, never disturbed
    w=$1; r=$(echo "$w" | sed 's/^w/r/')
    start_coll "$w" "$DIR/$w" tcp://127.0.0.1:5655 127.0.0.1:8180 "$w" "$r-allow.conf" --dashboards ""
}

start_agent() { # agent-<crossing>-<direction>
    name=$1
    r=$(cat "$DIR/region/$name")
    id=$(echo "$name" | cut -d- -f2); dir=$(echo "$name" | cut -d- -f3)
    coll=tcp://127.0.0.1:5555; keys=$DIR/keys/$r.pub
    if [ "$WITNESS" = 1 ]; then
        w=$(echo "$r" | sed 's/^r/w/')
        coll=$coll,tcp://127.0.0.1:5655; keys=$keys,$DIR/keys/$w.pub
    fi
    bg "$name" "$(ns_of "$name")" "$BIN/poe-agent" --crossing "$id" --direction "$dir" \
        --collector "$coll" --curve-secret "$DIR/keys/$id-$dir.secret" --collector-key "$keys" \
        --spool "$DIR/$r/spool/$id-$dir" --spool-nosync --simulate \
        --sim-lanes "$(cat "$DIR/lanes/$id")" --sim-load "$LOAD"
}

start_one() { # name
    case $1 in
    national-rrd) start_rrd national-rrd "$DIR/national" ;;
    national) start_national ;;
    r?-rrd|w?-rrd) start_rrd "$1" "$DIR/${1%-rrd}" ;;
    r?) start_region "$1" ;;
    w?) start_witness "$1" ;;
    agent-*) start_agent "$1" ;;
    *) die "unknown process name $1" ;;
    esac
}

# ---- the registry: crossings, regions, lanes ------------------------------------

# "id border us_tz passenger pedestrian commercial" per crossing, registry order.
crossings() {
    awk '
    /^  \{ id = "/ { match($0, /id = "[0-9]+"/); id = substr($0, RSTART + 6, 6)
                   match($0, /border = "[A-Z]+"/); border = substr($0, RSTART + 10, 2) }
    /us_tz = "/ && id != "" { match($0, /us_tz = "[^"]+"/); tz = substr($0, RSTART + 9, RLENGTH - 10) }
    /max_lanes = \{/ && id != "" {
        p = $0; sub(/.*passenger = /, "", p); sub(/;.*/, "", p)
        q = $0; sub(/.*pedestrian = /, "", q); sub(/;.*/, "", q)
        c = $0; sub(/.*commercial = /, "", c); sub(/;.*/, "", c)
        print id, border, tz, p, q, c; id = "" }' "$REGISTRY"
}

region_of() { # border us_tz
    case "$1:$2" in
    CA:*) echo r1 ;;
    MX:America/Los_Angeles|MX:America/Phoenix) echo r2 ;;
    *) echo r3 ;;
    esac
}

# ---- up / down ------------------------------------------------------------------

make_keys() {
    mkdir -p "$DIR/keys"
    for k in national $REGIONS; do "$BIN/poe-keygen" "$DIR/keys/$k" >/dev/null; done
    if [ "$WITNESS" = 1 ]; then
        for r in $REGIONS; do "$BIN/poe-keygen" "$DIR/keys/w${r#r}" >/dev/null; done
    fi
    # The national collector knows which region owns which crossing (every
    # crossing of the registry, running or not): a region forwarding
    # another's crossing, or a second copy of a series, is refused.
    while read -r id border tz p q c; do
        echo "$id $(region_of "$border" "$tz")"
    done <"$DIR/crossings" >"$DIR/owner"
    {
        echo "agents = ("
        sep=""
        for r in $REGIONS; do
            list=$(awk -v r="$r" '$2 == r { printf "%s\"%s\"", n++ ? ", " : "", $1 }' "$DIR/owner")
            # One line per region: an operator (or the bench) revokes it with one sed.
            printf '%s  { key = "%s"; name = "%s"; crossings = [ %s ]; }' "$sep" \
                "$DIR/keys/$r.pub" "$r" "$list"
            sep=",
"
        done
        printf '\n);\n'
    } >"$DIR/keys/national-allow.conf"
    for r in $REGIONS; do
        {
            echo "agents = ("
            sep=""
            for a in $(grep -lx "$r" "$DIR"/region/agent-* 2>/dev/null | xargs -n1 basename 2>/dev/null); do
                id=$(echo "$a" | cut -d- -f2); dir=$(echo "$a" | cut -d- -f3)
                "$BIN/poe-keygen" "$DIR/keys/$id-$dir" >/dev/null
                printf '%s  { key = "%s"; crossing = "%s"; direction = "%s"; }' "$sep" \
                    "$DIR/keys/$id-$dir.pub" "$id" "$dir"
                sep=",
"
            done
            printf '\n);\n'
        } >"$DIR/keys/$r-allow.conf"
    done
}

make_links() {
    ip netns add "${P}nat"
    ip link add "${P}h" type veth peer name "${P}H" netns "${P}nat"
    ip addr add "$NET.0.1/30" dev "${P}h"
    ip link set "${P}h" up
    in_ns "${P}nat" ip addr add "$NET.0.2/30" dev "${P}H"
    in_ns "${P}nat" ip link set "${P}H" up
    in_ns "${P}nat" ip link set lo up
    for r in $REGIONS; do
        n=${r#r}
        ip netns add "${P}$r"
        ip link add "${P}a$n" netns "${P}$r" type veth peer name "${P}b$n" netns "${P}nat"
        in_ns "${P}$r" ip addr add "$NET.$n.1/30" dev "${P}a$n"
        in_ns "${P}$r" ip link set "${P}a$n" up
        in_ns "${P}$r" ip link set lo up
        in_ns "${P}$r" ip route add default via "$NET.$n.2"
        in_ns "${P}nat" ip addr add "$NET.$n.2/30" dev "${P}b$n"
        in_ns "${P}nat" ip link set "${P}b$n" up
    done
}

cmd_up() {
    DIR=$1
    [ "$(id -u)" -eq 0 ] || die "needs root (ip netns, veth)"
    command -v ip >/dev/null || die "needs iproute2 (make deps)"
    NET=${NETWORK_NET:-10.77}
    if ip -o addr show | grep -q " $NET\.0\.1/"; then
        die "$NET.0.1 is in use on this host (another network running?); set NETWORK_NET=10.N"
    fi
    P=pn$(($$ % 100000))
    WITNESS=${NETWORK_WITNESS:-0}
    LOAD=${NETWORK_LOAD:-1.05}
    mkdir -p "$DIR/pids" "$DIR/logs" "$DIR/region" "$DIR/lanes"
    cat >"$DIR/env" <<EOF
P=$P
NET=$NET
WITNESS=$WITNESS
LOAD=$LOAD
EOF
    # NETWORK_CROSSINGS=N: the first N/3 (rounded up) of each region, so
    # that every region has crossings in a small run.
    limit=${NETWORK_CROSSINGS:-0}
    per=$(((limit + 2) / 3))
    count=0
    crossings >"$DIR/crossings"
    while read -r id border tz p q c; do
        [ "$limit" -gt 0 ] && [ $count -ge "$limit" ] && break
        r=$(region_of "$border" "$tz")
        if [ "$limit" -gt 0 ] && [ "$(grep -lx "$r" "$DIR"/region/agent-*-northbound 2>/dev/null | wc -l)" -ge $per ]; then
            continue
        fi
        count=$((count + 1))
        echo "passenger=$p,pedestrian=$q,commercial=$c" >"$DIR/lanes/$id"
        for dir in northbound southbound; do echo "$r" >"$DIR/region/agent-$id-$dir"; done
    done <"$DIR/crossings"
    make_keys
    make_links
    start_one national-rrd
    start_one national
    for r in $REGIONS; do
        mkdir -p "$DIR/$r/spool"
        start_one "$r-rrd"
        start_one "$r"
        if [ "$WITNESS" = 1 ]; then
            start_one "w${r#r}-rrd"
            start_one "w${r#r}"
        fi
    done
    for a in "$DIR"/region/agent-*; do start_one "$(basename "$a")"; done
    echo "network up in $DIR: national + $(echo $REGIONS | wc -w) regions, $count crossings," \
         "$(ls "$DIR"/region | wc -l) agents$( [ "$WITNESS" = 1 ] && echo ", witnesses")"
}

# Stop everything: agents first (they keep what is not yet delivered), then
# collectors (they flush), then rrdcached (it writes its cache). A process
# still in a namespace afterwards is a leak: reported, killed, exit 1.
in_group() { # group name
    case $1:$2 in
    agents:agent-*|agents:stray-*|rrd:*-rrd) return 0 ;;
    collectors:agent-*|collectors:stray-*|collectors:*-rrd) return 1 ;;
    collectors:*) return 0 ;;
    esac
    return 1
}

cmd_down() {
    load_env "$1"
    for group in agents collectors rrd; do
        pids=""
        for f in "$DIR"/pids/*; do
            [ -f "$f" ] && in_group $group "$(basename "$f")" || continue
            kill "$(cat "$f")" 2>/dev/null && pids="$pids $(cat "$f")"
        done
        i=0 # up to 30 s for the group (rrdcached writes its cache)
        for pid in $pids; do
            while alive "$pid" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
        done
    done
    leaked=0
    for ns in "${P}nat" $(for r in $REGIONS; do echo "${P}$r"; done); do
        [ -e "/run/netns/$ns" ] || continue
        left=$(ip netns pids "$ns" 2>/dev/null || true)
        if [ -n "$left" ]; then
            echo "network: LEAK: processes left in $ns: $left" >&2
            kill -9 $left 2>/dev/null || true
            leaked=1
        fi
        ip netns del "$ns"
    done
    ip link del "${P}h" 2>/dev/null || true
    rm -f "$DIR"/pids/*
    return $leaked
}

cmd_kill() {
    load_env "$1"
    [ -f "$DIR/pids/$2" ] || die "no process $2"
    kill -9 "$(cat "$DIR/pids/$2")" 2>/dev/null || true
    pid=$(cat "$DIR/pids/$2")
    i=0
    while alive "$pid"; do
        i=$((i + 1))
        [ $i -ge 50 ] && die "$2 ($pid) survived kill -9"
        sleep 0.1
    done
}

cmd_partition() {
    load_env "$1"
    n=${2#r}
    case $3 in
    on) in_ns "${P}$2" ip link set "${P}a$n" down ;;
    off)
        in_ns "${P}$2" ip link set "${P}a$n" up
        # A link going down takes its routes with it.
        in_ns "${P}$2" ip route replace default via "$NET.$n.2" ;;
    *) die "partition DIR rN on|off" ;;
    esac
}

cmd_netem() {
    load_env "$1"
    n=${2#r}; shift 2
    if [ "$*" = off ]; then
        in_ns "${P}r$n" tc qdisc del dev "${P}a$n" root 2>/dev/null || true
        in_ns "${P}nat" tc qdisc del dev "${P}b$n" root 2>/dev/null || true
        return 0
    fi
    # Both directions of the link.
    in_ns "${P}r$n" tc qdisc replace dev "${P}a$n" root netem "$@" &&
        in_ns "${P}nat" tc qdisc replace dev "${P}b$n" root netem "$@"
}

cmd_stray() { # DIR rN CROSSING DIRECTION [AGENT ARGS]
    load_env "$1"
    r=$2; id=$3; dir=$4; shift 4
    name=stray-$id-$dir
    [ -f "$DIR/pids/$name" ] && die "$name runs already"
    lanes=$(awk -v id="$id" '$1 == id { printf "passenger=%s,pedestrian=%s,commercial=%s", $4, $5, $6 }' \
        "$DIR/crossings")
    [ -n "$lanes" ] || die "crossing $id is not in the registry"
    mkdir -p "$DIR/stray"
    echo "$r" >"$DIR/stray/$name"
    "$BIN/poe-keygen" "$DIR/keys/$name" >/dev/null
    # The region's allowlist ends with ");": the new entry goes before it.
    sed -i '$d' "$DIR/keys/$r-allow.conf"
    printf ',\n  { key = "%s"; crossing = "%s"; direction = "%s"; }\n);\n' \
        "$DIR/keys/$name.pub" "$id" "$dir" >>"$DIR/keys/$r-allow.conf"
    kill -HUP "$(cat "$DIR/pids/$r")"
    sleep 0.5 # the reload happens before the handshake
    bg "$name" "${P}$r" "$BIN/poe-agent" --crossing "$id" --direction "$dir" \
        --collector tcp://127.0.0.1:5555 --curve-secret "$DIR/keys/$name.secret" \
        --collector-key "$DIR/keys/$r.pub" --spool "$DIR/$r/spool/$name" --spool-nosync \
        --simulate --sim-lanes "$lanes" --sim-load "$LOAD" "$@"
}

cmd_list() {
    load_env "$1"
    for f in "$DIR"/pids/*; do
        [ -f "$f" ] || continue
        printf '%s %s %s\n' "$(basename "$f")" "$(cat "$f")" \
            "$(alive "$(cat "$f")" && echo up || echo down)"
    done
}

cmd_run() {
    DIR=$(mktemp -d /tmp/poenet-network.XXXXXX)
    cleanup() {
        trap - EXIT INT TERM
        echo
        echo "network: stopping"
        rc=0
        [ -f "$DIR/env" ] && { cmd_down "$DIR" || rc=1; }
        if [ -n "${NETWORK_KEEP:-}" ]; then echo "network: logs, keys and archives kept in $DIR"
        else rm -rf "$DIR"; fi
        exit $rc
    }
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    cmd_up "$DIR"
    . "$DIR/env"
    cat <<MSG
  national board: http://$NET.0.2:8080/     feed: http://$NET.0.2:8080/v1/crossings
  metrics:        http://$NET.0.2:8080/metrics
  a region:       ip netns exec ${P}r1 curl -s http://127.0.0.1:8080/v1/crossings
  processes:      $0 list $DIR
  logs:           $DIR/logs
MSG
    if [ -n "${NETWORK_SECONDS:-}" ]; then
        echo "(stopping after $NETWORK_SECONDS s)"
        sleep "$NETWORK_SECONDS"
    else
        echo "(Ctrl-C to stop)"
        while :; do sleep 3600; done
    fi
}

case ${1:-run} in
run) cmd_run ;;
up) [ $# -eq 2 ] || die "up DIR"; cmd_up "$2" ;;
down) [ $# -eq 2 ] || die "down DIR"; cmd_down "$2" ;;
kill) [ $# -eq 3 ] || die "kill DIR NAME"; cmd_kill "$2" "$3" ;;
start) [ $# -eq 3 ] || die "start DIR NAME"; load_env "$2"; start_one "$3" ;;
partition) [ $# -eq 4 ] || die "partition DIR rN on|off"; cmd_partition "$2" "$3" "$4" ;;
netem) [ $# -ge 4 ] || die "netem DIR rN SPEC|off"; d=$2; r=$3; shift 3; cmd_netem "$d" "$r" "$@" ;;
list) [ $# -eq 2 ] || die "list DIR"; cmd_list "$2" ;;
stray) [ $# -ge 5 ] || die "stray DIR rN CROSSING DIRECTION [AGENT ARGS]"; shift; cmd_stray "$@" ;;
*) sed -n '2,40p' "$0" >&2; exit 2 ;;
esac
