//! What people do to accounts, each action one function that owns its change: it checks, writes,
//! records its audit event in the same transaction (see [`crate::change`]) and commits. The
//! console's handlers and `dupin admin create` only parse what was typed, call one of these and
//! show the outcome.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use entity::{account, school};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use super::limits::{self, Reservation};
use super::throttle::{ClientThrottle, ClientVerdict};
use super::{
    AccountError, NewAccount, Role, SignInError, create, find, generate_password, role_of,
    set_disabled as write_disabled, set_password as write_password, verify_password,
};
use crate::audit;
use crate::change::{Actor, Change, Context};

/// The audit text of an account: `e-mail（role，school）`.
async fn describe(change: &Change<'_>, account: &account::Model) -> Result<String, sea_orm::DbErr> {
    let role = role_of(account);
    let school = match account.school_id {
        Some(id) => school::Entity::find_by_id(id)
            .one(change.txn())
            .await?
            .map(|school| school.name),
        None => None,
    };
    Ok(match school {
        Some(school) => format!("{}（{}，{}）", account.email, role.label(), school),
        None => format!("{}（{}）", account.email, role.label()),
    })
}

/// Adds an account (an admin in the console, or the command line), with its audit event
/// `account_create` in the same transaction.
pub async fn create_account(
    context: &Context,
    actor: Actor<'_>,
    new: NewAccount,
) -> Result<account::Model, AccountError> {
    let change = Change::begin(context, actor).await?;
    let account = create(change.txn(), new).await?;
    let detail = describe(&change, &account).await?;
    change.audit("account_create", detail).await?;
    change.commit().await?;
    Ok(account)
}

/// The account an admin acts on, which must not be the admin's own when `refusal` says so.
async fn target(
    change: &Change<'_>,
    admin: &account::Model,
    id: i32,
    refusal: AccountError,
) -> Result<account::Model, AccountError> {
    let account = find(change.txn(), id)
        .await?
        .ok_or(AccountError::NotFound)?;
    if account.id == admin.id {
        return Err(refusal);
    }
    Ok(account)
}

/// Disables or enables account `id`. Disabling bumps its session version, which ends its
/// sessions everywhere; an admin cannot disable their own account.
pub async fn set_disabled(
    context: &Context,
    admin: &account::Model,
    id: i32,
    disabled: bool,
) -> Result<account::Model, AccountError> {
    let change = Change::begin(context, Actor::Account(admin)).await?;
    let account = match find(change.txn(), id).await? {
        Some(account) if disabled && account.id == admin.id => {
            return Err(AccountError::DisablingSelf);
        }
        Some(account) => account,
        None => return Err(AccountError::NotFound),
    };
    let account = write_disabled(change.txn(), account, disabled).await?;
    let action = if disabled {
        "account_disable"
    } else {
        "account_enable"
    };
    change.audit(action, account.email.clone()).await?;
    change.commit().await?;
    Ok(account)
}

/// Gives account `id` a new generated password, returned to be said once; its sessions end
/// everywhere. An admin changes their own password on the password page instead.
pub async fn reset_password(
    context: &Context,
    admin: &account::Model,
    id: i32,
) -> Result<(account::Model, String), AccountError> {
    let change = Change::begin(context, Actor::Account(admin)).await?;
    let account = target(&change, admin, id, AccountError::ResettingSelf).await?;
    let password = generate_password();
    let account = write_password(change.txn(), account, &password).await?;
    change
        .audit("account_reset_password", account.email.clone())
        .await?;
    change.commit().await?;
    Ok((account, password))
}

/// A signed-in account changes its own password: the current one must be right and the new one
/// typed twice alike. Every session of the account ends, the caller starts a new one.
pub async fn change_password(
    context: &Context,
    account: &account::Model,
    current: &str,
    password: &str,
    confirm: &str,
) -> Result<account::Model, AccountError> {
    // Proving the current password is an attempt at it: reserved and slowed like a sign-in.
    if let Reservation::Locked { seconds, .. } =
        limits::reserve(&context.db, &account.email, Utc::now()).await?
    {
        return Err(AccountError::SlowDown(seconds));
    }
    if !verify_password(current, &account.password_hash) {
        audit::record(
            &context.db,
            Actor::Account(account),
            "password_change_failed",
            "当前密码不正确",
        )
        .await?;
        return Err(AccountError::WrongCurrentPassword);
    }
    if password != confirm {
        return Err(AccountError::PasswordsDiffer);
    }
    let change = Change::begin(context, Actor::Account(account)).await?;
    let changed = write_password(change.txn(), account.clone(), password).await?;
    change.audit("password_changed", "").await?;
    change.commit().await?;
    Ok(changed)
}

/// The one-time setup link creates the first admin; the link is spent in the same transaction.
/// `None` when the token is not (or no longer) valid.
pub async fn complete_setup(
    context: &Context,
    token: &str,
    new: NewAccount,
    confirm: &str,
) -> Result<Option<account::Model>, AccountError> {
    if new.password != confirm {
        return Err(AccountError::PasswordsDiffer);
    }
    let typed = new.email.clone();
    let change = Change::begin(context, Actor::Visitor(&typed)).await?;
    // The link is spent first, by a conditional UPDATE: of several requests racing with it, one
    // spends it and creates the admin; the others find it spent and create nothing.
    if super::count(change.txn()).await? > 0
        || !super::spend_setup_token(change.txn(), token).await?
    {
        return Ok(None);
    }
    let account = create(
        change.txn(),
        NewAccount {
            role: Role::Admin,
            school_id: None,
            ..new
        },
    )
    .await?;
    audit::record(
        change.txn(),
        Actor::Account(&account),
        "setup_admin_created",
        "",
    )
    .await?;
    change.commit().await?;
    Ok(Some(account))
}

/// Why a sign-in was refused: a failure of the account, or this client tried too often.
#[derive(Debug, thiserror::Error)]
pub enum SignInRefusal {
    #[error(transparent)]
    Failed(SignInError),
    #[error("too many sign-in attempts from this client")]
    Throttled,
}

impl From<sea_orm::DbErr> for SignInRefusal {
    fn from(error: sea_orm::DbErr) -> Self {
        SignInRefusal::Failed(SignInError::Db(error))
    }
}

/// One sign-in attempt from `client` (when its address is known). The attempt is reserved for
/// the client (in this process's `throttle`) and for the typed e-mail (in the database) before
/// the password is checked, so parallel attempts are counted one by one; a success clears the
/// e-mail's attempts only. Each checked failure is written to the audit log, and each lock or
/// throttle once, however many attempts it turns away.
pub async fn sign_in(
    context: &Context,
    throttle: &ClientThrottle,
    client: Option<IpAddr>,
    email: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<account::Model, SignInRefusal> {
    if let Some(client) = client
        && let ClientVerdict::Throttled { first } = throttle.reserve(client)
    {
        if first {
            audit::record(
                &context.db,
                Actor::Visitor(email),
                "sign_in_throttled",
                format!("client {client}"),
            )
            .await?;
        }
        return Err(SignInRefusal::Throttled);
    }
    let checked = check_password(context, email, password, now).await;
    match checked {
        Ok(account) => {
            if let Some(client) = client {
                throttle.succeeded(client);
            }
            Ok(account)
        }
        Err(SignInError::Db(error)) => Err(error.into()),
        Err(error) => {
            let audited = !matches!(error, SignInError::SlowDown { first: false, .. });
            if audited {
                audit::record(
                    &context.db,
                    Actor::Visitor(email),
                    "sign_in_failed",
                    error.to_string(),
                )
                .await?;
            }
            Err(SignInRefusal::Failed(error))
        }
    }
}

/// Reserves an attempt for `email`, then checks the password. A wrong e-mail costs the same
/// hashing time as a wrong password, and is counted and slowed the same, so neither timing nor
/// answers tell which e-mails have accounts. A success is recorded with its audit event, and the
/// e-mail's attempts cleared, in one transaction.
async fn check_password(
    context: &Context,
    email: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<account::Model, SignInError> {
    if let Reservation::Locked { seconds, first } = limits::reserve(&context.db, email, now).await?
    {
        return Err(SignInError::SlowDown { seconds, first });
    }
    let found = super::find_by_email(&context.db, email).await?;
    let hash = found
        .as_ref()
        .map_or(super::DUMMY_HASH, |account| account.password_hash.as_str());
    if !verify_password(password, hash) {
        return Err(SignInError::WrongCredentials);
    }
    let Some(account) = found else {
        return Err(SignInError::WrongCredentials);
    };
    if account.disabled {
        return Err(SignInError::Disabled);
    }
    let change = Change::begin(context, Actor::Account(&account)).await?;
    let mut active: account::ActiveModel = account.clone().into();
    active.last_sign_in_at = Set(Some(now));
    let account = active.update(change.txn()).await?;
    limits::clear(change.txn(), email).await?;
    change.audit("sign_in", "").await?;
    change.commit().await?;
    Ok(account)
}

/// Signing out ends this session and every copy of its cookie, in every process: the account's
/// session version moves on (its other sessions end too). Recorded in the audit log.
pub async fn sign_out(context: &Context, account: &account::Model) -> Result<(), sea_orm::DbErr> {
    let change = Change::begin(context, Actor::Account(account)).await?;
    let mut active: account::ActiveModel = account.clone().into();
    active.session_version = Set(account.session_version + 1);
    active.update(change.txn()).await?;
    change.audit("sign_out", "").await?;
    change.commit().await
}

/// An admin lifts the slow-down of account `id` after failed attempts; audit event
/// `account_unlock`.
pub async fn unlock_account(
    context: &Context,
    admin: &account::Model,
    id: i32,
) -> Result<account::Model, AccountError> {
    let change = Change::begin(context, Actor::Account(admin)).await?;
    let account = find(change.txn(), id)
        .await?
        .ok_or(AccountError::NotFound)?;
    limits::clear(change.txn(), &account.email).await?;
    change
        .audit("account_unlock", account.email.clone())
        .await?;
    change.commit().await?;
    Ok(account)
}
