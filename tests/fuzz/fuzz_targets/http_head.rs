//! HTTP heads: `parse_head` (and the `Lines` iterator under it),
//! `Head::status`, `head_end`, `framing`, `parse_dec`, `header`.
//!
//! Input: byte 0 picks the header capacity (0..=31); the rest is what was
//! read from the socket.
//!
//! Invariants checked:
//! - nothing panics;
//! - a head lies in the buffer: `len <= buf.len()`, `headers <= capacity`,
//!   every part is a sub-slice of `buf[..len]`; header names are non-empty
//!   tokens, values are trimmed and hold no CR, LF or NUL; `status()` is
//!   `Some` exactly for a three-digit `start[1]`;
//! - parsing is prefix-stable: `buf[..len]` gives the same head, a shorter
//!   prefix gives `Ok(None)`; the result of a prefix is `Ok(None)` or the
//!   result of the whole;
//! - more header slots never change a head, an incomplete head or a
//!   protocol error;
//! - `head_end` agrees with the parser (the runtime reads until it finds
//!   one, then parses): a head ends in a blank line, exactly where
//!   `head_end` says, and a buffer holding a blank line never parses as
//!   incomplete;
//! - `framing` and `parse_dec` match a plain model (RFC 9112 6.3).
#![no_main]

use faas::http::{framing, head_end, header, parse_dec, parse_head, Framing, Head, Header};
use faas::Error;
use libfuzzer_sys::fuzz_target;

type Owned = Result<Option<(Vec<Vec<u8>>, usize, Vec<(Vec<u8>, Vec<u8>)>)>, Error>;

fn parse(buf: &[u8], cap: usize) -> Owned {
    let mut hs = vec![Header::default(); cap];
    let r = parse_head(buf, &mut hs)?;
    Ok(r.map(|h: Head| {
        let hs = hs[..h.headers].iter().map(|h| (h.name.to_vec(), h.value.to_vec())).collect();
        (h.start.iter().map(|s| s.to_vec()).collect(), h.len, hs)
    }))
}

fn inside(part: &[u8], buf: &[u8]) -> bool {
    let (p, b) = (part.as_ptr() as usize, buf.as_ptr() as usize);
    part.is_empty() || (p >= b && p + part.len() <= b + buf.len())
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 9112 6.3 as plainly as possible, with the runtime's limits.
fn framing_model(hs: &[Header]) -> Result<Framing, Error> {
    let (mut chunked, mut len) = (false, None::<u64>);
    for h in hs {
        if h.name.eq_ignore_ascii_case(b"transfer-encoding") {
            let last = h.value.rsplit(|&b| b == b',').next().unwrap();
            let last = std::str::from_utf8(last).map(|s| s.trim_matches([' ', '\t'])).unwrap_or("");
            if !last.eq_ignore_ascii_case("chunked") {
                return Err(Error::Framing);
            }
            chunked = true;
        } else if h.name.eq_ignore_ascii_case(b"content-length") {
            let v = dec_model(h.value).ok_or(Error::Framing)?;
            if len.is_some_and(|l| l != v) {
                return Err(Error::Framing);
            }
            len = Some(v);
        }
    }
    Ok(if chunked { Framing::Chunked } else { len.map_or(Framing::UntilClose, Framing::Length) })
}

fn dec_model(v: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(v).ok().filter(|s| (1..=18).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))?;
    s.parse().ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, buf)) = data.split_first() else { return };
    let cap = usize::from(sel & 31);
    let mut hs = vec![Header::default(); cap];
    let r = parse_head(buf, &mut hs);
    let whole = parse(buf, cap);

    if let Ok(Some(h)) = r {
        assert!(h.len <= buf.len() && h.headers <= cap);
        let head = &buf[..h.len];
        assert!(h.start.iter().all(|s| inside(s, head)));
        assert!(!h.start[0].is_empty() && !h.start[1].is_empty());
        assert!(h.start.iter().flat_map(|s| s.iter()).all(|&b| b.is_ascii() && !b"\r\n\0".contains(&b)));
        let three = matches!(h.start[1], [a, b, c] if [a, b, c].iter().all(|d| d.is_ascii_digit()));
        assert_eq!(h.status().is_some(), three && h.start[0].starts_with(b"HTTP/1."));
        if let Some(s) = h.status() {
            assert_eq!(format!("{s:03}").as_bytes(), h.start[1]);
        }
        for x in &hs[..h.headers] {
            assert!(inside(x.name, head) && inside(x.value, head));
            assert!(!x.name.is_empty() && x.name.iter().all(|&b| is_token(b)), "{x:?}");
            assert!(!x.value.iter().any(|b| b"\r\n\0".contains(b)), "{x:?}");
            assert!(!matches!(x.value, [b' ' | b'\t', ..] | [.., b' ' | b'\t']), "untrimmed {x:?}");
            assert_eq!(
                header(&hs[..h.headers], std::str::from_utf8(x.name).unwrap()).map(|v| v.as_ptr()),
                hs[..h.headers].iter().find(|y| y.name.eq_ignore_ascii_case(x.name)).map(|y| y.value.as_ptr())
            );
        }
        assert!(matches!(head, [.., b'\n', b'\n'] | [.., b'\n', b'\r', b'\n']), "head does not end in a blank line");
        assert_eq!(head_end(buf), Some(h.len), "head_end disagrees with the parser");
        assert_eq!(parse(head, cap), whole, "the head alone parses differently");
        let fr = framing(&hs[..h.headers]);
        assert_eq!(fr, framing_model(&hs[..h.headers]), "framing");
        for x in &hs[..h.headers] {
            assert_eq!(parse_dec(x.value), dec_model(x.value), "parse_dec {:?}", x.value);
        }
    }

    // Prefixes (all of them for short inputs, a sample for long ones).
    let ks: Vec<usize> = if buf.len() <= 64 { (0..buf.len()).collect() } else { vec![0, 1, buf.len() / 2, buf.len() - 1, usize::from(sel) * 7 % buf.len()] };
    for k in ks {
        let p = parse(&buf[..k], cap);
        match &whole {
            Ok(Some((_, len, _))) if k < *len => assert_eq!(p, Ok(None), "prefix {k}"),
            _ => assert!(p == Ok(None) || p == whole, "prefix {k}: {p:?} vs {whole:?}"),
        }
    }

    // More slots change nothing but TooLarge.
    let big = parse(buf, 64);
    if whole != Err(Error::TooLarge) {
        assert_eq!(big, whole, "more header slots");
    }
    if head_end(buf).is_some() {
        assert_ne!(big, Ok(None), "blank line seen but the head is incomplete");
    }
    assert_eq!(parse_dec(buf), dec_model(buf));
});
