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

section() { printf '\n=== %s ===\n' "$*"; }
info()    { printf '  %s\n' "$*"; }
die()     { printf '\nERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
    else die "need root (or passwordless sudo) to run: $*"
    fi
}
APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install these packages by hand: $*"
    if [ "$APT_UPDATED" -eq 0 ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
    info "apt-get install -y $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- cleanup: stop the server (SIGTERM, bounded wait), then anything left of the temp dir -----
SERVER_PID=""
DATA_DIR=""
WORK_DIR="$(mktemp -d /tmp/agora-bench-work.XXXXXX)"
cleanup() {
    local rc=$?
    set +e
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "  stopping server (pid $SERVER_PID)"
        kill -TERM "$SERVER_PID"
        for _ in $(seq 1 30); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 1; done
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "  server did not stop within 30 s; killing it"
            kill -KILL "$SERVER_PID"
        fi
        wait "$SERVER_PID" 2>/dev/null
    fi
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

# --- tools ------------------------------------------------------------------------------------
section "Tools"
if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi
[ -n "${AGORA_BIN:-}" ] || command -v cargo >/dev/null 2>&1 || die "cargo not found: install a Rust toolchain"
command -v curl  >/dev/null 2>&1 || apt_install curl ca-certificates
command -v wrk   >/dev/null 2>&1 || apt_install wrk
if [ -z "${DATABASE_URL:-}" ] && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    apt_install postgresql
fi
info "$(wrk --version 2>&1 | head -n1)"

# --- build ------------------------------------------------------------------------------------
if [ -n "${AGORA_BIN:-}" ]; then
    BIN="$(realpath "$AGORA_BIN")"
    [ -x "$BIN" ] || die "AGORA_BIN=$AGORA_BIN is not an executable"
    section "Binary $BIN (not rebuilt)"
else
    section "Build (release)"
    cargo build --release --bin agora
    BIN="$(realpath "${CARGO_TARGET_DIR:-target}/release/agora")"
fi

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
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=""
for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % 20000 ))
    if port_free "$p"; then PORT="$p"; break; fi
done
[ -n "$PORT" ] || die "no free port found"
BASE="http://127.0.0.1:$PORT"
LOG="$WORK_DIR/server.log"

section "Server on 127.0.0.1:$PORT (web only, rate limits off)"
AGORA_BIND="127.0.0.1:$PORT" \
AGORA_RATE_LIMIT_CLIENT_PER_MINUTE=0 \
AGORA_RATE_LIMIT_TENANT_PER_MINUTE=0 \
RUST_LOG=warn \
    "$BIN" serve --workers 0 >"$LOG" 2>&1 &
SERVER_PID=$!

ready=0
for _ in $(seq 1 120); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        cat "$LOG" >&2; SERVER_PID=""; die "server exited during start-up (log above)"
    fi
    if curl -fsS -o /dev/null --max-time 2 "$BASE/readyz" 2>/dev/null; then ready=1; break; fi
    sleep 0.5
done
[ "$ready" -eq 1 ] || { cat "$LOG" >&2; die "server not ready after 60 s (log above)"; }
info "ready"

URL="$BASE/api/v1/store/shop"
status="$(curl -sS -o "$WORK_DIR/shop.json" -w '%{http_code}' -H "X-Tenant-ID: $TENANT" "$URL")"
[ "$status" = 200 ] || { cat "$WORK_DIR/shop.json" >&2; die "GET $URL answered $status, expected 200"; }
info "GET /api/v1/store/shop → 200: $(head -c 200 "$WORK_DIR/shop.json")"

# --- load -------------------------------------------------------------------------------------
section "Warm-up ($WARMUP)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -H "X-Tenant-ID: $TENANT" "$URL" >/dev/null

section "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency GET /api/v1/store/shop"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "X-Tenant-ID: $TENANT" "$URL" | tee "$WORK_DIR/wrk.txt"

rps="$(awk '/^Requests\/sec:/ {print $2}' "$WORK_DIR/wrk.txt")"
p50="$(awk '$1 == "50%" {print $2; exit}' "$WORK_DIR/wrk.txt")"
p99="$(awk '$1 == "99%" {print $2; exit}' "$WORK_DIR/wrk.txt")"
non2xx="$(awk -F': *' '/Non-2xx or 3xx responses/ {print $2}' "$WORK_DIR/wrk.txt")"
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
