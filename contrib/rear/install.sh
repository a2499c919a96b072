#!/bin/sh
# rescue-init's kit for ReaR (Relax-and-Recover): see README.md here.
#
#   install.sh [--rear-dir DIR] [--bindir DIR] [--mkimage FILE] [--rescue-init FILE]
#   install.sh --uninstall [--rear-dir DIR]
#
# Installs the binaries into BINDIR (default /usr/local/sbin) and three
# scripts into ReaR's tree (default /usr/share/rear). ReaR's own
# pack/GNU/Linux/900_create_initramfs.sh is moved aside (dpkg-divert on
# Debian, so ReaR upgrades land beside it) and called by the kit's
# replacement whenever mkimage is not used. Running it again is harmless.
set -eu

rear_dir=/usr/share/rear
bindir=/usr/local/sbin
mkimage=
rescue_init=
uninstall=
while [ $# -gt 0 ]; do
    case "$1" in
        --rear-dir) rear_dir=$2; shift 2 ;;
        --bindir) bindir=$2; shift 2 ;;
        --mkimage) mkimage=$2; shift 2 ;;
        --rescue-init) rescue_init=$2; shift 2 ;;
        --uninstall) uninstall=1; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

kit=$(cd "$(dirname "$0")" && pwd)
stock=$rear_dir/pack/GNU/Linux/900_create_initramfs.sh
aside=$stock.rear-stock
build=$rear_dir/build/default/985_rescue_init.sh
finalize=$rear_dir/finalize/default/990_rescue_init_handoff.sh

[ -d "$rear_dir/pack/GNU/Linux" ] || { echo "install.sh: $rear_dir is not ReaR's script tree (no pack/GNU/Linux)" >&2; exit 1; }
# The Debian package rescue-init owns the kit's files and the diversion
# there: changing them here would leave dpkg's records wrong.
if command -v dpkg-query >/dev/null 2>&1 && dpkg-query -S "$build" >/dev/null 2>&1; then
    echo "install.sh: the rescue-init package manages the kit in $rear_dir; remove the package (apt remove rescue-init) or switch the kit off in ReaR's local.conf (RESCUE_INIT_PACK=no, RESCUE_INIT_AS_INIT=no, RESCUE_INIT_KEXEC=no)" >&2
    exit 1
fi

divert_add() {
    if command -v dpkg >/dev/null 2>&1 && dpkg -S "$stock" >/dev/null 2>&1; then
        dpkg-divert --quiet --package rescue-init --rename --divert "$aside" --add "$stock"
    elif [ ! -e "$aside" ]; then
        mv "$stock" "$aside"
    fi
}

divert_remove() {
    if command -v dpkg-divert >/dev/null 2>&1 && [ "$(dpkg-divert --listpackage "$stock")" = rescue-init ]; then
        dpkg-divert --quiet --package rescue-init --rename --divert "$aside" --remove "$stock"
    elif [ -e "$aside" ]; then
        mv "$aside" "$stock"
    fi
}

if [ -n "$uninstall" ]; then
    rm -f "$build" "$finalize"
    if [ -e "$aside" ]; then
        rm -f "$stock"
        divert_remove
    fi
    echo "rescue-init kit removed from $rear_dir (binaries in $bindir left in place)"
    exit 0
fi

for pair in "mkimage:$mkimage" "rescue-init:$rescue_init"; do
    name=${pair%%:*} file=${pair#*:}
    if [ -n "$file" ]; then
        install -D -m 0755 "$file" "$bindir/$name"
    fi
done

if ! grep -q "rescue-init's ReaR kit" "$stock" 2>/dev/null; then
    divert_add
fi
[ -s "$aside" ] || { echo "install.sh: ReaR's original $aside is missing" >&2; exit 1; }
install -m 0644 "$kit/pack-initramfs.sh" "$stock"
install -m 0644 "$kit/build-rescue-init.sh" "$build"
install -m 0644 "$kit/finalize-handoff.sh" "$finalize"
echo "rescue-init kit installed into $rear_dir"
for name in mkimage rescue-init; do
    command -v "$name" >/dev/null 2>&1 || [ -x "$bindir/$name" ] ||
        echo "note: no $name in PATH or $bindir yet (make install, or install.sh --$name FILE); ReaR keeps its own behaviour for it"
done
