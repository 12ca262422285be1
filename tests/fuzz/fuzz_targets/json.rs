//! JSON: `json::escape`, `error_document`, `measure`, the `Base64` encoder,
//! `base64_decode`, and the typed helpers `from_slice` / `to_slice`.
//!
//! Input: arbitrary bytes (byte 0 also picks split points).
//!
//! Invariants checked:
//! - nothing panics;
//! - `escape(s)` is valid JSON string content for any `s`: serde_json reads
//!   `"escape(s)"` back as `String::from_utf8_lossy(s)` (so, for UTF-8 `s`,
//!   as `s` itself); it holds no raw control character;
//! - `error_document` is a JSON object with exactly those two strings and an
//!   empty `stackTrace`, and `measure` gives its length;
//! - `Base64` output does not depend on how the input is split into writes,
//!   is 4 * ceil(n / 3) bytes, and `base64_decode` gives the input back;
//!   `base64_decode` of anything: `None`, or at most 3/4 of the input's
//!   length, and `None` (not a panic) when the output is one byte short;
//! - `from_slice` into an event type: whatever JSON it accepts, serde_json
//!   reads as the same values; a borrowed `&str` never holds an escape (a
//!   string with one is an error), a `json::Text` holds the unescaped text;
//!   `to_slice` of it parses back to the same value;
//! - `is_valid` agrees with serde_json on whether the bytes are a JSON
//!   document (except where they are meant to differ: lone surrogate
//!   escapes and numbers out of f64's range, which the grammar allows), so
//!   `from_slice` accepts no document that is not JSON.
#![no_main]

use faas::json::{base64_decode, error_document, escape, from_slice, is_valid, measure, to_slice, Base64, Text};
use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize, Debug, PartialEq, Clone)]
struct Event<S> {
    name: Option<S>,
    #[serde(default)]
    times: u32,
    n: Option<i64>,
    ok: Option<bool>,
    xs: Option<[u8; 3]>,
    inner: Option<Inner>,
    kind: Option<Kind>,
}

#[derive(Deserialize, Serialize, Debug, PartialEq, Clone)]
struct Inner {
    a: i32,
}

#[derive(Deserialize, Serialize, Debug, PartialEq, Clone, Copy)]
enum Kind {
    A,
    B,
}

/// Whether `s` holds a `\\u` escape of a UTF-16 surrogate (D800-DFFF),
/// which serde_json checks for pairing and the JSON grammar does not.
fn surrogate_escape(s: &[u8]) -> bool {
    s.windows(4).any(|w| w[0] == b'\\' && w[1] == b'u' && w[2] | 0x20 == b'd' && matches!(w[3] | 0x20, b'8'..=b'9' | b'a'..=b'f'))
}

fn escaped(s: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    escape(s, &mut |b: &[u8]| v.extend_from_slice(b));
    v
}

fn b64(parts: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::new();
    let mut e = Base64::new(|b: &[u8]| v.extend_from_slice(b));
    for p in parts {
        e.write(p);
    }
    e.finish();
    v
}

/// serde_json's reading of raw JSON string content.
fn unescape(raw: &[u8]) -> Option<String> {
    serde_json::from_slice(&[b"\"", raw, b"\""].concat()).ok()
}

/// Everything but the name.
fn rest<S>(e: &Event<S>) -> (u32, Option<i64>, Option<bool>, Option<[u8; 3]>, Option<Inner>, Option<Kind>) {
    (e.times, e.n, e.ok, e.xs, e.inner.clone(), e.kind)
}

fuzz_target!(|data: &[u8]| {
    let k = data.first().map_or(0, |&b| usize::from(b) % (data.len() + 1));
    let (a, b) = data.split_at(k);

    // escape
    let e = escaped(data);
    assert!(e.iter().all(|&c| c >= 0x20 && c != 0x7f), "raw control byte in {e:?}");
    assert_eq!(unescape(&e).as_deref(), Some(&*String::from_utf8_lossy(data)), "escape({data:?}) = {:?}", String::from_utf8_lossy(&e));

    // error_document and measure
    let mut doc = Vec::new();
    error_document(a, b, &mut |p: &[u8]| doc.extend_from_slice(p));
    assert_eq!(measure(|s| error_document(a, b, s)), doc.len());
    let v: serde_json::Value = serde_json::from_slice(&doc).expect("error document is not JSON");
    let want = serde_json::json!({"errorMessage": String::from_utf8_lossy(b), "errorType": String::from_utf8_lossy(a), "stackTrace": []});
    assert_eq!(v, want);

    // Base64 both ways
    let enc = b64(&[data]);
    assert_eq!(b64(&[a, b]), enc, "split at {k}");
    assert_eq!(enc.len(), data.len().div_ceil(3) * 4);
    let mut out = vec![0u8; data.len() + 3];
    assert_eq!(base64_decode(&enc, &mut out).map(|n| &out[..n]), Some(data));
    if let Some(n) = base64_decode(data, &mut out) {
        assert!(n <= data.len() * 3 / 4, "{n} bytes from {}", data.len());
        if n > 0 {
            assert_eq!(base64_decode(data, &mut out[..n - 1]), None);
        }
        // The decoded bytes encode to a canonical form that decodes the same.
        let again = out[..n].to_vec();
        assert_eq!(base64_decode(&b64(&[&again]), &mut out).map(|m| out[..m].to_vec()), Some(again));
    }

    // Validity
    match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(_) => assert!(is_valid(data), "is_valid refused {:?}", String::from_utf8_lossy(data)),
        Err(_) if surrogate_escape(data) => {}
        Err(e) if e.to_string().contains("number out of range") => {}
        Err(e) => assert!(!is_valid(data), "is_valid took {:?}; serde_json: {e}", String::from_utf8_lossy(data)),
    }

    // Typed helpers
    if let Ok(ev) = from_slice::<Event<&str>>(data) {
        match serde_json::from_slice::<Event<String>>(data) {
            Ok(owned) => {
                // A borrowed name is the text itself: no escape is left in it.
                assert!(!ev.name.is_some_and(|n| n.contains('\\')), "a borrowed name still escaped: {:?}", ev.name);
                assert_eq!(ev.name.map(String::from), owned.name, "name");
                assert_eq!(rest(&ev), rest(&owned));
            }
            // A lone surrogate escape in a value the type skips: the grammar
            // (and so serde-json-core) allows it, serde_json does not.
            Err(_) if surrogate_escape(data) => {}
            // serde_json reads -0 as a float, not an integer; serde-json-core as 0: fine.
            Err(e) if e.to_string().contains("`-0.0`") => {}
            Err(e) => panic!("serde-json-core took {:?}, serde_json: {e}", String::from_utf8_lossy(data)),
        }
        let mut buf = vec![0u8; data.len() * 6 + 256];
        let n = to_slice(&ev, &mut buf).expect("to_slice");
        // A name with raw control characters comes back escaped.
        if !ev.name.is_some_and(|n| n.bytes().any(|c| c < 0x20)) {
            assert_eq!(from_slice::<Event<&str>>(&buf[..n]), Ok(ev.clone()), "round trip via {:?}", String::from_utf8_lossy(&buf[..n]));
        }
    }
    // Owned text: unescaped, as serde_json reads it.
    if let (Ok(ev), Ok(owned)) = (from_slice::<Event<Text<64>>>(data), serde_json::from_slice::<Event<String>>(data)) {
        assert_eq!(ev.name.as_deref(), owned.name.as_deref(), "Text name");
    }
    let _ = from_slice::<&str>(data);
    let _ = from_slice::<(u64, i8, f32, bool)>(data);
});
