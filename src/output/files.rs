//! The result files: summary.csv, apps.csv, replications.csv, events.csv and
//! summary.json. Numbers are written with a fixed number of decimals so the
//! same results give the same bytes.

use crate::error::Error;
use crate::metrics::{Cause, ReplicationOutcome, TraceRecord};
use crate::model::Scenario;
use crate::placement::Strategy;
use crate::run::summary::{Row, Summary};
use crate::time::{Millis, format_duration, format_instant};
use serde_json::{Value, json};
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

fn csv_bytes(header: &[String], rows: impl IntoIterator<Item = Vec<String>>) -> Result<Vec<u8>, Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header).map_err(csv_error)?;
    for row in rows {
        writer.write_record(&row).map_err(csv_error)?;
    }
    writer.into_inner().map_err(|e| Error::Internal(format!("csv: {e}")))
}

/// The column of a cause's downtime: `no_node_s`, `no_node_min_per_year`.
pub fn cause_column(cause: Cause, unit: &str) -> String {
    format!("{}_{unit}", cause.name().replace('-', "_"))
}

fn csv_error(e: csv::Error) -> Error {
    Error::Internal(format!("csv: {e}"))
}

/// A CSV header from column names.
fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn fixed(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$}")
}

/// Seconds with millisecond precision, exactly.
fn seconds(ms: Millis) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

fn row_header(first: &str) -> Vec<String> {
    let mut header: Vec<String> = strings(&[
        "strategy",
        first,
        "class",
        "apps",
        "replications",
        "availability",
        "availability_ci_low",
        "availability_ci_high",
        "downtime_min_per_year",
        "downtime_min_per_year_p50",
        "downtime_min_per_year_p95",
        "downtime_min_per_year_p99",
        "outages_per_year",
        "mean_outage_min",
        "planned_min_per_year",
        "unplanned_min_per_year",
    ]);
    header.extend(Cause::ALL.iter().map(|&c| cause_column(c, "min_per_year")));
    header.push("data_loss_incidents_per_year".into());
    header.push("data_loss_min_per_year".into());
    header.push("data_loss_min_per_incident".into());
    header
}

fn row_fields(row: &Row) -> Vec<String> {
    let ci = |f: fn((f64, f64)) -> f64| row.availability_ci.map_or(String::new(), |ci| fixed(f(ci), 9));
    let mut fields = vec![
        row.strategy.name().to_string(),
        row.label.clone(),
        row.class.clone(),
        row.apps.to_string(),
        row.replications.to_string(),
        fixed(row.availability, 9),
        ci(|c| c.0),
        ci(|c| c.1),
        fixed(row.downtime_min_per_year, 4),
        fixed(row.downtime_p50, 4),
        fixed(row.downtime_p95, 4),
        fixed(row.downtime_p99, 4),
        fixed(row.outages_per_year, 6),
        row.mean_outage_min.map_or(String::new(), |m| fixed(m, 4)),
        fixed(row.planned_min_per_year(), 4),
        fixed(row.downtime_min_per_year - row.planned_min_per_year(), 4),
    ];
    fields.extend(row.cause_min_per_year.iter().map(|&m| fixed(m, 4)));
    fields.push(fixed(row.data_loss_incidents_per_year, 6));
    fields.push(fixed(row.data_loss_min_per_year, 4));
    fields.push(row.data_loss_min_per_incident.map_or(String::new(), |m| fixed(m, 4)));
    fields
}

/// `volumes.csv`: one row per strategy and volume.
pub fn volumes_csv(summary: &Summary) -> Result<Vec<u8>, Error> {
    let header: Vec<String> = strings(&[
        "strategy",
        "volume",
        "backend",
        "replications",
        "availability",
        "availability_ci_low",
        "availability_ci_high",
        "downtime_min_per_year",
        "reduced_redundancy_h_per_year",
        "data_loss_incidents_per_year",
        "data_loss_min_per_year",
        "split_brain_incidents_per_year",
    ]);
    let rows = summary.volumes.iter().map(|v| {
        let ci = |f: fn((f64, f64)) -> f64| v.availability_ci.map_or(String::new(), |ci| fixed(f(ci), 9));
        vec![
            v.strategy.name().to_string(),
            v.volume.clone(),
            v.backend.to_string(),
            v.replications.to_string(),
            fixed(v.availability, 9),
            ci(|c| c.0),
            ci(|c| c.1),
            fixed(v.downtime_min_per_year, 4),
            fixed(v.reduced_redundancy_h_per_year, 4),
            fixed(v.data_loss_incidents_per_year, 6),
            fixed(v.data_loss_min_per_year, 4),
            fixed(v.split_brain_incidents_per_year, 6),
        ]
    });
    csv_bytes(&header, rows)
}

/// `summary.csv`: one row per strategy and class (and `all`).
pub fn summary_csv(summary: &Summary) -> Result<Vec<u8>, Error> {
    let mut header = row_header("class");
    header.remove(2); // the class column is the label here
    csv_bytes(
        &header,
        summary.classes.iter().map(|r| {
            let mut f = row_fields(r);
            f.remove(2);
            f
        }),
    )
}

/// `apps.csv`: one row per strategy and app.
pub fn apps_csv(summary: &Summary) -> Result<Vec<u8>, Error> {
    csv_bytes(&row_header("app"), summary.apps.iter().map(row_fields))
}

/// The header of `replications.csv`.
fn replication_header() -> Vec<String> {
    let mut header: Vec<String> = strings(&["strategy", "replication", "app", "downtime_s", "outages"]);
    header.extend(Cause::ALL.iter().map(|&c| cause_column(c, "s")));
    header.push("data_loss_incidents".into());
    header.push("data_loss_s".into());
    header
}

/// The header of `volume_replications.csv`.
fn volume_replication_header() -> Vec<String> {
    strings(&[
        "strategy",
        "replication",
        "volume",
        "downtime_s",
        "outages",
        "reduced_redundancy_s",
        "data_loss_incidents",
        "data_loss_s",
        "split_brain_incidents",
    ])
}

/// The per-replication files, written row by row as replications finish:
/// `replications.csv` (one row per replication, strategy and app) and, with
/// volumes, `volume_replications.csv` (per replication, strategy and
/// volume), in replication order, so runs can be merged and reanalysed and
/// nothing of a replication is kept after it is written.
pub struct ReplicationRows {
    apps: csv::Writer<BufWriter<File>>,
    volumes: Option<csv::Writer<BufWriter<File>>>,
}

impl ReplicationRows {
    /// Creates the files in `dir` (a staging folder), headers written, and
    /// returns their names.
    pub fn create(dir: &Path, scenario: &Scenario) -> Result<(Self, Vec<String>), Error> {
        let open = |name: &str, header: Vec<String>| {
            let path = dir.join(name);
            let file = File::create(&path).map_err(|source| Error::Io { path, source })?;
            let mut writer = csv::Writer::from_writer(BufWriter::new(file));
            writer.write_record(header).map_err(csv_error)?;
            Ok::<_, Error>(writer)
        };
        let mut names = vec!["replications.csv".to_string()];
        let apps = open("replications.csv", replication_header())?;
        let volumes = if scenario.volumes.is_empty() {
            None
        } else {
            names.push("volume_replications.csv".into());
            Some(open("volume_replications.csv", volume_replication_header())?)
        };
        Ok((ReplicationRows { apps, volumes }, names))
    }

    /// Writes replication `r`: its outcome under each strategy.
    pub fn write(&mut self, scenario: &Scenario, r: u32, per_strategy: &[&ReplicationOutcome]) -> Result<(), Error> {
        let rep = r.to_string();
        for (strategy, outcome) in scenario.strategies.iter().zip(per_strategy) {
            for (app, spec) in outcome.apps.iter().zip(&scenario.apps) {
                let mut fields = vec![
                    strategy.name().to_string(),
                    rep.clone(),
                    spec.name.clone(),
                    seconds(app.downtime_ms),
                    app.outages.to_string(),
                ];
                fields.extend(app.cause_ms.iter().map(|&ms| seconds(ms)));
                fields.push(app.data_loss_incidents.to_string());
                fields.push(seconds(app.data_loss_ms));
                self.apps.write_record(&fields).map_err(csv_error)?;
            }
            if let Some(writer) = &mut self.volumes {
                for (v, spec) in outcome.volumes.iter().zip(&scenario.volumes) {
                    writer
                        .write_record([
                            strategy.name(),
                            &rep,
                            &spec.name,
                            &seconds(v.downtime_ms),
                            &v.outages.to_string(),
                            &seconds(v.reduced_redundancy_ms),
                            &v.data_loss_incidents.to_string(),
                            &seconds(v.data_loss_ms),
                            &v.split_brain_incidents.to_string(),
                        ])
                        .map_err(csv_error)?;
                }
            }
        }
        Ok(())
    }

    /// Flushes the files; a write error surfaces here.
    pub fn finish(self) -> Result<(), Error> {
        for writer in std::iter::once(self.apps).chain(self.volumes) {
            // into_inner flushes the CSV buffer and the file's buffer.
            writer.into_inner().map_err(|e| Error::Internal(format!("csv: {e}")))?;
        }
        Ok(())
    }
}

/// `events.csv`: the trace of one replication per strategy. Each row names
/// its subjects in their own columns (docs/events.md lists every kind and
/// the columns it fills); `time` is `time_ms` in one human form
/// ([`format_instant`]).
pub fn events_csv(scenario: &Scenario, traces: &[(Strategy, Vec<TraceRecord>)]) -> Result<Vec<u8>, Error> {
    let header: Vec<String> =
        strings(&["strategy", "time_ms", "time", "kind", "node", "app", "pod", "domain", "volume", "detail"]);
    let rows = traces.iter().flat_map(|(strategy, records)| {
        records.iter().map(move |r| {
            vec![
                strategy.name().to_string(),
                r.time_ms.to_string(),
                format_instant(r.time_ms),
                r.kind.to_string(),
                r.node.map_or(String::new(), |n| scenario.nodes[n].name.clone()),
                r.app.map_or(String::new(), |a| scenario.apps[a].name.clone()),
                r.pod.map_or(String::new(), |(a, replica)| format!("{}-{replica}", scenario.apps[a].name)),
                r.domain.map_or(String::new(), |d| scenario.domains[d].name.clone()),
                r.volume.map_or(String::new(), |v| scenario.volumes[v].name.clone()),
                r.detail.clone(),
            ]
        })
    });
    csv_bytes(&header, rows)
}

fn row_json(row: &Row) -> Value {
    let causes: serde_json::Map<String, Value> =
        Cause::ALL.iter().map(|c| (c.name().to_string(), json!(row.cause_min_per_year[c.index()]))).collect();
    json!({
        "strategy": row.strategy.name(),
        "label": row.label,
        "class": row.class,
        "apps": row.apps,
        "replications": row.replications,
        "availability": row.availability,
        "availability_ci_low": row.availability_ci.map(|c| c.0),
        "availability_ci_high": row.availability_ci.map(|c| c.1),
        "downtime_min_per_year": row.downtime_min_per_year,
        "downtime_min_per_year_p50": row.downtime_p50,
        "downtime_min_per_year_p95": row.downtime_p95,
        "downtime_min_per_year_p99": row.downtime_p99,
        "outages_per_year": row.outages_per_year,
        "mean_outage_min": row.mean_outage_min,
        "planned_min_per_year": row.planned_min_per_year(),
        "unplanned_min_per_year": row.downtime_min_per_year - row.planned_min_per_year(),
        "downtime_min_per_year_by_cause": causes,
        "data_loss_incidents_per_year": row.data_loss_incidents_per_year,
        "data_loss_min_per_year": row.data_loss_min_per_year,
        "data_loss_min_per_incident": row.data_loss_min_per_incident,
    })
}

fn volume_json(v: &crate::run::summary::VolumeRow) -> Value {
    json!({
        "strategy": v.strategy.name(),
        "volume": v.volume,
        "backend": v.backend,
        "replications": v.replications,
        "availability": v.availability,
        "availability_ci_low": v.availability_ci.map(|c| c.0),
        "availability_ci_high": v.availability_ci.map(|c| c.1),
        "downtime_min_per_year": v.downtime_min_per_year,
        "reduced_redundancy_h_per_year": v.reduced_redundancy_h_per_year,
        "data_loss_incidents_per_year": v.data_loss_incidents_per_year,
        "data_loss_min_per_year": v.data_loss_min_per_year,
        "split_brain_incidents_per_year": v.split_brain_incidents_per_year,
    })
}

/// `summary.json`: the summary and app rows with the run's identity, each
/// class's downtime per replication, the list of files the run wrote (the
/// folder's manifest) and, when it wrote events.csv, the replication traced
/// (`trace_replication`, for the report's timeline).
pub fn summary_json(
    scenario: &Scenario,
    summary: &Summary,
    files: &[&str],
    trace: Option<u32>,
) -> Result<Vec<u8>, Error> {
    let mut value = run_identity(scenario);
    if let Some(replication) = trace {
        value.insert("trace_replication".into(), json!(replication));
    }
    value.extend(json_object(json!({
        "horizon": format_duration(scenario.horizon_ms),
        "warnings": scenario.warnings,
        "classes": summary.classes.iter().map(row_json).collect::<Vec<_>>(),
        "apps": summary.apps.iter().map(row_json).collect::<Vec<_>>(),
        "volumes": summary.volumes.iter().map(volume_json).collect::<Vec<_>>(),
        // The class rows' downtime in each replication: what the report's
        // CDF draws, without rereading replications.csv.
        "replication_downtime_min_per_year": summary
            .classes
            .iter()
            .map(|r| json!({ "strategy": r.strategy.name(), "class": r.label, "minutes": r.per_replication_min }))
            .collect::<Vec<_>>(),
        // The answer in words, rendered by the terminal and report.html.
        "verdict": summary.verdict,
        "files": files,
    })));
    json_bytes(&Value::Object(value))
}

/// What identifies a run in its manifest (`summary.json`, or a shard's):
/// the scenario as run, the version, seed, horizon, replications and
/// strategies. Shards merge only when all of it agrees.
pub fn run_identity(scenario: &Scenario) -> serde_json::Map<String, Value> {
    json_object(json!({
        "scenario": scenario.name,
        "scenario_file": scenario.source,
        "scenario_text": scenario.text,
        "version": env!("CARGO_PKG_VERSION"),
        "seed": scenario.seed,
        "horizon_ms": scenario.horizon_ms,
        "replications": scenario.replications,
        "strategies": scenario.strategies.iter().map(|s| s.name()).collect::<Vec<_>>(),
    }))
}

fn json_object(value: Value) -> serde_json::Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("json! of braces is an object"),
    }
}

/// Pretty JSON with a final newline, as every JSON file is written.
pub fn json_bytes(value: &Value) -> Result<Vec<u8>, Error> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::Internal(format!("json: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// `compare.csv`: one row per compared group and pair of runs.
pub fn compare_csv(differences: &[crate::run::compare::Difference]) -> Result<Vec<u8>, Error> {
    let header: Vec<String> = strings(&[
        "group",
        "baseline",
        "other",
        "baseline_downtime_min_per_year",
        "other_downtime_min_per_year",
        "difference_min_per_year",
        "difference_ci_low",
        "difference_ci_high",
        "significant",
    ]);
    let rows = differences.iter().map(|d| {
        vec![
            d.group.clone(),
            d.baseline.clone(),
            d.other.clone(),
            fixed(d.baseline_min_per_year, 4),
            fixed(d.other_min_per_year, 4),
            fixed(d.difference_min_per_year, 4),
            d.ci.map_or(String::new(), |c| fixed(c.0, 4)),
            d.ci.map_or(String::new(), |c| fixed(c.1, 4)),
            if d.significant { "yes" } else { "no" }.to_string(),
        ]
    });
    csv_bytes(&header, rows)
}

/// `sweep.csv`: a column per parameter, then one row per strategy and class.
pub fn sweep_csv(
    parameters: &[crate::input::sweep::Parameter],
    rows: &[crate::run::summary::SweepRow],
) -> Result<Vec<u8>, Error> {
    let mut header: Vec<String> = parameters.iter().map(|p| p.path.clone()).collect();
    header.extend(strings(&[
        "strategy",
        "class",
        "availability",
        "availability_ci_low",
        "availability_ci_high",
        "downtime_min_per_year",
    ]));
    let lines = rows.iter().flat_map(|(point, classes)| {
        classes.iter().map(move |r| {
            let mut f: Vec<String> = point.iter().map(|(_, v)| v.clone()).collect();
            f.push(r.strategy.name().to_string());
            f.push(r.label.clone());
            f.push(fixed(r.availability, 9));
            f.push(r.availability_ci.map_or(String::new(), |c| fixed(c.0, 9)));
            f.push(r.availability_ci.map_or(String::new(), |c| fixed(c.1, 9)));
            f.push(fixed(r.downtime_min_per_year, 4));
            f
        })
    });
    csv_bytes(&header, lines)
}
