//! The longer texts of `--help` and the man page: what a command does and
//! the notes after its options. The options' own help is on their fields
//! in [`super::args`].

pub const ABOUT: &str = "Build newc initramfs images for rescue-init";

pub const LONG_ABOUT: &str = "\
Build newc initramfs images for rescue-init.

Images are reproducible: entries sorted by path, owner 0:0, inode numbers \
counted from 1, and every mtime 0; with $SOURCE_DATE_EPOCH set, mtimes are \
clamped to it instead (min(mtime, epoch); entries mkimage makes itself get \
the epoch), so one build date gives the same image.";

pub const AFTER_HELP: &str = "Run 'mkimage COMMAND --help' for the options of a command.";

pub const BUILD_ABOUT: &str = "Make an image around a rescue-init binary";

pub const BUILD_LONG_ABOUT: &str = "\
Make an image around a rescue-init binary.

The init binary becomes /init (mode 0755), with reboot, poweroff and halt \
in /sbin as symlinks to /init, and /sbin/modprobe too unless a --rootfs \
tree has one (the kernel runs it to load modules); /bin/rescue-init links \
to /init as well, for commands such as 'rescue-init handoff check'. Where \
the trees make /sbin, /bin, /lib or /lib64 a symlink (merged /usr: /sbin \
-> usr/sbin), these links, --bin programs, libraries, modules and firmware \
go where it leads, and a later tree's directory does not replace it.

Sources are applied in this order, a later one replacing an earlier one \
at the same path: --rootfs trees (in order), /init and its links, kernel \
modules and firmware, --file, --mknod, --bin. Then /dev, /proc, /sys, \
/run, /root (0700), /tmp (1777) and /dev/console (char 5:1, 0600) are \
added unless already there.";

pub const BUILD_AFTER: &str = "\
Programs (--bin): a dynamically linked program goes to its own path \
(/usr/sbin/parted stays /usr/sbin/parted), with its ELF interpreter and \
every library it loads, found as ld.so finds them: DT_RUNPATH (or else \
DT_RPATH) with $ORIGIN, $LIB and $PLATFORM, /etc/ld.so.conf and its \
includes, then the multiarch, lib64 and lib directories, skipping \
libraries of another ELF class or machine. The ELF files are read, never \
run. Symlinks on the way are kept (libfoo.so.1 -> libfoo.so.1.2.3 gives \
both; on a merged-/usr host, /lib -> usr/lib too), except where the image \
already has a directory. With --sysroot DIR (another architecture's tree, \
e.g. its Debian packages unpacked with dpkg-deb -x) programs, DIR's own \
ld.so.conf, interpreters and libraries are looked up inside DIR, absolute \
symlinks too, and land in the image at the paths that system gives them.

Kernel modules go to /lib/modules/VERSION at their paths, .ko.xz, .ko.zst \
and .ko.gz decompressed to .ko. VERSION is --kver, else the name of \
--modules-dir, else the running kernel's. Each comes with its dependencies \
and soft dependencies (pre: and post:), and theirs. A NAME is looked up as \
modprobe does: a module name (- and _ alike), else every module with a \
matching alias (a glob, as pci:v00008086d*), else a built-in module (only \
a note). A PATH outside the modules directory goes to extra/. What a \
module needs comes from modules.dep, modules.softdep and modules.alias \
when the directory has them, else from each module's .modinfo (Debian's \
kernel packages ship no modules.dep). A missing dependency of a --module \
is an error; with --modules all, a module whose dependency is missing is \
left out, with one warning naming each such module and why. A missing soft \
dependency is a warning. The image gets modules.dep, modules.alias, \
modules.softdep and modules.order for exactly its modules, with the \
modules.dep.bin and modules.alias.bin that kmod's modprobe reads, and \
modules.builtin and modules.builtin.modinfo whole (with their .bin \
indexes). --modules loaded reads /proc/modules.

Firmware: the files the added modules name (firmware=), looked for where \
the kernel looks: updates/VERSION/, updates/, VERSION/, then the firmware \
directory itself; as named, then .zst, then .xz. Each is stored as found, \
below /lib/firmware (compressed ones too: the kernel decompresses them if \
built with CONFIG_FW_LOADER_COMPRESS_ZSTD or _XZ). A missing file is a \
warning: drivers name firmware for all the hardware they handle.

Manifest (--config FILE): the same options in a TOML file, each key a long \
option without its dashes:

  init = \"rescue-init\"
  output = \"rescue.img\"
  rootfs = [\"rootfs\", \"/srv/tree\"]
  bin = [\"bash\", \"parted\"]
  module = [\"ext4\"]
  kver = \"6.1.0-13-amd64\"
  level = 19
  dedup = true

Repeatable options take an array of strings (or one string), flags true or \
false, level and top an integer, the sizes a string or an integer; \
relative paths are relative to the manifest's directory. Unknown keys, \
tables and values of the wrong type are errors naming the file, line and \
column. Options on the command line are applied after the manifest: a \
value there replaces the manifest's (-o, --compress, --level, --kver, \
--modules-dir, ...), a repeatable one (--rootfs, --file, --mknod, --bin, \
--module, --exclude) adds to its list, and a flag can only be turned on.
";

pub const PACK_ABOUT: &str = "Pack a directory tree as it is";

pub const PACK_LONG_ABOUT: &str = "\
Pack a directory tree as it is.

Packs everything below DIR, like 'cd DIR && find . | cpio -H newc -o | \
gzip', but reproducibly. Owners become 0:0 unless --keep-owners.";

/// How the compression is chosen and what the summary says, for build and
/// pack.
pub const OUTPUT_NOTES: &str = "\
Excluding (--exclude GLOB): a GLOB without '/' is matched against each \
entry's file name, as find's -name does ('*~' leaves out editor backups \
anywhere); a GLOB with '/' against the entry's whole path in the image \
(a leading / is optional: '/usr/share/doc/*'). '*' matches any run of \
characters, '/' included, '?' one character and '[...]' one of a class \
('[a-z]', '[!0-9]'); '\\' takes the next character literally. A \
directory left out takes its contents with it.

Sizes: the image gets a warning above the largest of these it passes: \
32 MiB - 512 bytes (a TFTP client without block-number rollover stops at \
65535 blocks of 512 bytes: PXE), 2 GiB - 1 (the x86 boot protocol's \
initrd_addr_max, below which BIOS loaders put the whole image) and 4 GiB \
- 1 (a larger file needs several ISO 9660 extents). The summary lists the \
directories (cut to 3 components) with the most data. On a terminal, \
stderr shows progress while the archive is written.

Compression: without --compress, zstd if the target kernel's config \
(--kernel-config or --kver) has CONFIG_RD_ZSTD=y, else gzip; stderr says \
which and why. A --compress whose CONFIG_RD_* the config does not enable \
gives a warning. zstd, gzip and xz run on all cores (their output does not \
depend on the number; gzip in 1 MiB blocks joined into one ordinary gzip \
member, as pigz does; xz in blocks of 3 times its dictionary), xz uses \
the CRC32 check and lz4 the legacy format, as the kernel requires. gzip \
is libdeflate's deflate: --level 6 is a little smaller than gzip -6.";

pub const LIST_ABOUT: &str = "List the entries of an image";

pub const LIST_LONG_ABOUT: &str = "\
List the entries of an image.

Prints one line per entry: type (- d l c b p s), octal mode, uid:gid, \
size (major,minor for devices), name, '-> target' for symlinks and \
'(hardlink)' for entries with more than one link. Reads uncompressed, \
zstd, gzip, xz and lz4 (legacy format) images, also several segments one \
after another, as the kernel does.";

pub const EXTRACT_ABOUT: &str = "Unpack an image into a directory (like unmkinitramfs)";

pub const EXTRACT_LONG_ABOUT: &str = "\
Unpack an image into a directory (like unmkinitramfs).

Unpacks every segment of IMAGE (as 'mkimage list' reads them) into DIR, \
made if missing, as the kernel unpacks an initramfs: later entries \
replace earlier ones at the same path, also across segments. Makes \
directories, files, symlinks, hard links (same inode within an archive), \
fifos and device nodes (these need root: without it they are skipped with \
a warning), with their modes and mtimes; owners only as root.

Nothing is written outside DIR: a leading / or ./ of a name is dropped, a \
name with a '..' component is an error, and no entry is written through a \
symlink (one the archive made or one already in DIR).";
