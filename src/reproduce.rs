//! Comparing two builds of one port, file by file, and saying where they
//! differ: size, first differing byte, and for ELF files the section that
//! byte is in (`.rodata` usually means an embedded date or path).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::manifest::{Kind, Manifest};

/// One difference between two builds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Difference {
    pub path: PathBuf,
    pub what: String,
}

/// Differences between build `a` (prefix `a_root`) and `b`.
pub fn compare(a_root: &Path, a: &Manifest, b_root: &Path, b: &Manifest) -> Vec<Difference> {
    let index = |m: &Manifest| {
        m.entries
            .iter()
            .map(|e| (e.path.clone(), e.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    let (ia, ib) = (index(a), index(b));
    let mut out = Vec::new();
    for (path, ea) in &ia {
        let Some(eb) = ib.get(path) else {
            out.push(Difference {
                path: path.clone(),
                what: "only in the first build".into(),
            });
            continue;
        };
        let what = match (&ea.kind, &eb.kind) {
            _ if ea.mode != eb.mode => Some(format!("mode {:04o} vs {:04o}", ea.mode, eb.mode)),
            (Kind::File { sha256: x, .. }, Kind::File { sha256: y, .. }) if x != y => {
                Some(describe(&a_root.join(path), &b_root.join(path)))
            }
            (Kind::Symlink { target: x }, Kind::Symlink { target: y }) if x != y => {
                Some(format!("symlink to {x} vs {y}"))
            }
            (Kind::File { .. }, Kind::File { .. })
            | (Kind::Dir, Kind::Dir)
            | (Kind::Symlink { .. }, Kind::Symlink { .. }) => None,
            _ => Some("different file types".into()),
        };
        if let Some(what) = what {
            out.push(Difference {
                path: path.clone(),
                what,
            });
        }
    }
    for path in ib.keys().filter(|p| !ia.contains_key(*p)) {
        out.push(Difference {
            path: path.clone(),
            what: "only in the second build".into(),
        });
    }
    out
}

/// Sizes, first differing offset and ELF section of two differing files.
fn describe(a: &Path, b: &Path) -> String {
    let (Ok(x), Ok(y)) = (fs::read(a), fs::read(b)) else {
        return "content differs".into();
    };
    let offset = x
        .iter()
        .zip(&y)
        .position(|(p, q)| p != q)
        .unwrap_or(x.len().min(y.len()));
    let mut s = format!(
        "{} vs {} bytes, first difference at offset {offset:#x}",
        x.len(),
        y.len()
    );
    if let Some(section) = elf_section(&x, offset) {
        s.push_str(&format!(" (ELF section {section})"));
    }
    s
}

/// The name of the ELF64 little-endian section holding file `offset`.
pub fn elf_section(data: &[u8], offset: usize) -> Option<String> {
    if data.len() < 64 || &data[..4] != b"\x7fELF" || data[4] != 2 || data[5] != 1 {
        return None;
    }
    let u16_at = |o: usize| {
        data.get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
    };
    let u32_at = |o: usize| {
        data.get(o..o + 4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4")) as usize)
    };
    let u64_at = |o: usize| {
        data.get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8")) as usize)
    };
    let (shoff, shentsize, shnum, shstrndx) =
        (u64_at(0x28)?, u16_at(0x3a)?, u16_at(0x3c)?, u16_at(0x3e)?);
    let header = |i: usize| shoff + i * shentsize;
    let strtab = u64_at(header(shstrndx) + 24)?;
    for i in 0..shnum {
        let h = header(i);
        let (name, kind, off, size) =
            (u32_at(h)?, u32_at(h + 4)?, u64_at(h + 24)?, u64_at(h + 32)?);
        // SHT_NOBITS (.bss) occupies no bytes of the file.
        if kind != 8 && off <= offset && offset < off + size {
            let start = strtab + name;
            let end = data[start..].iter().position(|&c| c == 0)? + start;
            return Some(String::from_utf8_lossy(&data[start..end]).into_owned());
        }
    }
    None
}
