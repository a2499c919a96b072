# Installed by rescue-init's ReaR kit (contrib/rear/install.sh) in place of
# ReaR's pack/GNU/Linux/900_create_initramfs.sh, which the installer keeps
# beside it as 900_create_initramfs.sh.rear-stock (not *.sh, so ReaR does
# not source it by itself).
#
# Packs the rescue tree with `mkimage pack` instead of find|cpio|gzip:
# sorted, reproducible, multi-threaded. REAR_INITRD_COMPRESSION keeps its
# meaning: default and 'fast'/'best' gzip (-6/-1/-9), 'lzma' (as xz with the
# CRC32 check the kernel needs, file initrd.xz as before), 'lz4', plus
# 'zstd' (initrd.zst). With RESCUE_INIT_PACK=no, or when mkimage cannot be
# found, ReaR's own script runs unchanged.

rescue_init_stock_pack="$SHARE_DIR/pack/GNU/Linux/900_create_initramfs.sh.rear-stock"
rescue_init_mkimage="${RESCUE_INIT_MKIMAGE:-}"
if ! test "$rescue_init_mkimage" ; then
    # u-boot-tools has a /usr/bin/mkimage too: only ours has `pack`.
    for rescue_init_mkimage in "$( type -P mkimage )" /usr/bin/mkimage /usr/local/bin/mkimage "" ; do
        test -x "$rescue_init_mkimage" && "$rescue_init_mkimage" pack --help >/dev/null 2>&1 && break
    done
fi

if is_false "${RESCUE_INIT_PACK:-yes}" || ! test -x "$rescue_init_mkimage" ; then
    is_false "${RESCUE_INIT_PACK:-yes}" || LogPrint "rescue-init kit: no mkimage found (RESCUE_INIT_MKIMAGE='${RESCUE_INIT_MKIMAGE:-}'), packing with ReaR's own find|cpio"
    test -s "$rescue_init_stock_pack" || Error "rescue-init kit: ReaR's original pack script $rescue_init_stock_pack is missing (reinstall the kit or ReaR)"
    source "$rescue_init_stock_pack"
    return
fi

case "$REAR_INITRD_COMPRESSION" in
    (lz4)  REAR_INITRD_FILENAME="initrd.lz4" ; rescue_init_compress=( --compress lz4 ) ;;
    (lzma) REAR_INITRD_FILENAME="initrd.xz"  ; rescue_init_compress=( --compress xz --level 6 ) ;;
    # Level 9 and identical files stored once: 0.74x the size of ReaR's gzip
    # in 0.28x its time on a Debian 12 server's tree (make bench-rear).
    (zstd) REAR_INITRD_FILENAME="initrd.zst" ; rescue_init_compress=( --compress zstd --level 9 --dedup ) ;;
    (fast) REAR_INITRD_FILENAME="initrd.cgz" ; rescue_init_compress=( --compress gzip --level 1 ) ;;
    (best) REAR_INITRD_FILENAME="initrd.cgz" ; rescue_init_compress=( --compress gzip --level 9 ) ;;
    (*)    REAR_INITRD_FILENAME="initrd.cgz" ; rescue_init_compress=( --compress gzip --level 6 ) ;;
esac
if [[ "$ZVM_NAMING" == "Y" && "$ARCH" == "Linux-s390" ]] ; then
    REAR_INITRD_FILENAME="$( vmcp q userid | awk '{ print $1 }' ).initrd"
fi

LogPrint "Creating recovery/rescue system initramfs/initrd $REAR_INITRD_FILENAME with mkimage (${rescue_init_compress[*]})"
start_seconds=$( date +%s )
# --keep-owners: as cpio does, files keep their owners (service accounts'
# files in the rescue tree). Unlike ReaR's find, editor backups (*~) are
# packed too: mkimage packs the tree as it is.
if "$rescue_init_mkimage" pack "$ROOTFS_DIR" -o "$TMP_DIR/$REAR_INITRD_FILENAME" --keep-owners "${rescue_init_compress[@]}" 1>&2 ; then
    LogPrint "Created $REAR_INITRD_FILENAME with mkimage ($( stat -c%s "$TMP_DIR/$REAR_INITRD_FILENAME" ) bytes) in $(( $( date +%s ) - start_seconds )) seconds"
else
    Error "mkimage failed to create recovery/rescue system $REAR_INITRD_FILENAME (RESCUE_INIT_PACK=no packs with ReaR's own find|cpio)"
fi
# The initrd can contain secrets: only root may read it (ReaR issue 3122).
chmod 0600 "$TMP_DIR/$REAR_INITRD_FILENAME"
