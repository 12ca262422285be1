//! faas-rie's byte-string helpers (crates/faas-rie/src/text.rs, included
//! as it is): `invoke_target`, `unpercent`, `unbase64`, `match_name`,
//! `nth`, `find`, `cut`, `eqi`, `safe`, `crc32`, `event_chunk`, `Put`.
//!
//! Input: byte 0 picks split points and numbers; the rest is the text.
//!
//! Invariants checked:
//! - nothing panics;
//! - `unpercent`: at most as long as its input, and undoes percent-encoding;
//!   `unbase64` agrees with `faas::json::base64_decode` into a large buffer
//!   (its own buffer is never too small);
//! - `invoke_target`: an accepted path has a non-empty name segment with no
//!   `/`, and re-encoding what it returns parses back to the same;
//! - `match_name`: a qualifier it returns is a non-empty part of the input
//!   after its last `:`;
//! - `nth`: the words joined with NUL give the list back;
//! - `find` agrees with a naive search; `eqi` with `eq_ignore_ascii_case`;
//!   `cut` removes exactly the range, or nothing when it is not in the buffer;
//! - `crc32` continues across splits; `event_chunk` is one HTTP chunk that
//!   `faas::http::Chunked` decodes to a message whose lengths and CRCs check;
//! - `Put`: `dec`, `hexn`, `fixed2`, `hex` match `format!`.
#![no_main]
extern crate alloc;

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../../crates/faas-rie/src/text.rs"]
mod text;

/// faas-rie's --help text, which text.rs takes some literals from.
const HELP: &[u8] = include_bytes!("../../../crates/faas-rie/src/help.txt");

/// What text.rs uses of faas-rie's `sys` (only for `uuid` and `trace_id`).
#[allow(dead_code)]
mod sys {
    pub fn random(b: &mut [u8]) {
        b.fill(4);
    }
    pub fn real_ms() -> u64 {
        0
    }
}

use text::*;

fn percent(b: &[u8]) -> Vec<u8> {
    b.iter().flat_map(|&c| if c.is_ascii_alphanumeric() || c == b'-' { vec![c] } else { format!("%{c:02X}").into_bytes() }).collect()
}

fuzz_target!(|input: &[u8]| {
    let Some((&sel, data)) = input.split_first() else { return };
    let k = usize::from(sel) % (data.len() + 1);
    let (a, b) = data.split_at(k);

    // unpercent, unbase64
    if let Some(u) = unpercent(data) {
        assert!(u.len() <= data.len());
    }
    assert_eq!(unpercent(&percent(data)).as_deref(), Some(data));
    let mut big = vec![0u8; data.len() + 8];
    let want = faas::json::base64_decode(data, &mut big).map(|n| big[..n].to_vec());
    assert_eq!(unbase64(data), want, "unbase64 vs base64_decode");

    // invoke_target
    if let Some((name, q, stream)) = invoke_target(data) {
        assert!(!name.is_empty());
        let path = data.split(|&c| c == b'?').next().unwrap();
        let seg = path.split(|&c| c == b'/').nth(3).unwrap();
        assert!(!seg.is_empty() && unpercent(seg).as_deref() == Some(&name[..]));
        let mut t = if stream { b"/2021-11-15/functions/".to_vec() } else { b"/2015-03-31/functions/".to_vec() };
        t.extend(percent(&name));
        t.extend_from_slice(if stream { b"/response-streaming-invocations" } else { b"/invocations" });
        if let Some(q) = &q {
            t.extend_from_slice(b"?Qualifier=");
            t.extend(percent(q));
        }
        assert_eq!(invoke_target(&t), Some((name, q, stream)), "re-encoded {:?}", String::from_utf8_lossy(&t));
    }

    // match_name
    for ours in [&b"my-fn"[..], a] {
        if let Some(q) = match_name(data, ours) {
            assert!(data.split(|&c| c == b':').count() <= 8);
            if let Some(q) = q {
                assert!(!q.is_empty() && data.ends_with(q) && data[..data.len() - q.len()].ends_with(b":"));
            }
        }
    }

    // nth
    let words = data.iter().filter(|&&c| c == 0).count() + 1;
    let joined: Vec<&[u8]> = (0..words).map(|i| nth(data, i)).collect();
    assert_eq!(joined.join(&0u8), data);
    assert_eq!(nth(data, words + k), nth(data, words - 1), "past the end: the last");

    // find, has, eqi, safe
    let naive = if b.is_empty() { (!a.is_empty()).then_some(0) } else { a.windows(b.len()).position(|w| w == b) };
    assert_eq!(find(a, b), naive, "find({a:?}, {b:?})");
    assert_eq!(has(data, sel), data.contains(&sel));
    assert_eq!(eqi(a, b), a.eq_ignore_ascii_case(b));
    if let Some(v) = safe(Some(data)) {
        assert!(faas::http::is_header_safe(v) && !v.is_empty());
    }

    // cut
    let (from, to) = (usize::from(sel & 15), usize::from(sel >> 4) * 3);
    let mut v = data.to_vec();
    cut(&mut v, from, to);
    if from <= to && to <= data.len() {
        assert_eq!(v, [&data[..from], &data[to..]].concat());
    } else {
        assert_eq!(v, data);
    }

    // crc32, event_chunk
    assert_eq!(crc32(crc32(0, a), b), crc32(0, data));
    let mut chunk = Vec::new();
    event_chunk(&mut chunk, a, b);
    chunk.extend_from_slice(b"0\r\n\r\n");
    let mut d = faas::http::Chunked::default();
    let (mut out, mut rd, end) = (0, 0, chunk.len());
    assert_eq!(d.decode(&mut chunk, &mut out, &mut rd, end, usize::MAX), Ok(true));
    assert_eq!(rd, end);
    let msg = &chunk[..out];
    let total = u32::from_be_bytes(msg[..4].try_into().unwrap()) as usize;
    let hlen = u32::from_be_bytes(msg[4..8].try_into().unwrap()) as usize;
    assert_eq!((total, hlen), (msg.len(), a.len()));
    assert_eq!(u32::from_be_bytes(msg[8..12].try_into().unwrap()), crc32(0, &msg[..8]));
    assert_eq!((&msg[12..12 + hlen], &msg[12 + hlen..total - 4]), (a, b));
    assert_eq!(u32::from_be_bytes(msg[total - 4..].try_into().unwrap()), crc32(0, &msg[..total - 4]));

    // Put
    let n = data.iter().take(8).fold(0u64, |n, &c| n << 8 | u64::from(c));
    let mut v = Vec::new();
    v.dec(n).s(b" ").hexn(n).s(b" ").fixed2(n).s(b" ").hex(a);
    let hex: String = a.iter().map(|c| format!("{c:02x}")).collect();
    assert_eq!(String::from_utf8(v).unwrap(), format!("{n} {n:x} {}.{:02} {hex}", n / 100, n % 100));
});
