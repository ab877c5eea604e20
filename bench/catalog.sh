#!/usr/bin/env bash
# bench/catalog.sh — the catalog under load: storefront category page, product detail, search,
# admin product update, each next to /healthz measured in the same run (see bench/README.md).
#
#   bash bench/catalog.sh
#
# Builds the release binary, starts a private PostgreSQL (pg_stat_statements loaded, to count
# queries), provisions tenant `bench`, seeds it with 10,000 products × 3 variants through the
# catalog facade (`agora bench-seed`), starts a web-only server, and per scenario: warms up,
# counts statements and transactions per request in a short extra run, then measures with wrk.
# Prints one line per scenario:
#   RESULT catalog.<scenario> req/s=… p50=… p99=… non2xx=… vs_healthz=…% statements/req=… xacts/req=… rss=…MiB
#
# Environment:
#   DATABASE_URL      use this PostgreSQL instead (tenant `bench` created or reused; statements
#                     per request only when pg_stat_statements is loaded there)
#   REDIS_URL         passed through to the server when set (shared cache)
#   BENCH_PRODUCTS    products to seed (default 10000); BENCH_VARIANTS (3)
#   BENCH_DURATION    measured run per scenario (20s); BENCH_WARMUP (5s); BENCH_COUNT (3s)
#   BENCH_THREADS / BENCH_CONNECTIONS   wrk -t / -c (2 / 32)
#   BENCH_SCENARIOS   which to run (default "healthz category detail search update")
#   AGORA_BIN         benchmark this prebuilt binary instead of building target/release/agora
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT="$(pwd)"

DURATION="${BENCH_DURATION:-20s}"
WARMUP="${BENCH_WARMUP:-5s}"
COUNT_RUN="${BENCH_COUNT:-3s}"
THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
PRODUCTS="${BENCH_PRODUCTS:-10000}"
VARIANTS="${BENCH_VARIANTS:-3}"
SCENARIOS="${BENCH_SCENARIOS:-healthz category detail search update}"
TENANT=bench
export DEBIAN_FRONTEND=noninteractive CARGO_INCREMENTAL=0

AGORA_SUDO_FLAGS=-n
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh

# --- cleanup: the server (SIGTERM, bounded wait), our PostgreSQL, the temp dirs ---------------
SERVER_PID=""
PG_DIR=""
PGBIN=""
WORK_DIR="$(mktemp -d /tmp/agora-bench-catalog.XXXXXX)"
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
export AGORA_DATA_DIR="$WORK_DIR/data"   # kept token key, demo files: nothing outside the temp dir

# --- database ---------------------------------------------------------------------------------
start_postgres "$WORK_DIR/pg"

# --- tenant and catalog -----------------------------------------------------------------------
section "Tenant '$TENANT' and its catalog ($PRODUCTS products × $VARIANTS variants)"
if ! "$BIN" tenant create "$TENANT" --name "Bench Shop" --currency USD --locale en --locale de >/dev/null; then
    info "tenant create failed; assuming '$TENANT' already exists"
fi
SEED="$WORK_DIR/seed"
seed_started=$(date +%s.%N)
RUST_LOG=warn "$BIN" bench-seed "$TENANT" --products "$PRODUCTS" --variants "$VARIANTS" --out "$SEED"
seed_took=$(echo "$(date +%s.%N) - $seed_started" | bc)
info "seeding took ${seed_took} s (the command, including its start-up and the API key)"
API_KEY="$(cat "$SEED/api-key")"
sed 's|^|/api/v1/store/catalog/products?limit=20\&category=|' "$SEED/categories.txt" >"$SEED/paths-category.txt"
cut -f3 "$SEED/products.tsv" | sed 's|^|/api/v1/store/catalog/products/|' >"$SEED/paths-detail.txt"
sed -e 's/ /%20/g' -e 's|^|/api/v1/store/catalog/search?limit=20\&q=|' "$SEED/queries.txt" >"$SEED/paths-search.txt"
# Search: the warm-up, the count run and the measured run each get their own queries (10 %, 10 %,
# 80 %), so the measured run asks the cache for queries it has not seen before.
queries_total=$(wc -l <"$SEED/paths-search.txt")
awk -v n="$queries_total" -v d="$SEED" '{ f = (NR <= n / 10) ? "warm" : (NR <= n / 5) ? "count" : "measure"; print > (d "/paths-search-" f ".txt") }' "$SEED/paths-search.txt"
info "$(wc -l <"$SEED/products.tsv") products, $(wc -l <"$SEED/queries.txt") distinct queries, $(wc -l <"$SEED/categories.txt") category pages"
SEEDED_PRODUCTS=$(wc -l <"$SEED/products.tsv")

# --- server -----------------------------------------------------------------------------------
LOG="$WORK_DIR/server.log"
start_server "$LOG"

# Every scenario's first request must answer 2xx, or its numbers would measure errors.
check() {
    local what="$1" path="$2"; shift 2
    local status
    status="$(curl -sS -o "$WORK_DIR/check.json" -w '%{http_code}' -H "X-Tenant-ID: $TENANT" "$@" "$BASE$path")"
    case "$status" in
        2*) info "$what: GET $path → $status ($(wc -c <"$WORK_DIR/check.json") bytes)";;
        *) cat "$WORK_DIR/check.json" >&2; die "$what: GET $path answered $status";;
    esac
}
check category "$(head -n1 "$SEED/paths-category.txt")"
check detail "$(head -n1 "$SEED/paths-detail.txt")"
check search "$(head -n1 "$SEED/paths-search.txt")"
check "admin read" "/api/v1/admin/catalog/products/$(head -n1 "$SEED/products.tsv" | cut -f1)" -H "X-API-Key: $API_KEY"

# --- load -------------------------------------------------------------------------------------
rss_kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$SERVER_PID/status"; }
metric_sum() { curl -fsS "$BASE/metrics" 2>/dev/null | awk -v m="agora_$1" 'index($0, m) == 1 {s += $NF} END {printf "%d", s}'; }

# run_wrk <duration> <out> <scenario> <phase>: wrk with the scenario's script and headers.
run_wrk() {
    local duration="$1" out="$2" scenario="$3" phase="$4"
    local args=(-t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency -H "X-Tenant-ID: $TENANT")
    export BENCH_THREADS_TOTAL="$THREADS"
    case "$scenario" in
        healthz)  wrk "${args[@]}" "$BASE/healthz" >"$out" ;;
        category|detail)
            BENCH_PATHS="$SEED/paths-$scenario.txt" wrk "${args[@]}" -s bench/lua/paths.lua "$BASE" >"$out" ;;
        search)
            BENCH_PATHS="$SEED/paths-search-$phase.txt" wrk "${args[@]}" -s bench/lua/paths.lua "$BASE" >"$out" ;;
        update)
            # Versions as they are now: the previous run's last edits may or may not have landed.
            sql "COPY (SELECT id, version FROM t_$TENANT.products WHERE deleted_at IS NULL ORDER BY id) TO STDOUT" >"$SEED/versions.tsv"
            BENCH_PRODUCTS="$SEED/versions.tsv" \
                wrk "${args[@]}" -H "X-API-Key: $API_KEY" -s bench/lua/update.lua "$BASE" >"$out" ;;
    esac
}
requests_of() { awk '/requests in/ {print $1}' "$1"; }

HEALTHZ_RPS=""
RESULTS=()
for scenario in $SCENARIOS; do
    section "$scenario: warm-up $WARMUP, count $COUNT_RUN, measure $DURATION"
    if [ "$scenario" = detail ]; then
        # The target is for warm pages: a shop in steady state has shown each product before. The
        # wrk runs cycle over all 10,000, each seen about twice in a run, so without this pass the
        # run would mostly measure first visits (their cost is in the count run's statements).
        start=$(date +%s)
        sed "s|^|$BASE|" "$SEED/paths-detail.txt" | xargs -P 4 -n 100 curl -s -H "X-Tenant-ID: $TENANT" >/dev/null
        info "every product page read once: $(( $(date +%s) - start )) s"
    fi
    run_wrk "$WARMUP" "$WORK_DIR/warm.txt" "$scenario" warm

    # Statements and transactions per request, in a short run of its own (bench/lib.sh).
    count_start
    run_wrk "$COUNT_RUN" "$WORK_DIR/count.txt" "$scenario" count
    count_finish "$(requests_of "$WORK_DIR/count.txt")" "$WORK_DIR/statements-$scenario.txt"

    hits0="$(metric_sum 'cache_lookups_total{result="local_hit"}')"; misses0="$(metric_sum 'cache_lookups_total{result="miss"}')"
    # Memory under load: sampled halfway through the measured run.
    ( sleep "$(( ${DURATION%s} / 2 ))"; rss_kib VmRSS >"$WORK_DIR/rss-$scenario" ) &
    sampler=$!
    run_wrk "$DURATION" "$WORK_DIR/wrk-$scenario.txt" "$scenario" measure
    wait "$sampler" || true
    hits1="$(metric_sum 'cache_lookups_total{result="local_hit"}')"; misses1="$(metric_sum 'cache_lookups_total{result="miss"}')"
    cat "$WORK_DIR/wrk-$scenario.txt"
    if [ -s "$WORK_DIR/statements-$scenario.txt" ]; then
        echo "  statements in the count run (calls | mean ms | query):"
        sed 's/^/    /' "$WORK_DIR/statements-$scenario.txt"
    fi

    f="$WORK_DIR/wrk-$scenario.txt"
    wrk_numbers "$WORK_DIR/wrk-$scenario.txt"
    [ "$scenario" != healthz ] || HEALTHZ_RPS="$rps"
    ratio="?"
    [ -z "$HEALTHZ_RPS" ] || ratio="$(echo "scale=1; 100 * $rps / $HEALTHZ_RPS" | bc)%"
    rss="$(( $(cat "$WORK_DIR/rss-$scenario" 2>/dev/null || echo 0) / 1024 ))"
    cache=""
    lookups=$(( hits1 - hits0 + misses1 - misses0 ))
    [ "$lookups" -le 0 ] || cache=" cache_hits=$(echo "scale=1; 100 * ($hits1 - $hits0) / $lookups" | bc)%"
    info "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
    line="RESULT catalog.$scenario req/s=${rps:-?} p50=${p50:-?} p99=${p99:-?} non2xx=${non2xx:-0} vs_healthz=$ratio $per_request rss=${rss}MiB$cache"
    echo "$line"
    RESULTS+=("$line")
done

if [ -s "$LOG" ]; then
    section "Server warnings/errors during the run (last 20 lines)"
    tail -n 20 "$LOG"
fi

section "Summary"
info "commit $(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo '-'), $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS on the same machine"
info "seeded $SEEDED_PRODUCTS products × $VARIANTS variants in ${seed_took} s"
info "server peak RSS (VmHWM): $(( $(rss_kib VmHWM) / 1024 )) MiB"
for line in "${RESULTS[@]}"; do echo "$line"; done
