use super::*;
use std::io::Cursor;

fn header(name: &str, mode: u32, size: u32) -> Header {
    Header {
        ino: 7,
        mode,
        uid: 1,
        gid: 2,
        nlink: 1,
        mtime: 0x1234_5678,
        filesize: size,
        rdev_major: 5,
        rdev_minor: 1,
        name: name.as_bytes().to_vec(),
        ..Header::default()
    }
}

fn archive(entries: &[(Header, &[u8])]) -> Vec<u8> {
    let mut w = Writer::new(Vec::new());
    for (h, data) in entries {
        w.header(h).unwrap();
        w.data(*data, data.len() as u64).unwrap();
    }
    w.finish().unwrap().0
}

#[test]
fn header_layout_is_exact() {
    let bytes = archive(&[(header("a", S_IFREG | 0o644, 3), b"xyz")]);
    let expected_header = "070701\
        00000007000081A4000000010000000200000001123456780000000300000000\
        0000000000000005000000010000000200000000";
    assert_eq!(&bytes[..HEADER_LEN], expected_header.as_bytes());
    // name "a\0" ends at 112, which is 4-aligned: no padding.
    assert_eq!(&bytes[HEADER_LEN..HEADER_LEN + 2], b"a\0");
    // data "xyz" then one padding byte.
    assert_eq!(&bytes[112..116], b"xyz\0");
    assert_eq!(&bytes[116..122], MAGIC);
    assert_eq!(bytes.len() % 4, 0);
    // Trailer header at 116, name NUL at 236, padded to 240.
    assert_eq!(bytes.len(), 240);
    assert!(bytes.ends_with(b"TRAILER!!!\0\0\0\0"));
}

#[test]
fn name_and_data_padding_for_all_lengths() {
    let names = ["b", "bc", "bcd", "bcde", "bcdef"];
    let datas: [&[u8]; 5] = [b"", b"1", b"12", b"123", b"1234"];
    let mut entries = Vec::new();
    for (n, d) in names.iter().zip(datas.iter()) {
        entries.push((header(n, S_IFREG | 0o600, d.len() as u32), *d));
    }
    let bytes = archive(&entries);
    let mut r = Reader::new(Cursor::new(&bytes), 0);
    for (n, d) in names.iter().zip(datas.iter()) {
        let h = r.next_header().unwrap().unwrap();
        assert_eq!(h.name, n.as_bytes());
        assert_eq!(r.read_data(4096).unwrap(), *d);
        assert_eq!(r.offset() % 4, 0);
    }
    assert!(r.next_header().unwrap().is_none());
    assert_eq!(r.offset(), bytes.len() as u64);
}

#[test]
fn round_trip_keeps_every_field() {
    let mut dir = header("dir", S_IFDIR | 0o755, 0);
    dir.nlink = 2;
    let link = header("dir/link", S_IFLNK | 0o777, 4);
    let mut dev = header("dir/console", S_IFCHR | 0o600, 0);
    dev.dev_major = 9;
    dev.dev_minor = 3;
    let name_bytes = vec![b'f', 0xff, 0xfe];
    let mut odd = header("x", S_IFREG | 0o4755, 2);
    odd.name = name_bytes.clone();
    let entries: Vec<(Header, &[u8])> = vec![
        (dir.clone(), b""),
        (link.clone(), b"/abc"),
        (dev.clone(), b""),
        (odd.clone(), b"hi"),
    ];
    let bytes = archive(&entries);
    let mut r = Reader::new(Cursor::new(&bytes), 0);
    for (h, data) in &entries {
        assert_eq!(&r.next_header().unwrap().unwrap(), h);
        assert_eq!(&r.read_data(4096).unwrap(), data);
    }
    assert!(r.next_header().unwrap().is_none());
}

#[test]
fn skipping_unread_data_works() {
    let bytes = archive(&[
        (header("a", S_IFREG | 0o644, 5), b"hello"),
        (header("b", S_IFREG | 0o644, 1), b"!"),
    ]);
    let mut r = Reader::new(Cursor::new(&bytes), 0);
    assert_eq!(r.next_header().unwrap().unwrap().name, b"a");
    assert_eq!(r.next_header().unwrap().unwrap().name, b"b");
    assert!(r.next_header().unwrap().is_none());
}

#[test]
fn short_data_is_an_error() {
    let mut w = Writer::new(Vec::new());
    w.header(&header("a", S_IFREG | 0o644, 10)).unwrap();
    let err = w.data(&b"abc"[..], 10).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
}

#[test]
fn bad_names_are_rejected() {
    let mut w = Writer::new(Vec::new());
    assert!(w.header(&header("", S_IFREG, 0)).is_err());
    assert!(w.header(&header("a\0b", S_IFREG, 0)).is_err());
}

#[test]
fn garbage_gives_bad_magic_with_offset() {
    let mut r = Reader::new(Cursor::new(vec![b'z'; 200]), 40);
    let err = r.next_header().unwrap_err();
    assert_eq!(err.offset, 40);
    assert!(matches!(err.kind, ReadErrorKind::BadMagic(_)), "{err}");
}

#[test]
fn bad_hex_field_is_named() {
    let mut bytes = archive(&[(header("a", S_IFREG | 0o644, 0), b"")]);
    bytes[6 + 8 * 4] = b'g'; // nlink
    let err = Reader::new(Cursor::new(&bytes), 0)
        .next_header()
        .unwrap_err();
    assert!(err.to_string().contains("nlink"), "{err}");
}

#[test]
fn truncation_anywhere_is_an_error_not_a_panic() {
    let bytes = archive(&[
        (header("some/name", S_IFREG | 0o644, 7), b"content"),
        (header("l", S_IFLNK | 0o777, 3), b"abc"),
    ]);
    for cut in 0..bytes.len() - 1 {
        let mut r = Reader::new(Cursor::new(&bytes[..cut]), 0);
        let result = (|| {
            while let Some(h) = r.next_header()? {
                if h.file_type() == S_IFLNK {
                    r.read_data(4096)?;
                }
            }
            Ok::<_, ReadError>(())
        })();
        let err = result.expect_err("truncated archive must fail");
        assert!(
            matches!(err.kind, ReadErrorKind::Truncated),
            "cut {cut}: {err}"
        );
        assert!(err.offset <= cut as u64);
    }
}

#[test]
fn read_data_limit() {
    let bytes = archive(&[(header("l", S_IFLNK | 0o777, 8), b"12345678")]);
    let mut r = Reader::new(Cursor::new(&bytes), 0);
    r.next_header().unwrap();
    assert!(matches!(
        r.read_data(4).unwrap_err().kind,
        ReadErrorKind::TooLarge { size: 8, limit: 4 }
    ));
}

#[test]
fn crc_magic_is_accepted() {
    let mut bytes = archive(&[(header("a", S_IFREG | 0o644, 0), b"")]);
    bytes[5] = b'2';
    let mut r = Reader::new(Cursor::new(&bytes), 0);
    assert_eq!(r.next_header().unwrap().unwrap().name, b"a");
}

#[test]
fn peek_after_trailer_sees_next_archive() {
    let mut bytes = archive(&[(header("a", S_IFREG | 0o644, 1), b"1")]);
    bytes.extend_from_slice(&[0, 0, 0, 0]);
    let mut r = Reader::new(Cursor::new(&bytes), 0);
    r.next_header().unwrap();
    assert!(r.next_header().unwrap().is_none());
    assert_eq!(r.peek().unwrap(), Some(0));
    for _ in 0..4 {
        r.consume_one();
    }
    assert_eq!(r.peek().unwrap(), None);
}

#[test]
fn a_huge_name_size_is_refused_before_allocating() {
    let mut bytes = archive(&[(header("a", S_IFREG | 0o644, 0), b"")]);
    // namesize is the twelfth field.
    bytes[6 + 11 * 8..6 + 12 * 8].copy_from_slice(b"ffffffff");
    let err = Reader::new(Cursor::new(&bytes), 0)
        .next_header()
        .unwrap_err();
    assert!(
        matches!(err.kind, ReadErrorKind::BadNameSize(0xffff_ffff)),
        "{err}"
    );
    bytes[6 + 11 * 8..6 + 12 * 8].copy_from_slice(b"00001001");
    let err = Reader::new(Cursor::new(&bytes), 0).next_header();
    assert!(matches!(
        err.unwrap_err().kind,
        ReadErrorKind::BadNameSize(4097)
    ));
}
