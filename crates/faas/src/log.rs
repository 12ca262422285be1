//! Logging to stderr, one line per message, with no allocation and no
//! formatting machinery. With `AWS_LAMBDA_LOG_FORMAT=JSON` each line is a
//! JSON object with `timestamp`, `level`, `message` and `requestId`, and
//! `AWS_LAMBDA_LOG_LEVEL` filters (as Lambda does, only in JSON format).

use crate::http::eq_nocase;
use crate::{json, sys};
use core::sync::atomic::{AtomicU8, Ordering};

/// Log levels, as Lambda names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    /// Finest detail.
    Trace = 0,
    /// Debugging detail.
    Debug = 1,
    /// Normal operation.
    Info = 2,
    /// Something unexpected, handled.
    Warn = 3,
    /// An operation failed.
    Error = 4,
    /// The process cannot go on.
    Fatal = 5,
}

const NAMES: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

impl Level {
    /// The level with this number (0 = Trace ... 5 = Fatal).
    pub fn from_u8(n: u8) -> Option<Level> {
        [Level::Trace, Level::Debug, Level::Info, Level::Warn, Level::Error, Level::Fatal].get(usize::from(n)).copied()
    }
    /// The level's name, e.g. `INFO`.
    pub fn name(self) -> &'static str {
        NAMES[self as usize]
    }
}

/// Bit 7: JSON format; low bits: the lowest level written.
static CONFIG: AtomicU8 = AtomicU8::new(0);
const JSON: u8 = 0x80;

/// Reads `AWS_LAMBDA_LOG_FORMAT` and `AWS_LAMBDA_LOG_LEVEL` (the runtime
/// does this before init).
pub fn configure_from_env() {
    let is_json = sys::getenv(c"AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| eq_nocase(f.as_bytes(), b"json"));
    let level = sys::getenv(c"AWS_LAMBDA_LOG_LEVEL").and_then(|l| NAMES.iter().position(|n| eq_nocase(n.as_bytes(), l.as_bytes()))).unwrap_or(0) as u8;
    CONFIG.store(if is_json { JSON | level } else { 0 }, Ordering::Relaxed);
}

/// Writes a message from the function at `level`, one line. In text format
/// the line is the message as it is; in JSON format, an object per line.
pub fn write(level: Level, message: &[u8]) {
    let message = message.strip_suffix(b"\n").unwrap_or(message);
    let cfg = CONFIG.load(Ordering::Relaxed);
    if cfg & JSON == 0 {
        sys::stderr(&[message, b"\n"]);
    } else if level as u8 >= cfg & !JSON {
        json_line(level, &[message]);
    }
}

/// A runtime message: `faas: ` and the parts, one line (or a JSON object).
pub fn runtime(parts: &[&[u8]]) {
    let parts = parts.get(..6).unwrap_or(parts);
    let cfg = CONFIG.load(Ordering::Relaxed);
    if cfg & JSON != 0 {
        // The runtime reports only what went wrong: ERROR passes any filter
        // but FATAL.
        if Level::Error as u8 >= cfg & !JSON {
            json_line(Level::Error, parts);
        }
        return;
    }
    let mut all: [&[u8]; 8] = [b"faas: ", b"", b"", b"", b"", b"", b"", b"\n"];
    for (d, p) in all.iter_mut().skip(1).zip(parts) {
        *d = p;
    }
    sys::stderr(&all);
}

/// One JSON log line, built in a stack buffer and written at once (a longer
/// line is written in pieces, still as one line).
fn json_line(level: Level, parts: &[&[u8]]) {
    let mut line = Line { buf: [0; 1024], len: 0 };
    line.put(b"{\"timestamp\":\"");
    line.put(&timestamp(sys::now_ms()));
    line.put(b"\",\"level\":\"");
    line.put(level.name().as_bytes());
    line.put(b"\",\"message\":\"");
    for p in parts {
        json::escape(p, &mut |b: &[u8]| line.put(b));
    }
    line.put(b"\",\"requestId\":\"");
    if sys::on_runtime_thread() {
        sys::with_current(&mut |c| json::escape(c.request_id.as_bytes(), &mut |b: &[u8]| line.put(b)));
    }
    line.put(b"\"}\n");
    line.flush();
}

struct Line {
    buf: [u8; 1024],
    len: usize,
}

impl Line {
    fn put(&mut self, b: &[u8]) {
        if self.len + b.len() > self.buf.len() {
            self.flush();
            if b.len() > self.buf.len() {
                return sys::stderr(&[b]);
            }
        }
        self.len += crate::http::copy(self.buf.get_mut(self.len..).unwrap_or_default(), b);
    }

    fn flush(&mut self) {
        sys::stderr(&[self.buf.get(..self.len).unwrap_or_default()]);
        self.len = 0;
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for Unix milliseconds (civil-from-days, after
/// Howard Hinnant's public-domain algorithm).
pub fn timestamp(ms: u64) -> [u8; 24] {
    // Unsigned: the Unix epoch is in era 4 (from 1600-03-01), so no date
    // here is before its era's start.
    let secs = ms / 1000;
    let sod = secs % 86400;
    let z = secs / 86400 + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let mut num = |at: usize, width: usize, mut v: u64| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    num(0, 4, year);
    num(5, 2, month);
    num(8, 2, day);
    num(11, 2, sod / 3600);
    num(14, 2, sod % 3600 / 60);
    num(17, 2, sod % 60);
    num(20, 3, ms % 1000);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        for (ms, want) in [
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (1_763_800_000_123, "2025-11-22T08:26:40.123Z"),
            (4_102_444_799_999, "2099-12-31T23:59:59.999Z"),
        ] {
            assert_eq!(core::str::from_utf8(&timestamp(ms)).unwrap(), want);
        }
    }
}
