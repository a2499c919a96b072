use super::*;

fn be(data: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(data[at..at + 4].try_into().unwrap())
}

fn cstr(data: &[u8], at: usize) -> (&str, usize) {
    let len = data[at..].iter().position(|&b| b == 0).unwrap();
    (
        std::str::from_utf8(&data[at..at + len]).unwrap(),
        at + len + 1,
    )
}

/// The values of `key`, read back as libkmod's exact search does.
fn lookup(data: &[u8], key: &str) -> Vec<(u32, String)> {
    assert_eq!((be(data, 0), be(data, 4)), (MAGIC, VERSION));
    let mut node = be(data, 8);
    let mut key = key.as_bytes();
    loop {
        let mut at = (node & 0x0fff_ffff) as usize;
        if node & NODE_PREFIX != 0 {
            let (prefix, next) = cstr(data, at);
            let Some(rest) = key.strip_prefix(prefix.as_bytes()) else {
                return Vec::new();
            };
            key = rest;
            at = next;
        }
        let (mut first, mut last) = (1u8, 0u8);
        let children = at + 2;
        if node & NODE_CHILDS != 0 {
            (first, last) = (data[at], data[at + 1]);
            at = children + 4 * (usize::from(last - first) + 1);
        }
        if key.is_empty() {
            if node & NODE_VALUES == 0 {
                return Vec::new();
            }
            let count = be(data, at);
            at += 4;
            let mut values = Vec::new();
            for _ in 0..count {
                let prio = be(data, at);
                let (v, next) = cstr(data, at + 4);
                values.push((prio, v.to_string()));
                at = next;
            }
            return values;
        }
        let c = key[0];
        if node & NODE_CHILDS == 0 || c < first || c > last {
            return Vec::new();
        }
        node = be(data, children + 4 * usize::from(c - first));
        if node == 0 {
            return Vec::new();
        }
        key = &key[1..];
    }
}

#[test]
fn keys_read_back() {
    let entries: Vec<(String, String, u32)> = [
        ("ext4", "ext4 line", 2),
        ("ext2", "ext2 line", 1),
        ("ext", "ext line", 0),
        ("crc16", "crc16 line", 3),
        ("e", "e line", 4),
        ("ext4", "second", 1),
    ]
    .iter()
    .map(|(k, v, p)| (k.to_string(), v.to_string(), *p))
    .collect();
    let data = write(&entries);
    let v = |k| lookup(&data, k);
    assert_eq!(v("ext4"), [(1, "second".into()), (2, "ext4 line".into())]);
    assert_eq!(v("ext2"), [(1, "ext2 line".to_string())]);
    assert_eq!(v("ext"), [(0, "ext line".to_string())]);
    assert_eq!(v("e"), [(4, "e line".to_string())]);
    assert_eq!(v("crc16"), [(3, "crc16 line".to_string())]);
    assert!(v("ex").is_empty() && v("ext3").is_empty() && v("crc").is_empty());
    assert!(v("").is_empty() && v("zzz").is_empty());
}

#[test]
fn dep_and_alias_indexes() {
    let lines = vec![
        (
            "kernel/fs/ext4/ext4.ko".to_string(),
            vec!["kernel/lib/crc16.ko".to_string()],
        ),
        ("kernel/lib/crc16.ko".to_string(), vec![]),
    ];
    let data = dep_index(&lines);
    assert_eq!(
        lookup(&data, "ext4"),
        [(0, "kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko".to_string())]
    );
    assert_eq!(
        lookup(&data, "crc16"),
        [(1, "kernel/lib/crc16.ko:".to_string())]
    );
    let pairs = vec![
        ("crypto-crc32c".to_string(), "crc32c_intel".to_string()),
        ("crypto-crc32c".to_string(), "crc32c_generic".to_string()),
        ("crc32c-intel".to_string(), "crc32c_intel".to_string()),
    ];
    let data = alias_index(&pairs, |m| u32::from(m == "crc32c_generic"));
    assert_eq!(
        lookup(&data, "crypto_crc32c"),
        [
            (0, "crc32c_intel".to_string()),
            (1, "crc32c_generic".to_string())
        ]
    );
    assert_eq!(
        lookup(&data, "crc32c_intel"),
        [(0, "crc32c_intel".to_string())]
    );
    let data = builtin_index(&["unix".to_string(), "sd_mod".to_string()]);
    assert_eq!(lookup(&data, "unix"), [(0, String::new())]);
}

#[test]
fn empty_and_non_ascii() {
    let data = write(&[("caf\u{e9}".to_string(), "x".to_string(), 0)]);
    assert_eq!(data.len(), 12);
    assert_eq!(be(&data, 8), 12);
}
