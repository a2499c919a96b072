# Installed by rescue-init's ReaR kit as build/default/985_rescue_init.sh:
# after ReaR has assembled its rescue tree and before it checks it
# (990_verify_rootfs) and records its md5sums (995).
#
# Makes rescue-init the rescue system's /init (RESCUE_INIT_AS_INIT=yes, the
# default when the binary RESCUE_INIT_BIN exists): the static binary goes to
# /bin/rescue-init, /init points to it, and reboot, halt, poweroff and
# shutdown become rescue-init's applets, so they stop processes, unmount
# cleanly and follow the kexec handoff instead of ReaR's
# `umount -a; sync; sleep 3`. ReaR's own init stays at /bin/init.

# In PATH (make install, the Debian package), else where either puts it:
# cron runs ReaR with a PATH that may lack /usr/local/sbin.
rescue_init_bin="${RESCUE_INIT_BIN:-}"
if ! test "$rescue_init_bin" ; then
    for rescue_init_bin in "$( type -P rescue-init )" /usr/sbin/rescue-init /usr/local/sbin/rescue-init ; do
        test -x "$rescue_init_bin" && break
    done
fi
if is_false "${RESCUE_INIT_AS_INIT:-yes}" ; then
    Log "rescue-init kit: RESCUE_INIT_AS_INIT is false, the rescue system keeps ReaR's init"
    return
fi
if ! test -x "$rescue_init_bin" ; then
    is_true "${RESCUE_INIT_AS_INIT:-}" && Error "rescue-init kit: RESCUE_INIT_AS_INIT=yes but $rescue_init_bin is missing"
    LogPrint "rescue-init kit: no $rescue_init_bin, the rescue system keeps ReaR's init"
    return
fi

cp $v -L "$rescue_init_bin" "$ROOTFS_DIR/bin/rescue-init" || Error "rescue-init kit: cannot copy $rescue_init_bin"
chmod 0755 "$ROOTFS_DIR/bin/rescue-init"
ln -sfn bin/rescue-init "$ROOTFS_DIR/init" || Error "rescue-init kit: cannot make /init point to rescue-init"
for rescue_init_applet in reboot halt poweroff shutdown ; do
    rm -f "$ROOTFS_DIR/bin/$rescue_init_applet"
    ln -s rescue-init "$ROOTFS_DIR/bin/$rescue_init_applet"
done
# ReaR's 40-start-udev-or-load-modules.sh waits up to 10 s for a
# systemd-udevd and then 4 s more for udev to settle. Under rescue-init
# without a udevd, its coldplug has already loaded the drivers for every
# device and answers the kernel's module requests, so the kit's wrapper
# does only the script's remaining work (/etc/modules, dm-mod). With a
# udevd running, or under ReaR's own init, ReaR's script runs unchanged.
rescue_init_udev_script="$ROOTFS_DIR/etc/scripts/system-setup.d/40-start-udev-or-load-modules.sh"
if ! is_false "${RESCUE_INIT_SKIP_UDEV_WAIT:-yes}" && test -s "$rescue_init_udev_script" ; then
    mv "$rescue_init_udev_script" "$rescue_init_udev_script.rear-stock"
    cat > "$rescue_init_udev_script" <<'EOT'
# rescue-init kit: ReaR's original is 40-start-udev-or-load-modules.sh.rear-stock
if [[ "$( readlink /proc/1/exe )" == */rescue-init ]] && ! pidof systemd-udevd udevd &>/dev/null ; then
    echo "rescue-init has loaded the drivers for all devices; no udev to wait for"
    if test -s /etc/modules ; then
        while read module options ; do
            case "$module" in
                (\#*|"") ;;
                (*) modprobe -v $module $options ;;
            esac
        done </etc/modules
    fi
    modprobe -q dm-mod
else
    source /etc/scripts/system-setup.d/40-start-udev-or-load-modules.sh.rear-stock
fi
EOT
fi

# The original system's kernel command line: the kexec after 'rear recover'
# uses it when the recovered system's boot entries do not say.
mkdir -p "$ROOTFS_DIR/etc/rescue-init"
cat /proc/cmdline > "$ROOTFS_DIR/etc/rescue-init/host-cmdline"
LogPrint "rescue-init kit: /init is rescue-init (from $rescue_init_bin)"
