//! Small byte-string helpers: numbers, ids, base64 and percent decoding, and
//! the function names and ARNs the Invoke API accepts. No `core::fmt`: it
//! would cost more than the rest of this module.

use alloc::vec::Vec;

/// Appending to a byte buffer.
pub trait Put {
    fn s(&mut self, b: &[u8]) -> &mut Self;
    fn dec(&mut self, n: u64) -> &mut Self;
    /// `n` hundredths as `N.NN`.
    fn fixed2(&mut self, n: u64) -> &mut Self;
    /// `b` as lower-case hex.
    fn hex(&mut self, b: &[u8]) -> &mut Self;
    /// `b` inside a JSON string.
    fn json(&mut self, b: &[u8]) -> &mut Self;
}

// Out of line: inlined at each of the many call sites they would cost more
// than everything else in the binary.
impl Put for Vec<u8> {
    #[inline(never)]
    fn s(&mut self, b: &[u8]) -> &mut Self {
        self.extend_from_slice(b);
        self
    }
    #[inline(never)]
    fn dec(&mut self, n: u64) -> &mut Self {
        self.s(faas::http::dec(n, &mut [0; 20]))
    }
    #[inline(never)]
    fn fixed2(&mut self, n: u64) -> &mut Self {
        self.dec(n / 100).s(b".").dec(n / 10 % 10).dec(n % 10)
    }
    #[inline(never)]
    fn hex(&mut self, b: &[u8]) -> &mut Self {
        for &x in b {
            self.s(&[HEX[usize::from(x >> 4)], HEX[usize::from(x & 15)]]);
        }
        self
    }
    #[inline(never)]
    fn json(&mut self, b: &[u8]) -> &mut Self {
        faas::json::escape(b, &mut |p: &[u8]| self.extend_from_slice(p));
        self
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A random version-4 UUID, the shape of Lambda request ids.
pub fn uuid() -> Vec<u8> {
    let mut r = [0u8; 16];
    crate::sys::random(&mut r);
    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;
    let mut v = Vec::with_capacity(36);
    v.hex(&r[..4]).s(b"-").hex(&r[4..6]).s(b"-").hex(&r[6..8]).s(b"-").hex(&r[8..10]).s(b"-").hex(&r[10..]);
    v
}

/// An X-Ray trace header for an invoke that brought none.
pub fn trace_id() -> Vec<u8> {
    let mut r = [0u8; 20];
    crate::sys::random(&mut r);
    let t = (crate::sys::real_ms() / 1000) as u32;
    let mut v = Vec::new();
    v.s(b"Root=1-").hex(&t.to_be_bytes()).s(b"-").hex(&r[..12]).s(b";Parent=").hex(&r[12..]).s(b";Sampled=0");
    v
}

/// Standard base64 (what `X-Amz-Log-Result` carries).
pub fn base64(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len() / 3 * 4 + 4);
    let mut enc = faas::json::Base64::new(|p: &[u8]| out.extend_from_slice(p));
    enc.write(b);
    enc.finish();
    out
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
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            let h = s.get(i + 1..i + 3)?;
            let d = |c: u8| (c as char).to_digit(16);
            out.push((d(h[0])? * 16 + d(h[1])?) as u8);
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Splits a request target into the function name of an Invoke path
/// (`/2015-03-31/functions/{name}/invocations`) and its `Qualifier` query
/// parameter, both decoded. `None` if the target is not an Invoke path.
pub fn invoke_target(target: &[u8]) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    let (path, query) = match target.iter().position(|&b| b == b'?') {
        Some(q) => (&target[..q], &target[q + 1..]),
        None => (target, &b""[..]),
    };
    let name = path.strip_prefix(b"/2015-03-31/functions/")?.strip_suffix(b"/invocations")?;
    if name.is_empty() || name.contains(&b'/') {
        return None;
    }
    let qualifier = query.split(|&b| b == b'&').find_map(|kv| kv.strip_prefix(b"Qualifier="));
    Some((unpercent(name)?, match qualifier {
        Some(q) => Some(unpercent(q)?),
        None => None,
    }))
}

/// Matches an Invoke API function name against ours. Accepted: the name,
/// `function` (what other emulators answer to), `NAME:QUALIFIER`, a partial
/// ARN `ACCOUNT:function:NAME[:QUALIFIER]` and a full ARN
/// `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`.
/// Returns the qualifier found in the name, if any.
pub fn match_name<'a>(given: &'a [u8], ours: &[u8]) -> Option<Option<&'a [u8]>> {
    let parts: Vec<&[u8]> = given.split(|&b| b == b':').collect();
    let (name, qualifier) = match parts[..] {
        [n] => (n, None),
        [n, q] => (n, Some(q)),
        [_, b"function", n] => (n, None),
        [_, b"function", n, q] => (n, Some(q)),
        [b"arn", _, b"lambda", _, _, b"function", n] => (n, None),
        [b"arn", _, b"lambda", _, _, b"function", n, q] => (n, Some(q)),
        _ => return None,
    };
    let ok = (name == ours || name == b"function") && qualifier.map_or(true, |q| !q.is_empty());
    ok.then_some(qualifier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let table: &[(&[u8], Option<Option<&[u8]>>)] = &[
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
        let (n, q) = invoke_target(b"/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Aecho/invocations?Qualifier=%24LATEST").unwrap();
        assert_eq!((&n[..], q.as_deref()), (&b"arn:aws:lambda:us-east-1:1:function:echo"[..], Some(&b"$LATEST"[..])));
        assert_eq!(invoke_target(b"/2015-03-31/functions/echo/invocations"), Some((b"echo".to_vec(), None)));
        for bad in [&b"/2015-03-31/functions//invocations"[..], b"/2015-03-31/functions/a/b/invocations", b"/x", b"/2015-03-31/functions/%zz/invocations"] {
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
        assert_eq!((id.len(), id[14], id.iter().filter(|&&b| b == b'-').count()), (36, b'4', 4));
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
            let (n, got_q) = invoke_target(&t).expect("an Invoke path");
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
