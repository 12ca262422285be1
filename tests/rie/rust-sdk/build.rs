//! The aws-sdk-lambda version that Cargo.lock pins, for the closing line.
fn main() {
    let lock = std::fs::read_to_string("Cargo.lock").expect("Cargo.lock");
    let version = lock.split("name = \"aws-sdk-lambda\"\nversion = \"").nth(1).and_then(|s| s.split('"').next()).expect("aws-sdk-lambda in Cargo.lock");
    println!("cargo:rustc-env=LAMBDA_SDK_VERSION={version}");
    println!("cargo:rerun-if-changed=Cargo.lock");
}
