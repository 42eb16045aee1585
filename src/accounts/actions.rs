//! What people do to accounts, each action one function that owns its change: it checks, writes,
//! records its audit event in the same transaction (see [`crate::change`]) and commits. The
//! console's handlers and `dupin admin create` only parse what was typed, call one of these and
//! show the outcome.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use entity::{account, school};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use super::throttle::ClientThrottle;
use super::{
    AccountError, NewAccount, Role, SignInError, create, find, generate_password, role_of,
    set_disabled as write_disabled, set_password as write_password, setup_token_is_valid,
    verify_password, wait_after,
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
    if !verify_password(current, &account.password_hash) {
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

/// The one-time setup link creates the first admin; the token is spent in the same transaction.
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
    if !setup_token_is_valid(change.txn(), token).await? {
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
    super::spend_setup_token(change.txn()).await?;
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
    #[error("too many failed sign-ins from this client")]
    Throttled,
}

impl From<sea_orm::DbErr> for SignInRefusal {
    fn from(error: sea_orm::DbErr) -> Self {
        SignInRefusal::Failed(SignInError::Db(error))
    }
}

/// One sign-in attempt from `client` (when its address is known). Failures are counted per
/// account (in the database) and per client (in this process's `throttle`), and every outcome
/// is written to the audit log.
pub async fn sign_in(
    context: &Context,
    throttle: &ClientThrottle,
    client: Option<IpAddr>,
    email: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<account::Model, SignInRefusal> {
    if let Some(client) = client
        && !throttle.allow(client)
    {
        audit::record(
            &context.db,
            Actor::Visitor(email),
            "sign_in_throttled",
            format!("client {client}"),
        )
        .await?;
        return Err(SignInRefusal::Throttled);
    }
    match check_password(context, email, password, now).await {
        Ok(account) => {
            if let Some(client) = client {
                throttle.forget(client);
            }
            Ok(account)
        }
        Err(SignInError::Db(error)) => Err(error.into()),
        Err(error) => {
            if let Some(client) = client {
                throttle.failed(client);
            }
            audit::record(
                &context.db,
                Actor::Visitor(email),
                "sign_in_failed",
                error.to_string(),
            )
            .await?;
            Err(SignInRefusal::Failed(error))
        }
    }
}

/// Checks an e-mail and password. Failures are counted per account and slow it down; a wrong
/// e-mail costs the same hashing time as a wrong password, so timing tells nothing. A success
/// is recorded with its audit event in one transaction.
async fn check_password(
    context: &Context,
    email: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<account::Model, SignInError> {
    let Some(account) = super::find_by_email(&context.db, email).await? else {
        let _ = verify_password(password, super::DUMMY_HASH);
        return Err(SignInError::WrongCredentials);
    };
    if let Some(until) = account.locked_until
        && until > now
    {
        return Err(SignInError::SlowDown((until - now).num_seconds().max(1)));
    }
    if !verify_password(password, &account.password_hash) {
        let failures = account.failed_sign_ins + 1;
        let wait = wait_after(failures);
        let mut active: account::ActiveModel = account.into();
        active.failed_sign_ins = Set(failures);
        active.locked_until = Set((wait > chrono::Duration::zero()).then(|| now + wait));
        active.update(&context.db).await?;
        return Err(SignInError::WrongCredentials);
    }
    if account.disabled {
        return Err(SignInError::Disabled);
    }
    let change = Change::begin(context, Actor::Account(&account)).await?;
    let mut active: account::ActiveModel = account.clone().into();
    active.failed_sign_ins = Set(0);
    active.locked_until = Set(None);
    active.last_sign_in_at = Set(Some(now));
    let account = active.update(change.txn()).await?;
    change.audit("sign_in", "").await?;
    change.commit().await?;
    Ok(account)
}

/// Signing out: recorded in the audit log.
pub async fn sign_out(context: &Context, account: &account::Model) -> Result<(), sea_orm::DbErr> {
    let change = Change::begin(context, Actor::Account(account)).await?;
    change.audit("sign_out", "").await?;
    change.commit().await
}
