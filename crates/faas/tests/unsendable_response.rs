//! A Rust handler's response whose content type cannot go in a request head
//! (here CR LF, a header injection) is answered as the invocation's error,
//! `Runtime.InvalidResponse`, never left unanswered. Its own test binary:
//! `faas::run` takes the runtime's static storage once per process.
use faas::{Context, Handler, HandlerError, Out, Response};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

struct BadType;

impl Handler for BadType {
    fn handle<'a>(&mut self, _: &'a [u8], _: &Context<'a>, _: Out<'a, '_>) -> Result<Response<'a>, HandlerError<'a>> {
        Ok(Response::new(b"x", "text/plain\r\nX-Injected: 1"))
    }
}

#[test]
fn a_response_that_cannot_be_sent_is_answered_as_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let posts = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let seen = posts.clone();
    // One /next with an event, then 500 (the runtime exits); posts get 202.
    std::thread::spawn(move || {
        let mut nexts = 0;
        for conn in listener.incoming() {
            let mut w = conn.unwrap();
            let mut r = BufReader::new(w.try_clone().unwrap());
            loop {
                let mut head = String::new();
                while !head.ends_with("\r\n\r\n") {
                    if r.read_line(&mut head).unwrap_or(0) == 0 {
                        break;
                    }
                }
                let Some(line) = head.lines().next().filter(|l| !l.is_empty()).map(str::to_string) else { break };
                let len = head.lines().find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length: ").map(|n| n.trim().parse().unwrap())).unwrap_or(0);
                let mut body = vec![0; len];
                r.read_exact(&mut body).unwrap();
                let reply = if line.starts_with("GET") {
                    nexts += 1;
                    match nexts {
                        1 => "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: bad\r\nContent-Length: 2\r\n\r\n{}",
                        _ => "HTTP/1.1 500 Done\r\nContent-Length: 0\r\n\r\n",
                    }
                } else {
                    seen.lock().unwrap().push((line, String::from_utf8_lossy(&body).into_owned()));
                    "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
                };
                w.write_all(reply.as_bytes()).unwrap();
            }
        }
    });
    std::env::set_var("AWS_LAMBDA_RUNTIME_API", &addr);
    assert_eq!(faas::run(|| Ok::<_, HandlerError>(BadType)), 1, "the 500 ends the loop");
    let posts = posts.lock().unwrap().clone();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].0, "POST /2018-06-01/runtime/invocation/bad/error HTTP/1.1");
    assert!(posts[0].1.contains(r#""errorType":"Runtime.InvalidResponse""#), "{}", posts[0].1);
}
