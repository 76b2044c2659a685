//! The finished results of a run, read back from its output folder, so that
//! plots and the HTML report depend on the files alone (`clustersim report
//! DIR` regenerates them without rerunning).

use crate::error::{Error, InputError};
use crate::metrics::Cause;
use std::collections::BTreeMap;
use std::path::Path;

/// One row of summary.csv.
#[derive(Debug, Clone)]
pub struct ClassRow {
    pub strategy: String,
    pub class: String,
    pub availability: f64,
    pub ci: Option<(f64, f64)>,
    pub downtime_min_per_year: f64,
    pub p95: f64,
    pub p99: f64,
    pub outages_per_year: f64,
    pub planned: f64,
    /// Minutes per year by cause, in the file's column order.
    pub causes: Vec<(String, f64)>,
}

/// One row of events.csv: its kind and the subjects it names (empty when
/// it names none of that sort), never its free-text detail.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub strategy: String,
    pub time_ms: u64,
    pub kind: String,
    pub node: String,
    pub app: String,
    pub pod: String,
    pub domain: String,
    pub volume: String,
}

/// The trace of one replication (events.csv), and which replication it is.
#[derive(Debug, Clone)]
pub struct Trace {
    pub replication: u64,
    pub events: Vec<EventRow>,
}

#[derive(Debug, Clone)]
pub struct ReportData {
    pub scenario: String,
    pub scenario_file: String,
    pub scenario_text: String,
    pub seed: String,
    pub version: String,
    pub horizon: String,
    pub horizon_ms: u64,
    pub replications: usize,
    pub warnings: Vec<String>,
    pub strategies: Vec<String>,
    pub classes: Vec<ClassRow>,
    /// apps.csv as read: header and rows, for the report's table.
    pub apps_table: (Vec<String>, Vec<Vec<String>>),
    pub volumes_table: Option<(Vec<String>, Vec<Vec<String>>)>,
    /// Per (strategy, class): each replication's downtime, minutes per year
    /// (the mean over the class's apps).
    pub replication_downtime: BTreeMap<(String, String), Vec<f64>>,
    pub trace: Option<Trace>,
    /// `None` in a folder written before the verdict existed.
    pub verdict: Option<crate::run::verdict::Verdict>,
}

fn read_table(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), Error> {
    let bad = |message: String| Error::Input(InputError::new(path.display().to_string(), message));
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(format!("cannot read: {e}")))?;
    let header: Vec<String> =
        reader.headers().map_err(|e| bad(format!("bad header: {e}")))?.iter().map(String::from).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad(format!("bad row: {e}")))?;
        rows.push(record.iter().map(String::from).collect());
    }
    Ok((header, rows))
}

fn column(path: &Path, header: &[String], name: &str) -> Result<usize, Error> {
    header.iter().position(|h| h == name).ok_or_else(|| {
        Error::Input(InputError::new(
            path.display().to_string(),
            format!("no column `{name}`: not a clustersim result file"),
        ))
    })
}

fn number(path: &Path, text: &str) -> Result<f64, Error> {
    text.parse()
        .map_err(|_| Error::Input(InputError::new(path.display().to_string(), format!("`{text}` is not a number"))))
}

/// For a folder that another command than a whole `run` wrote (its
/// manifest says which): what it is, and what to run instead of a report.
fn not_a_run(manifest: &serde_json::Value) -> Option<String> {
    let owner = manifest.get("scenario").and_then(|v| v.as_str()).unwrap_or_default();
    if owner.starts_with("compare:") {
        return Some(format!(
            "this folder was written by `clustersim compare` ({owner}): compare writes its table to compare.csv and there is no report to redraw; rerun `clustersim compare` to update it"
        ));
    }
    if owner.starts_with("sweep:") {
        return Some(format!(
            "this folder was written by `clustersim sweep` ({owner}): sweep writes sweep.csv and its own plots, and there is no report to redraw; rerun `clustersim sweep` to update them"
        ));
    }
    let shard = manifest.get("shard")?;
    let (index, count) = (&shard["index"], &shard["count"]);
    Some(format!(
        "this folder holds shard {index} of {count} of a run of `{owner}` (`clustersim run --shard`), which has no summary of its own: merge the shards first, `clustersim merge SHARD_DIRS... --out DIR`, then `clustersim report DIR`"
    ))
}

impl ReportData {
    /// Reads the results in `dir` (summary.json, summary.csv, apps.csv,
    /// and events.csv and volumes.csv when present; the CDF comes from
    /// summary.json, not from the replications x apps rows of replications.csv).
    pub fn load(dir: &Path) -> Result<ReportData, Error> {
        let json_path = dir.join("summary.json");
        let text = std::fs::read_to_string(&json_path).map_err(|e| {
            Error::Input(InputError::new(json_path.display().to_string(), format!("cannot read the results: {e}")))
        })?;
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            Error::Input(InputError::new(json_path.display().to_string(), format!("not a clustersim summary: {e}")))
        })?;
        if let Some(instead) = not_a_run(&json) {
            return Err(Error::Input(InputError::new(dir.display().to_string(), instead)));
        }
        let s = |key: &str| json.get(key).map_or(String::new(), |v| v.as_str().map_or(v.to_string(), String::from));
        let horizon_ms = json.get("horizon_ms").and_then(|v| v.as_u64()).unwrap_or(0);
        if horizon_ms == 0 {
            return Err(Error::Input(InputError::new(
                json_path.display().to_string(),
                "no horizon_ms: not a clustersim summary",
            )));
        }

        let path = dir.join("summary.csv");
        let (header, rows) = read_table(&path)?;
        let col = |name: &str| column(&path, &header, name);
        let (c_strategy, c_class, c_avail) = (col("strategy")?, col("class")?, col("availability")?);
        let (c_lo, c_hi, c_down) =
            (col("availability_ci_low")?, col("availability_ci_high")?, col("downtime_min_per_year")?);
        let (c_p95, c_p99, c_outages) =
            (col("downtime_min_per_year_p95")?, col("downtime_min_per_year_p99")?, col("outages_per_year")?);
        let c_planned = col("planned_min_per_year")?;
        let cause_cols: Vec<(usize, String)> = Cause::ALL
            .iter()
            .map(|&c| Ok((col(&crate::output::files::cause_column(c, "min_per_year"))?, c.name().to_string())))
            .collect::<Result<_, Error>>()?;
        let mut classes = Vec::new();
        let mut strategies: Vec<String> = Vec::new();
        for row in &rows {
            let ci = if row[c_lo].is_empty() {
                None
            } else {
                Some((number(&path, &row[c_lo])?, number(&path, &row[c_hi])?))
            };
            if !strategies.contains(&row[c_strategy]) {
                strategies.push(row[c_strategy].clone());
            }
            let mut causes = Vec::new();
            for (i, name) in &cause_cols {
                causes.push((name.clone(), number(&path, &row[*i])?));
            }
            classes.push(ClassRow {
                strategy: row[c_strategy].clone(),
                class: row[c_class].clone(),
                availability: number(&path, &row[c_avail])?,
                ci,
                downtime_min_per_year: number(&path, &row[c_down])?,
                p95: number(&path, &row[c_p95])?,
                p99: number(&path, &row[c_p99])?,
                outages_per_year: number(&path, &row[c_outages])?,
                planned: number(&path, &row[c_planned])?,
                causes,
            });
        }

        let apps_path = dir.join("apps.csv");
        let apps_table = read_table(&apps_path)?;

        // The class rows' downtime in each replication, from summary.json
        // (replications.csv, replications x apps rows, is not reread).
        let mut replication_downtime: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
        let series = json.get("replication_downtime_min_per_year").and_then(|v| v.as_array()).ok_or_else(|| {
            Error::Input(InputError::new(
                json_path.display().to_string(),
                "no replication_downtime_min_per_year: not a summary of this clustersim version",
            ))
        })?;
        for entry in series {
            let text = |key: &str| entry.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            let minutes: Vec<f64> = entry
                .get("minutes")
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
                .unwrap_or_default();
            replication_downtime.insert((text("strategy"), text("class")), minutes);
        }

        let events_path = dir.join("events.csv");
        let trace = if events_path.exists() {
            let replication = json.get("trace_replication").and_then(|v| v.as_u64()).ok_or_else(|| {
                Error::Input(InputError::new(
                    json_path.display().to_string(),
                    "no trace_replication beside events.csv: the trace is not this run's; rerun with --trace",
                ))
            })?;
            // Read row by row, not as a table: a trace can be large.
            let bad = |message: String| Error::Input(InputError::new(events_path.display().to_string(), message));
            let mut reader = csv::Reader::from_path(&events_path).map_err(|e| bad(format!("cannot read: {e}")))?;
            let eh: Vec<String> =
                reader.headers().map_err(|e| bad(format!("bad header: {e}")))?.iter().map(String::from).collect();
            let c = |name: &str| column(&events_path, &eh, name);
            let (e_strategy, e_time, e_kind) = (c("strategy")?, c("time_ms")?, c("kind")?);
            let (e_node, e_app, e_pod, e_domain, e_volume) =
                (c("node")?, c("app")?, c("pod")?, c("domain")?, c("volume")?);
            let mut events = Vec::new();
            for record in reader.records() {
                let record = record.map_err(|e| bad(format!("bad row: {e}")))?;
                let cell = |i: usize| record.get(i).unwrap_or_default().to_string();
                let time = cell(e_time);
                let time_ms = time.parse().map_err(|_| bad(format!("`{time}` is not a time in whole milliseconds")))?;
                events.push(EventRow {
                    strategy: cell(e_strategy),
                    time_ms,
                    kind: cell(e_kind),
                    node: cell(e_node),
                    app: cell(e_app),
                    pod: cell(e_pod),
                    domain: cell(e_domain),
                    volume: cell(e_volume),
                });
            }
            Some(Trace { replication, events })
        } else {
            None
        };
        let volumes_path = dir.join("volumes.csv");
        let volumes_table = if volumes_path.exists() { Some(read_table(&volumes_path)?) } else { None };

        let verdict = match json.get("verdict") {
            None => None,
            Some(v) => Some(serde_json::from_value(v.clone()).map_err(|e| {
                Error::Input(InputError::new(json_path.display().to_string(), format!("bad verdict: {e}")))
            })?),
        };
        Ok(ReportData {
            verdict,
            scenario: s("scenario"),
            scenario_file: s("scenario_file"),
            scenario_text: s("scenario_text"),
            seed: s("seed"),
            version: s("version"),
            horizon: s("horizon"),
            horizon_ms,
            replications: json.get("replications").and_then(|v| v.as_u64()).unwrap_or(0) as usize,
            warnings: json
                .get("warnings")
                .and_then(|w| w.as_array())
                .map(|w| w.iter().filter_map(|x| x.as_str().map(String::from)).collect())
                .unwrap_or_default(),
            strategies,
            classes,
            apps_table,
            volumes_table,
            replication_downtime,
            trace,
        })
    }
}
