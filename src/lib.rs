//! clustersim: a discrete-event failure simulator for small hyperconverged
//! Kubernetes clusters. See ARCHITECTURE.md for the map.

// The system calls go through rustix and libraries; this crate has no
// `unsafe` of its own.
#![forbid(unsafe_code)]

/// Every variant of a fieldless enum that derives strum's `VariantArray` and
/// `EnumCount`, as an array in declaration order: a `const` that sizes other
/// arrays and iterates by value, with no hand-written list beside the enum.
macro_rules! all_variants {
    ($t:ty) => {{
        const N: usize = <$t as strum::EnumCount>::COUNT;
        let variants = <$t as strum::VariantArray>::VARIANTS;
        let mut all = [variants[0]; N];
        let mut i = 0;
        while i < N {
            all[i] = variants[i];
            i += 1;
        }
        all
    }};
}

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
