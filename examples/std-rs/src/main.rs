//! faas in a program with `std`: the handler uses `String`, `format!` and
//! serde_json, and a panic hook reports panics, with their formatted
//! messages, as the invocation's error. faas itself still allocates nothing.
//!
//! A handler's [`Response`] and [`HandlerError`] borrow from the invocation,
//! so an owned `String` is sent at once, with `out.respond` or `out.fail`.
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
            Err(e) => {
                out.fail(HandlerError { error_type: "Function.InvalidJson", message: e.to_string().as_bytes() })?;
                return Ok(Response::new(b"", ""));
            }
        };
        let name = event["name"].as_str().unwrap_or("world");
        if name == "panic" {
            panic!("asked to panic by request {}", ctx.request_id());
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
    std::panic::set_hook(Box::new(|info| {
        let text = info.payload().downcast_ref::<&str>().copied().or(info.payload().downcast_ref::<String>().map(String::as_str)).unwrap_or("panicked");
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        faas::report_panic(format!("{text}{at}").as_bytes())
    }));
    std::process::exit(faas::run(|| {
        let greeting = std::env::var("GREETING").unwrap_or_else(|_| "Hello".into());
        if greeting.is_empty() {
            return Err(HandlerError::new("Function.BadConfig", "GREETING is empty"));
        }
        Ok(Greeter { greeting, invocations: 0 })
    }))
}
