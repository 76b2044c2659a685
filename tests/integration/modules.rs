//! The module-dependency invariants of ARCHITECTURE.md, checked on the
//! source: every `crate::` path outside comments is an edge from the
//! top-level module of its file (`src/engine/sim.rs` is `engine`) to the one
//! it names. The graph must have no cycle, the engine must not reach the
//! input layer, and the model must know nothing of TOML.

use crate::common::repo;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Each module and the modules it names.
type Edges = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|x| x == "rs") {
            found.push(path);
        }
    }
}

/// The code of a file without its comments (line comments, doc comments;
/// block comments are not used in this crate).
fn code_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(|line| match line.find("//") {
        // A `//` inside a string literal ends the code early, which can only
        // drop an edge from a string, never invent one.
        Some(i) => &line[..i],
        None => line,
    })
}

/// The top-level module of each file under `src/` and the set of top-level
/// modules its code names through `crate::`, with one line per edge for
/// messages.
fn graph() -> (Edges, BTreeMap<(String, String), String>) {
    let src = repo().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: Edges = BTreeMap::new();
    let mut example = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        let from = rel.split('/').next().unwrap().trim_end_matches(".rs").to_string();
        if from == "main" || from == "lib" {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap();
        for (n, line) in code_lines(&text).enumerate() {
            let mut rest = line;
            while let Some(i) = rest.find("crate::") {
                let name: String = rest[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                    .collect();
                rest = &rest[i + 7..];
                if !name.is_empty() && name != from {
                    example.entry((from.clone(), name.clone())).or_insert_with(|| format!("src/{rel}:{}", n + 1));
                    edges.entry(from.clone()).or_default().insert(name);
                }
            }
            // `use super::...` inside a top-level module stays in it.
        }
        edges.entry(from).or_default();
    }
    (edges, example)
}

/// A cycle through `start`, if any, as the list of modules on it.
fn cycle_from(start: &str, edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn walk(
        at: &str,
        start: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in edges.get(at).into_iter().flatten() {
            if next == start {
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(next, start, edges, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    walk(start, start, edges, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn modules_form_no_cycle() {
    let (edges, example) = graph();
    assert!(edges.len() > 10 && edges["engine"].contains("model"), "the scan sees the crate: {edges:?}");
    let cycles: Vec<String> = edges
        .keys()
        .filter_map(|m| cycle_from(m, &edges))
        // Each cycle once: from its smallest module.
        .filter(|c| c.iter().min() == c.first())
        .map(|c| {
            let mut hops = Vec::new();
            for (i, from) in c.iter().enumerate() {
                let to = &c[(i + 1) % c.len()];
                hops.push(format!("{from} -> {to} ({})", example[&(from.clone(), to.clone())]));
            }
            hops.join(", ")
        })
        .collect();
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_engine_and_the_model_never_import_the_input_layer() {
    let (edges, example) = graph();
    for layer in ["engine", "model", "placement", "metrics"] {
        let reached = reachable(layer, &edges);
        assert!(
            !reached.contains("input"),
            "{layer} reaches the input layer: {:?}",
            example.iter().filter(|((_, to), _)| to == "input").collect::<Vec<_>>()
        );
    }
}

fn reachable(from: &str, edges: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_string()];
    while let Some(m) = stack.pop() {
        for next in edges.get(&m).into_iter().flatten() {
            if seen.insert(next.clone()) {
                stack.push(next.clone());
            }
        }
    }
    seen
}

#[test]
fn the_model_knows_nothing_of_toml() {
    let mut files = Vec::new();
    rust_files(&repo().join("src/model"), &mut files);
    assert!(files.len() >= 5, "{files:?}");
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        for (n, line) in code_lines(&text).enumerate() {
            assert!(!line.contains("toml"), "{}:{} names TOML: {line}", file.display(), n + 1);
        }
    }
}

/// The checker itself: a cycle is found, and an acyclic graph passes.
#[test]
fn the_cycle_finder_finds_cycles() {
    let g = |pairs: &[(&str, &str)]| {
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in pairs {
            edges.entry(a.to_string()).or_default().insert(b.to_string());
        }
        edges
    };
    assert_eq!(
        cycle_from("a", &g(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into()])
    );
    assert_eq!(cycle_from("a", &g(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
}
