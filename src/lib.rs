//! clustersim: a discrete-event failure simulator for small hyperconverged
//! Kubernetes clusters. See ARCHITECTURE.md for the map.

pub mod cli;
pub mod compare;
pub mod dist;
pub mod engine;
pub mod error;
pub mod ids;
pub mod input;
pub mod metrics;
pub mod model;
pub mod montecarlo;
pub mod output;
pub mod placement;
pub mod replay;
pub mod report;
pub mod rng;
pub mod shard;
pub mod summary;
pub mod time;
pub mod verdict;
pub mod warnings;
