#!/usr/bin/env bash
# bench/inventory.sh — reserve + release pairs per second through the admin API: on one hot
# variant (every request contends for the same variant's lock) and spread over 10,000 variants
# (see bench/README.md).
#
#   bash bench/inventory.sh
#
# Builds the release binary, starts a private PostgreSQL (pg_stat_statements loaded, to count
# queries), provisions tenant `bench`, seeds it with 3,334 products × 3 variants and counts every
# variant to 1,000,000 on hand through the facades (`agora bench-seed --stock`), starts a
# web-only server, and per scenario: warms up, counts statements and transactions per request in
# a short extra run, then measures with wrk. Each connection alternates
# POST /api/v1/admin/inventory/reservations (one unit) and …/reservations/{id}/release
# (bench/lua/reserve_release.lua). Prints one line per scenario:
#   RESULT inventory.<scenario> pairs/s=… req/s=… p50=… p99=… non2xx=… statements/req=… xacts/req=…
#
# Environment:
#   DATABASE_URL      use this PostgreSQL instead (tenant `bench` created or reused; statements
#                     per request only when pg_stat_statements is loaded there)
#   REDIS_URL         passed through to the server when set
#   BENCH_PRODUCTS    products to seed (default 3334); BENCH_VARIANTS (3); BENCH_STOCK (1000000)
#   BENCH_DURATION    measured run per scenario (20s); BENCH_WARMUP (5s); BENCH_COUNT (3s)
#   BENCH_THREADS / BENCH_CONNECTIONS   wrk -t / -c (2 / 32)
#   BENCH_SCENARIOS   which to run (default "hot spread")
#   BENCH_TIMEOUT     wrk --timeout (10s): an answer slower than this is a timeout, missing from
#                     the latencies (the line then ends with timeouts=N)
#   AGORA_BIN         benchmark this prebuilt binary instead of building target/release/agora
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT="$(pwd)"

DURATION="${BENCH_DURATION:-20s}"
WARMUP="${BENCH_WARMUP:-5s}"
COUNT_RUN="${BENCH_COUNT:-3s}"
THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
PRODUCTS="${BENCH_PRODUCTS:-3334}"
VARIANTS="${BENCH_VARIANTS:-3}"
STOCK="${BENCH_STOCK:-1000000}"
SCENARIOS="${BENCH_SCENARIOS:-hot spread}"
TIMEOUT="${BENCH_TIMEOUT:-10s}"
TENANT=bench
export DEBIAN_FRONTEND=noninteractive CARGO_INCREMENTAL=0

AGORA_SUDO_FLAGS=-n
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh

for scenario in $SCENARIOS; do
    case "$scenario" in
        hot|spread) ;;
        *) die "unknown scenario '$scenario' (hot, spread)";;
    esac
done

# --- cleanup: the server (SIGTERM, bounded wait), our PostgreSQL, the temp dirs ---------------
SERVER_PID=""
PG_DIR=""
PGBIN=""
WORK_DIR="$(mktemp -d /tmp/agora-bench-inventory.XXXXXX)"
chmod 755 "$WORK_DIR"
cleanup() {
    local rc=$?
    set +e
    stop_server
    stop_postgres
    rm -rf "$WORK_DIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

# --- tools and build --------------------------------------------------------------------------
section "Tools"
bench_tools bc
pg_tools
bench_binary
export AGORA_DATA_DIR="$WORK_DIR/data"   # kept token key: nothing outside the temp dir

# --- database ---------------------------------------------------------------------------------
start_postgres "$WORK_DIR/pg"

# --- tenant, catalog and stock ----------------------------------------------------------------
section "Tenant '$TENANT': $PRODUCTS products × $VARIANTS variants, $STOCK on hand each"
if ! "$BIN" tenant create "$TENANT" --name "Bench Shop" --currency USD --locale en --locale de >/dev/null; then
    info "tenant create failed; assuming '$TENANT' already exists"
fi
SEED="$WORK_DIR/seed"
seed_started=$(date +%s.%N)
RUST_LOG=warn "$BIN" bench-seed "$TENANT" --products "$PRODUCTS" --variants "$VARIANTS" --stock "$STOCK" --out "$SEED"
seed_took=$(echo "$(date +%s.%N) - $seed_started" | bc)
info "seeding took ${seed_took} s (the command: catalog, stock counts, API key)"
API_KEY="$(cat "$SEED/api-key")"
SEEDED_VARIANTS=$(wc -l <"$SEED/variants.txt")
[ "$SEEDED_VARIANTS" -gt 0 ] || die "bench-seed listed no variants"
info "$SEEDED_VARIANTS variants in stock"

# --- server -----------------------------------------------------------------------------------
LOG="$WORK_DIR/server.log"
start_server "$LOG"

# One pair by hand first: both halves must answer 2xx, or the numbers would measure errors.
post() {
    local what="$1" path="$2" body="$3" want="$4" status
    status="$(curl -sS -o "$WORK_DIR/check.json" -w '%{http_code}' -X POST -H "X-Tenant-ID: $TENANT" \
        -H "X-API-Key: $API_KEY" -H 'Content-Type: application/json' --data "$body" "$BASE$path")"
    [ "$status" = "$want" ] || { cat "$WORK_DIR/check.json" >&2; echo >&2; die "$what: POST $path answered $status, not $want"; }
    info "$what: POST $path → $status"
}
post reserve /api/v1/admin/inventory/reservations \
    "{\"reference\":\"bench-check\",\"lines\":[{\"variant_id\":\"$(head -n1 "$SEED/variants.txt")\",\"quantity\":1}]}" 201
reservation="$(sed -n 's/^{"id":"\([^"]*\)".*/\1/p' "$WORK_DIR/check.json")"
[ -n "$reservation" ] || { cat "$WORK_DIR/check.json" >&2; die "the reservation's answer does not start with its id"; }
post release "/api/v1/admin/inventory/reservations/$reservation/release" "" 200

# --- load -------------------------------------------------------------------------------------
# run_wrk <duration> <out> <scenario>
run_wrk() {
    local duration="$1" out="$2" scenario="$3"
    BENCH_VARIANTS="$SEED/variants.txt" BENCH_MODE="$scenario" \
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --timeout "$TIMEOUT" --latency -H "X-Tenant-ID: $TENANT" \
        -H "X-API-Key: $API_KEY" -s bench/lua/reserve_release.lua "$BASE" >"$out"
}
requests_of() { awk '/requests in/ {print $1}' "$1"; }
# pairs_of FILE: completed releases per second, from the script's `pairs: N in S s` line.
pairs_of() { awk '$1 == "pairs:" && $4 > 0 {printf "%.2f", $2 / $4}' "$1"; }

RESULTS=()
for scenario in $SCENARIOS; do
    section "$scenario: warm-up $WARMUP, count $COUNT_RUN, measure $DURATION"
    run_wrk "$WARMUP" "$WORK_DIR/warm.txt" "$scenario"

    # Statements and transactions per request, in a short run of its own (bench/lib.sh).
    count_start
    run_wrk "$COUNT_RUN" "$WORK_DIR/count.txt" "$scenario"
    count_finish "$(requests_of "$WORK_DIR/count.txt")" "$WORK_DIR/statements-$scenario.txt"

    run_wrk "$DURATION" "$WORK_DIR/wrk-$scenario.txt" "$scenario"
    cat "$WORK_DIR/wrk-$scenario.txt"
    if [ -s "$WORK_DIR/statements-$scenario.txt" ]; then
        echo "  statements in the count run (calls | mean ms | query):"
        sed 's/^/    /' "$WORK_DIR/statements-$scenario.txt"
    fi

    f="$WORK_DIR/wrk-$scenario.txt"
    wrk_numbers "$f"
    requests="$(requests_of "$f")"
    pairs="$(pairs_of "$f")"
    info "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
    timeouts="$(awk '/Socket errors:/ {print $NF}' "$f")"
    line="RESULT inventory.$scenario pairs/s=${pairs:-?} req/s=${rps:-?} p50=${p50:-?} p99=${p99:-?} non2xx=${non2xx:-0} $per_request"
    [ "${timeouts:-0}" -eq 0 ] || line="$line timeouts=$timeouts"
    echo "$line"
    RESULTS+=("$line")
    # Mostly errors: the run measured the error path, not reservations.
    if [ -z "$requests" ] || [ "$requests" -eq 0 ] || [ $(( 2 * ${non2xx:-0} )) -gt "$requests" ]; then
        tail -n 20 "$LOG" >&2
        die "$scenario: ${non2xx:-0} of ${requests:-0} answers were not 2xx — these numbers measure errors (server log above)"
    fi
    if [ -z "$pairs" ] || [ "$pairs" = "0.00" ]; then die "$scenario: no reservation was released"; fi
done

if [ -s "$LOG" ]; then
    section "Server warnings/errors during the run (last 20 lines)"
    tail -n 20 "$LOG"
fi

section "Summary"
info "commit $(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo '-'), binary $BIN, $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS on the same machine"
info "seeded $SEEDED_VARIANTS variants ($PRODUCTS products × $VARIANTS), $STOCK on hand each, in ${seed_took} s"
for line in "${RESULTS[@]}"; do echo "$line"; done
