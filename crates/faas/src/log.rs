//! Logging to stderr: one line per message, written with one `writev`, no
//! allocation, no formatting machinery.

use crate::sys;

/// Writes `parts` as one line (a newline is added) prefixed with `faas: `.
/// Used for the runtime's own messages.
pub fn runtime(parts: &[&[u8]]) {
    let mut all: [&[u8]; 8] = [b""; 8];
    all[0] = b"faas: ";
    let n = parts.len().min(6);
    all[1..=n].copy_from_slice(&parts[..n]);
    all[n + 1] = b"\n";
    sys::stderr(&all[..n + 2]);
}

/// Writes one message line to stderr, for handlers.
pub fn line(message: &[u8]) {
    let line = message.strip_suffix(b"\n").unwrap_or(message);
    sys::stderr(&[line, b"\n"]);
}
