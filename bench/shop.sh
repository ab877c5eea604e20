#!/usr/bin/env bash
# bench/shop.sh — throughput and latency of GET /api/v1/store/shop (see bench/README.md).
#
#   bash bench/shop.sh
#
# Builds the release binary, provisions tenant `bench`, starts a web-only server
# (`agora serve --workers 0`, rate limits off, RUST_LOG=warn) on a free loopback port,
# warms up for 5 s, then runs wrk for 20 s and prints one summary line:
#   RESULT shop req/s=… p50=… p99=… non2xx=…
#
# Environment:
#   DATABASE_URL      use this PostgreSQL (tenant `bench` is created there if missing);
#                     unset → embedded PostgreSQL in a throw-away data dir under /tmp
#   REDIS_URL         passed through to the server when set
#   BENCH_DURATION    measured run length for wrk        (default 20s)
#   BENCH_WARMUP      warm-up length                     (default 5s)
#   BENCH_THREADS / BENCH_CONNECTIONS   wrk -t / -c      (default 2 / 32)
#   BENCH_RECORD=1    append the result to bench/results.md
#   AGORA_BIN         benchmark this prebuilt binary instead of building target/release/agora
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT="$(pwd)"

DURATION="${BENCH_DURATION:-20s}"
WARMUP="${BENCH_WARMUP:-5s}"
THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
TENANT=bench
export DEBIAN_FRONTEND=noninteractive

AGORA_SUDO_FLAGS=-n
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh

# --- cleanup: stop the server (SIGTERM, bounded wait), then anything left of the temp dir -----
SERVER_PID=""
DATA_DIR=""
WORK_DIR="$(mktemp -d /tmp/agora-bench-work.XXXXXX)"
cleanup() {
    local rc=$?
    set +e
    stop_server
    if [ -n "$DATA_DIR" ]; then
        # An embedded postgres left behind (server killed) still belongs to our temp dir: stop it.
        local pidfile pgpid
        while IFS= read -r pidfile; do
            pgpid="$(head -n1 "$pidfile" 2>/dev/null)"
            if [ -n "$pgpid" ] && kill -0 "$pgpid" 2>/dev/null; then
                echo "  stopping leftover postgres (pid $pgpid)"
                kill -INT "$pgpid"
                for _ in $(seq 1 20); do kill -0 "$pgpid" 2>/dev/null || break; sleep 0.5; done
            fi
        done < <(find "$DATA_DIR" -name postmaster.pid 2>/dev/null)
        rm -rf "$DATA_DIR"
    fi
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
bench_tools
if [ -z "${DATABASE_URL:-}" ] && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    apt_install postgresql
fi
bench_binary

# --- database and tenant ----------------------------------------------------------------------
section "Tenant '$TENANT'"
if [ -n "${DATABASE_URL:-}" ]; then
    info "using DATABASE_URL"
else
    DATA_DIR="$(mktemp -d /tmp/agora-bench.XXXXXX)"
    chmod 755 "$DATA_DIR"            # the postgres user must be able to traverse it
    export AGORA_DATA_DIR="$DATA_DIR"
    info "embedded PostgreSQL in $DATA_DIR"
fi
if ! "$BIN" tenant create "$TENANT" --name "Bench Shop"; then
    info "tenant create failed; assuming '$TENANT' already exists (checked below)"
fi

# --- server -----------------------------------------------------------------------------------
LOG="$WORK_DIR/server.log"
start_server "$LOG"

URL="$BASE/api/v1/store/shop"
status="$(curl -sS -o "$WORK_DIR/shop.json" -w '%{http_code}' -H "X-Tenant-ID: $TENANT" "$URL")"
[ "$status" = 200 ] || { cat "$WORK_DIR/shop.json" >&2; die "GET $URL answered $status, expected 200"; }
info "GET /api/v1/store/shop → 200: $(head -c 200 "$WORK_DIR/shop.json")"

# --- load -------------------------------------------------------------------------------------
section "Warm-up ($WARMUP)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -H "X-Tenant-ID: $TENANT" "$URL" >/dev/null

section "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency GET /api/v1/store/shop"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "X-Tenant-ID: $TENANT" "$URL" | tee "$WORK_DIR/wrk.txt"

wrk_numbers "$WORK_DIR/wrk.txt"
errors="$(grep -E '^ *Socket errors' "$WORK_DIR/wrk.txt" | sed 's/^ *//' || true)"

if [ -s "$LOG" ]; then
    section "Server warnings/errors during the run (last 20 lines)"
    tail -n 20 "$LOG"
fi

section "Summary"
[ -z "$errors" ] || info "$errors"
[ -z "$non2xx" ] || info "WARNING: $non2xx responses were not 2xx/3xx: the numbers are not valid"
RESULT="RESULT shop req/s=${rps:-?} p50=${p50:-?} p99=${p99:-?} non2xx=${non2xx:-0}"
echo "$RESULT"

if [ "${BENCH_RECORD:-0}" = "1" ]; then
    results="$REPO_ROOT/bench/results.md"
    if [ ! -f "$results" ]; then
        printf '| date (UTC) | commit | machine | req/s | p50 | p99 | non-2xx |\n|---|---|---|---|---|---|---|\n' >"$results"
    fi
    commit="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo '-')"
    printf '| %s | %s | %s cores | %s | %s | %s | %s |\n' \
        "$(date -u +%Y-%m-%dT%H:%MZ)" "$commit" "$(nproc)" "${rps:-?}" "${p50:-?}" "${p99:-?}" "${non2xx:-0}" >>"$results"
    info "appended to bench/results.md"
fi
