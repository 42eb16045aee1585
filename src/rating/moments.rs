//! Area scores and their sampling error from the running sums of respondents' area scores
//! (surveys/METHOD.md, sections `area-score` and `school-variance`): the mean and spread of
//! one area, and the exact (linearised) variance of a weighted sum of areas answered by the same
//! people, some of whom skipped some areas. Pure arithmetic on sums; where the sums come from is
//! `answering::scoring` (what one respondent adds) and `results` (the reads).

use std::collections::BTreeMap;

use super::stats::{Estimate, Range, finite_population_factor};
use crate::survey::Area;

/// Sums over the respondents of a school (or a group of schools) for one area, or for a pair of
/// areas over the respondents who have both: `x` the first area's score, `y` the second's.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sums {
    pub n: u64,
    pub sum_x: f64,
    pub sum_y: f64,
    pub sum_xy: f64,
}

impl Sums {
    pub fn add(&mut self, other: &Sums) {
        self.n += other.n;
        self.sum_x += other.sum_x;
        self.sum_y += other.sum_y;
        self.sum_xy += other.sum_xy;
    }
}

/// Every area's and every pair of areas' sums of one school or group; pairs keyed with the
/// earlier area (in [`Area::ALL`]) first, one area keyed as (area, area).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AreaSums {
    pub pairs: BTreeMap<(Area, Area), Sums>,
}

/// One area of a school or group: its respondents' mean score and spread.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AreaFigure {
    pub area: Area,
    /// Respondents with a score in the area.
    pub n: u64,
    /// The mean of their area scores, 0–100.
    pub mean: f64,
    /// The sample standard deviation (divisor n − 1); `None` for one respondent.
    pub sd: Option<f64>,
    /// The mean with its standard error (finite-population corrected) and n − 1 degrees of
    /// freedom; `None` for a single respondent of a population that did not answer in full,
    /// whose spread cannot be measured.
    pub estimate: Option<Estimate>,
}

impl AreaSums {
    /// Adds the sums of another school.
    pub fn add(&mut self, other: &AreaSums) {
        for (key, sums) in &other.pairs {
            self.pairs.entry(*key).or_default().add(sums);
        }
    }

    /// The sums of one area.
    pub fn area(&self, area: Area) -> Option<&Sums> {
        self.pairs.get(&(area, area)).filter(|sums| sums.n > 0)
    }

    /// The figure of one area, with the finite-population factor `fpc` (1 − n/N for the
    /// school's or group's n respondents of N).
    pub fn figure(&self, area: Area, fpc: f64) -> Option<AreaFigure> {
        let sums = self.area(area)?;
        let n = sums.n as f64;
        let mean = sums.sum_x / n;
        let sd = (sums.n >= 2).then(|| {
            let squares = (sums.sum_xy - n * mean * mean).max(0.0);
            (squares / (n - 1.0)).sqrt()
        });
        let estimate = if fpc <= 0.0 {
            Some(Estimate::exact(mean))
        } else {
            sd.map(|sd| Estimate {
                value: mean,
                standard_error: sd * (fpc / n).sqrt(),
                df: Some(n - 1.0),
            })
        };
        Some(AreaFigure {
            area,
            n: sums.n,
            mean,
            sd,
            estimate,
        })
    }

    /// Every area with respondents, in the order of [`Area::ALL`].
    pub fn figures(&self, fpc: f64) -> Vec<AreaFigure> {
        Area::ALL
            .into_iter()
            .filter_map(|area| self.figure(area, fpc))
            .collect()
    }

    /// Σᵣ (yᵣₐ − Aₐ)(yᵣ_b − A_b) over the respondents with both areas, from the sums.
    fn centred_product(&self, a: Area, b: Area, means: &BTreeMap<Area, f64>) -> f64 {
        let key = if a <= b { (a, b) } else { (b, a) };
        let Some(sums) = self.pairs.get(&key) else {
            return 0.0;
        };
        let (Some(mean_a), Some(mean_b)) = (means.get(&a), means.get(&b)) else {
            return 0.0;
        };
        // x is the first area of the key, y the second.
        let (sum_a, sum_b) = if a <= b {
            (sums.sum_x, sums.sum_y)
        } else {
            (sums.sum_y, sums.sum_x)
        };
        sums.sum_xy - mean_b * sum_a - mean_a * sum_b + sums.n as f64 * mean_a * mean_b
    }

    /// The variance of Σₐ cₐ·Aₐ, a weighted sum of this school's area means, with the
    /// finite-population factor `fpc`:
    ///
    /// V = fpc · Σᵣ uᵣ², uᵣ = Σₐ cₐ · [r has a score in a] · (yᵣₐ − Aₐ) / √(nₐ(nₐ − 1)),
    ///
    /// computed from the sums as fpc · Σₐ Σ_b cₐ c_b Mₐ_b / (√(nₐ(nₐ−1)) √(n_b(n_b−1))), Mₐ_b the
    /// centred products. For one area it is sₐ²/nₐ; when everyone answered every area it is the
    /// variance of the mean of the respondents' weighted sums; it is never negative (a sum of
    /// squares). Areas with fewer than two respondents must not be given (their spread is
    /// unknown); they count 0 here.
    pub fn combined_variance(&self, coefficients: &[(Area, f64)], fpc: f64) -> f64 {
        if fpc <= 0.0 {
            return 0.0;
        }
        let usable: Vec<(Area, f64, f64)> = coefficients
            .iter()
            .filter_map(|(area, coefficient)| {
                let n = self.area(*area)?.n;
                (n >= 2).then(|| (*area, *coefficient, ((n * (n - 1)) as f64).sqrt()))
            })
            .collect();
        let means: BTreeMap<Area, f64> = usable
            .iter()
            .filter_map(|(area, ..)| {
                let sums = self.area(*area)?;
                Some((*area, sums.sum_x / sums.n as f64))
            })
            .collect();
        let mut variance = 0.0;
        for (a, c_a, scale_a) in &usable {
            for (b, c_b, scale_b) in &usable {
                variance += c_a * c_b * self.centred_product(*a, *b, &means) / (scale_a * scale_b);
            }
        }
        fpc * variance.max(0.0)
    }

    /// The questionnaire's overall index of this school or group (its 总指数): the areas'
    /// means weighted by `weights` (the plan's area weights), renormalised over the areas that
    /// have an estimate, with the variance of [`AreaSums::combined_variance`] and n − 1 degrees
    /// of freedom for `respondents` = n. `None` when no weighted area has an estimate.
    pub fn overall(
        &self,
        weights: &BTreeMap<Area, f64>,
        respondents: u64,
        population: Option<u64>,
    ) -> Option<Estimate> {
        let fpc = finite_population_factor(respondents, population);
        let figures = self.figures(fpc);
        let weighted: Vec<(Area, f64, f64)> = figures
            .iter()
            .filter_map(|figure| {
                let weight = weights.get(&figure.area).copied().unwrap_or(0.0);
                Some((figure.area, weight, figure.estimate?.value)).filter(|_| weight > 0.0)
            })
            .collect();
        let total: f64 = weighted.iter().map(|(_, weight, _)| weight).sum();
        if weighted.is_empty() || total <= 0.0 {
            return None;
        }
        let value = weighted
            .iter()
            .map(|(_, weight, mean)| weight * mean)
            .sum::<f64>()
            / total;
        let coefficients: Vec<(Area, f64)> = weighted
            .iter()
            .map(|(area, weight, _)| (*area, weight / total))
            .collect();
        let variance = self.combined_variance(&coefficients, fpc);
        Some(Estimate {
            value,
            standard_error: variance.sqrt(),
            df: (variance > 0.0 && respondents >= 2).then_some(respondents as f64 - 1.0),
        })
    }
}

/// The range of every area score and index.
pub const AREA_RANGE: Range = Range::SCORE;

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} is not within {tolerance} of {expected}"
        );
    }

    /// The sums of some respondents, each with optional scores in two areas.
    fn sums_of(respondents: &[(Option<f64>, Option<f64>)]) -> AreaSums {
        let (a, b) = (Area::Nutrition, Area::Overall);
        let mut sums = AreaSums::default();
        for (x, y) in respondents {
            let mut add = |key: (Area, Area), x: f64, y: f64| {
                sums.pairs.entry(key).or_default().add(&Sums {
                    n: 1,
                    sum_x: x,
                    sum_y: y,
                    sum_xy: x * y,
                });
            };
            if let Some(x) = x {
                add((a, a), *x, *x);
            }
            if let Some(y) = y {
                add((b, b), *y, *y);
            }
            if let (Some(x), Some(y)) = (x, y) {
                add((a, b), *x, *y);
            }
        }
        sums
    }

    #[test]
    fn one_area_is_a_mean_with_its_t_standard_error() {
        let sums = sums_of(&[
            (Some(100.0), None),
            (Some(80.0), None),
            (Some(80.0), None),
            (Some(60.0), None),
        ]);
        let figure = sums.figure(Area::Nutrition, 1.0).expect("respondents");
        assert_eq!(figure.n, 4);
        close(figure.mean, 80.0, 1e-12);
        let estimate = figure.estimate.expect("n ≥ 2");
        close(
            estimate.standard_error,
            (800.0f64 / 3.0 / 4.0).sqrt(),
            1e-12,
        );
        assert_eq!(estimate.df, Some(3.0));
        close(
            sums.combined_variance(&[(Area::Nutrition, 1.0)], 1.0),
            800.0 / 3.0 / 4.0,
            1e-12,
        );
    }

    #[test]
    fn the_variance_of_a_weighted_sum_is_that_of_the_respondents_weighted_sums() {
        // Everyone answered both areas: the variance of 0.5·A + 0.5·B is s²(z)/n with
        // z = 0.5·x + 0.5·y per person.
        let people = [(80.0, 60.0), (100.0, 80.0), (60.0, 60.0), (40.0, 80.0)];
        let sums = sums_of(
            &people
                .iter()
                .map(|(x, y)| (Some(*x), Some(*y)))
                .collect::<Vec<_>>(),
        );
        let z: Vec<f64> = people.iter().map(|(x, y)| 0.5 * x + 0.5 * y).collect();
        let mean = z.iter().sum::<f64>() / 4.0;
        let s2 = z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 3.0;
        let variance = sums.combined_variance(&[(Area::Nutrition, 0.5), (Area::Overall, 0.5)], 1.0);
        close(variance, s2 / 4.0, 1e-12);
        // A quarter of the population answered: three quarters of the variance is left.
        let corrected =
            sums.combined_variance(&[(Area::Nutrition, 0.5), (Area::Overall, 0.5)], 0.75);
        close(corrected, 0.75 * s2 / 4.0, 1e-12);
    }

    #[test]
    fn a_skipped_area_counts_only_for_those_who_answered_it() {
        // Three of five answered the follow-up area; u_r computed person by person.
        let people = [
            (Some(80.0), Some(100.0)),
            (Some(60.0), None),
            (Some(100.0), Some(40.0)),
            (Some(40.0), None),
            (Some(80.0), Some(70.0)),
        ];
        let sums = sums_of(&people);
        let (c_a, c_b) = (0.7, 0.3);
        let mean_a = 72.0;
        let mean_b = 70.0;
        let scale_a = (5.0f64 * 4.0).sqrt();
        let scale_b = (3.0f64 * 2.0).sqrt();
        let by_hand: f64 = people
            .iter()
            .map(|(x, y)| {
                let u = x.map_or(0.0, |x| c_a * (x - mean_a) / scale_a)
                    + y.map_or(0.0, |y| c_b * (y - mean_b) / scale_b);
                u * u
            })
            .sum();
        let variance = sums.combined_variance(&[(Area::Nutrition, c_a), (Area::Overall, c_b)], 1.0);
        close(variance, by_hand, 1e-12);
        // The overall index renormalises the plan's weights over the areas with an estimate.
        let weights = BTreeMap::from([(Area::Nutrition, 0.7), (Area::Overall, 0.3)]);
        let overall = sums.overall(&weights, 5, None).expect("areas");
        close(overall.value, 0.7 * 72.0 + 0.3 * 70.0, 1e-12);
        close(overall.standard_error, by_hand.sqrt(), 1e-12);
        assert_eq!(overall.df, Some(4.0));
    }

    #[test]
    fn a_census_has_no_sampling_error_and_one_respondent_no_estimate() {
        let sums = sums_of(&[(Some(70.0), None)]);
        assert_eq!(
            sums.figure(Area::Nutrition, 1.0).expect("one").estimate,
            None
        );
        assert_eq!(
            sums.figure(Area::Nutrition, 0.0).expect("one").estimate,
            Some(Estimate::exact(70.0))
        );
    }
}
