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
use std::collections::{BTreeMap, HashMap};
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
        let text = std::fs::read_to_string(&path).map_err(|e| bad(&path, format!("cannot read the shard: {e}")))?;
        let json: Value = serde_json::from_str(&text).map_err(|e| bad(&path, format!("not a shard manifest: {e}")))?;
        if json.get("shard").is_none() {
            return Err(bad(&path, "not a shard: it was written by a run without --shard"));
        }
        manifests.push((path, json));
    }
    let Some((first_path, first)) = manifests.first() else {
        return Err(Error::Input(InputError::new("merge", "no shard folders given")));
    };
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
    let shard_count =
        first["shard"]["count"].as_u64().and_then(|c| u32::try_from(c).ok()).filter(|&c| c > 0).ok_or_else(|| {
            bad_key(first_path, "shard.count", "the shard count is not a whole number from 1 to 2^32-1")
        })?;
    // By index; a map, not a vector of the count, since the count is read
    // from a file and can be anything.
    let mut by_index: BTreeMap<u64, &PathBuf> = BTreeMap::new();
    for (dir, (path, m)) in dirs.iter().zip(&manifests) {
        let i = m["shard"]["index"].as_u64().unwrap_or(u64::MAX);
        if i >= u64::from(shard_count) {
            let shown = m["shard"]["index"].to_string();
            return Err(bad(path, format!("shard index {shown} is outside 0..{shard_count}")));
        }
        if by_index.insert(i, dir).is_some() {
            return Err(bad(path, format!("shard {i} of {shard_count} is given twice")));
        }
    }
    // The indexes are distinct and below the count: one is missing unless
    // there are as many as the count.
    if let Some(missing) = (0..u64::from(shard_count)).find(|i| !by_index.contains_key(i)) {
        return Err(bad(first_path, format!("shard {missing} of {shard_count} is missing")));
    }

    let text_of = |key: &str| {
        first.get(key).and_then(Value::as_str).ok_or_else(|| bad_key(first_path, key, "missing, or not a string"))
    };
    let file = first["scenario_file"].as_str().unwrap_or("scenario").to_string();
    let mut scenario = crate::input::parse(&file, text_of("scenario_text")?)?;
    let number = |key: &str, range: std::ops::RangeInclusive<u64>| {
        first.get(key).and_then(Value::as_u64).filter(|n| range.contains(n)).ok_or_else(|| {
            bad_key(first_path, key, format!("not a whole number from {} to {}", range.start(), range.end()))
        })
    };
    scenario.seed = number("seed", 0..=u64::MAX)?;
    scenario.horizon_ms = number("horizon_ms", 1..=crate::time::MAX_DURATION_MS)?;
    scenario.replications = number("replications", 1..=u64::from(u32::MAX))? as u32;
    let names = first.get("strategies").and_then(Value::as_array).filter(|a| !a.is_empty());
    let names = names.ok_or_else(|| bad_key(first_path, "strategies", "not a list of strategies"))?;
    scenario.strategies = Vec::new();
    for name in names {
        let strategy = name.as_str().and_then(Strategy::parse);
        let strategy =
            strategy.ok_or_else(|| bad_key(first_path, "strategies", format!("{name} is not a strategy")))?;
        if scenario.strategies.contains(&strategy) {
            return Err(bad_key(first_path, "strategies", format!("{name} is listed twice")));
        }
        scenario.strategies.push(strategy);
    }
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
            for rows in std::iter::once(&mut shard.apps).chain(&mut shard.volumes) {
                if let Some(r) = rows.peek_replication()? {
                    return Err(bad(
                        &rows.path,
                        format!(
                            "replication {r} is given twice, out of order or is outside the run's {}",
                            self.scenario.replications
                        ),
                    ));
                }
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
/// Its columns are found by name in its header; the csv reader refuses a
/// row with another number of fields than the header, so every column
/// found is in every row.
struct Rows {
    path: PathBuf,
    records: csv::StringRecordsIntoIter<File>,
    header: Vec<String>,
    replication: usize,
    ahead: Option<(u32, csv::StringRecord)>,
    /// The run's horizon: no duration in a row is longer.
    horizon_ms: u64,
}

impl Rows {
    fn open(path: PathBuf, horizon_ms: u64) -> Result<Rows, Error> {
        let mut reader = csv::Reader::from_path(&path).map_err(|e| bad(&path, format!("cannot read: {e}")))?;
        let header: Vec<String> =
            reader.headers().map_err(|e| bad(&path, e.to_string()))?.iter().map(String::from).collect();
        let replication = column(&path, &header, "replication")?;
        Ok(Rows { records: reader.into_records(), header, replication, ahead: None, path, horizon_ms })
    }

    fn column(&self, name: &str) -> Result<usize, Error> {
        column(&self.path, &self.header, name)
    }

    /// The replication of the next row, if any.
    fn peek_replication(&mut self) -> Result<Option<u32>, Error> {
        if self.ahead.is_none() {
            let Some(row) = self.records.next().transpose().map_err(|e| bad(&self.path, e.to_string()))? else {
                return Ok(None);
            };
            let r = self.cell(&row, self.replication, count)?;
            self.ahead = Some((r, row));
        }
        Ok(self.ahead.as_ref().map(|(r, _)| *r))
    }

    /// The next row if it belongs to replication `r`.
    fn next_of(&mut self, r: u32) -> Result<Option<csv::StringRecord>, Error> {
        if self.peek_replication()? == Some(r) { Ok(self.ahead.take().map(|(_, row)| row)) } else { Ok(None) }
    }

    /// Field `index` of `row`, parsed by `parse`; its error names the line
    /// and the column.
    fn cell<T>(
        &self,
        row: &csv::StringRecord,
        index: usize,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, Error> {
        parse(&row[index]).map_err(|message| at_cell(&self.path, row, index, &self.header[index], message))
    }

    /// A duration in seconds, at most the horizon.
    fn seconds(&self, row: &csv::StringRecord, index: usize) -> Result<u64, Error> {
        self.cell(row, index, |t| millis(t, self.horizon_ms))
    }

    /// An amount of data lost in seconds of writes: it adds up over
    /// incidents, so it is not bounded by the horizon (the summary saturates).
    fn lost_seconds(&self, row: &csv::StringRecord, index: usize) -> Result<u64, Error> {
        self.cell(row, index, |t| millis(t, u64::MAX))
    }

    /// The index of the name in field `index`, from `map`.
    fn lookup(
        &self,
        row: &csv::StringRecord,
        index: usize,
        map: &HashMap<String, usize>,
        what: &str,
    ) -> Result<usize, Error> {
        self.cell(row, index, |name| map.get(name).copied().ok_or_else(|| format!("unknown {what} `{name}`")))
    }
}

fn column(path: &Path, header: &[String], name: &str) -> Result<usize, Error> {
    header.iter().position(|h| h == name).ok_or_else(|| bad(path, format!("no column `{name}` in its header")))
}

/// A shard's per-replication files.
struct ShardReader {
    apps: Rows,
    columns: AppColumns,
    volumes: Option<Rows>,
    volume_columns: VolumeColumns,
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

/// Where `volume_replications.csv`'s fields are (all 0 without volumes).
#[derive(Default)]
struct VolumeColumns {
    strategy: usize,
    volume: usize,
    downtime: usize,
    outages: usize,
    reduced_redundancy: usize,
    loss_incidents: usize,
    loss: usize,
    split_brains: usize,
}

impl ShardReader {
    fn open(dir: &Path, scenario: &Scenario) -> Result<ShardReader, Error> {
        let apps = Rows::open(dir.join("replications.csv"), scenario.horizon_ms)?;
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
        let (volumes, volume_columns) = if scenario.volumes.is_empty() {
            (None, VolumeColumns::default())
        } else {
            let rows = Rows::open(dir.join("volume_replications.csv"), scenario.horizon_ms)?;
            let columns = VolumeColumns {
                strategy: rows.column("strategy")?,
                volume: rows.column("volume")?,
                downtime: rows.column("downtime_s")?,
                outages: rows.column("outages")?,
                reduced_redundancy: rows.column("reduced_redundancy_s")?,
                loss_incidents: rows.column("data_loss_incidents")?,
                loss: rows.column("data_loss_s")?,
                split_brains: rows.column("split_brain_incidents")?,
            };
            (Some(rows), columns)
        };
        Ok(ShardReader { apps, columns, volumes, volume_columns })
    }

    /// Reads replication `r`, which must come next in this shard.
    fn read(&mut self, r: u32, scenario: &Scenario, names: &Names) -> Result<Vec<ReplicationOutcome>, Error> {
        let blank = ReplicationOutcome {
            apps: vec![AppOutcome::default(); scenario.apps.len()],
            volumes: vec![VolumeOutcome::default(); scenario.volumes.len()],
            events: 0,
        };
        let mut outcomes = vec![blank; scenario.strategies.len()];
        let c = &self.columns;
        let rows = &mut self.apps;
        let mut seen = vec![false; scenario.strategies.len() * scenario.apps.len()];
        while let Some(row) = rows.next_of(r)? {
            let s = rows.lookup(&row, c.strategy, &names.strategies, "strategy")?;
            let a = rows.lookup(&row, c.app, &names.apps, "app")?;
            if std::mem::replace(&mut seen[s * scenario.apps.len() + a], true) {
                let message = format!("replication {r} of app `{}` is given twice", &row[c.app]);
                return Err(at_cell(&rows.path, &row, c.app, "app", message));
            }
            let app = &mut outcomes[s].apps[a];
            app.downtime_ms = rows.seconds(&row, c.downtime)?;
            app.outages = rows.cell(&row, c.outages, count)?;
            for (k, &column) in c.causes.iter().enumerate() {
                app.cause_ms[k] = rows.seconds(&row, column)?;
            }
            app.data_loss_incidents = rows.cell(&row, c.loss_incidents, count)?;
            app.data_loss_ms = rows.lost_seconds(&row, c.loss)?;
        }
        if let Some(missing) = seen.iter().position(|&s| !s) {
            let strategy = scenario.strategies[missing / scenario.apps.len().max(1)].name();
            return Err(bad(&rows.path, format!("replication {r} of strategy {strategy} is in no shard")));
        }
        if let Some(rows) = &mut self.volumes {
            let c = &self.volume_columns;
            let mut seen = vec![false; scenario.strategies.len() * scenario.volumes.len()];
            while let Some(row) = rows.next_of(r)? {
                let s = rows.lookup(&row, c.strategy, &names.strategies, "strategy")?;
                let v = rows.lookup(&row, c.volume, &names.volumes, "volume")?;
                if std::mem::replace(&mut seen[s * scenario.volumes.len() + v], true) {
                    let message = format!("replication {r} of volume `{}` is given twice", &row[c.volume]);
                    return Err(at_cell(&rows.path, &row, c.volume, "volume", message));
                }
                outcomes[s].volumes[v] = VolumeOutcome {
                    downtime_ms: rows.seconds(&row, c.downtime)?,
                    outages: rows.cell(&row, c.outages, count)?,
                    reduced_redundancy_ms: rows.seconds(&row, c.reduced_redundancy)?,
                    data_loss_incidents: rows.cell(&row, c.loss_incidents, count)?,
                    data_loss_ms: rows.lost_seconds(&row, c.loss)?,
                    split_brain_incidents: rows.cell(&row, c.split_brains, count)?,
                };
            }
            if seen.iter().any(|&s| !s) {
                return Err(bad(&rows.path, format!("replication {r} has apps but not all its volumes")));
            }
        }
        Ok(outcomes)
    }
}

/// The place of a cell in a CSV file, for an error: its 1-based line and
/// column, counted over the fields before it and their separators (exact
/// for the files clustersim writes, which quote none of these fields; at or
/// before the cell where a hand-edited field is quoted or spans lines), and
/// its column's name as the key.
fn at_cell(path: &Path, row: &csv::StringRecord, index: usize, name: &str, message: String) -> Error {
    let mut line = row.position().map_or(1, |p| p.line() as usize);
    let mut column = 1;
    for field in row.iter().take(index) {
        match field.rsplit_once('\n') {
            Some((before, after)) => {
                line += before.matches('\n').count() + 1;
                column = after.chars().count() + 2;
            }
            None => column += field.chars().count() + 1,
        }
    }
    Error::Input(InputError {
        file: path.display().to_string(),
        location: Some((line, column)),
        key: Some(name.to_string()),
        message,
    })
}

/// Exact milliseconds from `seconds` written as `123.456` (up to three
/// decimals, ASCII digits only), at most `max_ms`.
fn millis(text: &str, max_ms: u64) -> Result<u64, String> {
    let not = || format!("`{text}` is not a number of seconds with at most 3 decimals");
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || frac.len() > 3 || !digits(frac) {
        return Err(not());
    }
    let frac: u64 = format!("{frac:0<3}").parse().map_err(|_| not())?;
    let ms = whole.parse::<u64>().ok().and_then(|w| w.checked_mul(1000)).and_then(|w| w.checked_add(frac));
    match ms {
        Some(ms) if ms <= max_ms => Ok(ms),
        Some(_) => Err(format!("`{text}` seconds is more than the run's horizon of {} s", max_ms / 1000)),
        None => Err(not()),
    }
}

fn count(text: &str) -> Result<u32, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{text}` is not a count"));
    }
    text.parse().map_err(|_| format!("`{text}` is not a count (at most {})", u32::MAX))
}
