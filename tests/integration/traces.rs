//! `events.csv` and docs/events.md: every kind the engine writes is
//! documented and no other; the `time` column reads back as `time_ms`; every
//! row names exactly the subjects its kind's entry says, so each domain
//! event names its domain and each volume event its volume.

use crate::common::{QUIET_DEFAULTS, repo, scenario};
use clustersim::metrics::TraceKind;
use clustersim::model::Scenario;
use clustersim::time::MS_PER_DAY;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use strum::IntoEnumIterator;

/// The subject columns of events.csv.
const SUBJECTS: [&str; 5] = ["node", "app", "pod", "domain", "volume"];

/// The kinds about a failure domain and about a volume (issue 12: each must
/// name its domain, its volume).
const DOMAIN_KINDS: [&str; 3] = ["domain-fail", "domain-fail-ignored", "domain-repair"];
const VOLUME_KINDS: [&str; 17] = [
    "brick-disconnected",
    "brick-placed",
    "data-loss",
    "detach",
    "detach-deferred",
    "failover-cancelled",
    "failover-done",
    "failover-start",
    "heal-done",
    "health-check",
    "multi-attach",
    "pod-moved",
    "split-brain",
    "stall-end",
    "volume-detached",
    "volume-down",
    "volume-up",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level arguments of the call whose `(` is at `open` in `text`
/// Every kind the engine can write: the variants of `TraceKind`, by their
/// names in `events.csv`.
fn source_kinds() -> BTreeSet<String> {
    let kinds: BTreeSet<String> = TraceKind::iter().map(|k| k.name().to_string()).collect();
    assert!(kinds.len() > 30, "only {} trace kinds", kinds.len());
    for kind in TraceKind::iter() {
        assert_eq!(kind.name().parse::<TraceKind>().ok(), Some(kind), "`{}` reads back as itself", kind.name());
    }
    // `note` is the one writer of trace records.
    let mut all = Vec::new();
    rust_files(&repo().join("src"), &mut all);
    let writers: usize = all.iter().map(|p| fs::read_to_string(p).unwrap().matches("TraceRecord {").count()).sum();
    assert_eq!(writers, 2, "TraceRecord is built only in Sim::note (and declared in metrics.rs)");
    kinds
}

/// What docs/events.md says each kind names: (always, when there is one).
type Names = (BTreeSet<String>, BTreeSet<String>);

fn documented_kinds() -> BTreeMap<String, Names> {
    let text = fs::read_to_string(repo().join("docs/events.md")).unwrap();
    let mut kinds = BTreeMap::new();
    let mut in_table = false;
    for line in text.lines() {
        if line == "| kind | names | meaning |" {
            in_table = true;
            continue;
        }
        if !line.starts_with('|') {
            in_table = false;
        }
        if !in_table || line.starts_with("| ---") {
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let kind = cells[1].strip_prefix('`').and_then(|k| k.strip_suffix('`'));
        let kind = kind.unwrap_or_else(|| panic!("docs/events.md: `{}` is not a kind in backticks", cells[1]));
        let (mut always, mut maybe) = (BTreeSet::new(), BTreeSet::new());
        if cells[2] != "—" {
            for name in cells[2].split(", ") {
                let (name, set) = match name.strip_suffix('?') {
                    Some(n) => (n, &mut maybe),
                    None => (name, &mut always),
                };
                assert!(SUBJECTS.contains(&name), "docs/events.md, `{kind}`: `{name}` is not a subject column");
                set.insert(name.to_string());
            }
        }
        assert!(kinds.insert(kind.to_string(), (always, maybe)).is_none(), "docs/events.md lists `{kind}` twice");
    }
    kinds
}

#[test]
fn every_kind_the_engine_writes_is_documented_and_no_other() {
    let source = source_kinds();
    let documented = documented_kinds();
    let missing: Vec<_> = source.iter().filter(|k| !documented.contains_key(*k)).collect();
    let unknown: Vec<_> = documented.keys().filter(|k| !source.contains(*k)).collect();
    assert!(missing.is_empty(), "kinds written but not in docs/events.md: {missing:?}");
    assert!(unknown.is_empty(), "kinds in docs/events.md that the engine never writes: {unknown:?}");
    for kind in DOMAIN_KINDS {
        assert!(documented[kind].0.contains("domain"), "`{kind}` is documented without its domain");
    }
    for kind in VOLUME_KINDS {
        assert!(documented[kind].0.contains("volume"), "`{kind}` is documented without its volume");
    }
}

/// Reads `Ny Nd hh:mm:ss.mmm` back into milliseconds, refusing any other
/// form: fixed-width clock fields, a year of 365.25 days.
fn parse_time(text: &str) -> Option<u64> {
    const YEAR_MS: u64 = 36_525 * 864_000;
    let digits = |s: &str, width: Option<usize>| -> Option<u64> {
        let ok = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && width.is_none_or(|w| s.len() == w);
        if ok { s.parse().ok() } else { None }
    };
    let (years, rest) = text.split_once("y ")?;
    let (days, clock) = rest.split_once("d ")?;
    let (hms, millis) = clock.split_once('.')?;
    let fields: Vec<&str> = hms.split(':').collect();
    let [h, m, s] = fields.as_slice() else { return None };
    let (h, m, s, ms) = (digits(h, Some(2))?, digits(m, Some(2))?, digits(s, Some(2))?, digits(millis, Some(3))?);
    if h >= 24 || m >= 60 || s >= 60 {
        return None;
    }
    let in_year = digits(days, None)? * 86_400_000 + ((h * 60 + m) * 60 + s) * 1000 + ms;
    if in_year >= YEAR_MS {
        return None;
    }
    Some(digits(years, None)? * YEAR_MS + in_year)
}

#[test]
fn the_time_parser_of_this_test_reads_the_documented_form_only() {
    assert_eq!(parse_time("0y 0d 00:00:00.000"), Some(0));
    assert_eq!(parse_time("1y 53d 04:12:31.500"), Some(31_557_600_000 + 53 * MS_PER_DAY + 15_151_500));
    assert_eq!(parse_time("0y 365d 05:59:59.999"), Some(31_557_599_999));
    for bad in ["0y 365d 06:00:00.000", "0y 0d 0:00:00.000", "0d 00:00:00.000", "12326835190ms", "8814h", ""] {
        assert_eq!(parse_time(bad), None, "{bad}");
    }
}

/// Scripted scenarios that reach what the bundled ones rarely do: domains
/// and zones, maintenance under a budget, crashes, every volume backend's
/// events, the control plane's quorum.
fn scripted_scenarios() -> Vec<(&'static str, Scenario)> {
    let pools = "pool = { layout = \"mirror\", disks = 2, disk_failure = \"never\", replace = \"24h\", \
                 restore = \"8h\", backup_interval = \"24h\" }\n";
    let lose_pool = |node: &str, at: &str| {
        format!(
            "[[events]]\nat = \"{at}\"\nfail = \"disk:{node}:1\"\n[[events]]\nat = \"{at}\"\nfail = \"disk:{node}:2\"\n"
        )
    };
    let down = |what: &str, at: &str, duration: &str| {
        format!("[[events]]\nat = \"{at}\"\nfail = \"{what}\"\nduration = \"{duration}\"\n")
    };
    let head = |strategies: &str| {
        format!("horizon = \"30d\"\nreplications = 1\nstrategies = [{strategies}]\n{QUIET_DEFAULTS}")
    };
    vec![
        (
            "domains, zones, maintenance and crashes",
            scenario(&format!(
                "{}\n[[nodes]]\nname = \"a\"\ncount = 3\nlabels = {{ zone = \"a\", rack = \"r\" }}\n\
                 [[nodes]]\nname = \"b\"\ncount = 3\nlabels = {{ zone = \"b\" }}\n\
                 [[domains]]\nname = \"zone-a\"\nkind = \"zone\"\nselector = {{ zone = \"a\" }}\nfailure = \"never\"\n\
                 [[domains]]\nname = \"zone-b\"\nkind = \"zone\"\nselector = {{ zone = \"b\" }}\nfailure = \"never\"\n\
                 [[domains]]\nname = \"rack-r\"\nkind = \"rack\"\nselector = {{ rack = \"r\" }}\nfailure = \"never\"\n\
                 [[apps]]\nname = \"web\"\nclass = \"ha\"\nreplicas = 3\ncpu = 1\nmax_unavailable = 0\n\
                 [[apps]]\nname = \"db\"\nclass = \"node-bound\"\nkind = \"statefulset\"\nnode = \"a-1\"\n\
                 [[apps]]\nname = \"cache\"\nclass = \"flexible\"\ncpu = 1\n\
                 {}{}{}{}[[events]]\nat = \"3d\"\nfail = \"app:cache\"\n[[events]]\nat = \"3d\"\nfail = \"app:cache\"\n\
                 [maintenance]\nevery = \"10d\"\nstart = \"15d\"\nduration = \"1h\"\ndrain_timeout = \"10m\"\n",
                head("\"spread\", \"binpack\""),
                down("domain:rack-r", "5d", "2d"),
                down("domain:rack-r", "6d", "1h"),
                down("node:b-1", "1d", "6h"),
                down("node:b-1", "1d1h", "1h"),
            )),
        ),
        (
            "gluster: split-brain, stalls, heals, a lost pool",
            scenario(&format!(
                "{}{pools}[[nodes]]\nname = \"n\"\ncount = 3\n\
                 [[volumes]]\nname = \"media\"\nbackend = \"gluster\"\nreplicas = 2\nbricks = [\"n-1\", \"n-2\"]\n\
                 write_rate = \"2MiB/s\"\nheal_rate = \"50MiB/s\"\n\
                 [[volumes]]\nname = \"config\"\nbackend = \"gluster\"\nbricks = [\"n-1\", \"n-2\", \"n-3\"]\n\
                 [[apps]]\nname = \"plex\"\nclass = \"flexible\"\nvolumes = [\"media\", \"config\"]\n{}{}{}",
                head("\"spread\""),
                down("node:n-1", "100h", "3h"),
                down("node:n-2", "101h", "4h"),
                lose_pool("n-3", "200h10s"),
            )),
        ),
        (
            "zfs-replicated: a promotion, a stranded pod, a cancelled promotion",
            scenario(&format!(
                "{}{pools}[[nodes]]\nname = \"n\"\ncount = 3\n\
                 [[volumes]]\nname = \"fast\"\nbackend = \"zfs-replicated\"\nnode = \"n-1\"\nreplica_node = \"n-2\"\n\
                 interval = \"1h\"\nfailover = \"5m\"\n\
                 [[volumes]]\nname = \"slow\"\nbackend = \"zfs-replicated\"\nnode = \"n-3\"\nreplica_node = \"n-2\"\n\
                 failover = \"48h\"\n\
                 [[apps]]\nname = \"db\"\nclass = \"flexible\"\nvolumes = [\"fast\"]\n\
                 [[apps]]\nname = \"wiki\"\nclass = \"flexible\"\nvolumes = [\"slow\"]\n{}{}{}",
                head("\"first-fit\""),
                down("node:n-1", "100h17m", "4h"),
                lose_pool("n-2", "300h"),
                lose_pool("n-3", "400h"),
            )),
        ),
        (
            "block volumes and the control plane's quorum",
            scenario(&format!(
                "{}[[nodes]]\nname = \"cp\"\ncount = 3\ncontrol_plane = true\ncpu = \"100m\"\nlabels = {{ rack = \"r\" }}\n\
                 [[nodes]]\nname = \"w\"\ncount = 2\n\
                 [[domains]]\nname = \"rack\"\nkind = \"rack\"\nselector = {{ rack = \"r\" }}\nfailure = \"never\"\n\
                 [[volumes]]\nname = \"data\"\nbackend = \"block\"\nforce_detach = \"6m\"\n\
                 [[apps]]\nname = \"app\"\nclass = \"flexible\"\ncpu = 1\nvolumes = [\"data\"]\n\
                 [kubernetes]\npod_force_delete_after = \"2m\"\n{}{}",
                head("\"first-fit\""),
                down("node:w-1", "100h", "4h"),
                down("domain:rack", "100h10m", "1h"),
            )),
        ),
    ]
}

/// The bundled scenarios and the scripted ones, each replication 0 under
/// every strategy, as events.csv rows (header, rows).
fn traced_rows() -> Vec<(String, Vec<String>, Vec<Vec<String>>)> {
    let mut bundled: Vec<PathBuf> =
        fs::read_dir(repo().join("scenarios")).unwrap().map(|e| e.unwrap().path()).collect();
    bundled.sort();
    let mut scenarios: Vec<(String, Scenario)> = bundled
        .iter()
        .map(|path| {
            let mut sc = clustersim::input::load(path).unwrap_or_else(|e| panic!("{e}"));
            if sc.name.contains("large") {
                // A year of it takes half a minute: its first month has
                // every kind it writes.
                sc.horizon_ms = sc.horizon_ms.min(30 * MS_PER_DAY);
            }
            (path.display().to_string(), sc)
        })
        .collect();
    scenarios.extend(scripted_scenarios().into_iter().map(|(name, sc)| (name.to_string(), sc)));
    scenarios
        .into_iter()
        .map(|(name, sc)| {
            let traces = clustersim::run::montecarlo::trace(&sc, 0);
            let bytes = clustersim::output::files::events_csv(&sc, &traces).unwrap();
            let mut reader = csv::Reader::from_reader(bytes.as_slice());
            let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
            let rows = reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
            (name, header, rows)
        })
        .collect()
}

#[test]
fn every_traced_row_reads_back_its_time_and_names_exactly_its_kinds_subjects() {
    let documented = documented_kinds();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (name, header, rows) in traced_rows() {
        let col = |c: &str| header.iter().position(|h| h == c).unwrap_or_else(|| panic!("no column {c}"));
        let (time_ms, time, kind, detail) = (col("time_ms"), col("time"), col("kind"), col("detail"));
        assert_eq!(detail, header.len() - 1, "detail is the last column");
        assert!(rows.len() > 10, "{name}: {} rows", rows.len());
        for row in &rows {
            let at: u64 = row[time_ms].parse().unwrap();
            assert_eq!(parse_time(&row[time]), Some(at), "{name}: `{}` is not {at} ms", row[time]);
            let k = &row[kind];
            let (always, maybe) = documented.get(k).unwrap_or_else(|| panic!("{name}: undocumented kind `{k}`"));
            for subject in SUBJECTS {
                let filled = !row[col(subject)].is_empty();
                assert!(!always.contains(subject) || filled, "{name}: `{k}` without its {subject}: {row:?}");
                assert!(
                    !filled || always.contains(subject) || maybe.contains(subject),
                    "{name}: `{k}` names a {subject} docs/events.md does not give it: {row:?}"
                );
            }
            let (app, pod) = (&row[col("app")], &row[col("pod")]);
            assert!(pod.is_empty() || pod.rsplit_once('-').is_some_and(|(a, _)| a == app), "{name}: {row:?}");
            seen.insert(k.clone());
        }
    }
    // The domain and volume kinds all occur, so the checks above reached them.
    let unseen: Vec<_> = DOMAIN_KINDS.iter().chain(&VOLUME_KINDS).filter(|k| !seen.contains(**k)).collect();
    assert!(unseen.is_empty(), "no traced row of {unseen:?}");
}
