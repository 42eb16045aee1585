//! Accounts of the console: roles, argon2id passwords, sign-in with a slow-down after repeated
//! failures, the one-time setup link of a new installation, and the key that signs sessions.
//!
//! The actions people take on accounts — sign in and out, the first admin, adding, disabling,
//! resetting, changing a password — are in [`actions`], each owning its transaction and audit
//! event. No HTTP here: the web layer turns these results into cookies and pages.

pub mod actions;
pub mod limits;
pub mod throttle;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};
use chrono::{Duration, Utc};
use entity::{account, school, setting};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set, SqlErr,
};
use sha2::{Digest, Sha256};

use crate::secrets::sha256_hex;

/// What an account may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Accounts and everything else.
    Admin,
    /// Schools, campaigns and results.
    Supervisor,
    /// Only its own school: its links, posters and response rate.
    School,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Supervisor, Role::School];

    pub fn slug(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::School => "school",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "管理员",
            Role::Supervisor => "督导人员",
            Role::School => "学校查看",
        }
    }

    pub fn parse(slug: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.slug() == slug)
    }

    /// Whether this role may do what `needed` may: admins may do everything supervisors may.
    pub fn includes(self, needed: Role) -> bool {
        match needed {
            Role::Admin => self == Role::Admin,
            Role::Supervisor => matches!(self, Role::Admin | Role::Supervisor),
            Role::School => true,
        }
    }
}

pub fn role_of(account: &account::Model) -> Role {
    Role::parse(&account.role).unwrap_or(Role::School)
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("请输入有效的电子邮箱地址")]
    BadEmail,
    #[error("密码至少需要 10 个字符")]
    ShortPassword,
    #[error("这个电子邮箱已经有账号了")]
    EmailTaken,
    #[error("学校查看账号必须选择一所学校")]
    SchoolRequired,
    #[error("找不到所选的学校，请重新选择")]
    UnknownSchool,
    #[error("找不到这个账号")]
    NotFound,
    #[error("不能停用自己的账号。如确需停用，请由另一位管理员操作。")]
    DisablingSelf,
    #[error("不能在这里重置自己的密码，请在“修改密码”页面修改。")]
    ResettingSelf,
    #[error("当前密码不正确")]
    WrongCurrentPassword,
    #[error("两次输入的密码不一致")]
    PasswordsDiffer,
    #[error("密码错误次数过多，请在 {0} 秒后再试")]
    SlowDown(i64),
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Sign-in failures, each worded for the person at the keyboard without telling an attacker
/// which half was wrong.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("邮箱或密码不正确")]
    WrongCredentials,
    /// The e-mail is locked for `seconds`; `first` for the first attempt the lock turns away.
    #[error("登录失败次数过多，请在 {seconds} 秒后再试")]
    SlowDown { seconds: i64, first: bool },
    #[error("这个账号已被停用，请联系管理员")]
    Disabled,
    #[error(transparent)]
    Db(#[from] DbErr),
}

pub const MIN_PASSWORD_CHARS: usize = 10;
/// Failures allowed before each further attempt must wait.
const FREE_FAILURES: i32 = 3;
const LONGEST_WAIT_SECONDS: i64 = 15 * 60;

pub fn normalize_email(email: &str) -> Result<String, AccountError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(AccountError::BadEmail)
    }
}

/// Letters and digits that cannot be mistaken for one another when read aloud or copied by hand
/// (no 0/o, 1/l/i).
const READABLE_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
const GENERATED_GROUPS: usize = 4;
const GENERATED_GROUP_CHARS: usize = 4;

/// A random password an admin can read out over the phone: four groups of four characters
/// (`k7mp-3xq9-…`), about 79 bits.
pub fn generate_password() -> String {
    let wanted = GENERATED_GROUPS * GENERATED_GROUP_CHARS;
    // Rejection sampling keeps every character equally likely.
    let limit = (u8::MAX as usize + 1) / READABLE_ALPHABET.len() * READABLE_ALPHABET.len();
    let mut chars = Vec::with_capacity(wanted);
    while chars.len() < wanted {
        let bytes: [u8; 32] = rand::random();
        for byte in bytes {
            if (byte as usize) < limit && chars.len() < wanted {
                chars.push(READABLE_ALPHABET[byte as usize % READABLE_ALPHABET.len()] as char);
            }
        }
    }
    chars
        .chunks(GENERATED_GROUP_CHARS)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

pub fn hash_password(password: &str) -> Result<String, AccountError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::ShortPassword);
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| AccountError::Hash(error.to_string()))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

pub struct NewAccount {
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub role: Role,
    pub school_id: Option<i32>,
}

pub async fn create(
    db: &impl ConnectionTrait,
    new: NewAccount,
) -> Result<account::Model, AccountError> {
    let email = normalize_email(&new.email)?;
    if new.role == Role::School {
        let Some(school_id) = new.school_id else {
            return Err(AccountError::SchoolRequired);
        };
        if school::Entity::find_by_id(school_id)
            .one(db)
            .await?
            .is_none()
        {
            return Err(AccountError::UnknownSchool);
        }
    }
    let password_hash = hash_password(&new.password)?;
    if find_by_email(db, &email).await?.is_some() {
        return Err(AccountError::EmailTaken);
    }
    let display_name = match new.display_name.trim() {
        "" => email.clone(),
        name => name.to_owned(),
    };
    let inserted = account::ActiveModel {
        email: Set(email),
        display_name: Set(display_name),
        password_hash: Set(password_hash),
        role: Set(new.role.slug().to_owned()),
        school_id: Set(if new.role == Role::School {
            new.school_id
        } else {
            None
        }),
        disabled: Set(false),
        session_version: Set(1),
        last_sign_in_at: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await;
    match inserted {
        Ok(account) => Ok(account),
        // Two admins adding the same e-mail at once: the unique index decides.
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(AccountError::EmailTaken)
        }
        Err(error) => Err(error.into()),
    }
}

pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<account::Model>, DbErr> {
    account::Entity::find()
        .filter(account::Column::Email.eq(email.trim().to_lowercase()))
        .one(db)
        .await
}

pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<account::Model>, DbErr> {
    account::Entity::find_by_id(id).one(db).await
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<account::Model>, DbErr> {
    account::Entity::find()
        .order_by_asc(account::Column::Email)
        .all(db)
        .await
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    account::Entity::find().count(db).await
}

/// How long the next attempt must wait after `failures` failures: nothing for the first few,
/// then doubling from 2 s up to 15 minutes.
pub fn wait_after(failures: i32) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::zero();
    }
    let doublings = (failures - FREE_FAILURES).min(16) as u32;
    Duration::seconds((2_i64 << doublings).min(LONGEST_WAIT_SECONDS))
}

/// A hash of a password nobody has, verified when the e-mail is unknown.
pub(crate) const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$9pZ1DkDmDDvQ8lRrlNGx6Wq2bHtBJpS0ZcxEnEOBDj8";

pub async fn set_password(
    db: &impl ConnectionTrait,
    account: account::Model,
    password: &str,
) -> Result<account::Model, AccountError> {
    let hash = hash_password(password)?;
    let version = account.session_version + 1;
    let mut active: account::ActiveModel = account.into();
    active.password_hash = Set(hash);
    active.session_version = Set(version);
    let account = active.update(db).await?;
    // A new password starts its attempts afresh.
    limits::clear(db, &account.email).await?;
    Ok(account)
}

pub async fn set_disabled(
    db: &impl ConnectionTrait,
    account: account::Model,
    disabled: bool,
) -> Result<account::Model, AccountError> {
    let version = account.session_version + 1;
    let mut active: account::ActiveModel = account.into();
    active.disabled = Set(disabled);
    active.session_version = Set(version);
    Ok(active.update(db).await?)
}

const SETUP_TOKEN_KEY: &str = "setup_token_sha256";
const SESSION_KEY_KEY: &str = "session_key";

async fn read_setting(db: &impl ConnectionTrait, key: &str) -> Result<Option<String>, DbErr> {
    Ok(setting::Entity::find_by_id(key.to_owned())
        .one(db)
        .await?
        .map(|row| row.value))
}

async fn write_setting(
    db: &impl ConnectionTrait,
    key: &str,
    value: &str,
    replace: bool,
) -> Result<(), DbErr> {
    let mut conflict = OnConflict::column(setting::Column::Key);
    if replace {
        conflict.update_column(setting::Column::Value);
    } else {
        conflict.do_nothing();
    }
    let result = setting::Entity::insert(setting::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(value.to_owned()),
    })
    .on_conflict(conflict)
    .exec_without_returning(db)
    .await;
    match result {
        Ok(_) | Err(DbErr::RecordNotInserted) => Ok(()),
        Err(error) => Err(error),
    }
}

/// On an installation without accounts, a new one-time setup token (only its hash is stored);
/// `None` once an account exists.
pub async fn new_setup_token(db: &impl ConnectionTrait) -> Result<Option<String>, DbErr> {
    if count(db).await? > 0 {
        return Ok(None);
    }
    let token = crate::secrets::random_key();
    write_setting(db, SETUP_TOKEN_KEY, &sha256_hex(&token), true).await?;
    Ok(Some(token))
}

/// Whether `token` is the current setup token and no account exists yet.
pub async fn setup_token_is_valid(db: &impl ConnectionTrait, token: &str) -> Result<bool, DbErr> {
    if count(db).await? > 0 {
        return Ok(false);
    }
    Ok(read_setting(db, SETUP_TOKEN_KEY)
        .await?
        .is_some_and(|hash| hash == sha256_hex(token)))
}

/// Spends the setup token `token`, if it is the current one: one conditional UPDATE, so that of
/// several requests racing with the same link exactly one spends it. `false` when it was not
/// (or no longer) the token.
pub(crate) async fn spend_setup_token(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<bool, DbErr> {
    let spent = setting::Entity::update_many()
        .col_expr(setting::Column::Value, sea_orm::sea_query::Expr::value(""))
        .filter(setting::Column::Key.eq(SETUP_TOKEN_KEY))
        .filter(setting::Column::Value.eq(sha256_hex(token)))
        .exec(db)
        .await?;
    Ok(spent.rows_affected == 1)
}

/// The key that signs session cookies: the configured one, or else one generated by the first
/// process and shared through the database with every other.
pub async fn session_key(
    db: &impl ConnectionTrait,
    configured: Option<&str>,
) -> Result<Vec<u8>, DbErr> {
    if let Some(configured) = configured.filter(|key| !key.trim().is_empty()) {
        return Ok(Sha256::digest(configured.trim().as_bytes()).to_vec());
    }
    let candidate = format!(
        "{}{}",
        crate::secrets::random_key(),
        crate::secrets::random_key()
    );
    write_setting(db, SESSION_KEY_KEY, &candidate, false).await?;
    let stored = read_setting(db, SESSION_KEY_KEY)
        .await?
        .ok_or_else(|| DbErr::Custom("the session key was not stored".to_owned()))?;
    Ok(stored.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            normalize_email(" Li.Ming@Edu.CN ").ok().as_deref(),
            Some("li.ming@edu.cn")
        );
        for bad in [
            "",
            "li",
            "li@",
            "@edu.cn",
            "li@edu",
            "li ming@edu.cn",
            "li@.cn",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_are_hashed_with_argon2id_and_verified() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterx", &hash));
        assert!(matches!(
            hash_password("short"),
            Err(AccountError::ShortPassword)
        ));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn generated_passwords_are_long_readable_and_different() {
        let first = generate_password();
        assert_eq!(first.len(), 19, "{first}");
        assert_eq!(first.split('-').count(), 4, "{first}");
        assert!(
            first
                .chars()
                .all(|c| c == '-' || READABLE_ALPHABET.contains(&(c as u8))),
            "{first}"
        );
        assert!(first.chars().count() >= MIN_PASSWORD_CHARS);
        assert_ne!(first, generate_password());
    }

    #[test]
    fn failures_slow_down_by_doubling_up_to_fifteen_minutes() {
        assert_eq!(wait_after(1), Duration::zero());
        assert_eq!(wait_after(2), Duration::zero());
        assert_eq!(wait_after(3), Duration::seconds(2));
        assert_eq!(wait_after(4), Duration::seconds(4));
        assert_eq!(wait_after(7), Duration::seconds(32));
        assert_eq!(wait_after(40), Duration::seconds(15 * 60));
    }

    #[test]
    fn admins_include_supervisors_and_supervisors_include_school_viewers() {
        assert!(Role::Admin.includes(Role::Supervisor));
        assert!(Role::Supervisor.includes(Role::School));
        assert!(!Role::Supervisor.includes(Role::Admin));
        assert!(!Role::School.includes(Role::Supervisor));
    }
}
