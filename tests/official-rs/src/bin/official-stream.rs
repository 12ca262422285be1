//! Response streaming on the official runtime (lambda_runtime::streaming),
//! for the faas-rie tests: streams "start\n", the event, "\nend\n".
use lambda_runtime::streaming::{channel, Body, Response};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

async fn stream(event: LambdaEvent<Value>) -> Result<Response<Body>, Error> {
    let (mut tx, rx) = channel();
    let parts = ["start\n".to_string(), event.payload.to_string(), "\nend\n".to_string()];
    tokio::spawn(async move {
        for part in parts {
            if tx.send_data(part.into()).await.is_err() {
                break;
            }
        }
    });
    Ok(Response::from(rx))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(stream)).await
}
