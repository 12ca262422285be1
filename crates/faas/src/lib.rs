//! # faas: the smallest and fastest AWS Lambda runtime
//!
//! A `no_std` runtime for the Lambda Runtime API (2018-06-01) that speaks
//! HTTP/1.1 over libc sockets, needs no allocator and no async executor.
//! Layers, each usable and tested on its own:
//!
//! - [`http`]: HTTP/1.1 framing, with no I/O;
//! - [`runtime`]: the Runtime API client (`/next`, `/response`, `/error`,
//!   `/init/error`, streaming) over one kept-alive connection;
//! - this module: the [`Handler`] trait, [`run`] and the [`main!`] macro.
//!
//! A handler, and the loop that runs it (the README shows the whole
//! `no_std` bootstrap, which is this plus `faas::main!(|| Ok(Echo));`):
//!
//! ```no_run
//! use faas::{Context, Handler, HandlerError, Out, Response};
//!
//! struct Echo;
//!
//! impl Handler for Echo {
//!     fn handle<'a>(&mut self, event: &'a [u8], _ctx: &Context<'a>, _out: Out<'a, '_>)
//!         -> Result<Response<'a>, HandlerError<'a>> {
//!         Ok(Response::json(event))
//!     }
//! }
//!
//! // What `faas::main!(|| Ok(Echo))` puts in a bootstrap's `main`:
//! std::process::exit(faas::run(|| Ok::<_, HandlerError>(Echo)));
//! ```
#![no_std]
#![deny(unsafe_code)]
// Size over idiom where clippy disagrees: core's `contains`, `is_ascii` and
// `eq_ignore_ascii_case` on slices are unrolled and cost hundreds of bytes in
// every bootstrap; the plain loops here cost tens.
#![allow(clippy::manual_contains, clippy::manual_ignore_case_cmp)]

pub mod addr;
mod handler;
pub mod http;
pub mod json;
pub mod log;
pub mod runtime;
#[doc(hidden)]
pub mod sys;

pub use handler::{panic, report_panic, run, Handler, HandlerError, Out, Response, Stream, HTTP_INTEGRATION};
pub use runtime::{Context, MAX_PAYLOAD};

/// The library version, from the workspace Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything that can go wrong in the runtime itself. Small and `Copy`;
/// [`Error::as_str`] describes each one, and [`Error::code`] gives its
/// stable number (the C API's result code).
///
/// Non-exhaustive: later versions may add errors (with new codes), so a
/// `match` on it needs a `_` arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// `AWS_LAMBDA_RUNTIME_API` is not set.
    NoAddress,
    /// `AWS_LAMBDA_RUNTIME_API` is not `host:port` or `http://host:port[/prefix]`.
    Address,
    /// The Runtime API could not be reached.
    Connect,
    /// A socket read or write failed.
    Io,
    /// The connection closed before a response began.
    Closed,
    /// The connection closed in the middle of a message.
    Truncated,
    /// A malformed HTTP head (status line or header) from the Runtime API.
    Protocol,
    /// A head, body or value over its limit.
    TooLarge,
    /// The Runtime API refused a request (a 4xx status).
    Status,
    /// The Runtime API reported a fatal error (a 5xx status): exit.
    Fatal,
    /// A `/next` response without a request id.
    NoRequestId,
    /// An argument is invalid (e.g. a header value with CR or LF).
    Invalid,
    /// The call does not fit the invocation's state (e.g. a second response).
    State,
    /// Not a JSON document, not one of the type, or too big for the buffer.
    Json,
    /// SIGTERM arrived (graceful shutdown): the runtime is stopping.
    Shutdown,
    /// A Content-Length that is not a number or disagrees with another, or
    /// a Transfer-Encoding other than chunked.
    Framing,
    /// A chunked body that breaks the chunked format.
    Chunked,
}

impl Error {
    /// Every error, in the order of their codes: `ALL[i].code() == i + 1`.
    /// Append-only: a new error takes the next code and goes at the end.
    const ALL: [Error; 17] = [
        Error::NoAddress,
        Error::Address,
        Error::Connect,
        Error::Io,
        Error::Closed,
        Error::Truncated,
        Error::Protocol,
        Error::TooLarge,
        Error::Status,
        Error::Fatal,
        Error::NoRequestId,
        Error::Invalid,
        Error::State,
        Error::Json,
        Error::Shutdown,
        Error::Framing,
        Error::Chunked,
    ];

    /// The error's stable number, 1 or more: the C API's `FAAS_E*` code.
    pub const fn code(self) -> i32 {
        // (Numbered from 0 in memory: from 1, LTO laid faas-rie out ~180 B larger.)
        self as i32 + 1
    }

    /// The error with this [`code`](Error::code), if there is one.
    pub fn from_code(code: i32) -> Option<Error> {
        Error::ALL.get(usize::try_from(code).ok()?.checked_sub(1)?).copied()
    }

    /// A static description of the error, NUL-terminated for C.
    pub const fn as_cstr(self) -> &'static core::ffi::CStr {
        match self {
            Error::NoAddress => c"AWS_LAMBDA_RUNTIME_API is not set",
            Error::Address => c"AWS_LAMBDA_RUNTIME_API is not host:port or http://host:port[/prefix] with an IP address or localhost",
            Error::Connect => c"cannot connect to the Runtime API",
            Error::Io => c"socket read or write failed",
            Error::Closed => c"the Runtime API closed the connection",
            Error::Truncated => c"the Runtime API closed the connection in mid-message",
            Error::Protocol => c"malformed status line or header from the Runtime API",
            Error::TooLarge => c"payload or header over its limit",
            Error::Status => c"the Runtime API refused the request",
            Error::Fatal => c"the Runtime API reported a fatal error",
            Error::NoRequestId => c"invocation without Lambda-Runtime-Aws-Request-Id (or with one over 128 bytes)",
            Error::Invalid => c"invalid argument",
            Error::State => c"not allowed in the invocation's current state",
            Error::Json => c"invalid JSON, or not of the type, or too big",
            Error::Shutdown => c"shutting down (SIGTERM)",
            Error::Framing => c"bad Content-Length or Transfer-Encoding from the Runtime API",
            Error::Chunked => c"malformed chunked body from the Runtime API",
        }
    }

    /// A static description of the error.
    pub fn as_str(self) -> &'static str {
        sys::ascii(self.as_cstr().to_bytes()).unwrap_or_default()
    }
}

/// Defines the entry point of a `no_std`, `no_main` bootstrap: `main` runs
/// [`run`] with the given init function, and a panic handler reports a panic
/// as the current invocation's error before the process aborts.
///
/// The argument is any `FnOnce() -> Result<H, HandlerError<'_>>` where `H:
/// Handler`; an `Err` is posted to `/init/error`.
#[macro_export]
macro_rules! main {
    ($init:expr) => {
        #[cfg(not(test))]
        #[panic_handler]
        fn __faas_panic(info: &::core::panic::PanicInfo) -> ! {
            $crate::panic(info)
        }

        #[cfg(not(test))]
        #[no_mangle]
        pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
            $crate::run($init)
        }

        /// Debug builds of `core` still name an unwinder; release builds
        /// (panic = "abort", LTO) do not.
        #[cfg(all(not(test), debug_assertions))]
        #[no_mangle]
        pub extern "C" fn rust_eh_personality() {}
    };
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn error_codes_are_stable_and_round_trip() {
        for (i, &e) in Error::ALL.iter().enumerate() {
            assert_eq!(e.code() as usize, i + 1, "{e:?}");
            assert_eq!(Error::from_code(e.code()), Some(e));
            assert!(!e.as_str().is_empty(), "{e:?}");
            assert!(Error::ALL[..i].iter().all(|o| o.as_str() != e.as_str()), "{e:?}: description not unique");
        }
        // The numbers the C header (FAAS_E*) and the C test promise.
        assert_eq!((Error::NoAddress.code(), Error::Protocol.code(), Error::Chunked.code()), (1, 7, 17));
        for c in [i32::MIN, -1, 0, 18, 100, i32::MAX] {
            assert_eq!(Error::from_code(c), None, "{c}");
        }
    }
}
