//! Parsing `AWS_LAMBDA_RUNTIME_API`: `host:port`, `[v6]:port`, or
//! `http://host:port[/prefix]`. The host is an IP literal or `localhost`.

use crate::{sys, Error};
use heapless::String;

/// Longest accepted value of `AWS_LAMBDA_RUNTIME_API`.
pub const ADDR_MAX: usize = 256;

/// A parsed Runtime API address. Owns its text, so it can be kept anywhere.
#[derive(Clone, Debug)]
pub struct Addr {
    /// IPv4 (first 4 bytes) or IPv6 (16 bytes); see `ip_len`.
    ip: [u8; 16],
    ip_len: usize,
    /// `localhost` tries 127.0.0.1 and then ::1.
    localhost: bool,
    port: u16,
    /// The `Host` header value: the authority as given.
    host: String<ADDR_MAX>,
    /// Path prefix before `/2018-06-01`, without a trailing slash; often empty.
    prefix: String<ADDR_MAX>,
}

impl Addr {
    /// No address (all zero); [`Addr::is_set`] is false.
    pub const UNSET: Addr = Addr { ip: [0; 16], ip_len: 0, localhost: false, port: 0, host: String::new(), prefix: String::new() };

    /// False for [`Addr::UNSET`].
    pub fn is_set(&self) -> bool {
        self.ip_len != 0
    }

    /// Parses an address in any of the accepted shapes.
    ///
    /// ```
    /// let a = faas::addr::Addr::parse("http://[::1]:9001/base/").unwrap();
    /// assert_eq!((a.host(), a.prefix(), a.port()), ("[::1]:9001", "/base", 9001));
    /// assert!(faas::addr::Addr::parse("example.com:80").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Addr, Error> {
        // Byte-wise on purpose: str slicing and trimming pull Unicode tables
        // and panic formatting into every bootstrap.
        let s = s.as_bytes().trim_ascii();
        let rest = match s {
            [h, t, t2, p, b':', b'/', b'/', rest @ ..] if [*h, *t, *t2, *p].eq_ignore_ascii_case(b"http") => rest,
            _ if s.windows(3).any(|w| w == b"://") => return Err(Error::Address),
            _ => s,
        };
        let slash = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
        let (authority, mut prefix) = rest.split_at(slash);
        while let [p @ .., b'/'] = prefix {
            prefix = p;
        }
        let (host, port) = match authority {
            [b'[', v6 @ ..] => {
                let end = v6.iter().position(|&b| b == b']').ok_or(Error::Address)?;
                match &v6[end + 1..] {
                    [b':', port @ ..] => (&v6[..end], port),
                    _ => return Err(Error::Address),
                }
            }
            _ => {
                let i = authority.iter().rposition(|&b| b == b':').ok_or(Error::Address)?;
                if authority[..i].contains(&b':') {
                    return Err(Error::Address); // a bare IPv6 address needs brackets
                }
                (&authority[..i], &authority[i + 1..])
            }
        };
        let port = parse_port(port).ok_or(Error::Address)?;
        if prefix.iter().any(|&b| b <= b' ' || b == b'?' || b == b'#' || b >= 0x7f) {
            return Err(Error::Address);
        }
        let mut a = Addr {
            ip: [0; 16],
            ip_len: 4,
            localhost: false,
            port,
            host: String::new(),
            prefix: String::new(),
        };
        if host.eq_ignore_ascii_case(b"localhost") {
            a.ip[..4].copy_from_slice(&[127, 0, 0, 1]);
            a.localhost = true;
        } else {
            a.ip_len = sys::parse_ip(host, &mut a.ip).ok_or(Error::Address)?;
        }
        // Both are ASCII here (checked above, or an IP literal), so valid UTF-8.
        for (to, from) in [(&mut a.host, authority), (&mut a.prefix, prefix)] {
            let text = core::str::from_utf8(from).map_err(|_| Error::Address)?;
            to.push_str(text).map_err(|_| Error::Address)?;
        }
        Ok(a)
    }

    /// The `Host` header value.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The path prefix, empty or starting with `/`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Connects; `localhost` falls back from 127.0.0.1 to ::1.
    pub fn connect(&self) -> Result<sys::Fd, Error> {
        match sys::connect(&self.ip[..self.ip_len], self.port) {
            Err(_) if self.localhost => {
                let mut v6 = [0u8; 16];
                v6[15] = 1;
                sys::connect(&v6, self.port)
            }
            r => r,
        }
    }
}

fn parse_port(s: &[u8]) -> Option<u16> {
    if s.is_empty() || s.len() > 5 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = s.iter().fold(0u32, |v, &b| v * 10 + u32::from(b - b'0'));
    (1..=65535).contains(&v).then_some(v as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_shapes() {
        let cases: &[(&str, &str, u16, &str, usize)] = &[
            ("127.0.0.1:9001", "127.0.0.1:9001", 9001, "", 4),
            ("localhost:9001", "localhost:9001", 9001, "", 4),
            ("LOCALHOST:1", "LOCALHOST:1", 1, "", 4),
            ("[::1]:9001", "[::1]:9001", 9001, "", 16),
            ("http://127.0.0.1:8080", "127.0.0.1:8080", 8080, "", 4),
            ("HTTP://127.0.0.1:8080/", "127.0.0.1:8080", 8080, "", 4),
            ("http://127.0.0.1:8080/a/b/", "127.0.0.1:8080", 8080, "/a/b", 4),
            ("http://[::1]:65535/x", "[::1]:65535", 65535, "/x", 16),
            ("  10.0.0.1:80\n", "10.0.0.1:80", 80, "", 4),
        ];
        for &(input, host, port, prefix, ip_len) in cases {
            let a = Addr::parse(input).unwrap_or_else(|e| panic!("{input}: {e:?}"));
            assert_eq!((a.host(), a.port(), a.prefix(), a.ip_len), (host, port, prefix, ip_len), "{input}");
        }
    }

    #[test]
    fn rejected_shapes() {
        for input in [
            "", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:x",
            "::1:9001", "[::1]9001", "[::1:9001", "https://127.0.0.1:1", "example.com:80",
            "999.0.0.1:1", "http://127.0.0.1:1/a b", "ftp://x:1",
        ] {
            assert!(Addr::parse(input).is_err(), "{input:?} was accepted");
        }
    }
}
