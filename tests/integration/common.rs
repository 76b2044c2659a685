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

/// The cluster most scripted tests share: 30 days, one replication, one
/// strategy, `nodes` nodes `n-1`.. of 4 CPU and 8 GiB that never fail on
/// their own. `defaults` adds keys to `[node_defaults]`; `body` adds apps,
/// volumes, events and further tables.
pub fn quiet_cluster(strategy: &str, nodes: u32, defaults: &str, body: &str) -> Scenario {
    scenario(&format!(
        "horizon = \"30d\"\nreplications = 1\nstrategies = [\"{strategy}\"]\n\
         [node_defaults]\ncpu = 4\nmemory = \"8Gi\"\nfailure = \"never\"\nrepair = \"never\"\n{defaults}\n\
         [[nodes]]\nname = \"n\"\ncount = {nodes}\n{body}\n"
    ))
}
