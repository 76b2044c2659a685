//! Sharded runs: `run --shard I/N` computes the replications r with
//! r mod N = I and writes their per-replication files with a manifest;
//! `merge` checks that the shards belong together and replays the
//! per-replication outcomes, in replication order and one replication at a
//! time, into the same writers and summary a single run uses, so the files
//! come out byte for byte the same and memory does not grow with the run.

use crate::error::{Error, InputError};
use crate::metrics::{AppOutcome, ReplicationOutcome, VolumeOutcome};
use crate::model::spec::Duration;
use crate::model::{Located, Origin, Scenario};
use crate::output;
use crate::placement::Strategy;
use crate::results::manifest::{self, Head, ShardManifest, ShardPosition};
use crate::results::rows::{ReplicationRecord, VolumeReplicationRecord};
use crate::results::table::{Reader, Seconds, millis};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Writes the manifest of one shard into `dir` (a staging folder that
/// already holds the shard's per-replication files, `files`); returns the
/// names of all its files.
pub fn write_manifest(
    dir: &Path,
    scenario: &Scenario,
    mut files: Vec<String>,
    index: u32,
    count: u32,
) -> Result<Vec<String>, Error> {
    files.push(output::MANIFEST.into());
    let manifest = ShardManifest {
        shard: ShardPosition { index: u64::from(index), count: u64::from(count) },
        files: files.clone(),
        ..ShardManifest::with_identity(output::files::run_identity(scenario))
    };
    output::write_atomic(dir, output::MANIFEST, &manifest::to_bytes(&manifest)?)?;
    Ok(files)
}

/// Shards that belong together, ready to be replayed.
pub struct Merged {
    pub scenario: Scenario,
    /// The shards' readers by shard index.
    shards: Vec<ShardReader>,
}

/// Bad input in a shard manifest, at its field `key`.
fn bad_key(path: &Path, key: &str, message: impl Into<String>) -> Error {
    Error::Input(InputError {
        file: path.display().to_string(),
        location: None,
        key: Some(key.to_string()),
        message: message.into(),
    })
}

/// Reads and checks the shards in `dirs`: one scenario, seed, version and
/// set of strategies; every shard of the count once; every replication once.
/// Nothing in the folders can make it panic: a hand-edited or truncated
/// file is an input error naming the file and, where it has one, the line
/// and field.
pub fn merge(dirs: &[PathBuf]) -> Result<Merged, Error> {
    let mut manifests = Vec::new();
    for dir in dirs {
        let path = dir.join(output::MANIFEST);
        let (file, text) = (path.display().to_string(), manifest::read_text(&path, "the shard")?);
        let head: Head = manifest::parse(&file, &text, "a shard manifest")?;
        if head.shard.is_none() {
            return Err(Error::in_file(&path, "not a shard: it was written by a run without --shard"));
        }
        let m: ShardManifest = manifest::parse(&file, &text, "a shard manifest")?;
        manifests.push((path, m));
    }
    let Some((first_path, first)) = manifests.first() else {
        return Err(Error::Input(InputError::new("merge", "no shard folders given")));
    };
    for (path, m) in &manifests[1..] {
        let differs = [
            ("scenario_text", m.scenario_text != first.scenario_text),
            ("seed", m.seed != first.seed),
            ("version", m.version != first.version),
            ("horizon_ms", m.horizon_ms != first.horizon_ms),
            ("replications", m.replications != first.replications),
            ("strategies", m.strategies != first.strategies),
        ];
        if let Some((key, _)) = differs.iter().find(|(_, d)| *d) {
            return Err(Error::in_file(
                path,
                format!(
                    "its {key} differs from {}: shards of one run share scenario, seed, version and settings",
                    first_path.display()
                ),
            ));
        }
        if m.shard.count != first.shard.count {
            return Err(Error::in_file(path, "its shard count differs from the first shard's"));
        }
    }
    let shard_count = u32::try_from(first.shard.count)
        .ok()
        .filter(|&c| c > 0)
        .ok_or_else(|| bad_key(first_path, "shard.count", "the shard count is not a whole number from 1 to 2^32-1"))?;
    // By index; a map, not a vector of the count, since the count is read
    // from a file and can be anything.
    let mut by_index: BTreeMap<u64, &PathBuf> = BTreeMap::new();
    for (dir, (path, m)) in dirs.iter().zip(&manifests) {
        let i = m.shard.index;
        if i >= u64::from(shard_count) {
            return Err(Error::in_file(path, format!("shard index {i} is outside 0..{shard_count}")));
        }
        if by_index.insert(i, dir).is_some() {
            return Err(Error::in_file(path, format!("shard {i} of {shard_count} is given twice")));
        }
    }
    // The indexes are distinct and below the count: one is missing unless
    // there are as many as the count.
    if let Some(missing) = (0..u64::from(shard_count)).find(|i| !by_index.contains_key(i)) {
        return Err(Error::in_file(first_path, format!("shard {missing} of {shard_count} is missing")));
    }

    // The run's settings are edits of the scenario's Spec, validated once
    // with it, as `run`'s flags are; what is checked here is only what a
    // manifest's values can get wrong, at the manifest's key.
    let (file, text) = (first.scenario_file.as_str(), first.scenario_text.as_str());
    let mut spec = crate::input::read(file, text)?;
    let number = |key: &str, value: u64, range: std::ops::RangeInclusive<u64>| {
        Some(value).filter(|n| range.contains(n)).ok_or_else(|| {
            bad_key(first_path, key, format!("not a whole number from {} to {}", range.start(), range.end()))
        })
    };
    let seed = i64::try_from(first.seed)
        .map_err(|_| bad_key(first_path, "seed", format!("must be at most {} (as in a scenario)", i64::MAX)))?;
    spec.seed = Some(Located::new(seed));
    let horizon_ms = number("horizon_ms", first.horizon_ms, 1..=crate::time::MAX_DURATION_MS)?;
    spec.horizon = Some(Located::new(Duration(horizon_ms)));
    let replications = number("replications", first.replications, 1..=u64::from(u32::MAX))?;
    spec.replications = Some(Located::new(replications as i64));
    if first.strategies.is_empty() {
        return Err(bad_key(first_path, "strategies", "not a list of strategies"));
    }
    let mut strategies: Vec<Located<String>> = Vec::new();
    for name in &first.strategies {
        if Strategy::parse(name).is_none() {
            return Err(bad_key(first_path, "strategies", format!("{name:?} is not a strategy")));
        }
        if strategies.iter().any(|s| s.get_ref() == name) {
            return Err(bad_key(first_path, "strategies", format!("{name:?} is listed twice")));
        }
        strategies.push(Located::new(name.clone()));
    }
    spec.strategies = Some(Located::new(strategies));
    // A rule of the model broken by a manifest's value is the manifest's.
    const SETTINGS: [&str; 4] = ["seed", "horizon", "replications", "strategies"];
    let mut scenario = Scenario::new(spec, Origin { file, text }).map_err(|e| match e.key.as_deref() {
        Some(key) if SETTINGS.contains(&key) => bad_key(first_path, key, e.message),
        _ => Error::Input(e),
    })?;
    // Each shard was run under the same check of its own replications (the
    // first shard has the most); it bounds the sums the summary takes.
    crate::model::limits::check_run(&scenario, Some((0, shard_count)))?;
    scenario.warnings = crate::run::warnings::run_warnings(&scenario);

    let shards = by_index.into_values().map(|dir| ShardReader::open(dir, &scenario)).collect::<Result<Vec<_>, _>>()?;
    Ok(Merged { scenario, shards })
}

impl Merged {
    /// Calls `sink` with each replication's outcomes (one per strategy), in
    /// replication order, as the run's `montecarlo::stream` would have; a
    /// replication missing from its shard, given twice, or outside the run
    /// is an error.
    pub fn replay(
        &mut self,
        sink: &mut dyn FnMut(u32, Vec<ReplicationOutcome>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let names = Names::of(&self.scenario);
        let count = self.shards.len() as u32;
        for r in 0..self.scenario.replications {
            let outcomes = self.shards[(r % count) as usize].read(r, &self.scenario, &names)?;
            sink(r, outcomes)?;
        }
        for shard in &mut self.shards {
            if let Some((r, path)) = shard.leftover()? {
                return Err(Error::in_file(
                    &path,
                    format!(
                        "replication {r} is given twice, out of order or is outside the run's {}",
                        self.scenario.replications
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Indexes of strategies, apps and volumes by name.
struct Names {
    strategies: HashMap<String, usize>,
    apps: HashMap<String, usize>,
    volumes: HashMap<String, usize>,
}

impl Names {
    fn of(scenario: &Scenario) -> Names {
        let index = |names: Vec<String>| names.into_iter().enumerate().map(|(i, n)| (n, i)).collect();
        Names {
            strategies: index(scenario.strategies.iter().map(|s| s.name().to_string()).collect()),
            apps: index(scenario.apps.iter().map(|a| a.name.clone()).collect()),
            volumes: index(scenario.volumes.iter().map(|v| v.name.clone()).collect()),
        }
    }
}

/// A row of a per-replication file: which replication it belongs to.
trait Replicated {
    fn replication(&self) -> u32;
}

impl Replicated for ReplicationRecord {
    fn replication(&self) -> u32 {
        self.replication
    }
}

impl Replicated for VolumeReplicationRecord {
    fn replication(&self) -> u32 {
        self.replication
    }
}

/// One CSV file of a shard, read a row at a time, with one row of
/// look-ahead; its columns are found by name in its header.
struct Rows<T> {
    reader: Reader<T>,
    ahead: Option<(T, csv::StringRecord)>,
    /// The run's horizon: no duration in a row is longer.
    horizon_ms: u64,
}

impl<T: Replicated + DeserializeOwned + Serialize + Default> Rows<T> {
    fn open(path: PathBuf, horizon_ms: u64) -> Result<Rows<T>, Error> {
        Ok(Rows { reader: Reader::open(&path, &["replication"])?, ahead: None, horizon_ms })
    }

    fn path(&self) -> &Path {
        self.reader.path()
    }

    /// The replication of the next row, if any.
    fn peek_replication(&mut self) -> Result<Option<u32>, Error> {
        if self.ahead.is_none() {
            self.ahead = self.reader.next_row()?;
        }
        Ok(self.ahead.as_ref().map(|(row, _)| row.replication()))
    }

    /// The next row if it belongs to replication `r`.
    fn next_of(&mut self, r: u32) -> Result<Option<(T, csv::StringRecord)>, Error> {
        if self.peek_replication()? == Some(r) { Ok(self.ahead.take()) } else { Ok(None) }
    }

    /// A duration in seconds of column `column`, at most the horizon.
    fn seconds(&self, record: &csv::StringRecord, column: &str, value: Seconds) -> Result<u64, Error> {
        if value.0 <= self.horizon_ms {
            return Ok(value.0);
        }
        // The message of a number above the bound, with the cell's text.
        let message = millis(self.reader.get(record, column), self.horizon_ms).err().unwrap_or_default();
        Err(self.reader.at(record, column, message))
    }

    /// The index of `name` (of column `column`) in `map`.
    fn lookup(
        &self,
        record: &csv::StringRecord,
        column: &str,
        name: &str,
        map: &HashMap<String, usize>,
    ) -> Result<usize, Error> {
        map.get(name).copied().ok_or_else(|| self.reader.at(record, column, format!("unknown {column} `{name}`")))
    }
}

/// A shard's per-replication files.
struct ShardReader {
    apps: Rows<ReplicationRecord>,
    volumes: Option<Rows<VolumeReplicationRecord>>,
}

impl ShardReader {
    fn open(dir: &Path, scenario: &Scenario) -> Result<ShardReader, Error> {
        let apps = Rows::open(dir.join("replications.csv"), scenario.horizon_ms)?;
        let volumes = if scenario.volumes.is_empty() {
            None
        } else {
            Some(Rows::open(dir.join("volume_replications.csv"), scenario.horizon_ms)?)
        };
        Ok(ShardReader { apps, volumes })
    }

    /// A row left after the last replication: its replication and file.
    fn leftover(&mut self) -> Result<Option<(u32, PathBuf)>, Error> {
        if let Some(r) = self.apps.peek_replication()? {
            return Ok(Some((r, self.apps.path().to_path_buf())));
        }
        match &mut self.volumes {
            Some(rows) => Ok(rows.peek_replication()?.map(|r| (r, rows.path().to_path_buf()))),
            None => Ok(None),
        }
    }

    /// Reads replication `r`, which must come next in this shard.
    fn read(&mut self, r: u32, scenario: &Scenario, names: &Names) -> Result<Vec<ReplicationOutcome>, Error> {
        let blank = ReplicationOutcome {
            apps: vec![AppOutcome::default(); scenario.apps.len()],
            volumes: vec![VolumeOutcome::default(); scenario.volumes.len()],
            events: 0,
        };
        let mut outcomes = vec![blank; scenario.strategies.len()];
        let rows = &mut self.apps;
        let mut seen = vec![false; scenario.strategies.len() * scenario.apps.len()];
        while let Some((row, record)) = rows.next_of(r)? {
            let s = rows.lookup(&record, "strategy", &row.strategy, &names.strategies)?;
            let a = rows.lookup(&record, "app", &row.app, &names.apps)?;
            if std::mem::replace(&mut seen[s * scenario.apps.len() + a], true) {
                let message = format!("replication {r} of app `{}` is given twice", row.app);
                return Err(rows.reader.at(&record, "app", message));
            }
            let app = &mut outcomes[s].apps[a];
            app.downtime_ms = rows.seconds(&record, "downtime_s", row.downtime_s)?;
            app.outages = row.outages;
            for (k, cause) in crate::metrics::Cause::ALL.iter().enumerate() {
                let column = crate::results::table::cause_column::<crate::results::table::PerReplication>(*cause);
                app.cause_ms[k] = rows.seconds(&record, &column, row.causes.0[k])?;
            }
            app.data_loss_incidents = row.data_loss_incidents;
            // Writes lost add up over incidents, so they are not bounded by
            // the horizon (the summary saturates).
            app.data_loss_ms = row.data_loss_s.0;
        }
        if let Some(missing) = seen.iter().position(|&s| !s) {
            let strategy = scenario.strategies[missing / scenario.apps.len().max(1)].name();
            return Err(Error::in_file(rows.path(), format!("replication {r} of strategy {strategy} is in no shard")));
        }
        if let Some(rows) = &mut self.volumes {
            let mut seen = vec![false; scenario.strategies.len() * scenario.volumes.len()];
            while let Some((row, record)) = rows.next_of(r)? {
                let s = rows.lookup(&record, "strategy", &row.strategy, &names.strategies)?;
                let v = rows.lookup(&record, "volume", &row.volume, &names.volumes)?;
                if std::mem::replace(&mut seen[s * scenario.volumes.len() + v], true) {
                    let message = format!("replication {r} of volume `{}` is given twice", row.volume);
                    return Err(rows.reader.at(&record, "volume", message));
                }
                outcomes[s].volumes[v] = VolumeOutcome {
                    downtime_ms: rows.seconds(&record, "downtime_s", row.downtime_s)?,
                    outages: row.outages,
                    reduced_redundancy_ms: rows.seconds(&record, "reduced_redundancy_s", row.reduced_redundancy_s)?,
                    data_loss_incidents: row.data_loss_incidents,
                    data_loss_ms: row.data_loss_s.0,
                    split_brain_incidents: row.split_brain_incidents,
                };
            }
            if seen.iter().any(|&s| !s) {
                return Err(Error::in_file(rows.path(), format!("replication {r} has apps but not all its volumes")));
            }
        }
        Ok(outcomes)
    }
}
