//! Answers stored but not yet in the running counts. The answer writer stores each answer at
//! once, with a row in `response_pending`, and adds a school's answers to the tallies and score
//! sums together in a later batch (`super::writer`): a row per option and score for many
//! answers instead of one for each answer. An answer is claimed by deleting its pending row, in
//! the transaction that adds it, so that whoever claims it — the writer, another dupin process,
//! a reader — adds it exactly once.
//!
//! Whatever reads the counts first settles the campaign's answers still pending ([`settle`]):
//! they are read back from the stored JSON and counted through the functions the writer uses,
//! so that the figures include every acknowledged answer whenever they are read.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};

use entity::{response, response_pending};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter, QuerySelect,
    Statement, TransactionSession, TransactionTrait,
};

use super::scoring::{ScoreSums, area_scores, score_rows};
use super::stored_response;
use super::writer::{ScoreSumKey, add_score_sums, add_tallies};
use crate::campaigns;
use crate::survey::Survey;

/// Answers read back per query.
const ANSWERS_PER_QUERY: usize = 500;

/// Adds the answers of `campaign_id` (of every campaign when `None`) still pending to the
/// running counts, in a write transaction of its own when there are any, and says how many it
/// added. Cheap when none are pending: one look-up (on SQLite a scan of the pending rows,
/// about a second's answers at most while answers arrive; see migration 10).
pub async fn settle<C>(db: &C, campaign_id: Option<i32>) -> Result<u64, DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let mut any = response_pending::Entity::find()
        .select_only()
        .column(response_pending::Column::ResponseId);
    if let Some(campaign_id) = campaign_id {
        any = any.filter(response_pending::Column::CampaignId.eq(campaign_id));
    }
    if any.limit(1).into_tuple::<i64>().one(db).await?.is_none() {
        return Ok(0);
    }
    let txn = crate::db::begin_write(db).await?;
    let settled = settle_in(&txn, campaign_id).await?;
    txn.commit().await?;
    if settled > 0 {
        tracing::debug!(settled, campaign_id, "pending answers added to the counts");
    }
    Ok(settled)
}

/// As [`settle`], in the caller's write transaction: claims the pending answers (on PostgreSQL
/// locking their rows in id order, as the writer does) and adds those not excluded.
pub async fn settle_in(txn: &impl ConnectionTrait, campaign_id: Option<i32>) -> Result<u64, DbErr> {
    // Only an integer is written into the statement.
    let of_campaign = campaign_id
        .map(|id| format!("campaign_id = {id}"))
        .unwrap_or_else(|| "true".to_owned());
    let mut claimed: Vec<i64> = delete_pending(txn, &of_campaign).await?;
    claimed.sort_unstable();
    let mut counts = Counts::default();
    let mut surveys: HashMap<i32, Option<Survey>> = HashMap::new();
    for ids in claimed.chunks(ANSWERS_PER_QUERY) {
        let answers: Vec<(i32, i32, i32, String)> = response::Entity::find()
            .select_only()
            .columns([
                response::Column::CampaignId,
                response::Column::SchoolId,
                response::Column::SurveyVersionId,
                response::Column::Answers,
            ])
            .filter(response::Column::Id.is_in(ids.iter().copied()))
            .filter(response::Column::Excluded.eq(false))
            .into_tuple()
            .all(txn)
            .await?;
        for (campaign_id, school_id, version, json) in answers {
            let survey = match surveys.entry(version) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(slot) => slot.insert(campaigns::load_version(txn, version).await?),
            };
            if let Some(survey) = survey {
                counts.add(campaign_id, school_id, survey, &json, 1);
            }
        }
    }
    counts.apply(txn).await?;
    Ok(claimed.len() as u64)
}

/// Takes the pending rows of the answers `ids` that still have one, and returns their ids: for
/// an exclusion, whose answers still pending were never counted. On PostgreSQL the rows are
/// locked in id order, as every claim locks them.
pub async fn claim(txn: &impl ConnectionTrait, ids: &[i64]) -> Result<HashSet<i64>, DbErr> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    let mut claimed = HashSet::new();
    for chunk in ids.chunks(ANSWERS_PER_QUERY) {
        // Only integers are written into the statement.
        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
        let condition = format!("response_id IN ({})", list.join(","));
        claimed.extend(delete_pending(txn, &condition).await?);
    }
    Ok(claimed)
}

/// Deletes the pending rows that meet `condition` (SQL on `response_pending`'s columns, built
/// from integers only) and returns their answers' ids: the claim. On PostgreSQL the rows are
/// locked in id order first, as the writer's claim locks them.
async fn delete_pending(txn: &impl ConnectionTrait, condition: &str) -> Result<Vec<i64>, DbErr> {
    let backend = txn.get_database_backend();
    let sql = if backend == DatabaseBackend::Postgres {
        format!(
            "DELETE FROM response_pending WHERE response_id IN (SELECT response_id FROM \
             response_pending WHERE {condition} ORDER BY response_id FOR UPDATE) \
             RETURNING response_id"
        )
    } else {
        format!("DELETE FROM response_pending WHERE {condition} RETURNING response_id")
    };
    txn.query_all_raw(Statement::from_string(backend, sql))
        .await?
        .iter()
        .map(|row| row.try_get_by_index(0))
        .collect()
}

/// What a set of stored answers adds to (or, with a negative sign, takes out of) the tallies
/// and score sums: each answer read back from its JSON and counted through the functions the
/// writer used when it stored it. For the pending answers a reader adds, and for a supervisor's
/// exclusion or restoration (`quality`).
#[derive(Default)]
pub struct Counts {
    tallies: BTreeMap<(i32, i32, String, String), i64>,
    sums: BTreeMap<ScoreSumKey, ScoreSums>,
}

impl Counts {
    /// Adds the answer stored as `json` to `survey` of a school (campaign and school) `sign`
    /// times: 1 to count it, −1 to take it out.
    pub fn add(
        &mut self,
        campaign_id: i32,
        school_id: i32,
        survey: &Survey,
        json: &str,
        sign: i64,
    ) {
        let stored = stored_response(survey, json);
        for (question, option) in stored.tally_keys().iter() {
            *self
                .tallies
                .entry((
                    campaign_id,
                    school_id,
                    question.to_owned(),
                    option.to_owned(),
                ))
                .or_default() += sign;
        }
        for (key, row) in score_rows(&area_scores(survey, &stored)) {
            self.sums
                .entry((campaign_id, school_id, key))
                .or_default()
                .add(&row, sign);
        }
    }

    /// Writes them in `txn`: one upsert for the tallies and one for the score sums, keys in
    /// order, as the writer's.
    pub async fn apply(self, txn: &impl ConnectionTrait) -> Result<(), DbErr> {
        add_tallies(txn, &self.tallies).await?;
        let sums: Vec<(ScoreSumKey, ScoreSums)> = self.sums.into_iter().collect();
        add_score_sums(txn, &sums).await
    }
}
