#!/usr/bin/env bash
# Benchmark of logins (prints numbers; asserts nothing):
#   1. logins/s: wrk POSTs valid staff logins (argon2id, m=19456 KiB, t=2, p=1) for 20 s;
#   2. while those logins saturate the CPU, a second wrk measures /healthz latency: its p99
#      staying low shows password hashing runs off the request threads.
# Knobs: BENCH_DURATION (20s), BENCH_LOGIN_CONNECTIONS (16), BENCH_PROBE_RATE (/healthz per s, 50),
#        AGORA_BIN (prebuilt binary),
#        BENCH_ADMIN_URL (superuser URL of the local PostgreSQL).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ADMIN_URL="${BENCH_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DURATION="${BENCH_DURATION:-20s}"
LOGIN_CONNECTIONS="${BENCH_LOGIN_CONNECTIONS:-16}"
PROBE_RATE="${BENCH_PROBE_RATE:-50}"
DB="agora_bench_logins_$$"
WORK="$(mktemp -d /tmp/agora-bench-logins.XXXXXX)"
SERVER_PID=""

cleanup() {
    set +e
    [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
if [ -n "${AGORA_BIN:-}" ]; then
    BIN="$(realpath "$AGORA_BIN")"
else
    echo "=== Build (release) ==="
    cargo build --release --bin agora
    BIN="$(realpath "${CARGO_TARGET_DIR:-target}/release/agora")"
fi

psql -q "$ADMIN_URL" -c "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL="${ADMIN_URL%/*}/$DB" RUST_LOG=warn AGORA_LOG_FORMAT=json \
       AGORA_RATE_LIMIT_CLIENT_PER_MINUTE=0 AGORA_RATE_LIMIT_TENANT_PER_MINUTE=0 \
       AGORA_TOKEN_KEY="bench-token-key-0123456789abcdef0123456789" AGORA_SECURE_COOKIES=false
"$BIN" tenant create bench --name "Bench Shop" >/dev/null
PASSWORD="correct horse battery staple 42"
echo "$PASSWORD" | "$BIN" staff create bench --email owner@bench.test --role owner --password-stdin >/dev/null
# Logins are counted before their verdict (the kernel throttle), so more than five logins of one
# account in flight at once are told to wait: spread the load over accounts, as real staff are.
ACCOUNTS=$(( LOGIN_CONNECTIONS * 2 ))
for i in $(seq 1 "$ACCOUNTS"); do
    echo "$PASSWORD" | "$BIN" staff create bench --email "member$i@bench.test" --role owner --password-stdin >/dev/null
done

PORT=$(( 20000 + RANDOM % 20000 ))
AGORA_BIND="127.0.0.1:$PORT" "$BIN" serve --workers 0 >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null && break; sleep 0.5; done
BASE="http://127.0.0.1:$PORT"

cat >"$WORK/login.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Tenant-ID"] = "bench"
local n = 0
request = function()
    n = n % $ACCOUNTS + 1
    local body = '{"email":"member' .. n .. '@bench.test","password":"$PASSWORD","client":"api"}'
    return wrk.format(nil, nil, nil, body)
end
LUA
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -H 'X-Tenant-ID: bench' \
    -d "{\"email\":\"owner@bench.test\",\"password\":\"$PASSWORD\",\"client\":\"api\"}" "$BASE/api/v1/admin/auth/login")
[ "$status" = 200 ] || { cat "$WORK/server.log" >&2; echo "login answered $status" >&2; exit 1; }

echo "=== Logins ($LOGIN_CONNECTIONS connections, $DURATION) with /healthz probed alongside (1 kept-alive connection, $PROBE_RATE req/s) ==="
wrk -t1 -c"$LOGIN_CONNECTIONS" -d"$DURATION" --latency -s "$WORK/login.lua" "$BASE/api/v1/admin/auth/login" >"$WORK/login.txt" &
LOGIN_WRK=$!
# A gentle probe on one kept-alive connection, paced, timing each request alone: the server's
# answer time, not a client's process start or TCP handshake.
sleep 2
python3 - "$PORT" "$PROBE_RATE" 15 >"$WORK/health.txt" <<'PY'
import http.client, sys, time
port, rate, seconds = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
end, gap = time.monotonic() + seconds, 1.0 / rate
while time.monotonic() < end:
    started = time.perf_counter()
    conn.request("GET", "/healthz")
    conn.getresponse().read()
    took = time.perf_counter() - started
    print(f"{took:.6f}")
    time.sleep(max(0.0, gap - took))
PY
wait "$LOGIN_WRK"
cat "$WORK/login.txt"
rps=$(awk '/^Requests\/sec:/ {print $2}' "$WORK/login.txt")
non2xx=$(awk -F': *' '/Non-2xx or 3xx responses/ {print $2}' "$WORK/login.txt")
sort -n "$WORK/health.txt" | awk -v rps="$rps" -v bad="${non2xx:-0}" '{ v[NR] = $1 * 1000 } END {
    p50 = v[int(NR * 0.5) > 0 ? int(NR * 0.5) : 1]; p99 = v[int(NR * 0.99) > 0 ? int(NR * 0.99) : 1];
    printf "RESULT logins/s=%s non2xx=%s healthz_under_load p50=%.2fms p99=%.2fms max=%.2fms n=%d\n", rps, bad, p50, p99, v[NR], NR }'
