//! The statistics of a run: means, 95% Student-t intervals of the mean and
//! percentiles of per-replication values.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// The mean of `xs`; 0 for none.
pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() { 0.0 } else { xs.iter().sum::<f64>() / xs.len() as f64 }
}

/// The 95% Student-t confidence interval of the mean of `xs`; `None` for
/// fewer than two values.
pub fn t_interval(xs: &[f64]) -> Option<(f64, f64)> {
    let n = xs.len();
    if n < 2 {
        return None;
    }
    let m = mean(xs);
    let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64).ok()?.inverse_cdf(0.975);
    let half = t * (var / n as f64).sqrt();
    Some((m - half, m + half))
}

/// Linear interpolation between closest ranks (type 7) of sorted values.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        1 => sorted[0],
        n => {
            let pos = q * (n - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_interval_matches_tables() {
        // n = 10: t(0.975, 9) = 2.262; sd of 1..10 is 3.0277.
        let xs: Vec<f64> = (1..=10).map(f64::from).collect();
        let (lo, hi) = t_interval(&xs).unwrap();
        let half = 2.262_157 * 3.027_650_354 / 10f64.sqrt();
        assert!((lo - (5.5 - half)).abs() < 1e-5 && (hi - (5.5 + half)).abs() < 1e-5, "{lo} {hi}");
        assert_eq!(t_interval(&[1.0]), None);
    }
}
