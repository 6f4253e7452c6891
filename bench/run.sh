#!/bin/sh
# bench/run.sh — run poenet's benchmarks and print one table (`make bench`).
#
# Env: POE_BIN (directory of poe-agent and poe-collector) and BENCH_BIN
# (directory of the bench programs). Each program starts and stops its own
# rrdcached, collector and agents in a temporary directory under $WORK, on
# loopback only, and every run is bounded by timeout(1). The figures are
# reported, never judged: a slow machine does not fail; a component that
# does not start (or a bench that gets no result) does, after the table.
# Reference figures are from the project's shared stack notes (stack-facts), measured on
# a 2-core CI machine; docs/performance.md explains every row.
set -u
: "${POE_BIN:?set POE_BIN to the directory of poe-agent and poe-collector}"
: "${BENCH_BIN:?set BENCH_BIN to the directory of the bench programs}"
export POE_BIN
SRC=$(cd "$(dirname "$0")/.." && pwd)

REF_COLLECTD=12500     # collectd network -> rrdcached plugin, values/s
REF_EVHTTP=26000       # evhttp, 50 KB body, TCP_NODELAY, req/s
REF_NGINX=46000        # nginx, one worker, sendfile, same body, req/s
REF_BODY=50000         # the body size of both HTTP references, bytes

WORK=$(mktemp -d /tmp/poenet-bench.XXXXXX) || exit 1
child=
failed=""
cleanup() {
    if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; fi
    # After a failure the benches leave their logs (not their archives) for a look.
    if [ -z "$failed" ]; then rm -rf "$WORK"; else echo "bench: logs in $WORK" >&2; fi
}
trap cleanup EXIT
trap 'failed="$failed interrupted"; exit 130' INT TERM

# run NAME LIMIT_S PROGRAM ARGS...: key=value lines to $WORK/NAME.out
run() {
    name=$1 limit=$2; shift 2
    timeout -k 10 "$limit" "$@" --workdir "$WORK" >"$WORK/$name.out" &
    child=$!
    wait "$child"; rc=$?
    child=
    if [ "$rc" -ne 0 ]; then
        failed="$failed $name(exit $rc)"
        echo "bench: $name failed (exit $rc)" >&2
    fi
}

# get NAME KEY: the value, or "-" when missing
get() { v=$(sed -n "s/^$2=//p" "$WORK/$1.out" 2>/dev/null | tail -1); echo "${v:--}"; }

# fmt N: thousands separators; anything else (e.g. "-") as it is
fmt() {
    echo "$1" | awk '{ if ($1 !~ /^-?[0-9]+$/) { print $1; exit }
        s = $1; o = ""
        while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
        print s o }'
}

# ratio A B: A/B to two decimals, "-" when either is missing
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a+0 > 0 && b+0 > 0) printf "%.2f×", a / b; else print "-" }'
}

# mb KB: "12.3 MB"
mb() { awk -v k="$1" 'BEGIN { if (k+0 > 0) printf "%.1f MB", k / 1024; else print "-" }'; }

# ---- the runs ---------------------------------------------------------------------
started=$(date +%s)
load0=$(cut -d' ' -f1 /proc/loadavg)
run ingest-1k 120 "$BENCH_BIN/ingest" --series 1000 --seconds 10
run ingest-10k 300 "$BENCH_BIN/ingest" --series 10000 --seconds 10 --live 20
run ingest-10k-catchup 240 "$BENCH_BIN/ingest" --series 10000 --seconds 10 --intervals 40
run latency 240 "$BENCH_BIN/latency" --samples 60 --interval 500 --registry "$SRC/deploy/registry.conf"
run feed 120 "$BENCH_BIN/feed" --seconds 10 --registry "$SRC/deploy/registry.conf"
run serve 300 "$BENCH_BIN/serve" --seconds 4 --rounds 2 --registry "$SRC/deploy/registry.conf" \
    --site "$SRC/deploy/nginx/poenet-feed.conf"
run sse 240 "$BENCH_BIN/sse" --clients 1000 --updates 60 --rate 2 --registry "$SRC/deploy/registry.conf"
elapsed=$(( $(date +%s) - started ))
load1=$(cut -d' ' -f1 /proc/loadavg)

# ---- the table ----------------------------------------------------------------------
model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
ram=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
debian=$(cat /etc/debian_version 2>/dev/null || echo "?")
echo
echo "poenet bench, $(date -u '+%Y-%m-%d %H:%M UTC'), ${elapsed} s"
echo "$(nproc) × $model, $ram RAM, Debian $debian"
echo "load average (1 min): $load0 before, $load1 after (the bench included)"
echo

row() { printf '%-48s %-22s %-28s %s\n' "$1" "$2" "$3" "$4"; }
mbs() { awk -v r="$1" -v b="$2" 'BEGIN { if (r+0 > 0) printf "%.0f MB/s", r * b / 1e6; else print "-" }'; }
i1=ingest-1k i10=ingest-10k icu=ingest-10k-catchup
row "figure" "measured" "reference" "ratio"
row "------" "--------" "---------" "-----"
for n in $i1 $i10 $icu; do
    sps=$(get $n samples_per_s)
    row "ingest, $(fmt "$(get $n series)") series, $(get $n batch_samples)-sample batches" \
        "$(fmt "$sps") samples/s" "collectd $(fmt $REF_COLLECTD) values/s" \
        "$(ratio "$sps" $REF_COLLECTD)"
done
row "RRD files created, 1,000 / 10,000 series" \
    "$(fmt "$(get $i1 files_per_s)") / $(fmt "$(get $i10 files_per_s)") files/s" "" ""
row "all durable, after the flood (3 runs above)" \
    "$(get $i1 settle_seconds) / $(get $i10 settle_seconds) / $(get $icu settle_seconds) s" "" ""
row "10,000 series live: to accepted, p50 / p99" \
    "$(get $i10 live_accepted_p50_ms) / $(get $i10 live_accepted_p99_ms) ms" "" ""
row "10,000 series live, after each agent's first batch: to accepted, p50 / p99" \
    "$(get $i10 live_accepted_after_first_p50_ms) / $(get $i10 live_accepted_after_first_p99_ms) ms" "" ""
row "10,000 series live: to durable, p50 / p99" \
    "$(get $i10 live_durable_p50_ms) / $(get $i10 live_durable_p99_ms) ms" "" ""
row "GET /health worst wait, flood / live (10,000)" \
    "$(get $i10 flood_http_probe_worst_ms) / $(get $i10 live_http_probe_worst_ms) ms" "" ""
row "GET /health p99, flood / live (10,000)" \
    "$(get $i10 flood_http_probe_p99_ms) / $(get $i10 live_http_probe_p99_ms) ms" "" ""
row "GET /v1/crossings p99, flood / live (10,000)" \
    "$(get $i10 flood_crossings_probe_p99_ms) / $(get $i10 live_crossings_probe_p99_ms) ms" \
    "nginx $(get $i10 flood_nginx_crossings_probe_p99_ms) / $(get $i10 live_nginx_crossings_probe_p99_ms) ms" ""
row "  the same with Accept-Encoding: gzip" \
    "$(get $i10 flood_crossings_gzip_probe_p99_ms) / $(get $i10 live_crossings_gzip_probe_p99_ms) ms" \
    "nginx $(get $i10 flood_nginx_crossings_gzip_probe_p99_ms) / $(get $i10 live_nginx_crossings_gzip_probe_p99_ms) ms" ""
for k in quiet busy; do
    row "sensor line -> feed, $k stream, p50 / p99" \
        "$(get latency ${k}_p50_ms) / $(get latency ${k}_p99_ms) ms" "" ""
done
rps=$(get feed wrk_requests_per_s)
body=$(get feed body_bytes)
row "GET /v1/crossings, keep-alive, wrk -t2 -c32" "$(fmt "$rps") req/s" \
    "evhttp $(fmt $REF_EVHTTP) req/s, 50 KB" "$(ratio "$rps" $REF_EVHTTP)"
row "" "" "nginx $(fmt $REF_NGINX) req/s, 50 KB" "$(ratio "$rps" $REF_NGINX)"
row "  the same in bytes ($(fmt "$body") B body)" "$(mbs "$rps" "$body")" \
    "evhttp $(mbs $REF_EVHTTP $REF_BODY)" \
    "$(ratio "$(awk -v r="$rps" -v b="$body" 'BEGIN { print r * b }')" $((REF_EVHTTP * REF_BODY)))"
for d in crossings:/v1/crossings bwtxml:/xml/bwt.xml bwtnew:/api/bwtnew; do
    k=${d%%:*} p=${d#*:}
    for e in plain gzip; do
        row "GET $p, $e ($(fmt "$(get serve serve_${k}_${e}_bytes)") B), wrk -t1 -c50" \
            "$(fmt "$(get serve serve_${k}_${e}_collector_rps)") req/s" \
            "nginx $(fmt "$(get serve serve_${k}_${e}_nginx_rps)") req/s, same bytes" \
            "$(ratio "$(get serve serve_${k}_${e}_collector_rps)" "$(get serve serve_${k}_${e}_nginx_rps)")"
    done
done
row "/v1/stream, $(fmt "$(get sse sse_clients)") streams: update to stream p50 / p99" \
    "$(get sse sse_pub_p50_ms) / $(get sse sse_pub_p99_ms) ms" "target p99 1,000 ms" ""
row "/v1/stream: collector memory per stream" \
    "$(get sse collector_kb_per_stream) kB" "" ""
row "collector after the 10,000-series flood" \
    "VmRSS $(mb "$(get $i10 collector_vmrss_kb)")" "" ""
row "" "VmHWM $(mb "$(get $i10 collector_vmhwm_kb)")" "" ""
row "collector after 10,000 series live" \
    "VmRSS $(mb "$(get $i10 live_collector_vmrss_kb)")" "target 100 MB" ""

echo
echo "notes:"
for n in $i1 $i10 $icu; do
    echo "  $n: cores in the flood: collector $(get $n flood_collector_cpu)," \
         "rrdcached $(get $n flood_rrdcached_cpu), client $(get $n flood_client_cpu);" \
         "durable meanwhile $(fmt "$(get $n durable_samples_per_s)") samples/s;" \
         "/health probes $(get $n flood_http_probes), $(get $n flood_http_probe_failed) timed out"
    echo "      rrdcached VmRSS $(mb "$(get $n rrdcached_vmrss_kb)"); rejected" \
         "$(get $n collector_rejected), resends $(get $n resends)," \
         "event time exhausted $(get $n event_time_exhausted)"
done
echo "  $i10 live $(get $i10 live_seconds) s: $(get $i10 live_accepted_batches) batches;" \
     "max to accepted $(get $i10 live_accepted_max_ms) ms, to durable" \
     "$(get $i10 live_durable_max_ms) ms; cores: collector $(get $i10 live_collector_cpu)," \
     "rrdcached $(get $i10 live_rrdcached_cpu)"
echo "  latency: --interval $(get latency interval_ms), grace $(get latency grace_ms) ms;" \
     "quiet $(get latency quiet_samples) lines, after end + grace p50 / p99" \
     "$(get latency quiet_after_grace_p50_ms) / $(get latency quiet_after_grace_p99_ms) ms;" \
     "busy $(get latency busy_samples) lines, after end p50 / p99" \
     "$(get latency busy_after_end_p50_ms) / $(get latency busy_after_end_p99_ms) ms"
echo "  serve: collector with $(get serve serve_threads) HTTP threads against nginx with 1 worker," \
     "alternated, $(get serve serve_rounds) rounds of $(get serve serve_seconds) s each; non-2xx" \
     "(collector/nginx): $(for k in crossings bwtxml bwtnew; do for e in plain gzip; do
        printf '%s ' "$(get serve serve_${k}_${e}_non2xx)"; done; done)"
echo "  sse: $(get sse sse_deliveries) of $(get sse sse_deliveries_expected) deliveries, gaps" \
     "$(get sse sse_gaps), out of order $(get sse sse_out_of_order); from the agent's send p50 / p99" \
     "$(get sse sse_send_p50_ms) / $(get sse sse_send_p99_ms) ms; all streams connected in" \
     "$(get sse sse_connect_all_ms) ms; VmRSS before / streams / after $(mb "$(get sse collector_vmrss_before_kb)")" \
     "/ $(mb "$(get sse collector_vmrss_streams_kb)") / $(mb "$(get sse collector_vmrss_after_kb)");" \
     "collector $(get sse collector_cpu) cores"
echo "  feed: $(get feed body_crossings) crossings, $(get feed body_open_queues) of" \
     "$(get feed body_queues) queues open; wrk p50 / p99 $(get feed wrk_p50_ms) /" \
     "$(get feed wrk_p99_ms) ms, non-2xx $(get feed wrk_non2xx), socket errors" \
     "$(get feed wrk_socket_errors); collector $(get feed wrk_collector_cpu) cores"

if [ -n "$failed" ]; then
    echo "bench: FAILED:$failed" >&2
    exit 1
fi
