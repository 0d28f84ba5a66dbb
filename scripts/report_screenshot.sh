#!/bin/sh
# Render an `autorep report` HTML file to a PNG with headless Chromium, to look at
# the design (or attach it to a note). Installs Debian's chromium when it is
# missing and we are root.
#
#   scripts/report_screenshot.sh REPORT.html OUT.png [WIDTHxHEIGHT]   (default 1400x3000)
set -eu
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 REPORT.html OUT.png [WIDTHxHEIGHT]" >&2
    exit 2
fi
report=$1
out=$2
size=${3:-1400x3000}
[ -f "$report" ] || { echo "$0: $report: no such file" >&2; exit 1; }
case "$size" in
*[!0-9x]* | x* | *x) echo "$0: size '$size' is not WIDTHxHEIGHT" >&2; exit 2 ;;
esac

browser=
for b in chromium chromium-browser google-chrome; do
    if command -v "$b" > /dev/null 2>&1; then browser=$b; break; fi
done
if [ -z "$browser" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "$0: chromium is not installed (as root: apt-get install chromium)" >&2
        exit 1
    fi
    echo "installing chromium ..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core > /dev/null ||
        { apt-get update -q > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core > /dev/null; }
    browser=chromium
fi

abs=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
case "$out" in /*) png=$out ;; *) png=$(pwd)/$out ;; esac
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
w=${size%x*}
h=${size#*x}
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$profile" \
    --screenshot="$png" --window-size="$w,$h" "file://$abs" > /dev/null 2>&1 || true
if [ ! -s "$png" ]; then
    echo "$0: $browser wrote no screenshot" >&2
    exit 1
fi
echo "$png"
