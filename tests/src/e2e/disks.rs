//! The server's disk, checked from the host once the VM is gone: every
//! filesystem on it, in partitions and in LVM logical volumes, must be
//! clean. The host has no device-mapper and no partition nodes, so each
//! filesystem gets a read-only loop device at its offset: partitions from
//! the partition table (`sfdisk --json`), logical volumes from LVM's own
//! metadata (`lvs` reads it without activating anything; only linear
//! volumes of one segment, as the installer and ReaR make them).

use crate::fsck::assert_ext4_clean;
use crate::kernel::run;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

const SECTOR: u64 = 512;

/// A read-only loop device over part of an image, detached on drop.
struct Loop(PathBuf);

impl Loop {
    fn new(img: &Path, offset: u64, size: u64) -> Result<Loop> {
        let out = run(Command::new("losetup")
            .args([
                "--find",
                "--show",
                "--read-only",
                "--offset",
                &offset.to_string(),
                "--sizelimit",
                &size.to_string(),
            ])
            .arg(img))
        .context("losetup (is the loop module there?)")?;
        Ok(Loop(PathBuf::from(out.trim())))
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").arg("-d").arg(&self.0).status();
    }
}

/// A filesystem (or swap) found on the disk.
#[derive(Debug)]
pub struct Volume {
    /// `vda1`, `server-vg/root`.
    pub name: String,
    pub offset: u64,
    pub size: u64,
}

/// Every partition and logical volume of the raw disk image `img`.
pub fn volumes(img: &Path) -> Result<Vec<Volume>> {
    let json = run(Command::new("sfdisk").arg("--json").arg(img))
        .context("reading the partition table")?;
    let mut out = Vec::new();
    for (n, start, size, kind) in partitions(&json)? {
        let (offset, size) = (start * SECTOR, size * SECTOR);
        if kind == "8e" {
            out.extend(logical_volumes(img, offset, size)?);
        } else {
            out.push(Volume {
                name: format!("vda{n}"),
                offset,
                size,
            });
        }
    }
    Ok(out)
}

/// (number, start sector, sectors, type) of each partition.
fn partitions(json: &str) -> Result<Vec<(usize, u64, u64, String)>> {
    let v: serde_json::Value = serde_json::from_str(json).context("sfdisk's JSON")?;
    let parts = v["partitiontable"]["partitions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if parts.is_empty() {
        bail!("no partitions in:\n{json}");
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let num = |k: &str| {
                p[k].as_u64()
                    .with_context(|| format!("partition {} without {k}", i + 1))
            };
            Ok((
                i + 1,
                num("start")?,
                num("size")?,
                p["type"].as_str().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// The logical volumes in the PV at `offset`.
fn logical_volumes(img: &Path, offset: u64, size: u64) -> Result<Vec<Volume>> {
    let pv = Loop::new(img, offset, size)?;
    let dev = pv.0.display().to_string();
    // Read-only questions: no locking, no hints or archives written.
    let config = "devices{use_devicesfile=0 hints=\"none\"} global{use_lvmetad=0} backup{backup=0 archive=0}";
    let lvm = |args: &[&str]| -> Result<String> {
        run(Command::new(args[0])
            .args(&args[1..])
            .args([
                "--devices",
                &dev,
                "--nolocking",
                "--config",
                config,
                "--noheadings",
                "--units",
                "b",
                "--nosuffix",
                "--separator",
                "|",
            ])
            .env("LVM_SUPPRESS_FD_WARNINGS", "1"))
    };
    let pe_start: u64 = lvm(&["pvs", "-o", "pe_start"])?
        .trim()
        .parse()
        .context("pvs pe_start")?;
    let rows = lvm(&[
        "lvs",
        "--segments",
        "-o",
        "vg_name,lv_name,seg_pe_ranges,vg_extent_size,seg_size",
    ])?;
    let mut out = Vec::new();
    for row in rows.lines().map(str::trim).filter(|r| !r.is_empty()) {
        let f: Vec<&str> = row.split('|').collect();
        let [vg, lv, ranges, extent, seg_size] = f[..] else {
            bail!("lvs row {row:?}")
        };
        if out.iter().any(|v: &Volume| v.name == format!("{vg}/{lv}")) {
            bail!("{vg}/{lv} has several segments: not a layout these checks read");
        }
        let first: u64 = ranges
            .rsplit(':')
            .next()
            .and_then(|r| r.split('-').next())
            .context("seg_pe_ranges")?
            .parse()?;
        let extent: u64 = extent.parse()?;
        out.push(Volume {
            name: format!("{vg}/{lv}"),
            offset: offset + pe_start + first * extent,
            size: seg_size.parse()?,
        });
    }
    Ok(out)
}

/// What a volume holds, by its signature (`blkid -p` on its loop device).
fn kind(dev: &Path) -> String {
    let out = Command::new("blkid")
        .args(["-p", "-s", "TYPE", "-o", "value"])
        .arg(dev)
        .output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Checks every ext4 filesystem on `img`; swap is recognised and skipped.
/// Returns one line per volume.
pub fn assert_all_clean(img: &Path) -> Result<Vec<String>> {
    let mut report = Vec::new();
    for v in volumes(img)? {
        let dev = Loop::new(img, v.offset, v.size)?;
        match kind(&dev.0).as_str() {
            "ext4" => {
                assert_ext4_clean(&dev.0)
                    .with_context(|| format!("{} (in {})", v.name, img.display()))?;
                report.push(format!("{}: ext4, clean", v.name));
            }
            "swap" => report.push(format!("{}: swap", v.name)),
            other => bail!(
                "{} in {}: unexpected content {other:?}",
                v.name,
                img.display()
            ),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sfdisk_json() {
        let json = r#"{"partitiontable": {"label": "dos", "unit": "sectors", "partitions": [
            {"node": "server.img1", "start": 2048, "size": 1048576, "type": "83", "bootable": true},
            {"node": "server.img2", "start": 1050624, "size": 15726592, "type": "8e"}]}}"#;
        let p = partitions(json).unwrap();
        assert_eq!(
            p,
            vec![
                (1, 2048, 1048576, "83".to_string()),
                (2, 1050624, 15726592, "8e".to_string())
            ]
        );
        assert!(partitions("{}").is_err());
    }
}
