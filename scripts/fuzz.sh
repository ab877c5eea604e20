#!/usr/bin/env bash
# scripts/fuzz.sh — the API contract under fuzzing (scripts/test.sh runs it after the cargo tests).
#
# Starts the built `agora` on a fresh database with the demo shop, signs in three callers — an
# owner's API key, a customer, a platform operator — and runs Schemathesis over the operations
# each of them uses (coverage, fuzzing and stateful phases, a fixed seed, bounded examples),
# checking that no request gets a server error and that every response conforms to the
# contract: its status is documented, its content type is declared, its body fits the schema.
# A finding is fixed in the code, never excluded here.
#
# Needs PostgreSQL (TEST_DATABASE_URL, as scripts/test.sh sets up) and python3; installs
# Schemathesis into a virtualenv when missing. Bounded: a few minutes on two cores.
#
# Usage:  bash scripts/fuzz.sh
# Environment:
#   TEST_DATABASE_URL     server to make the throwaway database on (default postgres://postgres@127.0.0.1:5432/postgres)
#   AGORA_BIN             the binary to fuzz, as it is (default: target/debug/agora, built first)
#   AGORA_FUZZ_VENV       virtualenv for Schemathesis (default ~/.cache/agora/schemathesis-<version>)
#   AGORA_FUZZ_EXAMPLES   test cases per operation and phase (default 40)
#   AGORA_FUZZ_SEED       the seed (default 20261201)
#   AGORA_FUZZ_CALLERS    which callers to fuzz as (default "owner customer operator")
#   AGORA_FUZZ_KEEP=1     keep the server log and reports (under target/fuzz/) after a success
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT="$(pwd)"
AGORA_SUDO_FLAGS="${AGORA_SUDO_FLAGS:--n}"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

SCHEMATHESIS_VERSION="4.32.5"
VENV="${AGORA_FUZZ_VENV:-$HOME/.cache/agora/schemathesis-$SCHEMATHESIS_VERSION}"
EXAMPLES="${AGORA_FUZZ_EXAMPLES:-40}"
SEED="${AGORA_FUZZ_SEED:-20261201}"
DATABASE_SERVER="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
BIN="${AGORA_BIN:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/debug/agora}"
OUT="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/fuzz"
# Every check that holds the API to its own contract.
CHECKS="not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
PASSWORD="fuzz-Password-1234"

json_field() { # json_field FIELD < json : prints a top-level string field
    python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

section "Contract fuzzing: Schemathesis $SCHEMATHESIS_VERSION"
if ! "$VENV/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    info "installing schemathesis==$SCHEMATHESIS_VERSION into $VENV"
    python3 -m venv --help >/dev/null 2>&1 || apt_install python3-venv
    rm -rf "$VENV"
    python3 -m venv "$VENV" || { apt_install python3-venv; python3 -m venv "$VENV"; }
    "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" \
        || die "pip could not install schemathesis==$SCHEMATHESIS_VERSION (is PyPI reachable?)"
fi
info "$("$VENV/bin/st" --version)"

if [ -z "${AGORA_BIN:-}" ]; then
    # Fuzz the code as it is (a no-op right after scripts/test.sh built it).
    cargo build -q --bin agora
fi
[ -x "$BIN" ] || die "no agora binary at $BIN"

# A database of its own, dropped afterwards.
db_name="agora_fuzz_$(date +%s)_$$"
server_base="${DATABASE_SERVER%/*}"
psql -q -w -X "$DATABASE_SERVER" -c "CREATE DATABASE $db_name" >/dev/null \
    || die "cannot create a database on TEST_DATABASE_URL"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    local status=$?
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    psql -q -w -X "$DATABASE_SERVER" -c "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null 2>&1 || true
    if [ "$status" -ne 0 ] || [ "${AGORA_FUZZ_KEEP:-0}" = "1" ]; then
        mkdir -p "$OUT" && cp "$work/agora.log" "$OUT/agora.log" 2>/dev/null || true
        info "server log: $OUT/agora.log; reports: $OUT/"
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
export DATABASE_URL="$server_base/$db_name"
export AGORA_DATA_DIR="$work/data"
export AGORA_BIND="127.0.0.1:$port"
export AGORA_TOKEN_KEY
AGORA_TOKEN_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
export AGORA_SECURE_COOKIES=false
export AGORA_WORKERS=1
export AGORA_HTTP_WORKERS=2
export AGORA_LOG_FORMAT=json
export RUST_LOG="${RUST_LOG:-warn}"
unset REDIS_URL AGORA_SMTP_URL AGORA_CONFIG

info "demo shop, its owner and a platform operator on a fresh database"
"$BIN" demo >/dev/null
printf '%s\n' "$PASSWORD" | "$BIN" staff create demo --email owner@fuzz.test --role owner --password-stdin >/dev/null
printf '%s\n' "$PASSWORD" | "$BIN" operator create --email operator@fuzz.test --password-stdin >/dev/null

# At info level the log has one line per request, which is what to read after a finding.
RUST_LOG="${AGORA_FUZZ_RUST_LOG:-info}" "$BIN" serve >"$work/agora.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 60); do
    curl -fs "$base/healthz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || die "agora exited at start-up: $(tail -n 20 "$work/agora.log")"
    sleep 0.5
done
curl -fs "$base/healthz" >/dev/null || die "agora did not answer /healthz within 30 s"

login() { # login AREA EMAIL [SHOP] : prints an access token
    local args=(-fsS -H 'content-type: application/json'
        -d "{\"email\":\"$2\",\"password\":\"$PASSWORD\",\"client\":\"api\"}")
    [ -n "${3:-}" ] && args+=(-H "x-tenant-id: $3")
    curl "${args[@]}" "$base/api/v1/$1/auth/login" | json_field access_token
}

owner_token="$(login admin owner@fuzz.test demo)"
scopes="$(curl -fsS "$base/api/openapi.json" | python3 -c '
import json, sys
spec = json.load(sys.stdin)
names = sorted({s for item in spec["paths"].values() for op in item.values() if isinstance(op, dict)
                for req in op.get("security", []) for s in req.get("staff", [])})
print(json.dumps(names))')"
api_key="$(curl -fsS -H "authorization: Bearer $owner_token" -H 'x-tenant-id: demo' -H 'content-type: application/json' \
    -d "{\"name\":\"contract fuzzing\",\"scopes\":$scopes}" "$base/api/v1/admin/api-keys" | json_field key)"
curl -fsS -H 'x-tenant-id: demo' -H 'content-type: application/json' \
    -d "{\"email\":\"customer@fuzz.test\",\"password\":\"$PASSWORD\",\"name\":\"Fuzz Customer\"}" \
    "$base/api/v1/store/auth/register" >/dev/null
customer_token="$(login store customer@fuzz.test demo)"
operator_token="$(login platform operator@fuzz.test)"
info "signed in: owner API key, customer, platform operator"

mkdir -p "$OUT"
summary=()
failed=0
# Operations that end the caller's own credentials (signing out, revoking the key, erasing the
# account, suspending the shop): fuzzed last, in a pass of their own, so that they do not turn
# every later request of the run into a 401.
ENDERS='^(customerLogout|staffLogout|operatorLogout|revokeApiKey|endMySession|endMyStaffSession|eraseMyAccount|disableStaff|assignStaffRoles|suspendTenant)$'

run_as() { # run_as NAME PATH_REGEX HEADER...
    local name="$1" paths="$2"; shift 2
    local headers=() pass
    for h in "$@"; do headers+=(-H "$h"); done
    for pass in main enders; do
        local filter=(--exclude-operation-id-regex "$ENDERS")
        [ "$pass" = enders ] && filter=(--include-operation-id-regex "$ENDERS")
        section "Schemathesis as $name, $pass pass ($paths)"
        local log="$OUT/schemathesis-$name-$pass.log"
        local status=0
        # `timeout` is the backstop; --max-examples is what bounds a normal run.
        # From the throwaway directory: Schemathesis keeps a cache of past runs in the working
        # directory, and every run here starts from nothing.
        # One worker: Hypothesis's lambda-description caches (hypothesis.internal.lambda_sources,
        # plain LRUCaches) are not thread-safe, and with two worker threads they raced into a
        # KeyError that Schemathesis reported as a "Runtime Error" (FlakyFailure) with no
        # request involved. One worker also makes a seeded run repeat itself exactly.
        (cd "$work" && timeout 600 "$VENV/bin/st" run "$base/api/openapi.json" \
            --checks "$CHECKS" \
            --phases coverage,fuzzing,stateful \
            --seed "$SEED" \
            --max-examples "$EXAMPLES" \
            --generation-database none \
            --request-timeout 20 \
            --workers 1 \
            --no-color \
            --include-path-regex "$paths" "${filter[@]}" \
            --report junit --report-junit-path "$OUT/junit-$name-$pass.xml" \
            "${headers[@]}") >"$log" 2>&1 || status=$?
        # The findings and the closing summary; the whole output is in the log.
        awk '/^=+ (FAILURES|WARNINGS|SUMMARY) =+$/ { shown = 1 } shown' "$log" | grep -v '^  - '
        local line
        line="$(grep -E '^=+ .* in [0-9.]+s =+$' "$log" | tail -n1 | tr -d '=' | sed -E 's/^ +| +$//g')"
        local cases
        cases="$(grep -E '^ *[0-9]+ generated' "$log" | tail -n1 | sed -E 's/^ +//')"
        summary+=("$name ($pass): ${cases:-?}; ${line:-no summary} (exit $status)")
        [ "$status" -eq 0 ] || failed=1
    done
}

for caller in ${AGORA_FUZZ_CALLERS:-owner customer operator}; do
    case "$caller" in
        owner)    run_as owner '^/api/v1/(admin|store)/' "Authorization: Bearer $api_key" "X-Tenant-ID: demo" ;;
        customer) run_as customer '^/api/v1/store/' "Authorization: Bearer $customer_token" "X-Tenant-ID: demo" ;;
        operator) run_as operator '^/(api/v1/platform/|healthz|readyz|metrics)' "Authorization: Bearer $operator_token" ;;
        *)        die "unknown caller $caller (owner, customer, operator)" ;;
    esac
done

# A 500 the checks would catch anyway; this also catches what failed behind a non-5xx answer.
if grep '"level":"ERROR"' "$work/agora.log" | grep -v '"target":"actix_http::' | grep -q .; then
    info "the server logged errors during fuzzing:"
    grep '"level":"ERROR"' "$work/agora.log" | grep -v '"target":"actix_http::' | head -n 20
    failed=1
fi

section "Contract fuzzing summary (seed $SEED, $EXAMPLES examples per operation and phase)"
for s in "${summary[@]}"; do info "$s"; done
if [ "$failed" -ne 0 ]; then
    section "Contract fuzzing FAILED: see the findings above (reports in $OUT)"
    exit 1
fi
section "Contract fuzzing passed: 0 server errors, 0 schema/status/content-type non-conformance"
