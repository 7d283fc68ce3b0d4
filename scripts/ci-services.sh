#!/usr/bin/env bash
# Install the system services the test suites use, when they are missing (idempotent).
#
#   tinyproxy-bin   the real forward proxy of the proxy tests (proxy_server, auth_proxy_server
#                   fixtures in packages/reqivo-async/tests/servers/proxy.py); the executable
#                   only, so no system-wide daemon is started by the install.
#   nginx           the HTTP/2 reference server (nginx_server, nginx_h2_server,
#                   nginx_h2c_server in servers/nginx.py; also the benchmarks' server): its
#                   Debian 12 build has ngx_http_v2_module (``nginx -V``).
#   libnginx-mod-http-echo
#                   nginx's echo module, for nginx's ``/echo`` route (optional to the
#                   fixtures: the route is simply absent without it).
#   nghttp2-server  nghttpd, nghttp2's server with tiny windows, padding, trailers, pushes
#                   (nghttpd_server fixtures in servers/nghttpd.py).
#   chromium        the headless browser of the docs session's site test
#                   (tests/docs/test_site_browser.py, driven by Playwright with
#                   ``executable_path``: Playwright's own browser download is not used).
#
# The tests start their own private instances on free ports; the packages' own daemons are
# kept from starting at install time (policy-rc.d).
#
# Debian/Ubuntu only (apt-get); elsewhere, or without root, it says what is missing and
# exits 0: the fixtures then skip with a message (REQIVO_TEST_SERVICES=require makes them
# fail instead).
set -euo pipefail

# what must exist (a command name, or an absolute path) -> Debian package
declare -A PACKAGES=(
    [tinyproxy]=tinyproxy-bin
    [nginx]=nginx
    [/usr/lib/nginx/modules/ngx_http_echo_module.so]=libnginx-mod-http-echo
    [nghttpd]=nghttp2-server
    [chromium]=chromium
)

present() {
    case "$1" in
        /*) [ -e "$1" ] ;;
        *) command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ] ;;
    esac
}

missing=()
for need in "${!PACKAGES[@]}"; do
    if ! present "$need"; then
        missing+=("${PACKAGES[$need]}")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "ci-services: all present (${PACKAGES[*]})"
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
# Keep the packages' init scripts from starting system-wide daemons (nginx on port 80).
policy=/usr/sbin/policy-rc.d
added_policy=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
    added_policy=1
fi
cleanup() {
    if [ -n "$added_policy" ]; then
        $SUDO rm -f "$policy"
    fi
}
trap cleanup EXIT
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "ci-services: installed ${missing[*]}"
