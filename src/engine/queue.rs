//! The event queue: pending events ordered by (time, sequence), cancellable.
//!
//! Built on the `priority-queue` crate, which can remove any item, so a
//! cancelled event is really gone (the queue never fills with tombstones).
//! The sequence number is unique per scheduled event: it breaks ties between
//! events at the same millisecond in the order they were scheduled, and it is
//! the handle [`EventQueue::cancel`] takes.

use crate::time::Millis;
use priority_queue::PriorityQueue;
use std::borrow::Borrow;
use std::cmp::Reverse;
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// Handle of a scheduled event, for cancelling it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(u64);

/// A scheduled event; equal and hashed by its sequence number alone, so the
/// queue can find it from its [`EventId`].
struct Entry<E> {
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> Hash for Entry<E> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.seq.hash(state);
    }
}
impl<E> Borrow<u64> for Entry<E> {
    fn borrow(&self) -> &u64 {
        &self.seq
    }
}

/// Hashes the sequence number with one multiplication: keys are distinct
/// integers, so nothing stronger is needed, and it is deterministic.
#[derive(Default)]
pub struct SeqHasher(u64);

impl Hasher for SeqHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

pub struct EventQueue<E> {
    queue: PriorityQueue<Entry<E>, Reverse<(Millis, u64)>, BuildHasherDefault<SeqHasher>>,
    next_seq: u64,
    now: Millis,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue { queue: PriorityQueue::with_default_hasher(), next_seq: 0, now: 0 }
    }
}

impl<E> EventQueue<E> {
    /// The time of the event popped last (0 before the first).
    pub fn now(&self) -> Millis {
        self.now
    }

    /// Schedules `event` at `at`, which must not be in the past.
    pub fn schedule(&mut self, at: Millis, event: E) -> EventId {
        debug_assert!(at >= self.now, "event scheduled in the past: {at} < {}", self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push(Entry { seq, event }, Reverse((at.max(self.now), seq)));
        EventId(seq)
    }

    /// Removes a pending event; returns whether it was still pending.
    pub fn cancel(&mut self, id: EventId) -> bool {
        self.queue.remove(&id.0).is_some()
    }

    /// Pops the earliest event if it is due no later than `until`, advancing
    /// the clock to its time.
    pub fn pop_until(&mut self, until: Millis) -> Option<(Millis, E)> {
        let (_, Reverse((at, _))) = self.queue.peek()?;
        if *at > until {
            return None;
        }
        let (entry, Reverse((at, _))) = self.queue.pop()?;
        debug_assert!(at >= self.now, "the clock went back");
        self.now = at;
        Some((at, entry.event))
    }

    /// When the earliest pending event is due.
    pub fn next_time(&self) -> Option<Millis> {
        self.queue.peek().map(|(_, Reverse((at, _)))| *at)
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_sequence_order_and_cancels() {
        let mut q = EventQueue::default();
        let a = q.schedule(10, "a");
        q.schedule(5, "b");
        q.schedule(10, "c");
        q.schedule(20, "d");
        assert!(q.cancel(a));
        assert!(!q.cancel(a));
        assert_eq!(q.next_time(), Some(5));
        assert_eq!(q.pop_until(100), Some((5, "b")));
        assert_eq!(q.pop_until(100), Some((10, "c")));
        assert_eq!(q.pop_until(15), None);
        assert_eq!(q.now(), 10);
        assert_eq!(q.pop_until(100), Some((20, "d")));
        assert!(q.is_empty());
        assert_eq!(q.next_time(), None);
    }
}
