#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the npm packages a source folder pins into a build tree:
#   npm_ci.sh SOURCE_DIR BUILD_DIR [EXTRA_FILE...]
# copies package.json, package-lock.json, .npmrc (and the extra files of
# SOURCE_DIR) there and runs `npm ci` from the lockfile, so the source tree
# never holds a node_modules. Users: the node SOAP client
# (tests/clients/node, fixture integration.node_soap_install), the browser
# tests (tests/browser, fixture browser.install) and noVNC for the console
# page (web/, at build time through cmake/assemble_web.sh).
#
# Once installed it does nothing: a copy of the lockfile, package.json and
# .npmrc kept in node_modules says what was installed, and npm ci (which
# starts by deleting node_modules and needs the registry) runs only when
# they change. A failure is loud, never a skip: a test that cannot get its
# client must fail.
#
# To change a pinned version: edit package.json in SOURCE_DIR, then run
# `npm install --package-lock-only --ignore-scripts` in that folder (with
# node 18, Debian 12's, in mind: engine-strict makes npm ci refuse a
# package that needs a newer node) and commit both files.
set -euo pipefail
src=$(cd "$1" && pwd)
dest=$2
shift 2
mkdir -p "$dest"
for file in package.json package-lock.json .npmrc "$@"; do
    cmp -s "$src/$file" "$dest/$file" || cp "$src/$file" "$dest/$file"
done
cd "$dest"

for tool in node npm; do
    if ! command -v "$tool" >/dev/null; then
        echo "npm_ci.sh: '$tool' not found; cmake/setup.sh installs Debian's nodejs and npm" >&2
        exit 1
    fi
done

stamp=node_modules/.vsa-installed
if [ -d node_modules ] && [ -f "$stamp" ] && cat package.json package-lock.json .npmrc | cmp -s - "$stamp"; then
    echo "npm_ci.sh: node_modules in $dest matches package-lock.json"
    exit 0
fi

echo "npm_ci.sh: npm ci in $dest (node $(node --version), npm $(npm --version))"
# --ignore-scripts: nothing in the tree needs an install script, and none
# should run on a developer's machine or CI.
if ! npm ci --ignore-scripts --no-audit --no-fund; then
    echo "npm_ci.sh: FAILED: npm ci could not install the locked packages." >&2
    echo "npm_ci.sh: the npm registry must be reachable (npm config get registry)," >&2
    echo "npm_ci.sh: and node must satisfy every package's engines (engine-strict in .npmrc)." >&2
    exit 1
fi
cat package.json package-lock.json .npmrc >"$stamp"
echo "npm_ci.sh: installed in $dest/node_modules"
