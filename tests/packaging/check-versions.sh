#!/bin/sh
# Fails unless every file that states faas's version states the one in the
# workspace Cargo.toml. `make version-stamp` writes it everywhere.
# Usage: check-versions.sh [ROOT]   (default: the repository root)
set -eu
root=${1:-$(dirname "$0")/../..}
cd "$root"

want=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
[ -n "$want" ] || { echo "check-versions: no version in Cargo.toml" >&2; exit 1; }
major=${want%%.*}; rest=${want#*.}; minor=${rest%%.*}; patch=${rest#*.}
bad=0

check() { # what found
    if [ "$2" = "$want" ]; then return; fi
    echo "check-versions: $1 says '$2', Cargo.toml says '$want'" >&2
    bad=1
}
define() { sed -n "s/^#define $1 \"\{0,1\}\([^\" ]*\)\"\{0,1\}.*/\1/p" include/faas.h; }

check "rpm/faas.spec Version" "$(sed -n 's/^Version:[[:space:]]*//p' rpm/faas.spec)"
check "rpm/faas.spec newest %changelog entry" \
    "$(sed -n '/^%changelog/,$p' rpm/faas.spec | sed -n 's/^\*.* - \([^-]*\)-[^-]*$/\1/p' | head -n 1)"
check "PKGBUILD pkgver" "$(sed -n 's/^pkgver=//p' PKGBUILD)"
check "Formula/faas.rb url (tag)" "$(sed -n 's|^  url ".*/v\([^/]*\)/faas-.*\.tar\.gz"|\1|p' Formula/faas.rb)"
check "Formula/faas.rb url (file)" "$(sed -n 's|^  url ".*/faas-\(.*\)\.tar\.gz"|\1|p' Formula/faas.rb)"
check "include/faas.h FAAS_VERSION" "$(define FAAS_VERSION)"
check "include/faas.h MAJOR.MINOR.PATCH" \
    "$(define FAAS_VERSION_MAJOR).$(define FAAS_VERSION_MINOR).$(define FAAS_VERSION_PATCH)"
number=$(define FAAS_VERSION_NUMBER)
if [ "$number" != "$((major * 10000 + minor * 100 + patch))" ]; then
    echo "check-versions: include/faas.h FAAS_VERSION_NUMBER is '$number', want $((major * 10000 + minor * 100 + patch))" >&2
    bad=1
fi
grep -qx 'Version: @VERSION@' c-abi/faas.pc.in || {
    echo "check-versions: c-abi/faas.pc.in must say 'Version: @VERSION@' (make install writes the version)" >&2
    bad=1
}
if grep -q '^  version ' Formula/faas.rb; then
    echo "check-versions: Formula/faas.rb must not set version (Homebrew reads it from the url)" >&2
    bad=1
fi

[ "$bad" = 0 ] && echo "check-versions: $want everywhere"
exit "$bad"
