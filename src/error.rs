//! Errors a user can cause, and the ones they cannot.
//!
//! [`InputError`] is fatal for the run and maps to exit code 2: it names the
//! file, and where it can the line, column and key, and says what would be
//! right. [`Error::Io`] (writing results failed) and [`Error::Internal`] map to
//! exit code 1.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Bad input: a malformed or invalid scenario, a bad flag value, an output
/// folder that must not be overwritten or that another command is writing
/// (what the user asked cannot be done, or not now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub file: String,
    /// 1-based line and column, when the error has a place in the file.
    pub location: Option<(usize, usize)>,
    /// The key at fault, such as `apps.replicas`.
    pub key: Option<String>,
    pub message: String,
}

impl InputError {
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> Self {
        InputError { file: file.into(), location: None, key: None, message: message.into() }
    }

    /// An error at byte `offset` of `source`.
    pub fn at(file: &str, source: &str, offset: usize, key: Option<String>, message: impl Into<String>) -> Self {
        InputError { file: file.to_string(), location: Some(line_col(source, offset)), key, message: message.into() }
    }

    /// An error about `key` of `file` (whose text is `source`), at the place
    /// its value came from: its line and column, or the flag that set it
    /// (the file is then the command line). A value built in code, or a
    /// scenario with no text (a `Spec` built in code), has no line: the
    /// error names the key only.
    pub fn placed(file: &str, source: &str, place: Place, key: &str, message: impl Into<String>) -> Self {
        let (file, key, location) = match place {
            Place::Flag(flag) => ("command line", flag, None),
            _ if source.is_empty() => (file, key, None),
            // Not in the text: its start stands for the whole file.
            place => (file, key, Some(line_col(source, place.offset()))),
        };
        InputError { file: file.to_string(), location, key: Some(key.to_string()), message: message.into() }
    }
}

/// Where a value of a scenario came from, for its errors to point at.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    /// A byte range of the source text.
    Text(Range<usize>),
    /// A command-line flag that set it (`--replications`).
    Flag(&'static str),
    /// Code: no text, no flag (the error names the key only).
    Code,
}

impl Place {
    /// The byte offset in the source text where it starts (0, the file's
    /// start, when it is not in the text).
    pub fn offset(&self) -> usize {
        match self {
            Place::Text(range) => range.start,
            Place::Flag(_) | Place::Code => 0,
        }
    }
}

impl From<Range<usize>> for Place {
    fn from(range: Range<usize>) -> Place {
        Place::Text(range)
    }
}

/// 1-based line and column (in characters) of byte `offset` in `source`.
/// "the apps are `a`, `b` and `c`": the names a user could have meant, for
/// an error about a name that matches none (at most 12, then how many more).
pub fn known_names<'a>(what: &str, names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.into_iter().map(|n| format!("`{n}`")).collect();
    const SHOWN: usize = 12;
    match names.len() {
        0 => format!("the scenario has no {what}"),
        n if n <= SHOWN => {
            let (last, rest) = names.split_last().expect("one or more");
            if rest.is_empty() {
                format!("the only one of the {what} is {last}")
            } else {
                format!("the {what} are {} and {last}", rest.join(", "))
            }
        }
        n => format!("the {what} include {} and {} more", names[..SHOWN].join(", "), n - SHOWN),
    }
}

pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..source.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, column)) = self.location {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": ")?;
        if let Some(key) = &self.key {
            write!(f, "`{key}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for InputError {}

#[derive(Debug)]
pub enum Error {
    Input(InputError),
    Io { path: PathBuf, source: std::io::Error },
    Internal(String),
}

impl Error {
    /// Bad input in the file or folder `path`, with no place in it.
    pub fn in_file(path: &Path, message: impl Into<String>) -> Error {
        Error::Input(InputError::new(path.display().to_string(), message))
    }

    /// The process exit code: 2 for bad input, 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) => 2,
            Error::Io { .. } | Error::Internal(_) => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Error::Input(e) => write!(f, "{e}"),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Internal(message) => write!(f, "internal error: {message}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<InputError> for Error {
    fn from(e: InputError) -> Self {
        Error::Input(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_lists_what_there_is() {
        assert_eq!(known_names("apps", []), "the scenario has no apps");
        assert_eq!(known_names("apps", ["plex"]), "the only one of the apps is `plex`");
        assert_eq!(known_names("apps", ["plex", "sonarr", "radarr"]), "the apps are `plex`, `sonarr` and `radarr`");
        let many: Vec<String> = (1..=20).map(|i| format!("n-{i}")).collect();
        let text = known_names("nodes", many.iter().map(String::as_str));
        assert!(text.starts_with("the nodes include `n-1`, `n-2`"), "{text}");
        assert!(text.ends_with("`n-12` and 8 more"), "{text}");
    }

    #[test]
    fn line_and_column_are_one_based() {
        let src = "a = 1\nbb = 2\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        assert_eq!(line_col(src, 11), (2, 6));
        assert_eq!(line_col(src, 999), (3, 1));
    }
}
