#!/bin/sh
# Builds the RPMs the way a distribution does and installs them into a
# scratch root. Usage: rpm.sh TARBALL WORK
#   1. rpmbuild -ba with the spec shipped in `make dist`'s TARBALL, with the
#      network unplugged (unshare -n): the vendored crates must suffice; and
#      with Fedora's Rust flags, which the spec must survive;
#   2. rpmlint on the spec and every package: no errors;
#   3. rpm --root WORK/root --nodeps -i of both binary packages.
# Leaves the packages in WORK/top/RPMS and the installed tree in WORK/root.
set -eu
tarball=$1
work=$2
need() {
    command -v "$1" > /dev/null || { echo "rpm.sh: $1 not found: apt-get install $2" >&2; exit 1; }
}
need rpmbuild rpm
need rpmlint rpmlint
need unshare util-linux
need ip iproute2

rm -rf "$work"
mkdir -p "$work/top/SOURCES" "$work/root"
cp "$tarball" "$work/top/SOURCES/"
tar -xzf "$tarball" -O --wildcards '*/rpm/faas.spec' > "$work/faas.spec"

# --nodeps: this is Debian, whose rpm database knows none of the BuildRequires.
echo "rpm.sh: rpmbuild -ba (network off)"
# build_rustflags: Fedora's %build_rustflags (redhat-rpm-config), less its
# -Clink-arg=-specs=/usr/lib/rpm/redhat/redhat-package-notes, a file that
# only Fedora has; Debian's rpm defines none, so this plays Fedora.
fedora_rustflags='-Copt-level=3 -Cdebuginfo=2 -Ccodegen-units=1 -Cstrip=none -Cforce-frame-pointers=yes --cap-lints=warn'
unshare -n sh -c 'ip link set lo up && exec rpmbuild -ba --nodeps --define "_topdir $1/top" --define "build_rustflags $2" "$1/faas.spec"' \
    sh "$work" "$fedora_rustflags" > "$work/rpmbuild.log" 2>&1 || {
    tail -n 60 "$work/rpmbuild.log" >&2
    echo "rpm.sh: rpmbuild failed; whole log: $work/rpmbuild.log" >&2
    exit 1
}

echo "rpm.sh: rpmlint"
# rpmlint exits non-zero when it reports an error; warnings are printed.
# Fedora's settings (rpmlint-fedora.toml), then the package's own filters
# (rpm/faas.rpmlintrc, shipped in the tarball).
tar -xzf "$tarball" -O --wildcards '*/rpm/faas.rpmlintrc' > "$work/faas.rpmlintrc"
rpmlint -c "$(dirname "$0")/rpmlint-fedora.toml" -r "$work/faas.rpmlintrc" \
    "$work/faas.spec" "$work"/top/RPMS/*/*.rpm "$work"/top/SRPMS/*.rpm

echo "rpm.sh: rpm --root $work/root -i"
rpm --root "$work/root" --dbpath /var/lib/rpm --initdb
rpm --root "$work/root" --dbpath /var/lib/rpm --nodeps -i "$work"/top/RPMS/*/*.rpm
rpm --root "$work/root" --dbpath /var/lib/rpm -qa
rpm --root "$work/root" --dbpath /var/lib/rpm -ql faas faas-devel
