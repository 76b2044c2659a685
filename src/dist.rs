//! Probability distributions of durations: time to failure, time to repair,
//! pod start-up time.
//!
//! A [`Dist`] is validated (every parameter finite and positive where it must
//! be) before the engine sees it, so sampling never fails. Samples are whole
//! milliseconds; [`Dist::Never`] samples as `None`, an event that never comes.

use crate::time::{MAX_DURATION_MS, Millis, format_duration};
use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal, Weibull};

/// A distribution of durations, parameters in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    /// Always the same duration.
    Fixed(Millis),
    /// Memoryless, with the given mean.
    Exponential { mean_ms: f64 },
    /// Weibull with shape `k` and scale `λ`; shape below 1 is a decreasing
    /// hazard, the fit for server failures (Schroeder and Gibson, DSN 2006).
    Weibull { shape: f64, scale_ms: f64 },
    /// Lognormal given by its median (`e^μ`) and `σ`; the fit for repair times.
    Lognormal { median_ms: f64, sigma: f64 },
    /// Uniform between `min` and `max`, both included.
    Uniform { min_ms: Millis, max_ms: Millis },
    /// The event never happens.
    Never,
}

impl Dist {
    /// Draws one duration, or `None` for [`Dist::Never`]. Draws are capped at
    /// the 100,000-year duration limit so that time arithmetic cannot overflow
    /// however heavy the tail.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<Millis> {
        let ms = match *self {
            Dist::Fixed(ms) => return Some(ms),
            Dist::Never => return None,
            Dist::Uniform { min_ms, max_ms } => return Some(rng.random_range(min_ms..=max_ms)),
            Dist::Exponential { mean_ms } => Exp::new(1.0 / mean_ms).expect("validated rate").sample(rng),
            Dist::Weibull { shape, scale_ms } => Weibull::new(scale_ms, shape).expect("validated weibull").sample(rng),
            Dist::Lognormal { median_ms, sigma } => {
                LogNormal::new(median_ms.ln(), sigma).expect("validated lognormal").sample(rng)
            }
        };
        Some(ms.round().min(MAX_DURATION_MS as f64) as Millis)
    }

    /// The mean in milliseconds (`None` for [`Dist::Never`]); used by the
    /// closed-form checks and by `validate` to echo what a scenario means.
    pub fn mean_ms(&self) -> Option<f64> {
        match *self {
            Dist::Fixed(ms) => Some(ms as f64),
            Dist::Never => None,
            Dist::Uniform { min_ms, max_ms } => Some((min_ms as f64 + max_ms as f64) / 2.0),
            Dist::Exponential { mean_ms } => Some(mean_ms),
            Dist::Weibull { shape, scale_ms } => Some(scale_ms * statrs::function::gamma::gamma(1.0 + 1.0 / shape)),
            Dist::Lognormal { median_ms, sigma } => Some(median_ms * (sigma * sigma / 2.0).exp()),
        }
    }

    /// The longest draw, when the distribution has one: `Fixed` and
    /// `Uniform`; `None` for the unbounded ones (a draw of `Never` never
    /// happens, so it waits for nothing: `Some(0)`).
    pub fn max_ms(&self) -> Option<Millis> {
        match *self {
            Dist::Fixed(ms) => Some(ms),
            Dist::Uniform { max_ms, .. } => Some(max_ms),
            Dist::Never => Some(0),
            Dist::Exponential { .. } | Dist::Weibull { .. } | Dist::Lognormal { .. } => None,
        }
    }

    /// A short human description, such as `weibull(shape 0.8, scale 8000h)`.
    pub fn describe(&self) -> String {
        let d = |ms: f64| format_duration(ms.round() as Millis);
        match *self {
            Dist::Fixed(ms) => format_duration(ms),
            Dist::Never => "never".to_string(),
            Dist::Uniform { min_ms, max_ms } => format!("uniform({}..{})", d(min_ms as f64), d(max_ms as f64)),
            Dist::Exponential { mean_ms } => format!("exponential(mean {})", d(mean_ms)),
            Dist::Weibull { shape, scale_ms } => format!("weibull(shape {shape}, scale {})", d(scale_ms)),
            Dist::Lognormal { median_ms, sigma } => format!("lognormal(median {}, sigma {sigma})", d(median_ms)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// The sample mean of each distribution lies within 4 standard errors of
    /// its closed-form mean (a failure chance of about 6e-5 per check).
    #[test]
    fn sample_means_match_closed_forms() {
        let dists = [
            Dist::Exponential { mean_ms: 3_600_000.0 },
            Dist::Weibull { shape: 0.8, scale_ms: 28_800_000.0 },
            Dist::Lognormal { median_ms: 43_200_000.0, sigma: 1.0 },
            Dist::Uniform { min_ms: 1000, max_ms: 9000 },
        ];
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let n = 200_000;
        for dist in dists {
            let xs: Vec<f64> = (0..n).map(|_| dist.sample(&mut rng).unwrap() as f64).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let se = (var / n as f64).sqrt();
            let expected = dist.mean_ms().unwrap();
            assert!((mean - expected).abs() < 4.0 * se, "{dist:?}: mean {mean}, expected {expected}, se {se}");
        }
        assert_eq!(Dist::Never.sample(&mut rng), None);
        assert_eq!(Dist::Fixed(5).sample(&mut rng), Some(5));
    }

    /// No draw exceeds `max_ms` where there is one.
    #[test]
    fn draws_stay_within_the_bound() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        for dist in [Dist::Fixed(5), Dist::Uniform { min_ms: 1000, max_ms: 9000 }] {
            let max = dist.max_ms().unwrap();
            assert!((0..10_000).all(|_| dist.sample(&mut rng).unwrap() <= max), "{dist:?}");
        }
        assert_eq!(Dist::Exponential { mean_ms: 1.0 }.max_ms(), None);
        assert_eq!(Dist::Never.max_ms(), Some(0));
    }
}
