#!/usr/bin/env bash
# Benchmark `wavegap query` on the seed triage against the DuckDB and Polars peers of the
# bench kit (../shared/bench, or $WAVEGAP_BENCH_DIR), on the report's own query against
# DuckDB and a hand-written floor (bench/floor; scripts/bench_report_query.py) and
# `wavegap report` of whole waves (scripts/bench_report.py): generates the 8 M-record set (and the 10 M set, for the memory
# check and the report query over more bytes) under ~/.cache/wavegap/data if missing, builds
# the release binary, runs every tool alternately RUNS times (default 5) and prints medians,
# peak RSS, the ratios, check_triage.py's MATCH/DIFFER and the report query's row-by-row
# comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
kit=${WAVEGAP_BENCH_DIR:-$(cd .. && pwd)/shared/bench}
data=${WAVEGAP_BENCH_DATA:-$HOME/.cache/wavegap/data}
runs=${RUNS:-5}
status=0
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/wavegap/target}

scripts/setup-python.sh
gen() { # name, generator options…
  local name=$1; shift
  if [ ! -f "$data/$name/truth.json" ]; then
    echo "generating $data/$name (a few minutes)…" >&2
    rm -rf "$data/$name.tmp"
    python3 "$kit/gen_flowlogs.py" --out "$data/$name.tmp" --truth "$data/$name.tmp/truth.json" "$@" >&2
    mv "$data/$name.tmp" "$data/$name"
  fi
}
gen bench --seed 1 --flows-per-hour 150000
cargo build --release --quiet -p wavegap
bin=$CARGO_TARGET_DIR/release/wavegap
cargo build --release --quiet --locked --manifest-path bench/floor/Cargo.toml
floor=$CARGO_TARGET_DIR/release/wavegap-bench-floor

echo "== bench set (8 M records): wavegap vs DuckDB and Polars"
.venv/bin/python scripts/bench_query.py --wavegap "$bin" --data "$data/bench" --bench-kit "$kit" --runs "$runs" --python .venv/bin/python | tee /tmp/wavegap-bench.$$ || status=$?
more=()
if [ "${SKIP_10M:-0}" != 1 ]; then
  gen 10m --scale 10m --seed 1
  more=(--more "$data/10m")
fi
echo "== bench set: the report query (wavegap plan's text) vs DuckDB and the triage, at 1x, 2x, 4x the servers${more:+ and on the 10 M set}"
.venv/bin/python scripts/bench_report_query.py --wavegap "$bin" --data "$data/bench" "${more[@]}" --floor "$floor" --runs "$runs" --python .venv/bin/python || status=$?
echo "== bench set: wavegap report of wave-01 and of every app, end to end, with the sizes of its files"
.venv/bin/python scripts/bench_report.py --wavegap "$bin" --data "$data/bench" --runs "$runs" || status=$?
base=$(sed -n 's/^wavegap peak RSS = \([0-9.]*\) MB.*/\1/p' /tmp/wavegap-bench.$$)
rm -f /tmp/wavegap-bench.$$
if [ "${SKIP_10M:-0}" != 1 ]; then
  echo "== 10 M set: wavegap's peak RSS (must stay within +10 % of the 8 M set's)"
  .venv/bin/python scripts/bench_query.py --wavegap "$bin" --data "$data/10m" --bench-kit "$kit" --runs "$runs" --python .venv/bin/python --wavegap-only --baseline-rss "$base"
fi
exit "${status:-0}"
