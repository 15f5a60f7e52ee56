//! The HTTP client settings every download shares (ureq, blocking: gport
//! runs downloads on plain threads, no async runtime).

use std::io::Read;
use std::time::Duration;

/// An agent with bounded waits: a stalled server fails a download instead
/// of hanging gport. Bodies have no total timeout (large tarballs on slow
/// links), only a per-read one.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_recv_body(None)
        .timeout_per_read(Some(Duration::from_secs(60)))
        .user_agent(concat!("gport/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

/// A response body.
pub struct Body<R> {
    /// The server honoured the range asked for (206).
    pub partial: bool,
    /// Content-Length, when the server sent one: a hint, not a promise.
    pub length: Option<u64>,
    pub reader: R,
}

/// GET `url`, from byte `from` on when resuming.
pub fn get(agent: &ureq::Agent, url: &str, from: u64) -> Result<Body<impl Read + use<>>, String> {
    let mut req = agent.get(url);
    if from > 0 {
        req = req.header("Range", format!("bytes={from}-"));
    }
    let resp = req.call().map_err(|e| e.to_string())?;
    let partial = resp.status().as_u16() == 206;
    let body = resp.into_body();
    Ok(Body {
        partial,
        length: body.content_length(),
        reader: body.into_reader(),
    })
}

/// `base/path` with each path component percent-encoded.
pub fn join_url(base: &str, path: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'+');
    let enc: Vec<String> = path
        .split('/')
        .map(|c| utf8_percent_encode(c, KEEP).to_string())
        .collect();
    format!("{}/{}", base.trim_end_matches('/'), enc.join("/"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_are_encoded_per_component() {
        assert_eq!(
            super::join_url("http://h/m/", "a b/c+d.tgz"),
            "http://h/m/a%20b/c+d.tgz"
        );
    }
}
