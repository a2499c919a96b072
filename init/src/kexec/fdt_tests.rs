use super::*;

fn sample() -> Fdt {
    let chosen = Node {
        name: "chosen".into(),
        props: vec![
            ("bootargs".into(), b"console=ttyAMA0\0".to_vec()),
            ("kaslr-seed".into(), vec![0; 8]),
        ],
        children: vec![],
    };
    let memory = Node {
        name: "memory@40000000".into(),
        props: vec![
            ("device_type".into(), b"memory\0".to_vec()),
            (
                "reg".into(),
                vec![0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0],
            ),
        ],
        children: vec![],
    };
    Fdt {
        boot_cpuid: 0,
        reserve: vec![(0x4000_0000, 0x1000)],
        root: Node {
            name: String::new(),
            props: vec![("#address-cells".into(), vec![0, 0, 0, 2])],
            children: vec![chosen, memory],
        },
    }
}

#[test]
fn round_trips() {
    let fdt = sample();
    let blob = fdt.write();
    assert_eq!(&blob[..4], &[0xd0, 0x0d, 0xfe, 0xed]);
    assert_eq!(be32(&blob, 20), Some(17));
    assert_eq!(be32(&blob, 4), Some(blob.len() as u32));
    assert_eq!(Fdt::parse(&blob), Ok(fdt));
}

#[test]
fn property_names_are_stored_once() {
    let mut fdt = sample();
    fdt.child_mut("cpus").set("device_type", b"cpu\0".to_vec());
    let blob = fdt.write();
    let strings = &blob[be32(&blob, 12).unwrap() as usize..];
    let n = strings
        .windows(12)
        .filter(|w| w == b"device_type\0")
        .count();
    assert_eq!(n, 1);
    assert_eq!(Fdt::parse(&blob).unwrap(), fdt);
}

#[test]
fn chosen_is_edited() {
    let mut fdt = sample();
    let chosen = fdt.child_mut("chosen");
    chosen.set("bootargs", b"x\0".to_vec());
    chosen.remove("kaslr-seed");
    let back = Fdt::parse(&fdt.write()).unwrap();
    let c = back
        .root
        .children
        .iter()
        .find(|n| n.name == "chosen")
        .unwrap();
    assert_eq!(c.prop("bootargs"), Some(&b"x\0"[..]));
    assert_eq!(c.prop("kaslr-seed"), None);
}

#[test]
fn rejects_garbage_with_a_reason() {
    assert_eq!(Fdt::parse(b"MZ\0\0"), Err(FdtError::Magic(0x4d5a_0000)));
    assert_eq!(Fdt::parse(&[]), Err(FdtError::Truncated("header")));
    let blob = sample().write();
    assert_eq!(
        Fdt::parse(&blob[..blob.len() - 1]),
        Err(FdtError::Truncated("shorter than its totalsize"))
    );
    let mut old = blob.clone();
    old[23] = 15;
    assert_eq!(Fdt::parse(&old), Err(FdtError::Version(15)));
    // A property length that runs past the structure block.
    let mut long = blob.clone();
    let off = be32(&blob, 8).unwrap() as usize;
    // root: BEGIN_NODE, "" padded (4), then PROP, len.
    long[off + 8..off + 12].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
    assert!(matches!(Fdt::parse(&long), Err(FdtError::Structure(..))));
}

#[test]
fn never_panics_on_truncations_and_flips() {
    let blob = sample().write();
    for end in 0..blob.len() {
        let _ = Fdt::parse(&blob[..end]);
    }
    let mut rng = crate::test_rng::Rng(7);
    for _ in 0..2000 {
        let mut b = blob.clone();
        let i = (rng.next() as usize) % b.len();
        b[i] ^= rng.next() as u8 | 1;
        let _ = Fdt::parse(&b);
    }
}
