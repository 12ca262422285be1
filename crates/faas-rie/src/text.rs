//! Small byte-string helpers: numbers, ids, base64 and percent decoding,
//! header lookup, the function names and ARNs the Invoke API accepts, and
//! AWS event-stream messages. No `core::fmt`: it would cost more than the
//! rest of this module.

use alloc::vec::Vec;
use faas::http::Header;

/// Appending to a byte buffer.
pub trait Put {
    fn s(&mut self, b: &[u8]) -> &mut Self;
    fn dec(&mut self, n: u64) -> &mut Self;
    /// `n` hundredths as `N.NN`.
    fn fixed2(&mut self, n: u64) -> &mut Self;
    /// `b` as lower-case hex.
    fn hex(&mut self, b: &[u8]) -> &mut Self;
    /// `n` as a hex number (a chunk size).
    fn hexn(&mut self, n: u64) -> &mut Self;
    /// `n` in `base` (up to 16), at least `width` digits.
    fn num(&mut self, n: u64, base: u64, width: usize) -> &mut Self;
    /// `b` inside a JSON string.
    fn json(&mut self, b: &[u8]) -> &mut Self;
    /// `b` in standard base64.
    fn base64(&mut self, b: &[u8]) -> &mut Self;
}

// Out of line: inlined at each of the many call sites they would cost more
// than everything else in the binary. Bytes are appended only by `s` (here
// and in the callbacks below): one caller of Vec's `extend_from_slice`.
impl Put for Vec<u8> {
    #[inline(never)]
    fn s(&mut self, b: &[u8]) -> &mut Self {
        self.extend_from_slice(b);
        self
    }
    #[inline(never)]
    fn dec(&mut self, n: u64) -> &mut Self {
        self.num(n, 10, 1)
    }
    #[inline(never)]
    fn fixed2(&mut self, n: u64) -> &mut Self {
        self.num(n / 100, 10, 1).s(b".").num(n % 100, 10, 2)
    }
    #[inline(never)]
    fn hex(&mut self, b: &[u8]) -> &mut Self {
        for &x in b {
            self.num(u64::from(x), 16, 2);
        }
        self
    }
    #[inline(never)]
    fn hexn(&mut self, n: u64) -> &mut Self {
        self.num(n, 16, 1)
    }
    #[inline(never)]
    fn num(&mut self, mut n: u64, base: u64, width: usize) -> &mut Self {
        let mut d = [0; 20]; // every digit shown is written below
        let mut i = d.len();
        while n > 0 || i > d.len() - width {
            i -= 1;
            d[i] = HEX[(n % base) as usize];
            n /= base;
        }
        self.s(&d[i..])
    }
    #[inline(never)]
    fn json(&mut self, b: &[u8]) -> &mut Self {
        faas::json::escape(b, &mut |p: &[u8]| _ = self.s(p));
        self
    }
    #[inline(never)]
    fn base64(&mut self, b: &[u8]) -> &mut Self {
        let mut enc = faas::json::Base64::new(|p: &[u8]| _ = self.s(p));
        enc.write(b);
        enc.finish();
        self
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The bytes of `part` where `whole` holds them, at compile time (in a
/// `const`): a literal that another one contains then costs no bytes of its
/// own (only identical literals are merged, not overlapping ones). Fails
/// the build if `whole` lacks `part`.
pub const fn inside(whole: &'static [u8], part: &[u8]) -> &'static [u8] {
    let mut at = 0;
    while at + part.len() <= whole.len() {
        let found = whole.split_at(at).1.split_at(part.len()).0;
        let mut i = 0;
        while i < part.len() && found[i] == part[i] {
            i += 1;
        }
        if i == part.len() {
            return found;
        }
        at += 1;
    }
    panic!("a literal is not inside the one named with it")
}

/// Byte-string equality, out of line: compared with a literal inline, it
/// becomes one compare and branch per byte.
#[inline(never)]
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a == b
}

/// Removes `v[from..to]` (`Vec::drain` costs more: generic, and a guard
/// to drop); nothing if the range is not in `v`.
#[inline(never)]
pub fn cut(v: &mut Vec<u8>, from: usize, to: usize) {
    if from <= to && to <= v.len() {
        v.copy_within(to.., from);
        v.truncate(v.len() - (to - from));
    }
}

/// Entry `k` of a list of NUL-separated words (the last one past the end).
pub fn nth(list: &[u8], mut k: usize) -> &[u8] {
    let mut at = 0;
    for (i, &b) in list.iter().enumerate() {
        if b == 0 {
            if k == 0 {
                return &list[at..i];
            }
            k -= 1;
            at = i + 1;
        }
    }
    &list[at..]
}

/// True if `s` holds `b` (core's `contains` is unrolled: 200 B).
#[allow(clippy::manual_contains)]
pub fn has(s: &[u8], b: u8) -> bool {
    s.iter().any(|&x| x == b)
}

/// ASCII case-insensitive equality (a plain loop: core's is unrolled).
#[allow(clippy::manual_ignore_case_cmp)]
pub fn eqi(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_ascii_lowercase() == y.to_ascii_lowercase())
}

/// The value of the first header called `name`, in any case.
pub fn header<'a>(hs: &[Header<'a>], name: &[u8]) -> Option<&'a [u8]> {
    hs.iter().find(|h| eqi(h.name, name)).map(|h| h.value)
}

/// The value of field `name` (any case) in `lines` of `Name: value`, as
/// a trailer section holds them; lines of any other shape are skipped, so
/// that one odd trailer cannot hide the error type.
pub fn field<'a>(lines: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    lines.split(|&b| b == b'\n').find_map(|l| {
        let (n, v) = l.split_at(l.iter().position(|&b| b == b':')?);
        eqi(n, name).then(|| v[1..].trim_ascii())
    })
}

/// A header value that may be passed on as it is: not empty, and no CR,
/// LF, NUL or other control character (tab aside).
#[inline(never)]
pub fn safe(v: Option<&[u8]>) -> Option<&[u8]> {
    v.filter(|v| !v.is_empty() && v.iter().all(|&b| b == b'\t' || (b' '..0x7f).contains(&b)))
}

/// Where `needle` first occurs in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    (0..hay.len()).find(|&i| hay[i..].starts_with(needle))
}

/// A random version-4 UUID, the shape of Lambda request ids.
pub fn uuid() -> [u8; 36] {
    let mut r = [0u8; 16];
    crate::sys::random(&mut r);
    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;
    let mut v = [b'-'; 36];
    let mut j = 0;
    for (i, &b) in r.iter().enumerate() {
        j += matches!(i, 4 | 6 | 8 | 10) as usize;
        v[j] = HEX[usize::from(b >> 4)];
        v[j + 1] = HEX[usize::from(b & 15)];
        j += 2;
    }
    v
}

/// Appends an X-Ray trace header, for an invoke that brought none.
pub fn trace_id(v: &mut Vec<u8>) {
    let mut r = [0u8; 20];
    crate::sys::random(&mut r);
    let t = (crate::sys::real_ms() / 1000) as u32;
    v.s(b"Root=1-").hex(&t.to_be_bytes()).s(b"-").hex(&r[..12]).s(b";Parent=").hex(&r[12..]).s(b";Sampled=0");
}

/// Decodes standard base64 (padding optional); `None` if malformed.
pub fn unbase64(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = alloc::vec![0; s.len() / 4 * 3 + 3];
    let n = faas::json::base64_decode(s, &mut out)?;
    out.truncate(n);
    Some(out)
}

/// Decodes `%XX` escapes (a URL path segment or query value); `None` if malformed.
pub fn unpercent(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let mut b = s[i];
        if b == b'%' {
            let h = s.get(i + 1..i + 3)?;
            let d = |c: u8| (c as char).to_digit(16);
            b = (d(h[0])? * 16 + d(h[1])?) as u8;
            i += 2;
        }
        // (Not `push`: the only push onto bytes, it alone would bring in
        // Vec's one-more-element growth path, 250 B.)
        out.s(&[b]);
        i += 1;
    }
    Some(out)
}

/// A decoded Invoke path: the function name, the `Qualifier` query
/// parameter, and whether it is the streaming invoke.
pub type Target = (Vec<u8>, Option<Vec<u8>>, bool);

/// Splits a request target of `/2015-03-31/functions/{name}/invocations`
/// or `/2021-11-15/functions/{name}/response-streaming-invocations` (the
/// streaming invoke) into its parts. `None` if it is neither.
pub fn invoke_target(target: &[u8]) -> Option<Target> {
    let (path, query) = match target.iter().position(|&b| b == b'?') {
        Some(q) => (&target[..q], &target[q + 1..]),
        None => (target, &b""[..]),
    };
    let (name, stream) = match path.strip_prefix(const { inside(crate::HELP, b"/2015-03-31/functions/") }) {
        Some(p) => (p.strip_suffix(const { inside(crate::HELP, b"/invocations") })?, false),
        None => (
            path.strip_prefix(const { inside(crate::HELP, b"/2021-11-15/functions/") })?
                .strip_suffix(const { inside(crate::HELP, b"/response-streaming-invocations") })?,
            true,
        ),
    };
    if name.is_empty() || has(name, b'/') {
        return None;
    }
    // Decoded, both go into the runtime's /next head (in the function ARN):
    // only the characters of Lambda's names, ARNs and qualifiers pass.
    let plain = |v: Vec<u8>| v.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'$' | b'-' | b'.' | b':' | b'_')).then_some(v);
    let qualifier = match query.split(|&b| b == b'&').find_map(|kv| kv.strip_prefix(const { inside(crate::HELP, b"Qualifier=") })) {
        Some(q) => Some(unpercent(q).and_then(plain)?),
        None => None,
    };
    Some((unpercent(name).and_then(plain)?, qualifier, stream))
}

/// Matches an Invoke API function name against ours. Accepted: the name,
/// `function` (what other emulators answer to), `NAME:QUALIFIER`, a partial
/// ARN `ACCOUNT:function:NAME[:QUALIFIER]` and a full ARN
/// `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`.
/// Returns the qualifier found in the name, if any.
pub fn match_name<'a>(given: &'a [u8], ours: &[u8]) -> Option<Option<&'a [u8]>> {
    let mut p: [&[u8]; 8] = [b""; 8];
    let mut n = 0;
    for part in given.split(|&b| b == b':') {
        *p.get_mut(n)? = part;
        n += 1;
    }
    // Where the name is: after `ACCOUNT:function:` or the full ARN prefix
    // (n is 1 to 8; ifs, not a match: that would be a jump table).
    let at = if n <= 2 {
        0
    } else if n <= 4 && p[1] == b"function" {
        2
    } else if n >= 7 && p[0] == b"arn" && p[2] == b"lambda" && p[5] == b"function" {
        6
    } else {
        return None;
    };
    let qualifier = (n == at + 2).then_some(p[at + 1]);
    let ok = (p[at] == ours || p[at] == b"function") && qualifier != Some(b"");
    ok.then_some(qualifier)
}

/// CRC-32 (IEEE, as zlib) of `data`, continuing from `crc`; bit by bit:
/// a table would cost 1 KiB.
pub fn crc32(crc: u32, data: &[u8]) -> u32 {
    let mut c = !crc;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = (c >> 1) ^ (0xEDB8_8320 & (c & 1).wrapping_neg());
        }
    }
    !c
}

/// The encoded headers of the two event-stream messages of the streaming
/// invoke: each a name length, name, type 7 (string), value length, value.
pub const PAYLOAD_CHUNK: &[u8] =
    b"\x0b:event-type\x07\x00\x0cPayloadChunk\x0d:content-type\x07\x00\x18application/octet-stream\x0d:message-type\x07\x00\x05event";
pub const INVOKE_COMPLETE: &[u8] = b"\x0b:event-type\x07\x00\x0eInvokeComplete\x0d:content-type\x07\x00\x10application/json\x0d:message-type\x07\x00\x05event";

/// Appends one AWS event-stream message as one HTTP chunk: total length,
/// headers length, CRC of those 8 bytes, headers, payload, CRC of it all.
pub fn event_chunk(out: &mut Vec<u8>, headers: &[u8], payload: &[u8]) {
    let total = 16 + headers.len() + payload.len();
    out.hexn(total as u64).s(b"\r\n");
    let at = out.len();
    out.s(&(total as u32).to_be_bytes()).s(&(headers.len() as u32).to_be_bytes());
    let crc = crc32(0, &out[at..]);
    out.s(&crc.to_be_bytes()).s(headers).s(payload);
    let crc = crc32(0, &out[at..]);
    out.s(&crc.to_be_bytes()).s(b"\r\n");
}

#[cfg(test)]
fn base64(b: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.base64(b);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        /// A name, and what it parses to: no match, or a match with perhaps a qualifier.
        type Case = (&'static [u8], Option<Option<&'static [u8]>>);
        let table: &[Case] = &[
            (b"echo", Some(None)),
            (b"function", Some(None)),
            (b"echo:$LATEST", Some(Some(b"$LATEST"))),
            (b"123456789012:function:echo", Some(None)),
            (b"123456789012:function:echo:live", Some(Some(b"live"))),
            (b"arn:aws:lambda:eu-west-1:123456789012:function:echo", Some(None)),
            (b"arn:aws:lambda:eu-west-1:123456789012:function:echo:7", Some(Some(b"7"))),
            (b"other", None),
            (b"echo:", None),
            (b"arn:aws:s3:eu-west-1:1:function:echo", None),
            (b"a:b:c:d:e:f:g:h:i", None),
        ];
        for &(given, want) in table {
            assert_eq!(match_name(given, b"echo"), want, "{:?}", core::str::from_utf8(given));
        }
    }

    #[test]
    fn targets() {
        let (n, q, stream) =
            invoke_target(b"/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Aecho/invocations?Qualifier=%24LATEST").unwrap();
        assert_eq!((&n[..], q.as_deref(), stream), (&b"arn:aws:lambda:us-east-1:1:function:echo"[..], Some(&b"$LATEST"[..]), false));
        assert_eq!(invoke_target(b"/2015-03-31/functions/echo/invocations"), Some((b"echo".to_vec(), None, false)));
        assert_eq!(
            invoke_target(b"/2021-11-15/functions/echo/response-streaming-invocations?Qualifier=1"),
            Some((b"echo".to_vec(), Some(b"1".to_vec()), true))
        );
        for bad in [
            &b"/2015-03-31/functions//invocations"[..],
            b"/2015-03-31/functions/a/b/invocations",
            b"/x",
            b"/2015-03-31/functions/%zz/invocations",
            b"/2015-03-31/functions/echo/response-streaming-invocations",
            b"/2021-11-15/functions/echo/invocations",
            // Bytes that would reach the runtime's head once decoded.
            b"/2015-03-31/functions/echo/invocations?Qualifier=1%0d%0aLambda-Runtime-Aws-Request-Id:%20x",
            b"/2015-03-31/functions/echo/invocations?Qualifier=%00",
            b"/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%0a%3A1%3Afunction%3Aecho/invocations",
            b"/2015-03-31/functions/echo%20x/invocations",
        ] {
            assert_eq!(invoke_target(bad), None);
        }
    }

    #[test]
    fn codecs() {
        for raw in [&b""[..], b"a", b"ab", b"abc", b"{\"custom\":{\"k\":\"v\"}}"] {
            assert_eq!(unbase64(&base64(raw)).as_deref(), Some(raw));
        }
        assert_eq!(unbase64(b"a$=="), None);
        assert_eq!(unbase64(b"a"), None);
        let mut v = Vec::new();
        v.dec(0).s(b" ").dec(6291456).s(b" ").fixed2(123).s(b" ").fixed2(5).s(b" ").json(b"a\"\n");
        assert_eq!(v, b"0 6291456 1.23 0.05 a\\\"\\n");
        let id = uuid();
        assert_eq!((id[14], id.iter().filter(|&&b| b == b'-').count()), (b'4', 4));
        assert!([8, 13, 18, 23].iter().all(|&i| id[i] == b'-'), "{:?}", core::str::from_utf8(&id));
        let mut v = Vec::new();
        v.hexn(0).s(b" ").hexn(0x1a).s(b" ").hexn(u64::MAX).s(b" ").base64(b"ab");
        assert_eq!(v, b"0 1a ffffffffffffffff YWI=");
        let mut v = b"abcdef".to_vec();
        cut(&mut v, 1, 3);
        cut(&mut v, 3, 3);
        cut(&mut v, 2, 9); // not in v: nothing
        assert_eq!(v, b"adef");
        cut(&mut v, 0, 4);
        assert!(v.is_empty());
        assert_eq!((nth(b"a\0bc\0\0d", 1), nth(b"a\0bc\0\0d", 2), nth(b"a\0bc\0\0d", 3)), (&b"bc"[..], &b""[..], &b"d"[..]));
    }

    #[test]
    fn event_stream() {
        assert_eq!(crc32(0, b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(crc32(0, b"1234"), b"56789"), 0xCBF4_3926);
        let mut v = Vec::new();
        event_chunk(&mut v, PAYLOAD_CHUNK, b"hi");
        let msg = &v[v.iter().position(|&b| b == b'\n').unwrap() + 1..v.len() - 2];
        assert_eq!(&v[..v.len() - msg.len() - 2], format!("{:x}\r\n", msg.len()).as_bytes());
        let total = u32::from_be_bytes(msg[..4].try_into().unwrap()) as usize;
        let hlen = u32::from_be_bytes(msg[4..8].try_into().unwrap()) as usize;
        assert_eq!((total, hlen), (msg.len(), PAYLOAD_CHUNK.len()));
        assert_eq!(u32::from_be_bytes(msg[8..12].try_into().unwrap()), crc32(0, &msg[..8]));
        assert_eq!(&msg[12 + hlen..total - 4], b"hi");
        assert_eq!(u32::from_be_bytes(msg[total - 4..].try_into().unwrap()), crc32(0, &msg[..total - 4]));
        // Each header: name length, name, type 7, value length, value.
        let mut h = &msg[12..12 + hlen];
        let mut seen = Vec::new();
        while !h.is_empty() {
            let n = h[0] as usize;
            let (name, rest) = h[1..].split_at(n);
            assert_eq!(rest[0], 7);
            let len = u16::from_be_bytes([rest[1], rest[2]]) as usize;
            seen.push((String::from_utf8(name.to_vec()).unwrap(), String::from_utf8(rest[3..3 + len].to_vec()).unwrap()));
            h = &rest[3 + len..];
        }
        assert_eq!(seen[0], (":event-type".into(), "PayloadChunk".into()));
        assert_eq!(seen[1], (":content-type".into(), "application/octet-stream".into()));
        assert_eq!(seen[2], (":message-type".into(), "event".into()));
    }
}

/// Property tests of the Invoke API's parsing entry points (the HTTP head
/// itself is faas::http's, whose properties live in crates/faas/tests).
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn percent(b: &[u8]) -> Vec<u8> {
        b.iter().flat_map(|&c| if c.is_ascii_alphanumeric() { vec![c] } else { format!("%{c:02X}").into_bytes() }).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn parsers_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = invoke_target(&b);
            let _ = unpercent(&b);
            let _ = unbase64(&b);
            let _ = match_name(&b, b"my-fn");
        }

        #[test]
        fn percent_and_base64_round_trip(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(unpercent(&percent(&b)), Some(b.clone()));
            prop_assert_eq!(unbase64(&base64(&b)), Some(b));
        }

        #[test]
        fn invoke_targets_round_trip(name in "[A-Za-z0-9:_-]{1,64}", q in proptest::option::of("[A-Za-z0-9$_-]{1,16}"), extra in "[a-z]{0,5}") {
            let mut t = [b"/2015-03-31/functions/".as_slice(), &percent(name.as_bytes()), b"/invocations"].concat();
            if let Some(q) = &q {
                t.extend(format!("?{extra}=1&Qualifier={}", String::from_utf8(percent(q.as_bytes())).unwrap()).bytes());
            }
            let (n, got_q, _) = invoke_target(&t).expect("an Invoke path");
            prop_assert_eq!(n, name.as_bytes());
            prop_assert_eq!(got_q, q.map(String::into_bytes));
        }

        #[test]
        fn arns_match_by_name_and_qualifier(acct in "[0-9]{12}", region in "[a-z]{2}-[a-z]+-[0-9]", q in proptest::option::of("[A-Za-z0-9$_-]{1,16}")) {
            let suffix = q.as_ref().map(|q| format!(":{q}")).unwrap_or_default();
            for given in [format!("my-fn{suffix}"), format!("{acct}:function:my-fn{suffix}"), format!("arn:aws:lambda:{region}:{acct}:function:my-fn{suffix}")] {
                prop_assert_eq!(match_name(given.as_bytes(), b"my-fn"), Some(q.as_ref().map(|q| q.as_bytes())));
                let other = given.replace("my-fn", "other");
                prop_assert_eq!(match_name(other.as_bytes(), b"my-fn"), None);
            }
        }
    }
}
