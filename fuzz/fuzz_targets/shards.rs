//! `merge` on shard folders: the input is split at NUL bytes into the
//! files of two shard folders (`summary.json`, `replications.csv`,
//! `volume_replications.csv` of shard 0, then the same of shard 1; a file
//! past the input's last section is absent), which are merged and replayed
//! into the summary as `clustersim merge` does. Whatever the files hold,
//! merging must not panic: it ends in a summary, or in an input error
//! (exit 2) naming one of the files, at a line and column inside it.
#![no_main]

use clustersim::error::Error;
use clustersim::metrics::ReplicationOutcome;
use clustersim::run::summary::Accumulator;
use clustersim_fuzz::{check_error, safe_scenario_text};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

const FILES: [&str; 3] = ["summary.json", "replications.csv", "volume_replications.csv"];

/// The two shard folders, made once per process and rewritten for each input.
fn folders() -> &'static [PathBuf; 2] {
    static DIRS: OnceLock<[PathBuf; 2]> = OnceLock::new();
    DIRS.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("clustersim-fuzz-shards-{}", std::process::id()));
        let dirs = [root.join("s0"), root.join("s1")];
        for dir in &dirs {
            std::fs::create_dir_all(dir).expect("a temporary folder");
        }
        dirs
    })
}

fuzz_target!(|data: &[u8]| {
    // The manifest's scenario is parsed and may name a trace to read.
    let Ok(text) = std::str::from_utf8(data) else { return };
    if !safe_scenario_text(text) {
        return;
    }
    let dirs = folders();
    let mut sections = text.split('\0');
    let mut contents = Vec::new();
    for dir in dirs {
        for name in FILES {
            let path = dir.join(name);
            match sections.next() {
                Some(s) => {
                    std::fs::write(&path, s).expect("writing a shard file");
                    contents.push((path.display().to_string(), s.to_string()));
                }
                None => {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
    }
    let result = clustersim::shard::merge(&dirs[..]).and_then(|mut merged| {
        let scenario = merged.scenario.clone();
        let mut summary = Accumulator::new(&scenario, &scenario.strategies);
        merged.replay(&mut |_, outcomes: Vec<ReplicationOutcome>| {
            assert_eq!(outcomes.len(), scenario.strategies.len(), "one outcome per strategy");
            summary.add(&outcomes.iter().collect::<Vec<_>>());
            Ok(())
        })?;
        summary.finish(&scenario);
        Ok(())
    });
    match result {
        Ok(()) => {}
        Err(Error::Input(e)) => {
            // An error at a place in a shard file lies inside it (the
            // manifest's scenario text has its own target, `scenario`).
            if let Some((_, body)) = contents.iter().find(|(f, _)| *f == e.file) {
                check_error(&e.file, body.strip_prefix('\u{feff}').unwrap_or(body), &e);
            }
            assert!(!e.message.trim().is_empty(), "an error without a message: {e:?}");
        }
        Err(e) => panic!("not an input error: {e}"),
    }
});
