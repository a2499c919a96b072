# Installed by rescue-init's ReaR kit as finalize/default/990_rescue_init_handoff.sh:
# the last step of 'rear recover', after the boot loader is installed.
#
# When rescue-init is PID 1 of the rescue system, writes its handoff file so
# that the next 'reboot' kexecs straight into the recovered system under
# $TARGET_FS_ROOT instead of going through the firmware. The kernel, initrd
# and command line are read from the recovered system's boot entries when
# the reboot happens. RESCUE_INIT_KEXEC=no keeps the firmware reboot.

is_false "${RESCUE_INIT_KEXEC:-yes}" && return
case "$( readlink /proc/1/exe )" in (*/rescue-init) ;; (*) return 0 ;; esac

rescue_init_handoff="${RESCUE_INIT_HANDOFF:-/run/rescue-init/handoff}"
mkdir -p "$( dirname "$rescue_init_handoff" )"
cat > "$rescue_init_handoff" <<EOT
# Written by ReaR's finalize stage (rescue-init kit) on $( date -Iseconds ):
# 'reboot' kexecs into the system recovered under $TARGET_FS_ROOT.
ROOT=$TARGET_FS_ROOT
FALLBACK=reboot
EOT
if rescue-init handoff check "$rescue_init_handoff" 1>&2 ; then
    # Load the kernel now, while ReaR still finishes (and, unattended,
    # counts down to its reboot): the reboot then only checks that the
    # plan is unchanged instead of loading it on its critical path.
    rescue-init handoff load "$rescue_init_handoff" 1>&2 || LogPrint "rescue-init: loading the kernel ahead failed; 'reboot' will load it"
    LogPrint "rescue-init: 'reboot' will kexec into the recovered system ('reboot --firmware' goes through the firmware)"
else
    LogPrintError "rescue-init: the recovered system cannot be kexec'd (see above); 'reboot' will go through the firmware"
fi
