#!/usr/bin/env bash
# scripts/run.sh — run Agora on a fresh machine (Debian 12, as root or with sudo).
#
#   bash scripts/run.sh [extra args for `agora serve`]
#
# 1. installs the Debian `postgresql` package if its server binaries are missing
#    (only when DATABASE_URL is unset: then agora runs its own PostgreSQL under ./data),
# 2. builds the web apps (frontend/, installing Node 22 from the npm registry when the machine's
#    is older) and the release binary, which embeds them,
# 3. provisions the demo shop "demo" (idempotent: re-running keeps your data),
# 4. serves on AGORA_BIND (default 127.0.0.1:8080) until Ctrl-C.
#
# Environment (all optional):
#   AGORA_BIND          address to listen on                 (default 127.0.0.1:8080)
#   DATABASE_URL        use this PostgreSQL instead of the embedded one
#   REDIS_URL           use Redis for cache and rate limits
#   AGORA_DATA_DIR      data directory of the embedded setup  (agora's default: ./data)
#   AGORA_BASE_DOMAIN   tenants are served at <slug>.<base domain> (default localhost)
#   CARGO_TARGET_DIR    honoured as cargo always does
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT="$(pwd)"

export AGORA_BIND="${AGORA_BIND:-127.0.0.1:8080}"
export DEBIAN_FRONTEND=noninteractive

# shellcheck source=scripts/lib.sh
source scripts/lib.sh   # the working directory is the repository root here

# --- PostgreSQL server binaries (embedded default) --------------------------------------------
section "PostgreSQL"
if [ -n "${DATABASE_URL:-}" ]; then
    info "DATABASE_URL is set: using that server, not the embedded one"
else
    if ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null \
        || ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
        info "PostgreSQL server binaries not found"
        apt_install postgresql
    fi
    info "embedded PostgreSQL from $(dirname "$(compgen -G '/usr/lib/postgresql/*/bin/postgres' | sort -V | tail -n1)")"
    info "data directory: ${AGORA_DATA_DIR:-$REPO_ROOT/data}"
    if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1 && command -v runuser >/dev/null 2>&1; then
        # As root, agora runs postgres as the `postgres` user, which must reach the data directory.
        data_parent="$(dirname "$(realpath -m "${AGORA_DATA_DIR:-$REPO_ROOT/data}")")"
        while [ ! -d "$data_parent" ]; do data_parent="$(dirname "$data_parent")"; done
        if ! runuser -u postgres -- test -x "$data_parent"; then
            info "WARNING: user 'postgres' cannot enter $data_parent;"
            info "         set AGORA_DATA_DIR to a directory it can reach (e.g. /var/lib/agora)."
        fi
    fi
fi

# --- Rust toolchain and build -----------------------------------------------------------------
section "Build"
if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi
command -v cargo >/dev/null 2>&1 \
    || die "cargo not found. Install a Rust toolchain (rustup, or Debian's cargo for a recent enough Rust) and re-run."
command -v cc >/dev/null 2>&1 || apt_install gcc libc6-dev
info "$(cargo --version)"
# The apps first: the release binary embeds frontend/dist.
bash scripts/frontend.sh build
section "Build: release binary"
cargo build --release --bin agora
BIN="${CARGO_TARGET_DIR:-target}/release/agora"
[ -x "$BIN" ] || die "build finished but $BIN is missing"

# --- Demo shop --------------------------------------------------------------------------------
section "Demo shop"
"$BIN" demo
sign_ins="${AGORA_DATA_DIR:-$REPO_ROOT/data}/demo-sign-ins.txt"
owner_password="$(sed -n 's/^owner=//p' "$sign_ins" 2>/dev/null || true)"

# --- Serve ------------------------------------------------------------------------------------
port="${AGORA_BIND##*:}"
host="${AGORA_BIND%:*}"
case "$host" in
    ""|0.0.0.0|127.0.0.1|localhost|"[::]"|"[::1]"|"::"|"::1") host=localhost ;;
esac
base="http://$host:$port"
shop_host="demo.${AGORA_BASE_DOMAIN:-localhost}"

section "Agora on $AGORA_BIND"
cat <<EOF
  Storefront       http://$shop_host:$port/
  Shop admin       http://$shop_host:$port/admin/        (sign in as the demo owner below)
  Platform console $base/admin/platform/   (sign in as the platform operator)
  Storefront API   http://$shop_host:$port/api/v1/store/shop
  API docs         $base/api/docs
  OpenAPI          $base/api/openapi.json
  Health           $base/healthz
  Metrics          $base/metrics

  Query the demo shop with curl (tenant chosen by header instead of Host):
    curl -s -H 'X-Tenant-ID: demo' $base/api/v1/store/shop

  Sign in to its admin API as the demo owner (sign-ins printed above, kept in $sign_ins):
    curl -s -H 'X-Tenant-ID: demo' -H 'Content-Type: application/json' \
      -d '{"email":"owner@demo.example","password":"${owner_password:-<see above>}","client":"api"}' \
      $base/api/v1/admin/auth/login

  Ctrl-C stops the server.
EOF
exec "$BIN" serve "$@"
