//! Typed JSON in and out, with no allocator: `{"name": "Ada", "times": 2}`
//! becomes `{"greeting": "hello", "name": "Ada", "times": 2, "remaining_ms": ...}`.
//! A missing name is a function error; `"name": "panic"` panics, to show that
//! a panic is reported as the invocation's error. It logs each greeting, and
//! opts in to graceful shutdown: on SIGTERM it logs how many it made.
#![no_std]
#![no_main]

use faas::log::{self, Level};
use faas::{Context, Handler, HandlerError, Out, Response};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Request {
    // Text, not &str: a name may hold JSON escapes ("Jos\u00e9").
    name: Option<faas::json::Text<64>>,
    #[serde(default)]
    times: u32,
}

#[derive(Serialize)]
struct Reply<'a> {
    greeting: &'a str,
    name: &'a str,
    times: u32,
    remaining_ms: u64,
}

struct Greeter {
    greeting: &'static str,
    greeted: u64,
}

impl Handler for Greeter {
    fn handle<'a>(&mut self, event: &'a [u8], ctx: &Context<'a>, out: Out<'a, '_>) -> Result<Response<'a>, HandlerError<'a>> {
        let req: Request = faas::json::from_slice(event)?;
        let name = req.name.ok_or(HandlerError::new("Function.MissingName", "the event has no \"name\""))?;
        let name = name.as_str();
        if name == "panic" {
            panic!("asked to panic");
        }
        self.greeted += 1;
        let mut line = [0u8; 160];
        let mut w = faas::http::Writer::new(&mut line);
        w.put_str("greeting ").put_str(name);
        log::write(Level::Info, w.finish().unwrap_or(b"greeting"));
        out.json(&Reply { greeting: self.greeting, name, times: req.times, remaining_ms: ctx.remaining_ms() })
    }

    fn graceful_shutdown(&self) -> bool {
        true
    }

    fn shutdown(&mut self) {
        let mut line = [0u8; 64];
        let mut w = faas::http::Writer::new(&mut line);
        w.put_str("shutting down after ").put_dec(self.greeted).put_str(" greetings");
        log::write(Level::Info, w.finish().unwrap_or(b"shutting down"));
    }
}

/// Init: reads GREETING from the environment; `GREETING=fail` shows an init
/// error, `GREETING=panic` that a panic in init is reported as one too.
fn init() -> Result<Greeter, HandlerError<'static>> {
    match faas::sys::getenv(c"GREETING") {
        Some("fail") => Err(HandlerError::new("Function.BadConfig", "GREETING=fail")),
        Some("panic") => panic!("GREETING=panic"),
        Some(g) => Ok(Greeter { greeting: g, greeted: 0 }),
        None => Ok(Greeter { greeting: "hello", greeted: 0 }),
    }
}

faas::main!(init);
