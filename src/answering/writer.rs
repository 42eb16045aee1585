//! The group-commit writer: every accepted response goes through one task that commits whatever
//! is queued in a single transaction — one multi-row INSERT for the responses, one upsert for
//! the links' admission counts, one update of the links' answer counts — and only then
//! acknowledges each submitter.
//!
//! The answers' tallies and score sums (`answering::scoring`) are not added one answer at a time:
//! each stored answer leaves a row in `response_pending`, and the writer keeps what it adds to
//! the counts in memory, by school. A school's answers go in together — one upsert per option
//! and score for all of them — once it has [`SCHOOL_ANSWERS`] of them or the oldest has waited
//! [`PENDING_AGE`], in the transaction of a later batch, which claims them by deleting their
//! pending rows; after [`QUIET`] without answers, all of them go in. Whoever reads the counts
//! first adds those still pending from the stored answers (`super::pending`), so the figures
//! never miss an acknowledged answer, and one claimed is never added twice.
//!
//! The statements whose rows vary most (admission counts, tallies, score sums, link counts)
//! are built once with all their rows (`batch::Rows`): on PostgreSQL they go as one JSON array
//! parameter, the same SQL text whatever the batch; on SQLite the writer has a connection and a
//! thread of its own (`direct`), which steps each statement once per row with nothing handed to
//! another thread between the batch's `BEGIN IMMEDIATE` and its `COMMIT`.
//!
//! A batch is whatever queued while the previous commit ran, so a busy server commits dozens
//! per fsync. On SQLite a small batch also waits for the answers still coming, a pause of
//! [`GATHER_PAUSE`] at a time while each pause brings more, up to [`GATHER_BELOW`] answers or
//! [`GATHER_MOST`] in all (`gather`): a quiet server's answer waits one pause.
//! Duplicates are settled by the database's unique constraints (idempotency key; campaign and
//! browser), so several dupin processes on one PostgreSQL stay correct.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr};
use tokio::sync::{mpsc, oneshot};

use super::scoring::{ScoreSums, score_rows};
use super::validate::TallyKeys;
use crate::survey::Area;

mod batch;
mod direct;
mod replies;
mod vfs;
use batch::{BatchDb, Pooled, Rows};
pub use direct::Direct;
pub use replies::Replies;
use replies::ReplyTo;

/// Keys per `IN (…)` list when looking up keys and browsers that were not inserted.
const KEYS_PER_STATEMENT: usize = 500;
/// Responses per transaction: large enough to amortise the fsync, small enough to answer fast.
const RESPONSES_PER_BATCH: usize = 2000;
/// Submissions waiting for the writer before new submitters wait for room.
const QUEUE_LENGTH: usize = 20_000;
/// A school's pending answers go into the counts together once it has this many…
const SCHOOL_ANSWERS: usize = 32;
/// …or once the oldest of them has waited this long.
const PENDING_AGE: Duration = Duration::from_secs(1);
/// Pending answers a batch adds at most (whole schools: it may go a school over).
const FLUSH_ANSWERS: usize = 512;
/// How long the writer waits for more answers before it adds all pending ones.
const QUIET: Duration = Duration::from_millis(50);
/// On SQLite, a batch of fewer answers than this waits for more while more keep coming…
const GATHER_BELOW: usize = 12;
/// …looking again after each pause of at least this long…
const GATHER_PAUSE: Duration = Duration::from_micros(50);
/// …for this long at most in all.
const GATHER_MOST: Duration = Duration::from_micros(600);

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
    pub tally_keys: TallyKeys,
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

impl Submission {
    /// A made-up answer (the demonstration county, the benchmark): `valid`, an answer to
    /// `survey`, through `link` of `campaign`, with random keys, submitted now.
    pub fn generated(
        campaign: &entity::campaign::Model,
        link: &entity::campaign_link::Model,
        survey: &crate::survey::Survey,
        valid: &super::ValidResponse,
    ) -> Submission {
        Submission {
            campaign_id: campaign.id,
            school_id: link.school_id,
            link_id: link.id,
            survey_version_id: campaign.survey_version_id,
            idempotency_key: crate::secrets::random_key(),
            browser_key: Some(crate::secrets::random_key()),
            answers_json: valid.to_json(),
            tally_keys: valid.tally_keys(),
            scores: super::scoring::area_scores(survey, valid),
            submitted_at: Utc::now(),
            ..Submission::default()
        }
    }
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

type Queue = mpsc::Receiver<(Submission, ReplyTo)>;

/// Where the writer stores answers.
pub enum WriterDatabase {
    /// SQLite: the writer's own connection, used on a thread of its own.
    Sqlite(Direct),
    /// PostgreSQL: the shared pool, a connection per batch.
    Shared(DatabaseConnection),
}

impl WriterDatabase {
    /// The writer's database at `url`, once `db::connect` has migrated it as `shared`. On SQLite
    /// a connection of its own, which the writer's thread holds for as long as it runs: its page
    /// cache lasts while no other connection commits, and its statements run on its thread
    /// instead of being handed to sqlx's. On PostgreSQL, the shared pool, whose connections the
    /// writer's batches take one at a time.
    pub async fn open(
        url: &str,
        shared: &DatabaseConnection,
    ) -> Result<WriterDatabase, crate::db::DbSetupError> {
        use crate::db::DbSetupError;
        if shared.get_database_backend() != DatabaseBackend::Sqlite {
            return Ok(WriterDatabase::Shared(shared.clone()));
        }
        let file =
            crate::db::sqlite_file(url).ok_or_else(|| DbSetupError::InMemory(url.to_owned()))?;
        let opened = tokio::task::spawn_blocking(move || Direct::open(&file))
            .await
            .map_err(|error| error.to_string())
            .and_then(|opened| opened.map_err(|error| error.to_string()));
        opened
            .map(WriterDatabase::Sqlite)
            .map_err(|error| DbSetupError::Connect(DbErr::Custom(error)))
    }
}

/// The handle submitters use; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<(Submission, ReplyTo)>,
}

impl Writer {
    /// Starts the writer: on SQLite on a thread of its own, on PostgreSQL as a task on the
    /// current Tokio runtime.
    pub fn start(database: WriterDatabase) -> std::io::Result<Writer> {
        let (queue, receiver) = mpsc::channel(QUEUE_LENGTH);
        match database {
            WriterDatabase::Sqlite(direct) => {
                // Its batches block this thread on SQLite, never a runtime's worker; the
                // runtime only waits for submissions.
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()?;
                std::thread::Builder::new()
                    .name("dupin-writer".to_owned())
                    .spawn(move || runtime.block_on(run(direct, receiver)))?;
            }
            WriterDatabase::Shared(db) => {
                tokio::spawn(run(Shared::start(db), receiver));
            }
        }
        Ok(Writer { queue })
    }

    /// Queues `submission` and waits until it is committed (or refused).
    pub async fn submit(&self, submission: Submission) -> Result<Outcome, WriteError> {
        self.queue_and_wait(submission, ReplyTo::Submitter).await
    }

    /// As [`Writer::submit`], answered through `replies`, the mailbox of the runtime thread
    /// this runs on (an HTTP worker's).
    pub async fn submit_through(
        &self,
        submission: Submission,
        replies: &Replies,
    ) -> Result<Outcome, WriteError> {
        let mailbox = replies.mailbox();
        self.queue_and_wait(submission, |reply| ReplyTo::Mailbox(mailbox, reply))
            .await
    }

    async fn queue_and_wait(
        &self,
        submission: Submission,
        reply_to: impl FnOnce(replies::Reply) -> ReplyTo,
    ) -> Result<Outcome, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((submission, reply_to(reply)))
            .await
            .map_err(|_| WriteError::Stopped)?;
        let (outcome, spent) = answer.await.map_err(|_| WriteError::Stopped)?;
        drop(spent);
        outcome
    }
}

/// How the writer commits a batch on its database: `direct::Direct` on SQLite, [`Shared`] on
/// PostgreSQL. A batch stores `submissions`, leaving their counts pending, and adds to the
/// counts those of the earlier answers `flush` that can still be claimed.
trait Committer {
    /// Whether a small batch waits for the answers still coming (`gather`): only a writer on a
    /// thread of its own may pause it (on PostgreSQL the writer is a task on an HTTP worker).
    const GATHERS: bool = false;

    async fn commit_batch(
        &mut self,
        submissions: &[Submission],
        flush: Vec<Pending>,
    ) -> Result<Batch, DbErr>;
}

/// PostgreSQL: each batch on a connection of the shared pool, and the pending answers added by
/// a task of its own, on another connection, beside the batches rather than in them. The two
/// never touch the same rows (a batch inserts new answers and their pending rows and counts its
/// links; the adder claims older pending rows and writes tallies and score sums), so a batch
/// never waits for the counts; several flushes queued meanwhile are added as one.
struct Shared {
    db: DatabaseConnection,
    flushes: mpsc::Sender<Vec<Pending>>,
}

/// Flushes waiting for the PostgreSQL writer's adder before the writer waits for it.
const FLUSHES_QUEUED: usize = 64;

impl Shared {
    fn start(db: DatabaseConnection) -> Shared {
        let (flushes, mut queued) = mpsc::channel::<Vec<Pending>>(FLUSHES_QUEUED);
        let adder = db.clone();
        tokio::spawn(async move {
            let mut taken = Vec::new();
            while queued.recv_many(&mut taken, FLUSHES_QUEUED).await > 0 {
                let answers: Vec<Pending> = taken.drain(..).flatten().collect();
                if let Err(error) = commit_deferred(&adder, &[], &answers).await {
                    // They stay pending in the database, for the next reader or the next start.
                    tracing::warn!(%error, answers = answers.len(), "adding pending answers to the counts failed");
                }
            }
        });
        Shared { db, flushes }
    }
}

impl Committer for Shared {
    async fn commit_batch(
        &mut self,
        submissions: &[Submission],
        flush: Vec<Pending>,
    ) -> Result<Batch, DbErr> {
        if !flush.is_empty() && self.flushes.send(flush).await.is_err() {
            tracing::warn!("the writer's adder has stopped; pending answers wait for a reader");
        }
        if submissions.is_empty() {
            return Ok(Batch {
                outcomes: Vec::new(),
                left_pending: Vec::new(),
            });
        }
        commit_deferred(&self.db, submissions, &[]).await
    }
}

/// Lets a batch of fewer than [`GATHER_BELOW`] answers wait for those still coming, and says
/// how many pauses it took. After a large batch is answered, its phones come back a few at a
/// time, and each commit costs the writer's CPU ≈ 130 µs whatever its size (its sync above
/// all) besides ≈ 27 µs an answer: one answer alone ≈ 145 µs, ten ≈ 410 µs (README,
/// "Capacity", part 18). The batch waits [`GATHER_PAUSE`] at a time while each pause brought
/// more, for [`GATHER_MOST`] at most; a pause that brings nothing ends the wait.
fn gather<T>(receiver: &mut mpsc::Receiver<T>, batch: &mut Vec<T>) -> usize {
    gather_within(receiver, batch, GATHER_MOST)
}

/// [`gather`] for `most` at most.
fn gather_within<T>(receiver: &mut mpsc::Receiver<T>, batch: &mut Vec<T>, most: Duration) -> usize {
    let started = Instant::now();
    let mut paused = 0;
    while batch.len() < GATHER_BELOW && started.elapsed() < most {
        std::thread::sleep(GATHER_PAUSE);
        paused += 1;
        let before = batch.len();
        while batch.len() < RESPONSES_PER_BATCH
            && let Ok(item) = receiver.try_recv()
        {
            batch.push(item);
        }
        if batch.len() == before {
            break;
        }
    }
    paused
}

async fn run<D: Committer>(mut database: D, mut receiver: Queue) {
    let mut batch = Vec::with_capacity(RESPONSES_PER_BATCH);
    let mut pending = PendingCounts::default();
    loop {
        let received = if pending.is_empty() {
            receiver.recv_many(&mut batch, RESPONSES_PER_BATCH).await
        } else {
            let next = receiver.recv_many(&mut batch, RESPONSES_PER_BATCH);
            match tokio::time::timeout(QUIET, next).await {
                Ok(received) => received,
                Err(_) => {
                    // Nothing came for a while: every pending answer goes into the counts now.
                    flush(&mut database, pending.take_all()).await;
                    continue;
                }
            }
        };
        if received == 0 {
            // Stopping: what is still pending goes in now (or is settled at the next start).
            flush(&mut database, pending.take_all()).await;
            return;
        }
        let paused = if D::GATHERS {
            gather(&mut receiver, &mut batch)
        } else {
            0
        };
        let (mut submissions, replies): (Vec<Submission>, Vec<ReplyTo>) = batch.drain(..).unzip();
        let started = std::time::Instant::now();
        // At least as many as it stores, so that the pending answers cannot pile up.
        let flushing = pending.take_ready(started, submissions.len());
        let flushed = flushing.len();
        let committed = database.commit_batch(&submissions, flushing).await;
        tracing::debug!(
            responses = submissions.len(),
            flushed,
            paused,
            micros = started.elapsed().as_micros() as u64,
            "batch committed"
        );
        match committed {
            Ok(committed) => {
                pending.add(&mut submissions, &committed.left_pending, started);
                replies::deliver(
                    replies
                        .into_iter()
                        .zip(committed.outcomes)
                        .zip(submissions)
                        .map(|((to, outcome), spent)| (to, Ok(outcome), spent)),
                );
            }
            Err(error) => {
                // The answers it was to add stay pending in the database, for the next reader.
                tracing::error!(error = %error, responses = submissions.len(), "storing answers failed");
                let error = WriteError::Database(error.to_string());
                replies::deliver(
                    replies
                        .into_iter()
                        .zip(submissions)
                        .map(|(to, spent)| (to, Err(error.clone()), spent)),
                );
            }
        }
    }
}

/// Adds pending answers to the counts in a transaction of their own.
async fn flush(database: &mut impl Committer, answers: Vec<Pending>) {
    if answers.is_empty() {
        return;
    }
    let count = answers.len();
    if let Err(error) = database.commit_batch(&[], answers).await {
        // They stay pending in the database, for the next reader or the next start.
        tracing::warn!(%error, answers = count, "adding pending answers to the counts failed");
    }
}

/// Stores a batch in one transaction, adding its answers to the counts in the same transaction,
/// and says what became of each submission, in order. For tools and tests that store answers
/// without the writer.
pub async fn commit(
    db: &DatabaseConnection,
    submissions: &[Submission],
) -> Result<Vec<Outcome>, DbErr> {
    let txn = crate::db::begin_write(db).await?;
    let batch = store(&Pooled(&txn), submissions, Counting::Now).await?;
    txn.commit().await?;
    Ok(batch.outcomes)
}

/// Stores a batch in one transaction as the writer does: its answers left pending, the earlier
/// pending answers `flush` added to the counts.
pub(super) async fn commit_deferred(
    db: &DatabaseConnection,
    submissions: &[Submission],
    flush: &[Pending],
) -> Result<Batch, DbErr> {
    let txn = crate::db::begin_write(db).await?;
    let batch = store(&Pooled(&txn), submissions, Counting::Deferred(flush)).await?;
    txn.commit().await?;
    Ok(batch)
}

/// What a batch does with the counts of the answers it stores.
#[derive(Clone, Copy)]
enum Counting<'p> {
    /// Adds them in its own transaction.
    Now,
    /// Leaves them pending, and adds those of the earlier answers given that it claims.
    Deferred(&'p [Pending]),
}

/// What a committed batch did: an outcome per submission, in order, and the submissions whose
/// answers it left pending (their place in the batch, and the stored answer's id).
pub(super) struct Batch {
    outcomes: Vec<Outcome>,
    left_pending: Vec<(usize, i64)>,
}

/// An answer stored with its counts left pending, and what it adds to them.
pub(super) struct Pending {
    response_id: i64,
    campaign_id: i32,
    school_id: i32,
    tally_keys: TallyKeys,
    scores: Vec<(Area, f64)>,
}

/// The writer's pending answers, by school: a school's answers go into the counts together
/// once it has [`SCHOOL_ANSWERS`] of them or its oldest has waited [`PENDING_AGE`].
#[derive(Default)]
struct PendingCounts {
    schools: HashMap<(i32, i32), SchoolPending>,
}

struct SchoolPending {
    since: Instant,
    answers: Vec<Pending>,
}

impl PendingCounts {
    fn is_empty(&self) -> bool {
        self.schools.is_empty()
    }

    /// Keeps what the answers the batch of `submissions` left pending add to the counts (taken
    /// out of them).
    fn add(&mut self, submissions: &mut [Submission], left: &[(usize, i64)], now: Instant) {
        let mut ids = vec![None; submissions.len()];
        for (place, id) in left {
            ids[*place] = Some(*id);
        }
        for (submission, id) in submissions.iter_mut().zip(ids) {
            let Some(response_id) = id else {
                continue;
            };
            let school = self
                .schools
                .entry((submission.campaign_id, submission.school_id))
                .or_insert_with(|| SchoolPending {
                    since: now,
                    answers: Vec::new(),
                });
            school.answers.push(Pending {
                response_id,
                campaign_id: submission.campaign_id,
                school_id: submission.school_id,
                tally_keys: std::mem::take(&mut submission.tally_keys),
                scores: std::mem::take(&mut submission.scores),
            });
        }
    }

    /// The answers of the schools that are ready, oldest first, whole schools up to about
    /// [`FLUSH_ANSWERS`] answers, or twice `stored` when that is more.
    fn take_ready(&mut self, now: Instant, stored: usize) -> Vec<Pending> {
        let budget = FLUSH_ANSWERS.max(2 * stored);
        let mut ready: Vec<((i32, i32), Instant)> = self
            .schools
            .iter()
            .filter(|(_, school)| {
                school.answers.len() >= SCHOOL_ANSWERS || now - school.since >= PENDING_AGE
            })
            .map(|(key, school)| (*key, school.since))
            .collect();
        ready.sort_by_key(|(key, since)| (*since, *key));
        let mut taken = Vec::new();
        for (key, _) in ready {
            if taken.len() >= budget {
                break;
            }
            if let Some(school) = self.schools.remove(&key) {
                taken.extend(school.answers);
            }
        }
        taken
    }

    fn take_all(&mut self) -> Vec<Pending> {
        self.schools
            .drain()
            .flat_map(|(_, school)| school.answers)
            .collect()
    }
}

/// Stores a batch's responses in the transaction of `txn`, adds the stored answers to the link
/// counts and, as `counting` says, to the tallies and score sums or to the pending answers, and
/// says what became of each submission, in order.
async fn store(
    txn: &impl BatchDb,
    submissions: &[Submission],
    counting: Counting<'_>,
) -> Result<Batch, DbErr> {
    // The batch's collections are made at its size at once: grown as they filled, they were ≈ 2 %
    // of the writer's time.
    let mut inserted: HashMap<String, i64> = HashMap::with_capacity(submissions.len());
    // Every transaction takes its row locks in the same order — responses by key, tallies by
    // their key, links by id — so that two processes' batches on PostgreSQL never deadlock.
    let mut in_key_order: Vec<&Submission> = submissions.iter().collect();
    in_key_order.sort_by(|a, b| a.idempotency_key.cmp(&b.idempotency_key));
    // Personal invitation links answer once; their rows are locked first, by token.
    let used_invitations = claim_invitations(txn, &in_key_order).await?;
    in_key_order
        .retain(|submission| !used_invitations.contains(submission.idempotency_key.as_str()));
    // Each link's count of this minute, by link id (one row each, locked in id order).
    let held = admit(txn, &in_key_order).await?;
    let mut stored: Vec<Stored> = in_key_order
        .iter()
        .map(|submission| Stored::of(submission, held.get(submission.idempotency_key.as_str())))
        .collect();
    // Two copies of one form in a batch (a double tap) are one row: the first, in the batch's
    // order (the sort is stable). Only its own flags say whether the stored answer counts — a
    // later copy flagged otherwise (left out by a burst, say, or an address's ceiling) must not
    // keep a counted row out of its link's count, or an exclusion later takes out what was
    // never added.
    stored.dedup_by(|later, first| {
        later.submission.idempotency_key == first.submission.idempotency_key
    });
    // On PostgreSQL the pending rows go in with the responses, in the same statement.
    let pending_with_responses =
        matches!(counting, Counting::Deferred(_)) && txn.backend() == DatabaseBackend::Postgres;
    inserted.extend(
        insert_responses(txn, &stored, pending_with_responses)
            .await?
            .into_iter()
            .map(|(id, key)| (key, id)),
    );
    let left_out: HashSet<&str> = stored
        .iter()
        .filter(|row| row.excluded)
        .map(|row| row.submission.idempotency_key.as_str())
        .collect();

    // A key not inserted was either stored before (a retry) or refused for its browser.
    let not_inserted: Vec<&str> = submissions
        .iter()
        .map(|submission| submission.idempotency_key.as_str())
        .filter(|key| !inserted.contains_key(*key))
        .collect();
    let stored_before = existing_keys(txn, &not_inserted).await?;
    // What is left was refused for its browser — unless something else went wrong, which must
    // fail loudly rather than pass for "already answered".
    let refused_browsers: Vec<&str> = submissions
        .iter()
        .filter(|submission| {
            let key = submission.idempotency_key.as_str();
            !inserted.contains_key(key) && !stored_before.contains(key)
        })
        .filter_map(|submission| submission.browser_key.as_deref())
        .collect();
    let answered_browsers = existing_browsers(txn, &refused_browsers).await?;

    let mut counted: HashSet<&str> = HashSet::with_capacity(submissions.len());
    let mut tallies: Tallies<'_> = HashMap::default();
    let mut score_sums: BTreeMap<ScoreSumKey, ScoreSums> = BTreeMap::new();
    let mut per_link: BTreeMap<i32, i64> = BTreeMap::new();
    let mut outcomes = Vec::with_capacity(submissions.len());
    let mut left_pending = Vec::with_capacity(submissions.len());
    let mut pending_rows = Rows::new(
        "INSERT INTO response_pending (response_id, campaign_id) SELECT {0}, {1} FROM {rows}",
        &["int8", "int4"],
    );
    for (place, submission) in submissions.iter().enumerate() {
        let key = submission.idempotency_key.as_str();
        if let Some(&response_id) = inserted.get(key) {
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
            match counting {
                Counting::Now => add_counts(
                    &mut tallies,
                    &mut score_sums,
                    (submission.campaign_id, submission.school_id),
                    &submission.tally_keys,
                    &submission.scores,
                ),
                Counting::Deferred(_) => {
                    if !pending_with_responses {
                        pending_rows.push([response_id.into(), submission.campaign_id.into()]);
                    }
                    left_pending.push((place, response_id));
                }
            }
            *per_link.entry(submission.link_id).or_default() += 1;
            outcomes.push(outcome);
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

    txn.apply_rows(&pending_rows).await?;
    if let Counting::Deferred(flush) = counting {
        for claimed in claim_pending(txn, flush).await? {
            add_counts(
                &mut tallies,
                &mut score_sums,
                (claimed.campaign_id, claimed.school_id),
                &claimed.tally_keys,
                &claimed.scores,
            );
        }
    }
    // In key order, as every transaction takes the tallies' row locks.
    let mut tallies: Vec<(TallyKey<'_>, i64)> = tallies.into_iter().collect();
    tallies.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    txn.apply_rows(&tally_rows(tallies)).await?;
    txn.apply_rows(&score_sum_rows(&score_sums)).await?;
    for rows in link_count_rows(txn.backend(), &per_link) {
        txn.apply_rows(&rows).await?;
    }
    Ok(Batch {
        outcomes,
        left_pending,
    })
}

/// Adds what one answer of `school` (campaign and school) counts to a batch's tallies and score
/// sums.
fn add_counts<'a>(
    tallies: &mut Tallies<'a>,
    score_sums: &mut BTreeMap<ScoreSumKey, ScoreSums>,
    (campaign_id, school_id): (i32, i32),
    tally_keys: &'a TallyKeys,
    scores: &[(Area, f64)],
) {
    for (question, option) in tally_keys.iter() {
        *tallies
            .entry((campaign_id, school_id, question, option))
            .or_default() += 1;
    }
    for (key, sums) in score_rows(scores) {
        score_sums
            .entry((campaign_id, school_id, key))
            .or_default()
            .add(&sums, 1);
    }
}

/// Claims the pending answers among `flush` that are still pending — another process, or a
/// reader, may have added some already — by deleting their rows, and returns those it claimed.
/// On PostgreSQL the rows are locked in id order first, as `super::pending::settle_in` locks
/// them, so that a batch and a reader never wait on each other in a circle.
async fn claim_pending<'p>(
    txn: &impl BatchDb,
    flush: &'p [Pending],
) -> Result<Vec<&'p Pending>, DbErr> {
    let mut ids: Vec<i64> = flush.iter().map(|answer| answer.response_id).collect();
    ids.sort_unstable();
    let mut claim = Rows::new(
        if txn.backend() == DatabaseBackend::Postgres {
            "DELETE FROM response_pending WHERE response_id IN (SELECT response_id FROM \
             response_pending WHERE response_id IN (SELECT {0} FROM {rows}) \
             ORDER BY response_id FOR UPDATE) RETURNING response_id"
        } else {
            "DELETE FROM response_pending WHERE response_id IN (SELECT {0} FROM {rows}) \
             RETURNING response_id"
        },
        &["int8"],
    )
    .with_one_row("DELETE FROM response_pending WHERE response_id = ?1");
    for id in &ids {
        claim.push([(*id).into()]);
    }
    let claimed: HashSet<i64> = txn.delete_rows(&claim, 0).await?.into_iter().collect();
    Ok(flush
        .iter()
        .filter(|answer| claimed.contains(&answer.response_id))
        .collect())
}

/// Marks each submission's invitation answered, in token order, and returns the keys of those
/// whose invitation was already used by another form. A retried form (its key already stored)
/// and a second copy of one form in this batch are the same answer, not a second use.
async fn claim_invitations<'a>(
    txn: &impl BatchDb,
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
        let marked = txn
            .execute(super::personal_links::mark_answered(txn.backend(), token))
            .await?;
        if marked > 0 || !existing_keys(txn, &[key]).await?.is_empty() {
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
            // Held by its address as well as by its link: one flag, not two.
            (true, Some(flags)) if flags.split(',').any(|flag| flag == HELD) => {
                Some(flags.to_owned())
            }
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

/// How a link's count of the minute takes a batch's answers: a later minute starts again.
macro_rules! count_admission {
    () => {
        " ON CONFLICT (link_id) DO UPDATE SET \
         minute = CASE WHEN excluded.minute > admission.minute \
         THEN excluded.minute ELSE admission.minute END, \
         count = CASE WHEN excluded.minute > admission.minute \
         THEN excluded.count ELSE admission.count + excluded.count END"
    };
}

/// Counts each link's answers of this minute, one statement per link and minute in link order,
/// and says which submissions are past their link's rate: those are held, and the first of them
/// with which the link passed the rate is marked `true` (a surge began). A retried form counts
/// again; a count that starts a new minute starts afresh, and an answer of an earlier minute
/// than the link's count (stamped before another process's batch of the next minute committed)
/// counts in the link's current minute: the count never goes back, so a late batch cannot
/// restart it.
async fn admit(
    txn: &impl BatchDb,
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
    // One statement for every link's count, in link order; a link with answers of two minutes in
    // the batch (at the turn of a minute) has its later minute counted by a second statement,
    // since one upsert may not touch a row twice on PostgreSQL.
    let mut rounds: Vec<Rows<'_>> = Vec::new();
    let mut minutes: Vec<HashMap<i32, i64>> = Vec::new();
    let mut previous_link = None;
    let mut round = 0;
    for ((link_id, minute), group) in &groups {
        round = if previous_link == Some(*link_id) {
            round + 1
        } else {
            0
        };
        previous_link = Some(*link_id);
        if rounds.len() <= round {
            minutes.push(HashMap::new());
            rounds.push(
                Rows::new(
                    concat!(
                        "INSERT INTO admission (link_id, minute, count) \
                         SELECT {0}, {1}, {2} FROM {rows}",
                        count_admission!(),
                        " RETURNING link_id, count"
                    ),
                    &["int4", "int8", "int8"],
                )
                .with_one_row(concat!(
                    "INSERT INTO admission (link_id, minute, count) VALUES (?1, ?2, ?3)",
                    count_admission!()
                )),
            );
        }
        let added = i64::try_from(group.len()).unwrap_or(i64::MAX);
        rounds[round].push([(*link_id).into(), (*minute).into(), added.into()]);
        minutes[round].insert(*link_id, *minute);
    }
    let mut counts: HashMap<(i32, i64), i64> = HashMap::new();
    for (rows, minutes) in rounds.iter().zip(&minutes) {
        // A round has one row per link; its count is that of the minute the round counted in.
        for (link_id, count) in admitted(txn, rows).await? {
            if let Some(minute) = minutes.get(&link_id) {
                counts.insert((link_id, *minute), count);
            }
        }
    }
    let mut held = HashMap::new();
    for ((link_id, minute), group) in groups {
        let Some(admission) = group[0].admission else {
            continue;
        };
        let Some(&count) = counts.get(&(link_id, minute)) else {
            continue;
        };
        let added = i64::try_from(group.len()).unwrap_or(i64::MAX);
        let over = count - admission.per_minute;
        if over <= 0 {
            continue;
        }
        // The last `over` of this group (all of it, once the link is past its rate) are held.
        let first_held = group
            .len()
            .saturating_sub(usize::try_from(over).unwrap_or(usize::MAX));
        // The answer that passed the rate is the link's (r + 1)-th of the minute: in this
        // group when the count before it was at most r.
        let passed_now = count - added <= admission.per_minute;
        for (place, submission) in group.iter().enumerate().skip(first_held) {
            held.insert(
                submission.idempotency_key.clone(),
                passed_now && place == first_held,
            );
        }
    }
    Ok(held)
}

/// Adds a round of links' counts (`admit`) and returns each link's count. On SQLite the upsert
/// runs without `RETURNING` (in its one-row form on the writer's own connection) and the counts
/// are read after it, in the same transaction: SQLite runs a `RETURNING` as a trigger, and a
/// statement with a trigger keeps a statement journal (every page it changes copied first); the
/// upsert was the writer's costliest statement per answer after the answer's own insert.
async fn admitted(txn: &impl BatchDb, round: &Rows<'_>) -> Result<Vec<(i32, i64)>, DbErr> {
    if txn.backend() != DatabaseBackend::Sqlite {
        return txn.fetch_rows(round).await;
    }
    let mut links = Rows::new(
        "SELECT link_id, count FROM admission WHERE link_id IN (SELECT {0} FROM {rows})",
        &["int4"],
    )
    .with_one_row("SELECT link_id, count FROM admission WHERE link_id = ?1");
    for row in round.each() {
        links.push([row[0]]);
    }
    txn.apply_rows(round).await?;
    txn.fetch_rows(&links).await
}

/// The statement that inserts responses, its rows' source left as `{rows}`.
macro_rules! insert_response {
    () => {
        "INSERT INTO response (campaign_id, school_id, survey_version_id, idempotency_key, \
         browser_key, answers, submitted_at, duration_ms, excluded, flags) \
         SELECT {0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9} FROM {rows}"
    };
}

/// Inserts the responses that are new, and returns the id and key of each. With
/// `with_pending` (PostgreSQL only), each new response that counts also gets its pending row,
/// in the same statement.
async fn insert_responses(
    txn: &impl BatchDb,
    stored: &[Stored<'_>],
    with_pending: bool,
) -> Result<Vec<(i64, String)>, DbErr> {
    // The time as the driver would have bound it: SQLite keeps the text (sqlx's own RFC 3339
    // form, so that stored times compare as before); PostgreSQL keeps microseconds.
    let precision = if txn.backend() == DatabaseBackend::Postgres {
        SecondsFormat::Micros
    } else {
        SecondsFormat::AutoSi
    };
    let times: Vec<String> = stored
        .iter()
        .map(|stored| {
            stored
                .submission
                .submitted_at
                .to_rfc3339_opts(precision, false)
        })
        .collect();
    let sql = if with_pending {
        // (Rows in the array's order, as `Rows` orders a plain INSERT's.)
        concat!(
            "WITH inserted AS (",
            insert_response!(),
            " ORDER BY input.place ON CONFLICT DO NOTHING \
             RETURNING id, idempotency_key, campaign_id, excluded), \
             pending AS (INSERT INTO response_pending (response_id, campaign_id) \
             SELECT id, campaign_id FROM inserted WHERE NOT excluded) \
             SELECT id, idempotency_key FROM inserted"
        )
    } else {
        concat!(
            insert_response!(),
            " ON CONFLICT DO NOTHING RETURNING id, idempotency_key"
        )
    };
    let mut rows = Rows::new(
        sql,
        &[
            "int4",
            "int4",
            "int4",
            "text",
            "text",
            "text",
            "timestamptz",
            "int8",
            "bool",
            "text",
        ],
    );
    for (stored, time) in stored.iter().zip(&times) {
        let submission = stored.submission;
        rows.push([
            submission.campaign_id.into(),
            submission.school_id.into(),
            submission.survey_version_id.into(),
            submission.idempotency_key.as_str().into(),
            submission.browser_key.as_deref().into(),
            submission.answers_json.as_str().into(),
            time.as_str().into(),
            submission.duration_ms.into(),
            stored.excluded.into(),
            stored.flags.as_deref().into(),
        ]);
    }
    // Column 3, the form's key, tells the rows apart.
    txn.insert_rows(&rows, 3).await
}

async fn existing_keys(txn: &impl BatchDb, keys: &[&str]) -> Result<HashSet<String>, DbErr> {
    let mut found = HashSet::new();
    for chunk in keys.chunks(KEYS_PER_STATEMENT) {
        let select = Query::select()
            .column(Alias::new("idempotency_key"))
            .from(Alias::new("response"))
            .and_where(Expr::col(Alias::new("idempotency_key")).is_in(chunk.iter().copied()))
            .to_owned();
        found.extend(txn.fetch::<String>(txn.backend().build(&select)).await?);
    }
    Ok(found)
}

/// (campaign, school, score key): a row of the running score sums.
pub type ScoreSumKey = (i32, i32, &'static str);

/// Adds sums to the running score sums, a row per key, creating rows that do not exist yet;
/// negative sums take an answer back out (a supervisor's exclusion). One statement, keys in
/// order, so that concurrent writers lock rows in the same order.
pub async fn add_score_sums(
    txn: &impl ConnectionTrait,
    rows: &[(ScoreSumKey, ScoreSums)],
) -> Result<(), DbErr> {
    let sums = rows.iter().map(|(key, sums)| (key, sums));
    Pooled(txn).apply_rows(&score_sum_rows(sums)).await
}

fn score_sum_rows<'a>(
    sums: impl IntoIterator<Item = (&'a ScoreSumKey, &'a ScoreSums)>,
) -> Rows<'a> {
    let mut rows = Rows::new(
        "INSERT INTO score_sum (campaign_id, school_id, score_key, n, sum_x, sum_y, sum_xy) \
         SELECT {0}, {1}, {2}, {3}, {4}, {5}, {6} FROM {rows} \
         ON CONFLICT (campaign_id, school_id, score_key) DO UPDATE SET \
         n = score_sum.n + excluded.n, sum_x = score_sum.sum_x + excluded.sum_x, \
         sum_y = score_sum.sum_y + excluded.sum_y, sum_xy = score_sum.sum_xy + excluded.sum_xy",
        &["int4", "int4", "text", "int8", "float8", "float8", "float8"],
    );
    for ((campaign_id, school_id, key), sums) in sums {
        rows.push([
            (*campaign_id).into(),
            (*school_id).into(),
            (*key).into(),
            sums.n.into(),
            sums.sum_x.into(),
            sums.sum_y.into(),
            sums.sum_xy.into(),
        ]);
    }
    rows
}

/// (campaign, school, question key, option code) → how many answers to add.
type TallyKey<'a> = (i32, i32, &'a str, &'a str);
/// A batch's tallies while its answers are added: a school's answers add some twenty keys each
/// (a hash map with foldhash's hasher, then sorted once; a `BTreeMap` compared the keys' strings
/// some ten times for each).
type Tallies<'a> = HashMap<TallyKey<'a>, i64, foldhash::fast::RandomState>;

/// The (campaign, browser key) pairs among `browsers` that already have an answer.
async fn existing_browsers(
    txn: &impl BatchDb,
    browsers: &[&str],
) -> Result<HashSet<(i32, String)>, DbErr> {
    let mut found = HashSet::new();
    for chunk in browsers.chunks(KEYS_PER_STATEMENT) {
        let select = Query::select()
            .columns([Alias::new("campaign_id"), Alias::new("browser_key")])
            .from(Alias::new("response"))
            .and_where(Expr::col(Alias::new("browser_key")).is_in(chunk.iter().copied()))
            .to_owned();
        found.extend(
            txn.fetch::<(i32, String)>(txn.backend().build(&select))
                .await?,
        );
    }
    Ok(found)
}

/// Adds counts to the running tallies, a row per key, creating rows that do not exist yet. One
/// statement, keys in order, as the writer's own.
pub async fn add_tallies(
    txn: &impl ConnectionTrait,
    tallies: &BTreeMap<(i32, i32, String, String), i64>,
) -> Result<(), DbErr> {
    let rows = tally_rows(
        tallies
            .iter()
            .map(|((campaign, school, question, option), count)| {
                (
                    (*campaign, *school, question.as_str(), option.as_str()),
                    *count,
                )
            }),
    );
    Pooled(txn).apply_rows(&rows).await
}

fn tally_rows<'a>(tallies: impl IntoIterator<Item = (TallyKey<'a>, i64)>) -> Rows<'a> {
    let mut rows = Rows::new(
        "INSERT INTO tally (campaign_id, school_id, question_key, option_key, count) \
         SELECT {0}, {1}, {2}, {3}, {4} FROM {rows} \
         ON CONFLICT (campaign_id, school_id, question_key, option_key) \
         DO UPDATE SET count = tally.count + excluded.count",
        &["int4", "int4", "text", "text", "int8"],
    );
    for ((campaign_id, school_id, question, option), count) in tallies {
        rows.push([
            campaign_id.into(),
            school_id.into(),
            question.into(),
            option.into(),
            count.into(),
        ]);
    }
    rows
}

/// The statements that add each link's new answers to its count. On PostgreSQL the links' rows
/// are first locked in id order, as every writer locks them, so that two processes' batches
/// never wait on each other in a circle.
fn link_count_rows(backend: DatabaseBackend, per_link: &BTreeMap<i32, i64>) -> Vec<Rows<'static>> {
    let mut lock = Rows::new(
        "SELECT id FROM campaign_link WHERE id IN (SELECT {0} FROM {rows}) \
         ORDER BY id FOR UPDATE",
        &["int4"],
    );
    let mut add = Rows::new(
        "UPDATE campaign_link SET response_count = campaign_link.response_count + counts.added \
         FROM (SELECT {0} AS id, {1} AS added FROM {rows}) AS counts \
         WHERE campaign_link.id = counts.id",
        &["int4", "int8"],
    )
    .with_one_row("UPDATE campaign_link SET response_count = response_count + ?2 WHERE id = ?1");
    for (link, count) in per_link {
        lock.push([(*link).into()]);
        add.push([(*link).into(), (*count).into()]);
    }
    if backend == DatabaseBackend::Postgres {
        vec![lock, add]
    } else {
        vec![add]
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};

    use super::{
        Outcome, Pending, PendingCounts, Submission, Writer, WriterDatabase, commit_deferred,
    };
    use crate::bench::TestCampaign;

    /// A fresh SQLite database with an open campaign of the shipped parents' survey over
    /// `schools` schools, and `count` random answers to it, not yet stored.
    async fn campaign_and_answers(schools: usize, count: usize) -> (TestCampaign, Vec<Submission>) {
        let test = TestCampaign::open(schools, "pending").await;
        let answers = test.answers(count);
        (test, answers)
    }

    /// Fails unless the campaign's counts, read as every page reads them, equal a recount of its
    /// stored answers.
    async fn assert_counted(db: &DatabaseConnection, campaign_id: i32) {
        let read = crate::bench::counts::check(db, campaign_id)
            .await
            .expect("the check runs");
        assert!(read.agree(), "{read:?}");
    }

    /// The number the query `sql` gives (its first row's first column).
    pub(super) async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
        db.query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .expect("the count runs")
        .expect("a row")
        .try_get_by_index::<i64>(0)
        .expect("a number")
    }

    async fn pending_rows(db: &DatabaseConnection) -> i64 {
        count(db, "SELECT COUNT(*) FROM response_pending").await
    }

    /// The writer's pending answers of a batch, as the writer keeps them.
    fn kept(submissions: &[Submission], left: &[(usize, i64)]) -> Vec<Pending> {
        let mut pending = PendingCounts::default();
        pending.add(&mut submissions.to_vec(), left, std::time::Instant::now());
        pending.take_all()
    }

    /// A small batch takes what came during each pause and waits again while more keeps
    /// coming; a pause that brings nothing, or a batch of `GATHER_BELOW`, ends the wait.
    #[test]
    fn a_small_batch_waits_while_answers_keep_coming() {
        use super::{GATHER_BELOW, gather, gather_within};
        use tokio::sync::mpsc;

        // (Given a minute rather than `GATHER_MOST`, so that a slow machine's long pause does
        // not end the wait before the rules under test do.)
        let gather_all = |receiver: &mut _, batch: &mut _| {
            gather_within(receiver, batch, std::time::Duration::from_secs(60))
        };

        // Nothing more comes (a quiet server): one pause, and the answer goes alone.
        let (queue, mut receiver) = mpsc::channel::<usize>(100);
        let mut batch = vec![0];
        assert_eq!(gather_all(&mut receiver, &mut batch), 1);
        assert_eq!(batch, [0]);

        // Five came during the first pause, none during the second.
        for answer in 1..=5 {
            queue.try_send(answer).expect("room");
        }
        assert_eq!(gather_all(&mut receiver, &mut batch), 2);
        assert_eq!(batch, [0, 1, 2, 3, 4, 5]);

        // Enough came during the first pause: no second one, and all that came are taken.
        for answer in 6..=30 {
            queue.try_send(answer).expect("room");
        }
        let mut batch = vec![0];
        assert_eq!(gather_all(&mut receiver, &mut batch), 1);
        assert_eq!(batch.len(), 26);
        assert!(batch.len() >= GATHER_BELOW);

        // A batch that is large enough does not wait, nor one whose time is up; one whose queue
        // has closed waits one pause.
        assert_eq!(gather(&mut receiver, &mut batch), 0);
        let mut batch = vec![0];
        assert_eq!(
            gather_within(&mut receiver, &mut batch, std::time::Duration::ZERO),
            0
        );
        drop(queue);
        let mut batch = vec![0];
        assert_eq!(gather_all(&mut receiver, &mut batch), 1);
        assert_eq!(batch, [0]);
    }

    /// An answer held by its address and then by its link carries `held` once.
    #[test]
    fn an_answer_held_twice_is_flagged_held_once() {
        // (flags found when it was checked, held by its link) → flags stored
        let cases = [
            ((None, true), Some("held")),
            ((Some("too_fast"), false), Some("too_fast")),
            ((Some("too_fast"), true), Some("too_fast,held")),
            ((Some("too_fast,held"), true), Some("too_fast,held")),
            ((Some("held,all_top"), true), Some("held,all_top")),
        ];
        for ((flags, held), stored) in cases {
            let submission = Submission {
                flags: flags.map(str::to_owned),
                ..Submission::default()
            };
            let row = super::Stored::of(&submission, held.then_some(&true));
            assert_eq!(
                row.flags.as_deref(),
                stored,
                "{flags:?}, held by its link: {held}"
            );
        }
    }

    /// A school's answers wait until it has enough of them to share rows, or until the oldest
    /// has waited a second; a batch takes whole schools, oldest first, up to its share.
    #[test]
    fn a_school_is_added_once_it_has_enough_answers_or_has_waited() {
        let start = std::time::Instant::now();
        let answer = |school_id: i32, n: usize| Submission {
            campaign_id: 1,
            school_id,
            idempotency_key: format!("{school_id}-{n}"),
            ..Submission::default()
        };
        let mut pending = PendingCounts::default();
        // School 1: one short of enough; school 2: enough; school 3: one answer.
        let mut first: Vec<Submission> = (0..super::SCHOOL_ANSWERS - 1)
            .map(|n| answer(1, n))
            .chain((0..super::SCHOOL_ANSWERS).map(|n| answer(2, n)))
            .chain([answer(3, 0)])
            .collect();
        let left: Vec<(usize, i64)> = (0..first.len()).map(|n| (n, n as i64 + 1)).collect();
        pending.add(&mut first, &left, start);
        let taken = pending.take_ready(start, 0);
        assert_eq!(taken.len(), super::SCHOOL_ANSWERS);
        assert!(taken.iter().all(|answer| answer.school_id == 2));
        // Nothing more is ready until a second has passed; then every school is.
        assert!(pending.take_ready(start, 0).is_empty());
        let later = start + super::PENDING_AGE;
        let taken = pending.take_ready(later, 0);
        assert_eq!(taken.len(), super::SCHOOL_ANSWERS);
        assert!(pending.is_empty());
        // A batch takes whole schools up to its share: 40 schools of 32, oldest first.
        let mut many: Vec<Submission> = (0..40)
            .flat_map(|school| (0..super::SCHOOL_ANSWERS).map(move |n| answer(100 + school, n)))
            .collect();
        let left: Vec<(usize, i64)> = (0..many.len()).map(|n| (n, n as i64 + 1000)).collect();
        pending.add(&mut many, &left, later);
        let taken = pending.take_ready(later, 0);
        assert_eq!(taken.len(), super::FLUSH_ANSWERS);
        assert_eq!(
            pending.take_all().len(),
            40 * super::SCHOOL_ANSWERS - super::FLUSH_ANSWERS
        );
    }

    /// An answer whose counts the writer left pending is in the figures the moment it is
    /// acknowledged: the first read adds it. And the writer's later claim of it, finding it
    /// added, adds nothing: it is counted once.
    #[tokio::test]
    async fn a_pending_answer_is_in_the_first_read_and_counted_once() {
        let (test, answers) = campaign_and_answers(3, 60).await;
        let (db, campaign_id) = (test.db.clone(), test.campaign.id);
        let (first, second) = answers.split_at(30);
        let stored = commit_deferred(&db, first, &[])
            .await
            .expect("the batch is stored");
        assert_eq!(stored.left_pending.len(), 30);
        assert_eq!(pending_rows(&db).await, 30);

        // A reader settles the campaign: the counts equal a recount of the stored answers.
        assert_counted(&db, campaign_id).await;
        assert_eq!(pending_rows(&db).await, 0);

        // The writer's next batch tries to add the first 30 again, and stores 30 more pending.
        let flush = kept(first, &stored.left_pending);
        let next = commit_deferred(&db, second, &flush)
            .await
            .expect("the batch is stored");
        assert_eq!(next.left_pending.len(), 30);
        assert_eq!(pending_rows(&db).await, 30);
        // Its 30 are added by the batch after, which claims them.
        let flush = kept(second, &next.left_pending);
        commit_deferred(&db, &[], &flush)
            .await
            .expect("the flush is stored");
        assert_eq!(pending_rows(&db).await, 0);
        assert_counted(&db, campaign_id).await;
        let responses: i64 = crate::results::tally_counts(&db, campaign_id, None)
            .await
            .expect("the counts are read")
            .values()
            .flat_map(|questions| questions.get("stage"))
            .flat_map(|options| options.values())
            .sum::<u64>() as i64;
        assert_eq!(responses, 60, "each answer names its child's stage once");
    }

    /// On SQLite the pending rows have no index but their id (migration 10): the writer adds
    /// and deletes a row for every answer by its id, and a reader finds one campaign's among
    /// the few there are. (The test above settles them without it.)
    #[tokio::test]
    async fn pending_rows_are_indexed_by_their_id_alone_on_sqlite() {
        let (test, _) = campaign_and_answers(1, 1).await;
        assert_eq!(test.db.get_database_backend(), DatabaseBackend::Sqlite);
        let indexes = count(
            &test.db,
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' \
             AND tbl_name = 'response_pending'",
        )
        .await;
        assert_eq!(indexes, 0);
    }

    /// Two copies of one form in one batch, flagged differently (the second left out, say by a
    /// burst the first was not part of): one row is stored, the first's, and it counts exactly
    /// as that row says — in its link's count too, so that a later exclusion takes out only
    /// what was added. Either order.
    #[tokio::test]
    async fn two_copies_of_a_form_in_a_batch_count_as_the_stored_one() {
        let (test, answers) = campaign_and_answers(2, 2).await;
        let (db, campaign_id) = (test.db.clone(), test.campaign.id);
        let left_out = |submission: &Submission| Submission {
            flags: Some("burst".to_owned()),
            left_out: true,
            ..submission.clone()
        };
        let batch = [
            answers[0].clone(),
            left_out(&answers[0]),
            left_out(&answers[1]),
            answers[1].clone(),
        ];
        let stored = commit_deferred(&db, &batch, &[])
            .await
            .expect("the batch is stored");
        assert_eq!(
            stored.outcomes,
            [
                Outcome::Stored,
                Outcome::AlreadyStored,
                Outcome::Stored,
                Outcome::AlreadyStored
            ]
        );
        let excluded = count(&db, "SELECT COUNT(*) FROM response WHERE excluded = true").await;
        assert_eq!(excluded, 1, "the second form's first copy was left out");
        assert_eq!(
            count(&db, "SELECT SUM(response_count) FROM campaign_link").await,
            1
        );
        assert_counted(&db, campaign_id).await;
    }

    /// An answer a supervisor excludes while its counts are still pending was never counted:
    /// nothing is taken out for it, and the writer's later claim no longer finds it. Restored,
    /// it counts again, once.
    #[tokio::test]
    async fn an_answer_excluded_while_pending_is_counted_nowhere_until_restored() {
        let (test, answers) = campaign_and_answers(2, 10).await;
        let (db, campaign_id) = (test.db.clone(), test.campaign.id);
        let stored = commit_deferred(&db, &answers, &[])
            .await
            .expect("the batch is stored");
        let (_, first_id) = stored.left_pending[0];
        let context = crate::change::Context::new(db.clone(), "http://localhost");
        let exclude = |exclude: bool| {
            crate::quality::set_excluded(
                &context,
                crate::change::Actor::CommandLine,
                campaign_id,
                first_id,
                exclude,
            )
        };
        assert!(exclude(true).await.expect("the answer is excluded"));
        assert_eq!(pending_rows(&db).await, 9, "its pending row is taken");
        // The writer's batch after tries all ten: nine are still its to add.
        let flush = kept(&answers, &stored.left_pending);
        commit_deferred(&db, &[], &flush)
            .await
            .expect("the flush is stored");
        assert_eq!(pending_rows(&db).await, 0);
        assert_counted(&db, campaign_id).await;
        assert!(exclude(false).await.expect("the answer is restored"));
        assert_counted(&db, campaign_id).await;
    }

    /// Under a stream of answers from many submitters, with a reader settling the campaign as
    /// they come, every answer reaches the counts exactly once; once the answers stop, the
    /// writer adds what it still holds without any reader.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn answers_stream_into_the_counts_once_while_readers_settle() {
        let (test, answers) = campaign_and_answers(5, 400).await;
        let (db, campaign_id, url) = (test.db.clone(), test.campaign.id, test.url.clone());
        let writer = Writer::start(
            WriterDatabase::open(&url, &db)
                .await
                .expect("the writer's connection opens"),
        )
        .expect("the writer starts");
        let mut submitters = Vec::new();
        for chunk in answers.chunks(25) {
            let (writer, chunk) = (writer.clone(), chunk.to_vec());
            submitters.push(tokio::spawn(async move {
                for answer in chunk {
                    writer.submit(answer).await.expect("the answer is stored");
                }
            }));
        }
        let reader = {
            let db = db.clone();
            tokio::spawn(async move {
                let mut settled = 0;
                for _ in 0..40 {
                    settled += crate::answering::pending::settle(&db, Some(campaign_id))
                        .await
                        .expect("the reader settles");
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
                settled
            })
        };
        for submitter in submitters {
            submitter.await.expect("the submitter finishes");
        }
        reader.await.expect("the reader finishes");

        // Quiet now: the writer adds all it holds on its own.
        let mut waited = 0;
        while pending_rows(&db).await > 0 {
            assert!(waited < 100, "the writer never added its pending answers");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            waited += 1;
        }
        let read = crate::bench::counts::check(&db, campaign_id)
            .await
            .expect("the check runs");
        assert_eq!(read.schools, 5);
        assert!(read.agree(), "{read:?}");
    }
}
