#!/bin/sh
# Builds the pacman package with makepkg and installs it into a scratch root.
# Usage: pacman.sh TARBALL PKGBUILD WORK   (run as root)
#   1. makepkg, which refuses to run as root, runs as an unprivileged user
#      (created here) with the network unplugged (unshare -n), build() and
#      check() and package() all, with RUSTFLAGS set in makepkg.conf;
#   2. pacman -U --root WORK/root --dbpath WORK/db installs it.
# Leaves the package in WORK/build and the installed tree in WORK/root.
set -eu
tarball=$1
pkgbuild=$2
work=$3
user=faas-makepkg
need() {
    command -v "$1" > /dev/null || { echo "pacman.sh: $1 not found: apt-get install $2" >&2; exit 1; }
}
need makepkg makepkg
need pacman pacman-package-manager
need bsdtar libarchive-tools
need fakeroot fakeroot
need unshare util-linux
need ip iproute2
need runuser util-linux
need useradd passwd
[ "$(id -u)" = 0 ] || { echo "pacman.sh: run as root (it creates the build user $user)" >&2; exit 1; }

id -u "$user" > /dev/null 2>&1 ||
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"

rm -rf "$work"
mkdir -p "$work/build" "$work/home" "$work/root" "$work/db" "$work/toolchain"
chmod 0755 "$work"
cp "$tarball" "$pkgbuild" "$work/build/"
# The Rust toolchain may sit under /root (mode 0700, as rustup puts it):
# give the builder a copy, hard-linked when the file system allows.
sysroot=$(rustc --print sysroot)
for d in bin lib; do
    cp -al "$sysroot/$d" "$work/toolchain/" 2> /dev/null || cp -a "$sysroot/$d" "$work/toolchain/"
done
chown -R "$user:$user" "$work/build" "$work/home"

# makepkg.conf with Rust flags that a distribution or its user may set:
# Arch's rust.conf has -Cforce-frame-pointers=yes, and makepkg.conf's own
# commented example is -C opt-level=2. The PKGBUILD must survive both.
{ cat /etc/makepkg.conf; echo 'RUSTFLAGS="-C opt-level=2 -Cforce-frame-pointers=yes"'; } > "$work/makepkg.conf"

echo "pacman.sh: makepkg as $user (network off)"
unshare -n sh -c 'ip link set lo up && cd "$2/build" && exec runuser -u "$1" -- env -i \
        PATH="$2/toolchain/bin:/usr/local/bin:/usr/bin:/bin" HOME="$2/home" CARGO_HOME="$2/home/.cargo" \
        LANG=C.UTF-8 makepkg --config "$2/makepkg.conf" --nodeps --noconfirm --check --cleanbuild' sh "$user" "$work" \
    > "$work/makepkg.log" 2>&1 || {
    tail -n 60 "$work/makepkg.log" >&2
    echo "pacman.sh: makepkg failed; whole log: $work/makepkg.log" >&2
    exit 1
}
pkg=$(ls "$work"/build/faas-*.pkg.tar.*)
echo "pacman.sh: built $pkg"

echo "pacman.sh: pacman -U --root $work/root"
pacman -U --noconfirm --nodeps --nodeps --root "$work/root" --dbpath "$work/db" \
    --cachedir "$work/cache" --logfile "$work/pacman.log" "$pkg"
pacman -Q --root "$work/root" --dbpath "$work/db"
pacman -Ql --root "$work/root" --dbpath "$work/db" faas
