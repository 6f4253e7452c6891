#!/bin/sh
# Install (or check for) the Debian 12 packages poenet needs to build, test,
# run the demo and the benchmarks. `install-deps.sh check` exits 1 when
# something is missing; `install-deps.sh install` installs what is missing
# with apt-get when run as root, and prints the exact command otherwise.
set -eu

PKGS="build-essential pkg-config
libzmq3-dev libprotobuf-c-dev protobuf-c-compiler
librrd-dev rrdtool rrdcached
libevent-dev libhttp-parser-dev libjansson-dev libconfig-dev
libcmocka-dev zlib1g-dev libcurl4-openssl-dev curl wrk nginx-light
valgrind clang-14 libclang-rt-14-dev iproute2 chromium python3"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done

case "${1:-check}" in
check)
    [ -z "$missing" ] && exit 0
    echo "missing Debian packages:$missing" >&2
    exit 1 ;;
install)
    if [ -z "$missing" ]; then
        echo "all Debian packages present"
        exit 0
    fi
    if [ "$(id -u)" -eq 0 ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends $missing
    else
        echo "run as root:  sudo apt-get install -y$missing" >&2
        exit 1
    fi ;;
*)
    echo "usage: $0 check|install" >&2
    exit 2 ;;
esac
