//! Parsing `AWS_LAMBDA_RUNTIME_API`: `host:port`, `[v6]:port`, or
//! `http://host:port[/prefix]`. The host is an IP literal or `localhost`.

use crate::http::eq_nocase;
use crate::{sys, Error};
/// A parsed Runtime API address, borrowing the text it was parsed from
/// (for the runtime, the environment: `'static`).
#[derive(Clone, Copy, Debug)]
pub struct Addr<'a> {
    /// IPv4 (first 4 bytes) or IPv6 (16 bytes); see `ip_len`.
    ip: [u8; 16],
    ip_len: usize,
    /// `localhost` tries 127.0.0.1 and then ::1.
    localhost: bool,
    port: u16,
    /// The `Host` header value: the authority as given.
    host: &'a str,
    /// Path prefix before `/2018-06-01`, without a trailing slash; often empty.
    prefix: &'a str,
}

impl<'a> Addr<'a> {
    /// Parses an address in any of the accepted shapes.
    ///
    /// ```
    /// let a = faas::addr::Addr::parse("http://[::1]:9001/base/").unwrap();
    /// assert_eq!((a.host(), a.prefix(), a.port()), ("[::1]:9001", "/base", 9001));
    /// assert!(faas::addr::Addr::parse("example.com:80").is_err());
    /// ```
    pub fn parse(s: &'a str) -> Result<Addr<'a>, Error> {
        // Byte-wise on purpose: str slicing and trimming pull Unicode tables
        // and panic formatting into every bootstrap.
        let s = s.as_bytes().trim_ascii();
        let rest = match s {
            [h, t, t2, p, b':', b'/', b'/', rest @ ..] if eq_nocase(&[*h, *t, *t2, *p], b"http") => rest,
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
                if authority[..i].iter().any(|&b| b == b':') {
                    return Err(Error::Address); // a bare IPv6 address needs brackets
                }
                (&authority[..i], &authority[i + 1..])
            }
        };
        let port = parse_port(port).ok_or(Error::Address)?;
        if prefix.iter().any(|&b| b <= b' ' || b == b'?' || b == b'#' || b >= 0x7f) {
            return Err(Error::Address);
        }
        // Both are ASCII here (checked above, or an IP literal).
        let text = |b: &'a [u8]| sys::ascii(b).ok_or(Error::Address);
        let mut a = Addr { ip: [0; 16], ip_len: 4, localhost: false, port, host: text(authority)?, prefix: text(prefix)? };
        if eq_nocase(host, b"localhost") {
            a.ip[..4].copy_from_slice(&[127, 0, 0, 1]);
            a.localhost = true;
        } else {
            a.ip_len = parse_ip(host, &mut a.ip).ok_or(Error::Address)?;
        }
        Ok(a)
    }

    /// The `Host` header value.
    pub fn host(&self) -> &'a str {
        self.host
    }

    /// The path prefix, empty or starting with `/`.
    pub fn prefix(&self) -> &'a str {
        self.prefix
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

/// Parses a numeric IPv4 (`a.b.c.d`) or IPv6 address (RFC 4291 text forms,
/// with `::` and a trailing IPv4 part) into `out`; returns 4 or 16, the
/// bytes used. Written here rather than taken from libc's inet_pton to keep
/// static bootstraps small.
pub fn parse_ip(s: &[u8], out: &mut [u8; 16]) -> Option<usize> {
    if !s.iter().any(|&b| b == b':') {
        return parse_v4(s, &mut out[..4]).then_some(4);
    }
    let mut words = [0u16; 8];
    let (mut n, mut gap) = (0, None);
    let mut rest = s;
    if let [b':', b':', r @ ..] = rest {
        gap = Some(0);
        rest = r;
    }
    while !rest.is_empty() {
        let end = rest.iter().position(|&b| b == b':').unwrap_or(rest.len());
        let part = &rest[..end];
        if part.iter().any(|&b| b == b'.') {
            // An IPv4 tail fills the last two words.
            let mut v4 = [0u8; 4];
            if end != rest.len() || n > 6 || !parse_v4(part, &mut v4) {
                return None;
            }
            words[n] = u16::from_be_bytes([v4[0], v4[1]]);
            words[n + 1] = u16::from_be_bytes([v4[2], v4[3]]);
            n += 2;
            break;
        }
        if n == 8 || part.is_empty() || part.len() > 4 {
            return None;
        }
        words[n] = part.iter().try_fold(0u16, |v, &b| Some(v << 4 | (b as char).to_digit(16)? as u16))?;
        n += 1;
        rest = &rest[end..];
        match rest {
            [b':', b':', r @ ..] if gap.is_none() => {
                gap = Some(n);
                rest = r;
            }
            [b':', r @ ..] if !r.is_empty() && r[0] != b':' => rest = r,
            [] => {}
            _ => return None,
        }
    }
    match gap {
        None if n == 8 => {}
        Some(g) if n < 8 => {
            // Move the words after the gap to the end.
            words.copy_within(g..n, 8 - (n - g));
            words[g..8 - (n - g)].fill(0);
        }
        _ => return None,
    }
    for (i, w) in words.iter().enumerate() {
        out[2 * i..2 * i + 2].copy_from_slice(&w.to_be_bytes());
    }
    Some(16)
}

fn parse_v4(s: &[u8], out: &mut [u8]) -> bool {
    let mut parts = s.split(|&b| b == b'.');
    for o in out.iter_mut() {
        match parts.next() {
            Some(p) if (1..=3).contains(&p.len()) && p.iter().all(u8::is_ascii_digit) => {
                let v = p.iter().fold(0u16, |v, &b| v * 10 + u16::from(b - b'0'));
                match u8::try_from(v) {
                    Ok(v) => *o = v,
                    Err(_) => return false,
                }
            }
            _ => return false,
        }
    }
    parts.next().is_none()
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
    extern crate std;

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
    fn ip_literals() {
        let v6 = |s: &str| {
            let mut o = [0u8; 16];
            parse_ip(s.as_bytes(), &mut o).map(|n| o[..n].to_vec())
        };
        let w = |ws: [u16; 8]| Some(ws.iter().flat_map(|w| w.to_be_bytes()).collect::<std::vec::Vec<u8>>());
        assert_eq!(v6("127.0.0.1"), Some(std::vec![127, 0, 0, 1]));
        assert_eq!(v6("255.255.255.255"), Some(std::vec![255; 4]));
        assert_eq!(v6("::1"), w([0, 0, 0, 0, 0, 0, 0, 1]));
        assert_eq!(v6("::"), w([0; 8]));
        assert_eq!(v6("1::"), w([1, 0, 0, 0, 0, 0, 0, 0]));
        assert_eq!(v6("fe80::1:2"), w([0xfe80, 0, 0, 0, 0, 0, 1, 2]));
        assert_eq!(v6("1:2:3:4:5:6:7:8"), w([1, 2, 3, 4, 5, 6, 7, 8]));
        assert_eq!(v6("::ffff:10.0.0.1"), w([0, 0, 0, 0, 0, 0xffff, 0x0a00, 1]));
        assert_eq!(v6("ABCD::eF"), w([0xabcd, 0, 0, 0, 0, 0, 0, 0xef]));
        for bad in ["", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.-1", "1..2.3", "1:2", ":1", "1:", "1:::2", "1::2::3",
                    "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "::1.2.3.4:5", "g::", "::1.2.3", "1234.1.1.1"] {
            assert_eq!(v6(bad), None, "{bad:?}");
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
