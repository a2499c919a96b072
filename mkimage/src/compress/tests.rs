use super::*;
use crate::compress::decompress::{decoder, Format};
use crate::compress::threaded::Threaded;
use std::io::Read;

fn compress(c: Compression, data: &[u8]) -> Vec<u8> {
    let mut t = Threaded::spawn(encoder(c, Vec::new()).unwrap()).unwrap();
    for piece in data.chunks(1000) {
        t.write_all(piece).unwrap();
    }
    t.finish().unwrap()
}

fn sample() -> Vec<u8> {
    (0..300_000u32)
        .map(|i| (i % 251) as u8 ^ (i / 7000) as u8)
        .collect()
}

/// Decompresses one segment and returns it with the unread rest.
fn decompress(data: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let format = Format::sniff(data).unwrap();
    let mut input = data;
    let mut out = Vec::new();
    decoder(format, &mut input)
        .unwrap()
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    (out, input.to_vec())
}

#[test]
fn gzip_round_trip_and_reproducible_header() {
    let data = sample();
    let gz = compress(Compression::default(), &data);
    assert_eq!(&gz[..4], &[0x1f, 0x8b, 8, 0]); // no FNAME flag
    assert_eq!(&gz[4..8], &[0, 0, 0, 0]); // mtime 0
    assert_eq!(decompress(&gz).0, data);
    assert_eq!(gz, compress(Compression::default(), &data));
}

#[test]
fn every_method_round_trips_and_leaves_what_follows() {
    let data = sample();
    for method in [Method::Gzip, Method::Zstd, Method::Xz, Method::Lz4] {
        let c = Compression::new(method, None).unwrap();
        let mut packed = compress(c, &data);
        assert_eq!(
            Format::sniff(&packed).map(Format::name),
            Some(method.name())
        );
        assert!(packed.len() < data.len() / 2, "{method}: {}", packed.len());
        packed.extend_from_slice(&[0, 0, 0, 0]);
        packed.extend_from_slice(b"070701");
        let (out, rest) = decompress(&packed);
        assert_eq!(out, data, "{method}");
        // lz4 takes the zero size word as its end, like the kernel.
        let rest_len = if method == Method::Lz4 { 6 } else { 10 };
        assert_eq!(rest.len(), rest_len, "{method}");
    }
}

#[test]
fn zstd_output_does_not_depend_on_the_thread_count() {
    let data = sample();
    let run = |workers| {
        let mut enc = zstd_encoder(Vec::new(), 3, workers).unwrap();
        enc.write_all(&data).unwrap();
        enc.finish().unwrap()
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(0));
    // Frame header descriptor: checksum flag (bit 2) set.
    assert_ne!(one[4] & 0x04, 0);
}

#[test]
fn xz_uses_the_crc32_check() {
    let xz = compress(Compression::new(Method::Xz, Some(1)).unwrap(), b"abc");
    // Stream header: magic (6 bytes), stream flags 0x00 and check id.
    assert_eq!(&xz[6..8], &[0x00, 0x01]);
    assert_eq!(decompress(&xz).0, b"abc");
}

#[test]
fn none_is_identity() {
    let c = Compression::new(Method::None, None).unwrap();
    assert_eq!(compress(c, b"abc"), b"abc");
}

#[test]
fn levels_are_checked() {
    assert!(Compression::new(Method::Gzip, Some(10)).is_err());
    assert!(Compression::new(Method::None, Some(1)).is_err());
    assert!(Compression::new(Method::Lz4, Some(1)).is_err());
    assert!(Compression::new(Method::Zstd, Some(0)).is_err());
    assert!(Compression::new(Method::Zstd, Some(20)).is_err());
    assert_eq!(Compression::new(Method::Gzip, Some(9)).unwrap().level, 9);
    assert_eq!(Compression::new(Method::Xz, Some(0)).unwrap().level, 0);
    assert!("zip".parse::<Method>().is_err());
    for m in Method::ALL {
        assert_eq!(m.name().parse::<Method>(), Ok(m));
    }
}

#[test]
fn xz_blocks_do_not_depend_on_the_thread_count() {
    let data = sample();
    let xz = |threads| {
        let stream = xz_stream(1, threads, Some(64 * 1024)).unwrap();
        let mut enc = liblzma::write::XzEncoder::new_stream(Vec::new(), stream);
        enc.write_all(&data).unwrap();
        enc.finish().unwrap()
    };
    let one = xz(1);
    assert_eq!(&one[6..8], &[0x00, 0x01], "CRC32 check");
    assert_eq!(xz(3), one);
    assert_eq!(decompress(&one).0, data);
    // Several blocks: the index at the end has one record per block.
    let mut input = &one[..];
    let mut dec = liblzma::read::XzDecoder::new(&mut input);
    let mut out = Vec::new();
    dec.read_to_end(&mut out).unwrap();
    assert_eq!(out, data);
    assert!(data.len() > 4 * 64 * 1024);
}

/// A small xz stream whose block header now asks for a 4 GiB dictionary
/// (LZMA2 property 40), its CRC fixed: what a hostile image declares.
fn xz_asking_for_4_gib() -> Vec<u8> {
    let mut enc = liblzma::write::XzEncoder::new(Vec::new(), 1);
    enc.write_all(&sample()).unwrap();
    let mut xz = enc.finish().unwrap();
    let start = 12; // the stream header
    let len = (usize::from(xz[start]) + 1) * 4;
    let header = &mut xz[start..start + len];
    let at = header.windows(2).position(|w| w == [0x21, 0x01]).unwrap();
    header[at + 2] = 40;
    let crc = zlib_rs::crc32::crc32(0, &header[..len - 4]);
    header[len - 4..].copy_from_slice(&crc.to_le_bytes());
    xz
}

#[test]
fn xz_is_decoded_within_a_memory_limit() {
    let xz = xz_asking_for_4_gib();
    let mut input = xz.as_slice();
    let mut out = Vec::new();
    let err = decoder(Format::Xz, &mut input)
        .unwrap()
        .unwrap()
        .read_to_end(&mut out)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("needs more than 256 MiB of memory"),
        "{err}"
    );
    assert!(out.is_empty());
}
