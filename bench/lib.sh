# shellcheck shell=bash
# Shared by the benchmarks in bench/: the binary, the server's start and stop, wrk's numbers, a
# private PostgreSQL and the statements/transactions counted per request.
# Source it after scripts/lib.sh (output helpers, apt_install); it defines functions only.
# Each script keeps its own trap: it calls `stop_server` (and `stop_postgres`) from it.

# bench_tools PACKAGE…: cargo on PATH (unless AGORA_BIN is given), curl and wrk, plus any command
# named (installed from Debian under the same name).
bench_tools() {
    if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
        export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
    fi
    [ -n "${AGORA_BIN:-}" ] || command -v cargo >/dev/null 2>&1 || die "cargo not found: install a Rust toolchain"
    command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
    local tool
    for tool in wrk "$@"; do
        command -v "$tool" >/dev/null 2>&1 || apt_install "$tool"
    done
    info "$(wrk --version 2>&1 | head -n1)"
}

# bench_binary: sets BIN to AGORA_BIN as it is, or to a fresh release build.
bench_binary() {
    if [ -n "${AGORA_BIN:-}" ]; then
        BIN="$(realpath "$AGORA_BIN")"
        [ -x "$BIN" ] || die "AGORA_BIN=$AGORA_BIN is not an executable"
        section "Binary $BIN (not rebuilt)"
    else
        section "Build (release)"
        cargo build --release --bin agora
        BIN="$(realpath "${CARGO_TARGET_DIR:-target}/release/agora")"
    fi
}

# start_server LOG: `agora serve --workers 0` (web only, rate limits off) on a free loopback
# port, waited for until /readyz answers. Sets SERVER_PID, PORT and BASE.
start_server() {
    local log="$1" p
    PORT=""
    for _ in $(seq 1 50); do
        p=$(( 20000 + RANDOM % 20000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then PORT="$p"; break; fi
    done
    [ -n "$PORT" ] || die "no free port found"
    BASE="http://127.0.0.1:$PORT"
    section "Server on 127.0.0.1:$PORT (web only, rate limits off${REDIS_URL:+, Redis})"
    AGORA_BIND="127.0.0.1:$PORT" \
    AGORA_RATE_LIMIT_CLIENT_PER_MINUTE=0 \
    AGORA_RATE_LIMIT_TENANT_PER_MINUTE=0 \
    RUST_LOG=warn \
        "$BIN" serve --workers 0 >"$log" 2>&1 &
    SERVER_PID=$!
    local ready=0
    for _ in $(seq 1 120); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            cat "$log" >&2; SERVER_PID=""; die "server exited during start-up (log above)"
        fi
        if curl -fsS -o /dev/null --max-time 2 "$BASE/readyz" 2>/dev/null; then ready=1; break; fi
        sleep 0.5
    done
    [ "$ready" -eq 1 ] || { cat "$log" >&2; die "server not ready after 60 s (log above)"; }
    info "ready (pid $SERVER_PID)"
}

# stop_server: SIGTERM, a bounded wait, then SIGKILL. For the scripts' EXIT traps.
stop_server() {
    if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "  stopping server (pid $SERVER_PID)"
        kill -TERM "$SERVER_PID"
        for _ in $(seq 1 30); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 1; done
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "  server did not stop within 30 s; killing it"
            kill -KILL "$SERVER_PID"
        fi
        wait "$SERVER_PID" 2>/dev/null
    fi
    SERVER_PID=""
}

# wrk_numbers FILE: sets rps, p50, p99 and non2xx from a `wrk --latency` report.
wrk_numbers() {
    local f="$1"
    rps="$(awk '/^Requests\/sec:/ {print $2}' "$f")"
    p50="$(awk '$1 == "50%" {print $2; exit}' "$f")"
    p99="$(awk '$1 == "99%" {print $2; exit}' "$f")"
    non2xx="$(awk -F': *' '/Non-2xx or 3xx responses/ {print $2}' "$f")"
}

# as_pg COMMAND…: PostgreSQL's binaries refuse to run as root: run them as `postgres` then.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_tools: PostgreSQL's binaries (Debian's `postgresql` when missing); sets PGBIN.
pg_tools() {
    if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
        apt_install postgresql
    fi
    PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
    info "PostgreSQL binaries: $PGBIN"
}

# start_postgres DIR: the database under test. DATABASE_URL when set; otherwise a private cluster
# in DIR set up like the embedded one (unix socket only, 200 connections, 128 MB shared buffers,
# fsync on), plus pg_stat_statements to count queries per request, with a database `agora`.
# Sets PG_DIR (empty with DATABASE_URL), PSQL (psql's command line) and STATEMENTS (1 when
# pg_stat_statements can be read), exports DATABASE_URL. Needs PGBIN (pg_tools). The script's
# EXIT trap calls stop_postgres.
start_postgres() {
    local dir="$1"
    section "PostgreSQL"
    PG_DIR=""
    if [ -n "${DATABASE_URL:-}" ]; then
        info "using DATABASE_URL"
        PSQL=(psql "$DATABASE_URL" -XAtq)
    else
        PG_DIR="$dir"
        mkdir -p "$PG_DIR"
        [ "$(id -u)" -ne 0 ] || chown postgres: "$PG_DIR"
        local port=$(( 40000 + RANDOM % 20000 ))
        as_pg "$PGBIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
        # In the file, not on the command line: a command-line setting would override the
        # ALTER SYSTEM that switches tracking on for the count runs.
        echo "pg_stat_statements.track = none" >>"$PG_DIR/data/postgresql.conf"
        as_pg "$PGBIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
            -o "-k $PG_DIR -p $port -c listen_addresses= -c max_connections=200 -c shared_buffers=128MB -c fsync=on -c shared_preload_libraries=pg_stat_statements" \
            start >/dev/null
        psql -h "$PG_DIR" -p "$port" -U postgres -XAtq -d postgres -c "CREATE DATABASE agora"
        PSQL=(psql -h "$PG_DIR" -p "$port" -U postgres -XAtq -d agora)
        export DATABASE_URL="host=$PG_DIR port=$port user=postgres dbname=agora"
        info "private cluster on $PG_DIR:$port"
    fi
    STATEMENTS=0
    if sql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null 2>&1 \
        && sql "SELECT count(*) FROM pg_stat_statements" >/dev/null 2>&1; then
        STATEMENTS=1
    else
        info "pg_stat_statements is not loaded: statements per request are not counted"
    fi
}

# sql STATEMENT: one statement against the database under test (unaligned, tuples only).
sql() { "${PSQL[@]}" -c "$1"; }

# stop_postgres: stops the private cluster, if start_postgres made one. For the EXIT traps.
stop_postgres() {
    if [ -n "${PG_DIR:-}" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
        echo "  stopping PostgreSQL"
        as_pg "$PGBIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null
    fi
}

# Statements and transactions per request, counted in a short run of its own (tracking costs a
# little, so the measured run goes without it):
#   count_start; <the count run>; count_finish REQUESTS TOP_FILE
# count_finish sets per_request to "statements/req=… xacts/req=…" and writes the count run's
# busiest statements (calls | mean ms | query) to TOP_FILE.
xacts() { sql "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"; }
count_start() {
    if [ -n "$PG_DIR" ]; then
        sql "ALTER SYSTEM SET pg_stat_statements.track = 'top'" >/dev/null
        sql "SELECT pg_reload_conf()" >/dev/null
        sleep 0.5
    fi
    [ "$STATEMENTS" -eq 0 ] || sql "SELECT pg_stat_statements_reset()" >/dev/null
    COUNT_XACTS0="$(xacts)"
}
count_finish() {
    local n="$1" top="$2" x1 calls
    x1="$(xacts)"
    if [ "$STATEMENTS" -eq 1 ]; then
        calls="$(sql "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT ILIKE '%pg_stat%'")"
        sql "SELECT calls, round(mean_exec_time::numeric, 3) AS ms, left(regexp_replace(query, '\s+', ' ', 'g'), 110) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT ILIKE '%pg_stat%' ORDER BY total_exec_time DESC LIMIT 12" \
            >"$top"
        per_request="statements/req=$(echo "scale=2; $calls / $n" | bc)"
    else
        per_request="statements/req=?"
    fi
    per_request="$per_request xacts/req=$(echo "scale=2; ($x1 - $COUNT_XACTS0) / $n" | bc)"
    if [ -n "$PG_DIR" ]; then
        sql "ALTER SYSTEM SET pg_stat_statements.track = 'none'" >/dev/null
        sql "SELECT pg_reload_conf()" >/dev/null
    fi
}
