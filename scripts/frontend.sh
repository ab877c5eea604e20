#!/usr/bin/env bash
# scripts/frontend.sh — build and check the web apps in frontend/ (Angular: storefront, admin).
#
#   bash scripts/frontend.sh build        install, then build both apps (what scripts/run.sh needs)
#   bash scripts/frontend.sh check        install; fail if the lockfile or the generated API client
#                                         differ from the committed ones; lint, format check, unit
#                                         tests, production build with bundle budgets
#   bash scripts/frontend.sh e2e BINARY   the end-to-end journeys in Debian's Chromium against
#                                         BINARY (an `agora` build) and a fresh database
#
# Installs Node 22 from the npm registry when the machine's is older (see scripts/lib.sh) and
# Chromium from Debian for `e2e`. The built apps land in frontend/dist, which the release binary
# embeds (build the apps before `cargo build --release`).
#
# Environment: TEST_DATABASE_URL (e2e; default postgres://postgres@127.0.0.1:5432/postgres),
#              AGORA_E2E_SCREENSHOTS (e2e; where screenshots go, default frontend/e2e/screenshots).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT="$(pwd)"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

mode="${1:-build}"

install() {
    section "Frontend: Node and packages"
    ensure_node
    # `npm ci` refuses the lockfile here (the registry lacks other platforms' optional binaries);
    # `npm install` with the committed lockfile gives the same tree, and drift shows in git.
    (cd frontend && npm install --no-audit --no-fund --loglevel=error)
}

build() {
    section "Frontend: build"
    (cd frontend && npx ng build storefront && npx ng build admin && node tools/check-bundle-size.mjs)
}

check() {
    install
    if git -C "$REPO_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
        git -C "$REPO_ROOT" diff --exit-code -- frontend/package-lock.json \
            || die "frontend/package-lock.json changed on npm install: commit the updated lockfile"
    fi
    section "Frontend: API client generated from openapi/openapi.json"
    (cd frontend && npx openapi-ts >/dev/null)
    if git -C "$REPO_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
        local stale
        stale="$(git -C "$REPO_ROOT" status --porcelain -- frontend/projects/shared/src/lib/api)"
        [ -z "$stale" ] || {
            git -C "$REPO_ROOT" --no-pager diff --stat -- frontend/projects/shared/src/lib/api
            die "the generated API client is stale: run (cd frontend && npx openapi-ts) and commit it"
        }
    fi
    section "Frontend: lint and format"
    (cd frontend && npx eslint projects e2e tools && npx prettier --check . >/dev/null)
    section "Frontend: unit tests"
    (cd frontend && for project in shared storefront admin; do npx ng test "$project" --watch=false; done)
    build
}

e2e() {
    local binary="${1:?usage: scripts/frontend.sh e2e BINARY}"
    [ -x "$binary" ] || die "$binary is not an executable agora binary"
    ensure_node
    ensure_chromium
    { python3 -c 'import aiosmtpd' || /usr/bin/python3 -c 'import aiosmtpd'; } >/dev/null 2>&1 || apt_install python3-aiosmtpd
    [ -f frontend/dist/storefront/browser/index.html ] || build
    section "Frontend: end-to-end journeys"
    (cd frontend && node e2e/run.mjs "$(realpath "$binary")")
}

case "$mode" in
    build) install; build ;;
    check) check ;;
    e2e) shift; e2e "$@" ;;
    *) die "unknown mode $mode (build, check or e2e)" ;;
esac
