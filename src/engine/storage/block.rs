//! Attachable block volumes (iSCSI, Ceph RBD, Longhorn; domain.md section
//! 6): the data lives off the cluster's nodes, in a storage system whose
//! own failures the simulation does not model, so the volume keeps no copy
//! on any node and no node's failure or pool loss makes it unavailable.
//! What such a volume has is its ReadWriteOnce attachment to the node of
//! its pod (`attachment.rs`), which a failed node can keep and so keep a
//! replacement pod from starting: a block volume is an attachment with no
//! redundancy of its own, which is what the defaults of [`Backend`] are.

use super::Backend;

/// The block backend.
pub(super) struct Block;

impl Backend for Block {}
