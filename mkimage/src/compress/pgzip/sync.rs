//! Turns a complete raw deflate stream into one that goes on.
//!
//! libdeflate compresses a whole buffer into a stream whose last block is
//! marked final, and has no sync flush. To join such pieces into one gzip
//! member (what the kernel's inflater reads), every piece but the last must
//! instead end as zlib's sync flush does: its final bit cleared and an empty
//! stored block after it, which leaves the stream byte-aligned for the next
//! piece. Where the final block starts and where the stream ends (to the
//! bit) is found by walking the blocks: decoding their Huffman codes, not
//! their data.

use std::io;

/// The empty stored block's length and its complement, after its header.
const EMPTY_STORED: [u8; 4] = [0, 0, 0xff, 0xff];

/// Rewrites `stream`, one complete raw deflate stream, so that it ends in a
/// sync flush instead of its final block.
pub fn to_sync_flush(stream: &mut Vec<u8>) -> io::Result<()> {
    let (final_header, end) = walk(stream).map_err(corrupt)?;
    if end.div_ceil(8) != stream.len() {
        return Err(corrupt("bytes after the final block"));
    }
    stream[final_header / 8] &= !(1 << (final_header % 8));
    // The empty stored block's header is 3 zero bits at `end`; padding
    // to the byte boundary follows, then its LEN and NLEN.
    let used = end % 8;
    if let (Some(last), 1..) = (stream.last_mut(), used) {
        *last &= (1u8 << used) - 1;
    }
    if used == 0 || used > 5 {
        stream.push(0);
    }
    stream.extend_from_slice(&EMPTY_STORED);
    Ok(())
}

fn corrupt(what: &str) -> io::Error {
    io::Error::other(format!("deflate output not understood: {what}"))
}

/// The bit positions of the final block's header and of the stream's end.
fn walk(data: &[u8]) -> Result<(usize, usize), &'static str> {
    let mut bits = Bits { data, pos: 0 };
    loop {
        let header = bits.pos;
        let last = bits.take(1)? == 1;
        match bits.take(2)? {
            0 => bits.skip_stored()?,
            1 => {
                let (lit, dist) = fixed_codes();
                bits.skip_symbols(&lit, &dist)?
            }
            2 => {
                let (lit, dist) = bits.dynamic_codes()?;
                bits.skip_symbols(&lit, &dist)?
            }
            _ => return Err("reserved block type"),
        }
        if last {
            return Ok((header, bits.pos));
        }
    }
}

/// Extra bits of length symbols 257..=285 and of distance symbols 0..30.
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DISTANCE_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// The order in which a dynamic block lists its code-length code lengths.
const CODE_LENGTH_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// A little-endian bit reader, as deflate packs its bits.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    /// The next `n` (≤ 16) bits without taking them; zeros past the end.
    fn peek(&self, n: u32) -> u32 {
        let byte = self.pos / 8;
        let mut word = 0u32;
        for (i, b) in self.data.iter().skip(byte).take(4).enumerate() {
            word |= u32::from(*b) << (8 * i);
        }
        (word >> (self.pos % 8)) & ((1 << n) - 1)
    }

    fn advance(&mut self, n: usize) -> Result<(), &'static str> {
        if self.pos + n > self.data.len() * 8 {
            return Err("stream ends inside a block");
        }
        self.pos += n;
        Ok(())
    }

    fn take(&mut self, n: u32) -> Result<u32, &'static str> {
        let v = self.peek(n);
        self.advance(n as usize)?;
        Ok(v)
    }

    fn skip_stored(&mut self) -> Result<(), &'static str> {
        self.pos = self.pos.div_ceil(8) * 8;
        let len = self.take(16)?;
        if self.take(16)? != !len & 0xffff {
            return Err("stored block length check");
        }
        self.advance(len as usize * 8)
    }

    fn decode(&mut self, code: &Code) -> Result<u16, &'static str> {
        let (symbol, len) = code.table[self.peek(code.bits) as usize];
        if len == 0 {
            return Err("invalid Huffman code");
        }
        self.advance(usize::from(len))?;
        Ok(symbol)
    }

    /// Skips a compressed block's symbols up to its end-of-block.
    fn skip_symbols(&mut self, lit: &Code, dist: &Code) -> Result<(), &'static str> {
        loop {
            let symbol = self.decode(lit)?;
            match symbol {
                0..=255 => {}
                256 => return Ok(()),
                257..=285 => {
                    self.take(u32::from(LENGTH_EXTRA[usize::from(symbol - 257)]))?;
                    let d = self.decode(dist)?;
                    let extra = DISTANCE_EXTRA.get(usize::from(d)).ok_or("bad distance")?;
                    self.take(u32::from(*extra))?;
                }
                _ => return Err("bad length symbol"),
            }
        }
    }

    /// Reads a dynamic block's code definitions.
    fn dynamic_codes(&mut self) -> Result<(Code, Code), &'static str> {
        let literals = self.take(5)? as usize + 257;
        let distances = self.take(5)? as usize + 1;
        let code_lengths = self.take(4)? as usize + 4;
        let mut cl = [0u8; 19];
        for &i in &CODE_LENGTH_ORDER[..code_lengths] {
            cl[i] = self.take(3)? as u8;
        }
        let cl = Code::new(&cl)?;
        let mut lengths = Vec::with_capacity(literals + distances);
        while lengths.len() < literals + distances {
            let (value, repeat) = match self.decode(&cl)? {
                n @ 0..=15 => (n as u8, 1),
                16 => (*lengths.last().ok_or("repeat first")?, 3 + self.take(2)?),
                17 => (0, 3 + self.take(3)?),
                _ => (0, 11 + self.take(7)?),
            };
            lengths.extend(std::iter::repeat_n(value, repeat as usize));
        }
        if lengths.len() != literals + distances {
            return Err("code lengths overrun");
        }
        let (lit, dist) = lengths.split_at(literals);
        Ok((Code::new(lit)?, Code::new(dist)?))
    }
}

/// The fixed codes of block type 1.
fn fixed_codes() -> (Code, Code) {
    let mut lit = [8u8; 288];
    lit[144..256].fill(9);
    lit[256..280].fill(7);
    // These lengths form complete codes: building them cannot fail.
    let build = |l: &[u8]| Code::new(l).unwrap_or_else(|_| unreachable!("fixed code"));
    (build(&lit), build(&[5u8; 32]))
}

/// A canonical Huffman code as a table indexed by the next `bits` bits
/// (bit-reversed codes, as deflate sends them): symbol and code length.
struct Code {
    bits: u32,
    table: Vec<(u16, u8)>,
}

impl Code {
    fn new(lengths: &[u8]) -> Result<Code, &'static str> {
        let bits = u32::from(lengths.iter().copied().max().unwrap_or(0).max(1));
        let mut count = [0u32; 16];
        for &l in lengths {
            count[usize::from(l)] += 1;
        }
        count[0] = 0;
        let mut next = [0u32; 16];
        for len in 1..16 {
            next[len] = (next[len - 1] + count[len - 1]) << 1;
        }
        let mut table = vec![(0u16, 0u8); 1 << bits];
        for (symbol, &len) in lengths.iter().enumerate() {
            if len == 0 {
                continue;
            }
            let code = next[usize::from(len)];
            next[usize::from(len)] += 1;
            if code >> len != 0 {
                return Err("oversubscribed Huffman code");
            }
            let reversed = (code.reverse_bits() >> (32 - u32::from(len))) as usize;
            for slot in table.iter_mut().skip(reversed).step_by(1 << len) {
                *slot = (symbol as u16, len);
            }
        }
        Ok(Code { bits, table })
    }
}

#[cfg(test)]
mod tests;
