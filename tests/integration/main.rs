//! The integration tests: one binary, one file per behaviour.

mod bad_input;
mod common;
