//! Response streaming: sends the event back in three chunks. An event of
//! `"fail"` fails after the first chunk, which the client sees in the
//! stream's error trailers. An event of `"http"` answers as a function URL
//! would want: status 201, a header, a cookie, then the body.
#![no_std]
#![no_main]

use faas::{Context, Handler, HandlerError, Out, Response};

struct Streamer;

impl Handler for Streamer {
    fn handle<'a>(&mut self, event: &'a [u8], _ctx: &Context<'a>, out: Out<'a, '_>) -> Result<Response<'a>, HandlerError<'a>> {
        if event == b"\"http\"" {
            let mut s = out.stream_http(br#"{"statusCode":201,"headers":{"x-faas":"yes"},"cookies":["a=b"]}"#)?;
            s.write(b"hello")?;
            return Ok(s.finish());
        }
        let mut s = out.stream("text/plain")?;
        s.write(b"start\n")?;
        if event == b"\"fail\"" {
            return Err(HandlerError::new("Function.StreamFailed", "failed after the first chunk"));
        }
        s.write(event)?;
        s.write(b"\nend\n")?;
        Ok(s.finish())
    }
}

faas::main!(|| Ok::<_, HandlerError>(Streamer));
