use super::*;

fn fake_image(len: usize, image_size: u64) -> Vec<u8> {
    let mut b = vec![0u8; len];
    b[8..16].copy_from_slice(&0u64.to_le_bytes());
    b[16..24].copy_from_slice(&image_size.to_le_bytes());
    b[24..32].copy_from_slice(&0xau64.to_le_bytes());
    b[0x38..0x3c].copy_from_slice(IMAGE_MAGIC);
    b
}

#[test]
fn reads_the_image_header() {
    let h = image_header(&fake_image(4096, 0x10000)).unwrap();
    assert_eq!((h.text_offset, h.image_size, h.flags), (0, 0x10000, 0xa));
}

#[test]
fn refuses_what_is_not_a_plain_image() {
    assert!(image_header(&[0; 100]).unwrap_err().contains("ARM\\x64"));
    assert!(image_header(&fake_image(4096, 100))
        .unwrap_err()
        .contains("image_size"));
    let mut be = fake_image(4096, 0x10000);
    be[24] = 1;
    assert!(image_header(&be).unwrap_err().contains("big-endian"));
}

const IOMEM: &str = "\
09000000-09000fff : pl011@9000000
40000000-5fffffff : System RAM
  40000000-401fffff : reserved
  40210000-4177ffff : Kernel code
  41780000-41e2ffff : reserved
  41e30000-4214ffff : Kernel data
  5f000000-5fffffff : reserved
";

#[test]
fn parses_iomem_and_places_clear_of_the_kernel() {
    let (ram, busy) = parse_iomem(IOMEM);
    assert_eq!(ram, vec![(0x4000_0000, 0x6000_0000)]);
    assert_eq!(busy.len(), 5);
    // Past the kernel's data, at the next 2 MiB boundary.
    assert_eq!(find_base(&ram, &busy, 0x100_0000), Some(0x4220_0000));
    // Too big for the room left below the reserved top.
    assert_eq!(find_base(&ram, &busy, 0x1e00_0000), None);
}

#[test]
fn trampoline_loads_x0_and_branches() {
    let t = trampoline(0x4400_0000, 0x4220_0000);
    assert_eq!(t.len(), 40);
    assert_eq!(&t[24..32], &0x4400_0000u64.to_le_bytes());
    assert_eq!(&t[32..40], &0x4220_0000u64.to_le_bytes());
    // ldr x0, literal: imm19 = 24 / 4 = 6, Rt = 0.
    assert_eq!(
        u32::from_le_bytes([t[0], t[1], t[2], t[3]]),
        0x5800_0000 | 6 << 5
    );
    // ldr x4 at 16, literal at 32: imm19 = 4, Rt = 4; br x4.
    assert_eq!(
        u32::from_le_bytes([t[16], t[17], t[18], t[19]]),
        0x5800_0000 | 4 << 5 | 4
    );
    assert_eq!(
        u32::from_le_bytes([t[20], t[21], t[22], t[23]]),
        0xd61f_0000 | 4 << 5
    );
}

#[test]
fn chosen_gets_cmdline_and_initrd_and_loses_crash_entries() {
    use crate::kexec::fdt::Node;
    let mut fdt = Fdt {
        boot_cpuid: 0,
        reserve: vec![],
        root: Node::default(),
    };
    let c = fdt.child_mut("chosen");
    c.set("linux,elfcorehdr", vec![0; 16]);
    c.set("linux,usable-memory-range", vec![0; 16]);
    c.set("kaslr-seed", vec![0; 8]);
    rewrite_chosen(&mut fdt, "console=ttyAMA0", Some((0x1000, 0x2000))).unwrap();
    let back = Fdt::parse(&fdt.write()).unwrap();
    let c = &back.root.children[0];
    assert_eq!(c.prop("bootargs"), Some(&b"console=ttyAMA0\0"[..]));
    assert_eq!(
        c.prop("linux,initrd-start"),
        Some(&0x1000u64.to_be_bytes()[..])
    );
    assert_eq!(
        c.prop("linux,initrd-end"),
        Some(&0x2000u64.to_be_bytes()[..])
    );
    assert_eq!(c.prop("linux,elfcorehdr"), None);
    assert_eq!(c.prop("linux,usable-memory-range"), None);
    assert_eq!(c.prop("kaslr-seed").map(<[u8]>::len), Some(8));
}
