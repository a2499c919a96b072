use super::*;
use std::io::Read;

/// Text-like data with repeats near and far (so that the dictionary
/// across block cuts matters), `len` bytes.
fn sample(len: usize) -> Vec<u8> {
    let mut x: u32 = 12345;
    let words: Vec<Vec<u8>> = (0..500)
        .map(|i| format!("word{i}-{} ", i * 7919 % 1000).into_bytes())
        .collect();
    let mut out = Vec::with_capacity(len + 32);
    while out.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        out.extend_from_slice(&words[(x >> 16) as usize % words.len()]);
    }
    out.truncate(len);
    out
}

fn compress(data: &[u8], level: u32, workers: usize, piece: usize) -> Vec<u8> {
    let mut gz = ParallelGz::new(Vec::new(), level, workers).unwrap();
    for chunk in data.chunks(piece.max(1)) {
        gz.write_all(chunk).unwrap();
    }
    gz.finish().unwrap()
}

fn gunzip(gz: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn round_trips_at_every_size_around_the_block() {
    for len in [0, 1, 1000, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 77] {
        let data = sample(len);
        let gz = compress(&data, 6, 3, 65_536);
        assert_eq!(gunzip(&gz), data, "length {len}");
        assert_eq!(&gz[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
        let isize = u32::from_le_bytes(gz[gz.len() - 4..].try_into().unwrap());
        assert_eq!(isize as usize, len);
    }
}

#[test]
fn output_does_not_depend_on_threads_or_write_sizes() {
    let data = sample(2 * BLOCK + 12_345);
    let one = compress(&data, 9, 1, 4096);
    assert_eq!(one[8], 2, "XFL for level 9");
    for (workers, piece) in [(2, 1 << 20), (4, 777), (7, 3 * BLOCK)] {
        assert_eq!(compress(&data, 9, workers, piece), one, "{workers} workers");
    }
}

#[test]
fn a_failing_output_is_an_error_not_a_hang() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("disk on fire"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut gz = ParallelGz::new(Broken, 1, 2).unwrap();
    let data = sample(5 * BLOCK);
    let result = gz.write_all(&data).and_then(|_| gz.finish().map(|_| ()));
    assert!(result.unwrap_err().to_string().contains("disk on fire"));
}

#[test]
fn a_block_compresses_the_same_after_any_other() {
    // Workers take blocks in any order; a block's bytes must not depend
    // on what the worker compressed before (its freed compressor's memory
    // comes back from the allocator). Machine code (this test binary) is
    // the kind of data that showed it.
    let exe = std::fs::read("/proc/self/exe").unwrap();
    let blocks: Vec<&[u8]> = exe.chunks(BLOCK / 4).take(6).collect();
    let job = |i: usize| Job {
        index: 0,
        data: blocks[i].to_vec(),
        last: false,
    };
    for level in [1, 6, 9] {
        let first: Vec<Vec<u8>> = (0..blocks.len())
            .map(|i| deflate_block(level, &job(i)).unwrap())
            .collect();
        for i in (0..blocks.len()).rev().chain(0..blocks.len()) {
            let again = deflate_block(level, &job(i)).unwrap();
            assert!(
                again == first[i],
                "level {level}, block {i}: depends on the history"
            );
        }
    }
}
