#!/usr/bin/env bash
# Create the repo's .venv (Python 3.11) if missing and install memvault editable with its
# test extra plus any extras named in $MEMVAULT_EXTRAS (comma or space separated, e.g.
# MEMVAULT_EXTRAS="search server"). Idempotent: when pyproject.toml and the extras are
# unchanged since the last successful run it does nothing (set MEMVAULT_SETUP_FORCE=1 to
# reinstall anyway).
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=.venv
STAMP="$VENV/.memvault-setup-stamp"

find_python() {
    if [[ -n "${PYTHON:-}" ]]; then echo "$PYTHON"; return; fi
    local c
    for c in python3.11 /root/.pyenv/versions/3.11*/bin/python3.11 python3; do
        if command -v "$c" >/dev/null 2>&1 \
            && "$c" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' 2>/dev/null; then
            echo "$c"; return
        fi
    done
    echo "setup.sh: no Python >= 3.11 found (set PYTHON=/path/to/python3.11)" >&2
    exit 1
}

if [[ ! -x "$VENV/bin/python" ]]; then
    py="$(find_python)"
    echo "setup: creating $VENV with $("$py" --version 2>&1)"
    "$py" -m venv "$VENV"
    rm -f "$STAMP"
fi

extras="test"
extras_in="${MEMVAULT_EXTRAS:-}"
for e in ${extras_in//,/ }; do
    [[ -n "$e" ]] && extras="$extras,$e"
done

want="$(
    {
        echo "extras=$extras"
        sha256sum pyproject.toml
        "$VENV/bin/python" --version 2>&1
    } | sha256sum | cut -d' ' -f1
)"

# The dashboard tests drive the system's Chromium (tests/server/test_dashboard.py). Without it
# they skip (and fail under CI=true): install it when this user can (root with apt-get, unless
# MEMVAULT_INSTALL_BROWSER=0), else say exactly what is missing and how to get it.
check_browser() {
    local chromium="${MEMVAULT_CHROMIUM:-/usr/bin/chromium}"
    if [[ -x "$chromium" ]] || command -v "$chromium" >/dev/null 2>&1; then
        return 0
    fi
    if [[ "$(id -u)" == 0 && "${MEMVAULT_INSTALL_BROWSER:-1}" != 0 ]] \
        && command -v apt-get >/dev/null 2>&1; then
        echo "setup: no Chromium at $chromium; installing chromium for the dashboard tests" \
            "(MEMVAULT_INSTALL_BROWSER=0 skips this)"
        if DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
                chromium fonts-liberation >/dev/null 2>&1 \
            || { apt-get update -qq >/dev/null 2>&1 \
                && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
                    chromium fonts-liberation >/dev/null 2>&1; }; then
            [[ -x "$chromium" ]] && return 0
        fi
        echo "setup: installing chromium with apt-get failed" >&2
    fi
    echo "setup: WARNING: no Chromium at $chromium: the dashboard tests" \
        "(tests/server/test_dashboard.py) will be SKIPPED (they fail under CI=true)." \
        "Install it (Debian/Ubuntu: sudo apt-get install chromium fonts-liberation) or point" \
        "MEMVAULT_CHROMIUM at a Chromium binary." >&2
}

if [[ "${MEMVAULT_SETUP_FORCE:-0}" != 1 && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]] \
    && "$VENV/bin/python" -c 'import memvault' 2>/dev/null; then
    echo "setup: $VENV up to date (.[$extras])"
    check_browser
    exit 0
fi

echo "setup: installing memvault editable with .[$extras] into $VENV"
export PIP_DISABLE_PIP_VERSION_CHECK=1
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# pip's and the build backend's chatter goes to a log that is shown only on failure.
if ! { "$VENV/bin/python" -m pip install --quiet --upgrade pip setuptools wheel \
        && "$VENV/bin/python" -m pip install --quiet -e ".[$extras]"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup: pip install failed" >&2
    exit 1
fi
echo "$want" > "$STAMP"
check_browser
echo "setup: done"
