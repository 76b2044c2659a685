//! The discrete-event core: one replication of one scenario under one
//! placement strategy.
//!
//! Lifecycle of a run of [`simulate`]:
//! 1. every node is up and Ready, every pod is placed by the strategy and
//!    Running (the cluster starts in its steady state), each node's first
//!    failure and every scripted failure is scheduled;
//! 2. events are popped in (time, sequence) order and dispatched by one
//!    `match` until the queue holds nothing due before the horizon;
//! 3. outages still open at the horizon are closed there and the per-app
//!    outcome is returned.
//!
//! The core does no I/O and never reads the machine's clock; all randomness
//! comes from the streams of [`crate::rng`].

mod accounting;
mod check;
mod cluster;
mod control_plane;
mod event;
mod kubelet;
mod maintenance;
mod podgc;
mod queue;
mod scheduler;
mod sim;
mod storage;

pub use event::{Event, PodId};
pub use podgc::POD_GC_QUARANTINE_MS;
pub use queue::{EventId, EventQueue};
pub use sim::{RunOptions, StartPlacement, monitor_phase_ms, simulate, simulate_with, start_placement};
pub use storage::gluster_serves;
