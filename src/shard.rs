//! Sharded runs: `run --shard I/N` computes the replications r with
//! r mod N = I and writes their per-replication files with a manifest;
//! `merge` checks that the shards belong together and replays the
//! per-replication outcomes, in replication order and one replication at a
//! time, into the same writers and summary a single run uses, so the files
//! come out byte for byte the same and memory does not grow with the run.

use crate::error::{Error, InputError};
use crate::metrics::{AppOutcome, Cause, ReplicationOutcome, VolumeOutcome};
use crate::model::Scenario;
use crate::output;
use crate::placement::Strategy;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fs::File;
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
    let mut manifest = output::files::run_identity(scenario);
    manifest.insert("shard".into(), json!({ "index": index, "count": count }));
    manifest.insert("files".into(), json!(files));
    output::write_atomic(dir, output::MANIFEST, &output::files::json_bytes(&Value::Object(manifest))?)?;
    Ok(files)
}

/// Shards that belong together, ready to be replayed.
pub struct Merged {
    pub scenario: Scenario,
    /// The shards' readers by shard index.
    shards: Vec<ShardReader>,
}

fn bad(path: &Path, message: impl Into<String>) -> Error {
    Error::Input(InputError::new(path.display().to_string(), message))
}

/// Exact milliseconds from `seconds` written as `123.456`.
fn millis(path: &Path, text: &str) -> Result<u64, Error> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, "0"));
    let frac = format!("{frac:0<3}");
    match (whole.parse::<u64>(), frac[..3].parse::<u64>()) {
        (Ok(w), Ok(f)) if frac.len() == 3 => Ok(w * 1000 + f),
        _ => Err(bad(path, format!("`{text}` is not a number of seconds"))),
    }
}

fn count(path: &Path, text: &str) -> Result<u32, Error> {
    text.parse().map_err(|_| bad(path, format!("`{text}` is not a count")))
}

/// Reads and checks the shards in `dirs`: one scenario, seed, version and
/// set of strategies; every shard of the count once; every replication once.
pub fn merge(dirs: &[PathBuf]) -> Result<Merged, Error> {
    let mut manifests = Vec::new();
    for dir in dirs {
        let path = dir.join(output::MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|e| bad(&path, format!("cannot read the shard: {e}")))?;
        let json: Value = serde_json::from_str(&text).map_err(|e| bad(&path, format!("not a shard manifest: {e}")))?;
        if json.get("shard").is_none() {
            return Err(bad(&path, "not a shard: it was written by a run without --shard"));
        }
        manifests.push((path, json));
    }
    let (first_path, first) = &manifests[0];
    for (path, m) in &manifests[1..] {
        for key in ["scenario_text", "seed", "version", "horizon_ms", "replications", "strategies"] {
            if m.get(key) != first.get(key) {
                return Err(bad(
                    path,
                    format!(
                        "its {key} differs from {}: shards of one run share scenario, seed, version and settings",
                        first_path.display()
                    ),
                ));
            }
        }
        if m["shard"]["count"] != first["shard"]["count"] {
            return Err(bad(path, "its shard count differs from the first shard's"));
        }
    }
    let shard_count = first["shard"]["count"].as_u64().unwrap_or(0);
    let mut by_index: Vec<Option<&PathBuf>> = vec![None; shard_count as usize];
    for (dir, (path, m)) in dirs.iter().zip(&manifests) {
        let i = m["shard"]["index"].as_u64().unwrap_or(u64::MAX) as usize;
        if i >= by_index.len() {
            return Err(bad(path, format!("shard index {i} is outside 0..{shard_count}")));
        }
        if by_index[i].replace(dir).is_some() {
            return Err(bad(path, format!("shard {i} of {shard_count} is given twice")));
        }
    }
    if let Some(missing) = by_index.iter().position(Option::is_none) {
        return Err(bad(first_path, format!("shard {missing} of {shard_count} is missing")));
    }

    let file = first["scenario_file"].as_str().unwrap_or("scenario").to_string();
    let mut scenario = crate::input::parse(&file, first["scenario_text"].as_str().unwrap_or(""))?;
    scenario.seed = first["seed"].as_u64().unwrap_or(scenario.seed);
    scenario.horizon_ms = first["horizon_ms"].as_u64().unwrap_or(scenario.horizon_ms);
    scenario.replications = first["replications"].as_u64().unwrap_or(0) as u32;
    scenario.strategies = first["strategies"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().and_then(Strategy::parse)).collect())
        .unwrap_or_default();
    scenario.warnings = crate::cli::run_warnings(&scenario);

    let shards = by_index
        .into_iter()
        .map(|dir| ShardReader::open(dir.expect("every shard index was seen"), !scenario.volumes.is_empty()))
        .collect::<Result<Vec<_>, _>>()?;
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
            if let Some(r) = shard.apps.peek_replication()? {
                return Err(bad(
                    &shard.apps.path,
                    format!("replication {r} is given twice or is outside the run's {}", self.scenario.replications),
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

/// One CSV file of a shard, read a row at a time, with one row of look-ahead.
struct Rows {
    path: PathBuf,
    records: csv::StringRecordsIntoIter<File>,
    header: Vec<String>,
    ahead: Option<csv::StringRecord>,
}

impl Rows {
    fn open(path: PathBuf) -> Result<Rows, Error> {
        let mut reader = csv::Reader::from_path(&path).map_err(|e| bad(&path, format!("cannot read: {e}")))?;
        let header: Vec<String> =
            reader.headers().map_err(|e| bad(&path, e.to_string()))?.iter().map(String::from).collect();
        Ok(Rows { records: reader.into_records(), header, ahead: None, path })
    }

    fn column(&self, name: &str) -> Result<usize, Error> {
        self.header.iter().position(|h| h == name).ok_or_else(|| bad(&self.path, format!("no column `{name}`")))
    }

    /// The replication of the next row, if any.
    fn peek_replication(&mut self) -> Result<Option<u32>, Error> {
        if self.ahead.is_none() {
            self.ahead = self.records.next().transpose().map_err(|e| bad(&self.path, e.to_string()))?;
        }
        match &self.ahead {
            Some(row) => Ok(Some(count(&self.path, row.get(1).unwrap_or(""))?)),
            None => Ok(None),
        }
    }

    /// The next row if it belongs to replication `r`.
    fn next_of(&mut self, r: u32) -> Result<Option<csv::StringRecord>, Error> {
        if self.peek_replication()? == Some(r) { Ok(self.ahead.take()) } else { Ok(None) }
    }
}

/// A shard's per-replication files.
struct ShardReader {
    apps: Rows,
    columns: AppColumns,
    volumes: Option<Rows>,
}

/// Where `replications.csv`'s fields are, found once per shard.
struct AppColumns {
    strategy: usize,
    app: usize,
    downtime: usize,
    outages: usize,
    causes: Vec<usize>,
    loss_incidents: usize,
    loss: usize,
}

impl ShardReader {
    fn open(dir: &Path, volumes: bool) -> Result<ShardReader, Error> {
        let apps = Rows::open(dir.join("replications.csv"))?;
        let columns = AppColumns {
            strategy: apps.column("strategy")?,
            app: apps.column("app")?,
            downtime: apps.column("downtime_s")?,
            outages: apps.column("outages")?,
            causes: Cause::ALL
                .iter()
                .map(|&c| apps.column(&output::files::cause_column(c, "s")))
                .collect::<Result<_, _>>()?,
            loss_incidents: apps.column("data_loss_incidents")?,
            loss: apps.column("data_loss_s")?,
        };
        let volumes = if volumes { Some(Rows::open(dir.join("volume_replications.csv"))?) } else { None };
        Ok(ShardReader { apps, columns, volumes })
    }

    /// Reads replication `r`, which must come next in this shard.
    fn read(&mut self, r: u32, scenario: &Scenario, names: &Names) -> Result<Vec<ReplicationOutcome>, Error> {
        let blank = ReplicationOutcome {
            apps: vec![AppOutcome::default(); scenario.apps.len()],
            volumes: vec![VolumeOutcome::default(); scenario.volumes.len()],
            events: 0,
        };
        let mut outcomes = vec![blank; scenario.strategies.len()];
        let lookup = |path: &Path, map: &HashMap<String, usize>, what: &str, name: &str| {
            map.get(name).copied().ok_or_else(|| bad(path, format!("unknown {what} `{name}`")))
        };
        let c = &self.columns;
        let rows = &mut self.apps;
        let path = rows.path.clone();
        let mut seen = vec![false; scenario.strategies.len() * scenario.apps.len()];
        while let Some(row) = rows.next_of(r)? {
            let s = lookup(&path, &names.strategies, "strategy", &row[c.strategy])?;
            let a = lookup(&path, &names.apps, "app", &row[c.app])?;
            if std::mem::replace(&mut seen[s * scenario.apps.len() + a], true) {
                return Err(bad(&path, format!("replication {r} of app `{}` is given twice", &row[c.app])));
            }
            let app = &mut outcomes[s].apps[a];
            app.downtime_ms = millis(&path, &row[c.downtime])?;
            app.outages = count(&path, &row[c.outages])?;
            for (k, &column) in c.causes.iter().enumerate() {
                app.cause_ms[k] = millis(&path, &row[column])?;
            }
            app.data_loss_incidents = count(&path, &row[c.loss_incidents])?;
            app.data_loss_ms = millis(&path, &row[c.loss])?;
        }
        if let Some(missing) = seen.iter().position(|&s| !s) {
            let strategy = scenario.strategies[missing / scenario.apps.len().max(1)].name();
            return Err(bad(&path, format!("replication {r} of strategy {strategy} is in no shard")));
        }
        if let Some(rows) = &mut self.volumes {
            let path = rows.path.clone();
            let mut seen = vec![false; scenario.strategies.len() * scenario.volumes.len()];
            while let Some(row) = rows.next_of(r)? {
                let s = lookup(&path, &names.strategies, "strategy", &row[0])?;
                let v = lookup(&path, &names.volumes, "volume", &row[2])?;
                if std::mem::replace(&mut seen[s * scenario.volumes.len() + v], true) {
                    return Err(bad(&path, format!("replication {r} of volume `{}` is given twice", &row[2])));
                }
                outcomes[s].volumes[v] = VolumeOutcome {
                    downtime_ms: millis(&path, &row[3])?,
                    outages: count(&path, &row[4])?,
                    reduced_redundancy_ms: millis(&path, &row[5])?,
                    data_loss_incidents: count(&path, &row[6])?,
                    data_loss_ms: millis(&path, &row[7])?,
                    split_brain_incidents: count(&path, &row[8])?,
                };
            }
            if seen.iter().any(|&s| !s) {
                return Err(bad(&path, format!("replication {r} has apps but not all its volumes")));
            }
        }
        Ok(outcomes)
    }
}
