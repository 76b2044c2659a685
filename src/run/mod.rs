//! A run and what is made of it: the Monte Carlo driver that runs the
//! replications (`montecarlo`), their summary with its statistics
//! (`summary`, `stats`), paired comparisons (`compare`), the answer in words
//! (`verdict`) and the warnings of the final run settings (`warnings`).

pub mod compare;
pub mod montecarlo;
pub mod stats;
pub mod summary;
pub mod verdict;
pub mod warnings;
