#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Assembles the web root vsad serves (issue 7):
#   assemble_web.sh SOURCE_WEB NPM_DIR OUT [GENERATED]
# OUT gets the pages of SOURCE_WEB (without its npm files) plus noVNC's
# browser library from npm (SOURCE_WEB/package-lock.json pins it; installed
# into NPM_DIR by cmake/npm_ci.sh) under vendor/novnc/: core/ and the
# vendor/ folder its modules import relatively (pako), with its licence.
# noVNC ships ES modules without bare imports, so the files are served as
# they are: no bundler. OUT is replaced as a whole (built in OUT.new, then
# renamed), so a failed run never leaves a half-updated web root.
# GENERATED: a folder of pages made at build time (the API reference,
# api.html), copied in as they are; they may not replace a source page.
set -euo pipefail
src=$(cd "$1" && pwd)
npm_dir=$2
out=$3
generated=${4:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

bash "$here/npm_ci.sh" "$src" "$npm_dir"
novnc="$npm_dir/node_modules/@novnc/novnc"
if [ ! -f "$novnc/core/rfb.js" ]; then
    echo "assemble_web.sh: $novnc/core/rfb.js is missing after npm ci" >&2
    exit 1
fi

rm -rf "$out.new"
mkdir -p "$out.new"
# Every page file; not the npm project files, nor dotfiles.
(cd "$src" && find . -type f ! -name package.json ! -name package-lock.json ! -name CMakeLists.txt \
     ! -path '*/node_modules/*' ! -path '*/.*' -print0 |
     xargs -0 -r cp --parents -t "$out.new")
if [ -n "$generated" ]; then
    for page in "$generated"/*.html; do
        [ -f "$page" ] || continue
        if [ -e "$out.new/$(basename "$page")" ]; then
            echo "assemble_web.sh: generated $(basename "$page") would replace a page of $src" >&2
            exit 1
        fi
        cp "$page" "$out.new/"
    done
fi
mkdir -p "$out.new/vendor/novnc"
cp -R "$novnc/core" "$novnc/vendor" "$novnc/LICENSE.txt" "$out.new/vendor/novnc/"
# Only what the browser loads: noVNC's own tests and docs are not shipped.
find "$out.new/vendor/novnc" -type f ! -name '*.js' ! -name LICENSE.txt ! -name LICENSE -delete
rm -rf "$out"
mv "$out.new" "$out"
echo "assemble_web.sh: web root $out ($(find "$out" -type f | wc -l) files)"
