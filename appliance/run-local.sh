#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Quick start, command 1: install what is missing, build, and run vsad in the
# foreground with the embedded default configuration, keeping its state in
# var/ under the checkout. The first start prints the administrator password.
# Extra arguments go to vsad (e.g. --port=9443, --log-level=debug).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$top/cmake/setup.sh" "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF
mkdir -p "$top/var"
exec "$top/build/appliance/vsad" --data-dir="$top/var" "$@"
