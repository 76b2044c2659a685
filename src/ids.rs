//! The indices that name a scenario's entities everywhere: the model's
//! references, the engine's state and the outcomes it measures. They sit
//! below every other module so that `metrics` (what a replication measures)
//! need not import the model that `model::limits` sizes with it.

pub type NodeId = usize;
pub type AppId = usize;
pub type VolumeId = usize;
pub type DomainId = usize;
