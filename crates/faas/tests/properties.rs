//! Property tests for every parser entry point of the core: HTTP heads,
//! body framing, the chunked decoder, the address parser, JSON escaping,
//! base64 and the typed JSON helpers.
//!
//! Each property runs a bounded number of cases (see `cases`), so the whole
//! file takes seconds; `PROPTEST_CASES=N` raises every count for a longer
//! hunt. A case that ever finds a bug is kept below as a plain regression
//! test, next to the property that found it.

use faas::addr::Addr;
use faas::http::{self, parse_head, Chunked, Framing, Head, Header};
use faas::json::{self, Base64};
use faas::Error;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

/// `n` cases, or `PROPTEST_CASES` if that is set (for a longer run).
fn cases(n: u32) -> ProptestConfig {
    let n = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(n);
    // No regression files: cases worth keeping become tests in this file.
    ProptestConfig { cases: n, failure_persistence: None, ..ProptestConfig::default() }
}

/// Bytes made of `tokens` glued together: reaches the parsers' deeper states
/// far more often than uniformly random bytes do.
fn tokens(tokens: &'static [&'static [u8]], max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(prop_oneof![4 => select(tokens).prop_map(<[u8]>::to_vec), 1 => vec(any::<u8>(), 1..4)], 0..max).prop_map(|parts| parts.concat())
}

// ---------------------------------------------------------------------------
// http::parse_head

const HEAD_TOKENS: &[&[u8]] = &[
    b"HTTP/1.1",
    b"HTTP/1.0",
    b"GET",
    b" ",
    b"  ",
    b"200",
    b"OK",
    b"\r\n",
    b"\n",
    b"\r",
    b"\r\n\r\n",
    b"\n\n",
    b":",
    b": ",
    b"Content-Length",
    b"a",
    b"\t",
    b"\0",
    b"x:y",
    b"\xff",
    b"/path",
];

/// The result of a parse, owned, so results over different buffers compare.
type Parsed = Result<Option<(Vec<Vec<u8>>, usize, Vec<(Vec<u8>, Vec<u8>)>)>, Error>;

fn parse(buf: &[u8], capacity: usize) -> Parsed {
    let mut hs = vec![Header::default(); capacity];
    let head = parse_head(buf, &mut hs)?;
    Ok(head.map(|h: Head<'_>| {
        assert!(h.headers <= capacity, "more headers than slots");
        assert!(h.len <= buf.len(), "head longer than the buffer");
        let consumed = &buf[..h.len];
        assert!(consumed.ends_with(b"\n\n") || consumed.ends_with(b"\n\r\n"), "head does not end in a blank line");
        let headers = hs[..h.headers].iter().map(|h| (h.name.to_vec(), h.value.to_vec())).collect();
        (h.start.iter().map(|p| p.to_vec()).collect(), h.len, headers)
    }))
}

/// One valid head, and what parsing it must give.
#[derive(Debug, Clone)]
struct GenHead {
    raw: Vec<u8>,
    start: [Vec<u8>; 3],
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    len: usize,
}

const EOLS: &[&[u8]] = &[b"\r\n", b"\n"];
const OWS: &[&[u8]] = &[b"", b" ", b"  ", b"\t", b" \t "];
const EXTS: &[&[u8]] = &[b"", b";a=b", b";name=\"v\"", b" ; x", b"\t;y", b";"];
const LAST_EXTS: &[&[u8]] = &[b"", b";last", b" ;z=1"];

/// A line ending: CRLF, or the bare LF the parsers also accept.
fn eol() -> proptest::sample::Select<&'static [u8]> {
    select(EOLS)
}

fn valid_head() -> impl Strategy<Value = GenHead> {
    let part = "[!-~]{1,12}"; // visible ASCII, no blank
    let reason = "([!-~]{1,8}( [!-~]{1,8}){0,3})?"; // may hold blanks, may be empty
    let name = "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}"; // an RFC 9110 token
                                                   // A value: visible ASCII, blanks, tabs and obs-text inside, none at the
                                                   // ends (the parser trims those); ':' welcome, as in ARNs.
    let edge = || prop_oneof![0x21u8..=0x7e, 0x80u8..=0xff];
    let inside = vec(prop_oneof![0x20u8..=0x7e, Just(b'\t'), 0x80u8..=0xff], 0..40);
    let value = prop_oneof![Just(Vec::new()), edge().prop_map(|b| vec![b]), (edge(), inside, edge()).prop_map(|(a, mid, z)| [&[a][..], &mid, &[z]].concat()),];
    let ows = select(OWS);
    let header = (name, ows.clone(), value, ows, eol());
    (part, part, reason, eol(), vec(header, 0..12), eol(), vec(any::<u8>(), 0..16)).prop_map(|(p0, p1, p2, eol0, hs, end, body)| {
        let mut raw = [p0.as_bytes(), b" ", p1.as_bytes(), b" ", p2.as_bytes(), eol0].concat();
        let mut headers = Vec::new();
        for (name, ows1, value, ows2, eol) in hs {
            raw.extend_from_slice(&[name.as_bytes(), b":", ows1, &value, ows2, eol].concat());
            headers.push((name.into_bytes(), value));
        }
        raw.extend_from_slice(end);
        let len = raw.len();
        raw.extend_from_slice(&body);
        GenHead { raw, start: [p0.into_bytes(), p1.into_bytes(), p2.into_bytes()], headers, len }
    })
}

proptest! {
    #![proptest_config(cases(1000))]

    #[test]
    fn parse_head_never_panics(buf in prop_oneof![vec(any::<u8>(), 0..300), tokens(HEAD_TOKENS, 60)], cap in 0usize..10) {
        let _ = parse(&buf, cap);
    }

    /// Split points don't matter: a prefix parses to Ok(None) or to exactly
    /// what the whole buffer gives (the same head, or the same error).
    #[test]
    fn parse_head_prefix_is_none_or_same(buf in prop_oneof![vec(any::<u8>(), 0..200), tokens(HEAD_TOKENS, 40)], cap in 0usize..10) {
        let whole = parse(&buf, cap);
        for k in 0..=buf.len() {
            let part = parse(&buf[..k], cap);
            prop_assert!(part == Ok(None) || part == whole, "prefix {} gave {:?}, whole gave {:?}", k, part, whole);
        }
    }

    /// `head_end`, which tells the runtime when to stop reading, agrees
    /// with the parser: where a head parses, it ends there; where the
    /// parser wants more, there is no end yet.
    #[test]
    fn head_end_agrees_with_parse_head(buf in prop_oneof![vec(any::<u8>(), 0..200), tokens(HEAD_TOKENS, 40)]) {
        match parse_head(&buf, &mut [Header::default(); 64]) {
            Ok(Some(head)) => prop_assert_eq!(http::head_end(&buf), Some(head.len)),
            Ok(None) => prop_assert_eq!(http::head_end(&buf), None),
            Err(_) => {}
        }
    }

    /// On any bytes (broken lines too), `head_end` is just past the first
    /// blank line (LF or CR LF after an LF), as a byte-by-byte search finds
    /// it: the runtime starts it mid-head, and its eight-bytes-at-a-time
    /// search must miss no line end.
    #[test]
    fn head_end_is_the_first_blank_line(buf in prop_oneof![vec(any::<u8>(), 0..200), tokens(HEAD_TOKENS, 40), tokens(&[b"\r", b"\n", b"\0", b"a", b"abcdefghijk", b"\t"], 60)]) {
        let model = |b: &[u8]| -> Option<usize> {
            let mut i = 0;
            loop {
                i += b[i..].iter().position(|&c| c == b'\n')? + 1;
                match &b[i..] {
                    [b'\n', ..] => return Some(i + 1),
                    [b'\r', b'\n', ..] => return Some(i + 2),
                    _ => {}
                }
            }
        };
        prop_assert_eq!(http::head_end(&buf), model(&buf));
    }

    /// The hand-written (smaller than core's) ASCII helpers agree with core's.
    #[test]
    fn is_ascii_and_eq_nocase_agree_with_core(a in vec(any::<u8>(), 0..40), flips in vec(any::<bool>(), 0..40)) {
        prop_assert_eq!(http::is_ascii(&a), a.is_ascii());
        // `b`: `a` with some bytes' case bit flipped, so both equal and unequal pairs come up.
        let b: Vec<u8> = a.iter().zip(flips.iter().chain([false].iter().cycle())).map(|(&x, &f)| if f { x ^ 0x20 } else { x }).collect();
        prop_assert_eq!(http::eq_nocase(&a, &b), a.eq_ignore_ascii_case(&b));
        prop_assert_eq!(http::eq_nocase(&a, &a[..a.len() / 2]), a.is_empty());
    }
}

proptest! {
    #![proptest_config(cases(250))]

    #[test]
    fn parse_head_round_trips(h in valid_head(), spare in 0usize..3) {
        let got = parse(&h.raw, h.headers.len() + spare);
        let want = Ok(Some((h.start.to_vec(), h.len, h.headers.clone())));
        prop_assert_eq!(&got, &want);
        // One slot too few is a reported error, never a truncated head.
        if !h.headers.is_empty() {
            prop_assert_eq!(parse(&h.raw, h.headers.len() - 1), Err(Error::TooLarge));
        }
        // Every split point: incomplete until the blank line, then the same.
        for k in 0..=h.raw.len() {
            let part = parse(&h.raw[..k], h.headers.len());
            if k < h.len {
                prop_assert_eq!(part, Ok(None), "prefix {}", k);
            } else {
                prop_assert_eq!(&part, &want, "prefix {}", k);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// http::framing

const FRAMING_NAMES: &[&str] = &["Content-Length", "content-length", "CONTENT-LENGTH", "Transfer-Encoding", "transfer-encoding", "TE", "Content-Type", "X"];
const FRAMING_VALUES: &[&str] = &[
    "0",
    "5",
    "007",
    "12",
    "-1",
    "1 2",
    "",
    "chunked",
    "Chunked",
    "gzip, chunked",
    "chunked, gzip",
    "gzip",
    " chunked",
    "gzip,chunked\t",
    "999999999999999999",
    "1000000000000000000",
    "18446744073709551616",
    "0x10",
    "+5",
];

fn framing_header() -> impl Strategy<Value = (String, Vec<u8>)> {
    (select(FRAMING_NAMES).prop_map(String::from), prop_oneof![select(FRAMING_VALUES).prop_map(|v| v.as_bytes().to_vec()), vec(any::<u8>(), 0..8)])
}

fn ows_trim(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(v.len());
    let end = v.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(start, |e| e + 1);
    &v[start..end]
}

/// RFC 9112 section 6.3 as faas applies it, written independently.
fn framing_model(hs: &[(String, Vec<u8>)]) -> Result<Framing, Error> {
    let mut chunked = false;
    let mut lengths = Vec::new();
    for (name, value) in hs {
        if name.eq_ignore_ascii_case("transfer-encoding") {
            let last = value.split(|&b| b == b',').next_back().map(ows_trim).unwrap_or_default();
            if !last.eq_ignore_ascii_case(b"chunked") {
                return Err(Error::Framing);
            }
            chunked = true;
        } else if name.eq_ignore_ascii_case("content-length") {
            let digits = !value.is_empty() && value.len() <= 18 && value.iter().all(u8::is_ascii_digit);
            if !digits {
                return Err(Error::Framing);
            }
            lengths.push(std::str::from_utf8(value).unwrap().parse::<u64>().unwrap());
        }
    }
    if lengths.windows(2).any(|w| w[0] != w[1]) {
        return Err(Error::Framing);
    }
    Ok(match (chunked, lengths.first()) {
        (true, _) => Framing::Chunked,
        (false, Some(&n)) => Framing::Length(n),
        (false, None) => Framing::UntilClose,
    })
}

proptest! {
    #![proptest_config(cases(2000))]

    #[test]
    fn framing_matches_the_model(hs in vec(framing_header(), 0..6)) {
        let headers: Vec<Header<'_>> = hs.iter().map(|(n, v)| Header { name: n.as_bytes(), value: v }).collect();
        prop_assert_eq!(http::framing(&headers), framing_model(&hs));
    }

    #[test]
    fn framing_content_length_round_trips(n in 0u64..1_000_000_000_000_000_000, zeros in 0usize..3, copies in 1usize..3) {
        // Leading zeros, as long as the whole stays within 18 digits.
        let digits = n.to_string();
        let text = format!("{}{digits}", "0".repeat(zeros.min(18 - digits.len())));
        let hs = vec![Header { name: b"content-length", value: text.as_bytes() }; copies];
        prop_assert_eq!(http::framing(&hs), Ok(Framing::Length(n)));
    }
}

// ---------------------------------------------------------------------------
// http::Chunked

/// How to write one chunked body: the data cut into chunks, each size line
/// with its own spelling, then trailers.
#[derive(Debug, Clone)]
struct GenChunked {
    data: Vec<u8>,
    raw: Vec<u8>,
    /// Bytes of `raw` the body takes (a next message may follow).
    len: usize,
}

fn size_line(n: usize, zeros: usize, upper: bool, ext: &[u8], eol: &[u8]) -> Vec<u8> {
    let hex = if upper { format!("{n:X}") } else { format!("{n:x}") };
    [format!("{}{hex}", "0".repeat(zeros)).as_bytes(), ext, eol].concat()
}

fn chunked_body() -> impl Strategy<Value = GenChunked> {
    let ext = select(EXTS);
    let spelling = (0usize..3, any::<bool>(), ext, eol(), eol());
    let trailer = ("[A-Za-z-]{1,12}", "[ -~]{0,20}", eol());
    (
        vec(any::<u8>(), 0..3000),
        vec((1usize..700, spelling.clone()), 1..40),
        (0usize..3, any::<bool>(), select(LAST_EXTS), eol()),
        vec(trailer, 0..3),
        eol(),
        vec(any::<u8>(), 0..10),
    )
        .prop_map(|(data, cuts, (zeros, upper, ext, eol0), trailers, end, next)| {
            let mut raw = Vec::new();
            let (mut at, mut i) = (0, 0);
            while at < data.len() {
                let (size, (zeros, upper, ext, eol1, eol2)) = &cuts[i % cuts.len()];
                let n = (*size).min(data.len() - at);
                raw.extend_from_slice(&size_line(n, *zeros, *upper, ext, eol1));
                raw.extend_from_slice(&data[at..at + n]);
                raw.extend_from_slice(eol2);
                at += n;
                i += 1;
            }
            raw.extend_from_slice(&size_line(0, zeros, upper, ext, eol0));
            for (name, value, eol) in trailers {
                raw.extend_from_slice(&[name.as_bytes(), b": ", value.as_bytes(), eol].concat());
            }
            raw.extend_from_slice(end);
            let len = raw.len();
            raw.extend_from_slice(&next);
            GenChunked { data, raw, len }
        })
}

/// What a decode ends in, owned.
#[derive(Debug, PartialEq, Eq)]
struct Decoded {
    result: Result<bool, Error>,
    data: Vec<u8>,
    overflow: u64,
    /// Raw bytes consumed when done.
    rd: Option<usize>,
}

const CANARY: u8 = 0xA5;

/// Decodes `raw` in place as the bytes arrive in pieces of `steps` (cycled),
/// keeping at most `limit` bytes. The buffer has guard bytes past the input
/// that no decode may touch, and the in-place invariants are checked at
/// every step.
fn decode_in_steps(raw: &[u8], steps: &[usize], limit: usize) -> Decoded {
    let mut buf = [raw, &[CANARY; 32]].concat();
    let (mut d, mut out, mut rd, mut end) = (Chunked::default(), 0usize, 0usize, 0usize);
    let mut result = Ok(false);
    for (i, step) in steps.iter().cycle().enumerate() {
        if end == raw.len() && i > 0 {
            break;
        }
        end = (end + step.max(&1)).min(raw.len());
        result = d.decode(&mut buf, &mut out, &mut rd, end, limit);
        assert!(out <= rd && rd <= end, "out {out} rd {rd} end {end}");
        assert!(out <= limit, "kept {out} bytes past the limit {limit}");
        assert!(buf[raw.len()..].iter().all(|&b| b == CANARY), "wrote past the input");
        if !matches!(result, Ok(false)) {
            break;
        }
    }
    assert_eq!(result == Ok(true), d.done());
    let done = result == Ok(true);
    Decoded { result, data: buf[..out].to_vec(), overflow: d.overflow, rd: done.then_some(rd) }
}

/// Decodes the way the runtime reads a body: into a fixed buffer, each read
/// landing after the data kept so far (`rd = have = out` between reads).
fn decode_like_the_runtime(raw: &[u8], reads: &[usize], limit: usize, capacity: usize) -> Result<Vec<u8>, Error> {
    let mut buf = vec![0u8; capacity];
    let (mut d, mut out, mut rd, mut have, mut sent) = (Chunked::default(), 0, 0, 0, 0);
    for read in reads.iter().cycle() {
        if d.decode(&mut buf, &mut out, &mut rd, have, limit)? {
            return Ok(buf[..out].to_vec());
        }
        (rd, have) = (out, out);
        let n = (*read).max(1).min(raw.len() - sent).min(capacity - have);
        if n == 0 {
            return Err(Error::Truncated);
        }
        buf[have..have + n].copy_from_slice(&raw[sent..sent + n]);
        (have, sent) = (have + n, sent + n);
    }
    unreachable!()
}

const CHUNK_TOKENS: &[&[u8]] = &[
    b"0",
    b"1",
    b"5",
    b"a",
    b"F",
    b"ff",
    b"fffffffffffffff",
    b"\r\n",
    b"\n",
    b"\r",
    b";",
    b"x=y",
    b" ",
    b"\t",
    b"hello",
    b"0\r\n\r\n",
    b"Trailer: v\r\n",
    b":",
    b"-",
    b"g",
];

proptest! {
    #![proptest_config(cases(300))]

    #[test]
    fn chunked_round_trips(c in chunked_body(), steps in vec(1usize..600, 1..8)) {
        let got = decode_in_steps(&c.raw, &steps, usize::MAX);
        prop_assert_eq!(got, Decoded { result: Ok(true), data: c.data.clone(), overflow: 0, rd: Some(c.len) });
    }

    #[test]
    fn chunked_keeps_the_limit_and_counts_the_rest(c in chunked_body(), steps in vec(1usize..600, 1..8), cut in 0usize..3100) {
        let limit = cut.min(c.data.len());
        let got = decode_in_steps(&c.raw, &steps, limit);
        let want = Decoded {
            result: Ok(true),
            data: c.data[..limit].to_vec(),
            overflow: (c.data.len() - limit) as u64,
            rd: Some(c.len),
        };
        prop_assert_eq!(got, want);
    }

    #[test]
    fn chunked_round_trips_like_the_runtime(c in chunked_body(), reads in vec(1usize..2000, 1..8)) {
        let body = &c.raw[..c.len];
        let capacity = c.data.len() + 2100; // what is kept, plus one read
        prop_assert_eq!(decode_like_the_runtime(body, &reads, c.data.len(), capacity), Ok(c.data.clone()));
    }

    /// Arbitrary bytes: no panic, no write past the input, the invariants
    /// hold (all checked inside), and read sizes do not change the outcome.
    #[test]
    fn chunked_arbitrary_bytes(raw in prop_oneof![vec(any::<u8>(), 0..400), tokens(CHUNK_TOKENS, 80)], steps in vec(1usize..50, 1..6), limit in 0usize..500) {
        let whole = decode_in_steps(&raw, &[raw.len().max(1)], limit);
        let pieces = decode_in_steps(&raw, &steps, limit);
        let bytewise = decode_in_steps(&raw, &[1], limit);
        prop_assert_eq!(&pieces, &whole);
        prop_assert_eq!(&bytewise, &whole);
    }
}

// ---------------------------------------------------------------------------
// addr::Addr::parse

const ADDR_TOKENS: &[&str] = &[
    "http://",
    "HTTP://",
    "https://",
    "://",
    "[",
    "]",
    ":",
    "::1",
    "::",
    "127.0.0.1",
    "10.0.0.1",
    "localhost",
    "/",
    "//",
    "9001",
    "0",
    "65535",
    "65536",
    " ",
    "\n",
    "\t",
    "?",
    "#",
    "%",
    "é",
    "a",
    "1",
    ".",
];

fn addr_input() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), vec(select(ADDR_TOKENS), 0..12).prop_map(|t| t.concat())]
}

/// A valid address in one of the accepted shapes, and what it must parse to.
#[derive(Debug, Clone)]
struct GenAddr {
    input: String,
    host: String,
    port: u16,
    prefix: String,
}

fn valid_addr() -> impl Strategy<Value = GenAddr> {
    let host = prop_oneof![
        any::<[u8; 4]>().prop_map(|ip| std::net::Ipv4Addr::from(ip).to_string()),
        any::<[u16; 8]>().prop_map(|ip| format!("[{}]", std::net::Ipv6Addr::from(ip))),
        Just("[::1]".to_string()),
        vec(any::<bool>(), 9).prop_map(|up| "localhost".chars().zip(up).map(|(c, u)| if u { c.to_ascii_uppercase() } else { c }).collect()),
    ];
    let scheme = select(&["", "http://", "HTTP://", "Http://"][..]);
    let prefix = vec("[A-Za-z0-9._~%-]{1,10}", 0..4);
    let space = "[ \t\n\r]{0,2}";
    (space, scheme, host, 1u16..=65535, prefix, 0usize..3, space).prop_map(|(s1, scheme, host, port, segs, slashes, s2)| {
        // A prefix only with a scheme, as the documented shapes have it.
        let prefix: String = if scheme.is_empty() { String::new() } else { segs.iter().map(|s| format!("/{s}")).collect() };
        let slashes = if scheme.is_empty() { 0 } else { slashes };
        let authority = format!("{host}:{port}");
        let input = format!("{s1}{scheme}{authority}{prefix}{}{s2}", "/".repeat(slashes));
        GenAddr { input, host: authority, port, prefix }
    })
}

proptest! {
    #![proptest_config(cases(2000))]

    #[test]
    fn addr_arbitrary_never_panics(s in addr_input()) {
        if let Ok(a) = Addr::parse(&s) {
            prop_assert!(a.port() != 0);
            prop_assert!(s.contains(a.host()), "host {:?} not in {:?}", a.host(), s);
            let p = a.prefix();
            prop_assert!(p.is_empty() || (p.starts_with('/') && !p.ends_with('/')), "prefix {:?}", p);
            prop_assert!(!p.bytes().any(|b| b <= b' ' || b == b'?' || b == b'#' || b >= 0x7f), "prefix {:?}", p);
        }
    }

    #[test]
    fn addr_valid_shapes_round_trip(g in valid_addr()) {
        let a = Addr::parse(&g.input).map_err(|e| TestCaseError::fail(format!("{:?}: {e:?}", g.input)))?;
        prop_assert_eq!((a.host(), a.port(), a.prefix()), (g.host.as_str(), g.port, g.prefix.as_str()), "{:?}", g.input);
    }
}

const IP_TOKENS: &[&[u8]] = &[b"::", b":", b".", b"0", b"1", b"01", b"9", b"ff", b"FFFF", b"12345", b"255", b"256", b"a", b"g", b"1.2.3.4"];

fn ip_text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        tokens(IP_TOKENS, 14),
        any::<[u8; 4]>().prop_map(|ip| std::net::Ipv4Addr::from(ip).to_string().into_bytes()),
        any::<[u16; 8]>().prop_map(|ip| std::net::Ipv6Addr::from(ip).to_string().into_bytes()),
        // Runs of zeros, so that `::` lands in every position.
        vec(prop_oneof![Just(0u16), any::<u16>()], 8).prop_map(|w| { std::net::Ipv6Addr::from(<[u16; 8]>::try_from(w).unwrap()).to_string().into_bytes() }),
        any::<[u8; 4]>().prop_map(|ip| format!("::ffff:{}", std::net::Ipv4Addr::from(ip)).into_bytes()),
    ]
}

proptest! {
    #![proptest_config(cases(3000))]

    /// `addr::parse_ip` (faas-rie's) and libc's `inet_pton` (the runtime's)
    /// read exactly what std's address parsers read.
    #[test]
    fn parse_ip_and_inet_pton_agree_with_std(s in ip_text()) {
        let text = String::from_utf8_lossy(&s);
        let std = text.parse::<std::net::Ipv4Addr>().map(|a| a.octets().to_vec())
            .or_else(|_| text.parse::<std::net::Ipv6Addr>().map(|a| a.octets().to_vec())).ok();
        let mut o = [0u8; 16];
        let ours = faas::addr::parse_ip(&s, &mut o).map(|n| o[..n].to_vec());
        prop_assert_eq!(&ours, &std, "parse_ip {:?}", text);
        let v6 = s.contains(&b':');
        let mut o = [0u8; 16];
        let libc = faas::sys::inet_pton(v6, &s, &mut o).then(|| o[..if v6 { 16 } else { 4 }].to_vec());
        prop_assert_eq!(&libc, &std, "inet_pton {:?}", text);
    }
}

// ---------------------------------------------------------------------------
// json::escape and json::error_document

fn escaped(s: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    json::escape(s, &mut |b: &[u8]| v.extend_from_slice(b));
    v
}

fn json_text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..200),
        any::<String>().prop_map(String::into_bytes),
        vec(prop_oneof![0u8..0x20, Just(b'"'), Just(b'\\'), Just(0x7f), 0x80u8..=0xff, Just(b'a')], 0..40),
        "[\u{0}-\u{7f}é€😀\u{2028}\u{fffd}]{0,40}".prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(cases(1000))]

    /// The output is always valid JSON inside quotes and decodes to the input
    /// (invalid UTF-8 becoming U+FFFD exactly as from_utf8_lossy does).
    #[test]
    fn escape_is_valid_json_and_decodes_back(s in json_text()) {
        let out = escaped(&s);
        prop_assert!(!out.iter().any(|&b| b < 0x20 || b == 0x7f), "raw control byte in {:?}", out);
        let quoted = [&b"\""[..], &out, b"\""].concat();
        let decoded: String = serde_json::from_slice(&quoted)
            .map_err(|e| TestCaseError::fail(format!("{e}: {:?}", String::from_utf8_lossy(&quoted))))?;
        let lossy = String::from_utf8_lossy(&s);
        prop_assert_eq!(decoded.as_str(), lossy.as_ref());
        if let Ok(text) = std::str::from_utf8(&s) {
            prop_assert_eq!(decoded.as_str(), text);
        }
    }

    #[test]
    fn error_document_is_the_json_it_says(t in json_text(), m in json_text()) {
        let mut doc = Vec::new();
        json::error_document(&t, &m, &mut |b: &[u8]| doc.extend_from_slice(b));
        let v: serde_json::Value = serde_json::from_slice(&doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let want = serde_json::json!({
            "errorMessage": String::from_utf8_lossy(&m),
            "errorType": String::from_utf8_lossy(&t),
            "stackTrace": [],
        });
        prop_assert_eq!(v, want);
        prop_assert_eq!(json::measure(|s| json::error_document(&t, &m, s)), doc.len());
    }
}

// ---------------------------------------------------------------------------
// json::Base64

/// RFC 4648 base64 (standard alphabet, padded), written independently:
/// a bit accumulator rather than 3-byte groups.
fn base64_reference(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (mut out, mut acc, mut bits) = (String::new(), 0u32, 0);
    for &b in data {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out.push(A[((acc >> bits) & 63) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(A[((acc << (6 - bits)) & 63) as usize] as char);
    }
    while out.len() % 4 != 0 {
        out.push('=');
    }
    out
}

proptest! {
    #![proptest_config(cases(2000))]

    /// Matches the reference whatever the sizes of the writes.
    #[test]
    fn base64_matches_the_reference(data in vec(any::<u8>(), 0..300), writes in vec(0usize..10, 1..6)) {
        let mut out = Vec::new();
        let mut enc = Base64::new(|b: &[u8]| out.extend_from_slice(b));
        let mut at = 0;
        for w in writes.iter().cycle() {
            let n = (*w).max(1).min(data.len() - at);
            enc.write(&data[at..at + n]);
            at += n;
            if at == data.len() {
                break;
            }
        }
        enc.finish();
        prop_assert_eq!(String::from_utf8(out).unwrap(), base64_reference(&data));
    }
}

#[test]
fn base64_reference_is_rfc4648() {
    // RFC 4648 section 10, so the reference itself is known good.
    for (i, want) in ["", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"].iter().enumerate() {
        assert_eq!(base64_reference(&b"foobar"[..i]), *want);
    }
}

// ---------------------------------------------------------------------------
// json::from_slice and json::to_slice

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum Kind {
    Small,
    Large,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Inner {
    ok: bool,
    level: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Event<'a> {
    name: &'a str,
    n: u32,
    delta: i64,
    kind: Kind,
    inner: Inner,
    tags: (u8, u8, u8),
}

/// Text serde_json writes without escapes, so a borrowed &str can hold it.
fn plain_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 :/._é€😀-]{0,24}"
}

fn event_parts() -> impl Strategy<Value = (String, u32, i64, bool, bool, Option<u16>, (u8, u8, u8))> {
    (plain_text(), any::<u32>(), any::<i64>(), any::<bool>(), any::<bool>(), any::<Option<u16>>(), any::<(u8, u8, u8)>())
}

fn event(p: &(String, u32, i64, bool, bool, Option<u16>, (u8, u8, u8))) -> Event<'_> {
    let kind = if p.3 { Kind::Large } else { Kind::Small };
    Event { name: &p.0, n: p.1, delta: p.2, kind, inner: Inner { ok: p.4, level: p.5 }, tags: p.6 }
}

const JSON_TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"\\",
    b"\\u00",
    b"\\ud83d",
    b":",
    b",",
    b"\"name\"",
    b"\"n\"",
    b"\"kind\"",
    b"\"Small\"",
    b"\"inner\"",
    b"\"ok\"",
    b"true",
    b"null",
    b"-",
    b"0",
    b"1e5",
    b"18446744073709551616",
    b"9223372036854775808",
    b" ",
    b"\xff",
    b"\"tags\"",
];

const VALIDITY_TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"\"k\"",
    b"\\",
    b"\\n",
    b"\\u00e9",
    b"\\u0g",
    b":",
    b",",
    b"true",
    b"tru",
    b"false",
    b"null",
    b"-",
    b"0",
    b"7",
    b".",
    b"e",
    b"E+",
    b"-1.5e-3",
    b" ",
    b"\t",
    b"\n",
    b"\x01",
    b"\x7f",
    b"\xc3\xa9",
    b"\xff",
];

/// serde_json's verdict on `s` as a document, or `None` where the two are
/// meant to differ: serde_json refuses `\u` escapes of lone surrogates and
/// numbers no f64 holds (`1e400`), which RFC 8259's grammar (and so
/// json::is_valid) allows; a typed field still refuses them.
fn serde_json_valid(s: &[u8]) -> Option<bool> {
    // A `\uD800`-`\uDFFF` escape anywhere: serde_json checks pairing.
    let surrogate = s.windows(4).any(|w| w[0] == b'\\' && w[1] == b'u' && w[2] | 0x20 == b'd' && matches!(w[3] | 0x20, b'8'..=b'9' | b'a'..=b'f'));
    match serde_json::from_slice::<serde_json::Value>(s) {
        Ok(_) => Some(true),
        Err(_) if surrogate => None,
        Err(e) if e.to_string().contains("number out of range") => None,
        Err(_) => Some(false),
    }
}

proptest! {
    #![proptest_config(cases(2000))]

    /// json::is_valid says what serde_json says.
    #[test]
    fn is_valid_agrees_with_serde_json(buf in prop_oneof![vec(any::<u8>(), 0..60), tokens(VALIDITY_TOKENS, 40), tokens(JSON_TOKENS, 40)]) {
        if let Some(want) = serde_json_valid(&buf) {
            prop_assert_eq!(json::is_valid(&buf), want, "{:?}", String::from_utf8_lossy(&buf));
        }
    }

    /// Every document serde_json writes is valid, at any nesting up to the limit.
    #[test]
    fn is_valid_takes_serde_json_output(p in event_parts(), depth in 0usize..json::MAX_DEPTH) {
        let mut v = serde_json::to_value(event(&p)).unwrap();
        for _ in 0..depth.saturating_sub(2) {
            v = serde_json::json!([v]);
        }
        let doc = serde_json::to_vec_pretty(&v).unwrap();
        prop_assert!(json::is_valid(&doc), "{}", String::from_utf8_lossy(&doc));
    }

    #[test]
    fn from_slice_never_panics(buf in prop_oneof![vec(any::<u8>(), 0..200), tokens(JSON_TOKENS, 50)]) {
        let _ = json::from_slice::<Event<'_>>(&buf);
        let _ = json::from_slice::<Inner>(&buf);
        let _ = json::from_slice::<u64>(&buf);
        let _ = json::from_slice::<&str>(&buf);
        let _ = json::from_slice::<Option<(i8, bool)>>(&buf);
    }

    /// A valid document, then damaged: truncated, a byte replaced, a byte
    /// inserted. Never a panic; an intact document parses back.
    #[test]
    fn from_slice_on_damaged_documents(p in event_parts(), at in any::<prop::sample::Index>(), b in any::<u8>(), how in 0u8..4) {
        let value = event(&p);
        let mut doc = serde_json::to_vec(&value).unwrap();
        let i = at.index(doc.len() + 1);
        match how {
            0 => doc.truncate(i),
            1 if i < doc.len() => doc[i] = b,
            2 => doc.insert(i, b),
            _ => {}
        }
        let parsed = json::from_slice::<Event<'_>>(&doc);
        if how == 3 {
            prop_assert_eq!(parsed, Ok(value));
        }
    }

    /// serde_json's output parses back to the value; faas's own output
    /// (json::to_slice) is what serde_json reads as that value too.
    #[test]
    fn typed_json_round_trips(p in event_parts()) {
        let value = event(&p);
        let reference = serde_json::to_vec(&value).unwrap();
        prop_assert_eq!(json::from_slice::<Event<'_>>(&reference), Ok(value.clone()));
        let mut buf = [0u8; 512];
        let n = json::to_slice(&value, &mut buf).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let back: serde_json::Value = serde_json::from_slice(&buf[..n]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, serde_json::to_value(&value).unwrap());
        prop_assert_eq!(json::from_slice::<Event<'_>>(&buf[..n]), Ok(value.clone()));
        // Too small a buffer is an error, never a panic or a cut document.
        prop_assert_eq!(json::to_slice(&value, &mut buf[..n - 1]), Err(Error::Json));
    }
}
