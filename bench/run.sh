#!/usr/bin/env bash
# Run every memvault benchmark in one go, side by side with the anchors, on this machine.
# Needs the PostgreSQL test servers (`make pg-start`); takes a long time (the 1M-row parts
# dominate). Outputs go to bench/results/<date>/ (not committed); copy figures into the
# README of each benchmark by hand, with the load average the header shows.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
out="bench/results/$(date -u +%Y%m%d-%H%M)"
mkdir -p "$out"
eval "$(python3 scripts/pgservers.py start)"
pg18="${MEMVAULT_TEST_PG18_URL%/*}"
fresh() { # a fresh database on the PG18 test server, printed as a URL
    "$PY" -c "import sys; from tests._servers import fresh_database; print(fresh_database(sys.argv[1], sys.argv[2]))" \
        "$MEMVAULT_TEST_PG18_URL" "$1"
}
run() { local name="$1"; shift; echo "== $name"; "$@" 2>&1 | tee "$out/$name.md"; }
run core      "$PY" bench/core.py --pg "$(fresh mv_bench_core)"
run domains   "$PY" bench/domains.py --pg "$(fresh mv_bench_domains)"
run search    "$PY" bench/search.py --pg "$(fresh mv_bench_search)"
run imports   "$PY" bench/imports.py
run transfer  "$PY" bench/transfer.py --rows 1000000
run service   "$PY" bench/service.py --pg "$(fresh mv_bench_service)"
run hook      "$PY" bench/hook.py --pg "$(fresh mv_bench_hook)"
run mcp       "$PY" bench/mcp_roundtrip.py
run mem0      "$PY" bench/mem0.py
if [[ -d ../shared/anchors-bench ]]; then
    run anchors bash ../shared/anchors-bench/run_all.sh
fi
echo "results in $out (pg18 at $pg18)"
