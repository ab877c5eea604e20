#!/usr/bin/env bash
# bench/cart.sh — the storefront cart under load (see bench/README.md, "Cart figures"):
#   create  POST /api/v1/store/cart/lines without a token: one request makes a guest cart and
#           puts a random variant in it (what a shopper's first "add to cart" does) — carts/s
#   read    GET /api/v1/store/cart of a random one of BENCH_CARTS carts made beforehand (three
#           lines each, taxed): the cart with every total worked out by pricing — req/s, p99
#
#   bash bench/cart.sh
#
# Builds the release binary, starts a private PostgreSQL (pg_stat_statements loaded, to count
# queries), provisions tenant `bench` (USD, prices without tax, a 8.875 % New York zone and a
# flat shipping method so totals are real), seeds it with products and counted stock
# (`agora bench-seed --stock`), starts a web-only server, and per scenario: warms up, counts
# statements and transactions per request in a short extra run, then measures with wrk at 16
# connections (the issue's 16 concurrent clients). Prints one line per scenario:
#   RESULT cart.<scenario> req/s=… p50=… p99=… non2xx=… statements/req=… xacts/req=…
#
# Environment:
#   DATABASE_URL      use this PostgreSQL instead (tenant `bench` created or reused)
#   REDIS_URL         passed through to the server when set
#   BENCH_PRODUCTS    products to seed (default 1000); BENCH_VARIANTS (3); BENCH_CARTS (200)
#   BENCH_DURATION    measured run per scenario (20s); BENCH_WARMUP (5s); BENCH_COUNT (3s)
#   BENCH_THREADS / BENCH_CONNECTIONS   wrk -t / -c (2 / 16)
#   BENCH_SCENARIOS   which to run (default "create read")
#   BENCH_TIMEOUT     wrk --timeout (10s)
#   AGORA_BIN         benchmark this prebuilt binary instead of building target/release/agora
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT="$(pwd)"

DURATION="${BENCH_DURATION:-20s}"
WARMUP="${BENCH_WARMUP:-5s}"
COUNT_RUN="${BENCH_COUNT:-3s}"
THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-16}"
PRODUCTS="${BENCH_PRODUCTS:-1000}"
VARIANTS="${BENCH_VARIANTS:-3}"
CARTS="${BENCH_CARTS:-200}"
SCENARIOS="${BENCH_SCENARIOS:-create read}"
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
        create|read) ;;
        *) die "unknown scenario '$scenario' (create, read)";;
    esac
done

# --- cleanup: the server (SIGTERM, bounded wait), our PostgreSQL, the temp dirs ---------------
SERVER_PID=""
PG_DIR=""
PGBIN=""
WORK_DIR="$(mktemp -d /tmp/agora-bench-cart.XXXXXX)"
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

# --- tenant, catalog, stock, taxes and shipping ------------------------------------------------
section "Tenant '$TENANT': $PRODUCTS products × $VARIANTS variants, counted stock"
if ! "$BIN" tenant create "$TENANT" --name "Bench Shop" --currency USD --locale en --locale de >/dev/null; then
    info "tenant create failed; assuming '$TENANT' already exists"
fi
SEED="$WORK_DIR/seed"
RUST_LOG=warn "$BIN" bench-seed "$TENANT" --products "$PRODUCTS" --variants "$VARIANTS" --stock 1000000 --out "$SEED"
[ -s "$SEED/variants.txt" ] || die "bench-seed listed no variants"

# --- server -----------------------------------------------------------------------------------
LOG="$WORK_DIR/server.log"
start_server "$LOG"

# call METHOD PATH BODY WANT [HEADER…]: one request by hand, its answer in $WORK_DIR/answer.json.
call() {
    local method="$1" path="$2" body="$3" want="$4" status
    shift 4
    local extra=()
    for h in "$@"; do extra+=(-H "$h"); done
    status="$(curl -sS -D "$WORK_DIR/headers.txt" -o "$WORK_DIR/answer.json" -w '%{http_code}' -X "$method" -H "X-Tenant-ID: $TENANT" \
        -H 'Content-Type: application/json' "${extra[@]}" ${body:+--data "$body"} "$BASE$path")"
    [ "$status" = "$want" ] || { cat "$WORK_DIR/answer.json" >&2; echo >&2; die "$method $path answered $status, not $want"; }
}
# Taxes and shipping are set up as the shop's owner would (bench-seed's API key manages the
# catalog and stock only): an owner made with the CLI signs in.
section "Taxes (New York, 8.875 %) and shipping (flat 5.00) so the totals are real work"
STAFF_EMAIL="bench-owner@bench.test"
echo "bench-password-123" | "$BIN" staff create "$TENANT" --email "$STAFF_EMAIL" --role owner --password-stdin >/dev/null 2>&1 \
    || info "staff $STAFF_EMAIL exists already"
call POST /api/v1/admin/auth/login "{\"email\":\"$STAFF_EMAIL\",\"password\":\"bench-password-123\",\"client\":\"api\"}" 200
TOKEN="$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' "$WORK_DIR/answer.json")"
[ -n "$TOKEN" ] || die "no access token in the login answer"
AUTH="Authorization: Bearer $TOKEN"
call GET /api/v1/admin/pricing/taxes/settings "" 200 "$AUTH"
ETAG="$(sed -n 's/^[Ee][Tt][Aa][Gg]: *\([^\r]*\).*/\1/p' "$WORK_DIR/headers.txt")"
call PUT /api/v1/admin/pricing/taxes/settings \
    '{"prices_include_tax":false,"cross_border":"keep_gross","rounding":"per_line","shipping_tax":"highest_rate","shipping_tax_class_id":null,"origin_country":"US"}' \
    200 "$AUTH" "If-Match: $ETAG"
call POST /api/v1/admin/pricing/taxes/zones \
    '{"name":"New York","country":"US","region":"NY","rates":[{"tax_class_id":"00000000-0000-7000-8000-000000000001","name":"NY","percent":"8.875"}]}' \
    201 "$AUTH"
call POST /api/v1/admin/pricing/shipping/zones '{"name":"US","countries":["US"]}' 201 "$AUTH"
ZONE="$(sed -n 's/^{"id":"\([^"]*\)".*/\1/p' "$WORK_DIR/answer.json")"
call POST "/api/v1/admin/pricing/shipping/zones/$ZONE/methods" \
    '{"name":"Ground","kind":"flat","currency":"USD","price":{"amount":500,"currency":"USD"}}' 201 "$AUTH"
METHOD="$(sed -n 's/^{"id":"\([^"]*\)".*/\1/p' "$WORK_DIR/answer.json")"

section "$CARTS carts with three lines each, shipped to New York"
TOKENS="$WORK_DIR/tokens.txt"
: >"$TOKENS"
mapfile -t VARIANT_IDS <"$SEED/variants.txt"
for i in $(seq 1 "$CARTS"); do
    call POST /api/v1/store/cart/lines "{\"variant_id\":\"${VARIANT_IDS[$((RANDOM % ${#VARIANT_IDS[@]}))]}\"}" 200
    cart_token="$(sed -n 's/.*"token":"\(cart_[^"]*\)".*/\1/p' "$WORK_DIR/answer.json")"
    [ -n "$cart_token" ] || die "no cart token in the first add's answer"
    for _ in 1 2; do
        call POST /api/v1/store/cart/lines "{\"variant_id\":\"${VARIANT_IDS[$((RANDOM % ${#VARIANT_IDS[@]}))]}\",\"quantity\":2}" \
            200 "X-Cart-Token: $cart_token"
    done
    call PUT /api/v1/store/cart/shipping "{\"country\":\"US\",\"region\":\"NY\",\"postal_code\":\"10001\",\"method_id\":\"$METHOD\"}" \
        200 "X-Cart-Token: $cart_token"
    echo "$cart_token" >>"$TOKENS"
done
grep -q '"tax_total":{"amount":[1-9]' "$WORK_DIR/answer.json" || { cat "$WORK_DIR/answer.json" >&2; die "the carts are not taxed"; }
info "$(wc -l <"$TOKENS") carts made; the last one's totals: $(sed -n 's/.*"totals":\({[^}]*}\).*/\1/p' "$WORK_DIR/answer.json")"

# --- load -------------------------------------------------------------------------------------
run_wrk() {
    local duration="$1" out="$2" scenario="$3"
    BENCH_VARIANTS="$SEED/variants.txt" BENCH_TOKENS="$TOKENS" BENCH_MODE="$scenario" \
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --timeout "$TIMEOUT" --latency -H "X-Tenant-ID: $TENANT" \
        -s bench/lua/cart.lua "$BASE" >"$out"
}
requests_of() { awk '/requests in/ {print $1}' "$1"; }

RESULTS=()
for scenario in $SCENARIOS; do
    section "$scenario: warm-up $WARMUP, count $COUNT_RUN, measure $DURATION"
    run_wrk "$WARMUP" "$WORK_DIR/warm.txt" "$scenario"
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
    info "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
    timeouts="$(awk '/Socket errors:/ {print $NF}' "$f")"
    line="RESULT cart.$scenario req/s=${rps:-?} p50=${p50:-?} p99=${p99:-?} non2xx=${non2xx:-0} $per_request"
    [ "${timeouts:-0}" -eq 0 ] || line="$line timeouts=$timeouts"
    echo "$line"
    RESULTS+=("$line")
    if [ -z "$requests" ] || [ "$requests" -eq 0 ] || [ $(( 2 * ${non2xx:-0} )) -gt "$requests" ]; then
        tail -n 20 "$LOG" >&2
        die "$scenario: ${non2xx:-0} of ${requests:-0} answers were not 2xx — these numbers measure errors (server log above)"
    fi
done

if [ -s "$LOG" ]; then
    section "Server warnings/errors during the run (last 20 lines)"
    tail -n 20 "$LOG"
fi

section "Summary"
info "commit $(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo '-'), binary $BIN, $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS on the same machine"
for line in "${RESULTS[@]}"; do echo "$line"; done
