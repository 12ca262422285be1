//! HTTP/1.1 on the wire, with no I/O: head parsing (requests and responses),
//! body framing, an in-place chunked decoder and a bounded writer. Both the
//! runtime client and the `faas-rie` emulator use this module.

use crate::Error;

/// One header, borrowed from the buffer it was parsed from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header<'b> {
    pub name: &'b [u8],
    pub value: &'b [u8],
}

/// A parsed head: the three parts of the start line and the header count.
/// For a response they are version, status and reason; for a request,
/// method, target and version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head<'b> {
    pub start: [&'b [u8]; 3],
    /// Number of entries filled in the caller's header array.
    pub headers: usize,
    /// Bytes of `buf` the head took, including the blank line.
    pub len: usize,
}

impl Head<'_> {
    /// The status code of an HTTP/1.x response head (`start[1]`), if it is
    /// three digits.
    pub fn status(&self) -> Option<u16> {
        // Three digits: at most 999. (HTTP/1.x as a slice pattern: starts_with
        // would link bcmp.)
        let ok = |_: &u64| self.start[1].len() == 3 && matches!(self.start[0], [b'H', b'T', b'T', b'P', b'/', b'1', b'.', ..]);
        parse_dec(self.start[1]).filter(ok).map(|n| n as u16)
    }
}

/// Parses a request or response head from the start of `buf`, filling
/// `headers` with borrowed slices. `Ok(None)` means the head is not complete
/// yet: read more and call again. Lines may end in CRLF or a bare LF.
///
/// ```
/// use faas::http::{parse_head, Header};
/// let mut h = [Header::default(); 8];
/// let head = parse_head(b"HTTP/1.1 200 OK\r\nA-B: x:y\r\n\r\nbody", &mut h).unwrap().unwrap();
/// assert_eq!((head.status(), head.len, h[0].value), (Some(200), 29, &b"x:y"[..]));
/// ```
pub fn parse_head<'b>(buf: &'b [u8], headers: &mut [Header<'b>]) -> Result<Option<Head<'b>>, Error> {
    let mut lines = Lines { buf, pos: 0 };
    let Some(first) = lines.next() else { return Ok(None) };
    let first = first?;
    // A part that is missing is empty (and for the first two, refused).
    let (a, rest) = split_space(first);
    let (b, c) = split_space(rest);
    let start = [a, b, c];
    if start[0].is_empty() || start[1].is_empty() || !is_ascii(first) {
        return Err(Error::Protocol);
    }
    let mut n = 0;
    loop {
        let Some(line) = lines.next() else { return Ok(None) };
        let line = line?;
        if line.is_empty() {
            return Ok(Some(Head { start, headers: n, len: lines.pos }));
        }
        let colon = line.iter().position(|&b| b == b':').unwrap_or(0);
        let (name, value) = line.split_at_checked(colon).ok_or(Error::Protocol)?;
        if name.is_empty() || !name.iter().all(|&b| is_token(b)) {
            return Err(Error::Protocol);
        }
        let slot = headers.get_mut(n).ok_or(Error::TooLarge)?;
        *slot = Header { name, value: trim(value.get(1..).unwrap_or_default()) };
        n += 1;
    }
}

/// `s` up to its first space, and what follows that space (empty if there
/// is none).
fn split_space(s: &[u8]) -> (&[u8], &[u8]) {
    let i = s.iter().position(|&b| b == b' ').unwrap_or(s.len());
    (s.get(..i).unwrap_or_default(), s.get(i + 1..).unwrap_or_default())
}

struct Lines<'b> {
    buf: &'b [u8],
    pos: usize,
}

impl<'b> Iterator for Lines<'b> {
    type Item = Result<&'b [u8], Error>;
    /// The next line without its ending; `None` when no full line is left.
    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.buf.get(self.pos..)?;
        // One pass to the first CR, LF or NUL: a line ends in LF or CR LF.
        let (line, tail) = rest.split_at_checked(line_break(rest)?)?;
        // `tail` starts at the CR, LF or NUL: well ended if LF or CR LF.
        // Bare CR, NUL or a folded continuation line are never valid here
        // (reported once the line is complete, at its LF).
        let lf = tail.iter().position(|&b| b == b'\n')?;
        self.pos += line.len() + lf + 1;
        let well_ended = matches!((lf, tail), (0, _) | (1, [b'\r', ..]));
        let bad = !well_ended || matches!(line, [b' ' | b'\t', ..]);
        Some(if bad { Err(Error::Protocol) } else { Ok(line) })
    }
}

/// Where the head at the start of `b` ends: just past its blank line (LF
/// LF or LF CR LF). `None` while it is incomplete. The first line, which
/// may be the tail of one, is never the blank one.
pub fn head_end(b: &[u8]) -> Option<usize> {
    let mut lines = Lines { buf: b, pos: 0 };
    let _ = lines.next()?;
    loop {
        if let Ok([]) = lines.next()? {
            return Some(lines.pos);
        }
    }
}

/// Where the first CR, LF or NUL in `b` is: eight bytes at a time up to
/// the first word that holds a byte below 14 (a tab stops it too), then
/// byte by byte.
fn line_break(b: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::MAX / 255;
    let mut i = 0;
    while let Some(w) = b.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()).map(u64::from_le_bytes) {
        // Not 0 if and only if some byte of `w` is below 14.
        if w.wrapping_sub(ONES * 14) & !w & (ONES * 0x80) != 0 {
            break;
        }
        i += 8;
    }
    Some(i + b.get(i..)?.iter().position(|&b| b == b'\n' || b == b'\r' || b == 0)?)
}

/// RFC 9110 token characters, one bit per ASCII code (two words, as x86-64
/// has no 128-bit shift): a lookup is smaller and faster than comparisons.
const TOKEN: [u64; 2] = {
    let (mut set, mut i) = ([0u64; 2], 0);
    let punct = b"!#$%&'*+-.^_`|~";
    while i < 128 {
        let c = i as u8;
        let mut ok = c.is_ascii_alphanumeric();
        let mut k = 0;
        while k < punct.len() {
            ok |= punct[k] == c;
            k += 1;
        }
        if ok {
            set[i / 64] |= 1 << (i % 64);
        }
        i += 1;
    }
    set
};

fn is_token(b: u8) -> bool {
    let word = if b < 64 { TOKEN[0] } else { TOKEN[1] };
    b < 128 && word >> (b % 64) & 1 == 1
}

fn trim(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// True if every byte is ASCII (a plain loop: core's is unrolled, and
/// bootstraps are measured in bytes).
pub fn is_ascii(b: &[u8]) -> bool {
    b.iter().all(|&c| c < 0x80)
}

/// ASCII case-insensitive equality (smaller than core's, which is unrolled).
pub fn eq_nocase(a: &[u8], b: &[u8]) -> bool {
    // Equal, or letters that differ only in case (the 0x20 bit).
    a.len() == b.len() && a.iter().zip(b).all(|(&x, &y)| x == y || (x ^ y == 0x20 && (x | 0x20).is_ascii_lowercase()))
}

/// The value of the first header called `name`, compared case-insensitively.
pub fn header<'b>(headers: &[Header<'b>], name: &str) -> Option<&'b [u8]> {
    headers.iter().find(|h| eq_nocase(h.name, name.as_bytes())).map(|h| h.value)
}

/// How a message body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    Length(u64),
    Chunked,
    /// No length and not chunked: a response body runs to the end of the
    /// connection; a request has no body.
    UntilClose,
}

/// Works out the body framing from the headers (RFC 9112 section 6.3).
pub fn framing(headers: &[Header<'_>]) -> Result<Framing, Error> {
    let mut length = None;
    let mut chunked = false;
    for h in headers {
        if eq_nocase(h.name, b"transfer-encoding") {
            // Only "chunked" (last, as HTTP requires) is understood.
            let last = h.value.rsplit(|&b| b == b',').next().map(trim).unwrap_or_default();
            if !eq_nocase(last, b"chunked") {
                return Err(Error::Framing);
            }
            chunked = true;
        } else if eq_nocase(h.name, b"content-length") {
            let v = parse_dec(h.value).ok_or(Error::Framing)?;
            if length.is_some_and(|l| l != v) {
                return Err(Error::Framing);
            }
            length = Some(v);
        }
    }
    Ok(match (chunked, length) {
        (true, _) => Framing::Chunked,
        (false, Some(n)) => Framing::Length(n),
        (false, None) => Framing::UntilClose,
    })
}

/// A decimal number of at most 18 digits (so it cannot overflow).
pub fn parse_dec(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 18 {
        return None;
    }
    v.iter().try_fold(0, |n, &b| b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0')))
}

/// Longest chunk-size line (with extensions) or trailer line accepted.
const LINE_MAX: u32 = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Size,
    Ext,
    Data,
    DataEnd,
    Trailer,
    Done,
}

/// An incremental chunked-body decoder that works in place: raw bytes are
/// consumed from `buf[*rd..end]` and chunk data is moved down to `buf[*out..]`
/// (always `*out <= *rd`), so one buffer holds both with no copy elsewhere.
#[derive(Clone, Debug)]
pub struct Chunked {
    state: State,
    /// Chunk bytes left, or the size being accumulated.
    n: u64,
    /// Digits seen in the size, or bytes in the current line.
    line: u32,
    /// A CR was seen and its LF is due.
    cr: bool,
    /// Data bytes dropped because the output passed its limit.
    pub overflow: u64,
    /// Where the trailer section begins in `buf`, once the last chunk's size
    /// line is read (set by that `decode` call, never moved after). A caller
    /// that keeps `buf[t..]` can parse the trailers when the body is done.
    pub trailers: Option<usize>,
    /// A plain body of known length, no chunks (see [`Chunked::sized`]).
    sized: bool,
}

impl Default for Chunked {
    fn default() -> Self {
        Chunked { state: State::Size, n: 0, line: 0, cr: false, overflow: 0, trailers: None, sized: false }
    }
}

impl Chunked {
    /// A decoder for a body of `n` bytes with no chunk framing (a
    /// Content-Length body; `u64::MAX` for one that runs until the
    /// connection closes), so one loop reads a body of any framing.
    pub fn sized(n: u64) -> Self {
        let state = if n == 0 { State::Done } else { State::Data };
        Chunked { state, n, sized: true, ..Chunked::default() }
    }

    /// The decoder for a body framed as `f`.
    pub fn for_framing(f: Framing) -> Self {
        match f {
            Framing::Chunked => Chunked::default(),
            Framing::Length(n) => Chunked::sized(n),
            Framing::UntilClose => Chunked::sized(u64::MAX),
        }
    }

    /// True once the last chunk and the trailers have been read.
    pub fn done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes what it can of `buf[*rd..end]`. Data past `limit` is counted in
    /// `overflow` and dropped. Returns `Ok(true)` when the body is complete;
    /// `*rd` then points just past it.
    pub fn decode(&mut self, buf: &mut [u8], out: &mut usize, rd: &mut usize, end: usize, limit: usize) -> Result<bool, Error> {
        while *rd < end && self.state != State::Done {
            if self.state == State::Data {
                let take = (end - *rd).min(usize::try_from(self.n).unwrap_or(usize::MAX));
                let keep = take.min(limit.saturating_sub(*out));
                crate::sys::move_down(buf, *rd, *out, keep);
                *out += keep;
                self.overflow += (take - keep) as u64;
                *rd += take;
                self.n -= take as u64;
                if self.n == 0 {
                    self.state = if self.sized { State::Done } else { State::DataEnd };
                }
                continue;
            }
            let Some(&b) = buf.get(*rd) else { return Err(Error::Chunked) };
            *rd += 1;
            self.step(b)?;
            if self.state == State::Trailer && self.trailers.is_none() {
                self.trailers = Some(*rd);
            }
        }
        Ok(self.state == State::Done)
    }

    /// One byte of framing (everything but chunk data).
    fn step(&mut self, b: u8) -> Result<(), Error> {
        if self.cr {
            self.cr = false;
            return if b == b'\n' { self.end_line() } else { Err(Error::Chunked) };
        }
        match (self.state, b) {
            (_, b'\r') => self.cr = true,
            (_, b'\n') => self.end_line()?,
            (State::Size, _) if self.line > 0 && (b == b';' || b == b' ' || b == b'\t') => self.state = State::Ext,
            (State::Size, _) => {
                let d = (b as char).to_digit(16).ok_or(Error::Chunked)?;
                if self.line >= 15 {
                    return Err(Error::TooLarge);
                }
                self.n = self.n * 16 + u64::from(d);
                self.line += 1;
            }
            (State::Ext | State::Trailer, _) => {
                self.line += 1;
                if self.line > LINE_MAX {
                    return Err(Error::TooLarge);
                }
            }
            (State::DataEnd | State::Data | State::Done, _) => return Err(Error::Chunked),
        }
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), Error> {
        self.state = match self.state {
            State::Size | State::Ext if self.line == 0 && self.state == State::Size => return Err(Error::Chunked),
            State::Size | State::Ext if self.n == 0 => State::Trailer,
            State::Size | State::Ext => State::Data,
            State::DataEnd => State::Size,
            State::Trailer if self.line == 0 => State::Done,
            State::Trailer => State::Trailer,
            State::Data | State::Done => return Err(Error::Chunked),
        };
        self.line = 0;
        Ok(())
    }
}

/// A bounded writer into a caller's buffer, for request and response heads.
pub struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
    overflow: bool,
}

impl<'a> Writer<'a> {
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, len: 0, overflow: false }
    }

    /// Appends bytes; on overflow, remembers it and `finish` fails.
    #[inline(never)] // called from many places: one copy of it is smaller
    pub fn put(&mut self, b: &[u8]) -> &mut Self {
        match self.buf.get_mut(self.len..self.len + b.len()) {
            Some(dst) => self.len += copy(dst, b),
            None => self.overflow = true,
        }
        self
    }

    pub fn put_str(&mut self, s: &str) -> &mut Self {
        self.put(s.as_bytes())
    }

    /// Appends a number in decimal.
    pub fn put_dec(&mut self, n: u64) -> &mut Self {
        self.put(dec(n, &mut [0; 20]))
    }

    /// Appends a number in lower-case hex (chunk sizes).
    pub fn put_hex(&mut self, n: u64) -> &mut Self {
        let mut d = [0u8; 16];
        for (i, c) in d.iter_mut().enumerate() {
            *c = b"0123456789abcdef"[(n >> (60 - 4 * i)) as usize & 15];
        }
        let zeros = d.iter().take(15).take_while(|&&c| c == b'0').count();
        self.put(d.get(zeros..).unwrap_or_default())
    }

    /// Appends bytes as a URL path segment: unreserved characters as they
    /// are, everything else percent-encoded, so no input can break the line.
    pub fn put_segment(&mut self, s: &[u8]) -> &mut Self {
        let hex = b"0123456789ABCDEF";
        for &b in s {
            if b.is_ascii_alphanumeric() || b"-._~".iter().any(|&t| t == b) {
                self.push(b);
            } else {
                self.push(b'%').push(hex[usize::from(b >> 4)]).push(hex[usize::from(b & 15)]);
            }
        }
        self
    }

    /// Appends one byte (a request id is written byte by byte).
    fn push(&mut self, b: u8) -> &mut Self {
        match self.buf.get_mut(self.len) {
            Some(d) => {
                *d = b;
                self.len += 1;
            }
            None => self.overflow = true,
        }
        self
    }

    /// The bytes written, or `TooLarge` if anything did not fit.
    pub fn finish(self) -> Result<&'a [u8], Error> {
        let done = self.buf.get(..self.len).filter(|_| !self.overflow);
        done.ok_or(Error::TooLarge)
    }
}

/// `n` in decimal, written at the end of `buf`.
pub fn dec(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = 0;
    for (i, d) in buf.iter_mut().enumerate().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
        start = i;
        if n == 0 {
            break;
        }
    }
    buf.get(start..).unwrap_or_default()
}

/// Copies what fits of `src` to the start of `dst`; returns the bytes
/// copied. (Unlike `copy_from_slice`, it has no panic path.)
pub fn copy(dst: &mut [u8], src: &[u8]) -> usize {
    crate::sys::copy(dst, src)
}

/// True if `v` may be sent as a header value as it is (no CR, LF or NUL).
pub fn is_header_safe(v: &[u8]) -> bool {
    v.iter().all(|&b| b == b'\t' || (b' '..0x7f).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    fn head(raw: &[u8]) -> Result<Option<(Head<'_>, Vec<(Vec<u8>, Vec<u8>)>)>, Error> {
        let mut h = [Header::default(); 8];
        let r = parse_head(raw, &mut h)?;
        Ok(r.map(|hd| (hd, h[..hd.headers].iter().map(|h| (h.name.to_vec(), h.value.to_vec())).collect())))
    }

    #[test]
    fn decimals() {
        for (v, want) in [
            (&b"0"[..], Some(0)),
            (b"0042", Some(42)),
            (b"999999999999999999", Some(999_999_999_999_999_999)),
            (b"", None),
            (b"1x", None),
            (b"+1", None),
            (b"1 ", None),
            (b"1000000000000000000", None),
        ] {
            assert_eq!(parse_dec(v), want, "{v:?}");
        }
    }

    #[test]
    fn heads() {
        // (input, status, header count, head length)
        let ok: &[(&[u8], Option<u16>, usize, usize)] = &[
            (b"HTTP/1.1 200 OK\r\n\r\n", Some(200), 0, 19),
            (b"HTTP/1.1 202 \r\nA: 1\r\n\r\nxx", Some(202), 1, 23),
            (b"HTTP/1.0 413 Too Large\nA:1\n\n", Some(413), 1, 28),
            (b"HTTP/1.1 200 OK\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:1:function:f\r\n\r\n", Some(200), 1, 95),
            (b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n", None, 1, 61),
            (b"HTTP/1.1 2000 OK\r\n\r\n", None, 0, 20),
            (b"HTTP/1.1 20 OK\r\n\r\n", None, 0, 18),
            (b"HTTP/1.1 2x0\r\n\r\n", None, 0, 16),
            (b"HTTP/1.1 099\r\n\r\n", Some(99), 0, 16),
            (b"HTTP/1.1 999 a b\r\n\r\n", Some(999), 0, 20),
            (b"HTTX/1.1 200 OK\r\n\r\n", None, 0, 19),
            (b"HTTP/2 200\r\n\r\n", None, 0, 14),
        ];
        for &(raw, status, n, len) in ok {
            let (hd, hs) = head(raw).unwrap().unwrap();
            assert_eq!((hd.status(), hs.len(), hd.len), (status, n, len), "{:?}", core::str::from_utf8(raw));
        }
        let (_, hs) = head(b"HTTP/1.1 200 OK\r\nX-Arn:  arn:a:b:c  \r\n\r\n").unwrap().unwrap();
        assert_eq!(hs[0].1, b"arn:a:b:c");
    }

    #[test]
    fn partial_and_bad_heads() {
        for raw in [&b""[..], b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 200 OK\r\nA: b\r\n"] {
            assert_eq!(head(raw), Ok(None), "{raw:?}");
        }
        for raw in [
            &b"garbage\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n: empty\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: \0\r\n\r\n",
            // The same past the first eight bytes of a line (read a word at a time).
            b"HTTP/1.1 200 OK\r\nA-Long-Name: value\rmore\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA-Long-Name: value\0more\r\n\r\n",
            b"HTTP/1.1 200 OK\rX\r\n\r\n",
            b" HTTP/1.1 200 OK\r\n\r\n",
            b"HTTP/1.1\r\n\r\n",
            b"HTTP/1.1 \r\n\r\n",
            b"HTTP/1.1  200\r\n\r\n",
        ] {
            assert_eq!(head(raw), Err(Error::Protocol), "{:?}", core::str::from_utf8(raw));
        }
        let many = b"HTTP/1.1 200 OK\r\na:1\r\nb:1\r\nc:1\r\nd:1\r\ne:1\r\nf:1\r\ng:1\r\nh:1\r\ni:1\r\n\r\n";
        assert_eq!(head(many), Err(Error::TooLarge));
    }

    #[test]
    fn framings() {
        let h = |n: &'static str, v: &'static str| Header { name: n.as_bytes(), value: v.as_bytes() };
        assert_eq!(framing(&[h("content-LENGTH", "12")]), Ok(Framing::Length(12)));
        assert_eq!(framing(&[h("Transfer-Encoding", "gzip, Chunked")]), Ok(Framing::Chunked));
        assert_eq!(framing(&[h("Content-Length", "5"), h("Transfer-Encoding", "chunked")]), Ok(Framing::Chunked));
        assert_eq!(framing(&[]), Ok(Framing::UntilClose));
        assert_eq!(framing(&[h("Content-Length", "5"), h("Content-Length", "5")]), Ok(Framing::Length(5)));
        for bad in [
            [h("Content-Length", "5"), h("Content-Length", "6")],
            [h("Content-Length", "-1"), h("X", "")],
            [h("Content-Length", "99999999999999999999"), h("X", "")],
            [h("Transfer-Encoding", "gzip"), h("X", "")],
        ] {
            assert_eq!(framing(&bad), Err(Error::Framing));
        }
        assert_eq!(header(&[h("X-A", "1"), h("x-a", "2")], "X-a"), Some(&b"1"[..]));
    }

    /// Decodes `raw` fed in pieces of `step` bytes, the way reads arrive.
    fn dechunk(raw: &[u8], step: usize, limit: usize) -> Result<(Vec<u8>, u64, usize), Error> {
        let mut buf = raw.to_vec();
        let (mut d, mut out, mut rd) = (Chunked::default(), 0, 0);
        let mut end = 0;
        while end < raw.len() {
            end = (end + step).min(raw.len());
            if d.decode(&mut buf, &mut out, &mut rd, end, limit)? {
                return Ok((buf[..out].to_vec(), d.overflow, rd));
            }
        }
        Err(Error::Closed)
    }

    #[test]
    fn chunked() {
        let ok: &[(&[u8], &[u8])] = &[
            (b"0\r\n\r\n", b""),
            (b"5\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5;name=v\r\nhello\r\n1 ; x\r\n!\r\n0\r\nTrailer: x\r\nOther: y\r\n\r\n", b"hello!"),
            (b"A\r\n0123456789\r\n0\r\n\r\n", b"0123456789"),
            (b"3\nabc\n0\n\n", b"abc"),
            (b"00003\r\nabc\r\n0\r\n\r\n", b"abc"),
        ];
        for &(raw, want) in ok {
            for step in [1, 2, 3, 7, raw.len()] {
                let (got, overflow, used) = dechunk(raw, step, 100).unwrap();
                assert_eq!((&got[..], overflow, used), (want, 0, raw.len()), "{raw:?} step {step}");
            }
        }
        let (got, overflow, _) = dechunk(b"5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n", 4, 6).unwrap();
        assert_eq!((&got[..], overflow), (&b"helloa"[..], 2));
        for bad in [&b"x\r\n"[..], b"\r\n", b"5\r\nhelloX\r\n", b"-1\r\n", b"5\rx"] {
            assert!(matches!(dechunk(bad, 1, 100), Err(Error::Chunked)), "{bad:?}");
        }
        assert_eq!(dechunk(b"1000000000000000\r\n", 1, 100), Err(Error::TooLarge));
        assert_eq!(dechunk(b"5\r\nhel", 1, 100), Err(Error::Closed));
        assert_eq!(dechunk(b"5\r\nhello\r\n0\r\n\r", 1, 100), Err(Error::Closed));
        // The trailer section stays in place after the data, ready to parse.
        for step in [1, 4, 100] {
            let raw = b"5\r\nhello\r\n0\r\nLambda-Runtime-Function-Error-Type: Function.X\r\n\r\n";
            let mut buf = raw.to_vec();
            let (mut d, mut out, mut rd, mut end) = (Chunked::default(), 0, 0, 0);
            while !d.decode(&mut buf, &mut out, &mut rd, end, 100).unwrap() {
                end = (end + step).min(raw.len());
            }
            assert_eq!(&buf[d.trailers.unwrap()..rd], b"Lambda-Runtime-Function-Error-Type: Function.X\r\n\r\n");
        }
        let long_ext = [&b"1;"[..], &[b'x'; 5000]].concat();
        assert_eq!(dechunk(&long_ext, 100, 100), Err(Error::TooLarge));
    }

    #[test]
    fn sized_bodies() {
        let mut buf = *b"helloXYZ";
        let (mut d, mut out, mut rd) = (Chunked::sized(5), 0, 0);
        assert_eq!(d.decode(&mut buf, &mut out, &mut rd, 3, 100), Ok(false));
        assert_eq!(d.decode(&mut buf, &mut out, &mut rd, 8, 100), Ok(true));
        assert_eq!((out, rd, &buf[..out]), (5, 5, &b"hello"[..]), "stops at the length");
        let (mut d, mut out, mut rd) = (Chunked::sized(5), 0, 0);
        assert_eq!(d.decode(&mut buf, &mut out, &mut rd, 8, 2), Ok(true));
        assert_eq!((out, d.overflow), (2, 3));
        assert!(Chunked::sized(0).done() && !Chunked::for_framing(Framing::UntilClose).done());
    }

    #[test]
    fn writer() {
        let mut b = [0u8; 64];
        let mut w = Writer::new(&mut b);
        w.put_str("a").put_dec(0).put_dec(6291456).put_hex(255).put_segment(b"ab-1/ \r\n");
        assert_eq!(w.finish().unwrap(), b"a06291456ffab-1%2F%20%0D%0A");
        let mut small = [0u8; 2];
        let mut w = Writer::new(&mut small);
        w.put_str("abc");
        assert_eq!(w.finish(), Err(Error::TooLarge));
        assert!(is_header_safe(b"Function.Err\tx") && !is_header_safe(b"a\r\nb") && !is_header_safe(b"\x7f"));
    }
}
