#!/bin/sh
# Install the Debian packages autorep needs (idempotent; run as root).
# Usage: scripts/setup.sh [--torch | --fuzz]   (--torch also installs python3-torch for tools/ and
# bench/; --fuzz clang with libFuzzer and its OpenMP runtime for `make fuzz`)
set -eu

PKGS="build-essential pkg-config libdnnl-dev libsodium-dev zlib1g-dev libjansson-dev \
libopenmpi-dev openmpi-bin dataset-fashion-mnist iproute2"
if [ "${1:-}" = "--torch" ]; then
    PKGS="$PKGS python3-torch python3-numpy libjemalloc2"
fi
if [ "${1:-}" = "--fuzz" ]; then
    PKGS="$PKGS clang libclang-rt-14-dev libomp-dev"
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -z "$missing" ]; then
    echo "setup: all packages present"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "setup: missing packages:$missing — run 'sudo scripts/setup.sh'" >&2
    exit 1
fi
echo "setup: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
