//! Several segments: `--append-to` and `--microcode`; and the summary
//! options `--quiet` and `--json`.

mod common;

use common::*;
use std::fs;

#[test]
fn append_to_an_existing_gzip_image() {
    let s = Scratch::new("append");
    s.file("t1/a", b"first", 0o644);
    s.file("t2/b", b"second!", 0o644);
    let img = s.path("img");
    let (t1, t2) = (s.path("t1"), s.path("t2"));
    mkimage_ok(["pack", t1.to_str().unwrap(), "-o", img.to_str().unwrap()]);
    let old = fs::read(&img).unwrap();
    let i = img.to_str().unwrap();
    mkimage_ok([
        "pack",
        t2.to_str().unwrap(),
        "-o",
        i,
        "--append-to",
        i,
        "--compress",
        "zstd",
    ]);
    let new = fs::read(&img).unwrap();
    assert_eq!(new[..old.len()], old[..]);
    let pad = (4 - old.len() % 4) % 4;
    assert!(new[old.len()..old.len() + pad].iter().all(|&b| b == 0));
    assert_eq!(
        new[old.len() + pad..old.len() + pad + 4],
        [0x28, 0xb5, 0x2f, 0xfd]
    );
    let out = mkimage(["list", i]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 entries in 2 segment(s): gzip, zstd"),
        "{}",
        stderr(&out)
    );
    let x = s.path("x");
    mkimage_ok(["extract", i, x.to_str().unwrap()]);
    assert_eq!(s.names_in("x"), ["a", "b"]);
    let missing = mkimage([
        "pack",
        t2.to_str().unwrap(),
        "-o",
        i,
        "--append-to",
        "/nonexistent/img",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("/nonexistent/img"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn microcode_comes_first_uncompressed() {
    let s = Scratch::new("ucode");
    s.file("fw/intel-ucode/06-02-01", b"INTEL2", 0o644);
    s.file("fw/intel-ucode/06-01-01", b"INTEL1", 0o644);
    s.file("fw/amd-ucode/microcode_amd.bin", b"AMD1", 0o644);
    s.file("fw/amd-ucode/microcode_amd_fam17h.bin", b"AMD2", 0o644);
    s.file("fw/amd-ucode/README", b"not microcode", 0o644);
    let init = s.file("init", b"init", 0o755);
    let img = s.path("img");
    let i = img.to_str().unwrap();
    let fw = s.path("fw");
    mkimage_ok([
        "build",
        "--init",
        init.to_str().unwrap(),
        "-o",
        i,
        "--microcode",
        fw.to_str().unwrap(),
    ]);
    let data = fs::read(&img).unwrap();
    assert!(data.starts_with(b"070701"));
    let out = mkimage(["list", i]);
    assert!(
        stderr(&out).contains("segment(s): uncompressed cpio, gzip"),
        "{}",
        stderr(&out)
    );
    // GNU cpio reads the first archive only: the microcode.
    let names = tool(&s.0, "cpio", &["-it", "--quiet"], &data);
    let dir = "kernel/x86/microcode";
    let want =
        format!("kernel\nkernel/x86\n{dir}\n{dir}/AuthenticAMD.bin\n{dir}/GenuineIntel.bin\n");
    assert_eq!(names, want);
    let x = s.path("x");
    mkimage_ok(["extract", i, x.to_str().unwrap()]);
    assert_eq!(
        fs::read(x.join(dir).join("GenuineIntel.bin")).unwrap(),
        b"INTEL1INTEL2"
    );
    assert_eq!(
        fs::read(x.join(dir).join("AuthenticAMD.bin")).unwrap(),
        b"AMD1AMD2"
    );
    assert!(x.join("init").is_file());
    let empty = s.dir("empty", 0o755);
    let out = mkimage([
        "build",
        "--init",
        init.to_str().unwrap(),
        "-o",
        i,
        "--microcode",
        empty.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("has no microcode"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn quiet_and_json_summaries() {
    let s = Scratch::new("summary");
    s.file("t/a", b"some data", 0o644);
    let img = s.path("img");
    let (t, i) = (s.path("t"), img.to_str().unwrap());
    let base = ["pack", t.to_str().unwrap(), "-o", i, "--compress", "gzip"];
    let out = mkimage(base.iter().copied().chain(["--quiet"]));
    assert!(out.status.success());
    assert_eq!(stderr(&out), "");
    assert!(out.stdout.is_empty());
    let out = mkimage(base.iter().copied().chain(["--json"]));
    assert!(out.status.success());
    assert_eq!(stderr(&out), "");
    let json = String::from_utf8(out.stdout).unwrap();
    assert!(json.starts_with("{\"entries\":1,\"bytes_in\":"), "{json}");
    assert!(json.contains("\"compression\":\"gzip\""), "{json}");
    for key in ["bytes_out", "ratio", "seconds"] {
        assert!(json.contains(&format!("\"{key}\":")), "{json}");
    }
    assert!(json.ends_with("}\n") && json.lines().count() == 1, "{json}");
}
