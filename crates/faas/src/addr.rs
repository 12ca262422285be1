//! Parsing `AWS_LAMBDA_RUNTIME_API`: `host:port`, `[v6]:port`, or
//! `http://host:port[/prefix]`. The host is an IP literal or `localhost`.

use crate::http::eq_nocase;
use crate::{sys, Error};

/// A parsed Runtime API address, borrowing the text it was parsed from
/// (for the runtime, the environment: `'static`).
#[derive(Clone, Copy, Debug)]
pub struct Addr<'a> {
    /// The address in network order: IPv4 in the first 4 bytes, or IPv6.
    ip: [u8; 16],
    v6: bool,
    /// `localhost` tries 127.0.0.1 and then ::1.
    localhost: bool,
    port: u16,
    /// The `Host` header value: the authority as given.
    host: &'a str,
    /// Path prefix before `/2018-06-01`, without a trailing slash; often empty.
    prefix: &'a str,
}

impl<'a> Addr<'a> {
    /// Parses an address in any of the accepted shapes. IP literals are
    /// read by libc's `inet_pton` (free in a glibc bootstrap, no bigger than
    /// [`parse_ip`] in a static musl one): the same forms as [`parse_ip`].
    ///
    /// ```
    /// let a = faas::addr::Addr::parse("http://[::1]:9001/base/").unwrap();
    /// assert_eq!((a.host(), a.prefix(), a.port(), a.is_v6()), ("[::1]:9001", "/base", 9001, true));
    /// assert!(faas::addr::Addr::parse("example.com:80").is_err());
    /// ```
    pub fn parse(s: &'a str) -> Result<Addr<'a>, Error> {
        // Byte-wise, with no indexing that could panic: a panic site would
        // pull the formatting machinery into every bootstrap.
        let s = s.as_bytes().trim_ascii();
        let rest = match s.split_at_checked(7) {
            Some((scheme, rest)) if eq_nocase(scheme, b"http://") => rest,
            _ => s,
        };
        // "https://..." or "ftp://..." leave "https:" as the authority,
        // whose empty port fails below.
        let slash = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
        let (authority, mut prefix) = rest.split_at_checked(slash).ok_or(Error::Address)?;
        while let [p @ .., b'/'] = prefix {
            prefix = p;
        }
        let colon = authority.iter().rposition(|&b| b == b':').ok_or(Error::Address)?;
        let (host, port) = authority.split_at_checked(colon).ok_or(Error::Address)?;
        let port = port.get(1..).and_then(parse_port).ok_or(Error::Address)?;
        if prefix.iter().any(|&b| b <= b' ' || b == b'?' || b == b'#' || b >= 0x7f) {
            return Err(Error::Address);
        }
        let mut a = Addr { ip: [0; 16], v6: false, localhost: false, port, host: "", prefix: "" };
        match host {
            [b'[', v6 @ .., b']'] => a.v6 = sys::inet_pton(true, v6, &mut a.ip),
            _ if eq_nocase(host, b"localhost") => {
                a.ip = [127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
                a.localhost = true;
            }
            _ if !sys::inet_pton(false, host, &mut a.ip) => return Err(Error::Address),
            _ => {}
        }
        if host.first() == Some(&b'[') && !a.v6 {
            return Err(Error::Address);
        }
        // ASCII: an IP literal or localhost, digits, and a checked prefix.
        a.host = sys::ascii(authority).ok_or(Error::Address)?;
        a.prefix = sys::ascii(prefix).ok_or(Error::Address)?;
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

    /// True for an IPv6 literal.
    pub fn is_v6(&self) -> bool {
        self.v6
    }

    /// Connects; `localhost` falls back from 127.0.0.1 to ::1.
    pub fn connect(&self) -> Result<sys::Fd, Error> {
        match sys::connect(self.v6, &self.ip, self.port) {
            Err(_) if self.localhost => {
                let mut v6 = [0u8; 16];
                v6[15] = 1;
                sys::connect(true, &v6, self.port)
            }
            r => r,
        }
    }
}

/// Parses an IP literal: a dotted quad into the first 4 bytes of `out`
/// (returns 4), or IPv6 text (RFC 4291: groups of 1 to 4 hex digits, one
/// `::`, an optional dotted-quad tail) into all 16 (returns 16). Leading
/// zeros in a dotted quad are refused, as libc's `inet_pton` does.
/// For faas-rie, which links no libc; the runtime uses libc's `inet_pton`,
/// which reads the same forms (a property test holds both to std's parsers).
pub fn parse_ip(s: &[u8], out: &mut [u8; 16]) -> Option<usize> {
    if !s.iter().any(|&b| b == b':') {
        return v4(s, out).then_some(4);
    }
    let mut g = [0u16; 8];
    let (mut n, mut gap) = (0, None);
    let mut rest = s;
    if let [b':', b':', r @ ..] = rest {
        (gap, rest) = (Some(0), r);
    }
    while !rest.is_empty() {
        let end = rest.iter().position(|&b| b == b':').unwrap_or(rest.len());
        let (part, tail) = rest.split_at_checked(end)?;
        if part.iter().any(|&b| b == b'.') {
            // A dotted-quad tail: the last two groups.
            let mut q = [0u8; 16];
            if !tail.is_empty() || !v4(part, &mut q) {
                return None;
            }
            for w in [u16::from_be_bytes([q[0], q[1]]), u16::from_be_bytes([q[2], q[3]])] {
                *g.get_mut(n)? = w;
                n += 1;
            }
            break;
        }
        if part.is_empty() || part.len() > 4 {
            return None;
        }
        *g.get_mut(n)? = part.iter().try_fold(0u16, |v, &b| Some(v << 4 | (b as char).to_digit(16)? as u16))?;
        n += 1;
        rest = match tail {
            [b':', b':', r @ ..] if gap.is_none() => {
                gap = Some(n);
                r
            }
            [b':', r @ ..] if !r.is_empty() => r,
            [] => tail,
            _ => return None,
        };
    }
    // `::` stands for at least one zero group; without it there are eight.
    let zeros = 8 - n;
    let at = match gap {
        Some(at) if zeros > 0 => at,
        None if zeros == 0 => 8,
        _ => return None,
    };
    for (k, o) in out.chunks_exact_mut(2).enumerate() {
        let w = if k < at { g.get(k) } else { g.get(k.wrapping_sub(zeros)).filter(|_| k >= at + zeros) };
        if let [hi, lo] = o {
            [*hi, *lo] = w.copied().unwrap_or(0).to_be_bytes();
        }
    }
    Some(16)
}

/// A dotted quad into the first 4 bytes of `out`.
fn v4(s: &[u8], out: &mut [u8; 16]) -> bool {
    let mut n = 0;
    for part in s.split(|&b| b == b'.') {
        let plain = part.len() <= 3 && (part.len() == 1 || part.first() != Some(&b'0'));
        match (out.get_mut(n).filter(|_| n < 4), crate::http::parse_dec(part).filter(|&v| plain && v < 256)) {
            (Some(o), Some(v)) => *o = v as u8,
            _ => return false,
        }
        n += 1;
    }
    n == 4
}

fn parse_port(s: &[u8]) -> Option<u16> {
    let v = crate::http::parse_dec(s).filter(|&v| s.len() <= 5 && v > 0)?;
    u16::try_from(v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;

    #[test]
    fn accepted_shapes() {
        let cases: &[(&str, &str, u16, &str, bool)] = &[
            ("127.0.0.1:9001", "127.0.0.1:9001", 9001, "", false),
            ("localhost:9001", "localhost:9001", 9001, "", false),
            ("LOCALHOST:1", "LOCALHOST:1", 1, "", false),
            ("[::1]:9001", "[::1]:9001", 9001, "", true),
            ("http://127.0.0.1:8080", "127.0.0.1:8080", 8080, "", false),
            ("HTTP://127.0.0.1:8080/", "127.0.0.1:8080", 8080, "", false),
            ("http://127.0.0.1:8080/a/b/", "127.0.0.1:8080", 8080, "/a/b", false),
            ("http://[::1]:65535/x", "[::1]:65535", 65535, "/x", true),
            ("[fe80::1:2]:1", "[fe80::1:2]:1", 1, "", true),
            ("[::ffff:10.0.0.1]:1", "[::ffff:10.0.0.1]:1", 1, "", true),
            ("  10.0.0.1:80\n", "10.0.0.1:80", 80, "", false),
        ];
        for &(input, host, port, prefix, v6) in cases {
            let a = Addr::parse(input).unwrap_or_else(|e| panic!("{input}: {e:?}"));
            assert_eq!((a.host(), a.port(), a.prefix(), a.is_v6()), (host, port, prefix, v6), "{input}");
        }
        assert_eq!(Addr::parse("[::1]:1").unwrap().ip, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(Addr::parse("10.1.2.3:1").unwrap().ip[..4], [10, 1, 2, 3]);
    }

    #[test]
    fn ip_literals() {
        let ip = |s: &str| {
            let mut o = [0u8; 16];
            parse_ip(s.as_bytes(), &mut o).map(|n| o[..n].to_vec())
        };
        let w = |ws: [u16; 8]| Some(ws.iter().flat_map(|w| w.to_be_bytes()).collect::<std::vec::Vec<u8>>());
        assert_eq!(ip("127.0.0.1"), Some(std::vec![127, 0, 0, 1]));
        assert_eq!(ip("255.255.255.255"), Some(std::vec![255; 4]));
        assert_eq!(ip("::1"), w([0, 0, 0, 0, 0, 0, 0, 1]));
        assert_eq!(ip("::"), w([0; 8]));
        assert_eq!(ip("1::"), w([1, 0, 0, 0, 0, 0, 0, 0]));
        assert_eq!(ip("fe80::1:2"), w([0xfe80, 0, 0, 0, 0, 0, 1, 2]));
        assert_eq!(ip("1:2:3:4:5:6:7:8"), w([1, 2, 3, 4, 5, 6, 7, 8]));
        assert_eq!(ip("1:2:3::6:7:8"), w([1, 2, 3, 0, 0, 6, 7, 8]));
        assert_eq!(ip("::ffff:10.0.0.1"), w([0, 0, 0, 0, 0, 0xffff, 0x0a00, 1]));
        assert_eq!(ip("1:2:3:4:5:6:1.2.3.4"), w([1, 2, 3, 4, 5, 6, 0x0102, 0x0304]));
        assert_eq!(ip("ABCD::eF"), w([0xabcd, 0, 0, 0, 0, 0, 0, 0xef]));
        for bad in [
            "",
            "1.2.3",
            "1.2.3.4.5",
            "256.0.0.1",
            "01.2.3.4",
            "1.2.3.-1",
            "1..2.3",
            "1:2",
            ":1",
            "1:",
            ":::",
            "1:::2",
            "1::2::3",
            "12345::",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7:8::",
            "1:2:3:4:5:6:7::8",
            "::1.2.3.4:5",
            "g::",
            "::1.2.3",
            "1234.1.1.1",
            "1:2:3:4:5:6:7:1.2.3.4",
        ] {
            assert_eq!(ip(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rejected_shapes() {
        for input in [
            "",
            "127.0.0.1",
            "127.0.0.1:",
            "127.0.0.1:0",
            "127.0.0.1:65536",
            "127.0.0.1:x",
            "127.0.0.1:000001",
            "::1:9001",
            "[::1]9001",
            "[::1:9001",
            "https://127.0.0.1:1",
            "example.com:80",
            "[127.0.0.1]:1",
            "999.0.0.1:1",
            "1.2.3:1",
            "1.2.3.4.5:1",
            "[1::2::3]:1",
            "[g::]:1",
            "http://127.0.0.1:1/a b",
            "ftp://x:1",
        ] {
            assert!(Addr::parse(input).is_err(), "{input:?} was accepted");
        }
    }
}
