//! A small HTTP/1.1 server for tests, able to misbehave on purpose: each
//! path gets a canned [`Reply`] — a normal body, a body shorter or longer
//! than it claims, an endless one, a dropped connection, a slow one.
//! Range requests are honoured for normal bodies, and every request's
//! Range header is recorded so tests can see a resume happen.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone)]
pub enum Reply {
    /// 200 with this body (206 for a Range request).
    Body(Vec<u8>),
    /// Claims `declared` bytes, sends `body` and closes.
    Short { body: Vec<u8>, declared: usize },
    /// Sends bytes forever (no Content-Length).
    Endless,
    /// Sends `body` in small chunks with a pause after each.
    Slow { body: Vec<u8>, pause: Duration },
    /// 404.
    Missing,
}

#[derive(Clone, Default)]
pub struct Server {
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    /// (path, Range header) of each request.
    pub requests: Arc<Mutex<Vec<(String, Option<String>)>>>,
    pub url: String,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut s = Server::default();
        s.url = format!("http://{}", listener.local_addr().unwrap());
        let server = s.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let server = server.clone();
                std::thread::spawn(move || server.serve(conn));
            }
        });
        s
    }

    pub fn set(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.to_string(), reply);
    }

    pub fn clear(&self) {
        self.routes.lock().unwrap().clear();
        self.requests.lock().unwrap().clear();
    }

    fn serve(&self, mut conn: TcpStream) {
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() {
            return;
        }
        let raw = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let path = percent_decode(raw.trim_start_matches('/'));
        let mut range = None;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                break;
            }
            if let Some(v) = h
                .strip_prefix("Range: ")
                .or_else(|| h.strip_prefix("range: "))
            {
                range = Some(v.trim().to_string());
            }
        }
        self.requests
            .lock()
            .unwrap()
            .push((path.clone(), range.clone()));
        let reply = self
            .routes
            .lock()
            .unwrap()
            .get(&path)
            .cloned()
            .unwrap_or(Reply::Missing);
        let _ = match reply {
            Reply::Missing => conn.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            ),
            Reply::Body(body) => {
                let from = range
                    .as_deref()
                    .and_then(|r| r.strip_prefix("bytes="))
                    .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok())
                    .filter(|f| *f < body.len());
                match from {
                    Some(f) => {
                        let head = format!(
                            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {f}-{}/{}\r\nConnection: close\r\n\r\n",
                            body.len() - f,
                            body.len() - 1,
                            body.len()
                        );
                        conn.write_all(head.as_bytes())
                            .and_then(|()| conn.write_all(&body[f..]))
                    }
                    None => {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        conn.write_all(head.as_bytes())
                            .and_then(|()| conn.write_all(&body))
                    }
                }
            }
            Reply::Short { body, declared } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
                );
                conn.write_all(head.as_bytes())
                    .and_then(|()| conn.write_all(&body))
            }
            Reply::Endless => {
                let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
                let chunk = vec![b'x'; 64 * 1024];
                while conn.write_all(&chunk).is_ok() {}
                Ok(())
            }
            Reply::Slow { body, pause } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let mut r = conn.write_all(head.as_bytes());
                for c in body.chunks(16 * 1024) {
                    r = r.and_then(|()| conn.write_all(c));
                    std::thread::sleep(pause);
                }
                r
            }
        };
        let _ = conn.shutdown(std::net::Shutdown::Both);
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
