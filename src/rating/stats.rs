//! The distributions and intervals every published figure uses, and the one rule by which an
//! interval is drawn (surveys/METHOD.md, sections `intervals` and `quantiles`): an estimate with
//! a standard error and degrees of freedom gets `value ± t₀.₉₇₅(df) · SE`, cut to the range its
//! quantity can take; a rate gets the Wilson interval with the finite-population correction.
//! Pure arithmetic.
//!
//! Quantiles come from `statrs`, except where it is wrong: its Student t quantile drifts from
//! about 5·10⁴ degrees of freedom on (−3.1·10⁻⁷ at 5·10⁴, −6.8·10⁻⁶ at 10⁵, 1.83 instead of
//! 1.96 at 10⁷: the inverse incomplete beta function loses its digits as the quantile nears the
//! normal one). From [`T_EXPANSION_FROM`] degrees of freedom on, the five-term expansion of
//! Abramowitz & Stegun 26.7.5 around the normal quantile is used instead: it agrees with statrs
//! to 5·10⁻¹³ at 1,000 and its error falls as df⁻⁵ beyond.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// The two-sided 95% critical value of the normal distribution, z₀.₉₇₅ (the "1.96").
pub const Z_95: f64 = 1.959_963_984_540_054;

/// From this many degrees of freedom on, t₀.₉₇₅ comes from the expansion, not from statrs.
pub const T_EXPANSION_FROM: f64 = 1000.0;

/// A 95% interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    /// `centre ± half_width`.
    pub fn around(centre: f64, half_width: f64) -> Interval {
        Interval {
            low: centre - half_width,
            high: centre + half_width,
        }
    }

    /// The interval cut to `range`: the one clipping rule of every interval (a score cannot
    /// leave 0–100, a rate 0–1, a mean the scale's lowest and highest score).
    pub fn clamped(self, range: Range) -> Interval {
        Interval {
            low: self.low.clamp(range.low, range.high),
            high: self.high.clamp(range.low, range.high),
        }
    }

    /// The interval with both ends multiplied by `factor` (a rate as a percentage).
    pub fn scaled(self, factor: f64) -> Interval {
        Interval {
            low: self.low * factor,
            high: self.high * factor,
        }
    }
}

/// The values a quantity can take.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    pub low: f64,
    pub high: f64,
}

impl Range {
    /// Scores, indices and ratings on 0–100.
    pub const SCORE: Range = Range {
        low: 0.0,
        high: 100.0,
    };
    /// Rates and shares, 0–1.
    pub const SHARE: Range = Range {
        low: 0.0,
        high: 1.0,
    };
}

/// A figure with its sampling error: an index, an area score, a school's or the county's score.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    pub value: f64,
    /// Already multiplied by the finite-population correction; 0 for a figure with no sampling
    /// error (indicators, or a population that answered in full).
    pub standard_error: f64,
    /// The degrees of freedom of the standard error (fractional after Welch–Satterthwaite);
    /// `None` when the standard error is 0.
    pub df: Option<f64>,
}

impl Estimate {
    /// A figure known exactly, such as the share of a school's indicators met.
    pub fn exact(value: f64) -> Estimate {
        Estimate {
            value,
            standard_error: 0.0,
            df: None,
        }
    }

    /// The 95% interval: `value ± t₀.₉₇₅(df) · SE` cut to `range`; the value itself when the
    /// standard error is 0; `None` when there is an error but no degrees of freedom to judge it.
    pub fn interval(&self, range: Range) -> Option<Interval> {
        if self.standard_error <= 0.0 {
            return Some(Interval::around(self.value, 0.0).clamped(range));
        }
        let critical = t_quantile_975(self.df?)?;
        Some(Interval::around(self.value, critical * self.standard_error).clamped(range))
    }
}

/// The finite-population factor of a variance, 1 − f with f = n / N: the share of sampling
/// variance left when `n` of `population` people answered. 1 when the population is unknown
/// (`None` or 0) or smaller than `n` (then the population figure is evidently wrong and is not
/// trusted); 0 when everyone answered.
pub fn finite_population_factor(n: u64, population: Option<u64>) -> f64 {
    match population {
        Some(population) if population > 0 && n <= population => 1.0 - n as f64 / population as f64,
        _ => 1.0,
    }
}

/// t₀.₉₇₅(df), the two-sided 95% critical value of Student's t with `df` degrees of freedom,
/// whole or fractional; `None` for `df` ≤ 0 or not a number. Infinite df gives z₀.₉₇₅.
pub fn t_quantile_975(df: f64) -> Option<f64> {
    if df.is_nan() || df <= 0.0 {
        return None;
    }
    if df.is_infinite() {
        return Some(Z_95);
    }
    if df >= T_EXPANSION_FROM {
        return Some(t_expansion_975(df));
    }
    let t = StudentsT::new(0.0, 1.0, df).ok()?;
    Some(t.inverse_cdf(0.975))
}

/// Abramowitz & Stegun 26.7.5: t_p(ν) = z + g₁/ν + g₂/ν² + g₃/ν³ + g₄/ν⁴ with z = z_p.
fn t_expansion_975(nu: f64) -> f64 {
    let z = Z_95;
    let g1 = (z.powi(3) + z) / 4.0;
    let g2 = (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / 96.0;
    let g3 = (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / 384.0;
    let g4 = (79.0 * z.powi(9) + 776.0 * z.powi(7) + 1482.0 * z.powi(5)
        - 1920.0 * z.powi(3)
        - 945.0 * z)
        / 92160.0;
    z + g1 / nu + g2 / nu.powi(2) + g3 / nu.powi(3) + g4 / nu.powi(4)
}

/// P(Z ≤ x) for a standard normal Z.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-x / std::f64::consts::SQRT_2)
}

/// P(T ≤ t) for Student's t distribution with `df` degrees of freedom (`df` > 0, not
/// necessarily whole: Welch's test gives fractional degrees of freedom).
pub fn t_cdf(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(distribution) => distribution.cdf(t),
        Err(_) => f64::NAN,
    }
}

/// The two-sided p-value of a t statistic: P(|T| ≥ |t|).
pub fn t_two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t.is_infinite() {
        return 0.0;
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(distribution) => (2.0 * distribution.sf(t.abs())).clamp(0.0, 1.0),
        Err(_) => f64::NAN,
    }
}

/// The two-sided p-value of a standard normal statistic: P(|Z| ≥ |z|).
pub fn normal_two_sided_p(z: f64) -> f64 {
    statrs::function::erf::erfc(z.abs() / std::f64::consts::SQRT_2).clamp(0.0, 1.0)
}

/// z₀.₉₇₅ from statrs, to check the constant against.
pub fn normal_quantile_975() -> f64 {
    Normal::new(0.0, 1.0).map_or(Z_95, |normal| normal.inverse_cdf(0.975))
}

/// The 95% Wilson score interval for a rate of `successes` out of `n`, with the
/// finite-population factor `fpc` (1 − f, see [`finite_population_factor`]): the Wilson
/// formula with the effective sample size n / (1 − f). When everyone answered (factor 0) the
/// rate is known and the interval is the rate itself. `None` when `n` = 0.
///
/// Unlike the textbook p ± 1.96·√(p(1−p)/n), it stays inside 0–1 and does not shrink to nothing
/// when every answer is the same (10 satisfied out of 10 is not a certain 100%).
pub fn wilson_interval(successes: u64, n: u64, fpc: f64) -> Option<Interval> {
    if n == 0 || successes > n {
        return None;
    }
    let p = successes as f64 / n as f64;
    if fpc <= 0.0 {
        return Some(Interval::around(p, 0.0));
    }
    let n = n as f64 / fpc.min(1.0);
    let z2 = Z_95 * Z_95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half_width = Z_95 / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(Interval::around(centre, half_width).clamped(Range::SHARE))
}

/// The 95% t interval for a mean of `n` values with sample standard deviation `sd`:
/// `mean ± t₀.₉₇₅(n − 1) · sd · √(fpc / n)`, cut to `range`. `None` when `n` < 2 and the
/// population did not answer in full.
pub fn mean_estimate(mean: f64, sd: Option<f64>, n: u64, fpc: f64) -> Option<Estimate> {
    if fpc <= 0.0 && n >= 1 {
        return Some(Estimate::exact(mean));
    }
    let sd = sd?;
    if n < 2 {
        return None;
    }
    Some(Estimate {
        value: mean,
        standard_error: sd * (fpc / n as f64).sqrt(),
        df: Some(n as f64 - 1.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} is not within {tolerance} of {expected}"
        );
    }

    /// t₀.₉₇₅ for 1 to 30 degrees of freedom (the index is df − 1), to nine decimals, from the
    /// printed tables: statrs must agree with them.
    const T_975: [f64; 30] = [
        12.706_204_736,
        4.302_652_730,
        3.182_446_305,
        2.776_445_105,
        2.570_581_836,
        2.446_911_851,
        2.364_624_252,
        2.306_004_135,
        2.262_157_163,
        2.228_138_852,
        2.200_985_160,
        2.178_812_830,
        2.160_368_656,
        2.144_786_688,
        2.131_449_546,
        2.119_905_299,
        2.109_815_578,
        2.100_922_040,
        2.093_024_054,
        2.085_963_447,
        2.079_613_845,
        2.073_873_068,
        2.068_657_610,
        2.063_898_562,
        2.059_538_553,
        2.055_529_439,
        2.051_830_516,
        2.048_407_142,
        2.045_229_642,
        2.042_272_456,
    ];

    #[test]
    fn the_quantiles_match_the_printed_tables() {
        for (index, expected) in T_975.iter().enumerate() {
            close(
                t_quantile_975(index as f64 + 1.0).expect("df > 0"),
                *expected,
                6e-10,
            );
        }
        close(normal_quantile_975(), Z_95, 1e-15);
        assert_eq!(t_quantile_975(0.0), None);
        assert_eq!(t_quantile_975(f64::NAN), None);
        assert_eq!(t_quantile_975(f64::INFINITY), Some(Z_95));
    }

    #[test]
    fn every_quantile_leaves_two_and_a_half_percent_in_the_tail() {
        for df in [
            1.0, 2.5, 7.0, 30.0, 31.0, 37.86, 120.0, 999.0, 1000.0, 5000.0,
        ] {
            let critical = t_quantile_975(df).expect("df > 0");
            close(t_cdf(critical, df), 0.975, 1e-13);
        }
    }

    #[test]
    fn the_expansion_takes_over_without_a_step_and_statrs_is_wrong_far_out() {
        // Where the expansion takes over, statrs and the expansion agree.
        let statrs = |df: f64| {
            StudentsT::new(0.0, 1.0, df)
                .expect("df > 0")
                .inverse_cdf(0.975)
        };
        close(t_expansion_975(1000.0), statrs(1000.0), 1e-12);
        close(t_expansion_975(20_000.0), statrs(20_000.0), 1e-12);
        // Far out statrs drifts: at 10⁵ degrees of freedom it is 6.8·10⁻⁶ low, while its own
        // tail probability at the expansion's quantile is 0.025 to 2·10⁻¹².
        assert!(statrs(100_000.0) < t_expansion_975(100_000.0) - 6e-6);
        let sf = StudentsT::new(0.0, 1.0, 100_000.0)
            .expect("df > 0")
            .sf(t_expansion_975(100_000.0));
        close(sf, 0.025, 1e-11);
        // No step at the switch, and the normal quantile in the limit.
        let below = t_quantile_975(999.999).expect("df");
        let at = t_quantile_975(1000.0).expect("df");
        assert!(below >= at && below - at < 1e-8);
        close(t_quantile_975(1e12).expect("df"), Z_95, 1e-11);
    }

    #[test]
    fn the_normal_cdf_and_p_values() {
        // statrs' erfc is good to about 10⁻¹¹ here, ample for p-values.
        assert_eq!(normal_cdf(0.0), 0.5);
        close(normal_cdf(Z_95), 0.975, 1e-10);
        close(normal_cdf(1.0), 0.841_344_746_068_542_9, 1e-10);
        close(
            normal_two_sided_p(2.0 * std::f64::consts::SQRT_2),
            0.004_677_734_981_047_266,
            1e-10,
        );
        close(normal_cdf(-5.0) / 2.866_515_718_791_946e-7, 1.0, 1e-9);
        // t with 1 degree of freedom is the Cauchy distribution.
        for t in [-10.0f64, -0.5, 0.0, 1.0, 50.0] {
            close(t_cdf(t, 1.0), 0.5 + t.atan() / std::f64::consts::PI, 1e-12);
        }
        close(t_two_sided_p(2.0, 2.0), 1.0 - 2.0 / 6f64.sqrt(), 1e-12);
    }

    #[test]
    fn the_wilson_interval_of_eight_out_of_ten() {
        // p = 0.8, z² = 3.8415; centre = (0.8 + z²/20)/(1 + z²/10) = 0.71674;
        // half width = z/(1 + z²/10)·√(0.016 + z²/400) = 0.22658.
        let interval = wilson_interval(8, 10, 1.0).expect("n > 0");
        close(interval.low, 0.4902, 1e-4);
        close(interval.high, 0.9433, 1e-4);
        assert_eq!(wilson_interval(0, 0, 1.0), None);
        assert_eq!(wilson_interval(3, 2, 1.0), None);
    }

    #[test]
    fn the_wilson_interval_narrows_with_the_population_and_closes_for_a_census() {
        // 8 of 10 out of 20: n_eff = 10 / 0.5 = 20, as 16 of 20 from a large population.
        let corrected = wilson_interval(8, 10, finite_population_factor(10, Some(20)));
        assert_eq!(corrected, wilson_interval(16, 20, 1.0));
        let census = wilson_interval(8, 10, finite_population_factor(10, Some(10)));
        assert_eq!(census, Some(Interval::around(0.8, 0.0)));
    }

    #[test]
    fn the_finite_population_factor_trusts_only_a_population_at_least_as_large_as_n() {
        close(finite_population_factor(40, Some(160)), 0.75, 1e-15);
        assert_eq!(finite_population_factor(12, Some(12)), 0.0);
        assert_eq!(finite_population_factor(13, Some(12)), 1.0);
        assert_eq!(finite_population_factor(12, None), 1.0);
        assert_eq!(finite_population_factor(12, Some(0)), 1.0);
    }

    #[test]
    fn an_interval_is_cut_to_its_range_and_a_census_is_a_point() {
        // Scores 100, 80, 80, 60: mean 80, sd √(800/3), se 8.164966, t₀.₉₇₅(3) = 3.182446.
        let estimate = mean_estimate(80.0, Some((800.0f64 / 3.0).sqrt()), 4, 1.0).expect("n ≥ 2");
        let interval = estimate.interval(Range::SCORE).expect("df");
        close(interval.low, 54.015_43, 1e-5);
        assert_eq!(interval.high, 100.0);
        assert_eq!(mean_estimate(80.0, None, 1, 1.0), None);
        let census = mean_estimate(80.0, None, 1, 0.0).expect("everyone answered");
        assert_eq!(
            census.interval(Range::SCORE),
            Some(Interval::around(80.0, 0.0))
        );
        let no_df = Estimate {
            value: 50.0,
            standard_error: 1.0,
            df: None,
        };
        assert_eq!(no_df.interval(Range::SCORE), None);
    }
}
