//! Writing a results folder as a whole: either the previous complete results
//! or the new ones, never a mix, and never a file the run did not write lost.
//!
//! 1. [`Target::check`], before any work: the output folder's lock is taken
//!    (see [`super::lock`]; held by the target and its staging folder until
//!    both are dropped), and the folder is absent, holds no results, or
//!    holds results of the same scenario (or `--force`).
//! 2. [`Target::stage`]: a staging folder `.<name>.staging-<pid>` is made
//!    beside the output folder (same filesystem) with a marker file in it;
//!    the command writes its files into [`Staging::dir`]. Staging folders of
//!    earlier runs that died (marker present, same host, process gone), and
//!    those a run was killed in before it finished the marker (nothing in
//!    them; the lock held says no live run is making them), are removed
//!    first; any other is left alone and mentioned in [`Staging::notes`].
//! 3. [`Staging::commit`]: the entries of the output folder that its
//!    manifest does not list (the user's) are hard-linked into the staging
//!    folder (a file of the run with the same name is refused without
//!    `--force`); then the two folders are swapped in one step
//!    (`renameat2(RENAME_EXCHANGE)` on Linux) and the old results deleted.
//!    Where the exchange is unsupported, the old folder is renamed aside and
//!    the new one renamed in: for that instant there are no results, which
//!    is allowed, but never a mix.
//! 4. Dropping a [`Staging`] without committing (an error) removes it. A
//!    killed process leaves it behind, with its marker, for the next run.
//!
//! When the output folder cannot be swapped (a mount point, the current
//! folder, a parent we may not write), the staging folder is made inside it
//! instead, and the commit moves the files in one by one: the old manifest
//! goes first and the new one last, so an interruption leaves a folder
//! without a manifest (no results), never one whose manifest lies.

use super::MANIFEST;
use super::lock::Lock;
use crate::error::{Error, InputError};
use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The marker file inside a staging folder: what made it, where, for what.
const MARKER: &str = ".clustersim-staging";
/// The first line of a marker.
const MARKER_KIND: &str = "clustersim staging folder";

/// Where the results go and which of the files there they replace; holds
/// the folder's lock (shared with its staging folder) while it lives.
#[derive(Debug, Clone)]
pub struct Target {
    /// The output folder as the user (or the default) named it.
    path: PathBuf,
    scope: Scope,
    /// Held, not read: dropping the last clone of the target (or of its
    /// staging folder's copy) removes the lock.
    _lock: Arc<Lock>,
    /// What taking the lock has to say (a stale lock taken over).
    notes: Vec<String>,
}

#[derive(Debug, Clone)]
enum Scope {
    /// A command's complete results, replacing those of the same `owner`
    /// (the `scenario` key of the manifest); `force` replaces anyone's.
    Results { owner: String, force: bool },
    /// A redraw (`clustersim report`): replaces only the files named here
    /// that the manifest lists (and the manifest, if the command writes it).
    Redraw { names: Vec<String> },
}

/// What a manifest says, if there is one.
struct Manifest {
    owner: Option<String>,
    files: Vec<String>,
}

pub(super) fn io_error(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.to_path_buf(), source }
}

fn read_manifest(dir: &Path) -> Result<Option<Manifest>, Error> {
    let path = dir.join(MANIFEST);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(Error::Io { path, source }),
    };
    let parsed = crate::results::manifest::LooseHead::parse(&text).unwrap_or_default();
    let owner = parsed.owner().map(str::to_string);
    let files = match owner {
        // Without an owner this is not our manifest: its list means nothing.
        None => Vec::new(),
        Some(_) => parsed.files().filter(|f| plain(f)).map(str::to_string).collect(),
    };
    Ok(Some(Manifest { owner, files }))
}

/// The files the manifest in `dir` lists (none without a manifest of ours).
pub fn listed(dir: &Path) -> Result<Vec<String>, Error> {
    Ok(read_manifest(dir)?.map(|m| m.files).unwrap_or_default())
}

/// A plain file name: no separator, not `.` or `..`, not empty.
fn plain(name: &str) -> bool {
    !name.is_empty() && !name.contains(['/', '\\', '\0']) && name != "." && name != ".."
}

impl Target {
    /// Takes the lock of `dir` and checks that it may receive the results
    /// of `owner` (a scenario name, or the identity of a compare or sweep).
    /// Nothing in the folder is touched (but for the lock, where its parent
    /// cannot hold it); the parent is made if missing, to hold the lock.
    pub fn check(dir: &Path, owner: &str, force: bool) -> Result<Target, Error> {
        let target = Target::locked(dir, Scope::Results { owner: owner.to_string(), force })?;
        target.replaced()?;
        Ok(target)
    }

    /// A redraw of the results in `dir`, under its lock: replaces the files
    /// in `names` and the manifest, keeps everything else.
    pub fn redraw(dir: &Path, names: Vec<String>) -> Result<Target, Error> {
        Target::locked(dir, Scope::Redraw { names })
    }

    fn locked(dir: &Path, scope: Scope) -> Result<Target, Error> {
        let (lock, notes) = Lock::take(&resolve(dir)?, &dir.display().to_string())?;
        Ok(Target { path: dir.to_path_buf(), scope, _lock: Arc::new(lock), notes })
    }

    /// Remarks to show the user: a stale lock taken over.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    fn force(&self) -> bool {
        matches!(self.scope, Scope::Results { force: true, .. })
    }

    /// The names in the output folder this command replaces: for complete
    /// results, every file of the previous run's manifest, once the folder
    /// is known to be ours (or `--force`).
    fn replaced(&self) -> Result<BTreeSet<String>, Error> {
        let dir = &self.path;
        let shown = dir.display().to_string();
        if dir.exists() && !dir.is_dir() {
            return Err(InputError::new(
                &shown,
                "the output path exists and is not a folder: choose another with --out",
            )
            .into());
        }
        let Some(manifest) = read_manifest(dir)? else { return Ok(BTreeSet::new()) };
        match (&self.scope, manifest.owner) {
            (Scope::Redraw { names }, _) => Ok(manifest.files.into_iter().filter(|f| names.contains(f)).collect()),
            (Scope::Results { owner, force }, Some(previous)) if previous == *owner || *force => {
                Ok(manifest.files.into_iter().collect())
            }
            (Scope::Results { owner, .. }, Some(previous)) => Err(InputError::new(
                &shown,
                format!(
                    "the folder holds results of scenario `{previous}`, not `{owner}`: pass --force to overwrite them, or --out to write elsewhere"
                ),
            )
            .into()),
            (Scope::Results { force: true, .. }, None) => Ok(BTreeSet::new()),
            (Scope::Results { .. }, None) => Err(InputError::new(
                &shown,
                format!(
                    "the folder holds a {MANIFEST} that clustersim did not write: pass --force to overwrite it, or --out to write elsewhere"
                ),
            )
            .into()),
        }
    }

    /// Makes the staging folder the command writes into.
    pub fn stage(&self) -> Result<Staging, Error> {
        let target = resolve(&self.path)?;
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let prefix = format!("{}.staging-", hidden_name(target.file_name().unwrap_or_default()));
        let root_name = format!("{prefix}{}", std::process::id());
        let mut notes = Vec::new();
        let parent = target.parent().map(Path::to_path_buf);
        if let Some(parent) = &parent {
            clean_stale(parent, &prefix, &mut notes);
        }
        if target.is_dir() {
            clean_stale(&target, &prefix, &mut notes);
        }
        let beside = parent.is_some() && !name.is_empty() && (!target.exists() || swappable(&target));
        let mut made = None;
        if let (true, Some(parent)) = (beside, &parent) {
            match make_root(&parent.join(&root_name), &target) {
                Ok(root) => made = Some((root, false)),
                Err(e) if target.is_dir() && is_permission(&e) => {}
                Err(source) => return Err(Error::Io { path: parent.join(&root_name), source }),
            }
        }
        let (root, in_place) = match made {
            Some(made) => made,
            None => {
                fs::create_dir_all(&target).map_err(io_error(&target))?;
                let root = target.join(&root_name);
                (make_root(&root, &target).map_err(io_error(&root))?, true)
            }
        };
        // The swapped-in folder keeps the permissions of the one it replaces.
        if !in_place && let Ok(meta) = fs::metadata(&target) {
            let _ = fs::set_permissions(root.join("results"), meta.permissions());
        }
        Ok(Staging {
            spec: self.clone(),
            target,
            dir: root.join("results"),
            root,
            in_place,
            carried: BTreeSet::new(),
            done: false,
            keep_root: false,
            notes,
        })
    }
}

/// `.<name>`, capped, the stem of the staging folders and the lock beside
/// the output folder `name`.
pub(super) fn hidden_name(name: &OsStr) -> String {
    format!(".{}", name.to_string_lossy().chars().take(100).collect::<String>())
}

pub(super) fn is_permission(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem)
}

/// The output folder as an absolute path with symbolic links resolved, so
/// that a link the user made to a folder stays a link and the folder it
/// points to receives the results.
fn resolve(path: &Path) -> Result<PathBuf, Error> {
    if path.exists() {
        return fs::canonicalize(path).map_err(io_error(path));
    }
    let name = path.file_name().ok_or_else(|| Error::in_file(path, "the output path does not name a folder"))?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_error(&parent))?;
    Ok(fs::canonicalize(&parent).map_err(io_error(&parent))?.join(name))
}

/// Whether an existing output folder can be swapped with a sibling: not a
/// mount point (another filesystem than its parent's) and not the folder
/// this process (and likely the user's shell) is in or under.
fn swappable(target: &Path) -> bool {
    if let Ok(cwd) = std::env::current_dir().and_then(fs::canonicalize)
        && cwd.starts_with(target)
    {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let (Some(parent), Ok(meta)) = (target.parent(), fs::metadata(target)) else { return false };
        match fs::metadata(parent) {
            Ok(p) => p.dev() == meta.dev(),
            Err(_) => false,
        }
    }
    #[cfg(not(unix))]
    true
}

/// Creates a staging root with its marker (written first, removed last) and
/// an empty `results` folder.
fn make_root(root: &Path, target: &Path) -> io::Result<PathBuf> {
    fs::create_dir(root)?;
    let marker = stamp(MARKER_KIND, &format!("target {}", target.display()));
    let made = fs::write(root.join(MARKER), marker).and_then(|()| fs::create_dir(root.join("results")));
    if let Err(e) = made {
        let _ = remove_root(root);
        return Err(e);
    }
    Ok(root.to_path_buf())
}

/// Removes a staging root: its content first, the marker last, so an
/// interrupted removal still carries the marker.
fn remove_root(root: &Path) -> io::Result<()> {
    for entry in fs::read_dir(root)? {
        let entry = entry?;
        if entry.file_name() != MARKER {
            remove_entry(&entry.path())?;
        }
    }
    match fs::remove_file(root.join(MARKER)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    fs::remove_dir(root)
}

fn remove_entry(path: &Path) -> io::Result<()> {
    if fs::symlink_metadata(path)?.is_dir() { fs::remove_dir_all(path) } else { fs::remove_file(path) }
}

/// What says which process made a staging folder or a lock: `kind`, this
/// process's pid and host, then the line `last`.
pub(super) fn stamp(kind: &str, last: &str) -> String {
    format!("{kind}\npid {}\nhost {}\n{last}\n", std::process::id(), host())
}

/// The value of the line `key ...` of a [`stamp`].
pub(super) fn stamp_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
}

/// This machine's name, so that a staging folder or a lock on a shared
/// filesystem is only judged by the host whose process table it refers to.
pub(super) fn host() -> String {
    #[cfg(unix)]
    {
        // uname's nodename is what gethostname returns on Linux.
        rustix::system::uname().nodename().to_string_lossy().into_owned()
    }
    #[cfg(not(unix))]
    {
        String::new()
    }
}

/// Whether process `pid` exists on this host (unknown counts as alive).
pub(super) fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        // Pid 0 (the process group) and pids beyond i32 are not ours to
        // judge: alive, as kill(pid, 0) answered for 0 and the conversion
        // refused for the others.
        let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else { return true };
        // Signal 0 only checks that the process exists.
        match rustix::process::test_kill_process(pid) {
            Ok(()) => true,
            Err(e) => e != rustix::io::Errno::SRCH,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// Removes the staging folders named `<prefix><pid>` in `dir` that an
/// earlier run on this host left when it died; notes the others.
fn clean_stale(dir: &Path, prefix: &str, notes: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(prefix).and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid == std::process::id() {
            continue;
        }
        let path = entry.path();
        let marker = fs::read_to_string(path.join(MARKER)).unwrap_or_default();
        let ours = marker.starts_with(&format!("{MARKER_KIND}\n"));
        let same_host = stamp_field(&marker, "host") == Some(host().as_str());
        let same_pid = stamp_field(&marker, "pid").and_then(|p| p.parse::<u32>().ok()) == Some(pid);
        if (!ours || !same_pid) && unfinished_root(&path) {
            // Killed between making the folder and finishing its marker: it
            // holds nothing, and no live run can be making it, since this
            // one holds the target's lock.
            if let Err(e) = remove_root(&path) {
                notes.push(format!("could not remove {}, left by an interrupted run: {e}", path.display()));
            }
        } else if !ours || !same_pid {
            notes.push(format!("left {} alone: it has no clustersim staging marker", path.display()));
        } else if !same_host {
            notes.push(format!("left {} alone: a run on another host is staging there", path.display()));
        } else if alive(pid) {
            notes.push(format!("another run (process {pid}) is writing to the same folder through {}", path.display()));
        } else if let Err(e) = remove_root(&path) {
            notes.push(format!("could not remove {}, left by an interrupted run: {e}", path.display()));
        }
    }
}

/// A staging root `make_root` did not finish: nothing in it but at most
/// the marker (whole or in part) and an empty `results` folder.
fn unfinished_root(root: &Path) -> bool {
    let Ok(entries) = fs::read_dir(root) else { return false };
    entries.flatten().all(|e| {
        let is_results = e.file_name() == "results" && fs::read_dir(e.path()).is_ok_and(|mut r| r.next().is_none());
        is_results || (e.file_name() == MARKER && e.file_type().is_ok_and(|t| t.is_file()))
    })
}

/// Recreates `from` at `to` with hard links (a copy where linking fails):
/// folders are recreated, files linked, symbolic links copied as links.
fn link_tree(from: &Path, to: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(from)?;
    if meta.is_dir() {
        fs::create_dir(to)?;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            link_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        fs::set_permissions(to, meta.permissions())
    } else if meta.file_type().is_symlink() {
        #[cfg(unix)]
        return std::os::unix::fs::symlink(fs::read_link(from)?, to);
        #[cfg(not(unix))]
        return fs::copy(from, to).map(|_| ());
    } else {
        match fs::hard_link(from, to) {
            Ok(()) => Ok(()),
            Err(_) if meta.is_file() => fs::copy(from, to).map(|_| ()),
            Err(e) => Err(e),
        }
    }
}

/// Swaps two paths in one step (Linux 3.15 and later, on filesystems that
/// support it).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    #[cfg(test)]
    if tests::NO_EXCHANGE.get() {
        return Err(rustix::io::Errno::INVAL.into());
    }
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Whether `exchange` failed because the system cannot do it (rather than
/// because of the paths).
fn unsupported(e: &io::Error) -> bool {
    #[cfg(target_os = "linux")]
    {
        use rustix::io::Errno;
        let code = e.raw_os_error();
        if [Errno::INVAL, Errno::NOSYS, Errno::OPNOTSUPP].iter().any(|errno| code == Some(errno.raw_os_error())) {
            return true;
        }
    }
    e.kind() == io::ErrorKind::Unsupported
}

fn sync_dir(dir: &Path) {
    // Durability of the renames; a failure here does not undo them.
    if let Ok(f) = fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// A staging folder being written; see the module documentation.
#[derive(Debug)]
pub struct Staging {
    spec: Target,
    /// The output folder, absolute, links resolved.
    target: PathBuf,
    /// The staging root (marker and `results`).
    root: PathBuf,
    /// `root/results`, where the command writes.
    dir: PathBuf,
    /// The root is inside the output folder (it cannot be swapped).
    in_place: bool,
    /// Names linked from the output folder into `dir`.
    carried: BTreeSet<String>,
    done: bool,
    /// The root holds something we could not tidy: leave it to the user.
    keep_root: bool,
    /// Staging folders of other runs left alone, and similar remarks.
    pub notes: Vec<String>,
}

impl Staging {
    /// Where the command writes its files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Links the files `names` of the output folder into the staging folder
    /// before the command writes, for a command that reads them (a redraw
    /// reads the CSVs). Names that are not there are skipped.
    pub fn carry(&mut self, names: &[String]) -> Result<(), Error> {
        for name in names.iter().filter(|n| plain(n)) {
            let from = self.target.join(name);
            if fs::symlink_metadata(&from).is_ok() {
                let to = self.dir.join(name);
                link_tree(&from, &to).map_err(io_error(&to))?;
                self.carried.insert(name.clone());
            }
        }
        Ok(())
    }

    /// Switches the staged files in as the output folder's content; see the
    /// module documentation. `written` lists the files the command wrote.
    pub fn commit(mut self, written: &[&str]) -> Result<Vec<String>, Error> {
        let replaced = self.spec.replaced()?;
        let mut notes = std::mem::take(&mut self.notes);
        let result = if self.in_place { self.commit_in_place(&replaced, written) } else { self.swap(&replaced) };
        notes.extend(result?);
        self.done = true;
        if self.keep_root {
            return Ok(notes);
        }
        if let Err(e) = remove_root(&self.root) {
            notes.push(format!("could not remove the staging folder {}: {e}", self.root.display()));
        }
        Ok(notes)
    }

    fn conflict(&self, name: &str) -> Error {
        let how = match self.spec.scope {
            Scope::Results { .. } => "move it away, or pass --force to replace it",
            Scope::Redraw { .. } => "move it away first",
        };
        Error::Input(InputError::new(
            self.target.join(name).display().to_string(),
            format!("this file was not written by clustersim and would be replaced: {how}"),
        ))
    }

    /// Carries the user's entries of the output folder into the staging
    /// folder, then swaps the two.
    fn swap(&mut self, replaced: &BTreeSet<String>) -> Result<Vec<String>, Error> {
        let target = self.target.clone();
        let mut notes = Vec::new();
        let exists = fs::symlink_metadata(&target).is_ok();
        if exists {
            for entry in fs::read_dir(&target).map_err(io_error(&target))? {
                let entry = entry.map_err(io_error(&target))?;
                let name = entry.file_name();
                let text = name.to_string_lossy();
                if replaced.contains(text.as_ref()) || self.carried.contains(text.as_ref()) {
                    continue;
                }
                let to = self.dir.join(&name);
                if fs::symlink_metadata(&to).is_ok() {
                    // The command wrote a file of that name: it would replace
                    // a file of the user's.
                    if self.spec.force() {
                        continue;
                    }
                    return Err(self.conflict(&text));
                }
                link_tree(&entry.path(), &to).map_err(io_error(&to))?;
            }
        }
        sync_dir(&self.dir);
        let old = if !exists {
            fs::rename(&self.dir, &target).map_err(io_error(&target))?;
            None
        } else {
            match exchange(&self.dir, &target) {
                Ok(()) => Some(self.dir.clone()),
                Err(e) if unsupported(&e) => {
                    let aside = self.root.join("previous");
                    fs::rename(&target, &aside).map_err(io_error(&target))?;
                    if let Err(source) = fs::rename(&self.dir, &target) {
                        let _ = fs::rename(&aside, &target);
                        return Err(Error::Io { path: target, source });
                    }
                    Some(aside)
                }
                Err(source) => return Err(Error::Io { path: target, source }),
            }
        };
        if let Some(parent) = target.parent() {
            sync_dir(parent);
        }
        // The old folder: what it held of ours goes, what the user added
        // since the carry goes back into the output folder.
        if let Some(old) = old {
            let entries = fs::read_dir(&old).map(|e| e.flatten().collect::<Vec<_>>()).unwrap_or_default();
            for entry in entries {
                let name: OsString = entry.file_name();
                let path = entry.path();
                let ours = replaced.contains(name.to_string_lossy().as_ref());
                let outcome = if ours || fs::symlink_metadata(target.join(&name)).is_ok() {
                    remove_entry(&path)
                } else {
                    fs::rename(&path, target.join(&name))
                };
                if let Err(e) = outcome {
                    // Never let the next run's clean-up delete what we could
                    // not move: drop the marker so the folder is left alone.
                    let _ = fs::remove_file(self.root.join(MARKER));
                    self.keep_root = true;
                    notes.push(format!(
                        "the results are in place, but {} could not be tidied ({e}): {} is left for you to check",
                        path.display(),
                        self.root.display()
                    ));
                    return Ok(notes);
                }
            }
        }
        Ok(notes)
    }

    /// Moves the staged files into the output folder one by one: the old
    /// manifest is removed first and the new one moved last.
    fn commit_in_place(&mut self, replaced: &BTreeSet<String>, written: &[&str]) -> Result<Vec<String>, Error> {
        let target = self.target.clone();
        let fresh: Vec<&str> = written.iter().copied().filter(|n| plain(n)).collect();
        for name in &fresh {
            let exists = fs::symlink_metadata(target.join(name)).is_ok();
            if exists && !replaced.contains(*name) && !self.carried.contains(*name) && !self.spec.force() {
                return Err(self.conflict(name));
            }
        }
        if fresh.contains(&MANIFEST) && replaced.contains(MANIFEST) {
            let manifest = target.join(MANIFEST);
            match fs::remove_file(&manifest) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(Error::Io { path: manifest, source: e }),
                _ => {}
            }
        }
        for name in replaced.iter().filter(|n| !fresh.contains(&n.as_str()) && !self.carried.contains(*n)) {
            let path = target.join(name);
            match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(Error::Io { path, source: e }),
                _ => {}
            }
        }
        let (manifest, others): (Vec<&str>, Vec<&str>) = fresh.iter().partition(|n| **n == MANIFEST);
        for name in others.into_iter().chain(manifest) {
            let to = target.join(name);
            fs::rename(self.dir.join(name), &to).map_err(io_error(&to))?;
        }
        sync_dir(&target);
        Ok(Vec::new())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = remove_root(&self.root);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        n.sort();
        n
    }

    fn manifest(owner: &str, files: &[&str]) -> Vec<u8> {
        let head = crate::results::manifest::Head {
            scenario: owner.to_string(),
            shard: None,
            files: files.iter().map(|f| f.to_string()).collect(),
        };
        serde_json::to_vec(&head).unwrap()
    }

    fn write_run(target: &Target, files: &[(&str, &str)]) -> Vec<String> {
        let staging = target.stage().unwrap();
        let mut written: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
        for (name, text) in files {
            super::super::write_atomic(staging.dir(), name, text.as_bytes()).unwrap();
        }
        written.push(MANIFEST);
        super::super::write_atomic(staging.dir(), MANIFEST, &manifest("s", &written)).unwrap();
        staging.commit(&written).unwrap()
    }

    #[test]
    fn exchange_swaps_two_folders_or_says_it_cannot() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        fs::create_dir(&a).unwrap();
        fs::create_dir(&b).unwrap();
        fs::write(a.join("x"), "a").unwrap();
        fs::write(b.join("x"), "b").unwrap();
        match exchange(&a, &b) {
            Ok(()) => {
                assert_eq!(fs::read_to_string(a.join("x")).unwrap(), "b");
                assert_eq!(fs::read_to_string(b.join("x")).unwrap(), "a");
            }
            Err(e) => assert!(unsupported(&e), "{e}"),
        }
    }

    thread_local! {
        /// Makes `exchange` fail as on a filesystem without it.
        pub static NO_EXCHANGE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    #[test]
    fn without_exchange_the_old_folder_is_renamed_aside_and_the_users_files_kept() {
        NO_EXCHANGE.set(true);
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("res");
        write_run(&Target::check(&out, "s", false).unwrap(), &[("a.csv", "1"), ("b.csv", "1")]);
        fs::write(out.join("notes.txt"), "mine").unwrap();
        write_run(&Target::check(&out, "s", false).unwrap(), &[("a.csv", "2")]);
        NO_EXCHANGE.set(false);
        assert_eq!(names(&out), ["a.csv", "notes.txt", "summary.json"]);
        assert_eq!(fs::read_to_string(out.join("a.csv")).unwrap(), "2");
        assert_eq!(fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
        assert_eq!(names(tmp.path()), ["res"], "no staging folder left");
    }

    #[test]
    fn a_commit_replaces_our_files_and_keeps_the_users() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("res");
        write_run(&Target::check(&out, "s", false).unwrap(), &[("a.csv", "1"), ("b.csv", "1")]);
        fs::write(out.join("notes.txt"), "mine").unwrap();
        fs::create_dir(out.join("drafts")).unwrap();
        fs::write(out.join("drafts/plan.md"), "plan").unwrap();
        let notes = write_run(&Target::check(&out, "s", false).unwrap(), &[("a.csv", "2")]);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(names(&out), ["a.csv", "drafts", "notes.txt", "summary.json"]);
        assert_eq!(fs::read_to_string(out.join("a.csv")).unwrap(), "2");
        assert_eq!(fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
        assert_eq!(fs::read_to_string(out.join("drafts/plan.md")).unwrap(), "plan");
        assert_eq!(names(tmp.path()), ["res"], "no staging folder left");
    }

    #[test]
    fn a_file_of_the_users_with_a_results_name_is_refused_without_force() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("res");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("a.csv"), "mine").unwrap();
        let staging = Target::check(&out, "s", false).unwrap().stage().unwrap();
        super::super::write_atomic(staging.dir(), "a.csv", b"ours").unwrap();
        let err = staging.commit(&["a.csv"]).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        assert_eq!(fs::read_to_string(out.join("a.csv")).unwrap(), "mine");
        assert_eq!(names(tmp.path()), ["res"], "the failed staging folder is removed");
        write_run(&Target::check(&out, "s", true).unwrap(), &[("a.csv", "ours")]);
        assert_eq!(fs::read_to_string(out.join("a.csv")).unwrap(), "ours");
    }

    #[test]
    fn an_abandoned_staging_folder_leaves_the_results_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("res");
        let target = Target::check(&out, "s", false).unwrap();
        write_run(&target, &[("a.csv", "1")]);
        let before = names(&out);
        let staging = target.stage().unwrap();
        super::super::write_atomic(staging.dir(), "a.csv", b"2").unwrap();
        drop(staging);
        assert_eq!(names(&out), before);
        assert_eq!(fs::read_to_string(out.join("a.csv")).unwrap(), "1");
        assert_eq!(names(tmp.path()), [".res.lock", "res"], "the target still holds the lock");
        drop(target);
        assert_eq!(names(tmp.path()), ["res"]);
    }

    #[test]
    fn stale_staging_folders_of_dead_runs_are_removed_and_others_left() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("res");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let make = |pid: u32, host: &str, marked: bool| {
            let root = tmp.path().join(format!(".res.staging-{pid}"));
            fs::create_dir_all(root.join("results")).unwrap();
            fs::write(root.join("results/a.csv"), "x").unwrap();
            if marked {
                fs::write(root.join(MARKER), format!("clustersim staging folder\npid {pid}\nhost {host}\ntarget x\n"))
                    .unwrap();
            }
            root
        };
        let gone = make(dead, &host(), true);
        let unmarked = make(dead.wrapping_add(1_000_000), &host(), false);
        let elsewhere = make(dead.wrapping_add(2_000_000), "some-other-host", true);
        let notes = write_run(&Target::check(&out, "s", false).unwrap(), &[("a.csv", "1")]);
        assert!(!gone.exists(), "the dead run's staging folder is removed");
        assert!(unmarked.exists() && elsewhere.exists(), "folders not provably ours are kept");
        assert_eq!(notes.len(), 2, "{notes:?}");
    }

    /// A run killed inside `make_root` (the folder made, its marker missing
    /// or cut short, `results` empty) leaves a folder that holds nothing:
    /// the next run, holding the lock, removes it. One with anything else
    /// in it is left alone.
    #[test]
    fn a_staging_folder_killed_before_its_marker_was_written_is_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("res");
        let root = |pid: u32| tmp.path().join(format!(".res.staging-{pid}"));
        fs::create_dir(root(4_000_001)).unwrap();
        fs::create_dir_all(root(4_000_002).join("results")).unwrap();
        fs::write(
            root(4_000_002).join(MARKER),
            "clustersim staging folder
pi",
        )
        .unwrap();
        fs::create_dir(root(4_000_003)).unwrap();
        fs::write(root(4_000_003).join("notes.txt"), "mine").unwrap();
        let notes = write_run(&Target::check(&out, "s", false).unwrap(), &[("a.csv", "1")]);
        assert!(!root(4_000_001).exists(), "an empty folder is removed");
        assert!(!root(4_000_002).exists(), "a cut-short marker and an empty results folder are removed");
        assert!(root(4_000_003).exists(), "a folder with other content is kept");
        assert_eq!(notes.len(), 1, "{notes:?}");
    }
}
