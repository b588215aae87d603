#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Shared set-up for the two Quick start commands: install missing Debian
# packages (by name, from cmake/debian-packages.txt), then configure and
# build one build tree.
#   cmake/setup.sh BUILD_DIR [extra cmake arguments...]
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$1
shift

mapfile -t wanted < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$top/cmake/debian-packages.txt")
# node and npm for the node soap client scenario (tests/clients/node), by
# command rather than by package: on Debian 12 they come from the nodejs
# and npm packages (node 18), but a machine may have another node that
# brings its own npm (NodeSource's nodejs), and Debian's npm would conflict
# with it. Either does: the scenario needs node 18 or later.
command -v node >/dev/null || wanted+=(nodejs)
command -v npm >/dev/null || wanted+=(npm)
missing=()
for package in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S "$top" -B "$build" "$@"
# VSA_SETUP_BUILD=0: packages and configuration only (tests/run.sh builds
# itself, beside the guest stage's build).
[ "${VSA_SETUP_BUILD:-1}" = 0 ] || cmake --build "$build" -j "$jobs"
