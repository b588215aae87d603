#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fails if any tracked C++ file is not clang-format clean (.clang-format).
set -euo pipefail
cd "$1"
mapfile -t files < <(git ls-files -co --exclude-standard -- '*.cpp' '*.h' | grep -v '^build')
[ ${#files[@]} -gt 0 ] || { echo "no C++ files found"; exit 1; }
clang-format --dry-run --Werror "${files[@]}"
echo "clang-format: ${#files[@]} files clean"
