//! clustersim: a discrete-event failure simulator for small hyperconverged
//! Kubernetes clusters. See ARCHITECTURE.md for the map.

// The system calls go through rustix and libraries; this crate has no
// `unsafe` of its own.
#![forbid(unsafe_code)]

pub mod cli;
pub mod dist;
pub mod engine;
pub mod error;
pub mod ids;
pub mod input;
pub mod metrics;
pub mod model;
pub mod output;
pub mod placement;
pub mod report;
pub mod results;
pub mod rng;
pub mod run;
pub mod shard;
pub mod time;
