//! The few distributions and intervals the results need, written out here rather than pulled in
//! from a statistics crate: the normal and Student's t distribution functions, the 95% critical
//! values of t, the Wilson interval for a rate and the t interval for a mean. Pure arithmetic.
//!
//! Accuracy: the normal distribution to about 15 significant digits, in the far tails too (a
//! series and a continued fraction of the error function), the t distribution to about 10⁻¹²
//! (continued fraction of the incomplete beta function), and the 95% critical value of t is
//! exact to nine digits up to 30 degrees of freedom (a table) and within 10⁻⁵ beyond (the
//! Cornish–Fisher expansion).

use serde::Serialize;

/// The two-sided 95% critical value of the normal distribution, z₀.₉₇₅ (the "1.96").
pub const Z_95: f64 = 1.959_963_984_540_054;

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

    /// The interval cut to `[low, high]`, for quantities that cannot leave a range (a score of
    /// 0–100, a share of 0–1).
    pub fn clamped(self, low: f64, high: f64) -> Interval {
        Interval {
            low: self.low.clamp(low, high),
            high: self.high.clamp(low, high),
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

/// P(Z ≤ x) for a standard normal Z.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// The complementary error function, erfc(x) = 1 − erf(x), to about 15 significant digits for
/// every x.
///
/// Below 1 it is 1 − erf(x) from the series erf(x) = 2/√π · e^(−x²) · Σ (2x²)ⁿ x / (1·3·…·(2n+1)),
/// whose terms are all positive (no cancellation). From 1 up it is Laplace's continued fraction
/// erfc(x) = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + …)))), which keeps its *relative*
/// accuracy however small the tail, so tiny p-values stay exact.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    let front = (-x * x).exp() / std::f64::consts::PI.sqrt();
    if x < 1.0 {
        let mut term = x;
        let mut sum = x;
        for n in 1..=200u32 {
            term *= 2.0 * x * x / f64::from(2 * n + 1);
            sum += term;
            if term <= sum * 1e-17 {
                break;
            }
        }
        return 1.0 - 2.0 * front * sum;
    }
    // Modified Lentz evaluation of x + a₁/(x + a₂/(x + …)) with aᵢ = i/2.
    const TINY: f64 = 1e-300;
    let guard = |value: f64| if value.abs() < TINY { TINY } else { value };
    let mut fraction = x;
    let mut c = x;
    let mut d = 0.0;
    // Converges in under 200 steps from x = 1, fewer further out.
    for i in 1..=500u32 {
        let a = f64::from(i) / 2.0;
        d = 1.0 / guard(x + a * d);
        c = guard(x + a / c);
        let step = c * d;
        fraction *= step;
        if (step - 1.0).abs() < 1e-16 {
            break;
        }
    }
    front / fraction
}

/// P(T ≤ t) for Student's t distribution with `df` degrees of freedom (`df` > 0, not
/// necessarily whole: Welch's test gives fractional degrees of freedom).
pub fn t_cdf(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t.is_infinite() {
        return if t > 0.0 { 1.0 } else { 0.0 };
    }
    // P(|T| > |t|) = I_x(df/2, 1/2) with x = df / (df + t²).
    let x = df / (df + t * t);
    let one_tail = 0.5 * regularized_incomplete_beta(x, df / 2.0, 0.5);
    if t > 0.0 { 1.0 - one_tail } else { one_tail }
}

/// The two-sided p-value of a t statistic: P(|T| ≥ |t|).
pub fn t_two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t.is_infinite() {
        return 0.0;
    }
    let x = df / (df + t * t);
    regularized_incomplete_beta(x, df / 2.0, 0.5).clamp(0.0, 1.0)
}

/// The two-sided p-value of a standard normal statistic: P(|Z| ≥ |z|).
pub fn normal_two_sided_p(z: f64) -> f64 {
    erfc(z.abs() / std::f64::consts::SQRT_2).clamp(0.0, 1.0)
}

/// t₀.₉₇₅ for 1 to 30 degrees of freedom (the index is df − 1), to nine decimals.
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

/// The two-sided 95% critical value of t with `df` degrees of freedom, t₀.₉₇₅(df); `None` for
/// `df` = 0 (a single answer has no spread, so no interval).
///
/// Up to 30 degrees of freedom it is read from a table; beyond, the Cornish–Fisher expansion
/// in 1/df around z₀.₉₇₅ is within 10⁻⁵ of the exact value (and tends to 1.96), which is
/// better than the customary switch to 1.96 at 30 (that would jump from 2.04 to 1.96).
pub fn t_critical_95(df: u64) -> Option<f64> {
    let index = usize::try_from(df).ok()?.checked_sub(1)?;
    if let Some(value) = T_975.get(index) {
        return Some(*value);
    }
    let z = Z_95;
    let nu = df as f64;
    let g1 = (z.powi(3) + z) / 4.0;
    let g2 = (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / 96.0;
    let g3 = (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / 384.0;
    Some(z + g1 / nu + g2 / nu.powi(2) + g3 / nu.powi(3))
}

/// The 95% Wilson score interval for a rate of `successes` out of `n`; `None` when `n` = 0.
///
/// Unlike the textbook p ± 1.96·√(p(1−p)/n), it stays inside 0–1 and does not shrink to nothing
/// when every answer is the same (10 satisfied out of 10 is not a certain 100%).
pub fn wilson_interval(successes: u64, n: u64) -> Option<Interval> {
    if n == 0 || successes > n {
        return None;
    }
    let n = n as f64;
    let p = successes as f64 / n;
    let z2 = Z_95 * Z_95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half_width = Z_95 / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(Interval::around(centre, half_width).clamped(0.0, 1.0))
}

/// The 95% t interval for a mean: mean ± t₀.₉₇₅(n − 1) · sd / √n; `None` when `n` < 2.
pub fn mean_interval(mean: f64, sd: f64, n: u64) -> Option<Interval> {
    let critical = t_critical_95(n.checked_sub(1)?)?;
    Some(Interval::around(mean, critical * sd / (n as f64).sqrt()))
}

/// ln Γ(x) for x > 0, by the Lanczos approximation (g = 7, nine coefficients; relative error
/// about 10⁻¹⁵).
fn ln_gamma(x: f64) -> f64 {
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // The reflection formula keeps the series where it converges well.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, coefficient) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += coefficient / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// The regularised incomplete beta function I_x(a, b), for 0 ≤ x ≤ 1 and a, b > 0.
///
/// Numerical Recipes (3rd ed., §6.4): the continued fraction converges quickly for
/// x < (a + 1)/(a + b + 2); above that the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) is used.
fn regularized_incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(x, a, b) / a
    } else {
        1.0 - front * beta_continued_fraction(1.0 - x, b, a) / b
    }
}

/// The continued fraction of the incomplete beta function, evaluated by the modified Lentz
/// method.
fn beta_continued_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPSILON: f64 = 1e-15;
    const MAX_ITERATIONS: u32 = 300;
    let guard = |value: f64| if value.abs() < TINY { TINY } else { value };
    let qab = a + b;
    let qap = a + 1.0;
    let qam = a - 1.0;
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=MAX_ITERATIONS {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let even = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        h *= d * c;
        let odd = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < EPSILON {
            break;
        }
    }
    h
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

    /// Reference values: Python's `math.erfc` (the C library's, correctly rounded or nearly).
    #[test]
    fn the_normal_cdf_matches_known_values() {
        assert_eq!(normal_cdf(0.0), 0.5);
        close(normal_cdf(Z_95), 0.975, 1e-15);
        close(normal_cdf(1.0), 0.841_344_746_068_542_9, 1e-15);
        close(normal_cdf(-1.0), 0.158_655_253_931_457_05, 1e-15);
        close(normal_cdf(3.0), 0.998_650_101_968_369_9, 1e-15);
        close(normal_cdf(-3.0) / 0.001_349_898_031_630_095_7, 1.0, 1e-14);
        // On both sides of the switch from the series to the continued fraction.
        close(erfc(0.999_999), 0.157_299_622_158_197_68, 1e-15);
        close(erfc(1.0), 0.157_299_207_050_285_13, 1e-15);
        close(erfc(0.5), 0.479_500_122_186_953_5, 1e-15);
        close(erfc(2.5) / 4.069_520_174_449_589e-4, 1.0, 1e-14);
    }

    #[test]
    fn the_normal_tail_keeps_its_relative_accuracy_far_out() {
        close(erfc(4.0) / 1.541_725_790_028_002e-8, 1.0, 1e-14);
        close(erfc(10.0) / 2.088_487_583_762_545e-45, 1.0, 1e-14);
        close(normal_cdf(-5.0) / 2.866_515_718_791_946e-7, 1.0, 1e-14);
        close(erfc(-1.0), 1.842_700_792_949_715, 1e-15);
        close(
            normal_two_sided_p(2.0 * std::f64::consts::SQRT_2),
            0.004_677_734_981_047_266,
            1e-15,
        );
    }

    #[test]
    fn the_t_cdf_with_one_degree_of_freedom_is_the_cauchy_distribution() {
        for t in [-10.0f64, -2.0, -0.5, 0.0, 0.3, 1.0, 4.0, 50.0] {
            let cauchy = 0.5 + f64::atan(t) / std::f64::consts::PI;
            close(t_cdf(t, 1.0), cauchy, 1e-12);
        }
    }

    #[test]
    fn the_t_cdf_matches_the_closed_forms_for_two_and_three_degrees_of_freedom() {
        for t in [-6.0f64, -1.5, 0.0, 0.7, 2.0, 9.0] {
            let df2 = 0.5 + t / (2.0 * (2.0 + t * t).sqrt());
            close(t_cdf(t, 2.0), df2, 1e-12);
            let root3 = 3f64.sqrt();
            let df3 = 0.5
                + (t / (root3 * (1.0 + t * t / 3.0)) + (t / root3).atan()) / std::f64::consts::PI;
            close(t_cdf(t, 3.0), df3, 1e-12);
        }
    }

    #[test]
    fn the_t_cdf_tends_to_the_normal_for_many_degrees_of_freedom() {
        close(t_cdf(1.96, 1e7), normal_cdf(1.96), 1e-6);
        close(t_cdf(-2.5, 1e7), normal_cdf(-2.5), 1e-6);
    }

    #[test]
    fn the_t_cdf_accepts_fractional_degrees_of_freedom() {
        // Between its whole neighbours, as Welch's test needs.
        let below = t_cdf(2.0, 7.0);
        let between = t_cdf(2.0, 7.5);
        let above = t_cdf(2.0, 8.0);
        assert!(below < between && between < above);
    }

    #[test]
    fn every_tabled_critical_value_leaves_two_and_a_half_percent_in_the_tail() {
        // The table and the t CDF were written independently; each checks the other.
        for df in 1..=30 {
            let critical = t_critical_95(df).expect("df > 0");
            close(t_cdf(critical, df as f64), 0.975, 1e-9);
        }
    }

    #[test]
    fn critical_values_beyond_the_table_come_from_the_expansion() {
        for df in [31, 40, 60, 120, 1000, 100_000] {
            let critical = t_critical_95(df).expect("df > 0");
            close(t_cdf(critical, df as f64), 0.975, 1e-6);
        }
        close(t_critical_95(1_000_000).expect("df > 0"), 1.96, 1e-4);
        // No jump where the table ends.
        let at_30 = t_critical_95(30).expect("df > 0");
        let at_31 = t_critical_95(31).expect("df > 0");
        assert!(at_31 < at_30 && at_30 - at_31 < 0.003);
        assert_eq!(t_critical_95(0), None);
    }

    #[test]
    fn the_wilson_interval_of_eight_out_of_ten() {
        // p = 0.8, z² = 3.8415; centre = (0.8 + z²/20)/(1 + z²/10) = 0.71674;
        // half width = z/(1 + z²/10)·√(0.016 + z²/400) = 0.22658.
        let interval = wilson_interval(8, 10).expect("n > 0");
        close(interval.low, 0.4902, 1e-4);
        close(interval.high, 0.9433, 1e-4);
    }

    #[test]
    fn the_wilson_interval_of_a_unanimous_sample_is_not_a_point() {
        // 10 out of 10: centre (1 + 0.19208)/1.38415 = 0.86124, half width 0.13876.
        let interval = wilson_interval(10, 10).expect("n > 0");
        close(interval.high, 1.0, 1e-12);
        close(interval.low, 0.7225, 1e-4);
        assert_eq!(wilson_interval(0, 0), None);
        assert_eq!(wilson_interval(3, 2), None);
    }

    #[test]
    fn the_t_interval_of_four_scores() {
        // Scores 100, 80, 80, 60: mean 80, sd √(800/3) = 16.32993, se 8.164966,
        // t₀.₉₇₅(3) = 3.182446, half width 25.98457.
        let interval = mean_interval(80.0, (800.0f64 / 3.0).sqrt(), 4).expect("n ≥ 2");
        close(interval.low, 54.015_43, 1e-5);
        close(interval.high, 105.984_57, 1e-5);
        assert_eq!(mean_interval(80.0, 0.0, 1), None);
    }

    #[test]
    fn ln_gamma_matches_factorials_and_the_half() {
        close(ln_gamma(1.0), 0.0, 1e-13);
        close(ln_gamma(5.0), 24f64.ln(), 1e-12);
        close(ln_gamma(0.5), std::f64::consts::PI.sqrt().ln(), 1e-12);
        close(ln_gamma(0.25), 3.625_609_908_221_908_f64.ln(), 1e-12);
    }
}
