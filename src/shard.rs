//! Sharded runs: `run --shard I/N` computes the replications r with
//! r mod N = I and writes them with a manifest; `merge` checks that the
//! shards belong together and rebuilds the per-replication outcomes, from
//! which the single run's files are written, byte for byte.

use crate::error::{Error, InputError};
use crate::metrics::{AppOutcome, Cause, ReplicationOutcome, VolumeOutcome};
use crate::model::Scenario;
use crate::montecarlo::RunResults;
use crate::output::{self, files};
use crate::placement::Strategy;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Writes one shard's files into `dir` (a staging folder); returns their
/// names.
pub fn write_shard(
    dir: &Path,
    scenario: &Scenario,
    results: &RunResults,
    replications: &[u32],
    index: u32,
    count: u32,
) -> Result<Vec<String>, Error> {
    let mut written = vec!["replications.csv", output::MANIFEST];
    output::write_atomic(dir, "replications.csv", &files::replications_csv(scenario, results, replications)?)?;
    if !scenario.volumes.is_empty() {
        output::write_atomic(
            dir,
            "volume_replications.csv",
            &files::volume_replications_csv(scenario, results, replications)?,
        )?;
        written.push("volume_replications.csv");
    }
    let manifest = json!({
        "scenario": scenario.name,
        "scenario_file": scenario.source,
        "scenario_text": scenario.text,
        "version": env!("CARGO_PKG_VERSION"),
        "seed": scenario.seed,
        "horizon_ms": scenario.horizon_ms,
        "replications": scenario.replications,
        "strategies": scenario.strategies.iter().map(|s| s.name()).collect::<Vec<_>>(),
        "shard": { "index": index, "count": count },
        "files": written,
    });
    let mut bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Internal(e.to_string()))?;
    bytes.push(b'\n');
    output::write_atomic(dir, output::MANIFEST, &bytes)?;
    Ok(written.into_iter().map(String::from).collect())
}

pub struct Merged {
    pub scenario: Scenario,
    pub results: RunResults,
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
    let mut seen = vec![false; shard_count as usize];
    for (path, m) in &manifests {
        let i = m["shard"]["index"].as_u64().unwrap_or(u64::MAX) as usize;
        if i >= seen.len() {
            return Err(bad(path, format!("shard index {i} is outside 0..{shard_count}")));
        }
        if std::mem::replace(&mut seen[i], true) {
            return Err(bad(path, format!("shard {i} of {shard_count} is given twice")));
        }
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(bad(first_path, format!("shard {missing} of {shard_count} is missing")));
    }

    let file = first["scenario_file"].as_str().unwrap_or("scenario").to_string();
    let mut scenario = crate::scenario::parse(&file, first["scenario_text"].as_str().unwrap_or(""))?;
    scenario.seed = first["seed"].as_u64().unwrap_or(scenario.seed);
    scenario.horizon_ms = first["horizon_ms"].as_u64().unwrap_or(scenario.horizon_ms);
    scenario.replications = first["replications"].as_u64().unwrap_or(0) as u32;
    scenario.strategies = first["strategies"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().and_then(Strategy::parse)).collect())
        .unwrap_or_default();
    scenario.warnings = crate::cli::run_warnings(&scenario);

    let reps = scenario.replications as usize;
    let strategies = scenario.strategies.clone();
    let mut slots: Vec<Vec<Option<ReplicationOutcome>>> = strategies.iter().map(|_| vec![None; reps]).collect();
    let causes: Vec<String> = Cause::ALL.iter().map(|c| format!("{}_s", c.name().replace('-', "_"))).collect();
    for dir in dirs {
        let path = dir.join("replications.csv");
        let mut reader = csv::Reader::from_path(&path).map_err(|e| bad(&path, format!("cannot read: {e}")))?;
        let header: Vec<String> =
            reader.headers().map_err(|e| bad(&path, e.to_string()))?.iter().map(String::from).collect();
        let col =
            |name: &str| header.iter().position(|h| h == name).ok_or_else(|| bad(&path, format!("no column `{name}`")));
        let (c_s, c_r, c_a, c_d, c_o) =
            (col("strategy")?, col("replication")?, col("app")?, col("downtime_s")?, col("outages")?);
        let (c_li, c_ls) = (col("data_loss_incidents")?, col("data_loss_s")?);
        let c_causes: Vec<usize> = causes.iter().map(|c| col(c)).collect::<Result<_, _>>()?;
        for record in reader.records() {
            let row = record.map_err(|e| bad(&path, e.to_string()))?;
            let s = strategies
                .iter()
                .position(|x| x.name() == &row[c_s])
                .ok_or_else(|| bad(&path, format!("unknown strategy `{}`", &row[c_s])))?;
            let r = count(&path, &row[c_r])? as usize;
            let a = scenario
                .apps
                .iter()
                .position(|x| x.name == row[c_a])
                .ok_or_else(|| bad(&path, format!("unknown app `{}`", &row[c_a])))?;
            if r >= reps {
                return Err(bad(&path, format!("replication {r} is outside the run's {reps}")));
            }
            let slot = slots[s][r].get_or_insert_with(|| ReplicationOutcome {
                apps: vec![AppOutcome::default(); scenario.apps.len()],
                volumes: vec![VolumeOutcome::default(); scenario.volumes.len()],
                events: 0,
            });
            let app = &mut slot.apps[a];
            app.downtime_ms = millis(&path, &row[c_d])?;
            app.outages = count(&path, &row[c_o])?;
            for (k, &c) in c_causes.iter().enumerate() {
                app.cause_ms[k] = millis(&path, &row[c])?;
            }
            app.data_loss_incidents = count(&path, &row[c_li])?;
            app.data_loss_ms = millis(&path, &row[c_ls])?;
        }
        let vpath = dir.join("volume_replications.csv");
        if !scenario.volumes.is_empty() {
            let mut reader = csv::Reader::from_path(&vpath).map_err(|e| bad(&vpath, format!("cannot read: {e}")))?;
            for record in reader.records() {
                let row = record.map_err(|e| bad(&vpath, e.to_string()))?;
                let s = strategies
                    .iter()
                    .position(|x| x.name() == &row[0])
                    .ok_or_else(|| bad(&vpath, "unknown strategy"))?;
                let r = count(&vpath, &row[1])? as usize;
                let v = scenario
                    .volumes
                    .iter()
                    .position(|x| x.name == row[2])
                    .ok_or_else(|| bad(&vpath, "unknown volume"))?;
                let Some(Some(slot)) = slots.get_mut(s).and_then(|x| x.get_mut(r)) else {
                    return Err(bad(&vpath, format!("replication {r} has volumes but no apps")));
                };
                slot.volumes[v] = VolumeOutcome {
                    downtime_ms: millis(&vpath, &row[3])?,
                    outages: count(&vpath, &row[4])?,
                    reduced_redundancy_ms: millis(&vpath, &row[5])?,
                    data_loss_incidents: count(&vpath, &row[6])?,
                    data_loss_ms: millis(&vpath, &row[7])?,
                };
            }
        }
    }
    let mut outcomes = Vec::new();
    for (s, per_rep) in slots.into_iter().enumerate() {
        let mut list = Vec::with_capacity(reps);
        for (r, slot) in per_rep.into_iter().enumerate() {
            list.push(slot.ok_or_else(|| {
                bad(first_path, format!("replication {r} of strategy {} is in no shard", strategies[s].name()))
            })?);
        }
        outcomes.push(list);
    }
    Ok(Merged { scenario, results: RunResults { strategies, outcomes } })
}
