//! Satisfaction statistics of one question (or one matrix row) from its counts per option, as
//! the running tallies keep them: the number of answers, the mean score, the satisfaction rate
//! (满意率), the satisfaction index (满意度指数, the mean on 0–100) and their 95% intervals
//! (surveys/METHOD.md, section `question`). Areas are scored from respondents, not from these
//! (`rating::moments`). Pure arithmetic.

use std::collections::BTreeMap;

use serde::Serialize;

pub use super::stats::Estimate;
use super::stats::{Interval, Range, mean_estimate, wilson_interval};
use crate::survey::QuestionKind;

/// One option of a question with how many answers chose it.
#[derive(Clone, Debug, PartialEq)]
pub struct PointCount {
    /// `None` for an option without a score (such as 不清楚): its answers are left out of every
    /// statistic here, since they say nothing about how good the school is.
    pub score: Option<f64>,
    /// Counts towards the satisfaction rate (满意 or better).
    pub satisfied: bool,
    pub count: u64,
}

/// What the answers to one question say (surveys/METHOD.md, section `question`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Satisfaction {
    /// Answers on a scored option.
    pub n: u64,
    /// Of which on an option marked `satisfied`.
    pub satisfied: u64,
    /// The mean score, on the scale's own scores (0–10 for a rating).
    pub mean: f64,
    /// The sample standard deviation (divisor n − 1); `None` for a single answer.
    pub sd: Option<f64>,
    /// The 95% t interval for the mean, cut to the scale's lowest and highest score; `None`
    /// for a single answer (unless everyone answered).
    pub mean_interval: Option<Interval>,
    /// The satisfaction rate, 0–1; `None` when no option is marked `satisfied` (a question
    /// whose options are not a judgement, such as a 0–10 rating).
    pub rate: Option<f64>,
    /// The 95% Wilson interval for the rate, with the finite-population correction.
    pub rate_interval: Option<Interval>,
    /// The satisfaction index: the mean rescaled so that the scale's lowest score is 0 and its
    /// highest 100. On the customary 100/80/60/40/0 scale it equals the mean; on a 1–5 scale a
    /// mean of 4 is an index of 75; a rating's index is its mean times 10. `None` when every
    /// option has the same score.
    pub index: Option<f64>,
    /// The standard deviation of the answers on the index's 0–100 (no finite-population
    /// correction: what group comparisons use); `None` for a single answer.
    pub index_sd: Option<f64>,
    /// The 95% interval of the index, cut to 0–100.
    pub index_interval: Option<Interval>,
    /// The standard error of the index, with the finite-population correction; `None` for a
    /// single answer of a population that did not answer in full (no spread can be measured).
    pub index_standard_error: Option<f64>,
}

/// The statistics of one question from its counts, with the finite-population factor `fpc`
/// (1 − n/N of the group's respondents, see `stats::finite_population_factor`); `None` when no
/// answer has a score.
pub fn summarise(points: &[PointCount], fpc: f64) -> Option<Satisfaction> {
    let scored: Vec<(f64, bool, u64)> = points
        .iter()
        .filter_map(|point| Some((point.score?, point.satisfied, point.count)))
        .collect();
    let n: u64 = scored.iter().map(|(_, _, count)| count).sum();
    if n == 0 {
        return None;
    }
    let total = n as f64;
    let mean = scored
        .iter()
        .map(|(score, _, count)| score * *count as f64)
        .sum::<f64>()
        / total;
    let sd = (n >= 2).then(|| {
        let squares: f64 = scored
            .iter()
            .map(|(score, _, count)| (score - mean).powi(2) * *count as f64)
            .sum();
        (squares / (total - 1.0)).sqrt()
    });
    let satisfied: u64 = scored
        .iter()
        .filter(|(_, satisfied, _)| *satisfied)
        .map(|(_, _, count)| count)
        .sum();
    let has_satisfied_point = scored.iter().any(|(_, satisfied, _)| *satisfied);
    let rate = has_satisfied_point.then(|| satisfied as f64 / total);
    let rate_interval = if has_satisfied_point {
        wilson_interval(satisfied, n, fpc)
    } else {
        None
    };

    // The scale's range comes from every scored option, answered or not.
    let lowest = scored
        .iter()
        .map(|(score, _, _)| *score)
        .fold(f64::INFINITY, f64::min);
    let highest = scored
        .iter()
        .map(|(score, _, _)| *score)
        .fold(f64::NEG_INFINITY, f64::max);
    let mean_estimate = mean_estimate(mean, sd, n, fpc);
    let mean_interval = mean_estimate.and_then(|estimate| {
        estimate.interval(Range {
            low: lowest,
            high: highest,
        })
    });
    let range = highest - lowest;
    let (index, index_sd, index_interval, index_standard_error) = if range > 0.0 {
        let to_index = |value: f64| (value - lowest) / range * 100.0;
        let index_estimate = mean_estimate.map(|estimate| Estimate {
            value: to_index(estimate.value),
            standard_error: estimate.standard_error / range * 100.0,
            df: estimate.df,
        });
        (
            Some(to_index(mean)),
            sd.map(|sd| sd / range * 100.0),
            index_estimate.and_then(|estimate| estimate.interval(Range::SCORE)),
            index_estimate.map(|estimate| estimate.standard_error),
        )
    } else {
        (None, None, None, None)
    };

    Some(Satisfaction {
        n,
        satisfied,
        mean,
        sd,
        mean_interval,
        rate,
        rate_interval,
        index,
        index_sd,
        index_interval,
        index_standard_error,
    })
}

/// The options of a question, with their counts from `counts` (option code → answers; for a
/// matrix, the counts of one row). `None` for kinds whose answers are not one option per person
/// (multiple choice, numbers, text).
///
/// - `scale` and `matrix`: the scale's points as written.
/// - `yes_no`: `yes` and `no` with `yes_score` and `no_score`; the answer with the higher score
///   counts as satisfied (neither when they are equal). Unscored yes/no questions score 100 and
///   0, so their index is the share answering yes.
/// - `single`: the options' scores; none is "satisfied", so the rate is `None`.
/// - `rating`: the number itself, 0–10, as the score; none is "satisfied".
pub fn point_counts(
    kind: &QuestionKind,
    counts: &BTreeMap<String, u64>,
) -> Option<Vec<PointCount>> {
    let count = |code: &str| counts.get(code).copied().unwrap_or(0);
    let points = match kind {
        QuestionKind::Scale { scale } | QuestionKind::Matrix { scale, .. } => scale
            .points
            .iter()
            .map(|point| PointCount {
                score: point.score,
                satisfied: point.satisfied,
                count: count(&point.code),
            })
            .collect(),
        QuestionKind::YesNo {
            yes_score,
            no_score,
        } => {
            let (yes, no) = match (yes_score, no_score) {
                (Some(yes), Some(no)) => (*yes, *no),
                _ => (100.0, 0.0),
            };
            // The answer with the higher score is the satisfied one; with equal scores the
            // question judges nothing and has no rate.
            vec![
                PointCount {
                    score: Some(yes),
                    satisfied: yes > no,
                    count: count("yes"),
                },
                PointCount {
                    score: Some(no),
                    satisfied: no > yes,
                    count: count("no"),
                },
            ]
        }
        QuestionKind::Single { options } => options
            .iter()
            .map(|option| PointCount {
                score: option.score,
                satisfied: false,
                count: count(&option.code),
            })
            .collect(),
        QuestionKind::Rating { .. } => (0..=10u32)
            .map(|value| PointCount {
                score: Some(f64::from(value)),
                satisfied: false,
                count: count(&value.to_string()),
            })
            .collect(),
        QuestionKind::Multiple { .. }
        | QuestionKind::Number { .. }
        | QuestionKind::Text { .. }
        | QuestionKind::LongText { .. } => return None,
    };
    Some(points)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survey::{Scale, ScalePoint};

    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} is not within {tolerance} of {expected}"
        );
    }

    fn five_point(counts: [u64; 5]) -> Vec<PointCount> {
        // 非常满意 100, 满意 80 (both satisfied), 基本满意 60, 不满意 40, 非常不满意 0.
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
    }

    #[test]
    fn four_answers_on_the_five_point_scale() {
        // 100, 80, 80, 60: n 4, mean 80, sd √(800/3) = 16.3299, rate 3/4, index = mean.
        let summary = summarise(&five_point([1, 2, 1, 0, 0]), 1.0).expect("answers");
        assert_eq!(summary.n, 4);
        assert_eq!(summary.satisfied, 3);
        close(summary.mean, 80.0, 1e-12);
        close(summary.sd.expect("n ≥ 2"), 16.329_931_6, 1e-6);
        close(summary.rate.expect("a satisfied point"), 0.75, 1e-12);
        close(summary.index.expect("a range"), 80.0, 1e-12);
        // se = 16.32993/2 = 8.164966; t₀.₉₇₅(3) = 3.182446 → 80 ± 25.98457, cut to the
        // scale's 0–100 like every interval.
        let interval = summary.mean_interval.expect("n ≥ 2");
        close(interval.low, 54.015_43, 1e-5);
        close(interval.high, 100.0, 1e-12);
        // The index cannot pass 100.
        let index_interval = summary.index_interval.expect("n ≥ 2");
        close(index_interval.high, 100.0, 1e-12);
        close(index_interval.low, 54.015_43, 1e-5);
        // Wilson for 3 of 4: centre (0.75 + 0.48020)/1.96040 = 0.62752, half 0.32809.
        let rate_interval = summary.rate_interval.expect("n > 0");
        close(rate_interval.low, 0.3006, 1e-4);
        close(rate_interval.high, 0.9544, 1e-4);
    }

    #[test]
    fn the_index_rescales_a_one_to_five_scale_to_0_100() {
        // Scores 5..1; answers 5, 4, 4, 3 → mean 4, index (4 − 1)/4·100 = 75.
        let points: Vec<PointCount> = [(5.0, 1), (4.0, 2), (3.0, 1), (2.0, 0), (1.0, 0)]
            .into_iter()
            .map(|(score, count)| PointCount {
                score: Some(score),
                satisfied: score >= 4.0,
                count,
            })
            .collect();
        let summary = summarise(&points, 1.0).expect("answers");
        close(summary.mean, 4.0, 1e-12);
        close(summary.index.expect("a range"), 75.0, 1e-12);
        // sd of 5,4,4,3 = √(2/3) = 0.81650 → on 0–100, 20.4124; se 10.2062.
        close(
            summary.index_standard_error.expect("a range"),
            10.206_207_3,
            1e-6,
        );
    }

    #[test]
    fn answers_on_an_unscored_option_are_left_out() {
        let mut points = five_point([2, 0, 0, 0, 0]);
        points.push(PointCount {
            score: None,
            satisfied: false,
            count: 7,
        });
        let summary = summarise(&points, 1.0).expect("answers");
        assert_eq!(summary.n, 2);
        close(summary.rate.expect("a satisfied point"), 1.0, 1e-12);
    }

    #[test]
    fn a_single_answer_has_no_interval_and_no_standard_error_unless_it_is_everyone() {
        let summary = summarise(&five_point([0, 1, 0, 0, 0]), 1.0).expect("answers");
        assert_eq!(summary.sd, None);
        assert_eq!(summary.mean_interval, None);
        assert_eq!(summary.index_interval, None);
        assert_eq!(summary.index_standard_error, None);
        // The only parent of the school answered: the figure is exact.
        let census = summarise(&five_point([0, 1, 0, 0, 0]), 0.0).expect("answers");
        assert_eq!(census.index_standard_error, Some(0.0));
        assert_eq!(census.index_interval, Some(Interval::around(80.0, 0.0)));
    }

    #[test]
    fn no_scored_answer_means_no_summary() {
        assert_eq!(summarise(&five_point([0; 5]), 1.0), None);
        assert_eq!(summarise(&[], 1.0), None);
    }

    #[test]
    fn a_rating_has_a_mean_and_an_index_but_no_rate() {
        let kind = QuestionKind::Rating {
            min_label: None,
            max_label: None,
        };
        let counts = BTreeMap::from([("10".to_owned(), 1), ("6".to_owned(), 1)]);
        let summary =
            summarise(&point_counts(&kind, &counts).expect("rating"), 1.0).expect("answers");
        close(summary.mean, 8.0, 1e-12);
        close(summary.index.expect("a range"), 80.0, 1e-12);
        assert_eq!(summary.rate, None);
    }

    #[test]
    fn yes_counts_as_satisfied_unless_no_scores_higher() {
        let counts = BTreeMap::from([("yes".to_owned(), 3), ("no".to_owned(), 1)]);
        let scored = QuestionKind::YesNo {
            yes_score: Some(100.0),
            no_score: Some(0.0),
        };
        let summary =
            summarise(&point_counts(&scored, &counts).expect("yes/no"), 1.0).expect("answers");
        close(summary.rate.expect("rate"), 0.75, 1e-12);
        close(summary.index.expect("index"), 75.0, 1e-12);

        let reversed = QuestionKind::YesNo {
            yes_score: Some(0.0),
            no_score: Some(100.0),
        };
        let summary =
            summarise(&point_counts(&reversed, &counts).expect("yes/no"), 1.0).expect("answers");
        close(summary.rate.expect("rate"), 0.25, 1e-12);
    }

    #[test]
    fn a_scale_question_reads_its_counts_by_point_code() {
        let scale = Scale {
            id: "satisfaction".to_owned(),
            name: "满意度".to_owned(),
            points: [("5", 100.0, true), ("4", 80.0, true), ("3", 60.0, false)]
                .into_iter()
                .map(|(code, score, satisfied)| ScalePoint {
                    code: code.to_owned(),
                    label: code.to_owned(),
                    score: Some(score),
                    satisfied,
                })
                .collect(),
        };
        let counts = BTreeMap::from([
            ("5".to_owned(), 2),
            ("3".to_owned(), 2),
            ("x".to_owned(), 9),
        ]);
        let points = point_counts(&QuestionKind::Scale { scale }, &counts).expect("scale");
        let summary = summarise(&points, 1.0).expect("answers");
        assert_eq!(summary.n, 4);
        close(summary.mean, 80.0, 1e-12);
        // Scores 60–100 here, so the index of a mean of 80 is 50.
        close(summary.index.expect("index"), 50.0, 1e-12);
        let multiple = QuestionKind::Multiple {
            options: Vec::new(),
            min: 0,
            max: None,
        };
        assert_eq!(point_counts(&multiple, &counts), None);
    }
}
