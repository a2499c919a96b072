//! Help texts of the command line.

pub const MAIN_HELP: &str = "\
mkimage - build newc initramfs images for rescue-init

Usage: mkimage COMMAND [ARGS...]

Commands:
  build   make an image around a rescue-init binary
  pack    pack a directory tree as it is
  list    list the entries of an image
  extract unpack an image into a directory (like unmkinitramfs)
  help    show help for a command (mkimage help COMMAND)

Options:
  -h, --help      show this help
  -V, --version   show the version

Images are reproducible: entries sorted by path, owner 0:0, inode numbers
counted from 1, and every mtime 0; with $SOURCE_DATE_EPOCH set, mtimes are
clamped to it instead (min(mtime, epoch); entries mkimage makes itself get
the epoch), so one build date gives the same image.
Run 'mkimage COMMAND --help' for the options of a command.
";

/// The output options of build and pack, so that both say the same.
macro_rules! output_options {
    () => {
        "  -o, --output FILE                  image to write (atomically, mode 0600)
      --compress METHOD              zstd, gzip, xz, lz4 or none (default below)
      --level N                      zstd 1-19 (default 3), gzip 0-9 (6),
                                     xz 0-9 (6); lz4 and none have no levels
      --kernel-config FILE           the target kernel's .config
      --kver VERSION                 the target kernel's version: reads
                                     /boot/config-VERSION (build: unless
                                     --kernel-config; it also names the modules)
      --dedup                        store identical regular files (same
                                     contents, mode, owner and mtime) once,
                                     as hard links of the first one by path
      --append-to IMAGE              write IMAGE's bytes first (zero-padded to
                                     a multiple of 4), then the new segment;
                                     -o may be IMAGE itself
      --quiet                        no summary or progress on stderr
                                     (warnings still)
      --json                         the summary as one JSON object on stdout:
                                     entries, bytes_in, bytes_out (of the new
                                     segment), ratio (bytes_out/bytes_in),
                                     seconds, compression, file_size,
                                     mb_per_s, largest ([{dir, bytes}]),
                                     warnings
      --top N                        list the N directories with the most
                                     data (default 5, 0 for none)
      --warn-image-size SIZE|none    warn above SIZE (N, NK, NM, NG) instead
                                     of the boot limits below
      --warn-file-size SIZE|none     warn about a file above SIZE (default 64M)
"
    };
}

/// How the compression is chosen, for build and pack.
macro_rules! compression_note {
    () => {
        "
Sizes: the image gets a warning above the largest of these it passes:
32 MiB - 512 bytes (a TFTP client without block-number rollover stops at
65535 blocks of 512 bytes: PXE), 2 GiB - 1 (the x86 boot protocol's
initrd_addr_max, below which BIOS loaders put the whole image) and 4 GiB
- 1 (a larger file needs several ISO 9660 extents). The summary lists the
directories (cut to 3 components) with the most data. On a terminal,
stderr shows progress while the archive is written.

Without --compress: zstd if the target kernel's config (--kernel-config or
--kver) has CONFIG_RD_ZSTD=y, else gzip; stderr says which and why. A
--compress whose CONFIG_RD_* the config does not enable gives a warning.
zstd, gzip and xz run on all cores (their output does not depend on the
number; gzip in 1 MiB blocks primed with the 32 KiB before, as pigz does,
one ordinary gzip member; xz in blocks of 3 times its dictionary), xz
uses the CRC32 check and lz4 the legacy format, as the kernel requires. gzip levels below 9 use a 4-byte match
hash (zlib-rs, like zlib-ng) and lose 1-3% to GNU gzip -6 on binaries;
--level 9 is smaller than gzip -6 there, at about three times the CPU.
"
    };
}

pub const BUILD_HELP: &str = concat!(
    "\
mkimage build - make an image around a rescue-init binary

Usage: mkimage build --init FILE -o FILE [OPTIONS]

The init binary becomes /init (mode 0755), with /sbin/reboot,
/sbin/poweroff and /sbin/halt as symlinks to /init, and /sbin/modprobe
too unless a --rootfs tree has one (the kernel runs it to load modules).
Sources are applied in this order, a later one replacing an earlier one
at the same path: --rootfs trees (in order), /init and its links, kernel
modules and firmware, --file, --mknod, --bin. Then /dev, /proc, /sys,
/run, /root (0700), /tmp (1777) and /dev/console (char 5:1, 0600) are
added unless already there.

Options:
      --config FILE                  read options from a manifest (below)
      --init FILE                    the rescue-init binary (required)
      --rootfs DIR                   overlay the contents of DIR (repeatable)
      --file SRC:DST                 copy file SRC to DST in the image (repeatable;
                                     DST ending in / keeps SRC's name)
      --mknod PATH:c|b:MAJ:MIN:MODE  add a device node, MODE in octal (repeatable)
      --bin NAME|PATH                add a program with its libraries (repeatable;
                                     a NAME without / is looked up in $PATH)
      --record-cmdline               store this host's /proc/cmdline as
                                     /etc/rescue-init/host-cmdline (the kexec
                                     handoff's last-resort command line)
      --allow-missing                only warn about a library or interpreter
                                     that is not found
      --module NAME|ALIAS|PATH       add a kernel module with all it needs
                                     (repeatable)
      --modules loaded|all|none      also add the modules the running kernel
                                     has loaded, or all of them (default none)
      --modules-dir DIR              where the modules are (default
                                     /lib/modules/VERSION)
      --firmware needed|all|none     add the firmware the modules name, the
                                     whole firmware directory, or none
                                     (default needed)
      --firmware-dir DIR             where firmware is (default /lib/firmware)
      --microcode DIR                put an uncompressed early microcode archive
                                     first: DIR/intel-ucode/* (in name order)
                                     become kernel/x86/microcode/GenuineIntel.bin,
                                     DIR/amd-ucode/*.bin AuthenticAMD.bin
                                     (Debian's /lib/firmware layout; not with
                                     --append-to)
",
    output_options!(),
    "  -h, --help                         show this help

--bin puts a dynamically linked program at its own path (/usr/sbin/parted
stays /usr/sbin/parted), with its ELF interpreter and every library it
loads, found as ld.so finds them: DT_RUNPATH (or else DT_RPATH) with
$ORIGIN, $LIB and $PLATFORM, /etc/ld.so.conf and its includes, then the
multiarch, lib64 and lib directories, skipping libraries of another ELF
class or machine. The ELF files are read, never run. Symlinks on the way
are kept (libfoo.so.1 -> libfoo.so.1.2.3 gives both; on a merged-/usr
host, /lib -> usr/lib too), except where the image already has a
directory.

Kernel modules go to /lib/modules/VERSION at their paths, .ko.xz, .ko.zst
and .ko.gz decompressed to .ko. VERSION is --kver, else the name of
--modules-dir, else the running kernel's. Each comes with its dependencies
and soft dependencies (pre: and post:), and theirs. A NAME is looked up
as modprobe does: a module name (- and _ alike), else every module with a
matching alias (a glob, as pci:v00008086d*), else a built-in module (only
a note). A PATH outside the modules directory goes to extra/. What a
module needs comes from modules.dep, modules.softdep and modules.alias
when the directory has them, else from each module's .modinfo (Debian's
kernel packages ship no modules.dep). A missing dependency is an error, a
missing soft dependency a warning. The image gets modules.dep,
modules.alias, modules.softdep and modules.order for exactly its modules,
with the modules.dep.bin and modules.alias.bin that kmod's modprobe
reads, and modules.builtin and modules.builtin.modinfo whole (with
their .bin indexes). --modules loaded reads /proc/modules.

Firmware: the files the added modules name (firmware=), looked for where
the kernel looks: updates/VERSION/, updates/, VERSION/, then the firmware
directory itself; as named, then .zst, then .xz. Each is stored as found,
below /lib/firmware (compressed ones too: the kernel decompresses them if
built with CONFIG_FW_LOADER_COMPRESS_ZSTD or _XZ). A missing file is a
warning: drivers name firmware for all the hardware they handle.
",
    "
Manifest (--config FILE): the same options in a TOML file, one
'key = value' per line, each key a long option without its dashes:
  init = \"rescue-init\"           output = \"rescue.img\"
  rootfs = [\"rootfs\", \"/srv/tree\"]   bin = [\"bash\", \"parted\"]
  module = [\"ext4\"]   kver = \"6.1.0-13-amd64\"   level = 19   dedup = true
Repeatable options take an array of strings, flags true or false, level
and top an integer; relative paths are relative to the manifest's
directory. Unknown keys, tables and other TOML are errors with the line.
Options on the command line are applied after the manifest: a value there
replaces the manifest's (-o, --compress, --level, --kver, --modules-dir,
...), a repeatable one (--rootfs, --file, --mknod, --bin, --module) adds
to its list, and a flag can only be turned on.
",
    compression_note!()
);

pub const PACK_HELP: &str = concat!(
    "\
mkimage pack - pack a directory tree as it is

Usage: mkimage pack DIR -o FILE [OPTIONS]

Packs everything below DIR, like 'cd DIR && find . | cpio -H newc -o |
gzip', but reproducibly. Owners become 0:0 unless --keep-owners.

Options:
",
    output_options!(),
    "      --keep-owners                  keep the uid and gid of the files
  -h, --help                         show this help
",
    compression_note!()
);

pub const LIST_HELP: &str = "\
mkimage list - list the entries of an image

Usage: mkimage list FILE

Prints one line per entry: type (- d l c b p s), octal mode, uid:gid,
size (major,minor for devices), name, '-> target' for symlinks and
'(hardlink)' for entries with more than one link. Reads uncompressed,
zstd, gzip, xz and lz4 (legacy format) images, also several segments one
after another, as the kernel does.

Options:
  -h, --help   show this help
";

pub const EXTRACT_HELP: &str = "\
mkimage extract - unpack an image into a directory

Usage: mkimage extract IMAGE DIR

Unpacks every segment of IMAGE (as 'mkimage list' reads them) into DIR,
made if missing, as the kernel unpacks an initramfs: later entries
replace earlier ones at the same path, also across segments. Makes
directories, files, symlinks, hard links (same inode within an archive),
fifos and device nodes (these need root: without it they are skipped with
a warning), with their modes and mtimes; owners only as root.

Nothing is written outside DIR: a leading / or ./ of a name is dropped, a
name with a '..' component is an error, and no entry is written through a
symlink (one the archive made or one already in DIR).

Options:
  -h, --help   show this help
";
