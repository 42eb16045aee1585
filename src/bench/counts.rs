//! After a run, the running counts checked against the stored answers: each school's tallies and
//! score sums, as the results read them, must equal what a recount of its stored answers gives
//! (`results::scan`, the same recount the date-filtered results use). Under the benchmark's load
//! every answer reaches the counts through batches of the group-commit writer, so this checks the
//! writer's arithmetic at a scale no test reaches — and any later change to how the counts are
//! kept, such as writing them after the answers.

use sea_orm::{ConnectionTrait, DbErr, Statement, TransactionTrait};

use crate::rating::moments::{AreaSums, Sums};
use crate::results::scan::{DateRange, scan_counts};
use crate::results::{Counts, score_sums, tally_counts};

/// How a campaign's running counts compare with a recount of its answers.
#[derive(Debug)]
pub struct CountsCheck {
    /// Schools with counts, in the tallies or in the recount.
    pub schools: usize,
    /// Schools whose tallies differ from the recount.
    pub tallies_differ: Vec<i32>,
    /// Schools whose score sums differ from the recount.
    pub sums_differ: Vec<i32>,
    /// Schools whose link's count of answers (`campaign_link.response_count`, what the rates
    /// and the privacy thresholds read) differs from a count of their included answers.
    pub links_differ: Vec<i32>,
    /// Answers whose counts were still pending when the check began, which its first read
    /// added (`answering::pending::settle`).
    pub pending: u64,
}

impl CountsCheck {
    pub fn agree(&self) -> bool {
        self.tallies_differ.is_empty()
            && self.sums_differ.is_empty()
            && self.links_differ.is_empty()
    }
}

/// Compares the running counts of `campaign_id` with a recount of its included answers.
pub async fn check(
    db: &(impl ConnectionTrait + TransactionTrait),
    campaign_id: i32,
) -> Result<CountsCheck, DbErr> {
    let pending = crate::answering::pending::settle(db, Some(campaign_id)).await?;
    let recount = scan_counts(db, campaign_id, None, DateRange::default()).await?;
    let (counted, counted_sums) = (recount.by_school(), recount.sums_by_school());
    let tallies = tally_counts(db, campaign_id, None).await?;
    let sums = score_sums(db, campaign_id, None).await?;
    let links_differ = links_differ(db, campaign_id).await?;

    let mut schools: Vec<i32> = counted.keys().chain(tallies.keys()).copied().collect();
    schools.extend(counted_sums.keys().chain(sums.keys()));
    schools.sort_unstable();
    schools.dedup();
    let none = AreaSums::default();
    Ok(CountsCheck {
        schools: schools.len(),
        pending,
        tallies_differ: schools
            .iter()
            .copied()
            .filter(|school| !same_counts(counted.get(school), tallies.get(school)))
            .collect(),
        sums_differ: schools
            .iter()
            .copied()
            .filter(|school| {
                !same_sums(
                    counted_sums.get(school).unwrap_or(&none),
                    sums.get(school).unwrap_or(&none),
                )
            })
            .collect(),
        links_differ,
    })
}

/// The schools of `campaign_id` whose link's running count of answers is not the number of
/// their included answers.
async fn links_differ(db: &impl ConnectionTrait, campaign_id: i32) -> Result<Vec<i32>, DbErr> {
    // (The campaign's id is a number, written in place: one text for both databases.)
    let statement = Statement::from_string(
        db.get_database_backend(),
        format!(
            "SELECT link.school_id FROM campaign_link AS link \
             WHERE link.campaign_id = {campaign_id} AND link.response_count <> \
             (SELECT COUNT(*) FROM response WHERE response.campaign_id = link.campaign_id \
             AND response.school_id = link.school_id AND NOT response.excluded) \
             ORDER BY link.school_id"
        ),
    );
    db.query_all_raw(statement)
        .await?
        .iter()
        .map(|row| row.try_get_by_index(0))
        .collect()
}

/// Whether two schools' counts are the same, a count of zero (a tally whose answers were all
/// excluded) being no count.
fn same_counts(recounted: Option<&Counts>, running: Option<&Counts>) -> bool {
    let nonzero = |counts: Option<&Counts>| -> Vec<(String, String, u64)> {
        counts
            .into_iter()
            .flatten()
            .flat_map(|(question, options)| {
                options
                    .iter()
                    .filter(|(_, count)| **count > 0)
                    .map(move |(option, count)| (question.clone(), option.clone(), *count))
            })
            .collect()
    };
    nonzero(recounted) == nonzero(running)
}

/// Whether two schools' score sums are the same: every count exactly, every sum to within what
/// adding the same numbers in another order can change (a billionth, relative).
fn same_sums(recounted: &AreaSums, running: &AreaSums) -> bool {
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    let same = |a: &Sums, b: &Sums| {
        a.n == b.n
            && close(a.sum_x, b.sum_x)
            && close(a.sum_y, b.sum_y)
            && close(a.sum_xy, b.sum_xy)
    };
    // A pair whose answers all left it is a row of zeros in the running sums, and no row in a
    // recount.
    let empty = Sums::default();
    let pairs = recounted.pairs.keys().chain(running.pairs.keys());
    pairs.into_iter().all(|pair| {
        same(
            recounted.pairs.get(pair).unwrap_or(&empty),
            running.pairs.get(pair).unwrap_or(&empty),
        )
    })
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Statement};

    /// Answers stored through the writer agree with their recount; a tally or a score sum moved
    /// by one is caught, and named by its school.
    #[tokio::test]
    async fn counts_moved_after_the_answers_are_caught_school_by_school() {
        let test = crate::bench::TestCampaign::open(3, "counts").await;
        let (db, campaign, links) = (test.db.clone(), &test.campaign, &test.links);
        crate::bench::results::fill(&db, &test.survey, campaign, links, 120)
            .await
            .expect("answers are stored");

        let stored = super::check(&db, campaign.id)
            .await
            .expect("the check runs");
        assert_eq!(stored.schools, 3);
        assert!(stored.agree(), "{stored:?}");

        let (first, second) = (links[0].school_id, links[1].school_id);
        let moved = |sql: String| {
            let db = db.clone();
            async move {
                db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
                    .await
                    .expect("the count is moved")
            }
        };
        moved(format!(
            "UPDATE tally SET count = count + 1 WHERE school_id = {first} \
             AND question_key = (SELECT MIN(question_key) FROM tally WHERE school_id = {first})"
        ))
        .await;
        moved(format!(
            "UPDATE score_sum SET sum_x = sum_x + 0.5 WHERE school_id = {second} \
             AND score_key = 'overall'"
        ))
        .await;
        let moved = super::check(&db, campaign.id)
            .await
            .expect("the check runs");
        assert!(!moved.agree());
        assert_eq!(moved.tallies_differ, [first]);
        assert_eq!(moved.sums_differ, [second]);
    }
}
