//! Echo on the official runtime, with its fastest scheduler (current-thread).
//! The event is taken and given back as raw JSON text (serde_json's
//! `RawValue`: checked, not parsed into a tree), the least work
//! `lambda_runtime` allows and what the other contenders do: copy the bytes.
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|e: LambdaEvent<Box<RawValue>>| async move { Ok::<Box<RawValue>, Error>(e.payload) })).await
}
