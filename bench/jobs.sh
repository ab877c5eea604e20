#!/usr/bin/env bash
# Benchmark of the job queue and the event bus (prints numbers; asserts nothing):
#   1. trivial jobs/s with 1 and with 2 `agora worker` processes (probe jobs, no pretend work);
#   2. commit-to-subscriber latency of events under no load (p50/p99 of diagnostics.ping.v1).
# Needs a PostgreSQL server (two worker processes cannot share the embedded one):
#   BENCH_ADMIN_URL  superuser URL, default postgres://postgres@127.0.0.1:5432/postgres
#   BENCH_JOBS       jobs per run (default 20000)   BENCH_CONCURRENCY  slots per worker (default 32)
#   BENCH_PINGS      pings (default 500)            AGORA_BIN          prebuilt binary (skips the build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ADMIN_URL="${BENCH_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
JOBS="${BENCH_JOBS:-20000}"
CONCURRENCY="${BENCH_CONCURRENCY:-32}"
PINGS="${BENCH_PINGS:-500}"
DB="agora_bench_jobs_$$"
DB_URL="${ADMIN_URL%/*}/$DB"
PIDS=()

cleanup() {
    set +e
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
}
trap cleanup EXIT

if [ -n "${AGORA_BIN:-}" ]; then
    BIN="$(realpath "$AGORA_BIN")"
else
    echo "=== Build (release) ==="
    cargo build --release --bin agora
    BIN="$(realpath "${CARGO_TARGET_DIR:-target}/release/agora")"
fi
psql -q "$ADMIN_URL" -c "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL="$DB_URL" RUST_LOG=warn AGORA_LOG_FORMAT=json
"$BIN" migrate >/dev/null 2>&1

q() { psql -qAt "$DB_URL" -c "$1"; }

run_jobs() { # run_jobs WORKERS
    local workers="$1" batch="b$1" start end done=0
    "$BIN" jobs probe --count "$JOBS" --batch "$batch" >/dev/null 2>&1
    start=$(date +%s.%N)
    for _ in $(seq 1 "$workers"); do
        "$BIN" worker --workers "$CONCURRENCY" >/dev/null 2>&1 &
        PIDS+=($!)
    done
    while [ "$done" -lt "$JOBS" ]; do
        sleep 0.2
        done=$(q "SELECT count(*) FROM agora.job_probes WHERE batch = '$batch'")
    done
    end=$(date +%s.%N)
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
    # The clock starts with the worker processes, so their start-up (connect, migrate check) counts.
    awk -v n="$JOBS" -v s="$start" -v e="$end" -v w="$workers" \
        'BEGIN { printf "RESULT jobs workers=%d jobs=%d seconds=%.2f jobs/s=%.0f\n", w, n, e - s, n / (e - s) }'
}

echo "=== Trivial jobs: $JOBS per run, $CONCURRENCY slots per worker process ==="
run_jobs 1
run_jobs 2

echo "=== Event commit-to-subscriber latency: $PINGS pings, 10 ms apart, 1 worker, no other load ==="
"$BIN" worker --workers 4 >/dev/null 2>&1 &
PIDS+=($!)
sleep 1
"$BIN" jobs ping --count "$PINGS" --batch latency --interval-ms 10 >/dev/null 2>&1
while [ "$(q "SELECT count(*) FROM agora.event_probes WHERE batch = 'latency'")" -lt "$PINGS" ]; do sleep 0.2; done
q "SELECT format('RESULT events p50=%sms p99=%sms max=%sms n=%s',
        round(percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms)::numeric, 2),
        round(percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms)::numeric, 2),
        round(max(latency_ms)::numeric, 2), count(*))
   FROM agora.event_probes WHERE batch = 'latency'"
