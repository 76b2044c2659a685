//! Gluster replicated volumes (domain.md section 5): client quorum, the
//! pending changelog that says which brick lacks what, self-heal, the
//! ping-timeout stall and the posix health check. Bricks the scenario does
//! not list are placed by the strategy at start, as pods of no size under
//! required anti-affinity.
//!
//! The state follows AFR's bookkeeping in miniature:
//! 1. while the volume takes writes (quorum and a data brick that no brick
//!    up accuses), every brick up marks every brick away as lacking those
//!    writes (`blames`, afr-transaction.c `afr_changelog_pre_op` marks the
//!    bricks that were not locked, after the quorum check), and a data brick
//!    away owes `write_rate` x that time (`debt_bytes`); without quorum
//!    nothing is written, so nothing is owed;
//! 2. clients read from and write through a data brick that no brick up
//!    accuses; the arbiter is never that brick (afr-transaction.c
//!    `afr_txn_arbitrate_fop`);
//! 3. a brick that lacks writes heals from a data brick that no brick up
//!    accuses, at `heal_rate`, while both are up;
//! 4. two data bricks up that accuse each other are in split-brain: one
//!    incident, the files written on both sides need a manual heal; the
//!    rest heals both ways.

use super::{Backend, BackendState};
use crate::engine::sim::{About, Sim, next_on_grid};
use crate::engine::{Event, EventId};
use crate::metrics::{Cause, TraceKind};
use crate::model::{self, GlusterQuorum, NodeId, VolumeId};
use crate::placement::{ClusterView, PodRequest};
use crate::time::Millis;

/// The Gluster backend.
pub(super) struct Gluster;

/// One brick of a Gluster volume.
#[derive(Debug, Clone)]
struct Brick {
    node: NodeId,
    /// The brick holds its data and serves I/O: its node is up and its pool
    /// is not lost.
    up: bool,
    /// The brick process holds the clients' connections: its server is up,
    /// it started on a healthy pool and no health check has failed since.
    connected: bool,
    /// When the brick process started: its health check runs every
    /// interval from then (posix-helpers.c `posix_health_check_thread_proc`
    /// sleeps first, then checks).
    started_ms: Millis,
    health_ev: Option<EventId>,
    /// Bytes written while the brick was away, still to heal onto it.
    debt_bytes: f64,
    heal_start_ms: Millis,
    heal_ev: Option<EventId>,
    /// Bit `y`: this brick holds writes that brick `y` lacks (its pending
    /// changelog for `y`). A brick whose pool was rebuilt has its own bit:
    /// it lacks everything, even with no other brick up to say so.
    blames: u128,
}

fn bit(b: usize) -> u128 {
    1u128 << b
}

/// The volume-wide Gluster state of one replication.
#[derive(Debug, Clone, Default)]
pub(super) struct GlusterState {
    bricks: Vec<Brick>,
    /// Every data brick's pool was lost: the first back brings the data
    /// restored from backup.
    all_wiped: bool,
    /// The volume took writes since `settled_ms` (what `settle` books).
    writable: bool,
    settled_ms: Millis,
    stall_until_ms: Millis,
    stall_ev: Option<EventId>,
}

/// Whether a Gluster volume serves reads and writes: client quorum over the
/// bricks `up` (the arbiter, last, counted; afr-common.c `afr_has_quorum`),
/// and a data brick up that no brick up accuses (`blames[x]` bit `y`: brick
/// `x` holds writes `y` lacks), so never the arbiter alone
/// (afr-transaction.c `afr_txn_arbitrate_fop`).
pub fn gluster_serves(quorum: GlusterQuorum, arbiter: bool, up: &[bool], blames: &[u128]) -> bool {
    let data = up.len() - usize::from(arbiter);
    quorum.met(up) && sources(data, up, blames).next().is_some()
}

/// The data bricks (the first `data`) that are up and that no brick up
/// accuses: the good copies clients read and heals copy from.
fn sources<'a>(data: usize, up: &'a [bool], blames: &'a [u128]) -> impl Iterator<Item = usize> + 'a {
    (0..data).filter(move |&s| up[s] && up.iter().zip(blames).all(|(&u, &row)| !u || row & bit(s) == 0))
}

impl GlusterState {
    fn new(bricks: &[NodeId]) -> Self {
        let brick = |&node| Brick {
            node,
            up: true,
            connected: true,
            started_ms: 0,
            health_ev: None,
            debt_bytes: 0.0,
            heal_start_ms: 0,
            heal_ev: None,
            blames: 0,
        };
        GlusterState { bricks: bricks.iter().map(brick).collect(), ..GlusterState::default() }
    }

    fn up(&self) -> Vec<bool> {
        self.bricks.iter().map(|b| b.up).collect()
    }

    fn blames(&self) -> Vec<u128> {
        self.bricks.iter().map(|b| b.blames).collect()
    }

    fn serves(&self, quorum: GlusterQuorum, arbiter: bool) -> bool {
        gluster_serves(quorum, arbiter, &self.up(), &self.blames())
    }

    fn blamed(&self, b: usize) -> bool {
        self.bricks.iter().any(|x| x.blames & bit(b) != 0)
    }

    /// Why the volume is unavailable, if it is, and whether a brick is away,
    /// healing or accused.
    fn health(&self, quorum: GlusterQuorum, arbiter: bool, now: Millis) -> (Option<Cause>, bool) {
        let why = if !self.serves(quorum, arbiter) {
            Some(Cause::Storage)
        } else if now < self.stall_until_ms {
            Some(Cause::IoStall)
        } else {
            None
        };
        let reduced = (0..self.bricks.len()).any(|b| {
            let brick = &self.bricks[b];
            !brick.up || brick.debt_bytes > 0.0 || self.blamed(b)
        });
        (why, reduced)
    }

    /// The pool under brick `b` is lost: it will come back empty. Returns
    /// whether no data brick holds the data any more (the backup is what
    /// is left).
    fn wipe(&mut self, b: usize, arbiter: bool) -> bool {
        self.bricks[b].blames = bit(b);
        let data = self.bricks.len() - usize::from(arbiter);
        let gone = !self.all_wiped && (0..data).all(|d| self.bricks[d].blames & bit(d) != 0);
        if gone {
            self.all_wiped = true;
        }
        gone
    }
}

struct Params {
    quorum: GlusterQuorum,
    arbiter: bool,
    heal_rate: f64,
    write_rate: f64,
    size_bytes: u64,
    ping_timeout_ms: Millis,
    health_check_interval_ms: Millis,
}

impl Backend for Gluster {
    /// Places the bricks the scenario does not list, with the strategy: a
    /// brick is a pod of no size under required anti-affinity.
    fn place(&self, sim: &mut Sim, v: VolumeId) {
        let sc = sim.ctx.sc;
        let volume = &sc.volumes[v];
        let model::Backend::Gluster { replicas, arbiter, bricks, .. } = &volume.backend else { return };
        let total = (*replicas + u32::from(*arbiter)) as usize;
        let placed: Vec<NodeId> = match bricks {
            Some(list) => list.clone(),
            None => {
                let brick = model::App {
                    replicas: total as u32,
                    anti_affinity: model::AntiAffinity::Required,
                    ..model::App::new(volume.name.clone(), model::Class::Ha)
                };
                let mut placed = Vec::new();
                let mut rng = sim.ctx.streams.get(crate::rng::Source::Bricks(&volume.name));
                for _ in 0..total {
                    let view = ClusterView::of(sc, &sim.cluster.load);
                    let request = PodRequest { app_id: usize::MAX, app: &brick, siblings_on: &placed, pin: None };
                    // Validation guarantees enough nodes, all up at time zero.
                    if let Some(node) = sim.cluster.index.select(&view, &request, &mut rng) {
                        placed.push(node);
                    }
                }
                placed
            }
        };
        sim.storage.volumes[v].data = BackendState::Gluster(GlusterState::new(&placed));
        for (b, &node) in placed.iter().enumerate() {
            sim.note(0, TraceKind::BrickPlaced, About::volume(v).on(node), format!("brick {}", b + 1));
        }
    }

    fn nodes(&self, sim: &Sim, v: VolumeId) -> Vec<NodeId> {
        sim.gluster_ref(v).bricks.iter().map(|b| b.node).collect()
    }

    fn node_changed(&self, sim: &mut Sim, v: VolumeId, node: NodeId, now: Millis) {
        let ok = sim.storage_ok(node);
        // A server that dies is silent; a pool lost under a running server
        // is not.
        let silent = !sim.cluster.nodes[node].up;
        for (b, brick_node) in self.nodes(sim, v).into_iter().enumerate() {
            if brick_node == node {
                if ok { sim.brick_up(v, b, now) } else { sim.brick_down(v, b, silent, now) }
            }
        }
    }

    fn pool_wiped(&self, sim: &mut Sim, v: VolumeId, node: NodeId, _since_backup: Millis, now: Millis) -> bool {
        let mut gone = false;
        for (b, n) in self.nodes(sim, v).into_iter().enumerate() {
            if n == node {
                // No data brick holds the data any more: the backup is what
                // is left.
                gone |= sim.wipe_brick(v, b, now);
            }
        }
        gone
    }

    fn health(&self, sim: &Sim, v: VolumeId, now: Millis) -> (Option<Cause>, bool) {
        let p = sim.params(v);
        sim.gluster_ref(v).health(p.quorum, p.arbiter, now)
    }
}

impl Sim<'_, '_> {
    /// The node of brick `b` of Gluster volume `v`.
    pub(in crate::engine) fn brick_node(&self, v: VolumeId, b: usize) -> Option<NodeId> {
        match &self.storage.volumes[v].data {
            BackendState::Gluster(g) => g.bricks.get(b).map(|brick| brick.node),
            _ => None,
        }
    }

    fn gluster_ref(&self, v: VolumeId) -> &GlusterState {
        match &self.storage.volumes[v].data {
            BackendState::Gluster(g) => g,
            _ => unreachable!("a Gluster event on a volume of another backend"),
        }
    }

    fn gluster(&mut self, v: VolumeId) -> &mut GlusterState {
        match &mut self.storage.volumes[v].data {
            BackendState::Gluster(g) => g,
            _ => unreachable!("a Gluster event on a volume of another backend"),
        }
    }

    fn params(&self, v: VolumeId) -> Params {
        match self.ctx.sc.volumes[v].backend {
            model::Backend::Gluster {
                quorum,
                arbiter,
                heal_rate_bytes_per_s,
                write_rate_bytes_per_s,
                size_bytes,
                ping_timeout_ms,
                health_check_interval_ms,
                ..
            } => Params {
                quorum,
                arbiter,
                heal_rate: heal_rate_bytes_per_s,
                write_rate: write_rate_bytes_per_s,
                size_bytes,
                ping_timeout_ms,
                health_check_interval_ms,
            },
            _ => unreachable!("Gluster state on a volume of another backend"),
        }
    }

    /// Books the writes since the last change: while the volume took them,
    /// each brick away lacks them and each brick up holds them.
    fn settle(&mut self, v: VolumeId, now: Millis) {
        let Params { write_rate, arbiter, size_bytes, .. } = self.params(v);
        let g = self.gluster(v);
        let dt = now - g.settled_ms;
        g.settled_ms = now;
        if !g.writable || dt == 0 || write_rate <= 0.0 {
            return;
        }
        let data = g.bricks.len() - usize::from(arbiter);
        let away: u128 = (0..g.bricks.len()).filter(|&b| !g.bricks[b].up).map(bit).sum();
        for (b, brick) in g.bricks.iter_mut().enumerate() {
            if brick.up {
                brick.blames |= away;
            } else if b < data {
                // The arbiter owes metadata only: its heal is taken as
                // instant. A brick cannot lack more than the volume holds.
                brick.debt_bytes = (brick.debt_bytes + dt as f64 / 1000.0 * write_rate).min(size_bytes as f64);
            }
        }
    }

    /// Re-derives what follows from a change of bricks: split-brain, whether
    /// writes are taken, which heals run.
    fn gluster_update(&mut self, v: VolumeId, now: Millis) {
        let p = self.params(v);
        let g = self.gluster(v);
        let data = g.bricks.len() - usize::from(p.arbiter);
        // The arbiter's heal (metadata, about 4 KB a file) is taken as
        // instant once it is back.
        if p.arbiter && g.bricks[data].up {
            g.bricks.iter_mut().for_each(|x| x.blames &= !bit(data));
        }
        // Two data bricks up that each hold writes the other lacks, with no
        // data brick up that nobody accuses to heal both from
        // (`afr_selfheal_find_direction`): split-brain.
        let mut split = false;
        if sources(data, &g.up(), &g.blames()).next().is_none() {
            for x in 0..data {
                for y in x + 1..data {
                    let (bx, by) = (&g.bricks[x], &g.bricks[y]);
                    if bx.up && by.up && bx.blames & bit(y) != 0 && by.blames & bit(x) != 0 {
                        split = true;
                        g.bricks[x].blames &= !bit(y);
                        g.bricks[y].blames &= !bit(x);
                    }
                }
            }
        }
        let (up, blames) = (g.up(), g.blames());
        g.writable = gluster_serves(p.quorum, p.arbiter, &up, &blames);
        let mut starts = Vec::new();
        let mut stops = Vec::new();
        for b in 0..data {
            let brick = &g.bricks[b];
            let lacks = brick.debt_bytes > 0.0 || brick.blames & bit(b) != 0;
            // A heal needs a good copy on another data brick.
            let heal = brick.up && lacks && sources(data, &up, &blames).any(|s| s != b);
            match (heal, brick.heal_ev) {
                (true, None) => starts.push(b),
                (false, Some(ev)) => stops.push((b, ev)),
                _ => {}
            }
        }
        if split {
            self.storage.volumes[v].outcome.split_brain_incidents += 1;
            self.note(now, TraceKind::SplitBrain, About::volume(v), String::new());
        }
        for (b, ev) in stops {
            self.ctx.queue.cancel(ev);
            let g = self.gluster(v);
            let brick = &mut g.bricks[b];
            brick.heal_ev = None;
            let healed = (now - brick.heal_start_ms) as f64 / 1000.0 * p.heal_rate;
            brick.debt_bytes = (brick.debt_bytes - healed).max(0.0);
        }
        for b in starts {
            let debt = self.gluster(v).bricks[b].debt_bytes;
            let heal_ms = (debt / p.heal_rate * 1000.0).ceil() as Millis;
            let ev = self.ctx.queue.schedule(now.saturating_add(heal_ms), Event::HealDone { volume: v, brick: b });
            let brick = &mut self.gluster(v).bricks[b];
            brick.heal_start_ms = now;
            brick.heal_ev = Some(ev);
        }
    }

    /// Brick `b` stops serving data. `silent`: its server died, so clients
    /// hang on it for `ping_timeout` if they were connected; otherwise (its
    /// pool was lost under a running server) its I/O fails at once and the
    /// health check takes the process down later, with no stall.
    fn brick_down(&mut self, v: VolumeId, b: usize, silent: bool, now: Millis) {
        self.settle(v, now);
        let p = self.params(v);
        let g = self.gluster(v);
        g.bricks[b].up = false;
        let connected = g.bricks[b].connected;
        if silent {
            g.bricks[b].connected = false;
            if let Some(ev) = g.bricks[b].health_ev.take() {
                self.ctx.queue.cancel(ev);
            }
            if connected {
                self.stall(v, now.saturating_add(p.ping_timeout_ms));
            }
        } else if connected && g.bricks[b].health_ev.is_none() && p.health_check_interval_ms > 0 {
            // The first check after now, every interval from the start.
            let next = next_on_grid(g.bricks[b].started_ms, p.health_check_interval_ms, now + 1);
            let ev = self.ctx.queue.schedule(next, Event::HealthCheck { volume: v, brick: b });
            self.gluster(v).bricks[b].health_ev = Some(ev);
        }
        self.gluster_update(v, now);
    }

    /// The pool under brick `b` is lost (its writes booked first): whether
    /// no data brick holds the data any more.
    fn wipe_brick(&mut self, v: VolumeId, b: usize, now: Millis) -> bool {
        self.settle(v, now);
        let arbiter = self.params(v).arbiter;
        self.gluster(v).wipe(b, arbiter)
    }

    /// Clients hang on a brick that went away silently until `until`.
    fn stall(&mut self, v: VolumeId, until: Millis) {
        let g = self.gluster(v);
        g.stall_until_ms = until;
        if let Some(ev) = g.stall_ev.take() {
            self.ctx.queue.cancel(ev);
        }
        let ev = self.ctx.queue.schedule(until, Event::StallEnd { volume: v });
        self.gluster(v).stall_ev = Some(ev);
    }

    /// Brick `b` is back on a healthy pool: its process starts, clients
    /// connect, and it heals what it lacks (everything, if its pool was
    /// rebuilt).
    fn brick_up(&mut self, v: VolumeId, b: usize, now: Millis) {
        if self.gluster(v).bricks[b].up {
            return;
        }
        self.settle(v, now);
        let p = self.params(v);
        let g = self.gluster(v);
        let data = g.bricks.len() - usize::from(p.arbiter);
        let brick = &mut g.bricks[b];
        brick.up = true;
        brick.connected = true;
        brick.started_ms = now;
        if let Some(ev) = brick.health_ev.take() {
            self.ctx.queue.cancel(ev);
        }
        let g = self.gluster(v);
        if g.bricks[b].blames & bit(b) != 0 && b < data {
            if g.all_wiped {
                // The first data brick back carries the restore from backup:
                // it holds everything and every other data brick lacks it.
                g.all_wiped = false;
                g.bricks.iter_mut().for_each(|x| x.blames &= !bit(b));
                g.bricks[b].blames = (0..data).filter(|&d| d != b).map(bit).sum();
                g.bricks[b].debt_bytes = 0.0;
            } else {
                g.bricks[b].debt_bytes = g.bricks[b].debt_bytes.max(p.size_bytes as f64);
            }
        }
        self.gluster_update(v, now);
    }

    /// The health check of brick `b` is due: on a lost pool it fails and
    /// the brick process goes down; clients see the disconnect at once.
    pub(in crate::engine) fn health_check(&mut self, v: VolumeId, b: usize, now: Millis) {
        let g = self.gluster(v);
        g.bricks[b].health_ev = None;
        if g.bricks[b].connected && !g.bricks[b].up {
            g.bricks[b].connected = false;
            let node = g.bricks[b].node;
            self.note(now, TraceKind::BrickDisconnected, About::volume(v).on(node), format!("brick {}", b + 1));
        }
    }

    pub(in crate::engine) fn heal_done(&mut self, v: VolumeId, b: usize, now: Millis) {
        self.settle(v, now);
        let g = self.gluster(v);
        g.bricks[b].heal_ev = None;
        g.bricks[b].debt_bytes = 0.0;
        // It now holds what its source holds: nobody lacks anything from it
        // any more that it could still be accused of.
        g.bricks.iter_mut().for_each(|x| x.blames &= !bit(b));
        self.gluster_update(v, now);
        self.refresh_volume(v, now);
    }

    pub(in crate::engine) fn stall_ended(&mut self, v: VolumeId) {
        self.gluster(v).stall_ev = None;
    }
}

#[cfg(test)]
mod tests {
    use super::gluster_serves;
    use crate::model::GlusterQuorum;

    #[test]
    fn client_quorum_auto() {
        let auto = |up: &[bool]| gluster_serves(GlusterQuorum::Auto, false, up, &vec![0; up.len()]);
        assert!(auto(&[true, true, false]));
        assert!(!auto(&[true, false, false]));
        // Replica 2: exactly half is enough only with the first brick.
        assert!(auto(&[true, false]));
        assert!(!auto(&[false, true]));
        assert!(auto(&[false, true, true, true]));
        assert!(auto(&[true, true, false, false]));
        assert!(!auto(&[false, true, true, false]));
    }
}
