//! JSON without an allocator: string escaping into any byte sink, the
//! Runtime API's error document, base64 for stream trailers, and typed
//! helpers over serde-json-core.

use crate::Error;

/// Writes `s` as the inside of a JSON string. Bytes that are not UTF-8
/// become U+FFFD, so the output is valid JSON whatever `s` holds.
///
/// ```
/// let mut out = Vec::new();
/// faas::json::escape(b"a\"b\n\xff", &mut |b: &[u8]| out.extend_from_slice(b));
/// assert_eq!(out, br#"a\"b\n\ufffd"#);
/// ```
pub fn escape(s: &[u8], sink: &mut dyn FnMut(&[u8])) {
    let (mut i, mut from) = (0, 0);
    while let Some(&b) = s.get(i) {
        let u;
        let (esc, len): (&[u8], usize) = match b {
            b'"' => (b"\\\"", 1),
            b'\\' => (b"\\\\", 1),
            b'\n' => (b"\\n", 1),
            b'\r' => (b"\\r", 1),
            b'\t' => (b"\\t", 1),
            0..=0x1f | 0x7f => {
                let hex = b"0123456789abcdef";
                u = [b'\\', b'u', b'0', b'0', hex[usize::from(b >> 4)], hex[usize::from(b & 15)]];
                (&u, 1)
            }
            0x80.. => match utf8_len(s.get(i..).unwrap_or_default()) {
                Ok(n) => {
                    i += n;
                    continue;
                }
                Err(n) => (b"\\ufffd", n),
            },
            _ => {
                i += 1;
                continue;
            }
        };
        sink(s.get(from..i).unwrap_or_default());
        sink(esc);
        i += len;
        from = i;
    }
    sink(s.get(from..).unwrap_or_default());
}

/// The UTF-8 sequence at the start of `s` (which starts with a byte >= 0x80):
/// `Ok(its length)`, or `Err(the length of the invalid part)` to replace
/// with one U+FFFD, as `String::from_utf8_lossy` does (maximal subparts).
fn utf8_len(s: &[u8]) -> Result<usize, usize> {
    let (need, lo, hi) = match s.first() {
        Some(0xc2..=0xdf) => (1, 0x80, 0xbf),
        Some(0xe0) => (2, 0xa0, 0xbf),
        Some(0xed) => (2, 0x80, 0x9f),
        Some(0xe1..=0xef) => (2, 0x80, 0xbf),
        Some(0xf0) => (3, 0x90, 0xbf),
        Some(0xf1..=0xf3) => (3, 0x80, 0xbf),
        Some(0xf4) => (3, 0x80, 0x8f),
        _ => return Err(1),
    };
    let mut k = 1;
    while k <= need {
        let (lo, hi) = if k == 1 { (lo, hi) } else { (0x80, 0xbf) };
        match s.get(k) {
            Some(&c) if lo <= c && c <= hi => k += 1,
            _ => return Err(k),
        }
    }
    Ok(k)
}

/// Writes the Runtime API error document
/// `{"errorMessage":..,"errorType":..,"stackTrace":[]}`.
pub fn error_document(error_type: &[u8], message: &[u8], sink: &mut dyn FnMut(&[u8])) {
    sink(b"{\"errorMessage\":\"");
    escape(message, sink);
    sink(b"\",\"errorType\":\"");
    escape(error_type, sink);
    sink(b"\",\"stackTrace\":[]}");
}

/// Length of what `write` would send to its sink.
pub fn measure(write: impl FnOnce(&mut dyn FnMut(&[u8]))) -> usize {
    let mut n = 0;
    write(&mut |b: &[u8]| n += b.len());
    n
}

/// A streaming base64 encoder (standard alphabet, padded) in front of a sink.
pub struct Base64<F: FnMut(&[u8])> {
    sink: F,
    pending: [u8; 3],
    n: usize,
}

impl<F: FnMut(&[u8])> Base64<F> {
    pub fn new(sink: F) -> Self {
        Base64 { sink, pending: [0; 3], n: 0 }
    }

    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if let Some(p) = self.pending.get_mut(self.n) {
                *p = b;
            }
            self.n += 1;
            if self.n == 3 {
                self.emit();
            }
        }
    }

    fn emit(&mut self) {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let [a, b, c] = self.pending;
        let mut q = [A[usize::from(a >> 2)], A[usize::from((a & 3) << 4 | b >> 4)], A[usize::from((b & 15) << 2 | c >> 6)], A[usize::from(c & 63)]];
        for p in q.iter_mut().skip(self.n + 1) {
            *p = b'=';
        }
        (self.sink)(&q);
        self.pending = [0; 3];
        self.n = 0;
    }

    /// Writes the final padded group.
    pub fn finish(mut self) {
        if self.n > 0 {
            self.emit();
        }
    }
}

/// Decodes standard base64 (padding optional) into `out`: the bytes written,
/// or `None` if `s` is not base64 or `out` is too small.
///
/// ```
/// let mut out = [0u8; 8];
/// assert_eq!(faas::json::base64_decode(b"Zm9vYg==", &mut out), Some(4));
/// assert_eq!(&out[..4], b"foob");
/// ```
pub fn base64_decode(s: &[u8], out: &mut [u8]) -> Option<usize> {
    let s = s.strip_suffix(b"==").or_else(|| s.strip_suffix(b"=")).unwrap_or(s);
    let (mut acc, mut bits, mut n) = (0u32, 0, 0);
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(n)? = (acc >> bits) as u8;
            n += 1;
        }
    }
    // A lone last character carries no whole byte: not base64.
    (bits < 6).then_some(n)
}

/// Parses a whole event as `T`. Strings are unescaped: a `&str` field
/// borrows from the event, so it takes a string with no escapes only (as
/// with serde_json; one with escapes is `Error::Json`, never text still
/// escaped); a [`Text`] field takes any, with up to 4 KiB of escaped text.
/// Anything but one valid JSON text is `Error::Json` too ([`is_valid`]).
pub fn from_slice<'a, T: serde::Deserialize<'a>>(event: &'a [u8]) -> Result<T, Error> {
    if !is_valid(event) {
        return Err(Error::Json);
    }
    let mut unescaped = [0u8; 4096];
    serde_json_core::from_slice_escaped(event, &mut unescaped).map(|(v, _)| v).map_err(|_| Error::Json)
}

/// How deeply arrays and objects may nest in a document [`from_slice`]
/// reads: serde_json's limit. serde-json-core recurses into every value it
/// skips, so without one an event of 6 MiB of `[` would overflow the stack.
pub const MAX_DEPTH: usize = 127;

/// Whether `s` is exactly one JSON text (RFC 8259, with whitespace around
/// it), UTF-8, nested at most [`MAX_DEPTH`] deep ([`check`]).
/// serde-json-core alone lets some invalid documents through (a raw control
/// character in a string, `{"unknown":tru}`); [`from_slice`] checks this first.
///
/// ```
/// assert!(faas::json::is_valid(br#" {"a":[1,-2.5e3,"\u00e9",null]} "#));
/// assert!(!faas::json::is_valid(br#"{"a":tru}"#));
/// assert!(!faas::json::is_valid(&[b'['; 128]));
/// ```
pub fn is_valid(s: &[u8]) -> bool {
    check(s, &mut [0; MAX_DEPTH]).is_ok()
}

/// Checks that `s` is exactly one JSON text (RFC 8259, with whitespace
/// around it) in UTF-8, nested at most `closers.len()` deep; else the
/// offset of the first byte that is not. One pass, no recursion: `closers`
/// holds the closing byte of every open array or object, innermost last.
///
/// ```
/// use faas::json::check;
/// assert_eq!(check(br#"{"a":[1,2]}"#, &mut [0; 2]), Ok(()));
/// assert_eq!(check(br#"{"a":[1,2}"#, &mut [0; 2]), Err(9));
/// assert_eq!(check(b"[[1]]", &mut [0; 1]), Err(1)); // too deep
/// assert_eq!(check(b"\"\xff\"", &mut []), Err(1)); // not UTF-8
/// ```
#[inline(never)]
pub fn check(s: &[u8], closers: &mut [u8]) -> Result<(), usize> {
    let (mut depth, mut i) = (0, ws(s, 0));
    // An object's member is next: its name and colon come first.
    let mut member = false;
    loop {
        if member {
            i = key(s, i)?;
        }
        // A value starts at `i`.
        let c = *s.get(i).ok_or(i)?;
        match c {
            b'{' | b'[' => {
                *closers.get_mut(depth).ok_or(i)? = c + 2; // `}` and `]`
                depth += 1;
                i = ws(s, i + 1);
                if s.get(i) != Some(&(c + 2)) {
                    member = c == b'{';
                    continue;
                }
                i += 1;
                depth -= 1;
            }
            b'"' => i = string(s, i + 1)?,
            b't' | b'f' | b'n' => {
                let word: &[u8] = match c {
                    b't' => b"true",
                    b'f' => b"false",
                    _ => b"null",
                };
                i = if s.get(i..).unwrap_or_default().starts_with(word) { i + word.len() } else { return Err(i) };
            }
            _ => i = number(s, i)?,
        }
        // After a value: close what it ends, then a comma or the end.
        loop {
            i = ws(s, i);
            let Some(d) = depth.checked_sub(1) else {
                return if i == s.len() { Ok(()) } else { Err(i) };
            };
            let (c, closer) = (s.get(i), closers.get(d));
            if c == Some(&b',') {
                i = ws(s, i + 1);
                member = closer == Some(&b'}');
                break;
            }
            if c.is_none() || c != closer {
                return Err(i);
            }
            i += 1;
            depth = d;
        }
    }
}

fn ws(s: &[u8], mut i: usize) -> usize {
    while matches!(s.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// `"name"` and `:` at `i`: where the value starts.
fn key(s: &[u8], i: usize) -> Result<usize, usize> {
    if s.get(i) != Some(&b'"') {
        return Err(i);
    }
    let i = ws(s, string(s, i + 1)?);
    if s.get(i) != Some(&b':') {
        return Err(i);
    }
    Ok(ws(s, i + 1))
}

/// The rest of a string whose opening quote ends before `i`: past its close.
fn string(s: &[u8], mut i: usize) -> Result<usize, usize> {
    loop {
        let c = *s.get(i).ok_or(i)?;
        i += 1;
        match c {
            b'"' => return Ok(i),
            0..=0x1f => return Err(i - 1),
            b'\\' => {
                let e = *s.get(i).ok_or(i)?;
                i += if e == b'u' {
                    s.get(i + 1..i + 5).filter(|h| h.iter().all(u8::is_ascii_hexdigit)).ok_or(i)?.len() + 1
                } else if b"\"\\/bfnrt".contains(&e) {
                    1
                } else {
                    return Err(i);
                };
            }
            0x80.. => i = utf8(s, i - 1, c)?,
            _ => {}
        }
    }
}

/// One UTF-8 sequence of 2 to 4 bytes (the shortest for its code point,
/// not a surrogate, at most U+10FFFF) at `i`, whose first byte is `c`:
/// where it ends. (Checked here, in strings, the only place JSON has
/// other than ASCII: `core::str::from_utf8` costs 1 KB more.)
fn utf8(s: &[u8], i: usize, c: u8) -> Result<usize, usize> {
    let n = match c {
        0xc0..0xe0 => 1,
        0xe0..0xf0 => 2,
        0xf0..0xf8 => 3,
        _ => return Err(i),
    };
    let mut cp = u32::from(c & (0x3f >> n));
    for k in 1..=n {
        match s.get(i + k) {
            Some(&b) if b & 0xc0 == 0x80 => cp = cp << 6 | u32::from(b & 0x3f),
            _ => return Err(i),
        }
    }
    let min = match n {
        1 => 0x80,
        2 => 0x800,
        _ => 0x10000,
    };
    if cp < min || (0xd800..0xe000).contains(&cp) || cp > 0x10ffff {
        return Err(i);
    }
    Ok(i + 1 + n)
}

/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` at `i`: its end.
fn number(s: &[u8], mut i: usize) -> Result<usize, usize> {
    i += usize::from(s.get(i) == Some(&b'-'));
    i = if s.get(i) == Some(&b'0') { i + 1 } else { digits(s, i)? };
    if s.get(i) == Some(&b'.') {
        i = digits(s, i + 1)?;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        i = digits(s, i + usize::from(matches!(s.get(i), Some(b'+' | b'-'))))?;
    }
    Ok(i)
}

/// Digits from `i` on: where they end, if there is one.
fn digits(s: &[u8], mut i: usize) -> Result<usize, usize> {
    let from = i;
    while s.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if i > from {
        Ok(i)
    } else {
        Err(i)
    }
}

/// A string of up to `N` bytes that holds its own copy: for JSON strings
/// that may contain escapes (`"Jos\u00e9"`), which a `&str` cannot borrow.
pub type Text<const N: usize> = heapless::String<N>;

/// Serialises `value` into `buf`, returning the bytes written.
pub fn to_slice<T: serde::Serialize + ?Sized>(value: &T, buf: &mut [u8]) -> Result<usize, Error> {
    serde_json_core::to_slice(value, buf).map_err(|_| Error::Json)
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::{string::String, vec::Vec};

    #[test]
    fn check_gives_the_first_bad_byte() {
        let good = [
            "{}",
            " [ ] ",
            "0",
            "-0.5e+10",
            "1E3",
            "\"\"",
            "true",
            "null",
            "false ",
            "\t{\"a\" : [1, {\"b\":null}], \"c\":\"\\u00e9\\n\\\"\"}\r\n",
            "\"é ✓ 😀\"",
            "{\"\":{}}",
            "123456789012345678901234567890",
        ];
        for g in good {
            assert_eq!(check(g.as_bytes(), &mut [0; 4]), Ok(()), "{g:?}");
        }
        let bad: [(&[u8], usize); 29] = [
            (b"", 0),
            (b" ", 1),
            (b"{", 1),
            (b"{\"a\"}", 4),
            (b"{\"a\":}", 5),
            (b"{a:1}", 1),
            (b"[1,]", 3),
            (b"[1 2]", 3),
            (b"{} {}", 3),
            (b"01", 1),
            (b"-", 1),
            (b"1.", 2),
            (b"1e", 2),
            (b".5", 0),
            (b"+1", 0),
            (b"tru", 0),
            (b"nul", 0),
            (b"True", 0),
            (b"\"a", 2),
            (b"\"\\x\"", 2),
            (b"\"\\u12G4\"", 2),
            (b"\"a\nb\"", 2),
            (b"[}", 1),
            (b"{]", 1),
            (b"\"\xff\"", 1),
            (b"\"\xc3(\"", 1),
            (b"\"\xed\xa0\x80\"", 1),
            (b"\"\xf4\x90\x80\x80\"", 1),
            (b"hello", 0),
        ];
        for (b, at) in bad {
            assert_eq!(check(b, &mut [0; 4]), Err(at), "{:?}", String::from_utf8_lossy(b));
        }
        // As deep as `closers` is long, and no deeper.
        let deep: Vec<u8> = [std::vec![b'['; 1000], std::vec![b']'; 1000]].concat();
        assert_eq!(check(&deep, &mut [0; 1000]), Ok(()));
        assert_eq!(check(&deep, &mut [0; 999]), Err(999));
        assert!(!is_valid(&deep));
    }

    #[test]
    fn from_slice_unescapes_or_refuses() {
        #[derive(serde::Deserialize)]
        struct Owned {
            s: Text<16>,
        }
        #[derive(serde::Deserialize)]
        struct Borrowed<'a> {
            s: &'a str,
        }
        let t: Owned = from_slice(br#"{"s":"a\"b\u00e9\n"}"#).unwrap();
        assert_eq!(t.s.as_str(), "a\"b\u{e9}\n");
        let b: Borrowed = from_slice(br#"{"s":"plain"}"#).unwrap();
        assert_eq!(b.s, "plain");
        // Borrowed text cannot be unescaped: an error, not "a\"b".
        assert!(from_slice::<Borrowed>(br#"{"s":"a\"b"}"#).is_err());
        assert!(from_slice::<Owned>(br#"{"s":"\q"}"#).is_err(), "not an escape");
    }

    #[test]
    fn validity() {
        let deep = |n: usize| [std::vec![b'['; n], std::vec![b']'; n]].concat();
        let good: &[&[u8]] = &[
            b"0",
            b" -0.5e+3 ",
            b"\"\"",
            b"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9 \\u00E9 \xc3\xa9\"",
            b"[]",
            b"{}",
            b"\t[ 1 , {\"a\" : [null,true,false]} ]\r\n",
            b"\"\x7f\"",
            br#"{"a":{"b":{}},"c":[[],{}]}"#,
            &deep(MAX_DEPTH),
        ];
        for g in good {
            assert!(is_valid(g), "{:?}", String::from_utf8_lossy(g));
        }
        let bad: &[&[u8]] = &[
            b"",
            b" ",
            b"01",
            b"-",
            b"1.",
            b".5",
            b"1e",
            b"+1",
            b"tru",
            b"nul",
            b"truex",
            b"\"a",
            b"\"\n\"",
            br#""\x""#,
            br#""\u00g0""#,
            b"\"\xff\"",
            b"[1,]",
            b"[,1]",
            b"{\"a\"}",
            b"{\"a\":}",
            b"{\"a\":1,}",
            b"{a:1}",
            b"{1:1}",
            b"[1}",
            b"{\"a\":1]",
            b"[",
            b"]",
            b"1 2",
            b"{} {}",
            b"\x0c1",
            &deep(MAX_DEPTH + 1),
        ];
        for b in bad {
            assert!(!is_valid(b), "{:?}", String::from_utf8_lossy(b));
        }
    }

    fn esc(s: &[u8]) -> String {
        let mut v = Vec::new();
        escape(s, &mut |b: &[u8]| v.extend_from_slice(b));
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn escaping() {
        let cases: &[(&[u8], &str)] = &[
            (b"", ""),
            (b"plain", "plain"),
            (b"q\"b\\", r#"q\"b\\"#),
            (b"\n\r\t\x00\x1f\x7f", r"\n\r\t\u0000\u001f\u007f"),
            ("é€😀".as_bytes(), "é€😀"),
            (b"a\xffb\xc3", r"a\ufffdb\ufffd"),
            (b"\xe2\x82", r"\ufffd"),
        ];
        for &(input, want) in cases {
            assert_eq!(esc(input), want, "{input:?}");
        }
    }

    #[test]
    fn document_and_measure() {
        let mut v = Vec::new();
        error_document(b"Function.E", b"bad \"x\"", &mut |b: &[u8]| v.extend_from_slice(b));
        assert_eq!(v, br#"{"errorMessage":"bad \"x\"","errorType":"Function.E","stackTrace":[]}"#);
        assert_eq!(measure(|s| error_document(b"Function.E", b"bad \"x\"", s)), v.len());
    }

    #[test]
    fn base64() {
        for (input, want) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("\u{ff}\u{fe}", "w7/Dvg==")] {
            let mut v = Vec::new();
            let mut e = Base64::new(|b: &[u8]| v.extend_from_slice(b));
            for b in input.as_bytes() {
                e.write(core::slice::from_ref(b));
            }
            e.finish();
            assert_eq!(String::from_utf8(v).unwrap(), want);
        }
    }

    #[test]
    fn base64_decoding() {
        let mut out = [0u8; 8];
        for (input, want) in [("", ""), ("Zg==", "f"), ("Zm8=", "fo"), ("Zm9v", "foo"), ("Zm9vYg", "foob"), ("w7/Dvg==", "\u{ff}\u{fe}")] {
            let n = base64_decode(input.as_bytes(), &mut out).unwrap();
            assert_eq!(&out[..n], want.as_bytes(), "{input}");
        }
        for bad in ["a", "a$==", "Zm9v!"] {
            assert_eq!(base64_decode(bad.as_bytes(), &mut out), None, "{bad}");
        }
        assert_eq!(base64_decode(b"Zm9vYmFyYmF6", &mut out[..3]), None, "out too small");
    }

    #[test]
    fn typed() {
        #[derive(serde::Deserialize, serde::Serialize, PartialEq, Debug)]
        struct Ev<'a> {
            name: &'a str,
            n: u32,
        }
        let ev: Ev = from_slice(br#"{"name":"x","n":3}"#).unwrap();
        assert_eq!(ev, Ev { name: "x", n: 3 });
        let mut buf = [0u8; 32];
        let n = to_slice(&ev, &mut buf).unwrap();
        assert_eq!(&buf[..n], br#"{"name":"x","n":3}"#);
        assert_eq!(to_slice(&ev, &mut buf[..4]), Err(Error::Json));
        assert_eq!(from_slice::<Ev>(b"{"), Err(Error::Json));
    }
}
