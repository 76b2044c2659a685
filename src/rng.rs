//! Random streams: one seed in, one independent ChaCha stream out per
//! (replication, source).
//!
//! Every source of randomness (a node's failures, its repairs, its lease
//! phase, placement ties, an app's start-up times) draws from its own stream,
//! keyed by the run's seed and the replication and selected by the source.
//! Hence a replication's draws do not depend on which thread runs it or on
//! the other replications, and two strategies in one replication see the same
//! node failures (common random numbers).

use crate::model::{AppId, NodeId};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A source of randomness inside one replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    NodeFailure(NodeId),
    NodeRepair(NodeId),
    /// Where in its lease-renewal cycle a node is when it fails.
    NodeLease(NodeId),
    Placement,
    Startup(AppId),
    /// Disk `.1` of the pool of node `.0`.
    DiskFailure(NodeId, u32),
    DomainFailure(usize),
    DomainRepair(usize),
    /// An app's container crashes and hangs.
    Crash(AppId),
    /// The operator's reaction time to a NotReady node.
    OutOfService(NodeId),
    /// The node lifecycle controller: where its monitor passes fall.
    NodeController,
    /// The operator's reaction time to pods left Terminating on the node.
    ForceDelete(NodeId),
    /// When the node's Node object is deleted after its NotReady mark.
    NodeDelete(NodeId),
    /// The phase of PodGC's periodic pass.
    PodGc,
}

impl Source {
    /// A distinct ChaCha stream number per source: a tag in the top 16 bits
    /// and the index below.
    fn stream_id(self) -> u64 {
        let (tag, index) = match self {
            Source::NodeFailure(n) => (1u64, n),
            Source::NodeRepair(n) => (2, n),
            Source::NodeLease(n) => (3, n),
            Source::Placement => (4, 0),
            Source::Startup(a) => (5, a),
            Source::DiskFailure(n, d) => (6, (n << 16) | d as usize),
            Source::DomainFailure(d) => (7, d),
            Source::DomainRepair(d) => (8, d),
            Source::Crash(a) => (9, a),
            Source::OutOfService(n) => (10, n),
            Source::NodeController => (11, 0),
            // New sources take new tags: the streams above do not move.
            Source::ForceDelete(n) => (12, n),
            Source::NodeDelete(n) => (13, n),
            Source::PodGc => (14, 0),
        };
        (tag << 48) | (index as u64 & ((1 << 48) - 1))
    }
}

/// SplitMix64, used only to spread the seed and replication over a key.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream of `source` in `replication` of a run with `seed`.
pub fn stream(seed: u64, replication: u32, source: Source) -> ChaCha8Rng {
    let mut state = seed ^ (u64::from(replication)).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    let mut key = [0u8; 32];
    for chunk in key.chunks_exact_mut(8) {
        chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(source.stream_id());
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let draw = |seed, rep, src| stream(seed, rep, src).random::<u64>();
        assert_eq!(draw(1, 0, Source::Placement), draw(1, 0, Source::Placement));
        assert_ne!(draw(1, 0, Source::Placement), draw(2, 0, Source::Placement));
        assert_ne!(draw(1, 0, Source::Placement), draw(1, 1, Source::Placement));
        assert_ne!(draw(1, 0, Source::NodeFailure(0)), draw(1, 0, Source::NodeRepair(0)));
        assert_ne!(draw(1, 0, Source::NodeFailure(0)), draw(1, 0, Source::NodeFailure(1)));
    }

    #[test]
    fn new_sources_leave_the_existing_streams_where_they_were() {
        // The stream of a source is its tag and index: pinning the old ones
        // keeps every existing run's draws when a source is added.
        assert_eq!(Source::NodeFailure(5).stream_id(), (1 << 48) | 5);
        assert_eq!(Source::Placement.stream_id(), 4 << 48);
        assert_eq!(Source::OutOfService(7).stream_id(), (10 << 48) | 7);
        let new = [Source::ForceDelete(7), Source::NodeDelete(7), Source::PodGc];
        let old = [Source::OutOfService(7), Source::Crash(7), Source::DiskFailure(0, 7), Source::Placement];
        for a in new {
            assert!(old.iter().chain(new.iter().filter(|&&b| b != a)).all(|b| b.stream_id() != a.stream_id()));
        }
    }
}
