//! The canonical order of a scenario's nodes, domains, volumes and apps: by
//! name, in natural order (`mini-2` before `mini-10`), as `kubectl get`
//! lists objects.
//!
//! The engine works through entities in model order wherever order can
//! matter: the apps' first scheduling, first-fit's node order, the choice
//! among equally good nodes, the rolling maintenance, events at one instant.
//! Putting the model in name order makes a scenario's results independent
//! of the order its entries are written in, and, with the random streams
//! keyed by name (`crate::rng`), keeps what two variants of a scenario share
//! on the same random history. Validation runs before the sort, in file
//! order, so errors and refusals still point at the first entry at fault.

use crate::model::{Backend, Domain, Node, Scenario, Target};
use std::cmp::Ordering;

/// Natural order: runs of digits compare by their value, the rest byte by
/// byte; names equal that way (`a01`, `a1`) fall back to plain byte order,
/// so the order is total.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn runs(s: &str) -> impl Iterator<Item = &str> {
        let mut rest = s;
        std::iter::from_fn(move || {
            let first = rest.chars().next()?;
            let digit = first.is_ascii_digit();
            let end = rest.find(|c: char| c.is_ascii_digit() != digit).unwrap_or(rest.len());
            let (run, tail) = rest.split_at(end);
            rest = tail;
            Some(run)
        })
    }
    let value = |run: &str| {
        let digits = run.trim_start_matches('0');
        (digits.len(), digits.to_string())
    };
    let mut left = runs(a);
    let mut right = runs(b);
    loop {
        match (left.next(), right.next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let numeric =
                    x.starts_with(|c: char| c.is_ascii_digit()) && y.starts_with(|c: char| c.is_ascii_digit());
                let order = if numeric { value(x).cmp(&value(y)) } else { x.cmp(y) };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// The permutation that sorts `names`: `order[new] = old`, and its inverse
/// `position[old] = new`.
fn permutation<'a>(names: impl Iterator<Item = &'a str>) -> (Vec<usize>, Vec<usize>) {
    let names: Vec<&str> = names.collect();
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|&x, &y| natural_cmp(names[x], names[y]));
    let mut position = vec![0; order.len()];
    for (new, &old) in order.iter().enumerate() {
        position[old] = new;
    }
    (order, position)
}

fn reorder<T>(items: Vec<T>, order: &[usize]) -> Vec<T> {
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order.iter().map(|&old| slots[old].take().expect("a permutation takes each item once")).collect()
}

/// Zones of the node lifecycle controller: one per `zone` domain, in
/// domain order, and one more for the nodes in none (a cluster without
/// zone labels is one zone).
pub(super) fn assign_zones(nodes: &mut [Node], domains: &[Domain]) {
    let zones: Vec<usize> = (0..domains.len()).filter(|&d| domains[d].kind == super::ZONE_KIND).collect();
    for node in nodes.iter_mut() {
        node.zone = node.domains.iter().find_map(|d| zones.iter().position(|z| z == d)).unwrap_or(zones.len());
    }
}

/// The scenario with its nodes, domains, volumes and apps in name order and
/// every reference between them renumbered. Lists inside an entity keep
/// their written order where it means something (a Gluster volume's bricks,
/// the arbiter last; an app's volumes) and are sorted where it does not (a
/// domain's members, a node's domains).
pub fn by_name(mut sc: Scenario) -> Scenario {
    let (node_order, node_at) = permutation(sc.nodes.iter().map(|n| n.name.as_str()));
    let (domain_order, domain_at) = permutation(sc.domains.iter().map(|d| d.name.as_str()));
    let (volume_order, volume_at) = permutation(sc.volumes.iter().map(|v| v.name.as_str()));
    let (app_order, app_at) = permutation(sc.apps.iter().map(|a| a.name.as_str()));
    let sorted = |mut ids: Vec<usize>, at: &[usize]| {
        ids.iter_mut().for_each(|i| *i = at[*i]);
        ids.sort_unstable();
        ids
    };

    sc.nodes = reorder(std::mem::take(&mut sc.nodes), &node_order);
    for node in &mut sc.nodes {
        node.domains = sorted(std::mem::take(&mut node.domains), &domain_at);
    }
    sc.domains = reorder(std::mem::take(&mut sc.domains), &domain_order);
    for domain in &mut sc.domains {
        domain.nodes = sorted(std::mem::take(&mut domain.nodes), &node_at);
    }
    assign_zones(&mut sc.nodes, &sc.domains);
    for per_kind in &mut sc.topology {
        let old = std::mem::take(per_kind);
        *per_kind = node_order.iter().map(|&n| old[n].map(|d| domain_at[d])).collect();
    }

    sc.volumes = reorder(std::mem::take(&mut sc.volumes), &volume_order);
    for volume in &mut sc.volumes {
        match &mut volume.backend {
            Backend::ZfsLocal { node } => *node = node.map(|n| node_at[n]),
            Backend::ZfsReplicated { node, replica, .. } => {
                *node = node_at[*node];
                *replica = node_at[*replica];
            }
            Backend::Gluster { bricks, .. } => {
                bricks.iter_mut().flatten().for_each(|n| *n = node_at[*n]);
            }
            Backend::Block { .. } => {}
        }
    }

    sc.apps = reorder(std::mem::take(&mut sc.apps), &app_order);
    for app in &mut sc.apps {
        app.node = app.node.map(|n| node_at[n]);
        app.volumes.iter_mut().for_each(|v| *v = volume_at[*v]);
        app.depends_on = sorted(std::mem::take(&mut app.depends_on), &app_at);
    }

    for event in sc.events.iter_mut().chain(sc.replayed.iter_mut()) {
        event.target = match event.target {
            Target::Node(n) => Target::Node(node_at[n]),
            Target::Disk(n, d) => Target::Disk(node_at[n], d),
            Target::Domain(d) => Target::Domain(domain_at[d]),
            Target::App(a) => Target::App(app_at[a]),
        };
    }
    sc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_reads_numbers_as_numbers() {
        let mut names = vec!["mini-10", "nas", "mini-2", "mini-1", "a01", "a1", "b", "a", "node-a1-3", "edge-a1"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(names, ["a", "a01", "a1", "b", "edge-a1", "mini-1", "mini-2", "mini-10", "nas", "node-a1-3"]);
        assert_eq!(natural_cmp("x", "x"), Ordering::Equal);
        assert_eq!(natural_cmp("x9", "x10"), Ordering::Less);
        assert_eq!(natural_cmp("x", "x0"), Ordering::Less);
    }
}
