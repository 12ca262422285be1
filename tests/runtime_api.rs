//! Integration tests of the bootstraps against an in-process Runtime API (being written).
