//! Fitting a patch's hunks onto a file the way GNU patch does, reporting for
//! each hunk where it landed: at its stated line, at an offset, with fuzz
//! (up to `max_fuzz` outer context lines ignored at each end), or not at all.
//!
//! The audit uses this to classify patches; installs stay stricter (offsets
//! allowed, fuzz never: see `crate::patch`).

use diffy::{Line, Patch};

/// Where one hunk landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HunkFit {
    /// Lines away from the position the hunk states.
    pub offset: isize,
    /// Context lines ignored at each end to make it match.
    pub fuzz: usize,
}

/// Split into lines, each keeping its terminator (the last may lack one),
/// as diffy's hunk lines do.
fn lines(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in data.iter().enumerate() {
        if *b == b'\n' {
            out.push(&data[start..=i]);
            start = i + 1;
        }
    }
    if start < data.len() {
        out.push(&data[start..]);
    }
    out
}

/// Apply `patch` to `base`, allowing up to `max_fuzz`. On failure, the
/// 1-based number of the first hunk that does not fit.
pub fn fit(
    base: &[u8],
    patch: &Patch<'_, [u8]>,
    max_fuzz: usize,
) -> Result<(Vec<u8>, Vec<HunkFit>), usize> {
    let mut image: Vec<&[u8]> = lines(base);
    let mut fits = Vec::new();
    let mut last_offset: isize = 0;
    // Hunks may not land before the end of the previous one.
    let mut floor = 0usize;
    // Lines earlier hunks added (or removed): hunks state positions in the
    // original file, while `image` is patched in place.
    let mut delta: isize = 0;
    for (i, hunk) in patch.hunks().iter().enumerate() {
        let all = hunk.lines();
        let lead = all
            .iter()
            .take_while(|l| matches!(l, Line::Context(_)))
            .count();
        let trail = all
            .iter()
            .rev()
            .take_while(|l| matches!(l, Line::Context(_)))
            .count();
        let stated = hunk.old_range().start().saturating_sub(1);
        let mut placed = None;
        for fuzz in 0..=max_fuzz {
            let (dl, dt) = (fuzz.min(lead), fuzz.min(trail));
            if fuzz > 0 && dl == 0 && dt == 0 {
                break;
            }
            if dl + dt > all.len() {
                break;
            }
            let core = &all[dl..all.len() - dt];
            let pre: Vec<&[u8]> = core
                .iter()
                .filter_map(|l| match l {
                    Line::Context(t) | Line::Delete(t) => Some(*t),
                    Line::Insert(_) => None,
                })
                .collect();
            let post: Vec<&[u8]> = core
                .iter()
                .filter_map(|l| match l {
                    Line::Context(t) | Line::Insert(t) => Some(*t),
                    Line::Delete(_) => None,
                })
                .collect();
            let here = (stated + dl) as isize + delta;
            let want = here + last_offset;
            let max_pos = image.len().checked_sub(pre.len());
            let Some(max_pos) = max_pos else { continue };
            let matches = |pos: usize| {
                pos >= floor && pos <= max_pos && image[pos..pos + pre.len()] == pre[..]
            };
            let found = (0..=image.len() as isize + 1).find_map(|d| {
                [want - d, want + d]
                    .into_iter()
                    .filter(|p| *p >= 0)
                    .map(|p| p as usize)
                    .find(|&p| matches(p))
            });
            if let Some(pos) = found {
                let offset = pos as isize - here;
                delta += post.len() as isize - pre.len() as isize;
                image.splice(pos..pos + pre.len(), post.iter().copied());
                floor = pos + post.len();
                last_offset = offset;
                placed = Some(HunkFit { offset, fuzz });
                break;
            }
        }
        match placed {
            Some(f) => fits.push(f),
            None => return Err(i + 1),
        }
    }
    Ok((image.concat(), fits))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Patch<'_, [u8]> {
        Patch::from_bytes(text.as_bytes()).unwrap()
    }

    const PATCH: &str = "--- a/f\n+++ b/f\n@@ -2,5 +2,5 @@\n b\n c\n-d\n+D\n e\n f\n";

    #[test]
    fn exact_offset_fuzz_and_failure() {
        let base = b"a\nb\nc\nd\ne\nf\ng\n";
        let (out, fits) = fit(base, &p(PATCH), 2).unwrap();
        assert_eq!(out, b"a\nb\nc\nD\ne\nf\ng\n");
        assert_eq!(fits, [HunkFit { offset: 0, fuzz: 0 }]);

        let moved = b"x\ny\na\nb\nc\nd\ne\nf\ng\n";
        assert_eq!(
            fit(moved, &p(PATCH), 2).unwrap().1,
            [HunkFit { offset: 2, fuzz: 0 }]
        );

        // Outer context changed: needs fuzz 1.
        let drifted = b"a\nB\nc\nd\ne\nF\ng\n";
        let (out, fits) = fit(drifted, &p(PATCH), 2).unwrap();
        assert_eq!(fits, [HunkFit { offset: 0, fuzz: 1 }]);
        assert_eq!(
            out, b"a\nB\nc\nD\ne\nF\ng\n",
            "fuzz keeps the file's own outer lines"
        );
        assert_eq!(fit(drifted, &p(PATCH), 0), Err(1));

        // The changed line itself is different: no fuzz helps.
        assert_eq!(fit(b"a\nb\nc\nX\ne\nf\ng\n", &p(PATCH), 2), Err(1));
    }

    #[test]
    fn later_hunks_count_from_the_original_lines() {
        // The first hunk adds a line; the second still states original lines.
        let patch =
            p("--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n a\n+new\n b\n@@ -5,2 +6,2 @@\n e\n-f\n+F\n");
        let (out, fits) = fit(b"a\nb\nc\nd\ne\nf\n", &patch, 0).unwrap();
        assert_eq!(out, b"a\nnew\nb\nc\nd\ne\nF\n");
        assert_eq!(
            fits,
            [
                HunkFit { offset: 0, fuzz: 0 },
                HunkFit { offset: 0, fuzz: 0 }
            ]
        );
    }

    #[test]
    fn reverse_detects_already_applied() {
        let patched = b"a\nb\nc\nD\ne\nf\ng\n";
        let patch = p(PATCH);
        assert!(fit(patched, &patch, 0).is_err());
        assert!(fit(patched, &patch.reverse(), 0).is_ok());
    }

    #[test]
    fn missing_newline_at_end() {
        let patch = p(
            "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n",
        );
        assert_eq!(fit(b"a\nb", &patch, 0).unwrap().0, b"a\nc");
    }
}
