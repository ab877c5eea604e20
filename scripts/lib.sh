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
