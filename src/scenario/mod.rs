//! From a scenario file to a validated [`Scenario`].
//!
//! 1. The TOML text is deserialized into the raw types of [`raw`], which
//!    mirror the file and refuse unknown keys; quantities with units are
//!    parsed there, so their errors carry the TOML layer's line and column.
//! 2. [`validate`] resolves references and checks what spans the file (two
//!    nodes with one name, an app no node can run, more replicas than nodes
//!    under required anti-affinity), pointing at the offending key.
//! 3. What is legal but probably not meant becomes a warning in the model.

pub mod raw;

use crate::dist::Dist;
use crate::error::InputError;
use crate::model::{AntiAffinity, App, Class, Kubernetes, Node, Scenario, ScriptedEvent, Target};
use crate::placement::Strategy;
use crate::time::{MS_PER_YEAR, Millis, format_cpu, format_size};
use raw::{RawApp, RawNode, RawScenario};
use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// Default start-up time of a pod: the upper bound of the sig-scalability
/// pod start-up SLO (p99 within 5 s, image pull excluded).
pub const DEFAULT_STARTUP_MS: Millis = 5_000;
/// Defaults when the file does not say (documented in docs/scenario.md).
pub const DEFAULT_HORIZON_MS: Millis = 10 * MS_PER_YEAR;
pub const DEFAULT_REPLICATIONS: u32 = 1000;
pub const DEFAULT_SEED: u64 = 1;
/// Limits that keep a run within a machine (issue: limits instead of exhaustion).
pub const MAX_NODES: usize = 100_000;
pub const MAX_PODS: usize = 1_000_000;
pub const MAX_REPLICATIONS: u32 = 10_000_000;

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, InputError> {
    let file = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| InputError::new(&file, format!("cannot read the scenario: {e}")))?;
    parse(&file, &text)
}

/// Parses and validates scenario text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Scenario, InputError> {
    let raw: RawScenario = toml::from_str(text).map_err(|e| toml_error(file, text, &e))?;
    Validator { file, text, warnings: Vec::new() }.scenario(raw)
}

/// Turns a TOML or serde error into an [`InputError`] at its place.
fn toml_error(file: &str, text: &str, e: &toml::de::Error) -> InputError {
    let message = e.message().trim().to_string();
    match e.span() {
        Some(span) => {
            let key = key_before(text, span.start)
                .or_else(|| key_of_line(text, span.start).filter(|key| !message.contains(&format!("`{key}`"))));
            InputError::at(file, text, span.start, key, message)
        }
        None => InputError::new(file, message),
    }
}

/// The key of the `key = value` whose value starts at `offset`, if the text
/// there has that shape (for errors the TOML layer reports at a value).
fn key_before(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?.trim_end();
    let before = before.strip_suffix('=')?.trim_end();
    let start =
        before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')).map_or(0, |i| i + 1);
    let key = &before[start..];
    (!key.is_empty()).then(|| key.to_string())
}

/// The key that starts the line holding `offset`, for syntax errors the TOML
/// layer reports inside a `key = value` line (an unclosed string, a missing
/// `=`, a duplicate key) without naming the key.
fn key_of_line(text: &str, offset: usize) -> Option<String> {
    let start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next().unwrap_or("").trim_start();
    let end =
        line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')).unwrap_or(line.len());
    (end > 0).then(|| line[..end].to_string())
}

struct Validator<'a> {
    file: &'a str,
    text: &'a str,
    warnings: Vec<String>,
}

/// A node after `count` expansion, with the span of the entry it came from.
struct Expanded<'r> {
    raw: &'r RawNode,
    name: String,
}

impl Validator<'_> {
    fn err(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> InputError {
        InputError::at(self.file, self.text, span.start, Some(key.to_string()), message)
    }

    fn scenario(mut self, raw: RawScenario) -> Result<Scenario, InputError> {
        let name = match &raw.name {
            Some(name) if name.get_ref().trim().is_empty() => {
                return Err(self.err(name.span(), "name", "the scenario name is empty"));
            }
            Some(name) => name.get_ref().clone(),
            None => Path::new(self.file).file_stem().map_or("scenario".into(), |s| s.to_string_lossy().into_owned()),
        };
        let horizon_ms = match &raw.horizon {
            Some(h) if h.get_ref().0 == 0 => {
                return Err(self.err(h.span(), "horizon", "the horizon must be longer than zero"));
            }
            Some(h) => h.get_ref().0,
            None => DEFAULT_HORIZON_MS,
        };
        let replications = match &raw.replications {
            Some(r) => self.count(r, "replications", 1, i64::from(MAX_REPLICATIONS))? as u32,
            None => DEFAULT_REPLICATIONS,
        };
        let seed = match &raw.seed {
            Some(s) if *s.get_ref() < 0 => return Err(self.err(s.span(), "seed", "the seed must be zero or more")),
            Some(s) => *s.get_ref() as u64,
            None => DEFAULT_SEED,
        };
        let strategies = match &raw.strategies {
            Some(list) => self.strategies(list)?,
            None => vec![Strategy::Spread],
        };
        let kube = self.kubernetes(&raw)?;
        let nodes = self.nodes(&raw)?;
        let apps = self.apps(&raw.apps, &nodes)?;
        let events = self.events(&raw, &nodes)?;
        Ok(Scenario {
            name,
            source: self.file.to_string(),
            horizon_ms,
            replications,
            seed,
            strategies,
            kube,
            nodes,
            apps,
            events,
            warnings: self.warnings,
        })
    }

    /// An integer key that must lie in `min..=max`.
    fn count(&self, value: &Spanned<i64>, key: &str, min: i64, max: i64) -> Result<i64, InputError> {
        let v = *value.get_ref();
        if v < min || v > max {
            let what = if v < min { format!("at least {min}") } else { format!("at most {max}") };
            return Err(self.err(value.span(), key, format!("{v} is out of range: `{key}` must be {what}")));
        }
        Ok(v)
    }

    fn strategies(&self, list: &Spanned<Vec<Spanned<String>>>) -> Result<Vec<Strategy>, InputError> {
        if list.get_ref().is_empty() {
            return Err(self.err(list.span(), "strategies", format!("name at least one of: {}", Strategy::names())));
        }
        let mut out = Vec::new();
        for name in list.get_ref() {
            let strategy = Strategy::parse(name.get_ref()).ok_or_else(|| {
                self.err(
                    name.span(),
                    "strategies",
                    format!("unknown strategy `{}`: use one of {}", name.get_ref(), Strategy::names()),
                )
            })?;
            if out.contains(&strategy) {
                return Err(self.err(
                    name.span(),
                    "strategies",
                    format!("strategy `{}` is listed twice", name.get_ref()),
                ));
            }
            out.push(strategy);
        }
        Ok(out)
    }

    fn kubernetes(&mut self, raw: &RawScenario) -> Result<Kubernetes, InputError> {
        let k = &raw.kubernetes;
        let mut kube = Kubernetes::default();
        if let Some(d) = k.node_monitor_grace_period {
            kube.node_monitor_grace_period_ms = d.0;
        }
        if let Some(d) = &k.lease_renew_interval {
            if d.get_ref().0 == 0 {
                return Err(self.err(
                    d.span(),
                    "kubernetes.lease_renew_interval",
                    "the lease renewal interval must be longer than zero",
                ));
            }
            kube.lease_renew_interval_ms = d.get_ref().0;
        }
        if let Some(d) = k.eviction_toleration {
            kube.eviction_toleration_ms = d.0;
        }
        let rate = |v: &Option<Spanned<f64>>, key: &str, max: f64| -> Result<Option<f64>, InputError> {
            match v {
                Some(r) if !(r.get_ref().is_finite() && (0.0..=max).contains(r.get_ref())) => Err(self.err(
                    r.span(),
                    key,
                    format!("{} is out of range: `{key}` must be between 0 and {max}", r.get_ref()),
                )),
                Some(r) => Ok(Some(*r.get_ref())),
                None => Ok(None),
            }
        };
        if let Some(r) = rate(&k.eviction_rate, "kubernetes.eviction_rate", 1000.0)? {
            kube.eviction_rate_per_s = r;
        }
        if let Some(r) = rate(&k.secondary_eviction_rate, "kubernetes.secondary_eviction_rate", 1000.0)? {
            kube.secondary_eviction_rate_per_s = r;
        }
        if let Some(r) = rate(&k.unhealthy_zone_threshold, "kubernetes.unhealthy_zone_threshold", 1.0)? {
            kube.unhealthy_zone_threshold = r;
        }
        if let Some(n) = &k.large_cluster_size_threshold {
            kube.large_cluster_size_threshold =
                self.count(n, "kubernetes.large_cluster_size_threshold", 0, 1_000_000)? as u32;
        }
        if kube.eviction_rate_per_s == 0.0 {
            self.warnings.push("kubernetes.eviction_rate is 0: no pod is ever evicted from a failed node".into());
        }
        if kube.lease_renew_interval_ms > kube.node_monitor_grace_period_ms {
            self.warnings.push("kubernetes.lease_renew_interval is longer than node_monitor_grace_period: a crashed node could be marked NotReady before the crash, which no real cluster does".into());
        }
        Ok(kube)
    }

    fn nodes(&mut self, raw: &RawScenario) -> Result<Vec<Node>, InputError> {
        if raw.nodes.is_empty() {
            return Err(InputError::new(self.file, "the scenario has no [[nodes]]: declare at least one node"));
        }
        let mut expanded: Vec<Expanded> = Vec::new();
        let mut seen = HashSet::new();
        for node in &raw.nodes {
            let base = node.name.get_ref();
            if base.trim().is_empty() {
                return Err(self.err(node.name.span(), "nodes.name", "the node name is empty"));
            }
            let names: Vec<String> = match &node.count {
                None => vec![base.clone()],
                Some(c) => {
                    let count = self.count(c, "nodes.count", 1, MAX_NODES as i64)?;
                    (1..=count).map(|i| format!("{base}-{i}")).collect()
                }
            };
            for name in names {
                if !seen.insert(name.clone()) {
                    return Err(self.err(
                        node.name.span(),
                        "nodes.name",
                        format!("two nodes are named `{name}`: node names must be unique"),
                    ));
                }
                expanded.push(Expanded { raw: node, name });
            }
            if expanded.len() > MAX_NODES {
                return Err(self.err(
                    node.name.span(),
                    "nodes.count",
                    format!("more than {MAX_NODES} nodes in all: the limit is {MAX_NODES}"),
                ));
            }
        }
        let defaults = &raw.node_defaults;
        let mut nodes = Vec::with_capacity(expanded.len());
        for Expanded { raw: node, name } in expanded {
            let missing = |key: &str| {
                self.err(
                    node.name.span(),
                    &format!("nodes.{key}"),
                    format!("node `{name}` has no `{key}`: set it on the node or in [node_defaults]"),
                )
            };
            let cpu = node.cpu.as_ref().or(defaults.cpu.as_ref()).ok_or_else(|| missing("cpu"))?;
            if cpu.get_ref().0 == 0 {
                return Err(self.err(
                    cpu.span(),
                    "cpu",
                    format!("node `{name}` has no CPU: `cpu` must be more than zero"),
                ));
            }
            let memory = node.memory.as_ref().or(defaults.memory.as_ref()).ok_or_else(|| missing("memory"))?;
            if memory.get_ref().0 == 0 {
                return Err(self.err(
                    memory.span(),
                    "memory",
                    format!("node `{name}` has no memory: `memory` must be more than zero"),
                ));
            }
            let failure = node.failure.as_ref().or(defaults.failure.as_ref()).ok_or_else(|| missing("failure"))?;
            if failure.get_ref().mean_ms() == Some(0.0) {
                return Err(self.err(
                    failure.span(),
                    "failure",
                    format!("node `{name}` would fail continuously: the time to failure must have a mean above zero"),
                ));
            }
            let repair = node.repair.as_ref().or(defaults.repair.as_ref()).ok_or_else(|| missing("repair"))?;
            let devices = match &node.devices {
                Some(list) => list.iter().map(|d| d.get_ref().clone()).collect(),
                None => defaults.devices.clone().unwrap_or_default(),
            };
            nodes.push(Node {
                name,
                cpu_m: cpu.get_ref().0,
                memory_bytes: memory.get_ref().0,
                devices,
                failure: failure.get_ref().clone(),
                repair: repair.get_ref().clone(),
                zone: 0,
            });
        }
        Ok(nodes)
    }

    fn apps(&mut self, raw: &[RawApp], nodes: &[Node]) -> Result<Vec<App>, InputError> {
        if raw.is_empty() {
            return Err(InputError::new(self.file, "the scenario has no [[apps]]: declare at least one app"));
        }
        let mut seen = HashSet::new();
        let mut apps = Vec::with_capacity(raw.len());
        let mut pods = 0usize;
        for app in raw {
            let base = app.name.get_ref();
            if base.trim().is_empty() {
                return Err(self.err(app.name.span(), "apps.name", "the app name is empty"));
            }
            let names: Vec<String> = match &app.count {
                None => vec![base.clone()],
                Some(c) => {
                    let count = self.count(c, "apps.count", 1, MAX_PODS as i64)?;
                    (1..=count).map(|i| format!("{base}-{i}")).collect()
                }
            };
            let built = self.app(app, base, nodes)?;
            for name in names {
                if !seen.insert(name.clone()) {
                    return Err(self.err(
                        app.name.span(),
                        "apps.name",
                        format!("two apps are named `{name}`: app names must be unique"),
                    ));
                }
                pods += built.replicas as usize;
                if pods > MAX_PODS {
                    return Err(self.err(
                        app.name.span(),
                        "apps.replicas",
                        format!("more than {MAX_PODS} pods in all: the limit is {MAX_PODS}"),
                    ));
                }
                apps.push(App { name, ..built.clone() });
            }
        }
        Ok(apps)
    }

    fn app(&mut self, app: &RawApp, name: &str, nodes: &[Node]) -> Result<App, InputError> {
        let class = Class::parse(app.class.get_ref()).ok_or_else(|| {
            self.err(
                app.class.span(),
                "apps.class",
                format!("unknown class `{}` for app `{name}`: use flexible, node-bound or ha", app.class.get_ref()),
            )
        })?;
        let replicas = match (&app.replicas, class) {
            (Some(r), Class::Ha) => self.count(r, "apps.replicas", 1, MAX_PODS as i64)? as u32,
            (None, Class::Ha) => {
                return Err(self.err(
                    app.class.span(),
                    "apps.replicas",
                    format!("ha app `{name}` needs `replicas`, the number of pods that run at once"),
                ));
            }
            (Some(r), _) if *r.get_ref() != 1 => {
                return Err(self.err(
                    r.span(),
                    "apps.replicas",
                    format!(
                        "{} app `{name}` runs one pod: `replicas` must be 1 (use class = \"ha\" for several)",
                        class.name()
                    ),
                ));
            }
            _ => 1,
        };
        let min_available = match &app.min_available {
            Some(m) if *m.get_ref() < 1 || *m.get_ref() > i64::from(replicas) => {
                return Err(self.err(
                    m.span(),
                    "apps.min_available",
                    format!("app `{name}` has {replicas} replicas: `min_available` must be between 1 and {replicas}, not {}", m.get_ref()),
                ));
            }
            Some(m) => *m.get_ref() as u32,
            None => 1,
        };
        let anti_affinity = match &app.anti_affinity {
            Some(a) => AntiAffinity::ALL.into_iter().find(|x| x.name() == a.get_ref()).ok_or_else(|| {
                self.err(
                    a.span(),
                    "apps.anti_affinity",
                    format!("unknown anti-affinity `{}`: use required, preferred or none", a.get_ref()),
                )
            })?,
            None => AntiAffinity::Preferred,
        };
        let node = match &app.node {
            Some(pin) => Some(nodes.iter().position(|n| &n.name == pin.get_ref()).ok_or_else(|| {
                self.err(
                    pin.span(),
                    "apps.node",
                    format!("app `{name}` is pinned to node `{}`, which the scenario does not declare", pin.get_ref()),
                )
            })?),
            None => None,
        };
        let mut requires = Vec::new();
        for device in app.requires.iter().flatten() {
            if !nodes.iter().any(|n| n.devices.contains(device.get_ref())) {
                return Err(self.err(
                    device.span(),
                    "apps.requires",
                    format!("app `{name}` requires device `{}`, which no node has", device.get_ref()),
                ));
            }
            requires.push(device.get_ref().clone());
        }
        let startup = match &app.startup {
            Some(s) if *s.get_ref() == Dist::Never => {
                return Err(self.err(
                    s.span(),
                    "apps.startup",
                    format!("app `{name}` would never start: `startup` cannot be never"),
                ));
            }
            Some(s) => s.get_ref().clone(),
            None => Dist::Fixed(DEFAULT_STARTUP_MS),
        };
        let built = App {
            name: name.to_string(),
            class,
            cpu_m: app.cpu.as_ref().map_or(0, |c| c.get_ref().0),
            memory_bytes: app.memory.as_ref().map_or(0, |m| m.get_ref().0),
            startup,
            replicas,
            min_available,
            anti_affinity,
            node,
            requires,
        };
        let eligible = nodes.iter().enumerate().filter(|(i, n)| built.fits_statically(*i, n)).count();
        if eligible == 0 {
            let largest_cpu = nodes.iter().map(|n| n.cpu_m).max().unwrap_or(0);
            let largest_memory = nodes.iter().map(|n| n.memory_bytes).max().unwrap_or(0);
            let (span, key, why) = match (&app.cpu, &app.memory) {
                (Some(c), _) if c.get_ref().0 > largest_cpu => (
                    c.span(),
                    "apps.cpu",
                    format!(
                        "it requests {} CPU and the largest node has {}: lower `cpu` or declare a larger node",
                        format_cpu(c.get_ref().0),
                        format_cpu(largest_cpu)
                    ),
                ),
                (_, Some(m)) if m.get_ref().0 > largest_memory => (
                    m.span(),
                    "apps.memory",
                    format!(
                        "it requests {} of memory and the largest node has {}: lower `memory` or declare a larger node",
                        format_size(m.get_ref().0),
                        format_size(largest_memory)
                    ),
                ),
                _ => (app.name.span(), "apps.node", "no node has its pin, devices and room together".to_string()),
            };
            return Err(self.err(span, key, format!("no node can run app `{name}`: {why}")));
        }
        if class == Class::Ha && anti_affinity == AntiAffinity::Required && (replicas as usize) > eligible {
            let span = app.replicas.as_ref().map_or(app.name.span(), |r| r.span());
            return Err(self.err(span, "apps.replicas", format!(
                "ha app `{name}` wants {replicas} replicas under required anti-affinity but only {eligible} nodes can run it"
            )));
        }
        match class {
            Class::NodeBound if built.node.is_none() && built.requires.is_empty() => {
                return Err(self.err(app.class.span(), "apps.class", format!(
                    "node-bound app `{name}` is bound to nothing: give it `node = \"...\"` or `requires = [\"device\"]`"
                )));
            }
            Class::NodeBound if eligible > 1 => self.warnings.push(format!(
                "node-bound app `{name}` can run on {eligible} nodes (its devices are on several): it can move like a flexible app"
            )),
            Class::Flexible if eligible == 1 => self.warnings.push(format!(
                "flexible app `{name}` can run on one node only (pin, devices or size): it behaves as node-bound"
            )),
            Class::Ha if anti_affinity == AntiAffinity::None => self.warnings.push(format!(
                "ha app `{name}` has no anti-affinity: several replicas may share a node and fail together"
            )),
            Class::Ha if replicas == 1 => self.warnings.push(format!("ha app `{name}` has a single replica: it is no more available than a flexible app")),
            _ => {}
        }
        Ok(built)
    }

    fn events(&mut self, raw: &RawScenario, nodes: &[Node]) -> Result<Vec<ScriptedEvent>, InputError> {
        let mut events = Vec::new();
        for event in &raw.events {
            let fail = event.fail.get_ref();
            let target = match fail.split_once(':') {
                Some(("node", name)) => {
                    Target::Node(nodes.iter().position(|n| n.name == name).ok_or_else(|| {
                        self.err(event.fail.span(), "events.fail", format!("no node is named `{name}`"))
                    })?)
                }
                _ => {
                    return Err(self.err(
                        event.fail.span(),
                        "events.fail",
                        format!("`{fail}` is not a failure target: write \"node:NAME\""),
                    ));
                }
            };
            let at_ms = event.at.get_ref().0;
            let duration_ms = event.duration.as_ref().map(|d| d.get_ref().0);
            events.push(ScriptedEvent { at_ms, target, duration_ms });
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests;
