//! Help texts of the command line.

pub const MAIN_HELP: &str = "\
mkimage - build newc initramfs images for rescue-init

Usage: mkimage COMMAND [ARGS...]

Commands:
  build   make an image around a rescue-init binary
  pack    pack a directory tree as it is
  list    list the entries of an image
  help    show help for a command (mkimage help COMMAND)

Options:
  -h, --help      show this help
  -V, --version   show the version

Images are reproducible: entries sorted by path, owner 0:0, inode numbers
counted from 1, and every mtime set to $SOURCE_DATE_EPOCH (0 if unset).
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
                                     /boot/config-VERSION
"
    };
}

/// How the compression is chosen, for build and pack.
macro_rules! compression_note {
    () => {
        "
Without --compress: zstd if the target kernel's config (--kernel-config or
--kver) has CONFIG_RD_ZSTD=y, else gzip; stderr says which and why. A
--compress whose CONFIG_RD_* the config does not enable gives a warning.
zstd runs on all cores (its output does not depend on their number), xz
uses the CRC32 check and lz4 the legacy format, as the kernel requires.
"
    };
}

pub const BUILD_HELP: &str = concat!(
    "\
mkimage build - make an image around a rescue-init binary

Usage: mkimage build --init FILE -o FILE [OPTIONS]

The init binary becomes /init (mode 0755), with /sbin/reboot,
/sbin/poweroff and /sbin/halt as symlinks to /init. Sources are applied
in this order, a later one replacing an earlier one at the same path:
--rootfs trees (in order), /init and its links, --file, --mknod, --bin.
Then /dev, /proc, /sys, /run, /root (0700), /tmp (1777) and /dev/console
(char 5:1, 0600) are added unless already there.

Options:
      --init FILE                    the rescue-init binary (required)
      --rootfs DIR                   overlay the contents of DIR (repeatable)
      --file SRC:DST                 copy file SRC to DST in the image (repeatable;
                                     DST ending in / keeps SRC's name)
      --mknod PATH:c|b:MAJ:MIN:MODE  add a device node, MODE in octal (repeatable)
      --bin NAME|PATH                add a program with its libraries (repeatable;
                                     a NAME without / is looked up in $PATH)
      --allow-missing                only warn about a library or interpreter
                                     that is not found
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
