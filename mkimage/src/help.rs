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

pub const BUILD_HELP: &str = "\
mkimage build - make an image around a rescue-init binary

Usage: mkimage build --init FILE -o FILE [OPTIONS]

The init binary becomes /init (mode 0755), with /sbin/reboot,
/sbin/poweroff and /sbin/halt as symlinks to /init. Sources are applied
in this order, a later one replacing an earlier one at the same path:
--rootfs trees (in order), /init and its links, --file, --mknod. Then
/dev, /proc, /sys, /run, /root (0700), /tmp (1777) and /dev/console
(char 5:1, 0600) are added unless already there.

Options:
      --init FILE                    the rescue-init binary (required)
      --rootfs DIR                   overlay the contents of DIR (repeatable)
      --file SRC:DST                 copy file SRC to DST in the image (repeatable;
                                     DST ending in / keeps SRC's name)
      --mknod PATH:c|b:MAJ:MIN:MODE  add a device node, MODE in octal (repeatable)
  -o, --output FILE                  image to write (atomically, mode 0600)
      --compress METHOD              gzip (default) or none
      --level N                      compression level (gzip: 0-9, default 6)
  -h, --help                         show this help
";

pub const PACK_HELP: &str = "\
mkimage pack - pack a directory tree as it is

Usage: mkimage pack DIR -o FILE [OPTIONS]

Packs everything below DIR, like 'cd DIR && find . | cpio -H newc -o |
gzip', but reproducibly. Owners become 0:0 unless --keep-owners.

Options:
  -o, --output FILE      image to write (atomically, mode 0600)
      --compress METHOD  gzip (default) or none
      --level N          compression level (gzip: 0-9, default 6)
      --keep-owners      keep the uid and gid of the files
  -h, --help             show this help
";

pub const LIST_HELP: &str = "\
mkimage list - list the entries of an image

Usage: mkimage list FILE

Prints one line per entry: type (- d l c b p s), octal mode, uid:gid,
size (major,minor for devices), name, '-> target' for symlinks and
'(hardlink)' for entries with more than one link. Reads gzip and
uncompressed images, also several segments one after another.

Options:
  -h, --help   show this help
";
