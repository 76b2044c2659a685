//! `summary.json`, the manifest of a run's folder, and the manifests of a
//! shard, a comparison and a sweep, as serde structs. Every folder's
//! manifest names its owner (`scenario`) and the files it wrote (`files`).
//!
//! The files are pretty JSON with their keys sorted (written through
//! `serde_json::Value`, whose map is ordered by key), so the declaration
//! order of the fields is free.

use super::Label;
use super::verdict::Verdict;
use crate::error::{Error, InputError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Declares a struct that begins with the fields identifying a run (so
/// that serde reads them in place, without `flatten`, and an error keeps
/// its line and column), and its [`RunIdentity`].
macro_rules! with_run_identity {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$field_meta:meta])* pub $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        pub struct $name {
            /// The scenario's name (a compare or sweep names itself instead).
            pub scenario: String,
            pub scenario_file: String,
            /// The scenario as run, whole.
            pub scenario_text: String,
            pub version: String,
            pub seed: u64,
            pub horizon_ms: u64,
            /// A `u64` so that a hand-edited count too large for a run is
            /// refused with its key, not misread.
            pub replications: u64,
            pub strategies: Vec<String>,
            $($(#[$field_meta])* pub $field: $ty,)*
        }

        impl $name {
            /// The fields that identify the run.
            pub fn identity(&self) -> RunIdentity {
                RunIdentity {
                    scenario: self.scenario.clone(),
                    scenario_file: self.scenario_file.clone(),
                    scenario_text: self.scenario_text.clone(),
                    version: self.version.clone(),
                    seed: self.seed,
                    horizon_ms: self.horizon_ms,
                    replications: self.replications,
                    strategies: self.strategies.clone(),
                }
            }

            /// The run's fields from `identity`, the others empty.
            #[allow(clippy::needless_update)]
            pub fn with_identity(identity: RunIdentity) -> Self {
                let RunIdentity {
                    scenario, scenario_file, scenario_text, version, seed, horizon_ms, replications, strategies,
                } = identity;
                $name {
                    scenario, scenario_file, scenario_text, version, seed, horizon_ms, replications, strategies,
                    ..Default::default()
                }
            }
        }
    };
}

with_run_identity! {
    /// What identifies a run in its manifest (`summary.json`, or a
    /// shard's): the scenario as run, the version, seed, horizon,
    /// replications and strategies. Shards merge only when all of it agrees.
    pub struct RunIdentity {}
}

with_run_identity! {
    /// `summary.json`: the summary and app rows with the run's identity,
    /// each class's downtime per replication, the list of files the run
    /// wrote (the folder's manifest) and, when it wrote events.csv, the
    /// replication traced (for the report's timeline).
    pub struct Summary {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub trace_replication: Option<u64>,
        /// The horizon in words (`1y`).
        pub horizon: String,
        pub warnings: Vec<String>,
        pub classes: Vec<GroupFigures>,
        pub apps: Vec<GroupFigures>,
        pub volumes: Vec<VolumeFigures>,
        /// The class rows' downtime in each replication: what the report's
        /// CDF draws, without rereading replications.csv.
        pub replication_downtime_min_per_year: Vec<ReplicationDowntime>,
        /// The answer in words, rendered by the terminal and report.html;
        /// `None` in a folder written before the verdict existed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub verdict: Option<Verdict>,
        pub files: Vec<String>,
    }
}

with_run_identity! {
    /// The manifest of one shard (`run --shard I/N`): the run's identity,
    /// which shard it is, and its files.
    pub struct ShardManifest {
        pub shard: ShardPosition,
        pub files: Vec<String>,
    }
}

/// Which shard of how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShardPosition {
    pub index: u64,
    pub count: u64,
}

/// A class, `all` or app row of `summary.json`: summary.csv's and apps.csv's
/// figures at full precision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupFigures {
    pub strategy: String,
    /// The class, `all`, or the app.
    pub label: Label,
    /// The class of the group (of the app for an app row; empty for `all`).
    pub class: String,
    pub apps: usize,
    pub replications: usize,
    pub availability: f64,
    pub availability_ci_low: Option<f64>,
    pub availability_ci_high: Option<f64>,
    pub downtime_min_per_year: f64,
    pub downtime_min_per_year_p50: f64,
    pub downtime_min_per_year_p95: f64,
    pub downtime_min_per_year_p99: f64,
    pub outages_per_year: f64,
    pub mean_outage_min: Option<f64>,
    pub planned_min_per_year: f64,
    pub unplanned_min_per_year: f64,
    /// By cause name (`no-node`).
    pub downtime_min_per_year_by_cause: BTreeMap<String, f64>,
    pub data_loss_incidents_per_year: f64,
    pub data_loss_min_per_year: f64,
    pub data_loss_min_per_incident: Option<f64>,
}

/// A volume row of `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeFigures {
    pub strategy: String,
    pub volume: String,
    pub backend: String,
    pub replications: usize,
    pub availability: f64,
    pub availability_ci_low: Option<f64>,
    pub availability_ci_high: Option<f64>,
    pub downtime_min_per_year: f64,
    pub reduced_redundancy_h_per_year: f64,
    pub data_loss_incidents_per_year: f64,
    pub data_loss_min_per_year: f64,
    pub split_brain_incidents_per_year: f64,
}

/// One class row's mean downtime in each replication, in replication order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicationDowntime {
    pub strategy: String,
    pub class: Label,
    pub minutes: Vec<f64>,
}

/// The manifest of `clustersim compare`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareManifest {
    /// `compare: A vs B`.
    pub scenario: String,
    pub version: String,
    pub seeds: Vec<u64>,
    pub replications: u32,
    pub files: Vec<String>,
}

/// The manifest of `clustersim sweep`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepManifest {
    /// `sweep: FILE`.
    pub scenario: String,
    pub version: String,
    pub parameters: Vec<SweptParameter>,
    pub files: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweptParameter {
    pub path: String,
    pub values: Vec<String>,
}

/// What every manifest has, whoever wrote it: the owner and, for a shard,
/// its position.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Head {
    #[serde(default)]
    pub scenario: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardPosition>,
    #[serde(default)]
    pub files: Vec<String>,
}

/// Any folder's manifest as the output lock reads it before trusting it
/// (it may be another program's): the owner when `scenario` is a string,
/// and the strings among `files`; anything else in it is ignored.
#[derive(Debug, Default, Deserialize)]
pub struct LooseHead {
    #[serde(default)]
    scenario: Loose<String>,
    #[serde(default)]
    files: Loose<Vec<Loose<String>>>,
}

/// A value of type `T`, or anything else.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Loose<T> {
    Is(T),
    Not(serde::de::IgnoredAny),
}

impl<T> Default for Loose<T> {
    fn default() -> Self {
        Loose::Not(serde::de::IgnoredAny)
    }
}

impl LooseHead {
    /// `text` read leniently; `None` if it is not JSON (or not an object
    /// or a list of the fields).
    pub fn parse(text: &str) -> Option<LooseHead> {
        serde_json::from_str(text).ok()
    }

    pub fn owner(&self) -> Option<&str> {
        match &self.scenario {
            Loose::Is(owner) => Some(owner),
            Loose::Not(_) => None,
        }
    }

    /// The strings listed in `files`.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        let list = match &self.files {
            Loose::Is(list) => list.as_slice(),
            Loose::Not(_) => &[],
        };
        list.iter().filter_map(|f| match f {
            Loose::Is(name) => Some(name.as_str()),
            Loose::Not(_) => None,
        })
    }
}

/// Pretty JSON with its keys sorted and a final newline, as every JSON
/// file is written.
pub fn to_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    let json = |e: serde_json::Error| Error::Internal(format!("json: {e}"));
    let value = serde_json::to_value(value).map_err(json)?;
    let mut bytes = serde_json::to_vec_pretty(&value).map_err(json)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Reads the JSON file `path` as a `T`; `what` names what it should be in
/// the errors (`a shard manifest`). A wrong value is an error at its line
/// and column, with the key it is under.
pub fn read<T: DeserializeOwned>(path: &Path, what: &str) -> Result<T, Error> {
    parse(&path.display().to_string(), &read_text(path, what)?, what)
}

/// The text of the file `path`, to [`parse`] (once or more); `whose` names
/// what it holds in the error (`the shard`).
pub fn read_text(path: &Path, whose: &str) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| Error::in_file(path, format!("cannot read {whose}: {e}")))
}

/// [`read`] of `text`, the file `file`.
pub fn parse<T: DeserializeOwned>(file: &str, text: &str, what: &str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        // serde_json ends its message with the place; the error has it.
        let message = message.rsplit_once(" at line ").map_or(message.as_str(), |(m, _)| m).to_string();
        // Its column counts bytes (0 at the start of a line): the text of
        // the line before the place gives the column in characters.
        let before = (e.line() > 0).then(|| {
            let line = text.split('\n').nth(e.line() - 1).unwrap_or_default();
            &line[..line.floor_char_boundary(e.column().min(line.len()))]
        });
        let location = before.map(|b| (e.line(), b.chars().count().max(1)));
        let key = match e.classify() {
            serde_json::error::Category::Data => before.and_then(key_before),
            _ => None,
        };
        let message = if key.is_some() { message } else { format!("not {what}: {message}") };
        Error::Input(InputError { file: file.to_string(), location, key, message })
    })
}

/// The key whose value ends the text `before` the place of an error on
/// its line: the last `"key":` in it.
fn key_before(before: &str) -> Option<String> {
    let end = before.rfind("\":")?;
    let start = before[..end].rfind('"')?;
    Some(before[start + 1..end].to_string())
}
