//! Path checks shared by every place that takes a path from outside: port
//! files, tarballs, patches, build output, mirror indexes.

use std::path::{Component, Path};

/// A relative path must be non-empty, without `..`, `.` or empty
/// components, control characters or backslashes.
pub fn check_rel_path(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 4096 {
        return Err(format!("invalid path '{s}': empty or too long"));
    }
    if s.chars().any(|c| c.is_control() || c == '\\') {
        return Err(format!(
            "invalid path {s:?}: control characters or backslashes"
        ));
    }
    if s.starts_with('/') || s.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
        return Err(format!(
            "invalid path '{s}': must be relative, without '.', '..' or empty components"
        ));
    }
    Ok(())
}

/// Does a symlink at relative path `link` whose text is `target` stay inside
/// the tree it is in, judged lexically? Absolute targets never do.
pub fn stays_inside(link: &Path, target: &Path) -> bool {
    let mut depth = link.parent().map_or(0, |p| p.components().count());
    for c in target.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rel_paths_refuse_escapes() {
        for bad in ["../x", "/etc/passwd", "a//b", "a/./b", "", "a\nb", "a\\b"] {
            assert!(check_rel_path(bad).is_err(), "{bad:?}");
        }
        assert!(check_rel_path("src/config.h").is_ok());
    }

    #[test]
    fn symlink_containment() {
        assert!(stays_inside(Path::new("a/b/l"), Path::new("../c")));
        assert!(stays_inside(Path::new("a/l"), Path::new("../x")));
        assert!(!stays_inside(Path::new("a/l"), Path::new("../../x")));
        assert!(!stays_inside(Path::new("l"), Path::new("/etc")));
        assert!(!stays_inside(Path::new("a/l"), Path::new("b/../../../x")));
    }
}
