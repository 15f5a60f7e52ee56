//! Applying a port's patches and overlay files to the unpacked source.
//!
//! Patches are unified diffs, plain or git-style, possibly touching several
//! files, creating or deleting them; diffy parses and applies them. A hunk
//! may land at an offset (the surrounding file moved), never with fuzz: a
//! hunk whose context does not match is an error naming patch, file, hunk.
//! Every target is checked to be a plain path inside the source directory,
//! reached through real directories only.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
#[cfg(test)]
use std::path::PathBuf;

use diffy::patch_set::{FileMode, FileOperation, ParseOptions, PatchKind, PatchSet};

use crate::atomic::{create_dirs_nofollow, is_plain_file_under};
use crate::error::{Error, IoContext, Result};
use crate::port::check_rel_path;

/// What one patch changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Paths (relative to the source dir) the patch touched, in order.
    pub files: Vec<String>,
}

/// What one file's diff does, with paths stripped and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Create(String),
    Delete(String),
    /// `--- original` / `+++ modified`; like patch(1), the modified name is
    /// used when it exists, else the original (`foo.c.orig` / `foo.c`).
    Modify {
        original: String,
        modified: String,
    },
    Rename {
        from: String,
        to: String,
    },
    Copy {
        from: String,
        to: String,
    },
}

/// One file's part of a patch.
pub struct FileDiff<'a> {
    pub target: Target,
    pub diff: diffy::Patch<'a, [u8]>,
    /// From git's `new file mode` / `new mode` lines.
    pub new_mode: Option<u32>,
}

/// Parse a patch file's bytes: plain unified diffs, or git-style when any
/// line starts with `diff --git`. Leading text (a DEP-3 or mail header) is
/// skipped. Errors are messages for [`Error::PatchParse`].
pub fn parse(bytes: &[u8], strip: usize) -> std::result::Result<Vec<FileDiff<'_>>, String> {
    let git = bytes
        .split(|&b| b == b'\n')
        .any(|l| l.starts_with(b"diff --git "));
    let opts = if git {
        ParseOptions::gitdiff()
    } else {
        ParseOptions::unidiff()
    };
    let mut out = Vec::new();
    for file_patch in PatchSet::parse_bytes(bytes, opts) {
        let file_patch = file_patch.map_err(|e| e.to_string())?;
        let path = |p: &[u8]| -> std::result::Result<String, String> {
            let s = std::str::from_utf8(p).map_err(|_| "a file name is not UTF-8".to_string())?;
            check_rel_path(s).map_err(|m| format!("{m} (wrong strip level? it is {strip})"))?;
            Ok(s.to_string())
        };
        let target = match file_patch.operation().strip_prefix(strip) {
            FileOperation::Create(p) => Target::Create(path(&p)?),
            FileOperation::Delete(p) => Target::Delete(path(&p)?),
            FileOperation::Modify { original, modified } => Target::Modify {
                original: path(&original)?,
                modified: path(&modified)?,
            },
            FileOperation::Rename { from, to } => Target::Rename {
                from: path(&from)?,
                to: path(&to)?,
            },
            FileOperation::Copy { from, to } => Target::Copy {
                from: path(&from)?,
                to: path(&to)?,
            },
        };
        let new_mode = match file_patch.new_mode() {
            Some(FileMode::Executable) => Some(0o755),
            Some(_) => Some(0o644),
            None => None,
        };
        match file_patch.into_patch() {
            PatchKind::Text(diff) => out.push(FileDiff {
                target,
                diff,
                new_mode,
            }),
            PatchKind::Binary(_) => return Err("binary patches are not supported".into()),
        }
    }
    if out.is_empty() {
        return Err("no diff found in the patch".into());
    }
    Ok(out)
}

/// Apply the patch file `patch` with strip level `strip` inside `srcdir`.
pub fn apply(patch: &Path, strip: usize, srcdir: &Path) -> Result<Applied> {
    let bytes = fs::read(patch).at("read", patch)?;
    let diffs = parse(&bytes, strip).map_err(|message| Error::PatchParse {
        patch: patch.to_path_buf(),
        message,
    })?;
    let mut applied = Applied::default();
    for FileDiff {
        target,
        diff,
        new_mode,
    } in diffs
    {
        let hunk_err = |file: &str, e: diffy::ApplyError| {
            // diffy reports "error applying hunk #N".
            let hunk = e
                .to_string()
                .rsplit('#')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            Error::PatchHunk {
                patch: patch.to_path_buf(),
                file: file.to_string(),
                hunk,
            }
        };
        let target_err = |file: &str, reason: &str| Error::PatchTarget {
            patch: patch.to_path_buf(),
            file: file.to_string(),
            reason: reason.to_string(),
        };
        match target {
            Target::Create(file) => {
                if fs::symlink_metadata(srcdir.join(&file)).is_ok() {
                    return Err(target_err(
                        &file,
                        "the patch creates it, but it already exists (already applied?)",
                    ));
                }
                let out = diffy::apply_bytes(b"", &diff).map_err(|e| hunk_err(&file, e))?;
                let parent = Path::new(&file).parent().unwrap_or(Path::new(""));
                create_dirs_nofollow(srcdir, parent)
                    .map_err(|e| target_err(&file, &e.to_string()))?;
                replace_file(&srcdir.join(&file), &out, new_mode.unwrap_or(0o644))?;
                applied.files.push(file);
            }
            Target::Delete(file) => {
                let (base, _) = read_target(srcdir, &file).map_err(|r| target_err(&file, &r))?;
                let out = diffy::apply_bytes(&base, &diff).map_err(|e| hunk_err(&file, e))?;
                if !out.is_empty() {
                    return Err(target_err(
                        &file,
                        "the patch deletes it, but its content differs",
                    ));
                }
                let full = srcdir.join(&file);
                fs::remove_file(&full).at("remove", &full)?;
                applied.files.push(file);
            }
            Target::Modify { original, modified } => {
                let file = if is_plain_file_under(srcdir, Path::new(&modified)) {
                    modified
                } else {
                    original
                };
                let (base, mode) = read_target(srcdir, &file).map_err(|r| target_err(&file, &r))?;
                let out = diffy::apply_bytes(&base, &diff).map_err(|e| hunk_err(&file, e))?;
                replace_file(&srcdir.join(&file), &out, new_mode.unwrap_or(mode))?;
                applied.files.push(file);
            }
            Target::Rename { ref from, ref to } | Target::Copy { ref from, ref to } => {
                let (base, mode) = read_target(srcdir, from).map_err(|r| target_err(from, &r))?;
                let out = diffy::apply_bytes(&base, &diff).map_err(|e| hunk_err(from, e))?;
                let parent = Path::new(to).parent().unwrap_or(Path::new(""));
                create_dirs_nofollow(srcdir, parent).map_err(|e| target_err(to, &e.to_string()))?;
                replace_file(&srcdir.join(to), &out, new_mode.unwrap_or(mode))?;
                if matches!(target, Target::Rename { .. }) {
                    let full = srcdir.join(from);
                    fs::remove_file(&full).at("remove", &full)?;
                }
                applied.files.push(to.clone());
            }
        }
    }
    Ok(applied)
}

/// Read a file that must exist as a regular file under `srcdir`.
fn read_target(srcdir: &Path, file: &str) -> std::result::Result<(Vec<u8>, u32), String> {
    if !is_plain_file_under(srcdir, Path::new(file)) {
        return Err(
            "no such regular file in the source (or it is reached through a symlink)".into(),
        );
    }
    let full = srcdir.join(file);
    let mode = fs::metadata(&full)
        .map_err(|e| e.to_string())?
        .permissions()
        .mode()
        & 0o777;
    let data = fs::read(&full).map_err(|e| e.to_string())?;
    Ok((data, mode))
}

/// Replace `path` with new content by rename, so a hardlinked twin in the
/// source tree is not changed behind the patch's back. The work dir is
/// scratch space: no fsync.
fn replace_file(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    let tmp = path.with_file_name(format!(
        ".{}.gport-new",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    fs::write(&tmp, data).at("write", &tmp)?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(mode)).at("set mode of", &tmp)?;
    fs::rename(&tmp, path).at("replace", path)
}

/// Copy the overlay file `from` to `srcdir/rel`, replacing what is there.
pub fn overlay(from: &Path, srcdir: &Path, rel: &Path) -> Result<bool> {
    let parent = rel.parent().unwrap_or(Path::new(""));
    create_dirs_nofollow(srcdir, parent)?;
    let dest = srcdir.join(rel);
    let replaced = match fs::symlink_metadata(&dest) {
        Ok(m) if m.is_dir() => {
            return Err(Error::Invalid {
                path: dest,
                message: "an overlay file would replace a directory".into(),
            });
        }
        Ok(_) => true,
        Err(_) => false,
    };
    let data = fs::read(from).at("read", from)?;
    let mode = fs::metadata(from).at("inspect", from)?.permissions().mode() & 0o755;
    replace_file(&dest, &data, mode | 0o644)?;
    Ok(replaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (p, c) in files {
            let full = d.path().join(p);
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(full, c).unwrap();
        }
        d
    }

    fn patch_file(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("the.patch");
        fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn multi_file_with_header_create_and_delete() {
        let src = setup(&[("a.c", "one\ntwo\nthree\n"), ("old.txt", "bye\n")]);
        let pd = tempfile::tempdir().unwrap();
        let p = patch_file(
            pd.path(),
            "Description: test\nOrigin: vendor\n\n--- a/a.c\n+++ b/a.c\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n--- /dev/null\n+++ b/new/file.h\n@@ -0,0 +1 @@\n+#define X 1\n--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n",
        );
        let applied = apply(&p, 1, src.path()).unwrap();
        assert_eq!(applied.files, ["a.c", "new/file.h", "old.txt"]);
        assert_eq!(
            fs::read_to_string(src.path().join("a.c")).unwrap(),
            "one\nTWO\nthree\n"
        );
        assert_eq!(
            fs::read_to_string(src.path().join("new/file.h")).unwrap(),
            "#define X 1\n"
        );
        assert!(!src.path().join("old.txt").exists());
    }

    #[test]
    fn git_style_and_offset() {
        let src = setup(&[("x/y.c", "pad\npad\none\ntwo\nthree\n")]);
        let pd = tempfile::tempdir().unwrap();
        let p = patch_file(
            pd.path(),
            "From abc Mon Sep 17 00:00:00 2001\nSubject: [PATCH] t\n\n---\ndiff --git a/x/y.c b/x/y.c\nindex 1..2 100644\n--- a/x/y.c\n+++ b/x/y.c\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n",
        );
        apply(&p, 1, src.path()).unwrap();
        assert_eq!(
            fs::read_to_string(src.path().join("x/y.c")).unwrap(),
            "pad\npad\none\n2\nthree\n"
        );
    }

    #[test]
    fn failing_hunk_names_file_and_hunk() {
        let src = setup(&[("a.c", "one\ntwo\nthree\n")]);
        let pd = tempfile::tempdir().unwrap();
        let p = patch_file(
            pd.path(),
            "--- a/a.c\n+++ b/a.c\n@@ -1,3 +1,3 @@\n one\n-zwei\n+TWO\n three\n",
        );
        match apply(&p, 1, src.path()) {
            Err(Error::PatchHunk { file, hunk, .. }) => {
                assert_eq!((file.as_str(), hunk), ("a.c", 1))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn escaping_target_is_refused() {
        let src = setup(&[("a.c", "x\n")]);
        let pd = tempfile::tempdir().unwrap();
        let p = patch_file(
            pd.path(),
            "--- a/../evil\n+++ b/../evil\n@@ -1 +1 @@\n-x\n+y\n",
        );
        assert!(matches!(
            apply(&p, 1, src.path()),
            Err(Error::PatchParse { .. })
        ));
    }
}
