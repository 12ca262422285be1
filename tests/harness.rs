//! Shared helpers for the integration tests.
use std::path::PathBuf;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A built artefact under out/ (run `make all` first; `make test` does).
pub fn out(rel: &str) -> PathBuf {
    let p = root().join("out").join(rel);
    assert!(p.exists(), "{} is missing: run `make all` first", p.display());
    p
}
