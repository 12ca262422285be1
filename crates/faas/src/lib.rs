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
//! A whole bootstrap (built as a `staticlib` and linked with `cc`; see the
//! README):
//!
//! ```no_run
//! #![no_std]
//! #![no_main]
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
//! faas::main!(|| Ok(Echo));
//! ```
#![no_std]
#![deny(unsafe_code)]

pub mod addr;
mod handler;
pub mod http;
pub mod json;
pub mod log;
pub mod runtime;
#[doc(hidden)]
pub mod sys;

pub use handler::{panic, run, Handler, HandlerError, Out, Response, Stream};
pub use runtime::{Context, MAX_PAYLOAD};

/// The library version, from the workspace Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything that can go wrong in the runtime itself. Small and `Copy`;
/// [`Error::as_str`] describes each one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    /// Malformed HTTP from the Runtime API.
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
    /// JSON that does not parse into the type, or does not fit the buffer.
    Json,
}

impl Error {
    /// A static description of the error.
    pub const fn as_str(self) -> &'static str {
        match self {
            Error::NoAddress => "AWS_LAMBDA_RUNTIME_API is not set",
            Error::Address => "AWS_LAMBDA_RUNTIME_API is not host:port or http://host:port[/prefix] with an IP address or localhost",
            Error::Connect => "cannot connect to the Runtime API",
            Error::Io => "socket read or write failed",
            Error::Closed => "the Runtime API closed the connection",
            Error::Truncated => "the Runtime API closed the connection in mid-message",
            Error::Protocol => "malformed HTTP from the Runtime API",
            Error::TooLarge => "payload or header over its limit",
            Error::Status => "the Runtime API refused the request",
            Error::Fatal => "the Runtime API reported a fatal error",
            Error::NoRequestId => "invocation without Lambda-Runtime-Aws-Request-Id",
            Error::Invalid => "invalid argument",
            Error::State => "not allowed in the invocation's current state",
            Error::Json => "JSON does not match the type or does not fit",
        }
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
