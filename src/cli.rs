//! The command line: flags are parsed once, turned into a validated scenario
//! with overrides applied, and handed to the runner and the output layer.

use crate::error::{Error, InputError, known_names};
use crate::input;
use crate::metrics::ReplicationOutcome;
use crate::model::limits;
use crate::model::spec::Duration;
use crate::model::{Located, Origin, Scenario, Spec};
use crate::output::{self, files, table};
use crate::placement::Strategy;
use crate::run::montecarlo;
use crate::run::summary::summarize;
use crate::time::{format_cpu, format_duration, format_size, parse_duration};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Parser, Debug)]
#[command(
    name = "clustersim",
    version,
    about = "Discrete-event failure simulator for small hyperconverged Kubernetes clusters"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the replications of a scenario and write its results.
    Run(RunArgs),
    /// Check a scenario and print what it contains, with warnings.
    Validate {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// The settings a run would override: the limits are checked on them.
        #[command(flatten)]
        overrides: Overrides,
    },
    /// Compare strategies or scenarios side by side, paired replication by
    /// replication, with the significance of each difference.
    Compare(CompareArgs),
    /// Run a scenario over a grid of parameter values ([sweep] in the file,
    /// or --set PATH=V1,V2,...) and write sweep.csv and its plot.
    Sweep(SweepArgs),
    /// Find the first value of one parameter, in the order given, that meets
    /// an availability target with 95% confidence.
    Plan(PlanArgs),
    /// Combine the folders of `run --shard I/N` into the files a single run
    /// would have written.
    Merge(MergeArgs),
    /// Redraw the plots and report.html of a results folder from its CSVs.
    Report {
        /// A folder written by `clustersim run`.
        dir: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    #[command(flatten)]
    pub overrides: Overrides,
    /// Output folder (default: output/<scenario file name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Overwrite a folder that holds results of another scenario.
    #[arg(long)]
    pub force: bool,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
    /// What to print: a table (coloured on a terminal unless NO_COLOR is
    /// set), the summary as JSON, or summary.csv.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also write events.csv: every event of one replication (default the
    /// first, 0) under each strategy.
    #[arg(long, value_name = "REPLICATION", num_args = 0..=1, default_missing_value = "0")]
    pub trace: Option<u32>,
    /// Run only shard I of N (replications r with r mod N = I), for
    /// `clustersim merge`; `--shard N` takes I from JOB_COMPLETION_INDEX.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Folders written by `clustersim run --shard`.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Output folder for the merged results.
    #[arg(long)]
    pub out: PathBuf,
    /// Overwrite a folder that holds results of another scenario.
    #[arg(long)]
    pub force: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// A swept parameter: PATH=V1,V2,... (repeatable; adds to or replaces
    /// the file's [sweep] entries).
    #[arg(long = "set")]
    pub set: Vec<String>,
    /// An availability (such as 0.999) drawn as the target line.
    #[arg(long)]
    pub target: Option<f64>,
    #[command(flatten)]
    pub overrides: Overrides,
    /// Output folder (default: output/<scenario file name>-sweep).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Overwrite a folder that holds results of something else.
    #[arg(long)]
    pub force: bool,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// The goal, such as "class=flexible availability>=0.999" or
    /// "app=plex availability>=0.9995".
    #[arg(long)]
    pub target: String,
    /// The parameter to vary (a sweep path, such as nodes.worker.count).
    #[arg(long)]
    pub vary: String,
    /// Its candidate values, in order of preference (the first that meets
    /// the target wins), comma separated.
    #[arg(long)]
    pub values: String,
    #[command(flatten)]
    pub overrides: Overrides,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
}

/// Flags that override a scenario file.
#[derive(Args, Debug, Default)]
pub struct Overrides {
    /// Number of replications (overrides the file).
    #[arg(long)]
    pub replications: Option<u32>,
    /// Seed of all randomness (overrides the file).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Simulated time per replication, such as "10y" (overrides the file).
    #[arg(long)]
    pub horizon: Option<String>,
    /// Placement strategy to run; repeat for several (overrides the file).
    #[arg(long = "strategy")]
    pub strategies: Vec<String>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// One scenario (its strategies are compared) or several (each one's
    /// first strategy is compared with the first scenario's).
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    #[command(flatten)]
    pub overrides: Overrides,
    /// Output folder (default: output/compare-<first file name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Overwrite a folder that holds results of something else.
    #[arg(long)]
    pub force: bool,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
}

/// How a command that ran to its end came out, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Exit code 0.
    Done,
    /// `plan` found no value that meets its target: exit code 1.
    TargetMissed,
}

impl Status {
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Done => 0,
            Status::TargetMissed => 1,
        }
    }
}

/// Runs the command line; `main` turns the status or the error into an
/// exit code.
pub fn main_with(cli: Cli) -> Result<Status, Error> {
    let done = |r: Result<(), Error>| r.map(|()| Status::Done);
    match cli.command {
        Command::Run(args) => done(run(args)),
        Command::Validate { scenario, overrides } => done(validate(&scenario, &overrides)),
        Command::Compare(args) => done(compare(args)),
        Command::Sweep(args) => done(sweep(args)),
        Command::Plan(args) => plan(args),
        Command::Merge(args) => {
            let mut merged = crate::shard::merge(&args.shards)?;
            let target = check_target(&args.out, &merged.scenario.name, args.force, false)?;
            let staging = stage(&target, false)?;
            let scenario = merged.scenario.clone();
            let (summary, files) = aggregate_into(staging.dir(), &scenario, &mut |sink| merged.replay(sink))?;
            let (_, written, _) = write_results(staging.dir(), &scenario, summary, files, None)?;
            commit(staging, &written, false)?;
            println!(
                "merged {} shards ({} replications) into {}",
                args.shards.len(),
                merged.scenario.replications,
                args.out.display()
            );
            Ok(Status::Done)
        }
        Command::Report { dir } => done(report(&dir)),
    }
}

/// `clustersim report DIR`: redraws the plots and report.html of a results
/// folder. The redraw is staged like a run: the folder's data files are
/// linked into the staging folder, the report drawn there, and the whole
/// switched in; the user's files are carried over as by a run.
fn report(dir: &Path) -> Result<(), Error> {
    // Read once in place, so that a folder that is not a results folder is
    // named in the error as given.
    crate::report::ReportData::load(dir)?;
    // Locked from here, so the manifest read next is not one that another
    // command is replacing.
    let report_files = crate::report::file_names();
    let target = output::Target::redraw(dir, report_files.clone())?;
    warn(target.notes(), false);
    let listed = output::staging::listed(dir)?;
    let (drawn_before, data): (Vec<String>, Vec<String>) = listed.into_iter().partition(|f| report_files.contains(f));
    let mut staging = stage(&target, false)?;
    staging.carry(&data)?;
    let mut written = crate::report::generate(staging.dir())?;
    let shown = written.clone();
    let mut before = drawn_before;
    let mut now = written.clone();
    before.sort();
    now.sort();
    if before != now {
        // The manifest lists what the folder holds: rewrite its list only
        // when the redraw changed it (the data are left as they were).
        let path = staging.dir().join(output::MANIFEST);
        let mut value: crate::results::manifest::Summary =
            crate::results::manifest::read(&path, "a clustersim summary")?;
        value.files = data.iter().chain(&written).cloned().collect();
        output::write_atomic(staging.dir(), output::MANIFEST, &crate::results::manifest::to_bytes(&value)?)?;
        written.push(output::MANIFEST.to_string());
    }
    commit(staging, &written, false)?;
    println!("wrote {} to {}", shown.join(", "), dir.display());
    Ok(())
}

fn flag_error(flag: &str, message: impl Into<String>) -> Error {
    Error::Input(InputError {
        file: "command line".into(),
        location: None,
        key: Some(flag.into()),
        message: message.into(),
    })
}

impl Overrides {
    /// Sets the flags' values in `spec`, each placed at its flag, so that
    /// the model's one validation checks them (and names the flag). What is
    /// checked here is only what a flag's text can get wrong.
    fn apply(&self, spec: &mut Spec) -> Result<(), Error> {
        if let Some(r) = self.replications {
            if r == 0 {
                return Err(flag_error(
                    "--replications",
                    "must be at least 1: a run is made of one replication or more",
                ));
            }
            spec.replications = Some(Located::flag(i64::from(r), "--replications"));
        }
        if let Some(seed) = self.seed {
            // The file's seed is a TOML integer: the same range here.
            let seed = i64::try_from(seed)
                .map_err(|_| flag_error("--seed", format!("must be at most {} (as in the file)", i64::MAX)))?;
            spec.seed = Some(Located::flag(seed, "--seed"));
        }
        if let Some(h) = &self.horizon {
            let ms = parse_duration(h).map_err(|e| flag_error("--horizon", e))?;
            spec.horizon = Some(Located::flag(Duration(ms), "--horizon"));
        }
        if !self.strategies.is_empty() {
            let mut list: Vec<Located<String>> = Vec::new();
            for name in &self.strategies {
                if Strategy::parse(name).is_none() {
                    return Err(flag_error(
                        "--strategy",
                        format!("unknown strategy `{name}`: use one of {}", Strategy::names()),
                    ));
                }
                // A flag given twice names its strategy once.
                if !list.iter().any(|s| s.get_ref() == name) {
                    list.push(Located::flag(name.clone(), "--strategy"));
                }
            }
            spec.strategies = Some(Located::flag(list, "--strategy"));
        }
        if self.threads == Some(0) {
            return Err(flag_error("--threads", "must be at least 1"));
        }
        Ok(())
    }
}

/// Validates scenario `text`, read from `file`, with the flags set: once.
fn scenario_with(file: &str, text: &str, overrides: &Overrides) -> Result<Scenario, Error> {
    let mut spec = input::read(file, text)?;
    overrides.apply(&mut spec)?;
    Ok(Scenario::new(spec, Origin { file, text })?)
}

/// Reads the scenario at `path` and validates it with the flags set.
fn load(path: &Path, overrides: &Overrides) -> Result<Scenario, Error> {
    let text = read_scenario(path)?;
    scenario_with(&path.display().to_string(), &text, overrides)
}

/// The scenario file's stem as one safe folder name (`...toml` has the stem
/// `..`, a file name may hold anything but `/`).
fn safe_stem(scenario_path: &Path) -> String {
    output::safe_component(&scenario_path.file_stem().map_or(String::new(), |s| s.to_string_lossy().into_owned()))
}

/// The default output folder: `output/<file stem>`, made safe.
fn default_out(scenario_path: &Path) -> PathBuf {
    Path::new("output").join(safe_stem(scenario_path))
}

/// Where a command's report goes: standard output, or nowhere with
/// `--quiet` (errors still reach standard error).
fn terminal(quiet: bool) -> Box<dyn Write> {
    if quiet { Box::new(std::io::sink()) } else { Box::new(std::io::stdout().lock()) }
}

/// Shows the output layer's remarks on standard error, unless `quiet`.
fn warn(notes: &[String], quiet: bool) {
    if !quiet {
        for note in notes {
            eprintln!("warning: {note}");
        }
    }
}

/// Takes the lock of the output folder `dir` and checks that it may
/// receive the results of `owner` (see `output::Target::check`): called
/// before any simulation, so a folder another command is writing is
/// refused at once.
fn check_target(dir: &Path, owner: &str, force: bool, quiet: bool) -> Result<output::Target, Error> {
    let target = output::Target::check(dir, owner, force)?;
    warn(target.notes(), quiet);
    Ok(target)
}

/// Makes the staging folder of `target`, mentioning the staging folders of
/// other runs it left alone.
pub(crate) fn stage(target: &output::Target, quiet: bool) -> Result<output::Staging, Error> {
    let staging = target.stage()?;
    warn(&staging.notes, quiet);
    Ok(staging)
}

/// Switches the staged files in (see `output::staging`).
pub(crate) fn commit(staging: output::Staging, written: &[String], quiet: bool) -> Result<(), Error> {
    warn(&staging.commit(&names(written))?, quiet);
    Ok(())
}

/// `--shard I/N`, or `--shard N` with the index from `JOB_COMPLETION_INDEX`
/// (as a Kubernetes Indexed Job sets it).
fn parse_shard(text: &str) -> Result<(u32, u32), Error> {
    let bad = |m: String| flag_error("--shard", m);
    let (index, count) = match text.split_once('/') {
        Some((i, n)) => (i.trim().to_string(), n.trim().to_string()),
        None => (
            std::env::var("JOB_COMPLETION_INDEX").map_err(|_| {
                bad(format!("`--shard {text}` needs the index: write I/N, or set JOB_COMPLETION_INDEX"))
            })?,
            text.trim().to_string(),
        ),
    };
    let index: u32 = index.parse().map_err(|_| bad(format!("`{index}` is not a shard index")))?;
    let count: u32 = count.parse().map_err(|_| bad(format!("`{count}` is not a shard count")))?;
    if count == 0 || index >= count {
        return Err(bad(format!("shard {index} of {count}: the index must be from 0 to the count minus one")));
    }
    Ok((index, count))
}

fn names(written: &[String]) -> Vec<&str> {
    written.iter().map(String::as_str).collect()
}

/// A source of replications in order: a run (`montecarlo::stream`) or the
/// shards of one (`Merged::replay`).
type Source<'a> =
    dyn FnMut(&mut dyn FnMut(u32, Vec<ReplicationOutcome>) -> Result<(), Error>) -> Result<(), Error> + 'a;

/// Writes the per-replication files into `dir` (a staging folder) row by
/// row as `source` delivers replications, and folds them into the summary
/// as they pass (streaming aggregation: no replication is kept); returns
/// the summary and the files' names.
fn aggregate_into(
    dir: &Path,
    scenario: &Scenario,
    source: &mut Source,
) -> Result<(crate::run::summary::Summary, Vec<String>), Error> {
    let (mut rows, files) = files::ReplicationRows::create(dir, scenario)?;
    let mut acc = crate::run::summary::Accumulator::new(scenario, &scenario.strategies);
    source(&mut |r, outcomes| {
        let per_strategy: Vec<&ReplicationOutcome> = outcomes.iter().collect();
        rows.write(scenario, r, &per_strategy)?;
        acc.add(&per_strategy);
        Ok(())
    })?;
    rows.finish()?;
    Ok((acc.finish(scenario), files))
}

/// Writes everything else a run produces for complete results into
/// `out_dir` (a staging folder that already holds the per-replication
/// files, `written`): the summaries, the manifest, the plots and
/// report.html; returns the summary and all the files.
pub fn write_results(
    out_dir: &Path,
    scenario: &Scenario,
    summary: crate::run::summary::Summary,
    mut written: Vec<String>,
    trace: Option<u32>,
) -> Result<(crate::run::summary::Summary, Vec<String>, Vec<u8>), Error> {
    written.extend(["summary.csv".to_string(), "apps.csv".to_string()]);
    output::write_atomic(out_dir, "summary.csv", &files::summary_csv(&summary)?)?;
    output::write_atomic(out_dir, "apps.csv", &files::apps_csv(&summary)?)?;
    if !scenario.volumes.is_empty() {
        output::write_atomic(out_dir, "volumes.csv", &files::volumes_csv(&summary)?)?;
        written.push("volumes.csv".into());
    }
    if let Some(replication) = trace {
        let traces = montecarlo::trace(scenario, replication);
        output::write_atomic(out_dir, "events.csv", &files::events_csv(scenario, &traces)?)?;
        written.push("events.csv".into());
    }
    written.push(output::MANIFEST.into());
    output::write_atomic(
        out_dir,
        output::MANIFEST,
        &files::summary_json(scenario, &summary, &names(&written), trace)?,
    )?;
    // The staging folder holds this run's files only, so the report below
    // draws this run and nothing stale. The plots and report.html are drawn from the files just written, as
    // `clustersim report` would; the manifest is then rewritten to list them.
    written.extend(crate::report::generate(out_dir)?);
    let manifest = files::summary_json(scenario, &summary, &names(&written), trace)?;
    output::write_atomic(out_dir, output::MANIFEST, &manifest)?;
    Ok((summary, written, manifest))
}

fn run(args: RunArgs) -> Result<(), Error> {
    let mut scenario = load(&args.scenario, &args.overrides)?;
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    // Limits on the final settings, counting this shard's replications only.
    limits::check_run(&scenario, shard)?;
    if let Some(r) = args.trace
        && r >= scenario.replications
    {
        return Err(flag_error(
            "--trace",
            format!("replication {r} does not exist: the run has replications 0 to {}", scenario.replications - 1),
        ));
    }
    scenario.warnings = crate::run::warnings::run_warnings(&scenario);
    let out_dir = args.out.clone().unwrap_or_else(|| default_out(&args.scenario));
    // Locked and checked now, switched in at the end: a folder another
    // command is writing is refused before any replication, and an
    // interrupted run leaves the folder as it was (and a staging folder and
    // a stale lock beside it, which the next run removes and takes over).
    let target = check_target(&out_dir, &scenario.name, args.force, args.quiet)?;
    let mut stdout = std::io::stdout().lock();
    let io_out = |source| Error::Io { path: PathBuf::from("<stdout>"), source };
    if !args.quiet && args.format == Format::Table {
        writeln!(
            stdout,
            "clustersim {} · {} · seed {} · {} replications of {} · strategies: {}",
            env!("CARGO_PKG_VERSION"),
            scenario.name,
            scenario.seed,
            scenario.replications,
            format_duration(scenario.horizon_ms),
            scenario.strategies.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
        )
        .map_err(io_out)?;
        for w in &scenario.warnings {
            writeln!(stdout, "warning: {w}").map_err(io_out)?;
        }
        stdout.flush().map_err(io_out)?;
    }
    if !args.quiet && args.format != Format::Table {
        // stdout carries the data only; the warnings go to stderr.
        for w in &scenario.warnings {
            eprintln!("warning: {w}");
        }
    }

    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::with_draw_target(Some(u64::from(scenario.replications)), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} replications, {elapsed} elapsed, about {eta} left")
                .map_err(|e| Error::Internal(e.to_string()))?,
        );
        bar
    };
    let mine: Vec<u32> =
        (0..scenario.replications).filter(|r| shard.is_none_or(|(index, count)| r % count == index)).collect();
    // Staged before the replications: their rows go to disk as they finish.
    // A run killed meanwhile leaves the output folder as it was.
    let staging = stage(&target, args.quiet)?;
    let (summary, files) = aggregate_into(staging.dir(), &scenario, &mut |sink| {
        montecarlo::stream(&scenario, &mine, args.overrides.threads, &|| bar.inc(1), sink)
    })?;
    bar.finish_and_clear();
    if let Some((index, count)) = shard {
        let written = crate::shard::write_manifest(staging.dir(), &scenario, files, index, count)?;
        commit(staging, &written, args.quiet)?;
        if !args.quiet {
            writeln!(stdout, "shard {index} of {count}: {} replications written to {}", mine.len(), out_dir.display())
                .map_err(io_out)?;
        }
        return Ok(());
    }
    let (summary, written, manifest) = write_results(staging.dir(), &scenario, summary, files, args.trace)?;
    commit(staging, &written, args.quiet)?;

    if !args.quiet && args.format == Format::Json {
        stdout.write_all(&manifest).map_err(io_out)?;
    } else if !args.quiet && args.format == Format::Csv {
        stdout.write_all(&files::summary_csv(&summary)?).map_err(io_out)?;
    } else if !args.quiet {
        writeln!(stdout, "\nVerdict").map_err(io_out)?;
        for sentence in summary.verdict.sentences() {
            writeln!(stdout, "- {sentence}").map_err(io_out)?;
        }
        write!(stdout, "\n{}", table::render(&summary, table::use_colour())).map_err(io_out)?;
        if !summary.volumes.is_empty() {
            write!(stdout, "\n{}", table::render_volumes(&summary.volumes)).map_err(io_out)?;
        }
        writeln!(stdout, "\nresults written to {}", out_dir.display()).map_err(io_out)?;
    }
    Ok(())
}

fn compare(args: CompareArgs) -> Result<(), Error> {
    let mut scenarios = Vec::new();
    for path in &args.scenarios {
        let scenario = load(path, &args.overrides)?;
        limits::check_run(&scenario, None)?;
        limits::check_held(&scenario)?;
        scenarios.push(scenario);
    }
    if scenarios.len() > 1 {
        // Each scenario contributes its first strategy.
        for sc in &mut scenarios {
            sc.strategies.truncate(1);
        }
        let reps = scenarios[0].replications;
        if let Some(other) = scenarios.iter().find(|s| s.replications != reps) {
            return Err(flag_error(
                "--replications",
                format!(
                    "`{}` has {} replications and `{}` {}: pairs need the same count, set --replications",
                    scenarios[0].name, reps, other.name, other.replications
                ),
            ));
        }
    } else if scenarios[0].strategies.len() < 2 {
        return Err(flag_error(
            "--strategy",
            "one scenario with one strategy has nothing to compare: name two strategies or two scenario files",
        ));
    }
    let label = |sc: &Scenario, strategy: Strategy| {
        if scenarios.len() > 1 { format!("{} ({})", sc.name, strategy.name()) } else { strategy.name().to_string() }
    };
    let labels: Vec<String> =
        scenarios.iter().flat_map(|sc| sc.strategies.iter().map(move |&s| label(sc, s))).collect();
    let stem = safe_stem(&args.scenarios[0]);
    let out_dir = args.out.clone().unwrap_or_else(|| Path::new("output").join(format!("compare-{stem}")));
    let identity = format!("compare: {}", labels.join(" vs "));
    // Locked and checked before the replications, as for a run.
    let target = check_target(&out_dir, &identity, args.force, args.quiet)?;
    let mut all_results = Vec::new();
    for sc in &scenarios {
        all_results.push(montecarlo::run(sc, args.overrides.threads, &|| ()).map_err(Error::Internal)?);
    }
    let mut contenders = Vec::new();
    for (sc, results) in scenarios.iter().zip(&all_results) {
        for (s, &strategy) in results.strategies.iter().enumerate() {
            let label = label(sc, strategy);
            contenders.push(crate::run::compare::Contender { label, scenario: sc, outcomes: &results.outcomes[s] });
        }
    }
    let differences = crate::run::compare::compare(&contenders);
    let staging = stage(&target, args.quiet)?;
    let csv = files::compare_csv(&differences)?;
    output::write_atomic(staging.dir(), "compare.csv", &csv)?;
    let manifest = crate::results::manifest::CompareManifest {
        scenario: identity,
        version: env!("CARGO_PKG_VERSION").to_string(),
        seeds: scenarios.iter().map(|s| s.seed).collect(),
        replications: scenarios[0].replications,
        files: vec!["compare.csv".to_string(), output::MANIFEST.to_string()],
    };
    output::write_atomic(staging.dir(), output::MANIFEST, &crate::results::manifest::to_bytes(&manifest)?)?;
    commit(staging, &["compare.csv".to_string(), output::MANIFEST.to_string()], args.quiet)?;
    let mut stdout = terminal(args.quiet);
    let io_out = |source| Error::Io { path: PathBuf::from("<stdout>"), source };
    write!(stdout, "{}", table::render_compare(&differences)).map_err(io_out)?;
    writeln!(stdout, "\nresults written to {}", out_dir.display()).map_err(io_out)?;
    Ok(())
}

/// Reads a scenario's text for sweeps, as `scenario::load` would.
fn read_scenario(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| Error::in_file(path, format!("cannot read the scenario: {e}")))
}

/// Runs one grid point and summarizes it.
fn run_point(
    file: &str,
    text: &str,
    point: &[(String, String)],
    overrides: &Overrides,
    only: Option<&[Strategy]>,
) -> Result<(Scenario, crate::run::summary::Summary), Error> {
    let variant = crate::input::sweep::variant(file, text, point)?;
    let mut sc = scenario_with(&variant.label, &variant.text, overrides)?;
    sc.source = file.to_string();
    if let Some(only) = only {
        sc.strategies.retain(|s| only.contains(s));
    }
    limits::check_run(&sc, None)?;
    limits::check_held(&sc)?;
    let results = montecarlo::run(&sc, overrides.threads, &|| ()).map_err(Error::Internal)?;
    let summary = summarize(&sc, &results);
    Ok((sc, summary))
}

fn sweep(args: SweepArgs) -> Result<(), Error> {
    let file = args.scenario.display().to_string();
    let text = read_scenario(&args.scenario)?;
    let mut parameters = crate::input::sweep::from_file(&file, &text)?;
    for set in &args.set {
        let p = crate::input::sweep::Parameter::parse(set)?;
        parameters.retain(|q| q.path != p.path);
        parameters.push(p);
    }
    if parameters.is_empty() {
        return Err(flag_error("--set", "nothing to sweep: give --set PATH=V1,V2,... or a [sweep] table"));
    }
    let points = crate::input::sweep::grid(&parameters);
    let stem = safe_stem(&args.scenario);
    let out_dir = args.out.clone().unwrap_or_else(|| Path::new("output").join(format!("{stem}-sweep")));
    let identity = format!("sweep: {file}");
    let target = check_target(&out_dir, &identity, args.force, args.quiet)?;
    let mut rows = Vec::new();
    for point in &points {
        let (_, summary) = run_point(&file, &text, point, &args.overrides, None)?;
        rows.push((point.clone(), summary.classes));
    }
    let csv = files::sweep_csv(&parameters, &rows)?;
    let staging = stage(&target, args.quiet)?;
    output::write_atomic(staging.dir(), "sweep.csv", &csv)?;
    let mut written = vec!["sweep.csv".to_string()];
    written.extend(crate::report::plots::write_sweep(staging.dir(), &identity, &rows, args.target)?);
    written.push(output::MANIFEST.to_string());
    let manifest = crate::results::manifest::SweepManifest {
        scenario: identity.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        parameters: parameters
            .iter()
            .map(|p| crate::results::manifest::SweptParameter { path: p.path.clone(), values: p.values.clone() })
            .collect(),
        files: written.clone(),
    };
    output::write_atomic(staging.dir(), output::MANIFEST, &crate::results::manifest::to_bytes(&manifest)?)?;
    commit(staging, &written, args.quiet)?;
    let mut stdout = terminal(args.quiet);
    let io_out = |source| Error::Io { path: PathBuf::from("<stdout>"), source };
    for (point, classes) in &rows {
        let label = point.iter().map(|(p, v)| format!("{p}={v}")).collect::<Vec<_>>().join(" ");
        for r in classes.iter().filter(|r| r.label != crate::results::Label::All) {
            let (lo, hi) = r.availability_ci.unwrap_or((r.availability, r.availability));
            let against = args.target.map_or(String::new(), |goal| format!("  {}", against_target(lo, hi, goal).0));
            writeln!(
                stdout,
                "{label}  {:<13} {:<11} availability {:.5}% (95% CI {:.5}% .. {:.5}%)  downtime {:.1} min/yr{against}",
                r.strategy.name(),
                r.label,
                r.availability * 100.0,
                lo * 100.0,
                hi * 100.0,
                r.downtime_min_per_year
            )
            .map_err(io_out)?;
        }
    }
    writeln!(stdout, "results written to {}", out_dir.display()).map_err(io_out)?;
    Ok(())
}

/// How sure the replications make us that the true mean availability of
/// `row` is at least `goal`: the one-sided Student-t probability.
fn confidence_above(row: &crate::run::summary::Row, goal: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    let n = row.replications as f64;
    let Some((lo, hi)) = row.availability_ci else { return if row.availability >= goal { 1.0 } else { 0.0 } };
    let Ok(t) = StudentsT::new(0.0, 1.0, n - 1.0) else { return 0.5 };
    let se = (hi - lo) / 2.0 / t.inverse_cdf(0.975);
    if se <= 0.0 {
        return if row.availability >= goal { 1.0 } else { 0.0 };
    }
    t.cdf((row.availability - goal) / se)
}

/// Where a 95% interval `lo..hi` of an availability lies against `goal`:
/// the short word, its explanation, and whether the goal is met (the whole
/// interval at or above it).
fn against_target(lo: f64, hi: f64, goal: f64) -> (&'static str, &'static str, bool) {
    if lo >= goal {
        ("meets", "meets the target (the 95% interval lies above it)", true)
    } else if hi < goal {
        ("misses", "misses the target (the whole interval is below it)", false)
    } else {
        ("not proven", "not proven either way: more replications would tell", false)
    }
}

/// What a `--target` names: a class of apps, or one app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TargetKind {
    Class,
    App,
}

impl TargetKind {
    /// The word before `=` in a target.
    fn parse(word: &str) -> Option<TargetKind> {
        match word {
            "class" => Some(TargetKind::Class),
            "app" => Some(TargetKind::App),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            TargetKind::Class => "class",
            TargetKind::App => "app",
        }
    }
}

impl std::fmt::Display for TargetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl TargetKind {
    /// The summary rows it is read from.
    fn rows(self, summary: &crate::run::summary::Summary) -> &[crate::run::summary::Row] {
        match self {
            TargetKind::Class => &summary.classes,
            TargetKind::App => &summary.apps,
        }
    }

    /// What its names are, for the list of known ones.
    fn plural(self) -> &'static str {
        match self {
            TargetKind::Class => "classes",
            TargetKind::App => "apps",
        }
    }
}

/// A target: which group, and the availability it must reach.
fn parse_target(text: &str) -> Result<(TargetKind, String, f64), Error> {
    let bad = || {
        flag_error(
            "--target",
            format!(
                "`{text}` is not a target: write \"class=flexible availability>=0.999\" or \"app=plex availability>=0.9995\""
            ),
        )
    };
    let mut group = None;
    let mut goal = None;
    for word in text.split_whitespace() {
        if let Some(v) = word.strip_prefix("availability>=") {
            goal = v.parse::<f64>().ok().filter(|g| (0.0..=1.0).contains(g));
        } else if let Some((kind, name)) = word.split_once('=')
            && let Some(kind) = TargetKind::parse(kind)
        {
            group = Some((kind, name.to_string()));
        }
    }
    let (kind, name) = group.ok_or_else(bad)?;
    Ok((kind, name, goal.ok_or_else(bad)?))
}

fn plan(args: PlanArgs) -> Result<Status, Error> {
    let (kind, name, goal) = parse_target(&args.target)?;
    let file = args.scenario.display().to_string();
    let text = read_scenario(&args.scenario)?;
    let parameter = crate::input::sweep::Parameter::parse(&format!("{}={}", args.vary, args.values))?;
    let mut stdout = terminal(args.quiet);
    let io_out = |source| Error::Io { path: PathBuf::from("<stdout>"), source };
    // Per strategy of the scenario (or of --strategy), the first value that
    // meets the target; a value is run only for the strategies still
    // without one.
    let mut answers: Vec<(Strategy, Option<String>)> = Vec::new();
    for value in &parameter.values {
        let point = vec![(parameter.path.clone(), value.clone())];
        let open: Vec<Strategy> = answers.iter().filter(|(_, a)| a.is_none()).map(|&(s, _)| s).collect();
        if !answers.is_empty() && open.is_empty() {
            break;
        }
        let (sc, summary) = run_point(&file, &text, &point, &args.overrides, (!answers.is_empty()).then_some(&open))?;
        if answers.is_empty() {
            answers = sc.strategies.iter().map(|&s| (s, None)).collect();
        }
        let rows = kind.rows(&summary);
        for &strategy in &sc.strategies {
            let row = rows.iter().find(|r| r.strategy == strategy && r.label.name() == name).ok_or_else(|| {
                let what = kind.plural();
                // One row per strategy and name: each name once, in order.
                let mut names: Vec<&str> = Vec::new();
                for label in rows.iter().filter(|r| r.label != crate::results::Label::All).map(|r| r.label.name()) {
                    if !names.contains(&label) {
                        names.push(label);
                    }
                }
                flag_error(
                    "--target",
                    format!("no {kind} named `{name}` in the scenario: {}", known_names(what, names)),
                )
            })?;
            let (lo, hi) = row.availability_ci.unwrap_or((row.availability, row.availability));
            let (_, explained, met) = against_target(lo, hi, goal);
            writeln!(
                stdout,
                "{}={value} {:<13} {kind} {name} availability {:.5}% (95% CI {:.5}% .. {:.5}%), {:.1}% sure it reaches the target: {}",
                parameter.path,
                strategy.name(),
                row.availability * 100.0,
                lo * 100.0,
                hi * 100.0,
                confidence_above(row, goal) * 100.0,
                explained
            )
            .map_err(io_out)?;
            if met && let Some(answer) = answers.iter_mut().find(|(s, _)| *s == strategy) {
                answer.1 = Some(value.clone());
            }
        }
    }
    let position = |v: &str| parameter.values.iter().position(|x| x == v).unwrap_or(usize::MAX);
    let best = answers.iter().filter_map(|(_, a)| a.as_deref()).min_by_key(|v| position(v));
    for (strategy, answer) in &answers {
        match answer {
            Some(v) => writeln!(stdout, "answer for {}: {}={v}", strategy.name(), parameter.path),
            None => writeln!(
                stdout,
                "answer for {}: no value of {} meets availability >= {goal} for {kind} {name} with confidence (tried {})",
                strategy.name(),
                parameter.path,
                parameter.values.join(", ")
            ),
        }
        .map_err(io_out)?;
    }
    let Some(best) = best else {
        writeln!(stdout, "no value meets availability >= {goal} for {kind} {name} under any strategy")
            .map_err(io_out)?;
        return Ok(Status::TargetMissed);
    };
    if answers.len() > 1 {
        let least: Vec<&str> =
            answers.iter().filter(|(_, a)| a.as_deref() == Some(best)).map(|(s, _)| s.name()).collect();
        writeln!(
            stdout,
            "needs least: {} ({}={best}, the earliest value in the order given)",
            least.join(" and "),
            parameter.path
        )
        .map_err(io_out)?;
    }
    Ok(Status::Done)
}

fn validate(path: &Path, overrides: &Overrides) -> Result<(), Error> {
    // The limits are checked on the settings a run would have.
    let scenario = load(path, overrides)?;
    limits::check_run(&scenario, None)?;
    let mut out = String::new();
    let s = &scenario;
    let d = format_duration;
    out += &format!("scenario `{}` ({}) is valid\n", s.name, s.source);
    out += &format!(
        "horizon {}, {} replications, seed {}, strategies: {}\n",
        d(s.horizon_ms),
        s.replications,
        s.seed,
        s.strategies.iter().map(|x| x.name()).collect::<Vec<_>>().join(", ")
    );
    let k = &s.kube;
    out += &format!(
        "kubernetes {} defaults{} (override any in [kubernetes]); in force:\n",
        k.version(),
        if k.version_stated {
            ""
        } else {
            ", the newest release clustersim knows: set kubernetes.version to your cluster's"
        }
    );
    out += &format!(
        "  node lifecycle: grace period {}, monitor period {}, lease renewal {}, eviction toleration {}, eviction rate {}/s (secondary {}/s), unhealthy zone threshold {}, large cluster size {}\n",
        d(k.node_monitor_grace_period_ms),
        d(k.node_monitor_period_ms),
        d(k.lease_renew_interval_ms),
        d(k.eviction_toleration_ms),
        k.eviction_rate_per_s,
        k.secondary_eviction_rate_per_s,
        k.unhealthy_zone_threshold,
        k.large_cluster_size_threshold,
    );
    out += &format!(
        "  pod objects on dead nodes: out-of-service taint {}, force delete {}, Node deletion {}, PodGC every {}\n",
        k.out_of_service_after.describe(),
        k.pod_force_delete_after.describe(),
        k.node_delete_after.describe(),
        d(k.pod_gc_check_period_ms)
    );
    out += &format!(
        "  containers: liveness every {} x {} failures, back-off {} doubling to {}, reset after {}\n",
        d(k.liveness_period_ms),
        k.liveness_failure_threshold,
        d(k.backoff_initial_ms),
        d(k.backoff_max_ms),
        d(k.backoff_reset_ms)
    );
    out += &format!("{} nodes:\n", s.nodes.len());
    for n in &s.nodes {
        let mut extra = String::new();
        if let Some(p) = &n.pool {
            extra += &format!(
                ", pool {} of {} disks (disk failure {}, replace {}, resilver {}, restore {}, backups every {})",
                p.layout.name(),
                p.disks,
                p.disk_failure.describe(),
                d(p.replace_ms),
                d(p.resilver_ms),
                d(p.restore_ms),
                d(p.backup_interval_ms)
            );
        }
        if !n.labels.is_empty() {
            let labels: Vec<String> = n.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            extra += &format!(", labels {{{}}}", labels.join(", "));
        }
        if !n.domains.is_empty() {
            let domains: Vec<&str> = n.domains.iter().map(|&x| s.domains[x].name.as_str()).collect();
            extra += &format!(", in [{}]", domains.join(", "));
        }
        if n.control_plane {
            extra += ", control plane";
        }
        out += &format!(
            "  {}: cpu {}, memory {}, devices [{}], failure {}, repair {}{extra}\n",
            n.name,
            format_cpu(n.cpu_m),
            format_size(n.memory_bytes),
            n.devices.join(", "),
            n.failure.describe(),
            n.repair.describe()
        );
    }
    out += &format!("{} apps:\n", s.apps.len());
    for a in &s.apps {
        let eligible = a.eligible_nodes(&s.nodes, &s.volumes).len();
        let kind = match a.kind {
            crate::model::Workload::Deployment => "deployment",
            crate::model::Workload::StatefulSet => "statefulset",
        };
        let mut extra = String::new();
        if let Some(n) = a.node {
            extra += &format!(", pinned to {}", s.nodes[n].name);
        }
        if !a.requires.is_empty() {
            extra += &format!(", requires [{}]", a.requires.join(", "));
        }
        if !a.volumes.is_empty() {
            let v: Vec<&str> = a.volumes.iter().map(|&v| s.volumes[v].name.as_str()).collect();
            extra += &format!(", volumes [{}]", v.join(", "));
        }
        if !a.depends_on.is_empty() {
            let v: Vec<&str> = a.depends_on.iter().map(|&x| s.apps[x].name.as_str()).collect();
            extra += &format!(", depends on [{}]", v.join(", "));
        }
        if let Some((kind, mode)) = a.spread {
            let mode = match mode {
                crate::model::SpreadMode::Required => "required",
                crate::model::SpreadMode::Preferred => "preferred",
            };
            extra += &format!(", spread over {} ({mode})", s.domain_kinds[kind]);
        }
        if a.crash != crate::dist::Dist::Never || a.hang != crate::dist::Dist::Never {
            extra += &format!(", crashes {}, hangs {}", a.crash.describe(), a.hang.describe());
        }
        if let Some(m) = a.max_unavailable {
            extra += &format!(", budget maxUnavailable {m}");
        }
        out += &format!(
            "  {}: {}, {kind}, {} replica(s), min available {}, cpu {}, memory {}, startup {}, anti-affinity {}{extra}, runs on {} of {} nodes\n",
            a.name,
            a.class.name(),
            a.replicas,
            a.min_available,
            format_cpu(a.cpu_m),
            format_size(a.memory_bytes),
            a.startup.describe(),
            a.anti_affinity.name(),
            eligible,
            s.nodes.len()
        );
    }
    if !s.events.is_empty() {
        out += &format!("{} scripted events:\n", s.events.len());
        for e in &s.events {
            let how_long = match (e.target, e.duration_ms) {
                (crate::model::Target::Disk(..), _) => "until replaced and resilvered".to_string(),
                (crate::model::Target::App(_), _) => "(its first Ready pod crashes once)".to_string(),
                (_, Some(ms)) => format!("for {}", d(ms)),
                (_, None) => "for a repair time drawn from its distribution".to_string(),
            };
            out += &format!("  at {}: {} fails {how_long}\n", d(e.at_ms), e.target.describe(s));
        }
    }
    if !s.domains.is_empty() {
        out += &format!("{} failure domains:\n", s.domains.len());
        for dom in &s.domains {
            let members: Vec<&str> = dom.nodes.iter().map(|&n| s.nodes[n].name.as_str()).collect();
            out += &format!(
                "  {} ({}): [{}], failure {}, repair {}\n",
                dom.name,
                dom.kind,
                members.join(", "),
                dom.failure.describe(),
                dom.repair.describe()
            );
        }
    }
    if !s.volumes.is_empty() {
        out += &format!("{} volumes:\n", s.volumes.len());
        for v in &s.volumes {
            use crate::model::{Backend, GlusterQuorum};
            let node = |n: usize| s.nodes[n].name.as_str();
            let what = match &v.backend {
                Backend::ZfsLocal { node: Some(n) } => format!("on {}", node(*n)),
                Backend::ZfsLocal { node: None } => "bound where its first pod is placed".to_string(),
                Backend::ZfsReplicated { node: n, replica, interval_ms, failover_ms } => format!(
                    "on {}, snapshots to {} every {}, failover {}",
                    node(*n),
                    node(*replica),
                    d(*interval_ms),
                    d(*failover_ms)
                ),
                Backend::Gluster {
                    replicas,
                    arbiter,
                    bricks,
                    heal_rate_bytes_per_s,
                    write_rate_bytes_per_s,
                    size_bytes,
                    ping_timeout_ms,
                    quorum,
                    health_check_interval_ms,
                } => format!(
                    "replica {replicas}{}, bricks {}, size {}, heal {}/s, writes {}/s, ping timeout {}, client quorum {}, health check every {}",
                    if *arbiter { " with an arbiter" } else { "" },
                    bricks.as_ref().map_or("placed by the strategy".to_string(), |b| format!(
                        "[{}]",
                        b.iter().map(|&n| node(n)).collect::<Vec<_>>().join(", ")
                    )),
                    format_size(*size_bytes),
                    format_size(*heal_rate_bytes_per_s as u64),
                    format_size(*write_rate_bytes_per_s as u64),
                    d(*ping_timeout_ms),
                    match quorum {
                        GlusterQuorum::Auto => "auto".to_string(),
                        GlusterQuorum::None => "none".to_string(),
                        GlusterQuorum::Fixed(n) => format!("fixed {n}"),
                    },
                    if *health_check_interval_ms == 0 {
                        "never (off)".to_string()
                    } else {
                        d(*health_check_interval_ms)
                    }
                ),
                Backend::Block { force_detach_ms } => format!(
                    "ReadWriteOnce, force detach {}",
                    force_detach_ms.map_or("never".to_string(), |ms| format!("{} after the old pod's deletion", d(ms)))
                ),
            };
            out += &format!("  {}: {}, {what}\n", v.name, v.backend.name());
        }
    }
    let control_plane: Vec<&str> = s.nodes.iter().filter(|n| n.control_plane).map(|n| n.name.as_str()).collect();
    out += &match control_plane.len() {
        0 => "control plane: outside the simulated nodes (never fails)\n".to_string(),
        1 => format!("control plane: a single server on {} (k3s with SQLite, or one etcd member)\n", control_plane[0]),
        n => format!("control plane: {n} etcd members on [{}], quorum {}\n", control_plane.join(", "), n / 2 + 1),
    };
    if let Some(m) = &s.maintenance {
        out += &format!(
            "maintenance: every {} from {}, {} per node, drain timeout {}\n",
            format_duration(m.every_ms),
            format_duration(m.start_ms),
            format_duration(m.node_duration_ms),
            format_duration(m.drain_timeout_ms)
        );
    }
    if !s.replayed.is_empty() {
        out += &format!("{} failures replayed from traces\n", s.replayed.len());
    }
    let warnings = crate::run::warnings::run_warnings(s);
    for w in &warnings {
        out += &format!("warning: {w}\n");
    }
    if warnings.is_empty() {
        out += "no warnings\n";
    }
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .map_err(|source| Error::Io { path: PathBuf::from("<stdout>"), source })
}
