#!/bin/sh
# bench/forecast.sh — the forecast's accuracy on poe-sim's multi-week
# scenario through a real poe-agent, poe-collector and rrdcached
# (build/bench/forecast), written into docs/forecast.md (between the
# figures markers) with a plot, docs/img/forecast-weeks.png (rrdtool
# graph): the band the forecast gave 1 hour ahead against the truth, over
# the third week. Then the refresh cost of every queue of the registry.
#
#   POE_BIN=build/bin BENCH_BIN=build/bench bench/forecast.sh [OUT_DIR] [SEEDS]
#
# SEEDS: one or more seeds ("1 2"); each is simulated and scored in
# OUT_DIR/seed-N, the table has one block per seed, the plot is the first's.
# FORECAST_REUSE_LOG=1 scores the forecast log of an earlier run in OUT_DIR
# again (no daemons); COST="..." reuses a refresh-cost line.
#
# Scored from the start of the third week (two weeks to learn from).
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
POE_BIN=${POE_BIN:-$SRC/build/bin}
BENCH_BIN=${BENCH_BIN:-$SRC/build/bench}
export POE_BIN
OUT=${1:-${TMPDIR:-/tmp}/poenet-forecast}
SEEDS=${2:-1 2}
DOC=$SRC/docs/forecast.md
IMG=$SRC/docs/img
WEEK0=1772409600            # poe-sim's default Monday, 2026-03-02 00:00 UTC
FROM=$((WEEK0 + 14 * 86400))
mkdir -p "$OUT" "$IMG"
cd "$SRC"

TOP=$OUT
for SEED in $SEEDS; do
    OUT=$TOP/seed-$SEED
    mkdir -p "$OUT"
    "$POE_BIN/poe-sim" --scenario weeks --seed "$SEED" --events "$OUT/weeks.ev" \
        --truth "$OUT/weeks.truth" --plan-out "$OUT/plan.csv" --log-level warn
    "$BENCH_BIN/forecast" --events "$OUT/weeks.ev" --truth "$OUT/weeks.truth" --crossing 260401 \
        --direction northbound --from "$FROM" --out "$OUT" --plan "$OUT/plan.csv" | tee "$OUT/table.txt"
done
FIRST=$(echo $SEEDS | cut -d' ' -f1)
OUT=$TOP/seed-$FIRST

# The plot: forecast made 1 h ahead (P10-P90 band, P50) and the truth, in
# minutes, over the third week of the standard lanes.
csv=$OUT/passenger-standard.h1.csv
rrd=$OUT/plot.rrd
first=$FROM
last=$((FROM + 7 * 86400))
rm -f "$rrd"
rrdtool create "$rrd" -s 3600 -b $((first - 3600)) \
    DS:truth:GAUGE:7200:0:U DS:p10:GAUGE:7200:0:U DS:p50:GAUGE:7200:0:U DS:p90:GAUGE:7200:0:U \
    RRA:AVERAGE:0.5:1:800
awk -F, -v a="$first" -v b="$last" 'NR>1 && $1 >= a && $1 < b {
        t = $1 + 900; v = ($2 == "" ? "U" : $2 / 60);
        printf "%s:%s:%s:%s:%s\n", t, v, $3 / 60, $4 / 60, $5 / 60 }' "$csv" |
    xargs -n 300 rrdtool update "$rrd"
# (one forecast per hour: the RRD steps by the hour)
rrdtool graph "$IMG/forecast-weeks.png" -a PNG -w 1000 -h 280 -s "$first" -e "$last" \
    -t "Nogales passenger standard, third week: forecast 1 h ahead vs truth" \
    -v "wait (minutes)" -l 0 \
    DEF:truth="$rrd":truth:AVERAGE DEF:p10="$rrd":p10:AVERAGE DEF:p50="$rrd":p50:AVERAGE \
    DEF:p90="$rrd":p90:AVERAGE CDEF:band=p90,p10,- \
    LINE:p10 AREA:band#56b4e955:"P10-P90":STACK \
    LINE1:p50#0072b2:"P50 (forecast 1 h ahead)" \
    LINE1:truth#000000:"truth (mean wait of those who joined in the 15 min)" >/dev/null
rm -f "$rrd"

COST=${COST:-$("$BENCH_BIN/forecast" --cost)}   # COST=... skips the 2-minute measurement
echo "$COST"

# The table in the doc, between the markers.
TABLE=$TOP/table.md
{
    echo "| seed | queue | horizon | n | MAE / P85 (min) | P10–P90 coverage | persistence MAE / P85 | hour-of-week MAE / P85 |"
    echo "|---|---|---|---|---|---|---|---|"
    for SEED in $SEEDS; do
        awk -F'\t' -v s="$SEED" 'NR>1 { printf "| %s | %s | %s | %d | %.1f / %.1f | %.0f%% | %.1f / %.1f | %.1f / %.1f |\n",
                        s, $1, $2, $3, $4/60, $5/60, 100*$6, $7/60, $8/60, $9/60, $10/60 }' "$TOP/seed-$SEED/metrics.tsv"
    done
    echo
    echo "Seeds $SEEDS (the plot: seed $FIRST); $COST."
} >"$TABLE"
awk -v table="$TABLE" '
    /<!-- figures:begin -->/ { print; while ((getline l < table) > 0) print l; skip = 1; next }
    /<!-- figures:end -->/ { skip = 0 }
    !skip { print }' "$DOC" >"$DOC.tmp" && mv "$DOC.tmp" "$DOC"
echo "wrote $DOC and $IMG/forecast-weeks.png" >&2
