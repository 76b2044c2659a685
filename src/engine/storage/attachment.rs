//! The ReadWriteOnce attachment (domain.md section 6): a volume attached to
//! one node at a time, as the attach-detach controller keeps a block volume
//! (iSCSI, Ceph RBD, Longhorn) attached where its pod is. It is a part any
//! volume can have, beside its backend's own redundancy: today the block
//! volumes (`block.rs`) have it.
//!
//! A ReadWriteOnce volume stays attached to a crashed node while a pod
//! object there still uses it, evicted or not (see `podgc.rs` for what
//! deletes those objects); a replacement elsewhere waits in Multi-Attach.
//! Once no pod object on the node holds it, the controller detaches it:
//! at once under the out-of-service taint, else `maxWaitForUnmountDuration`
//! later (or never, with the force detach disabled) unless the node returns
//! first and its kubelet unmounts it. Without a control-plane quorum no
//! detach can be written: it is done at the catch-up.

use super::Sim;
use crate::engine::kubelet::Phase;
use crate::engine::sim::About;
use crate::engine::{Event, EventId};
use crate::metrics::TraceKind;
use crate::model::{NodeId, VolumeId};
use crate::time::Millis;

/// A volume's attachment to one node at a time.
pub(super) struct Attachment {
    /// The node the volume is attached to.
    attached: Option<NodeId>,
    /// A pod object on the attached node still uses the volume (its
    /// pod, or the pod evicted from an unreachable node and left
    /// Terminating): the attach-detach controller keeps the volume in its
    /// desired state there and detaches nothing (`DetermineVolumeAction`).
    held: bool,
    /// The force-detach after `maxWaitForUnmountDuration`, once released.
    detach_ev: Option<EventId>,
    /// `maxWaitForUnmountDuration`; `None`: no force detach
    /// (`--disable-force-detach-on-timeout`).
    force_detach_ms: Option<Millis>,
    /// The detach came due without a control-plane quorum (the
    /// attach-detach controller writes VolumeAttachments through the API):
    /// done at the catch-up.
    overdue: bool,
}

impl Attachment {
    pub(super) fn new(force_detach_ms: Option<Millis>) -> Self {
        Attachment { attached: None, held: false, detach_ev: None, force_detach_ms, overdue: false }
    }

    /// A pod that uses the volume was bound to `node`: an unattached volume
    /// is attached there.
    pub(super) fn bind(&mut self, node: NodeId) {
        if self.attached.is_none() {
            self.attached = Some(node);
            self.held = true;
        }
    }
}

impl Sim<'_, '_> {
    /// Volume `v`'s attachment, if it is attached to `node`.
    fn attachment_on(&self, v: VolumeId, node: NodeId) -> Option<&Attachment> {
        self.storage.volumes[v].attachment.as_ref().filter(|a| a.attached == Some(node))
    }

    /// The ReadWriteOnce volume that keeps a pod just bound to `node` from
    /// starting: still attached to another node that is down (Multi-Attach).
    /// An attachment to an up node is released at once (its old pod is gone).
    pub(in crate::engine) fn blocking_attachment(&mut self, app: usize, node: NodeId, now: Millis) -> Option<VolumeId> {
        let mut blocking = None;
        for i in 0..self.ctx.sc.apps[app].volumes.len() {
            let v = self.ctx.sc.apps[app].volumes[i];
            let up = |n: NodeId| self.cluster.nodes[n].up;
            if let Some(Attachment { attached: Some(old), .. }) = self.storage.volumes[v].attachment
                && old != node
            {
                if up(old) {
                    self.set_attached(v, Some(node));
                } else {
                    blocking = Some(v);
                }
            }
        }
        if let Some(v) = blocking {
            self.note(
                now,
                TraceKind::MultiAttach,
                About { app: Some(app), ..About::volume(v).on(node) },
                String::new(),
            );
        }
        blocking
    }

    /// Attaches the volume to `to` for the pod bound there, or detaches it.
    fn set_attached(&mut self, v: VolumeId, to: Option<NodeId>) {
        if let Some(a) = &mut self.storage.volumes[v].attachment {
            a.attached = to;
            a.held = to.is_some();
            if let Some(ev) = a.detach_ev.take() {
                self.ctx.queue.cancel(ev);
            }
        }
    }

    /// `node` is up: the kubelet unmounts what its deleted pods held, and
    /// their ReadWriteOnce attachments are released (its pool does not
    /// matter: the attached volume's data lives elsewhere).
    pub(super) fn detach_unused(&mut self, node: NodeId, now: Millis) {
        for v in 0..self.storage.volumes.len() {
            if self.attachment_on(v, node).is_some()
                && !self.cluster.nodes[node]
                    .pods
                    .iter()
                    .any(|&p| self.ctx.sc.apps[self.kubelet.pods[p].app].volumes.contains(&v))
            {
                self.detach(v, now);
            }
        }
    }

    /// The pod objects on the unreachable `node` are deleted, so the
    /// attach-detach controller no longer wants their volumes there and
    /// requests the detach (reconciler.go `reconcile`): at once if the node
    /// carries the out-of-service taint, else `force_detach` later with the
    /// node still unhealthy (`maxWaitForUnmountDuration`; a node that returns
    /// first releases it itself), or with `"never"` only then.
    pub(in crate::engine) fn release_block_volumes(&mut self, node: NodeId, out_of_service: bool, now: Millis) {
        for v in 0..self.storage.volumes.len() {
            let Some(force_detach_ms) = self.attachment_on(v, node).filter(|a| a.held).map(|a| a.force_detach_ms)
            else {
                continue;
            };
            if out_of_service {
                self.detach(v, now);
                continue;
            }
            let timer = force_detach_ms
                .map(|wait| self.ctx.queue.schedule(now.saturating_add(wait), Event::Detach { volume: v }));
            if let Some(a) = &mut self.storage.volumes[v].attachment {
                a.held = false;
                a.detach_ev = timer;
            }
        }
    }

    /// The out-of-service taint is added to `node`: the attachments no pod
    /// object holds any more are detached at once, without the
    /// `maxWaitForUnmountDuration` wait (reconciler.go `reconcile`,
    /// `hasOutOfServiceTaint`).
    pub(in crate::engine) fn detach_released(&mut self, node: NodeId, now: Millis) {
        for v in 0..self.storage.volumes.len() {
            if self.attachment_on(v, node).is_some_and(|a| !a.held) {
                self.detach(v, now);
            }
        }
    }

    /// The attachment is released: pods waiting for it start. Without
    /// quorum nothing can be written: it waits for the catch-up.
    pub(in crate::engine) fn detach(&mut self, v: VolumeId, now: Millis) {
        let quorum = self.control_plane.quorum();
        let a = self.storage.volumes[v].attachment.as_mut().expect("a detach of a volume with no attachment");
        if !quorum {
            a.detach_ev = None;
            a.overdue = true;
            self.note(now, TraceKind::DetachDeferred, About::volume(v), "the detach waits for quorum".into());
            return;
        }
        a.overdue = false;
        let from = a.attached;
        self.set_attached(v, None);
        self.note(now, TraceKind::VolumeDetached, About::volume(v).on(from), String::new());
        let waiting: Vec<_> =
            (0..self.kubelet.pods.len()).filter(|&p| self.kubelet.pods[p].phase == Phase::Attaching(v)).collect();
        for pod in waiting {
            let node = self.kubelet.pods[pod].node.expect("an attaching pod is bound");
            self.set_attached(v, Some(node));
            self.kubelet.start_pod(&mut self.ctx, pod, now);
            self.refresh_app(self.kubelet.pods[pod].app, now);
        }
    }

    /// The catch-up: the detaches that came due without quorum.
    pub(in crate::engine) fn catch_up_detaches(&mut self, now: Millis) {
        for v in 0..self.storage.volumes.len() {
            if self.storage.volumes[v].attachment.as_ref().is_some_and(|a| a.overdue) {
                self.detach(v, now);
            }
        }
    }
}
