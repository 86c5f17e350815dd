#!/usr/bin/env bash
# Make sure system programs exist; install them with apt when we may.
#
#   scripts/system-deps.sh dot        Graphviz's dot (Debian package graphviz)
#   scripts/system-deps.sh chromium   Chromium for the browser tests (Debian package chromium)
#   scripts/system-deps.sh java       Java 17 for the Spark comparison (Debian package openjdk-17-jre-headless)
#
# Installs only on apt systems, as root or with passwordless sudo, waiting for
# another apt/dpkg run to finish first. Otherwise prints one install line per
# platform and exits 0: the doctor and the tests report what is still missing
# (under CI=true the tests fail on it).
set -euo pipefail

APT_LOCK_WAIT=${APT_LOCK_WAIT:-600}   # seconds to wait for another apt/dpkg run

have() { command -v "$1" >/dev/null 2>&1; }

sudo_prefix() {
    if [ "$(id -u)" = 0 ]; then echo ""
    elif have sudo && sudo -n true 2>/dev/null; then echo "sudo -n"
    else return 1
    fi
}

# True when no process holds apt's or dpkg's locks (apt takes fcntl locks, so probe with fcntl).
locks_free() {
    have python3 || return 0   # then rely on apt's own DPkg::Lock::Timeout
    $SUDO python3 - <<'EOF'
import fcntl, os, sys
for path in ("/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock", "/var/lib/apt/lists/lock"):
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        continue
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        sys.exit(1)
    finally:
        os.close(fd)
EOF
}

wait_for_apt() {
    local deadline=$((SECONDS + APT_LOCK_WAIT)) said=""
    until locks_free; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "system-deps: apt/dpkg still locked by another process after ${APT_LOCK_WAIT}s" >&2
            return 1
        fi
        [ -n "$said" ] || { echo "system-deps: waiting for another apt/dpkg run to finish..."; said=1; }
        sleep 3
    done
}

apt_get() {
    wait_for_apt
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout="$APT_LOCK_WAIT" "$@"
}

ensure() {   # ensure PROGRAM DEBIAN_PACKAGE BREW CONDA [ALTERNATIVE_PROGRAM...]
    local program=$1 package=$2 brew=$3 conda=$4
    shift 4
    for p in "$program" "$@"; do
        if have "$p"; then return 0; fi
    done
    if have apt-get && SUDO=$(sudo_prefix); then
        echo "system-deps: installing $package with apt-get (for $program)"
        apt_get update
        apt_get install -y "$package"
        have "$program" && return 0
        echo "system-deps: apt-get installed $package but $program is still not on PATH" >&2
        return 1
    fi
    echo "system-deps: $program is missing and cannot be installed here (needs apt and root or sudo). Install it with one of:"
    echo "  Debian/Ubuntu: sudo apt-get install -y $package"
    echo "  macOS:         $brew"
    echo "  conda:         $conda"
}

SUDO=""
for what in "$@"; do
    case "$what" in
        dot) ensure dot graphviz "brew install graphviz" "conda install -c conda-forge graphviz" ;;
        chromium) [ -n "${TEACHKIT_CHROMIUM:-}" ] && [ -x "$TEACHKIT_CHROMIUM" ] && continue
            ensure chromium chromium "brew install --cask chromium" \
            "(none: use your system's Chromium, or set TEACHKIT_CHROMIUM=/path/to/chrome)" chromium-browser ;;
        java) ensure java openjdk-17-jre-headless "brew install openjdk@17" "conda install -c conda-forge openjdk=17" ;;
        *) echo "system-deps: unknown program '$what' (know: dot chromium java)" >&2; exit 2 ;;
    esac
done
