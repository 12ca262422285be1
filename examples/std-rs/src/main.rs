//! faas in a program with `std`: the handler uses `String`, `format!` and
//! serde_json, and a panic hook reports panics, with their formatted
//! messages, as the invocation's error. faas itself still allocates nothing.
//!
//! A handler's [`Response`] and [`HandlerError`] borrow from the invocation,
//! so an owned `String` is sent at once, with `out.respond` or `out.fail`.
//! faas's state belongs to the thread that calls `faas::run`: other threads
//! may log and panic, and their panics are left to std.
use faas::{Context, Handler, HandlerError, Out, Response};
use serde_json::{json, Value};

struct Greeter {
    greeting: String,
    invocations: u64,
}

impl Handler for Greeter {
    fn handle<'a>(&mut self, event: &'a [u8], ctx: &Context<'a>, out: Out<'a, '_>) -> Result<Response<'a>, HandlerError<'a>> {
        self.invocations += 1;
        let event: Value = match serde_json::from_slice(event) {
            Ok(v) => v,
            Err(e) => return Ok(out.fail(HandlerError { error_type: "Function.InvalidJson", message: e.to_string().as_bytes() })?),
        };
        let name = event["name"].as_str().unwrap_or("world");
        match name {
            "panic" => panic!("asked to panic by request {}", ctx.request_id()),
            // Not the runtime's thread: the hook leaves it to std's own hook
            // (with panic = "abort" the process then ends, unreported).
            "thread-panic" => {
                let _ = std::thread::spawn(|| panic!("asked to panic on another thread")).join();
            }
            _ => {}
        }
        let reply = json!({
            "message": format!("{}, {name}!", self.greeting),
            "invocation": self.invocations,
            "request_id": ctx.request_id(),
        });
        Ok(out.respond(reply.to_string().as_bytes(), "application/json")?)
    }
}

fn main() {
    let std_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info.payload().downcast_ref::<&str>().copied().or(info.payload().downcast_ref::<String>().map(String::as_str)).unwrap_or("panicked");
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        // Reports and aborts on the runtime's thread; returns on any other.
        faas::report_panic(format!("{text}{at}").as_bytes());
        std_hook(info)
    }));
    std::process::exit(faas::run(|| {
        let greeting = std::env::var("GREETING").unwrap_or_else(|_| "Hello".into());
        if greeting.is_empty() {
            return Err(HandlerError::new("Function.BadConfig", "GREETING is empty"));
        }
        Ok(Greeter { greeting, invocations: 0 })
    }))
}
