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
# Waits of ReaR's setup for what rescue-init has already done; each is
# replaced only under rescue-init (ReaR's own init keeps them all), and
# RESCUE_INIT_SKIP_WAITS=no (or the older RESCUE_INIT_SKIP_UDEV_WAIT=no)
# keeps ReaR's scripts as they are. README.md lists them and why.
rescue_init_setup="$ROOTFS_DIR/etc/scripts/system-setup"
rescue_init_udev_script="$ROOTFS_DIR/etc/scripts/system-setup.d/40-start-udev-or-load-modules.sh"
if ! is_false "${RESCUE_INIT_SKIP_WAITS:-yes}" && ! is_false "${RESCUE_INIT_SKIP_UDEV_WAIT:-yes}" ; then
    # 40-start-udev-or-load-modules.sh: when rescue-init brought the
    # devices up and they settled (with udev or its own coldplug), only the
    # script's remaining work: /etc/modules and dm-mod.
    if test -s "$rescue_init_udev_script" ; then
        mv "$rescue_init_udev_script" "$rescue_init_udev_script.rear-stock"
        cat > "$rescue_init_udev_script" <<'EOT'
# rescue-init kit: ReaR's original is 40-start-udev-or-load-modules.sh.rear-stock
if [[ "$( readlink /proc/1/exe )" == */rescue-init ]] && { test -e /run/rescue-init/devices-settled || ! pidof systemd-udevd udevd &>/dev/null ; } ; then
    echo "rescue-init has brought up and settled all devices: $( cat /run/rescue-init/devices-settled 2>/dev/null )"
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
    # system-setup: `sleep 1` before anything (output lost under systemd)
    # and `sleep 2` after "ready" (before a getty clears the screen);
    # rescue-init writes the console itself and clears nothing.
    sed -i -e 's/^sleep \([12]\)$/[[ "$( readlink \/proc\/1\/exe )" == *\/rescue-init ]] || sleep \1/' "$rescue_init_setup"
    # ReaR's udev rule runs `rear udev` (by default `rear mkrescue` onto the
    # disk) when a disk labelled REAR-000 appears: useless in the rescue
    # system, where it holds udev's queue for about 10 s at every boot with
    # the backup disk attached.
    find "$ROOTFS_DIR/etc/udev/rules.d" "$ROOTFS_DIR/lib/udev/rules.d" "$ROOTFS_DIR/usr/lib/udev/rules.d" -name '*-rear.rules' -exec grep -l 'rear udev' {} + 2>/dev/null | xargs -r rm -f
fi
# The timeline (rescue-init analyze) gets a row for each setup script.
sed -i -e 's/^\(\s*\)source \$system_setup_script$/\1rescue-init analyze mark rear-setup "$( basename $system_setup_script )" 2>\/dev\/null ; source $system_setup_script/' "$rescue_init_setup"

# The watchdog armed through the kexec (rescue.kexec-watchdog) must not be
# stopped by its driver at the kexec: in the rescue system udev loads
# drivers with kmod's modprobe, which does not know rescue-init's built-in
# module option, so it is written where kmod reads it.
mkdir -p "$ROOTFS_DIR/etc/modprobe.d"
echo "options watchdog stop_on_reboot=0" > "$ROOTFS_DIR/etc/modprobe.d/rescue-init-watchdog.conf"

# The original system's kernel command line: the kexec after 'rear recover'
# uses it when the recovered system's boot entries do not say.
mkdir -p "$ROOTFS_DIR/etc/rescue-init"
cat /proc/cmdline > "$ROOTFS_DIR/etc/rescue-init/host-cmdline"
LogPrint "rescue-init kit: /init is rescue-init (from $rescue_init_bin)"
