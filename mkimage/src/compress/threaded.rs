//! [`Threaded`] runs an [`Encoder`] on its own thread, so that reading
//! files and compressing overlap; or inline, for an encoder that has
//! worker threads of its own.

use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use crate::compress::Encoder;

/// Size of the chunks handed to the compression thread.
const CHUNK: usize = 1 << 20;
/// Chunks in flight between the two threads.
const DEPTH: usize = 4;

/// A writer that hands its data to an [`Encoder`] on another thread.
pub struct Threaded<W> {
    /// An encoder that has threads of its own runs here, inline.
    inline: Option<Box<dyn Encoder<W>>>,
    tx: Option<SyncSender<Vec<u8>>>,
    recycled: Receiver<Vec<u8>>,
    handle: Option<JoinHandle<io::Result<W>>>,
}

impl<W: Send + 'static> Threaded<W> {
    pub fn spawn(mut enc: Box<dyn Encoder<W>>) -> io::Result<Self> {
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(DEPTH);
        let (back_tx, recycled) = mpsc::sync_channel::<Vec<u8>>(DEPTH + 1);
        let handle = std::thread::Builder::new()
            .name("compress".into())
            .spawn(move || {
                for mut chunk in rx {
                    enc.write_all(&chunk)?;
                    chunk.clear();
                    let _ = back_tx.try_send(chunk);
                }
                enc.finish()
            })?;
        Ok(Threaded {
            inline: None,
            tx: Some(tx),
            recycled,
            handle: Some(handle),
        })
    }

    /// Runs `enc` in the caller's thread (for encoders with workers).
    pub fn inline(enc: Box<dyn Encoder<W>>) -> Self {
        let (_, recycled) = mpsc::sync_channel::<Vec<u8>>(0);
        Threaded {
            inline: Some(enc),
            tx: None,
            recycled,
            handle: None,
        }
    }

    /// Closes the channel and waits for the thread's result.
    fn join(&mut self) -> io::Result<W> {
        if let Some(enc) = self.inline.take() {
            return enc.finish();
        }
        self.tx = None;
        let Some(handle) = self.handle.take() else {
            return Err(io::Error::other("compression thread already finished"));
        };
        match handle.join() {
            Ok(result) => result,
            Err(_) => Err(io::Error::other("compression thread panicked")),
        }
    }

    /// Ends the stream and returns the encoder's output.
    pub fn finish(mut self) -> io::Result<W> {
        self.join()
    }
}

impl<W> Drop for Threaded<W> {
    /// On an error path: stop the thread and wait for it.
    fn drop(&mut self) {
        self.tx = None;
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

impl<W: Send + 'static> Write for Threaded<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(enc) = &mut self.inline {
            return enc.write(buf);
        }
        let mut chunk = self
            .recycled
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK.max(buf.len())));
        chunk.extend_from_slice(buf);
        let sent = match &self.tx {
            Some(tx) => tx.send(chunk).is_ok(),
            None => false,
        };
        if sent {
            return Ok(buf.len());
        }
        // The thread stopped early: report its error.
        match self.join() {
            Err(e) => Err(e),
            Ok(_) => Err(io::Error::other("compression thread stopped early")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
