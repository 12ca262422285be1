//! Body framing: the in-place `Chunked` decoder, and `Chunked::sized` /
//! `for_framing` for Content-Length and read-to-close bodies.
//!
//! Input: byte 0 picks the mode and the limit, byte 1 seeds the read sizes,
//! the rest is the body as it comes off the socket.
//!
//! Invariants checked:
//! - nothing panics;
//! - after every `decode`: `out <= rd <= end`, `out <= limit`, and
//!   `Ok(false)` consumed everything (`rd == end`: the runtime relies on it);
//!   nothing is written at or past `rd` (the raw bytes still to be read, the
//!   trailer section, the guard bytes past the input);
//! - kept + dropped data never exceed the input;
//! - the outcome (result, data, overflow, end of body, trailers) is the same
//!   whether the body arrives whole, byte by byte, in reads of sizes seeded by
//!   the input, or the way the runtime reads it (each read lands right after
//!   the data kept so far, in a buffer of limit + one read);
//! - a body we encode ourselves from the input (mode 1) decodes to its data;
//! - a sized body (mode 2) keeps exactly its first `min(n, limit)` bytes.
#![no_main]

use faas::http::{Chunked, Framing};
use faas::Error;
use libfuzzer_sys::fuzz_target;

const GUARD: u8 = 0xa5;

#[derive(Debug, PartialEq)]
struct Outcome {
    result: Result<bool, Error>,
    data: Vec<u8>,
    overflow: u64,
    /// Where the body ended, once it has.
    end: Option<usize>,
    trailers: Option<Vec<u8>>,
}

/// Decodes `raw` arriving in reads of `next()` bytes, in a buffer with guard bytes past it.
fn in_reads(raw: &[u8], mut d: Chunked, limit: usize, next: &mut dyn FnMut() -> usize) -> Outcome {
    let mut buf = [raw, &[GUARD; 16]].concat();
    let (mut out, mut rd, mut end) = (0, 0, 0);
    let result = loop {
        end = (end + next().max(1)).min(raw.len());
        let r = d.decode(&mut buf, &mut out, &mut rd, end, limit);
        assert!(out <= rd && rd <= end && out <= limit, "out {out} rd {rd} end {end} limit {limit}");
        assert_eq!(r == Ok(true), d.done());
        if r == Ok(false) {
            assert_eq!(rd, end, "Ok(false) left bytes unread");
        }
        if r != Ok(false) || end == raw.len() {
            break r;
        }
    };
    assert_eq!(&buf[rd..raw.len()], &raw[rd..], "wrote at or past rd");
    assert!(buf[raw.len()..].iter().all(|&b| b == GUARD), "wrote past the input");
    assert!(out as u64 + d.overflow <= raw.len() as u64, "more data than input");
    let done = result == Ok(true);
    let trailers = d.trailers.map(|t| {
        assert!(t <= rd, "trailers {t} past rd {rd}");
        buf[t..rd].to_vec()
    });
    Outcome { result, data: buf[..out].to_vec(), overflow: d.overflow, end: done.then_some(rd), trailers: trailers.filter(|_| done) }
}

/// Decodes like the runtime's `body`: each read lands after the data kept.
fn like_the_runtime(raw: &[u8], mut d: Chunked, limit: usize, next: &mut dyn FnMut() -> usize) -> (Result<bool, Error>, Vec<u8>, u64) {
    let cap = limit + 64;
    let mut buf = vec![0u8; cap];
    let (mut out, mut rd, mut have, mut sent) = (0, 0, 0, 0);
    loop {
        match d.decode(&mut buf, &mut out, &mut rd, have, limit) {
            Ok(false) => {}
            r => return (r, buf[..out].to_vec(), d.overflow),
        }
        assert_eq!(rd, have);
        (rd, have) = (out, out);
        let n = next().max(1).min(raw.len() - sent).min(cap - have);
        if n == 0 {
            return (Ok(false), buf[..out].to_vec(), d.overflow);
        }
        buf[have..have + n].copy_from_slice(&raw[sent..sent + n]);
        (have, sent) = (have + n, sent + n);
    }
}

/// A valid chunked body from `spec`, as [ctl, data..]*: ctl's low 6 bits are
/// the chunk length, bit 6 adds an extension, bit 7 ends lines in a bare LF.
fn encode(spec: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (mut raw, mut data, mut s) = (Vec::new(), Vec::new(), spec);
    while let [ctl, rest @ ..] = s {
        let n = usize::from(ctl & 63).min(rest.len());
        if n == 0 {
            break;
        }
        let eol: &[u8] = if ctl & 128 != 0 { b"\n" } else { b"\r\n" };
        raw.extend_from_slice(format!("{n:X}").as_bytes());
        if ctl & 64 != 0 {
            raw.extend_from_slice(b" ;name=\"v\"");
        }
        raw.extend_from_slice(eol);
        raw.extend_from_slice(&rest[..n]);
        raw.extend_from_slice(eol);
        data.extend_from_slice(&rest[..n]);
        s = &rest[n..];
    }
    raw.extend_from_slice(b"0\r\nLambda-Runtime-Function-Error-Type: X\r\n\r\n");
    (raw, data)
}

fuzz_target!(|input: &[u8]| {
    let [sel, seed, raw @ ..] = input else { return };
    let limit = [0, 1, 5, 64, 1000, usize::MAX][usize::from(sel >> 2) % 6];
    let mut x = u32::from(*seed) | 1;
    let mut reads = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        (x % 17) as usize + 1
    };
    match sel & 3 {
        2 => {
            // A sized body: n from the next bytes.
            let n = raw.iter().take(2).fold(0u64, |n, &b| n * 256 + u64::from(b));
            let raw = raw.get(2..).unwrap_or_default();
            for f in [Framing::Length(n), Framing::UntilClose] {
                let o = in_reads(raw, Chunked::for_framing(f), limit, &mut reads);
                let total = match f {
                    Framing::Length(n) => n.min(raw.len() as u64) as usize,
                    _ => raw.len(),
                };
                let kept = total.min(limit);
                assert_eq!(o.data, &raw[..kept]);
                assert_eq!(o.overflow, (total - kept) as u64);
                assert_eq!(o.result, Ok(f == Framing::Length(n) && raw.len() as u64 >= n));
            }
        }
        1 => {
            let (body, data) = encode(raw);
            let o = in_reads(&body, Chunked::default(), usize::MAX, &mut reads);
            assert_eq!((o.result, o.end, &o.data), (Ok(true), Some(body.len()), &data));
            assert_eq!(o.trailers.as_deref(), Some(&b"Lambda-Runtime-Function-Error-Type: X\r\n\r\n"[..]));
            let limit = limit.min(4096);
            let r = like_the_runtime(&body, Chunked::default(), limit, &mut reads);
            let kept = data.len().min(limit);
            assert_eq!(r, (Ok(true), data[..kept].to_vec(), (data.len() - kept) as u64));
        }
        _ => {
            let whole = in_reads(raw, Chunked::default(), limit, &mut || usize::MAX);
            let bytewise = in_reads(raw, Chunked::default(), limit, &mut || 1);
            let pieces = in_reads(raw, Chunked::default(), limit, &mut reads);
            assert_eq!(bytewise, whole, "byte by byte");
            assert_eq!(pieces, whole, "in pieces");
            if limit != usize::MAX {
                let (r, data, overflow) = like_the_runtime(raw, Chunked::default(), limit, &mut reads);
                assert_eq!((r, &data, overflow), (whole.result, &whole.data, whole.overflow), "like the runtime");
            }
        }
    }
});
