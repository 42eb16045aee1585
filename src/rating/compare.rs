//! Whether two groups really differ — two schools, this year and last, registered poor families
//! and the rest: the two-proportion z-test for satisfaction rates and Welch's t-test for mean
//! scores, each with a two-sided p-value and a sentence a supervisor understands. Pure
//! arithmetic.
//!
//! The level is the customary 5%: a difference is called 明显 when p < 0.05.

use serde::Serialize;

use super::satisfaction::Satisfaction;
use super::stats::{normal_two_sided_p, t_two_sided_p};

/// Below this p-value a difference is called clear (明显).
pub const SIGNIFICANCE_LEVEL: f64 = 0.05;

/// A rate: `successes` (satisfied answers) out of `n`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateSample {
    pub successes: u64,
    pub n: u64,
}

impl RateSample {
    /// The satisfaction rate of a question; `None` when it has none.
    pub fn of(summary: &Satisfaction) -> Option<RateSample> {
        summary.rate?;
        Some(RateSample {
            successes: summary.satisfied,
            n: summary.n,
        })
    }
}

/// A mean with its spread: `n` answers, their mean and sample standard deviation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanSample {
    pub n: u64,
    pub mean: f64,
    pub sd: f64,
}

impl MeanSample {
    /// The satisfaction index of a question (0–100) as a mean; `None` with fewer than two
    /// answers or no index. Tests compare the answers' spread without the finite-population
    /// correction (surveys/METHOD.md, `compare`).
    pub fn of_index(summary: &Satisfaction) -> Option<MeanSample> {
        Some(MeanSample {
            n: summary.n,
            mean: summary.index?,
            sd: summary.index_sd?,
        })
    }
}

/// The outcome of a test of two groups.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// The first group's figure minus the second's (a rate as a fraction, or a mean).
    pub difference: f64,
    /// z for rates, t for means.
    pub statistic: f64,
    /// The degrees of freedom of Welch's t; `None` for the z-test.
    pub df: Option<f64>,
    /// Two-sided.
    pub p_value: f64,
    /// p < [`SIGNIFICANCE_LEVEL`].
    pub clear: bool,
    /// The groups are small enough for the test's approximation to be rough: fewer than five
    /// expected answers on either side of a rate, or fewer than five answers in a group of a
    /// mean.
    pub small_samples: bool,
    /// For supervisors: 差异明显（p = 0.003），不太可能是偶然造成的.
    pub sentence: String,
}

/// The two-proportion z-test (pooled): do the two rates differ? `None` when a group has no
/// answer.
pub fn compare_rates(a: RateSample, b: RateSample) -> Option<Comparison> {
    if a.n == 0 || b.n == 0 || a.successes > a.n || b.successes > b.n {
        return None;
    }
    let (n1, n2) = (a.n as f64, b.n as f64);
    let (p1, p2) = (a.successes as f64 / n1, b.successes as f64 / n2);
    let pooled = (a.successes + b.successes) as f64 / (n1 + n2);
    let standard_error = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    let difference = p1 - p2;
    // Both groups all satisfied, or none: the rates are equal and nothing varies.
    let (statistic, p_value) = if standard_error > 0.0 {
        let z = difference / standard_error;
        (z, normal_two_sided_p(z))
    } else {
        (0.0, 1.0)
    };
    let expected = [
        n1 * pooled,
        n1 * (1.0 - pooled),
        n2 * pooled,
        n2 * (1.0 - pooled),
    ];
    let small_samples = expected.iter().any(|count| *count < 5.0);
    Some(comparison(
        difference,
        statistic,
        None,
        p_value,
        small_samples,
    ))
}

/// Welch's t-test: do the two means differ, without assuming equal spreads? `None` when a group
/// has fewer than two answers.
pub fn compare_means(a: MeanSample, b: MeanSample) -> Option<Comparison> {
    if a.n < 2 || b.n < 2 || !(a.sd.is_finite() && b.sd.is_finite()) {
        return None;
    }
    let (n1, n2) = (a.n as f64, b.n as f64);
    let v1 = a.sd * a.sd / n1;
    let v2 = b.sd * b.sd / n2;
    let difference = a.mean - b.mean;
    let standard_error = (v1 + v2).sqrt();
    let small_samples = a.n < 5 || b.n < 5;
    if standard_error <= 0.0 {
        // No spread in either group: the means are simply equal or not.
        let (statistic, p_value) = if difference == 0.0 {
            (0.0, 1.0)
        } else {
            (f64::INFINITY.copysign(difference), 0.0)
        };
        return Some(comparison(
            difference,
            statistic,
            None,
            p_value,
            small_samples,
        ));
    }
    let t = difference / standard_error;
    let df = (v1 + v2).powi(2) / (v1 * v1 / (n1 - 1.0) + v2 * v2 / (n2 - 1.0));
    Some(comparison(
        difference,
        t,
        Some(df),
        t_two_sided_p(t, df),
        small_samples,
    ))
}

fn comparison(
    difference: f64,
    statistic: f64,
    df: Option<f64>,
    p_value: f64,
    small_samples: bool,
) -> Comparison {
    let clear = p_value < SIGNIFICANCE_LEVEL;
    Comparison {
        difference,
        statistic,
        df,
        p_value,
        clear,
        small_samples,
        sentence: sentence(p_value, small_samples),
    }
}

/// 差异明显（p = 0.003），不太可能是偶然造成的 / 差异不明显（p = 0.41），可能只是偶然, with a
/// caution when the samples are small.
pub fn sentence(p_value: f64, small_samples: bool) -> String {
    let p = format_p(p_value);
    let mut sentence = if p_value < SIGNIFICANCE_LEVEL {
        format!("差异明显（{p}），不太可能是偶然造成的")
    } else {
        format!("差异不明显（{p}），可能只是偶然")
    };
    if small_samples {
        sentence.push_str("（样本较少，仅供参考）");
    }
    sentence
}

/// `p < 0.001`, `p = 0.003`, `p = 0.41`. Three decimals below 0.1 and two above; a p-value just
/// under 0.05 that would round to 0.050 is written `p < 0.05`, so that the number never seems
/// to contradict the words beside it.
pub fn format_p(p_value: f64) -> String {
    if p_value < 0.001 {
        "p < 0.001".to_owned()
    } else if p_value < 0.1 {
        let shown = format!("{p_value:.3}");
        if p_value < SIGNIFICANCE_LEVEL && shown == "0.050" {
            "p < 0.05".to_owned()
        } else {
            format!("p = {shown}")
        }
    } else {
        format!("p = {p_value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rating::satisfaction::{PointCount, summarise};

    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} is not within {tolerance} of {expected}"
        );
    }

    #[test]
    fn rates_of_75_and_50_percent_out_of_60_each_differ_clearly() {
        // Pooled 75/120 = 0.625; se = √(0.625·0.375·2/60) = 0.0883883; z = 0.25/se = 2√2;
        // p = erfc(2) = 0.0046777.
        let comparison = compare_rates(
            RateSample {
                successes: 45,
                n: 60,
            },
            RateSample {
                successes: 30,
                n: 60,
            },
        )
        .expect("answers");
        close(comparison.difference, 0.25, 1e-12);
        close(comparison.statistic, 2.0 * 2f64.sqrt(), 1e-9);
        close(comparison.p_value, 0.004_677_735, 1e-8);
        assert!(comparison.clear);
        assert!(!comparison.small_samples);
        assert_eq!(
            comparison.sentence,
            "差异明显（p = 0.005），不太可能是偶然造成的"
        );
    }

    #[test]
    fn rates_of_50_and_45_percent_out_of_60_may_be_chance() {
        // Pooled 0.475; se = √(0.475·0.525/30) = 0.0911729; z = 0.548408; p = 0.58341.
        let comparison = compare_rates(
            RateSample {
                successes: 30,
                n: 60,
            },
            RateSample {
                successes: 27,
                n: 60,
            },
        )
        .expect("answers");
        close(comparison.statistic, 0.548_408_5, 1e-6);
        close(comparison.p_value, 0.583_411_4, 1e-6);
        assert!(!comparison.clear);
        assert_eq!(comparison.sentence, "差异不明显（p = 0.58），可能只是偶然");
    }

    #[test]
    fn unanimous_groups_do_not_differ_and_empty_ones_cannot_be_compared() {
        let all = RateSample { successes: 8, n: 8 };
        let comparison = compare_rates(all, all).expect("answers");
        close(comparison.p_value, 1.0, 0.0);
        assert!(comparison.small_samples, "no unsatisfied answers expected");
        assert_eq!(compare_rates(all, RateSample { successes: 0, n: 0 }), None);
    }

    #[test]
    fn welch_with_equal_spreads_and_sizes() {
        // 80 vs 70, sd 10 each, 10 each: se² = 10 + 10, t = 10/√20 = 2.23607,
        // df = 20² / (10²/9 + 10²/9) = 18; p = 0.038250 (numerical integration of the density).
        let comparison = compare_means(
            MeanSample {
                n: 10,
                mean: 80.0,
                sd: 10.0,
            },
            MeanSample {
                n: 10,
                mean: 70.0,
                sd: 10.0,
            },
        )
        .expect("two answers each");
        close(comparison.statistic, 5f64.sqrt(), 1e-12);
        close(comparison.df.expect("welch"), 18.0, 1e-9);
        close(comparison.p_value, 0.038_249_6, 1e-6);
        assert_eq!(
            comparison.sentence,
            "差异明显（p = 0.038），不太可能是偶然造成的"
        );
    }

    #[test]
    fn welch_with_unequal_spreads_and_sizes() {
        // 85 (sd 12, n 5) vs 72 (sd 20, n 12): se² = 28.8 + 33.333 = 62.133, t = 1.649229,
        // df = 62.133² / (28.8²/4 + 33.333²/11) = 12.5192; p = 0.123951.
        let comparison = compare_means(
            MeanSample {
                n: 5,
                mean: 85.0,
                sd: 12.0,
            },
            MeanSample {
                n: 12,
                mean: 72.0,
                sd: 20.0,
            },
        )
        .expect("two answers each");
        close(comparison.statistic, 1.649_229_2, 1e-6);
        close(comparison.df.expect("welch"), 12.519_213, 1e-5);
        close(comparison.p_value, 0.123_951, 1e-6);
        assert!(!comparison.clear);
        assert_eq!(comparison.sentence, "差异不明显（p = 0.12），可能只是偶然");
    }

    #[test]
    fn welch_needs_two_answers_a_group_and_handles_no_spread() {
        let one = MeanSample {
            n: 1,
            mean: 80.0,
            sd: 0.0,
        };
        assert_eq!(compare_means(one, one), None);
        let flat = |mean| MeanSample {
            n: 6,
            mean,
            sd: 0.0,
        };
        let same = compare_means(flat(80.0), flat(80.0)).expect("answers");
        close(same.p_value, 1.0, 0.0);
        let apart = compare_means(flat(80.0), flat(60.0)).expect("answers");
        close(apart.p_value, 0.0, 0.0);
        assert_eq!(
            apart.sentence,
            "差异明显（p < 0.001），不太可能是偶然造成的"
        );
    }

    #[test]
    fn p_values_are_written_so_the_words_never_contradict_them() {
        assert_eq!(format_p(0.0004), "p < 0.001");
        assert_eq!(format_p(0.003), "p = 0.003");
        assert_eq!(format_p(0.0499), "p < 0.05");
        assert_eq!(format_p(0.05), "p = 0.050");
        assert_eq!(format_p(0.41), "p = 0.41");
        assert_eq!(
            sentence(0.2, true),
            "差异不明显（p = 0.20），可能只是偶然（样本较少，仅供参考）"
        );
    }

    #[test]
    fn questions_are_compared_through_their_summaries() {
        let five_point = |counts: [u64; 5]| -> Vec<PointCount> {
            [
                (100.0, true),
                (80.0, true),
                (60.0, false),
                (40.0, false),
                (0.0, false),
            ]
            .into_iter()
            .zip(counts)
            .map(|((score, satisfied), count)| PointCount {
                score: Some(score),
                satisfied,
                count,
            })
            .collect()
        };
        // 100, 80, 80, 60 → mean 80, sd 16.3299; rate 3 of 4.
        let a = summarise(&five_point([1, 2, 1, 0, 0]), 1.0).expect("answers");
        let rate = RateSample::of(&a).expect("a rate");
        assert_eq!(rate, RateSample { successes: 3, n: 4 });
        let mean = MeanSample::of_index(&a).expect("a spread");
        close(mean.mean, 80.0, 1e-12);
        close(mean.sd, (800.0f64 / 3.0).sqrt(), 1e-9);
    }
}
