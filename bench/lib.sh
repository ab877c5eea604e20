# Shared by the benchmarks in bench/: the binary, the server's start and stop, wrk's numbers.
# Source it after scripts/lib.sh (output helpers, apt_install); it defines functions only.
# Each script keeps its own trap: it calls `stop_server` from it.

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
