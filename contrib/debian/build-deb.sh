#!/bin/bash
# Builds OUTDIR/rescue-init_VERSION_ARCH.deb from the tree that
# `make install PREFIX=/usr DESTDIR=WORKDIR/debian/rescue-init` staged;
# `make deb` runs both. Plain dpkg-deb: no debhelper, no source package.
#
#   build-deb.sh WORKDIR OUTDIR
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
work=$(cd "$1" && pwd)
out=$(cd "$2" && pwd)
pkg=$work/debian/rescue-init
fail() { echo "build-deb.sh: $*" >&2; exit 1; }

[ -x "$pkg/usr/bin/mkimage" ] && [ -x "$pkg/usr/lib/rescue-init/rescue-init" ] ||
    fail "$pkg is not a staged tree: run make install PREFIX=/usr DESTDIR=$pkg first"
arch=$(dpkg --print-architecture)
[ "$arch" = amd64 ] || fail "rescue-init is built for x86_64 (musl), but this machine's architecture is $arch"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$top/Cargo.toml")
logged=$(dpkg-parsechangelog -l "$here/changelog" -S Version)
[ "$version" = "$logged" ] ||
    fail "Cargo.toml's version is $version but contrib/debian/changelog's newest entry is $logged: add an entry"

# The kit goes straight into ReaR's tree, where installing the package
# enables it (the pack script's path is diverted: see preinst). Neither the
# copy install.sh installs from nor install.sh itself is shipped: here dpkg
# owns the kit. The three names are install.sh's.
kit=$pkg/usr/share/rescue-init/rear
rear=$pkg/usr/share/rear
install -D -m 0644 "$kit/pack-initramfs.sh" "$rear/pack/GNU/Linux/900_create_initramfs.sh"
install -D -m 0644 "$kit/build-rescue-init.sh" "$rear/build/default/985_rescue_init.sh"
install -D -m 0644 "$kit/finalize-handoff.sh" "$rear/finalize/default/990_rescue_init_handoff.sh"
rm -r "$pkg/usr/share/rescue-init"

# Debian policy: compressed man pages and changelog, a copyright file, the
# lintian overrides.
find "$pkg/usr/share/man" -type f ! -name '*.gz' -exec gzip -9n {} +
doc=$pkg/usr/share/doc/rescue-init
gzip -9n < "$here/changelog" > "$doc/changelog.gz"
crates=$(cd "$top" && cargo tree --offline -e normal -p rescue-init -p mkimage --prefix none --format '{p}|{l}' |
    grep -v proc-macro | sed 's/ (\*)$//; s/ (\/[^)]*)//; s/|/: /; s/^/ /' | LC_ALL=C sort -u)
[ -n "$crates" ] || fail "cargo tree listed no crates for the copyright file"
while IFS= read -r line; do
    if [ "$line" = @CRATES@ ]; then printf '%s\n' "$crates"; else printf '%s\n' "$line"; fi
done < "$here/copyright.in" > "$doc/copyright"
install -D -m 0644 "$here/lintian-overrides" "$pkg/usr/share/lintian/overrides/rescue-init"

# Stripped as dh_strip strips executables (cargo's `strip = true` left
# mkimage's symbol table and both binaries' .comment).
strip --remove-section=.comment --remove-section=.note "$pkg/usr/bin/mkimage" "$pkg/usr/lib/rescue-init/rescue-init"

# Depends: what the binaries really need. rescue-init must need nothing.
if readelf -d "$pkg/usr/lib/rescue-init/rescue-init" | grep -q NEEDED; then
    fail "usr/lib/rescue-init/rescue-init is dynamically linked: build it for x86_64-unknown-linux-musl (make)"
fi
# dpkg-shlibdeps reads debian/control and finds the package root by its
# DEBIAN directory.
: > "$work/debian/control"
rm -rf "$pkg/DEBIAN"
install -d "$pkg/DEBIAN"
depends=$(cd "$work" && dpkg-shlibdeps -O debian/rescue-init/usr/bin/mkimage | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || fail "dpkg-shlibdeps found no dependencies of mkimage"

install -m 0755 "$here/preinst" "$here/postrm" "$pkg/DEBIAN/"
(cd "$pkg" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) > "$pkg/DEBIAN/md5sums"
size=$(du -sk --apparent-size --exclude=DEBIAN "$pkg" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$size/" -e "s/@DEPENDS@/$depends/" \
    "$here/control.in" > "$pkg/DEBIAN/control"

deb=$out/rescue-init_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "$deb"
