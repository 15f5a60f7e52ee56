//! DEP-3 patch headers: the `Key: value` lines before the first diff.
//!
//! Required (an audit fails without them): `Description` (or `Subject`, as
//! git format-patch writes), `Origin`, and an upstream status in
//! `Forwarded` or `Applied-Upstream`. Recommended (required with
//! `--strict`): `Author` (or `From`), `Last-Update`.

use std::collections::BTreeMap;

pub const REQUIRED: [&str; 3] = ["Description", "Origin", "Forwarded"];
pub const RECOMMENDED: [&str; 2] = ["Author", "Last-Update"];

/// Field name -> value (continuation lines joined with '\n').
pub fn parse(text: &str) -> BTreeMap<String, String> {
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("--- ")
            || line.starts_with("diff ")
            || line.starts_with("Index: ")
            || line == "---"
        {
            break;
        }
        if (line.starts_with(' ') || line.starts_with('\t')) && last.is_some() {
            let v = fields
                .get_mut(last.as_ref().expect("checked"))
                .expect("present");
            v.push('\n');
            v.push_str(line.trim());
            continue;
        }
        match line.split_once(':') {
            Some((k, v)) if !k.is_empty() && !k.contains(' ') => {
                let key = canonical(k);
                fields
                    .entry(key.clone())
                    .or_insert_with(|| v.trim().to_string());
                last = Some(key);
            }
            _ => last = None,
        }
    }
    fields
}

/// Map aliases onto DEP-3 names (git format-patch writes Subject and From;
/// Bug-* and similar stay as they are).
fn canonical(k: &str) -> String {
    match k.to_ascii_lowercase().as_str() {
        "description" | "subject" => "Description".into(),
        "origin" => "Origin".into(),
        "forwarded" => "Forwarded".into(),
        "applied-upstream" => "Applied-Upstream".into(),
        "author" | "from" => "Author".into(),
        "last-update" | "date" => "Last-Update".into(),
        _ => k.to_string(),
    }
}

/// Which required (and, if `strict`, recommended) fields are missing.
pub fn missing(fields: &BTreeMap<String, String>, strict: bool) -> Vec<String> {
    let mut out = Vec::new();
    for k in REQUIRED {
        let present =
            fields.contains_key(k) || (k == "Forwarded" && fields.contains_key("Applied-Upstream"));
        if !present {
            out.push(if k == "Forwarded" {
                "Forwarded or Applied-Upstream".to_string()
            } else {
                k.to_string()
            });
        }
    }
    if strict {
        out.extend(
            RECOMMENDED
                .iter()
                .filter(|k| !fields.contains_key(**k))
                .map(|k| k.to_string()),
        );
    }
    out
}

/// Upstream status, from `Applied-Upstream` and `Forwarded`.
pub fn upstream(fields: &BTreeMap<String, String>) -> &'static str {
    if fields.contains_key("Applied-Upstream") {
        return "accepted";
    }
    match fields.get("Forwarded").map(|v| v.to_ascii_lowercase()) {
        Some(v) if v.starts_with("not-needed") || v.starts_with("not needed") => "not-needed",
        Some(v) if v == "no" || v.starts_with("no ") || v.starts_with("no,") => "local-only",
        Some(v) if !v.is_empty() => "forwarded",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep3_and_format_patch_headers() {
        let f = parse(
            "Description: fix it\n more text\nOrigin: vendor\nForwarded: not-needed\n\n--- a/x\n+++ b/x\nOrigin: not a header\n",
        );
        assert_eq!(f["Description"], "fix it\nmore text");
        assert_eq!(upstream(&f), "not-needed");
        assert!(missing(&f, false).is_empty());
        assert_eq!(missing(&f, true), ["Author", "Last-Update"]);
        let g = parse(
            "From 123 Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\nSubject: [PATCH] x\n\n---\n x | 1 +\n",
        );
        assert_eq!(g["Author"], "A <a@b>");
        assert_eq!(
            missing(&g, false),
            ["Origin", "Forwarded or Applied-Upstream"]
        );
        assert_eq!(upstream(&parse("Applied-Upstream: 1.2\n")), "accepted");
        assert_eq!(upstream(&parse("Forwarded: https://bugs/1\n")), "forwarded");
        assert_eq!(upstream(&parse("Forwarded: no\n")), "local-only");
    }
}
