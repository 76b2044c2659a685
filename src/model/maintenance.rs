//! The `[maintenance]` table: rolling planned maintenance of every node.

use super::spec::{Duration, Located};
use super::validate::Validator;
use crate::error::InputError;
use crate::model::Maintenance;
use crate::time::{MS_PER_H, MS_PER_MIN};
use serde::Deserialize;

/// ASSUMPTION: an operator gives up on a drain blocked by a
/// PodDisruptionBudget after an hour (`kubectl drain` waits for ever by
/// default) and skips that node for the round.
pub const DEFAULT_DRAIN_TIMEOUT_MS: u64 = MS_PER_H;
/// `kubectl drain` retries a refused eviction every 5 seconds.
pub const DRAIN_RETRY_MS: u64 = 5_000;
/// ASSUMPTION: half an hour of reboot and upgrade per node.
pub const DEFAULT_NODE_DURATION_MS: u64 = 30 * MS_PER_MIN;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceSpec {
    pub every: Located<Duration>,
    pub start: Option<Duration>,
    pub duration: Option<Duration>,
    pub drain_timeout: Option<Duration>,
}

impl Validator<'_> {
    pub(super) fn maintenance(
        &mut self,
        raw: &Option<Located<MaintenanceSpec>>,
    ) -> Result<Option<Maintenance>, InputError> {
        let Some(raw) = raw else { return Ok(None) };
        let m = raw.get_ref();
        let every_ms = self.nonzero_ms(&m.every, "maintenance.every", "the maintenance interval")?;
        Ok(Some(Maintenance {
            every_ms,
            start_ms: m.start.map_or(every_ms, |d| d.0),
            node_duration_ms: m.duration.map_or(DEFAULT_NODE_DURATION_MS, |d| d.0),
            drain_timeout_ms: m.drain_timeout.map_or(DEFAULT_DRAIN_TIMEOUT_MS, |d| d.0),
        }))
    }
}
