//! The group-commit writer: every accepted response goes through one task that commits whatever
//! is queued in a single transaction — one multi-row INSERT for the responses, one upsert for
//! the tallies, one for the respondents' score sums (`answering::scoring`), one update per
//! link — and only then acknowledges each submitter.
//!
//! It never waits on a timer: a batch is whatever queued while the previous commit ran, so a
//! quiet server commits each answer at once and a busy one commits hundreds per fsync.
//! Duplicates are settled by the database's unique constraints (idempotency key; campaign and
//! browser), so several dupin processes on one PostgreSQL stay correct.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Value};
use tokio::sync::{mpsc, oneshot};

use super::scoring::{ScoreSums, score_rows};
use crate::survey::Area;

/// Rows per INSERT statement: SQLite allows 32,766 bound values; a response takes 10.
const RESPONSES_PER_STATEMENT: usize = 500;
const TALLIES_PER_STATEMENT: usize = 1000;
/// Score-sum rows per upsert: 7 values each.
const SCORE_SUMS_PER_STATEMENT: usize = 1000;
/// Responses per transaction: large enough to amortise the fsync, small enough to answer fast.
const RESPONSES_PER_BATCH: usize = 2000;
/// Submissions waiting for the writer before new submitters wait for room.
const QUEUE_LENGTH: usize = 20_000;

/// A response ready to store. (`Default` lets tools such as the benchmark fill only what they
/// know; every field added later must have a sensible default.)
#[derive(Clone, Debug, Default)]
pub struct Submission {
    pub campaign_id: i32,
    pub school_id: i32,
    pub link_id: i32,
    pub survey_version_id: i32,
    pub idempotency_key: String,
    pub browser_key: Option<String>,
    pub answers_json: String,
    pub tally_keys: Vec<(String, String)>,
    /// The respondent's area scores ([`super::scoring::area_scores`]), added to the running
    /// score sums with the answer.
    pub scores: Vec<(Area, f64)>,
    pub duration_ms: Option<i64>,
    pub submitted_at: DateTime<Utc>,
    /// Answer-quality flags (`crate::quality::join`), `None` when nothing looked wrong.
    pub flags: Option<String>,
    /// Whether its flags alone keep the answer out of the figures (the `[quality]` policy's
    /// `leave_out`): it is stored, and counted nowhere until a supervisor releases it.
    pub left_out: bool,
    /// Its link's admission rate, or `None` to take the answer whatever the rate.
    pub admission: Option<Admission>,
    /// The token of the personal, one-use invitation link the answer came through, if any:
    /// the invitation is marked answered in the same transaction, and an invitation used
    /// before refuses the answer ([`Outcome::InvitationUsed`]). Never stored with the answer.
    pub invitation_token: Option<String>,
}

/// How many answers a link may take in one minute (`QualityRules::answers_per_minute`), and
/// whether an answer past it — `held` — is left out of the figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admission {
    pub per_minute: i64,
    pub held_left_out: bool,
}

/// What became of a submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Stored now.
    Stored,
    /// Stored now, and held: its link took more answers this minute than it may. `surge` for
    /// the answer with which the link passed its rate — the one whose submitter should hold the
    /// link's earlier answers of the window too.
    Held { surge: bool },
    /// The same form was stored before (a double tap or a retry): nothing new stored.
    AlreadyStored,
    /// This browser already answered this campaign with another form: refused.
    AlreadyAnswered,
    /// The personal invitation link was already used by another form: refused.
    InvitationUsed,
}

#[derive(Clone, Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the answer could not be stored: {0}")]
    Database(String),
    #[error("the writer has stopped")]
    Stopped,
}

type Reply = oneshot::Sender<Result<Outcome, WriteError>>;

/// The handle submitters use; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<(Submission, Reply)>,
}

impl Writer {
    /// Starts the writer task on the current Tokio runtime.
    pub fn start(db: DatabaseConnection) -> Writer {
        let (queue, receiver) = mpsc::channel(QUEUE_LENGTH);
        tokio::spawn(run(db, receiver));
        Writer { queue }
    }

    /// Queues `submission` and waits until it is committed (or refused).
    pub async fn submit(&self, submission: Submission) -> Result<Outcome, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((submission, reply))
            .await
            .map_err(|_| WriteError::Stopped)?;
        answer.await.map_err(|_| WriteError::Stopped)?
    }
}

async fn run(db: DatabaseConnection, mut receiver: mpsc::Receiver<(Submission, Reply)>) {
    let mut batch = Vec::with_capacity(RESPONSES_PER_BATCH);
    while receiver.recv_many(&mut batch, RESPONSES_PER_BATCH).await > 0 {
        let (submissions, replies): (Vec<Submission>, Vec<Reply>) = batch.drain(..).unzip();
        let started = std::time::Instant::now();
        let committed = commit(&db, &submissions).await;
        tracing::debug!(
            responses = submissions.len(),
            micros = started.elapsed().as_micros() as u64,
            "batch committed"
        );
        match committed {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(error) => {
                tracing::error!(error = %error, responses = submissions.len(), "storing answers failed");
                let error = WriteError::Database(error.to_string());
                for reply in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}

/// Stores a batch in one transaction and says what became of each submission, in order.
pub async fn commit(
    db: &DatabaseConnection,
    submissions: &[Submission],
) -> Result<Vec<Outcome>, DbErr> {
    let txn = crate::db::begin_write(db).await?;
    let mut inserted: HashSet<String> = HashSet::new();
    // Every transaction takes its row locks in the same order — responses by key, tallies by
    // their key, links by id — so that two processes' batches on PostgreSQL never deadlock.
    let mut in_key_order: Vec<&Submission> = submissions.iter().collect();
    in_key_order.sort_by(|a, b| a.idempotency_key.cmp(&b.idempotency_key));
    // Personal invitation links answer once; their rows are locked first, by token.
    let used_invitations = claim_invitations(&txn, &in_key_order).await?;
    in_key_order
        .retain(|submission| !used_invitations.contains(submission.idempotency_key.as_str()));
    // Each link's count of this minute, by link id (one row each, locked in id order).
    let held = admit(&txn, &in_key_order).await?;
    let stored: Vec<Stored> = in_key_order
        .iter()
        .map(|submission| Stored::of(submission, held.get(submission.idempotency_key.as_str())))
        .collect();
    for chunk in stored.chunks(RESPONSES_PER_STATEMENT) {
        inserted.extend(insert_responses(&txn, chunk).await?);
    }
    let left_out: HashSet<&str> = stored
        .iter()
        .filter(|row| row.excluded)
        .map(|row| row.submission.idempotency_key.as_str())
        .collect();

    // A key not inserted was either stored before (a retry) or refused for its browser.
    let not_inserted: Vec<&str> = submissions
        .iter()
        .map(|submission| submission.idempotency_key.as_str())
        .filter(|key| !inserted.contains(*key))
        .collect();
    let stored_before = existing_keys(&txn, &not_inserted).await?;
    // What is left was refused for its browser — unless something else went wrong, which must
    // fail loudly rather than pass for "already answered".
    let refused_browsers: Vec<&str> = submissions
        .iter()
        .filter(|submission| {
            let key = submission.idempotency_key.as_str();
            !inserted.contains(key) && !stored_before.contains(key)
        })
        .filter_map(|submission| submission.browser_key.as_deref())
        .collect();
    let answered_browsers = existing_browsers(&txn, &refused_browsers).await?;

    let mut counted: HashSet<&str> = HashSet::new();
    let mut tallies: BTreeMap<(i32, i32, &str, &str), i64> = BTreeMap::new();
    let mut score_sums: BTreeMap<ScoreSumKey, ScoreSums> = BTreeMap::new();
    let mut per_link: BTreeMap<i32, i64> = BTreeMap::new();
    let mut outcomes = Vec::with_capacity(submissions.len());
    for submission in submissions {
        let key = submission.idempotency_key.as_str();
        if inserted.contains(key) {
            // Two copies of one form in the same batch insert one row: count it once.
            if !counted.insert(key) {
                outcomes.push(Outcome::AlreadyStored);
                continue;
            }
            let outcome = match held.get(key) {
                Some(surge) => Outcome::Held { surge: *surge },
                None => Outcome::Stored,
            };
            // Left out of the figures (its flags, or held): stored, counted nowhere.
            if left_out.contains(key) {
                outcomes.push(outcome);
                continue;
            }
            {
                for (question, option) in &submission.tally_keys {
                    *tallies
                        .entry((
                            submission.campaign_id,
                            submission.school_id,
                            question.as_str(),
                            option.as_str(),
                        ))
                        .or_default() += 1;
                }
                for (key, sums) in score_rows(&submission.scores) {
                    score_sums
                        .entry((submission.campaign_id, submission.school_id, key))
                        .or_default()
                        .add(&sums, 1);
                }
                *per_link.entry(submission.link_id).or_default() += 1;
                outcomes.push(outcome);
            }
        } else if stored_before.contains(key) {
            outcomes.push(Outcome::AlreadyStored);
        } else if submission.browser_key.as_ref().is_some_and(|browser| {
            answered_browsers.contains(&(submission.campaign_id, browser.clone()))
        }) {
            outcomes.push(Outcome::AlreadyAnswered);
        } else if used_invitations.contains(key) {
            outcomes.push(Outcome::InvitationUsed);
        } else {
            return Err(DbErr::Custom(format!(
                "an answer to campaign {} was not inserted, and neither its key nor its browser \
                 explains why (a conflict on another unique column?)",
                submission.campaign_id
            )));
        }
    }

    let tallies: Vec<_> = tallies.into_iter().collect();
    for chunk in tallies.chunks(TALLIES_PER_STATEMENT) {
        upsert_tallies(&txn, chunk).await?;
    }
    let score_sums: Vec<_> = score_sums.into_iter().collect();
    add_score_sums(&txn, &score_sums).await?;
    for (link_id, count) in per_link {
        let update = Query::update()
            .table(Alias::new("campaign_link"))
            .value(
                Alias::new("response_count"),
                Expr::col(Alias::new("response_count")).add(count),
            )
            .and_where(ExprTrait::eq(Expr::col(Alias::new("id")), link_id))
            .to_owned();
        txn.execute(&update).await?;
    }
    txn.commit().await?;
    Ok(outcomes)
}

/// Marks each submission's invitation answered, in token order, and returns the keys of those
/// whose invitation was already used by another form. A retried form (its key already stored)
/// and a second copy of one form in this batch are the same answer, not a second use.
async fn claim_invitations<'a>(
    txn: &impl ConnectionTrait,
    submissions: &[&'a Submission],
) -> Result<HashSet<&'a str>, DbErr> {
    let mut with_token: Vec<(&str, &str)> = submissions
        .iter()
        .filter_map(|submission| {
            let token = submission.invitation_token.as_deref()?;
            Some((token, submission.idempotency_key.as_str()))
        })
        .collect();
    with_token.sort_unstable();
    let mut refused = HashSet::new();
    let mut claimed: BTreeMap<&str, &str> = BTreeMap::new();
    for (token, key) in with_token {
        if let Some(claimed_by) = claimed.get(token) {
            if *claimed_by != key {
                refused.insert(key);
            }
            continue;
        }
        if super::personal_links::mark_answered(txn, token).await?
            || !existing_keys(txn, &[key]).await?.is_empty()
        {
            claimed.insert(token, key);
        } else {
            refused.insert(key);
        }
    }
    Ok(refused)
}

/// A submission as it is stored: its flags with `held` added when its link is over its rate,
/// and whether it is left out of the figures.
struct Stored<'a> {
    submission: &'a Submission,
    flags: Option<String>,
    excluded: bool,
}

impl<'a> Stored<'a> {
    fn of(submission: &'a Submission, held: Option<&bool>) -> Stored<'a> {
        let held = held.is_some();
        let flags = match (held, submission.flags.as_deref()) {
            (false, flags) => flags.map(str::to_owned),
            (true, None) => Some(HELD.to_owned()),
            (true, Some(flags)) => Some(format!("{flags},{HELD}")),
        };
        let held_left_out = submission
            .admission
            .is_some_and(|admission| admission.held_left_out);
        Stored {
            submission,
            flags,
            excluded: submission.left_out || (held && held_left_out),
        }
    }
}

/// The stored flag of a held answer (`crate::rating::flags::Flag::Held`).
const HELD: &str = "held";

/// Counts each link's answers of this minute, one statement per link and minute in link order,
/// and says which submissions are past their link's rate: those are held, and the first of them
/// with which the link passed the rate is marked `true` (a surge began). A retried form counts
/// again; a count that starts a new minute starts afresh.
async fn admit(
    txn: &impl ConnectionTrait,
    submissions: &[&Submission],
) -> Result<HashMap<String, bool>, DbErr> {
    let mut groups: BTreeMap<(i32, i64), Vec<&Submission>> = BTreeMap::new();
    for submission in submissions {
        if submission.admission.is_some() {
            groups
                .entry((submission.link_id, submission.submitted_at.timestamp() / 60))
                .or_default()
                .push(submission);
        }
    }
    let mut held = HashMap::new();
    for ((link_id, minute), group) in groups {
        let Some(admission) = group[0].admission else {
            continue;
        };
        let added = i64::try_from(group.len()).unwrap_or(i64::MAX);
        let upsert = Query::insert()
            .into_table(Alias::new("admission"))
            .columns([
                Alias::new("link_id"),
                Alias::new("minute"),
                Alias::new("count"),
            ])
            .values([link_id.into(), minute.into(), added.into()])
            .map_err(|error| DbErr::Custom(error.to_string()))?
            .on_conflict(
                OnConflict::column(Alias::new("link_id"))
                    .value(Alias::new("minute"), Expr::cust("excluded.minute"))
                    .value(
                        Alias::new("count"),
                        Expr::cust(
                            "CASE WHEN admission.minute = excluded.minute \
                             THEN admission.count + excluded.count ELSE excluded.count END",
                        ),
                    )
                    .to_owned(),
            )
            .returning_col(Alias::new("count"))
            .to_owned();
        let Some(row) = txn.query_one(&upsert).await? else {
            continue;
        };
        let count: i64 = row.try_get("", "count")?;
        let over = count - admission.per_minute;
        if over <= 0 {
            continue;
        }
        // The last `over` of this group (all of it, once the link is past its rate) are held.
        let first_held = group
            .len()
            .saturating_sub(usize::try_from(over).unwrap_or(usize::MAX));
        let passed_now = count - added < admission.per_minute;
        for (place, submission) in group.iter().enumerate().skip(first_held) {
            held.insert(
                submission.idempotency_key.clone(),
                passed_now && place == first_held,
            );
        }
    }
    Ok(held)
}

async fn insert_responses(
    txn: &impl ConnectionTrait,
    chunk: &[Stored<'_>],
) -> Result<Vec<String>, DbErr> {
    let mut insert = Query::insert();
    insert.into_table(Alias::new("response")).columns([
        Alias::new("campaign_id"),
        Alias::new("school_id"),
        Alias::new("survey_version_id"),
        Alias::new("idempotency_key"),
        Alias::new("browser_key"),
        Alias::new("answers"),
        Alias::new("submitted_at"),
        Alias::new("duration_ms"),
        Alias::new("excluded"),
        Alias::new("flags"),
    ]);
    for stored in chunk {
        let submission = stored.submission;
        insert
            .values([
                submission.campaign_id.into(),
                submission.school_id.into(),
                submission.survey_version_id.into(),
                submission.idempotency_key.clone().into(),
                Value::from(submission.browser_key.clone()).into(),
                submission.answers_json.clone().into(),
                submission.submitted_at.into(),
                Value::from(submission.duration_ms).into(),
                stored.excluded.into(),
                Value::from(stored.flags.clone()).into(),
            ])
            .map_err(|error| DbErr::Custom(error.to_string()))?;
    }
    insert
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .returning_col(Alias::new("idempotency_key"));
    let rows = txn.query_all(&insert).await?;
    rows.iter()
        .map(|row| row.try_get::<String>("", "idempotency_key"))
        .collect()
}

async fn existing_keys(
    txn: &impl ConnectionTrait,
    keys: &[&str],
) -> Result<HashSet<String>, DbErr> {
    let mut found = HashSet::new();
    for chunk in keys.chunks(RESPONSES_PER_STATEMENT) {
        let select = Query::select()
            .column(Alias::new("idempotency_key"))
            .from(Alias::new("response"))
            .and_where(Expr::col(Alias::new("idempotency_key")).is_in(chunk.iter().copied()))
            .to_owned();
        for row in txn.query_all(&select).await? {
            found.insert(row.try_get::<String>("", "idempotency_key")?);
        }
    }
    Ok(found)
}

/// (campaign, school, score key): a row of the running score sums.
pub type ScoreSumKey = (i32, i32, String);

/// Adds sums to the running score sums, a row per key, creating rows that do not exist yet;
/// negative sums take an answer back out (a supervisor's exclusion). Keys in order, in
/// statements of [`SCORE_SUMS_PER_STATEMENT`] rows, so that concurrent writers lock rows in
/// the same order.
pub async fn add_score_sums(
    txn: &impl ConnectionTrait,
    rows: &[(ScoreSumKey, ScoreSums)],
) -> Result<(), DbErr> {
    for chunk in rows.chunks(SCORE_SUMS_PER_STATEMENT) {
        let mut insert = Query::insert();
        insert.into_table(Alias::new("score_sum")).columns([
            Alias::new("campaign_id"),
            Alias::new("school_id"),
            Alias::new("score_key"),
            Alias::new("n"),
            Alias::new("sum_x"),
            Alias::new("sum_y"),
            Alias::new("sum_xy"),
        ]);
        for ((campaign_id, school_id, key), sums) in chunk {
            insert
                .values([
                    (*campaign_id).into(),
                    (*school_id).into(),
                    key.as_str().into(),
                    sums.n.into(),
                    sums.sum_x.into(),
                    sums.sum_y.into(),
                    sums.sum_xy.into(),
                ])
                .map_err(|error| DbErr::Custom(error.to_string()))?;
        }
        let added = |column: &str| {
            Expr::col((Alias::new("score_sum"), Alias::new(column)))
                .add(Expr::col((Alias::new("excluded"), Alias::new(column))))
        };
        insert.on_conflict(
            OnConflict::columns([
                Alias::new("campaign_id"),
                Alias::new("school_id"),
                Alias::new("score_key"),
            ])
            .values([
                (Alias::new("n"), added("n")),
                (Alias::new("sum_x"), added("sum_x")),
                (Alias::new("sum_y"), added("sum_y")),
                (Alias::new("sum_xy"), added("sum_xy")),
            ])
            .to_owned(),
        );
        txn.execute(&insert).await?;
    }
    Ok(())
}

/// (campaign, school, question key, option code) → how many answers to add.
type TallyDelta<'a> = ((i32, i32, &'a str, &'a str), i64);

/// The (campaign, browser key) pairs among `browsers` that already have an answer.
async fn existing_browsers(
    txn: &impl ConnectionTrait,
    browsers: &[&str],
) -> Result<HashSet<(i32, String)>, DbErr> {
    let mut found = HashSet::new();
    for chunk in browsers.chunks(RESPONSES_PER_STATEMENT) {
        let select = Query::select()
            .columns([Alias::new("campaign_id"), Alias::new("browser_key")])
            .from(Alias::new("response"))
            .and_where(Expr::col(Alias::new("browser_key")).is_in(chunk.iter().copied()))
            .to_owned();
        for row in txn.query_all(&select).await? {
            found.insert((
                row.try_get::<i32>("", "campaign_id")?,
                row.try_get::<String>("", "browser_key")?,
            ));
        }
    }
    Ok(found)
}

async fn upsert_tallies(txn: &impl ConnectionTrait, chunk: &[TallyDelta<'_>]) -> Result<(), DbErr> {
    let mut insert = Query::insert();
    insert.into_table(Alias::new("tally")).columns([
        Alias::new("campaign_id"),
        Alias::new("school_id"),
        Alias::new("question_key"),
        Alias::new("option_key"),
        Alias::new("count"),
    ]);
    for ((campaign_id, school_id, question, option), count) in chunk {
        insert
            .values([
                (*campaign_id).into(),
                (*school_id).into(),
                (*question).into(),
                (*option).into(),
                (*count).into(),
            ])
            .map_err(|error| DbErr::Custom(error.to_string()))?;
    }
    insert.on_conflict(
        OnConflict::columns([
            Alias::new("campaign_id"),
            Alias::new("school_id"),
            Alias::new("question_key"),
            Alias::new("option_key"),
        ])
        .value(
            Alias::new("count"),
            Expr::col((Alias::new("tally"), Alias::new("count")))
                .add(Expr::col((Alias::new("excluded"), Alias::new("count")))),
        )
        .to_owned(),
    );
    txn.execute(&insert).await?;
    Ok(())
}
