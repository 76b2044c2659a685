//! Helpers shared by the integration tests.

#![allow(dead_code)]

use clustersim::model::Scenario;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Parses and validates scenario text, panicking with the error if invalid.
pub fn scenario(text: &str) -> Scenario {
    clustersim::scenario::parse("test.toml", text).unwrap_or_else(|e| panic!("scenario rejected: {e}"))
}

/// The built `clustersim` binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_clustersim"))
}

/// Runs the binary with `args` in `dir` and returns its output.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    bin().current_dir(dir).args(args).output().expect("the clustersim binary runs")
}

/// The repository root, where `scenarios/` lives.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}
