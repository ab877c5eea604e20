#!/usr/bin/env bash
# scripts/test.sh — THE test command for Agora (CI runs it through .ci/run).
#
# On a fresh Debian 12 machine (as root, or with sudo) it installs and starts what the
# tests need, then runs the whole workspace test suite:
#   * PostgreSQL on 127.0.0.1:5432, user `postgres`, trust auth over TCP   (Debian `postgresql`)
#     — the same package provides the server binaries (/usr/lib/postgresql/*/bin/initdb)
#       and the `postgres` system user that the embedded-database tests need;
#   * Redis on 127.0.0.1:6379, nothing kept on disk                        (Debian `redis-server`);
#   * aiosmtpd, the SMTP server the notification tests run               (Debian `python3-aiosmtpd`);
#   * moto_server, the S3-compatible server the file-storage tests run   (PyPI `moto[server]`, in a
#     venv under ~/.cache/agora-test-venv; AGORA_MOTO_SERVER overrides where it is);
#   * cargo nextest when installed, plain `cargo test` otherwise;
#   * for the web apps: Node 22 (npm registry, when the machine's is older) and Chromium (Debian).
# When the services are already up it changes nothing.
#
# Usage:  bash scripts/test.sh [extra args for the test runner]
#   e.g.  bash scripts/test.sh -E 'test(tenant_isolation)'      (nextest filter)
#         bash scripts/test.sh tenant_isolation                 (name filter, both runners)
#
# Environment:
#   TEST_DATABASE_URL      PostgreSQL the tests use      (default postgres://postgres@127.0.0.1:5432/postgres)
#                          A non-default URL is only checked, never installed/started/reconfigured.
#   TEST_REDIS_URL         Redis the tests use           (default redis://127.0.0.1:6379)
#                          A non-default URL is only checked.
#   AGORA_LINT=0           skip `cargo fmt --check` and `cargo clippy -D warnings` (run first by default)
#   AGORA_FUZZ=0           skip the contract fuzzing stage (scripts/fuzz.sh), run after a full, green test run
#   AGORA_FRONTEND=0       skip the web apps' stage (scripts/frontend.sh check, then e2e in Chromium
#                          against the release binary, built once for e2e and fuzzing),
#                          run after a full, green test run
#   AGORA_TEST_SETUP_ONLY=1  ensure PostgreSQL/Redis/tools, then exit before building anything.
#   AGORA_TEST_RUNNER      force `nextest` or `cargo-test` (default: nextest when available).
#   CARGO_TARGET_DIR       honoured as cargo always does.
#   RUST_TEST_THREADS      threads per test binary for the `cargo test` fallback (default 4).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT="$(pwd)"

DEFAULT_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL="redis://127.0.0.1:6379"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-$DEFAULT_DATABASE_URL}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-$DEFAULT_REDIS_URL}"
export DEBIAN_FRONTEND=noninteractive

AGORA_SUDO_FLAGS=-n
# shellcheck source=scripts/lib.sh
source scripts/lib.sh   # the working directory is the repository root here

# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------
pg_server_installed() {
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null \
        && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null \
        && command -v pg_isready >/dev/null 2>&1 \
        && command -v pg_ctlcluster >/dev/null 2>&1
}

pg_version() {
    # Newest installed major version that has a server.
    local v best=""
    for v in $(ls /usr/lib/postgresql 2>/dev/null | sort -n); do
        [ -x "/usr/lib/postgresql/$v/bin/postgres" ] && best="$v"
    done
    [ -n "$best" ] || die "no PostgreSQL server found under /usr/lib/postgresql"
    echo "$best"
}

local_pg_ready()   { pg_isready -q -h 127.0.0.1 -p 5432 -t 3 >/dev/null 2>&1; }
local_pg_connect() {
    PGCONNECT_TIMEOUT=5 psql -w -X -q -h 127.0.0.1 -p 5432 -U postgres -d postgres \
        -Atc 'SELECT 1' </dev/null >/dev/null 2>&1
}

wait_for() { # wait_for SECONDS COMMAND... : retry COMMAND once a second, up to SECONDS times
    local secs="$1"; shift
    local i
    for ((i = 0; i < secs; i++)); do
        if "$@"; then return 0; fi
        sleep 1
    done
    return 1
}

ensure_local_postgres() {
    if ! pg_server_installed; then
        info "PostgreSQL server not installed"
        apt_install postgresql
    fi
    local ver
    ver="$(pg_version)"
    id postgres >/dev/null 2>&1 || die "the 'postgres' system user is missing (it comes with the Debian postgresql package)"

    if ! local_pg_ready; then
        if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -qx "$ver main"; then
            info "creating cluster $ver/main"
            as_root pg_createcluster --port 5432 "$ver" main >/dev/null
        fi
        # pg_lsclusters -h: "<ver> <name> <port> <online|down> <owner> <datadir> <log>"
        local port state
        port="$(pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" {print $3}')"
        state="$(pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" {print $4}')"
        if [ "$port" != 5432 ]; then
            [ "$state" = online ] \
                && die "cluster $ver/main is running on port $port, not 5432: set TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:$port/postgres)"
            info "cluster $ver/main is configured for port $port; switching it to 5432"
            as_root pg_conftool "$ver" main set port 5432
        fi
        info "starting cluster $ver/main"
        as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
        wait_for 30 local_pg_ready \
            || die "PostgreSQL $ver/main did not accept connections on 127.0.0.1:5432 within 30 s (see /var/log/postgresql/postgresql-$ver-main.log)"
    fi

    if ! local_pg_connect; then
        local hba="/etc/postgresql/$ver/main/pg_hba.conf"
        [ -f "$hba" ] || die "cannot connect as postgres@127.0.0.1:5432 and $hba does not exist"
        if ! grep -qE '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
            info "allowing trust auth for 127.0.0.1 in $hba"
            as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
        fi
        as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main reload
        wait_for 30 local_pg_connect \
            || die "cannot log in as postgres@127.0.0.1:5432 without a password (check $hba)"
    fi
    info "PostgreSQL $ver ready on 127.0.0.1:5432"
}

ensure_postgres() {
    section "PostgreSQL"
    if [ "$TEST_DATABASE_URL" = "$DEFAULT_DATABASE_URL" ]; then
        ensure_local_postgres
    else
        # The embedded-database tests still need the server binaries and the postgres user.
        pg_server_installed || apt_install postgresql
        info "using TEST_DATABASE_URL as given (not managed by this script)"
        pg_isready -q -d "$TEST_DATABASE_URL" -t 10 \
            || die "TEST_DATABASE_URL is not reachable: $(printf '%s' "$TEST_DATABASE_URL" | sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#')"
        info "reachable"
    fi
    local initdb
    initdb="$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n1)"
    info "server binaries for embedded tests: $(dirname "$initdb")"
    id postgres >/dev/null 2>&1 || die "the 'postgres' system user is missing (needed by the embedded-database tests)"
}

# ---------------------------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------------------------
redis_ping() { [ "$(timeout 5 redis-cli -u "$TEST_REDIS_URL" ping 2>/dev/null)" = "PONG" ]; }

ensure_redis() {
    section "Redis"
    if [ "$TEST_REDIS_URL" != "$DEFAULT_REDIS_URL" ]; then
        command -v redis-cli >/dev/null 2>&1 || apt_install redis-tools
        info "using TEST_REDIS_URL as given (not managed by this script)"
        redis_ping || die "TEST_REDIS_URL does not answer PING"
        info "reachable"
        return
    fi
    if command -v redis-cli >/dev/null 2>&1 && redis_ping; then
        info "Redis ready on 127.0.0.1:6379"
        return
    fi
    if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
        info "Redis not installed"
        apt_install redis-server
    fi
    # The package's post-install may have started it already.
    if ! redis_ping; then
        info "starting redis-server on 127.0.0.1:6379"
        as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
    fi
    wait_for 30 redis_ping || die "Redis did not answer PING on 127.0.0.1:6379 within 30 s"
    info "Redis ready on 127.0.0.1:6379"
}

# ---------------------------------------------------------------------------------------------
# SMTP test server: the notification tests start aiosmtpd themselves (tests/integration/smtp_sink.py)
# ---------------------------------------------------------------------------------------------
aiosmtpd_python() { # prints the first Python that can import aiosmtpd, looked for as the tests do
    local py
    for py in "${AGORA_TEST_PYTHON:-}" python3 /usr/bin/python3; do
        if [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 && "$py" -c 'import aiosmtpd' >/dev/null 2>&1; then
            echo "$py"
            return 0
        fi
    done
    return 1
}

ensure_python_aiosmtpd() {
    section "SMTP test server (aiosmtpd)"
    if ! aiosmtpd_python >/dev/null; then
        info "aiosmtpd not installed"
        apt_install python3-aiosmtpd
    fi
    local py
    py="$(aiosmtpd_python)" \
        || die "python3-aiosmtpd is installed but no Python imports it; set AGORA_TEST_PYTHON to one that does"
    info "aiosmtpd ready ($py)"
}

# ---------------------------------------------------------------------------------------------
# S3-compatible test server: the storage tests start moto_server themselves (modules/kernel/tests/storage.rs)
# ---------------------------------------------------------------------------------------------
MOTO_VENV="${HOME}/.cache/agora-test-venv"
moto_works() { [ -n "$1" ] && command -v "$1" >/dev/null 2>&1 && timeout 60 "$1" --help >/dev/null 2>&1; }

ensure_moto() {
    section "S3-compatible test server (moto)"
    local found=""
    for candidate in "${AGORA_MOTO_SERVER:-}" "$MOTO_VENV/bin/moto_server" moto_server; do
        if moto_works "$candidate"; then found="$candidate"; break; fi
    done
    if [ -z "$found" ]; then
        info "moto_server not found; installing moto[server] into $MOTO_VENV"
        command -v python3 >/dev/null 2>&1 || apt_install python3
        python3 -m venv "$MOTO_VENV" >/dev/null 2>&1 || { apt_install python3-venv; python3 -m venv "$MOTO_VENV"; }
        "$MOTO_VENV/bin/pip" install -q 'moto[server]' \
            || die "pip install 'moto[server]' failed (is PyPI reachable?)"
        moto_works "$MOTO_VENV/bin/moto_server" || die "moto_server was installed but does not run"
        found="$MOTO_VENV/bin/moto_server"
    fi
    info "moto_server ready ($found)"
}

ensure_oidc_provider() {
    section "OIDC test provider (oidc-provider, tests/oidc-provider)"
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 \
        || die "node and npm are needed for the OIDC tests (a real provider runs locally); install Node.js 20 or later"
    if [ ! -d "$REPO_ROOT/tests/oidc-provider/node_modules/oidc-provider" ]; then
        info "installing oidc-provider from the committed lockfile"
        npm install --no-audit --no-fund --prefix "$REPO_ROOT/tests/oidc-provider" >/dev/null \
            || die "npm install in tests/oidc-provider failed (is the npm registry reachable?)"
    fi
    info "oidc-provider ready (node $(node --version))"
}

# ---------------------------------------------------------------------------------------------
# Rust toolchain
# ---------------------------------------------------------------------------------------------
ensure_rust() {
    section "Rust toolchain"
    if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
        export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
    fi
    command -v cargo >/dev/null 2>&1 \
        || die "cargo not found. Install a Rust toolchain (rustup, or Debian's cargo for a recent enough Rust) and re-run."
    # ring / zstd-sys build C code.
    command -v cc >/dev/null 2>&1 || apt_install gcc libc6-dev
    info "$(cargo --version)"
    info "target dir: ${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
}

choose_runner() {
    case "${AGORA_TEST_RUNNER:-auto}" in
        nextest)    cargo nextest --version >/dev/null 2>&1 || die "AGORA_TEST_RUNNER=nextest but cargo-nextest is not installed"
                    RUNNER=nextest ;;
        cargo-test) RUNNER=cargo-test ;;
        auto)       if cargo nextest --version >/dev/null 2>&1; then RUNNER=nextest; else RUNNER=cargo-test; fi ;;
        *)          die "AGORA_TEST_RUNNER must be nextest or cargo-test" ;;
    esac
    if [ "$RUNNER" = nextest ]; then
        info "runner: $(cargo nextest --version 2>/dev/null | head -n1)"
    else
        info "runner: cargo test (cargo-nextest not found)"
    fi
}

# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------
section "Agora tests in $REPO_ROOT"
info "TEST_DATABASE_URL=$(printf '%s' "$TEST_DATABASE_URL" | sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#')"
info "TEST_REDIS_URL=$TEST_REDIS_URL"

ensure_postgres
ensure_redis
ensure_python_aiosmtpd
ensure_moto
ensure_oidc_provider
ensure_rust
choose_runner

if [ "${AGORA_TEST_SETUP_ONLY:-0}" = "1" ]; then
    section "Setup only (AGORA_TEST_SETUP_ONLY=1): services ready, tests not run"
    exit 0
fi

if [ "${AGORA_LINT:-1}" = "1" ]; then
    section "Lint: cargo fmt --check"
    cargo fmt --all -- --check \
        || die "code is not formatted: run 'cargo fmt --all' and commit the result"
    section "Lint: cargo clippy -D warnings"
    cargo clippy --workspace --all-targets -- -D warnings \
        || die "clippy found problems (see above)"
fi

status=0
if [ "$RUNNER" = nextest ]; then
    # nextest does not run doc tests; run them first (full runs only) so that nextest's
    # summary is the last thing in the log.
    if [ "$#" -eq 0 ]; then
        section "Doc tests: cargo test --workspace --doc"
        cargo test --workspace --doc || status=$?
    fi
    section "Tests: cargo nextest run --workspace --no-fail-fast $*"
    extra=()
    case " $* " in *" --no-tests"*) ;; *) extra+=(--no-tests=warn) ;; esac
    # Kept so the closing line can repeat nextest's count after the fuzzing output.
    nextest_log="$(mktemp)"
    cargo nextest run --workspace --no-fail-fast "${extra[@]}" "$@" 2>&1 | tee "$nextest_log" || status=$?
    counted="$(grep -E 'Summary \[' "$nextest_log" | tail -n1 || true)"
    rm -f "$nextest_log"
else
    export RUST_TEST_THREADS="${RUST_TEST_THREADS:-4}"   # same as `-- --test-threads=4`
    section "Tests: cargo test --workspace --no-fail-fast $* (RUST_TEST_THREADS=$RUST_TEST_THREADS)"
    cargo test --workspace --no-fail-fast "$@" || status=$?
fi

# What users run is the release binary (it embeds the built apps): it is built once, after the
# apps, and the end-to-end journeys and the contract fuzzing run against it (full runs only).
RELEASE_BIN="${CARGO_TARGET_DIR:-target}/release/agora"
release_built=0
release_binary() {
    [ "$release_built" = 1 ] && return 0
    # The apps first: the release binary embeds frontend/dist.
    [ -f frontend/dist/storefront/browser/index.html ] || bash scripts/frontend.sh build
    section "Build: release binary (embeds frontend/dist)"
    cargo build --release --bin agora && release_built=1
}

# The web apps: lockfile and generated-client drift, lint, unit tests, production build with
# its bundle budgets, then the end-to-end journeys in Chromium against the release binary.
if [ "$status" -eq 0 ] && [ "$#" -eq 0 ] && [ "${AGORA_FRONTEND:-1}" = "1" ]; then
    bash scripts/frontend.sh check || status=$?
    if [ "$status" -eq 0 ]; then
        release_binary || status=$?
    fi
    if [ "$status" -eq 0 ]; then
        bash scripts/frontend.sh e2e "$RELEASE_BIN" || status=$?
    fi
fi

# The contract under fuzzing: only after a full run (no filter) whose tests passed, so a
# filtered run stays quick and a red run is not buried under fuzzing output.
if [ "$status" -eq 0 ] && [ "$#" -eq 0 ] && [ "${AGORA_FUZZ:-1}" = "1" ]; then
    release_binary || status=$?
    if [ "$status" -eq 0 ]; then
        AGORA_BIN="$RELEASE_BIN" bash scripts/fuzz.sh || status=$?
    fi
fi

if [ "$status" -ne 0 ]; then
    section "FAILED (exit $status)"
    exit "$status"
fi
section "All tests passed"
# One plain closing line, last in the log: what the test runner counted.
if [[ "${counted:-}" =~ ([0-9]+)\ passed ]]; then
    echo "tests: ${BASH_REMATCH[1]} passed, 0 failed"
fi
