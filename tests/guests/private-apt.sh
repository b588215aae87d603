# SPDX-License-Identifier: GPL-2.0-or-later
#
# private-apt.sh: sourced by fetch-debs.sh and fetch-installer.sh, the one
# place that sets up apt-get on the system's sources list with a private
# state under a cache directory (lists, package cache, an empty dpkg
# status, no lock), i386 only, so the host's apt configuration and state
# stay untouched and the i386 lists need no `dpkg --add-architecture`.
#
#   private_apt_setup TAG DIR   checks the tools, fills APT_OPTS and updates
#                               the private lists under DIR (TAG prefixes
#                               the messages)
#   apt_candidate PKG           the version apt would download, or ""
#   apt_require PKG...          exits with a message unless each resolves

private_apt_setup() {
    local tag=$1 dir=$2 tool
    APT_TAG=$tag
    for tool in apt-get apt-cache dpkg-deb sha256sum; do
        command -v "$tool" >/dev/null || { echo "$tag: $tool not found (Debian host needed)" >&2; exit 1; }
    done
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/debs"
    # Only i386 is configured so every name resolves to the i386 package.
    APT_OPTS=(
        -oAPT::Architecture=i386
        -oAPT::Architectures::=i386
        -oDir::State::Lists="$dir/lists"
        -oDir::State::Status=/dev/null
        -oDir::Cache="$dir/cache"
        -oDebug::NoLocking=1
        # Downloads land in a root-owned directory the _apt sandbox user
        # cannot write; without this apt warns and falls back to root anyway.
        -oAPT::Sandbox::User=root
        -qq
    )
    echo "$tag: updating private i386 package lists under $dir/lists"
    # A single failing index (e.g. a security mirror mid-sync) makes apt-get
    # update exit non-zero while the main lists are fine; what matters is
    # that the packages resolve, which the callers check next.
    if ! apt-get "${APT_OPTS[@]}" update; then
        echo "$tag: apt-get update reported errors; continuing if the packages resolve" >&2
    fi
}

apt_candidate() {
    apt-cache "${APT_OPTS[@]}" policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}'
}

apt_require() {
    local p v
    for p in "$@"; do
        v=$(apt_candidate "$p")
        if [ -z "$v" ] || [ "$v" = "(none)" ]; then
            echo "$APT_TAG: package $p has no candidate" >&2
            exit 1
        fi
        echo "$APT_TAG: $p $v"
    done
}
