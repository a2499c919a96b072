use super::*;
use std::io::Read;

/// xorshift bytes: `noise` of every 8 random, the rest from a small
/// alphabet (so libdeflate makes dynamic blocks, stored ones for pure
/// noise, fixed ones for tiny inputs).
fn bytes(len: usize, seed: u64, noise: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x % 8 < noise {
                (x >> 32) as u8
            } else {
                b"abcdefgh"[(x >> 40) as usize % 8]
            }
        })
        .collect()
}

/// The complete stream pgzip makes of a last block.
fn deflate(data: &[u8], level: u32) -> Vec<u8> {
    let job = super::super::Job {
        index: 0,
        data: data.to_vec(),
        last: true,
    };
    super::super::deflate_block(level, &job).unwrap()
}

fn inflate(stream: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(stream)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// A final, empty block with the fixed code: BFINAL, type 01, then the
/// 7-bit end-of-block code 0000000.
const EMPTY_FINAL: [u8; 2] = [0x03, 0x00];

#[test]
fn a_synced_stream_decodes_to_its_input_and_continues() {
    for level in [0, 1, 6, 9, 12] {
        for (len, noise) in [(0, 0), (1, 0), (5, 3), (3000, 2), (200_000, 1), (70_000, 8)] {
            let data = bytes(len, len as u64 + 7, noise);
            let mut s = deflate(&data, level);
            to_sync_flush(&mut s).unwrap();
            assert_eq!(&s[s.len() - 4..], &EMPTY_STORED);
            // A second stream appended after the sync flush is read on.
            let more = bytes(999, 3, 2);
            s.extend_from_slice(&deflate(&more, level));
            let mut want = data.clone();
            want.extend_from_slice(&more);
            assert_eq!(inflate(&s), want, "level {level}, {len} bytes");
        }
    }
}

#[test]
fn every_bit_position_of_the_end_is_padded_right() {
    // The stream's end falls at each bit offset of its last byte for some
    // of these short inputs; each must continue cleanly.
    let mut seen = [false; 8];
    for len in 0..200 {
        let data = bytes(len, 99, 1);
        let mut s = deflate(&data, 6);
        let (_, end) = walk(&s).unwrap();
        seen[end % 8] = true;
        to_sync_flush(&mut s).unwrap();
        s.extend_from_slice(&EMPTY_FINAL);
        assert_eq!(inflate(&s), data, "{len} bytes");
    }
    assert_eq!(seen, [true; 8], "end offsets covered");
}

#[test]
fn broken_streams_are_refused_not_panicked_on() {
    let good = deflate(&bytes(50_000, 5, 2), 6);
    for cut in [0, 1, 2, good.len() / 2, good.len() - 1] {
        let mut s = good[..cut].to_vec();
        assert!(to_sync_flush(&mut s).is_err(), "cut at {cut}");
    }
    let mut trailing = good.clone();
    trailing.push(0);
    let err = to_sync_flush(&mut trailing).unwrap_err();
    assert!(err.to_string().contains("after the final block"), "{err}");
    assert!(to_sync_flush(&mut vec![0x07]).is_err(), "reserved type");
    // Flipped bits anywhere: an error or a stream, never a panic.
    for i in 0..2000 {
        let mut s = good.clone();
        let bit = (i * 7919) % (s.len() * 8);
        s[bit / 8] ^= 1 << (bit % 8);
        let _ = to_sync_flush(&mut s);
    }
    for seed in 1..300 {
        let _ = to_sync_flush(&mut bytes(64, seed, 8));
    }
}
