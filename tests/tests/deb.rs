//! The Debian package (`make deb`) in a throwaway Debian 12 made with
//! mmdebstrap, never on the host: lintian has only the tags we justify;
//! `apt install ./rescue-init_*.deb` enables the ReaR kit (`rear mkrescue`
//! packs with mkimage, rescue-init is /init); `apt remove` puts ReaR back
//! exactly (no diversion, its file byte for byte, `dpkg --verify rear`
//! clean) and `rear mkrescue` is stock again; `apt purge` leaves none of
//! the package's files; and with ReaR installed after the package, or not
//! at all, the same holds. Needs root, mmdebstrap, lintian and the network
//! (Debian's mirror); `make test-deb` builds the package first.

use anyhow::{ensure, Context, Result};
use rescue_tests::chroot::Chroot;
use rescue_tests::{have, is_root, paths, rear, skip, Kernel};
use std::path::{Path, PathBuf};
use std::process::Command;

const SUITE: &str = "bookworm";
/// ReaR's pack script, which the package diverts and replaces.
const PACK: &str = "/usr/share/rear/pack/GNU/Linux/900_create_initramfs.sh";
const ASIDE: &str = "/usr/share/rear/pack/GNU/Linux/900_create_initramfs.sh.rear-stock";
const KIT_MARK: &str = "rescue-init's ReaR kit";
/// lintian tags we leave, each with its reason (also in contrib/debian/).
const JUSTIFIED: &[(&str, &str)] = &[
    ("hardening-no-fortify-functions", "info: mkimage is Rust; only the vendored zstd/xz C code could use fortified libc calls"),
    ("executable-in-usr-lib", "experimental: /usr/lib/PACKAGE for a program people do not run first is allowed by policy 9.1.1"),
];

fn deb() -> Result<PathBuf> {
    let cargo = std::fs::read_to_string(paths::workspace_root().join("Cargo.toml"))?;
    let version = cargo
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .context("no version in Cargo.toml")?;
    let deb = paths::target_dir().join(format!("rescue-init_{version}_amd64.deb"));
    ensure!(
        deb.is_file(),
        "{} is missing: run `make deb` (or `make test-deb`)",
        deb.display()
    );
    Ok(deb)
}

fn cannot_run() -> Option<String> {
    if !is_root() {
        return Some("the Debian package test needs root (mmdebstrap, chroot)".into());
    }
    ["mmdebstrap", "lintian", "dpkg-deb"]
        .iter()
        .find(|p| !have(p))
        .map(|p| format!("{p} is not installed (apt-get install mmdebstrap lintian dpkg-dev)"))
}

#[test]
fn deb_enables_the_kit_and_removes_without_a_trace() -> Result<()> {
    if let Some(why) = cannot_run() {
        if skip(why) {
            return Ok(());
        }
    }
    let deb = deb()?;
    lintian(&deb)?;
    let kernel = Kernel::get()?;
    let release = kernel
        .release
        .clone()
        .context("the test kernel has no release")?;
    eprintln!("deb test: mmdebstrap {SUITE} with rear");
    let c = Chroot::create(
        &paths::target_subdir("deb-test")?.join("chroot"),
        SUITE,
        &["rear", "kmod", "cpio", "file", "mount", "procps", "less"],
    )?;
    let stock = std::fs::read(c.path(PACK)).context("ReaR's pack script in the chroot")?;
    ensure!(
        c.run("dpkg --verify rear")?.is_empty(),
        "a fresh rear does not verify"
    );
    setup_rear(&c, &kernel, &release)?;
    let inside = format!("/tmp/{}", deb.file_name().unwrap().to_string_lossy());
    std::fs::copy(&deb, c.path(&inside))?;

    eprintln!("deb test: apt install ./rescue-init.deb, rear mkrescue with the kit");
    c.run(&format!("apt-get install -y {inside}"))?;
    kit_enabled(&c, &stock)?;
    let files: Vec<String> = c
        .run("dpkg -L rescue-init")?
        .lines()
        .map(str::to_string)
        .collect();
    ensure!(
        files.iter().any(|f| f == PACK) && files.iter().any(|f| f == "/usr/bin/mkimage"),
        "dpkg -L rescue-init: {files:?}"
    );
    mkrescue(&c, true)?;

    eprintln!("deb test: apt remove, rear mkrescue stock");
    c.run("apt-get remove -y rescue-init")?;
    rear_as_before(&c, &stock)?;
    mkrescue(&c, false)?;

    eprintln!("deb test: apt purge");
    c.run("apt-get purge -y rescue-init")?;
    nothing_left(&c, &files)?;
    rear_as_before(&c, &stock)?;

    eprintln!("deb test: without rear, then rear installed after the package");
    c.run("dpkg --purge rear")?;
    c.run(&format!("apt-get install -y {inside}"))?;
    ensure!(!c.path(ASIDE).exists(), "{ASIDE} exists without rear");
    ensure!(
        std::fs::read_to_string(c.path(PACK))?.contains(KIT_MARK),
        "without rear, {PACK} is not the kit's"
    );
    c.run("dpkg -i /var/cache/apt/archives/rear_*.deb")?;
    kit_enabled(&c, &stock)?;
    mkrescue(&c, true)?;
    c.run("apt-get purge -y rescue-init")?;
    nothing_left(&c, &files)?;
    rear_as_before(&c, &stock)
}

/// `lintian` finds nothing but the JUSTIFIED tags.
fn lintian(deb: &Path) -> Result<()> {
    let out = Command::new("lintian")
        .args(["-I", "--pedantic", "--display-experimental"])
        .arg(deb)
        .output()
        .context("running lintian")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let unexplained: Vec<&str> = text
        .lines()
        .filter(|l| l.len() > 2 && &l[1..3] == ": " && !l.starts_with("N:"))
        .filter(|l| {
            !JUSTIFIED
                .iter()
                .any(|(tag, _)| l.split_whitespace().nth(2) == Some(tag))
        })
        .collect();
    ensure!(
        unexplained.is_empty(),
        "lintian {}:\n{}",
        deb.display(),
        unexplained.join("\n")
    );
    Ok(())
}

/// A test kernel and its modules where ReaR looks, and a configuration
/// (site.conf: local.conf is a conffile `dpkg --verify rear` checks); the
/// same for the kit and for stock ReaR (stock gzip ignores `zstd`).
fn setup_rear(c: &Chroot, kernel: &Kernel, release: &str) -> Result<()> {
    std::fs::copy(&kernel.vmlinuz, c.path(&format!("/boot/vmlinuz-{release}")))?;
    rear::modules_tree(kernel, release, &c.path("/lib/modules"))?;
    let conf = format!(
        "OUTPUT=RAMDISK\nOUTPUT_URL=file:///var/tmp/rear-out\nBACKUP=REQUESTRESTORE\nBOOTLOADER=GRUB2\n\
         KERNEL_FILE=/boot/vmlinuz-{release}\nKERNEL_VERSION={release}\nFIRMWARE_FILES=( 'no' )\nREAR_INITRD_COMPRESSION=zstd\n"
    );
    std::fs::write(c.path("/etc/rear/site.conf"), conf)?;
    Ok(())
}

fn diversions(c: &Chroot) -> Result<Vec<String>> {
    Ok(c.run("dpkg-divert --list")?
        .lines()
        .filter(|l| l.to_lowercase().contains("rear"))
        .map(str::to_string)
        .collect())
}

/// The package is installed and the kit enabled: ReaR's script diverted
/// aside unchanged, the kit's in its place, both packages verify.
fn kit_enabled(c: &Chroot, stock: &[u8]) -> Result<()> {
    let want = format!("diversion of {PACK} to {ASIDE} by rescue-init");
    ensure!(
        diversions(c)? == [want.clone()],
        "dpkg-divert --list: want only {want:?}, got {:?}",
        diversions(c)?
    );
    ensure!(
        std::fs::read(c.path(ASIDE))? == stock,
        "{ASIDE} is not ReaR's script"
    );
    ensure!(
        std::fs::read_to_string(c.path(PACK))?.contains(KIT_MARK),
        "{PACK} is not the kit's"
    );
    for pkg in ["rescue-init", "rear"] {
        let out = c.run(&format!("dpkg --verify {pkg}"))?;
        ensure!(out.is_empty(), "dpkg --verify {pkg}:\n{out}");
    }
    Ok(())
}

/// ReaR exactly as its package installed it.
fn rear_as_before(c: &Chroot, stock: &[u8]) -> Result<()> {
    ensure!(
        diversions(c)?.is_empty(),
        "diversions left: {:?}",
        diversions(c)?
    );
    ensure!(
        std::fs::read(c.path(PACK))? == stock,
        "{PACK} is not ReaR's own script"
    );
    ensure!(!c.path(ASIDE).exists(), "{ASIDE} is left");
    let out = c.run("dpkg --verify rear")?;
    ensure!(out.is_empty(), "dpkg --verify rear:\n{out}");
    Ok(())
}

/// After purge: not even dpkg's records, and of the paths `dpkg -L`
/// listed only those another package owns (directories, ReaR's script).
fn nothing_left(c: &Chroot, files: &[String]) -> Result<()> {
    let status = c.output("dpkg-query -W -f '${Status}' rescue-init")?;
    ensure!(
        !status.status.success()
            || String::from_utf8_lossy(&status.stdout).contains("not-installed"),
        "rescue-init is still known to dpkg"
    );
    let mut left = Vec::new();
    for f in files
        .iter()
        .filter(|f| f.starts_with('/') && f.as_str() != "/.")
    {
        let p = c.path(f);
        if (p.is_symlink() || p.exists())
            && !c.output(&format!("dpkg-query -S '{f}'"))?.status.success()
        {
            left.push(f.clone());
        }
    }
    let info = c.path("/var/lib/dpkg/info");
    left.extend(
        std::fs::read_dir(&info)?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("rescue-init.")),
    );
    ensure!(left.is_empty(), "apt purge left: {left:?}");
    Ok(())
}

/// `rear mkrescue` in the chroot: with the kit, a zstd initrd by mkimage
/// with rescue-init as /init; stock, ReaR's gzip initrd and init.
fn mkrescue(c: &Chroot, kit: bool) -> Result<()> {
    let log =
        c.run("rm -rf /var/tmp/rear-out; rear mkrescue && cat /var/log/rear/rear-$(uname -n).log")?;
    let initrd = c.run("ls /var/tmp/rear-out/*/initramfs-*")?;
    let initrd = c.path(initrd.trim());
    let bytes = std::fs::read(&initrd)?;
    let list = Command::new(paths::mkimage()?)
        .arg("list")
        .arg(&initrd)
        .output()?;
    let list = String::from_utf8_lossy(&list.stdout);
    let has = |w: &str| list.lines().any(|l| l.contains(w));
    if kit {
        ensure!(
            log.contains("with mkimage (--compress zstd --level 9 --dedup)"),
            "the kit did not pack with mkimage:\n{log}"
        );
        ensure!(
            bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) && has("init -> bin/rescue-init"),
            "the kit's initrd is not zstd with rescue-init as /init:\n{list}"
        );
    } else {
        ensure!(
            log.contains("with gzip default compression") && bytes.starts_with(&[0x1f, 0x8b]),
            "stock ReaR did not pack with gzip:\n{log}"
        );
        ensure!(
            has("init -> bin/init") && !has("bin/rescue-init"),
            "the stock initrd's /init is not ReaR's:\n{list}"
        );
    }
    Ok(())
}
