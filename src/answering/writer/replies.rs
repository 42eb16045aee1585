//! How the writer hands each submitter what became of its answer.
//!
//! A submitter waits on a one-shot channel. Completed from the writer's thread, each one wakes
//! the submitter's runtime from another thread: on an HTTP worker that is a write to its
//! `eventfd` and a return from `epoll_wait`, once per answer — about fourteen a batch, ≈ 3 % of
//! the writer thread's time and as many wake-ups of the workers. A submitter that comes with
//! its worker's [`Replies`] is answered through it instead: the writer sends each worker one
//! message per batch with all of its outcomes, and a task on that worker completes the one-shot
//! channels there, which wakes nothing.

use std::sync::OnceLock;

use tokio::sync::{mpsc, oneshot};

use super::{Outcome, Submission, WriteError};

/// What became of a submission, and what is left of it: sent back so that the submitter's
/// thread, which made its strings, frees them. Freed on the writer's thread, each took a lock on
/// the submitter thread's allocator arena (glibc), on the one path every answer waits for.
pub(super) type Reply = oneshot::Sender<(Result<Outcome, WriteError>, Submission)>;

/// One runtime thread's mailbox for the writer's outcomes: each HTTP worker keeps one for its
/// life, as app data of its own (`startup`). The task that empties it is started on the first
/// submission through it, on the submitter's runtime, so it must be used from one runtime
/// thread only; any other submitter uses `Writer::submit`.
#[derive(Default)]
pub struct Replies {
    mailbox: OnceLock<Mailbox>,
}

impl Replies {
    /// The mailbox, its task started on the current runtime the first time.
    pub(super) fn mailbox(&self) -> Mailbox {
        self.mailbox
            .get_or_init(|| {
                let (sender, mut receiver) = mpsc::unbounded_channel::<Vec<Delivery>>();
                tokio::spawn(async move {
                    while let Some(deliveries) = receiver.recv().await {
                        deliveries.into_iter().for_each(Delivery::hand_over);
                    }
                });
                Mailbox(sender)
            })
            .clone()
    }
}

#[derive(Clone)]
pub(super) struct Mailbox(mpsc::UnboundedSender<Vec<Delivery>>);

/// Where the outcome of one queued submission goes.
pub(super) enum ReplyTo {
    /// Straight to the submitter.
    Submitter(Reply),
    /// Through its worker's mailbox.
    Mailbox(Mailbox, Reply),
}

pub(super) struct Delivery {
    reply: Reply,
    outcome: Result<Outcome, WriteError>,
    spent: Submission,
}

impl Delivery {
    fn hand_over(self) {
        // A submitter that stopped waiting (its client went away) needs nothing.
        let _ = self.reply.send((self.outcome, self.spent));
    }
}

/// Hands out a batch's outcomes: each straight to its submitter, or, for those that came
/// through a mailbox, in one message per mailbox. A mailbox whose task has stopped (its runtime
/// shut down) gets nothing; its outcomes go straight to their submitters.
pub(super) fn deliver(
    outcomes: impl IntoIterator<Item = (ReplyTo, Result<Outcome, WriteError>, Submission)>,
) {
    let outcomes = outcomes.into_iter();
    // One mailbox a worker, each given room for the whole batch at once.
    let room = outcomes.size_hint().0;
    let mut by_mailbox: Vec<(Mailbox, Vec<Delivery>)> = Vec::with_capacity(4);
    for (to, outcome, spent) in outcomes {
        match to {
            ReplyTo::Submitter(reply) => Delivery {
                reply,
                outcome,
                spent,
            }
            .hand_over(),
            ReplyTo::Mailbox(mailbox, reply) => {
                let delivery = Delivery {
                    reply,
                    outcome,
                    spent,
                };
                match by_mailbox
                    .iter_mut()
                    .find(|(known, _)| known.0.same_channel(&mailbox.0))
                {
                    Some((_, deliveries)) => deliveries.push(delivery),
                    None => {
                        let mut deliveries = Vec::with_capacity(room);
                        deliveries.push(delivery);
                        by_mailbox.push((mailbox, deliveries));
                    }
                }
            }
        }
    }
    for (mailbox, deliveries) in by_mailbox {
        if let Err(returned) = mailbox.0.send(deliveries) {
            returned.0.into_iter().for_each(Delivery::hand_over);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome_for(to: ReplyTo, key: &str) -> (ReplyTo, Result<Outcome, WriteError>, Submission) {
        let spent = Submission {
            idempotency_key: key.to_owned(),
            ..Submission::default()
        };
        (to, Ok(Outcome::Stored), spent)
    }

    #[test]
    fn each_mailbox_gets_one_message_a_batch_with_its_own_outcomes() {
        let (first, mut first_box) = mpsc::unbounded_channel();
        let (second, mut second_box) = mpsc::unbounded_channel();
        let (direct, mut direct_answer) = oneshot::channel();
        let mut answers = Vec::new();
        let mut batch = Vec::new();
        for n in 0..5 {
            let (reply, answer) = oneshot::channel();
            let mailbox = Mailbox(if n % 2 == 0 { &first } else { &second }.clone());
            batch.push(outcome_for(
                ReplyTo::Mailbox(mailbox, reply),
                &format!("k{n}"),
            ));
            answers.push(answer);
        }
        batch.push(outcome_for(ReplyTo::Submitter(direct), "direct"));
        deliver(batch);

        // Straight to its submitter at once; the others wait for their mailbox's task.
        assert!(matches!(
            direct_answer.try_recv(),
            Ok((Ok(Outcome::Stored), _))
        ));
        assert!(answers.iter_mut().all(|answer| answer.try_recv().is_err()));
        let first_message = first_box.try_recv().expect("one message for the first");
        let second_message = second_box.try_recv().expect("one message for the second");
        assert!(first_box.try_recv().is_err() && second_box.try_recv().is_err());
        assert_eq!(first_message.len(), 3);
        assert_eq!(second_message.len(), 2);
        first_message
            .into_iter()
            .chain(second_message)
            .for_each(Delivery::hand_over);
        for (n, answer) in answers.iter_mut().enumerate() {
            let (outcome, spent) = answer.try_recv().expect("handed over");
            assert_eq!(outcome.ok(), Some(Outcome::Stored));
            assert_eq!(
                spent.idempotency_key,
                format!("k{n}"),
                "its own submission back"
            );
        }
    }

    #[test]
    fn a_mailbox_without_its_task_hands_the_outcomes_straight_over() {
        let (sender, receiver) = mpsc::unbounded_channel();
        drop(receiver);
        let (reply, mut answer) = oneshot::channel();
        deliver([outcome_for(ReplyTo::Mailbox(Mailbox(sender), reply), "k")]);
        assert!(matches!(answer.try_recv(), Ok((Ok(Outcome::Stored), _))));
    }
}
