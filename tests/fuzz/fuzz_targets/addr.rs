//! `AWS_LAMBDA_RUNTIME_API`: `Addr::parse`, and the IP literal parsers
//! under it (`addr::parse_ip`, faas-rie's, and libc's `inet_pton`, which
//! the runtime uses).
//!
//! Input: the text, as bytes.
//!
//! Invariants checked:
//! - nothing panics;
//! - `parse_ip`, libc's `inet_pton` and std's `Ipv4Addr`/`Ipv6Addr` parsers
//!   accept the same IP literals and give the same address;
//! - an accepted address: its port is not 0 and is the digits after the
//!   last colon of the authority; `host()` is that authority, ASCII, a
//!   sub-string of the input; `prefix()` is empty or starts with `/`, has no
//!   trailing `/`, no space, control, `?`, `#` or non-ASCII byte;
//!   `is_v6()` exactly when the host is a bracketed literal.
#![no_main]

use faas::addr::{parse_ip, Addr};
use libfuzzer_sys::fuzz_target;
use std::net::{Ipv4Addr, Ipv6Addr};

fn std_ip(s: &[u8]) -> Option<Vec<u8>> {
    let s = std::str::from_utf8(s).ok()?;
    if s.contains(':') {
        s.parse::<Ipv6Addr>().ok().map(|a| a.octets().to_vec())
    } else {
        s.parse::<Ipv4Addr>().ok().map(|a| a.octets().to_vec())
    }
}

fn check_ip(s: &[u8]) {
    let mut o = [0u8; 16];
    let ours = parse_ip(s, &mut o).map(|n| o[..n].to_vec());
    assert_eq!(ours, std_ip(s), "parse_ip vs std on {:?}", String::from_utf8_lossy(s));
    let v6 = s.contains(&b':');
    let mut l = [0u8; 16];
    let libc = faas::sys::inet_pton(v6, s, &mut l).then(|| l[..if v6 { 16 } else { 4 }].to_vec());
    // inet_pton takes at most 47 bytes (and no NUL); longer literals are refused anyway.
    if s.len() < 47 {
        assert_eq!(ours, libc, "parse_ip vs inet_pton on {:?}", String::from_utf8_lossy(s));
    }
}

fuzz_target!(|data: &[u8]| {
    check_ip(data);
    let Ok(s) = std::str::from_utf8(data) else { return };
    let Ok(a) = Addr::parse(s) else { return };
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace());
    let rest = if t.len() >= 7 && t[..7].eq_ignore_ascii_case("http://") { &t[7..] } else { t };
    let authority = rest.split('/').next().unwrap();
    assert_eq!(a.host(), authority);
    assert!(a.host().is_ascii() && s.contains(a.host()));
    let (host, port) = authority.rsplit_once(':').unwrap();
    assert!(a.port() != 0 && port.parse::<u16>() == Ok(a.port()), "port {port:?} -> {}", a.port());
    let p = a.prefix();
    assert!(p.is_empty() || (p.starts_with('/') && !p.ends_with('/')), "prefix {p:?}");
    assert!(!p.bytes().any(|b| b <= b' ' || b == b'?' || b == b'#' || b >= 0x7f), "prefix {p:?}");
    assert!(rest[authority.len()..].starts_with(p));
    assert_eq!(a.is_v6(), host.starts_with('['));
    if let Some(inner) = host.strip_prefix('[') {
        assert!(inner.ends_with(']') && inner[..inner.len() - 1].parse::<Ipv6Addr>().is_ok(), "host {host:?}");
    } else if !host.eq_ignore_ascii_case("localhost") {
        assert!(host.parse::<Ipv4Addr>().is_ok(), "host {host:?}");
    }
});
