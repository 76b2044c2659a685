//! The `clustersim` binary: parses the command line and turns errors into
//! exit codes (0 success, 2 bad input, 1 internal error or, for `plan`, no
//! value meets the target). A closed stdout
//! pipe (`clustersim run ... | head`) counts as success.

// The system calls go through rustix and libraries; this crate has no
// `unsafe` of its own.
#![forbid(unsafe_code)]

use clap::Parser;
use clustersim::cli::{Cli, main_with};
use clustersim::error::Error;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match main_with(cli) {
        Ok(status) => ExitCode::from(status.exit_code()),
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
