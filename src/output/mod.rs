//! Everything that leaves the process: result files and terminal tables.
//!
//! Only this layer knows CSV, JSON and the terminal. It takes finished
//! results, never the engine. Files are written atomically (a temporary file
//! in the same folder, then a rename), and a folder is only written when it
//! is empty of results or holds results of the same scenario; `summary.json`
//! doubles as the manifest of the files a run wrote, so a rerun removes only
//! its own stale files and never anything a user put there.

pub mod files;
pub mod table;

use crate::error::{Error, InputError};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The manifest of the previous run in an output folder.
#[derive(Debug, Default)]
pub struct Previous {
    /// Files the previous run wrote, by name.
    pub files: Vec<String>,
}

/// The file that identifies a results folder and lists what a run wrote.
pub const MANIFEST: &str = "summary.json";

/// Checks that `dir` may receive the results of scenario `name`, creating it
/// if needed, and returns what the previous run there wrote.
pub fn prepare_dir(dir: &Path, name: &str, force: bool) -> Result<Previous, Error> {
    let shown = dir.display().to_string();
    if dir.exists() && !dir.is_dir() {
        return Err(
            InputError::new(&shown, "the output path exists and is not a folder: choose another with --out").into()
        );
    }
    let manifest = dir.join(MANIFEST);
    let mut previous = Previous::default();
    if manifest.exists() {
        let text = fs::read_to_string(&manifest).map_err(|source| Error::Io { path: manifest.clone(), source })?;
        let parsed: Option<serde_json::Value> = serde_json::from_str(&text).ok();
        let owner = parsed.as_ref().and_then(|v| v.get("scenario")).and_then(|v| v.as_str()).map(str::to_string);
        match owner {
            Some(owner) if owner == name || force => {
                previous.files = parsed
                    .as_ref()
                    .and_then(|v| v.get("files"))
                    .and_then(|v| v.as_array())
                    .map(|list| list.iter().filter_map(|f| f.as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
            }
            Some(owner) => {
                return Err(InputError::new(
                    &shown,
                    format!("the folder holds results of scenario `{owner}`, not `{name}`: pass --force to overwrite them, or --out to write elsewhere"),
                )
                .into());
            }
            None if force => {}
            None => {
                return Err(InputError::new(
                    &shown,
                    format!("the folder holds a {MANIFEST} that clustersim did not write: pass --force to overwrite it, or --out to write elsewhere"),
                )
                .into());
            }
        }
    }
    fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
    Ok(previous)
}

/// Writes `bytes` to `dir/name` through a temporary file and a rename, so a
/// reader never sees a half-written file.
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

/// Removes the files the previous run wrote that this run did not, so that
/// a stale `events.csv` does not sit beside fresh results. Only plain file
/// names from our own manifest are touched.
pub fn remove_stale(dir: &Path, previous: &Previous, written: &[&str]) -> Result<(), Error> {
    for name in &previous.files {
        let plain = !name.contains(['/', '\\']) && name != ".." && name != ".";
        if plain && !written.contains(&name.as_str()) {
            let path = dir.join(name);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(Error::Io { path, source }),
            }
        }
    }
    Ok(())
}
