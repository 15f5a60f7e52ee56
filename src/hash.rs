//! SHA-256 and size, computed while data streams past.
//!
//! Sources are never read twice: the fetcher hashes while it writes the
//! download, the installer while it copies the staged tree.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{IoContext, Result};

/// Buffer size for streaming: large enough that syscalls and hashing, not
/// loop overhead, dominate.
pub const BUF_SIZE: usize = 256 * 1024;

/// A running SHA-256 and byte count.
#[derive(Clone, Default)]
pub struct Hasher {
    sha: Sha256,
    size: u64,
}

impl Hasher {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, data: &[u8]) {
        self.sha.update(data);
        self.size += data.len() as u64;
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Lower-case hex digest and size.
    pub fn finish(self) -> (String, u64) {
        (to_hex(&self.sha.finalize()), self.size)
    }
}

pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Copy `reader` to `writer`, returning the SHA-256 and size of what passed.
/// Stops with an error once more than `limit` bytes arrive, so an endless or
/// oversized body cannot fill the disk.
pub fn copy_hashed(
    reader: &mut dyn Read,
    writer: &mut dyn Write,
    limit: Option<u64>,
) -> io::Result<(String, u64)> {
    let mut hasher = Hasher::new();
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if let Some(limit) = limit {
            if hasher.size() + n as u64 > limit {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("more data than the expected {limit} bytes"),
                ));
            }
        }
        hasher.update(&buf[..n]);
        writer.write_all(&buf[..n])?;
    }
    Ok(hasher.finish())
}

/// SHA-256 and size of a file.
pub fn hash_file(path: &Path) -> Result<(String, u64)> {
    let mut f = File::open(path).at("open", path)?;
    copy_hashed(&mut f, &mut io::sink(), None).at("read", path)
}
