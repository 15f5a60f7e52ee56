//! Ordering versions, to tell whether the tree holds something newer than
//! what is installed.
//!
//! A version is split into runs of digits and runs of letters (other
//! characters separate runs); runs compare left to right, numbers
//! numerically, letters as strings, a number above letters (`1.0a` < `1.0.1`
//! sorts the way upstreams mean it). A `~` sorts before anything, even the
//! end (`1.0~rc1` < `1.0`), as in Debian. The revision breaks ties.

use std::cmp::Ordering;

#[derive(Debug, PartialEq, Eq)]
enum Run<'a> {
    Num(&'a str),
    Alpha(&'a str),
    Tilde,
}

fn runs(v: &str) -> Vec<Run<'_>> {
    let mut out = Vec::new();
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        if b[i] == b'~' {
            out.push(Run::Tilde);
            i += 1;
        } else if b[i].is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Run::Num(v[start..i].trim_start_matches('0')));
        } else if b[i].is_ascii_alphabetic() {
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            out.push(Run::Alpha(&v[start..i]));
        } else {
            i += 1;
        }
    }
    out
}

/// Compare two upstream versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ra, rb) = (runs(a), runs(b));
    let mut i = 0;
    loop {
        match (ra.get(i), rb.get(i)) {
            (None, None) => return Ordering::Equal,
            (Some(Run::Tilde), Some(Run::Tilde)) => {}
            (Some(Run::Tilde), _) => return Ordering::Less,
            (_, Some(Run::Tilde)) => return Ordering::Greater,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(Run::Num(x)), Some(Run::Num(y))) => {
                let o = x.len().cmp(&y.len()).then_with(|| x.cmp(y));
                if o != Ordering::Equal {
                    return o;
                }
            }
            (Some(Run::Num(_)), Some(Run::Alpha(_))) => return Ordering::Greater,
            (Some(Run::Alpha(_)), Some(Run::Num(_))) => return Ordering::Less,
            (Some(Run::Alpha(x)), Some(Run::Alpha(y))) => {
                if x != y {
                    return x.cmp(y);
                }
            }
        }
        i += 1;
    }
}

/// Compare full versions `VERSION[_REVISION]`.
pub fn compare_full(a: &str, b: &str) -> Ordering {
    let split = |v: &str| match v.rsplit_once('_') {
        Some((v, r)) => (v.to_string(), r.parse::<u64>().unwrap_or(0)),
        None => (v.to_string(), 0),
    };
    let ((va, ra), (vb, rb)) = (split(a), split(b));
    compare(&va, &vb).then(ra.cmp(&rb))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn orders_like_upstreams_mean() {
        for (a, b, o) in [
            ("5.4.4", "5.4.6", Less),
            ("5.4.10", "5.4.9", Greater),
            ("1.0", "1.0.0", Less),
            ("1.0", "1.00", Equal),
            ("1.0a", "1.0.1", Less),
            ("1.0~rc1", "1.0", Less),
            ("R59c", "R59b", Greater),
            ("R59c", "R60", Less),
            ("20221106", "20230201", Less),
        ] {
            assert_eq!(compare(a, b), o, "{a} vs {b}");
        }
    }

    #[test]
    fn revision_breaks_ties() {
        assert_eq!(compare_full("5.4.4_1", "5.4.4"), Greater);
        assert_eq!(compare_full("5.4.4_2", "5.4.4_10"), Less);
        assert_eq!(compare_full("5.4.6", "5.4.4_3"), Greater);
    }
}
