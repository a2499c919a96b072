//! gzip on every core, as pigz does it but with libdeflate: the input is
//! cut into blocks of [`BLOCK`] bytes, each compressed on its own thread
//! as raw deflate ending in a sync flush (an empty stored block, which
//! leaves the stream byte-aligned; [`sync`]) except the last, which ends
//! the stream. The pieces, in order, make one ordinary gzip member: the
//! kernel's single-member inflater reads it like any other.
//!
//! Unlike pigz, a block is not primed with the 32 KiB before it
//! (libdeflate takes no dictionary): matches do not reach back across a
//! cut, which costs about 0.15 % at 1 MiB blocks, far less than libdeflate
//! gains over zlib.
//!
//! Each block's output depends only on its bytes and the level, never on
//! the thread count, so images stay reproducible. The CRC-32 is computed
//! per block on the workers and combined in order.

pub(crate) mod sync;

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use libdeflater::{CompressionLvl, Compressor};

/// Input bytes per block.
pub const BLOCK: usize = 1 << 20;

struct Job {
    index: u64,
    data: Vec<u8>,
    last: bool,
}

/// A compressed block: its deflate bytes, CRC-32 and input length.
type Done = (u64, io::Result<(Vec<u8>, u32, usize)>);

/// A gzip writer that compresses on `workers` threads.
pub struct ParallelGz<W: Write> {
    /// The output; taken by `finish`.
    out: Option<W>,
    level: u32,
    block: Vec<u8>,
    jobs: Option<SyncSender<Job>>,
    results: Receiver<Done>,
    workers: Vec<JoinHandle<()>>,
    sent: u64,
    written: u64,
    /// Blocks that finished before an earlier one.
    waiting: BTreeMap<u64, (Vec<u8>, u32, usize)>,
    crc: u32,
    size: u64,
    header_done: bool,
}

impl<W: Write> ParallelGz<W> {
    /// Starts `workers` (at least 1) compression threads for `level` (0-9).
    pub fn new(out: W, level: u32, workers: usize) -> io::Result<Self> {
        let workers = workers.max(1);
        let (jobs, rx) = mpsc::sync_channel::<Job>(workers);
        let (done_tx, results) = mpsc::channel::<Done>();
        let rx = Arc::new(Mutex::new(rx));
        let mut handles = Vec::with_capacity(workers);
        for i in 0..workers {
            let (rx, done_tx) = (Arc::clone(&rx), done_tx.clone());
            let handle = std::thread::Builder::new()
                .name(format!("gzip-{i}"))
                .spawn(move || worker(&rx, &done_tx, level))?;
            handles.push(handle);
        }
        Ok(ParallelGz {
            out: Some(out),
            level,
            block: Vec::with_capacity(BLOCK),
            jobs: Some(jobs),
            results,
            workers: handles,
            sent: 0,
            written: 0,
            waiting: BTreeMap::new(),
            crc: 0,
            size: 0,
            header_done: false,
        })
    }

    /// The 10-byte header: no name, mtime 0, XFL as gzip sets it, OS
    /// unknown (as flate2 writes it, so the bytes do not depend on the host).
    fn header(&self) -> [u8; 10] {
        let xfl = match self.level {
            9 => 2,
            0 | 1 => 4,
            _ => 0,
        };
        [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255]
    }

    /// Hands the collected block to the workers.
    fn send(&mut self, last: bool) -> io::Result<()> {
        let data = std::mem::replace(&mut self.block, Vec::with_capacity(BLOCK));
        let job = Job {
            index: self.sent,
            data,
            last,
        };
        // At most two blocks per worker in flight: wait for one first.
        while self.sent - self.written >= 2 * self.workers.len() as u64 {
            self.receive()?;
        }
        let sent = self.jobs.as_ref().is_some_and(|tx| tx.send(job).is_ok());
        if !sent {
            return Err(io::Error::other("gzip worker threads stopped"));
        }
        self.sent += 1;
        Ok(())
    }

    /// Waits for one result and writes what is ready, in order.
    fn receive(&mut self) -> io::Result<()> {
        let (index, result) = self
            .results
            .recv()
            .map_err(|_| io::Error::other("gzip worker thread died"))?;
        self.waiting.insert(index, result?);
        while let Some((bytes, crc, len)) = self.waiting.remove(&self.written) {
            let header = self.header();
            let out = self
                .out
                .as_mut()
                .ok_or_else(|| io::Error::other("gzip already finished"))?;
            if !self.header_done {
                out.write_all(&header)?;
                self.header_done = true;
            }
            out.write_all(&bytes)?;
            self.crc = zlib_rs::crc32::crc32_combine(self.crc, crc, len as u64);
            self.size += len as u64;
            self.written += 1;
        }
        Ok(())
    }

    /// Compresses what is left, writes the trailer and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.send(true)?;
        while self.written < self.sent {
            self.receive()?;
        }
        self.stop();
        let mut out = self
            .out
            .take()
            .ok_or_else(|| io::Error::other("gzip already finished"))?;
        // ISIZE is the input size modulo 2^32.
        out.write_all(&self.crc.to_le_bytes())?;
        out.write_all(&(self.size as u32).to_le_bytes())?;
        out.flush()?;
        Ok(out)
    }

    /// Closes the job channel and waits for the workers.
    fn stop(&mut self) {
        self.jobs = None;
        for handle in self.workers.drain(..) {
            let _ = handle.join();
        }
    }
}

impl<W: Write> Write for ParallelGz<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(BLOCK - self.block.len());
        self.block.extend_from_slice(&buf[..n]);
        if self.block.len() == BLOCK {
            self.send(false)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for ParallelGz<W> {
    /// On an error path: stop the workers (they end when the channel does).
    fn drop(&mut self) {
        self.stop();
    }
}

/// A worker: compresses jobs until the channel closes.
fn worker(jobs: &Mutex<Receiver<Job>>, done: &mpsc::Sender<Done>, level: u32) {
    loop {
        // The lock is held only while waiting for the next job.
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let result = deflate_block(level, &job);
        let crc = zlib_rs::crc32::crc32(0, &job.data);
        if done
            .send((job.index, result.map(|b| (b, crc, job.data.len()))))
            .is_err()
        {
            return;
        }
    }
}

/// One block as raw deflate, ended by a sync flush, or by the final
/// block for the last one.
fn deflate_block(level: u32, job: &Job) -> io::Result<Vec<u8>> {
    let level = CompressionLvl::new(level as i32)
        .map_err(|e| io::Error::other(format!("gzip level {level}: {e:?}")))?;
    let mut c = Compressor::new(level);
    let mut out = vec![0; c.deflate_compress_bound(job.data.len())];
    let n = c
        .deflate_compress(&job.data, &mut out)
        .map_err(|e| io::Error::other(format!("libdeflate: {e:?}")))?;
    out.truncate(n);
    if !job.last {
        sync::to_sync_flush(&mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
