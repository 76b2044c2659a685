//! Everything that leaves the process: result files and terminal tables.
//!
//! Only this layer knows CSV, JSON and the terminal. It takes finished
//! results, never the engine. A command that writes results goes through
//! [`staging`]: its files are written into a staging folder beside the
//! output folder and switched in as a whole, so an interrupted run leaves
//! either the previous complete results or none, never a mix. `summary.json`
//! doubles as the manifest of the files a run wrote: what it does not list
//! belongs to the user and is carried over, never deleted or overwritten.
//! One command at a time writes a folder: [`lock`] refuses a second one at
//! its start.

pub mod files;
pub mod lock;
pub mod staging;
pub mod table;

pub use staging::{Staging, Target};

use crate::error::Error;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file that identifies a results folder and lists what a run wrote.
pub const MANIFEST: &str = "summary.json";

/// Writes `bytes` to `dir/name` through a temporary file and a rename, so a
/// reader never sees a half-written file. A rename also never writes
/// through an existing file: a hard link carried into a staging folder is
/// replaced, and the user's file it shares its data with is left alone.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, Error> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let io = |source| Error::Io { path: path.clone(), source };
    let mut file = fs::File::create(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    fs::rename(&tmp, &path).map_err(|source| {
        let _ = fs::remove_file(&tmp);
        Error::Io { path: path.clone(), source }
    })?;
    Ok(path)
}

/// The longest folder or file name made from user data, in bytes.
const MAX_COMPONENT: usize = 100;

/// Names Windows reserves for devices, whatever the extension.
const RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2",
    "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Turns a name from user data (a scenario file's stem, a scenario name)
/// into one safe path component: ASCII letters, digits, `.`, `_` and `-`
/// are kept, anything else (separators, NUL, spaces, non-ASCII) becomes
/// `-`; leading and trailing dots go, so `.` and `..` cannot appear and the
/// folder is never hidden; the length is capped; a Windows device name gets
/// a leading `_`; an empty result is `scenario`.
pub fn safe_component(name: &str) -> String {
    let mapped: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' }).collect();
    let capped: String = mapped.trim_start_matches('.').chars().take(MAX_COMPONENT).collect();
    let mut safe = capped.trim_end_matches('.').to_string();
    if safe.is_empty() {
        return "scenario".to_string();
    }
    let device = safe.split('.').next().unwrap_or("").to_ascii_uppercase();
    if RESERVED.contains(&device.as_str()) {
        safe.insert(0, '_');
    }
    safe
}

#[cfg(test)]
mod tests {
    use super::safe_component;
    use std::path::{Component, Path};

    #[test]
    fn names_from_user_data_become_one_safe_component() {
        let cases = [
            ("homelab", "homelab"),
            ("truecharts-homelab_v2.1", "truecharts-homelab_v2.1"),
            ("../../etc", "-..-etc"),
            ("/abs/path", "-abs-path"),
            ("a/b", "a-b"),
            ("a\\b", "a-b"),
            ("..", "scenario"),
            (".", "scenario"),
            ("", "scenario"),
            ("...", "scenario"),
            (".hidden", "hidden"),
            ("nul\0byte", "nul-byte"),
            ("my cluster: v1?", "my-cluster--v1-"),
            ("CON", "_CON"),
            ("com1.txt", "_com1.txt"),
            ("übung", "-bung"),
            ("trailing.", "trailing"),
        ];
        for (name, expected) in cases {
            assert_eq!(safe_component(name), expected, "{name:?}");
        }
        let long = "x".repeat(1000);
        assert_eq!(safe_component(&long).len(), 100);
        for (name, _) in cases {
            let safe = safe_component(name);
            let path = Path::new("output").join(&safe);
            let components: Vec<_> = path.components().collect();
            assert_eq!(components.len(), 2, "{name:?} -> {safe:?}");
            assert!(matches!(components[1], Component::Normal(_)), "{name:?} -> {safe:?}");
        }
    }
}
