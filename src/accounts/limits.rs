//! How often a typed e-mail may be tried: every attempt at a password — signing in, or proving
//! the current password before changing it — is *reserved* before the password is checked, by
//! one conditional UPDATE in a write transaction, so that sixty attempts sent at once are counted
//! one by one and all but the few allowed are turned away without a hash being computed.
//!
//! The count is kept per e-mail as typed (trimmed, lower-cased), whether or not an account has
//! it: an unknown e-mail is slowed exactly like a known one, so the answers tell an attacker
//! nothing about which e-mails exist. Reserving attempt `n` locks the e-mail for
//! `wait_after(n)` at once (nothing for the first few, then 2 s doubling to 15 minutes); a
//! success clears the e-mail's row, so the lock only ever holds back attempts after a failure.

use chrono::{DateTime, Duration, Utc};
use entity::sign_in_limit;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::wait_after;

/// The longest e-mail kept as a key; anything longer is cut (and counted) there.
const MAX_KEY_CHARS: usize = 254;
/// Rows of e-mails nobody has tried for this long are removed when a new e-mail is first tried.
const FORGET_AFTER_HOURS: i64 = 24;

/// The key an e-mail is counted under.
pub fn key_of(email: &str) -> String {
    email
        .trim()
        .to_lowercase()
        .chars()
        .take(MAX_KEY_CHARS)
        .collect()
}

/// What reserving an attempt gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// Go ahead and check the password: this is the `attempt`th since the last success.
    Granted { attempt: i32 },
    /// Wait this many seconds. `first` is true for the first attempt this lock turns away (the
    /// one written to the audit log).
    Locked { seconds: i64, first: bool },
}

/// Reserves one attempt for `email` at `now`, in its own write transaction.
pub async fn reserve(
    db: &impl sea_orm::TransactionTrait,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Reservation, DbErr> {
    let key = key_of(email);
    let txn = crate::db::begin_write(db).await?;
    let insert = Query::insert()
        .into_table(sign_in_limit::Entity)
        .columns([
            sign_in_limit::Column::Email,
            sign_in_limit::Column::Attempts,
            sign_in_limit::Column::UpdatedAt,
        ])
        .values([key.clone().into(), 0.into(), now.into()])
        .map_err(|error| DbErr::Custom(error.to_string()))?
        .on_conflict(
            OnConflict::column(sign_in_limit::Column::Email)
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    if txn.execute(&insert).await?.rows_affected() > 0 {
        sign_in_limit::Entity::delete_many()
            .filter(sign_in_limit::Column::UpdatedAt.lt(now - Duration::hours(FORGET_AFTER_HOURS)))
            .filter(
                sign_in_limit::Column::LockedUntil
                    .is_null()
                    .or(sign_in_limit::Column::LockedUntil.lt(now)),
            )
            .exec(&txn)
            .await?;
    }
    // The reservation itself: counted only while the e-mail is not locked.
    let reserve = Query::update()
        .table(sign_in_limit::Entity)
        .value(
            sign_in_limit::Column::Attempts,
            Expr::col(sign_in_limit::Column::Attempts).add(1),
        )
        .value(sign_in_limit::Column::UpdatedAt, now)
        .and_where(Expr::col(sign_in_limit::Column::Email).eq(key.as_str()))
        .and_where(
            Expr::col(sign_in_limit::Column::LockedUntil)
                .is_null()
                .or(Expr::col(sign_in_limit::Column::LockedUntil).lte(now)),
        )
        .returning_col(sign_in_limit::Column::Attempts)
        .to_owned();
    let reserved = txn.query_one(&reserve).await?;
    let outcome = match reserved {
        Some(row) => {
            let attempt: i32 = row.try_get("", "attempts")?;
            let wait = wait_after(attempt);
            if wait > Duration::zero() {
                sign_in_limit::Entity::update_many()
                    .col_expr(sign_in_limit::Column::LockedUntil, Expr::value(now + wait))
                    .filter(sign_in_limit::Column::Email.eq(key.as_str()))
                    .exec(&txn)
                    .await?;
            }
            Reservation::Granted { attempt }
        }
        None => {
            let row = sign_in_limit::Entity::find_by_id(key.clone())
                .one(&txn)
                .await?;
            let until = row.as_ref().and_then(|row| row.locked_until).unwrap_or(now);
            // The first refusal of this lock marks it, so that only it is audited.
            let first = sign_in_limit::Entity::update_many()
                .col_expr(sign_in_limit::Column::RefusalAudited, Expr::value(until))
                .filter(sign_in_limit::Column::Email.eq(key.as_str()))
                .filter(
                    sign_in_limit::Column::RefusalAudited
                        .is_null()
                        .or(sign_in_limit::Column::RefusalAudited.ne(until)),
                )
                .exec(&txn)
                .await?
                .rows_affected
                > 0;
            Reservation::Locked {
                seconds: std::cmp::max((until - now).num_seconds(), 1),
                first,
            }
        }
    };
    sea_orm::TransactionSession::commit(txn).await?;
    Ok(outcome)
}

/// After a success: the e-mail's attempts start afresh (inside the caller's transaction).
pub async fn clear(db: &impl ConnectionTrait, email: &str) -> Result<(), DbErr> {
    sign_in_limit::Entity::delete_by_id(key_of(email))
        .exec(db)
        .await?;
    Ok(())
}

/// Every e-mail locked at `now`, with until when (for the accounts page).
pub async fn locked_now(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<std::collections::HashMap<String, DateTime<Utc>>, DbErr> {
    Ok(sign_in_limit::Entity::find()
        .filter(sign_in_limit::Column::LockedUntil.gt(now))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|row| row.locked_until.map(|until| (row.email, until)))
        .collect())
}

/// Whether `email` is locked now, and until when.
pub async fn locked_until(
    db: &impl ConnectionTrait,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(sign_in_limit::Entity::find_by_id(key_of(email))
        .one(db)
        .await?
        .and_then(|row| row.locked_until)
        .filter(|until| *until > now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_counted_as_typed_without_case_or_spaces() {
        assert_eq!(key_of("  Li.Ming@Edu.CN "), "li.ming@edu.cn");
        assert_eq!(key_of(&"a".repeat(400)).len(), MAX_KEY_CHARS);
    }
}
