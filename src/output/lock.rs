//! One command at a time per output folder: a lock file taken before any
//! work and removed when the command ends, however it ends.
//!
//! 1. [`Lock::take`] (called by `Target::check` and `Target::redraw`, so by
//!    every command that writes a folder, before it simulates): the lock is
//!    `.<folder>.lock` beside the output folder, in its parent, so it works
//!    before the folder exists and is never part of the results. Where the
//!    parent cannot be written (the case where the staging folder goes
//!    inside too), it is `.clustersim.lock` inside the folder, a file the
//!    manifest does not list and an in-place commit does not touch.
//! 2. The file is opened (created if absent) and `flock`ed for the
//!    command's whole life; under that lock it is read and judged, then
//!    rewritten with this process's pid, host and command line. Every
//!    writer writes under the `flock`, so a reader holding it never sees a
//!    half-written lock, and two commands taking over the same stale lock
//!    at once are served one after the other.
//! 3. A lock is held when another process has it `flock`ed, when its pid is
//!    running on this host, or when it names another host (whose processes
//!    we cannot see): the command is refused at once (exit 2) with the
//!    folder, the lock file, the pid and what to do.
//! 4. A lock of ours whose process is gone is stale: a command killed with
//!    SIGKILL, or stopped by Ctrl-C, runs no destructor and leaves it (the
//!    kernel drops its `flock`). It is taken over with a notice.
//! 5. Dropping the [`Lock`] (the command's end, or an error returned
//!    through it) removes the file, if it is still ours.

use super::staging::{alive, host, io_error, is_permission, stamp, stamp_field};
use crate::error::{Error, InputError};
use std::fs;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The first line of a lock file.
const KIND: &str = "clustersim lock";

/// The lock's name inside the output folder, where its parent cannot be
/// written.
const INSIDE: &str = ".clustersim.lock";

/// A held lock on an output folder; see the module documentation.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    /// Open, and `flock`ed where the filesystem supports it, until dropped.
    file: fs::File,
}

impl Lock {
    /// Takes the lock of the output folder `target` (absolute, links
    /// resolved), named `shown` in messages; returns it with the notices to
    /// show (a stale lock taken over).
    pub fn take(target: &Path, shown: &str) -> Result<(Lock, Vec<String>), Error> {
        let mut notes = Vec::new();
        let inside = target.join(INSIDE);
        if let (Some(parent), Some(name)) = (target.parent(), target.file_name()) {
            let beside = parent.join(format!("{}.lock", super::staging::hidden_name(name)));
            match Lock::at(&beside, shown, &mut notes) {
                Ok(lock) => {
                    // A lock left inside by a command that could not write
                    // beside the folder: held, it refuses us; stale, it goes
                    // (taken and dropped), so that no swap carries it into
                    // the results as if it were the user's.
                    if fs::symlink_metadata(&inside).is_ok() {
                        drop(Lock::at(&inside, shown, &mut notes)?);
                    }
                    return Ok((lock, notes));
                }
                Err(Error::Io { source, .. }) if is_permission(&source) && target.is_dir() => {}
                Err(e) => return Err(e),
            }
        }
        Ok((Lock::at(&inside, shown, &mut notes)?, notes))
    }

    /// Takes the lock file at `path`.
    fn at(path: &Path, shown: &str, notes: &mut Vec<String>) -> Result<Lock, Error> {
        // The file may be removed by its holder between our open and our
        // flock: then the one we hold is no longer the lock, and we start
        // again. Each round means another command finished meanwhile.
        for _ in 0..100 {
            let mut file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(io_error(path))?;
            let locked = flock(&file);
            let mut text = String::new();
            // A lock that is not text is not ours: judged below.
            let _ = file.read_to_string(&mut text);
            if !locked {
                return Err(held(shown, path, &text));
            }
            if !same_file(&file, path) {
                continue;
            }
            if !text.is_empty() {
                if !text.starts_with(&format!("{KIND}\n")) {
                    return Err(Error::Input(InputError::new(
                        path.display().to_string(),
                        format!(
                            "this file is in the way of the lock of {shown}, and clustersim did not write it: move it away"
                        ),
                    )));
                }
                let pid = stamp_field(&text, "pid").and_then(|p| p.parse::<u32>().ok());
                let other_host = stamp_field(&text, "host") != Some(host().as_str());
                match pid {
                    Some(pid) if !other_host && !alive(pid) => notes.push(format!(
                        "took over the lock {} of process {pid}{}, which is no longer running",
                        path.display(),
                        command(&text).map_or(String::new(), |c| format!(" (`{c}`)"))
                    )),
                    _ => return Err(held(shown, path, &text)),
                }
            }
            let mine = stamp(KIND, &format!("command {}", this_command()));
            let written = file
                .set_len(0)
                .and_then(|()| file.rewind())
                .and_then(|()| file.write_all(mine.as_bytes()))
                .and_then(|()| file.flush());
            if let Err(source) = written {
                // Not a lock anyone could read: remove what we made of it.
                let _ = fs::remove_file(path);
                return Err(Error::Io { path: path.to_path_buf(), source });
            }
            return Ok(Lock { path: path.to_path_buf(), file });
        }
        Err(Error::Io { path: path.to_path_buf(), source: io::Error::other("the lock file keeps being replaced") })
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Only if the path is still our file: a lock deleted by hand while
        // we ran, and taken by another command since, is that command's.
        if same_file(&self.file, &self.path) {
            let _ = fs::remove_file(&self.path);
        }
        // Closing the file (after this) releases the flock.
    }
}

/// The refusal for a lock someone holds, from what its file says.
fn held(shown: &str, path: &Path, text: &str) -> Error {
    let pid = stamp_field(text, "pid");
    let who = match (pid, stamp_field(text, "host")) {
        (Some(pid), Some(h)) if h != host() => format!("process {pid} on host {h}"),
        (Some(pid), _) => format!("process {pid}"),
        (None, _) => "another process".to_string(),
    };
    let what = command(text).map_or(String::new(), |c| format!(" (`{c}`)"));
    let gone = pid.map_or("that process".to_string(), |p| format!("process {p}"));
    Error::Input(InputError::new(
        shown,
        format!(
            "another clustersim command is writing this folder: {who}{what} holds its lock {}; wait for it to finish, or, if {gone} is gone, delete {} and run again",
            path.display(),
            path.display()
        ),
    ))
}

fn command(text: &str) -> Option<&str> {
    stamp_field(text, "command").filter(|c| !c.is_empty())
}

/// This process's command line, on one line and of bounded length.
fn this_command() -> String {
    let line: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    line.join(" ").replace(['\n', '\r'], " ").chars().take(500).collect()
}

/// Takes the `flock` of `file` without waiting: false when another open
/// file holds it. Where the filesystem cannot lock, true: the pid decides.
fn flock(file: &fs::File) -> bool {
    #[cfg(unix)]
    {
        match rustix::fs::flock(file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => true,
            Err(e) => io::Error::from(e).kind() != io::ErrorKind::WouldBlock,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        true
    }
}

/// Whether `path` names the open `file` (the same inode).
fn same_file(file: &fs::File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.exists()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock_text(pid: u32, host: &str) -> String {
        format!("{KIND}\npid {pid}\nhost {host}\ncommand clustersim run x.toml\n")
    }

    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn a_lock_is_exclusive_and_removed_when_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("res");
        let (lock, notes) = Lock::take(&out, "res").unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(lock.path(), tmp.path().join(".res.lock"));
        let text = fs::read_to_string(lock.path()).unwrap();
        assert_eq!(stamp_field(&text, "pid"), Some(std::process::id().to_string().as_str()));
        let err = Lock::take(&out, "res").unwrap_err().to_string();
        assert!(err.contains(&format!("process {}", std::process::id())), "{err}");
        assert!(err.contains(".res.lock") && err.contains("delete"), "{err}");
        assert!(!out.exists(), "taking the lock makes no output folder");
        drop(lock);
        assert!(!tmp.path().join(".res.lock").exists());
        drop(Lock::take(&out, "res").unwrap());
    }

    #[test]
    fn a_stale_lock_is_taken_over_and_a_live_or_foreign_one_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("res");
        let path = tmp.path().join(".res.lock");
        fs::write(&path, lock_text(dead_pid(), &host())).unwrap();
        let (lock, notes) = Lock::take(&out, "res").unwrap();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("no longer running") && notes[0].contains("clustersim run x.toml"), "{notes:?}");
        drop(lock);
        for (text, expected) in [
            (lock_text(std::process::id(), &host()), "process"),
            (lock_text(dead_pid(), "some-other-host"), "on host some-other-host"),
            ("my own notes\n".to_string(), "did not write it"),
        ] {
            fs::write(&path, &text).unwrap();
            let err = Lock::take(&out, "res").unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(err.to_string().contains(expected), "{err}");
            assert_eq!(fs::read_to_string(&path).unwrap(), text, "a refused command leaves the lock as it was");
        }
    }

    #[test]
    fn a_stale_lock_left_inside_the_folder_is_cleared() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("res");
        fs::create_dir(&out).unwrap();
        fs::write(out.join(INSIDE), lock_text(dead_pid(), &host())).unwrap();
        let (lock, notes) = Lock::take(&out, "res").unwrap();
        assert_eq!(lock.path(), tmp.path().join(".res.lock"));
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(!out.join(INSIDE).exists(), "the stale lock inside is gone");
        fs::write(out.join(INSIDE), lock_text(std::process::id(), &host())).unwrap();
        drop(lock);
        assert!(Lock::take(&out, "res").is_err(), "a live lock inside refuses");
    }
}
