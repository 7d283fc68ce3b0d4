#!/usr/bin/env bash
# Install the system services the test suites use, when they are missing (idempotent).
#
#   tinyproxy-bin  the real forward proxy of the proxy tests (proxy_server, auth_proxy_server
#                  fixtures in packages/reqivo-async/tests/servers/proxy.py); the executable
#                  only, so no system-wide daemon is started by the install.
#
# Debian/Ubuntu only (apt-get); elsewhere, or without root, it says what is missing and
# exits 0: the fixtures then skip with a message (REQIVO_TEST_SERVICES=require makes them
# fail instead).
set -euo pipefail

# command name -> Debian package
declare -A PACKAGES=(
    [tinyproxy]=tinyproxy-bin
)

missing=()
for command in "${!PACKAGES[@]}"; do
    if ! command -v "$command" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$command" ] \
        && [ ! -x "/usr/bin/$command" ]; then
        missing+=("${PACKAGES[$command]}")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "ci-services: all present (${!PACKAGES[*]})"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ci-services: apt-get not found; install by hand: ${missing[*]}" >&2
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "ci-services: not root and no sudo; install by hand: ${missing[*]}" >&2
        exit 0
    fi
fi

echo "ci-services: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "ci-services: installed ${missing[*]}"
