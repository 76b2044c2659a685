//! Random streams: one seed in, one independent ChaCha stream out per
//! (replication, source).
//!
//! Every source of randomness (a node's failures, its repairs, its lease
//! phase, a pod's placement ties and start-up times, a volume's brick
//! placement) draws from its own stream, keyed by the run's seed and the
//! replication and selected by the source. A source is named by the stable
//! name of what it belongs to (the node's, the app's and the pod's replica
//! number, the volume's, the domain's), never by its position in the file:
//! adding, removing or reordering nodes, apps, volumes or domains leaves the
//! draws of every other source in a replication where they were. Hence a
//! replication's draws do not depend on which thread runs it, on the other
//! replications or on the rest of the scenario, two strategies in one
//! replication see the same node failures, and two variants of a scenario
//! (`compare`, `sweep`, `plan`) see the same failures of what they share
//! (common random numbers).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A source of randomness inside one replication, by the names of what it
/// belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'a> {
    /// The node's failures.
    NodeFailure(&'a str),
    NodeRepair(&'a str),
    /// Where in its lease-renewal cycle a node is when it fails.
    NodeLease(&'a str),
    /// Disk `.1` (0-based) of the pool of node `.0`.
    DiskFailure(&'a str, u32),
    DomainFailure(&'a str),
    DomainRepair(&'a str),
    /// The ties the scheduler breaks for pod `.1` of app `.0`.
    Placement(&'a str, u32),
    /// The start-up times of pod `.1` of app `.0`.
    Startup(&'a str, u32),
    /// The container crashes and hangs of pod `.1` of app `.0`.
    Crash(&'a str, u32),
    /// The ties broken when a Gluster volume's bricks are placed.
    Bricks(&'a str),
    /// The operator's reaction time to the node's NotReady mark.
    OutOfService(&'a str),
    /// The operator's reaction time to pods left Terminating on the node.
    ForceDelete(&'a str),
    /// When the node's Node object is deleted after its NotReady mark.
    NodeDelete(&'a str),
    /// The node lifecycle controller: where its monitor passes fall.
    NodeController,
    /// The phase of PodGC's periodic pass.
    PodGc,
}

impl Source<'_> {
    /// The ChaCha stream number of the source: a 64-bit FNV-1a hash of its
    /// kind, its name and its index. It depends on nothing else, so a
    /// source's stream never moves when other sources come or go; distinct
    /// sources collide with odds of about 2^-64 per pair.
    fn stream_id(self) -> u64 {
        let (tag, name, index): (&str, &str, Option<u32>) = match self {
            Source::NodeFailure(n) => ("node-failure", n, None),
            Source::NodeRepair(n) => ("node-repair", n, None),
            Source::NodeLease(n) => ("node-lease", n, None),
            Source::DiskFailure(n, d) => ("disk-failure", n, Some(d)),
            Source::DomainFailure(d) => ("domain-failure", d, None),
            Source::DomainRepair(d) => ("domain-repair", d, None),
            Source::Placement(a, r) => ("placement", a, Some(r)),
            Source::Startup(a, r) => ("startup", a, Some(r)),
            Source::Crash(a, r) => ("crash", a, Some(r)),
            Source::Bricks(v) => ("bricks", v, None),
            Source::OutOfService(n) => ("out-of-service", n, None),
            Source::ForceDelete(n) => ("force-delete", n, None),
            Source::NodeDelete(n) => ("node-delete", n, None),
            Source::NodeController => ("node-controller", "", None),
            Source::PodGc => ("pod-gc", "", None),
        };
        let mut bytes: Vec<u8> = Vec::with_capacity(tag.len() + name.len() + 6);
        bytes.extend_from_slice(tag.as_bytes());
        // 0xff occurs in no UTF-8 text: tag and name cannot run together.
        bytes.push(0xff);
        bytes.extend_from_slice(name.as_bytes());
        if let Some(i) = index {
            bytes.push(0xff);
            bytes.extend_from_slice(&i.to_le_bytes());
        }
        fnv1a64(&bytes)
    }
}

/// FNV-1a, 64 bits: small, stable across platforms and releases (unlike
/// `std`'s hasher), and enough to tell names apart.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// SplitMix64, used only to spread the seed and replication over a key.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The streams of one replication: the key is derived once, each source
/// selects its stream of that key.
#[derive(Debug, Clone)]
pub struct Streams {
    key: [u8; 32],
}

impl Streams {
    pub fn new(seed: u64, replication: u32) -> Streams {
        let mut state = seed ^ (u64::from(replication)).wrapping_mul(0xD6E8_FEB8_6659_FD93);
        let mut key = [0u8; 32];
        for chunk in key.chunks_exact_mut(8) {
            chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
        }
        Streams { key }
    }

    /// The stream of `source`.
    pub fn get(&self, source: Source) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::from_seed(self.key);
        rng.set_stream(source.stream_id());
        rng
    }
}

/// The stream of `source` in `replication` of a run with `seed`.
pub fn stream(seed: u64, replication: u32, source: Source) -> ChaCha8Rng {
    Streams::new(seed, replication).get(source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let draw = |seed, rep, src| stream(seed, rep, src).random::<u64>();
        let p = Source::Placement("web", 0);
        assert_eq!(draw(1, 0, p), draw(1, 0, p));
        assert_ne!(draw(1, 0, p), draw(2, 0, p));
        assert_ne!(draw(1, 0, p), draw(1, 1, p));
        assert_ne!(draw(1, 0, p), draw(1, 0, Source::Placement("web", 1)));
        assert_ne!(draw(1, 0, Source::NodeFailure("a")), draw(1, 0, Source::NodeRepair("a")));
        assert_ne!(draw(1, 0, Source::NodeFailure("a")), draw(1, 0, Source::NodeFailure("b")));
        // A node and an app of the same name have their own streams.
        assert_ne!(draw(1, 0, Source::NodeFailure("nas")), draw(1, 0, Source::DomainFailure("nas")));
    }

    #[test]
    fn a_stream_is_its_name_and_nothing_else() {
        // Pinned values: a change here moves every run's draws, and must
        // say so in its commit.
        assert_eq!(Source::NodeController.stream_id(), fnv1a64(b"node-controller\xff"));
        assert_eq!(Source::DiskFailure("nas", 2).stream_id(), fnv1a64(b"disk-failure\xffnas\xff\x02\x00\x00\x00"));
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
