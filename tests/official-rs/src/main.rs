//! Echo on the official runtime, with its fastest scheduler (current-thread).
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|e: LambdaEvent<Value>| async move { Ok::<Value, Error>(e.payload) })).await
}
