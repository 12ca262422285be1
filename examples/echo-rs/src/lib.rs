//! Echo: answers every invocation with its event, unchanged.
#![no_std]
#![no_main]

use faas::{Context, Handler, HandlerError, Out, Response};

struct Echo;

impl Handler for Echo {
    fn handle<'a>(&mut self, event: &'a [u8], _ctx: &Context<'a>, _out: Out<'a, '_>) -> Result<Response<'a>, HandlerError<'a>> {
        Ok(Response::json(event))
    }
}

faas::main!(|| Ok::<_, HandlerError>(Echo));
