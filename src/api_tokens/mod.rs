//! Tokens for the read-only JSON API: an admin issues one with a name, sees it once, and may
//! revoke it. Only the token's SHA-256 is stored, so a copy of the database lets nobody call the
//! API. Issuing and revoking are written to the audit log in the same transaction.
//!
//! A token is `dupin_` followed by 43 characters of the URL-safe base64 alphabet, each drawn
//! from one random byte (64 divides 256, so every character is equally likely): 258 random bits.
//! `last_used_at` is written at most once a minute per token, by one conditional UPDATE, so a
//! busy script costs one read per request and no write.
//!
//! Nothing here knows about HTTP; the naming rules, the token's shape and the minute rule are
//! pure and tested below.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::{account, api_token};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, Set,
};
use sha2::{Digest, Sha256};

use crate::change::{Actor, Change, Context};
use crate::db::begin_write;

/// What every token starts with, so that a leaked one is recognised by secret scanners and
/// by people.
pub const TOKEN_PREFIX: &str = "dupin_";
/// Random characters after the prefix: 43 × 6 = 258 bits.
pub const TOKEN_RANDOM_CHARS: usize = 43;
// At least 128 random bits, checked when compiling.
const _: () = assert!(TOKEN_RANDOM_CHARS * 6 >= 128);
/// The longest name an admin may give a token.
pub const NAME_MAX_CHARS: usize = 100;
/// `last_used_at` is moved forward at most this often per token.
pub const LAST_USED_RESOLUTION_SECONDS: i64 = 60;

const URL_SAFE_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("请填写令牌名称，例如“教育局数据平台”")]
    EmptyName,
    #[error("令牌名称最多 {max} 个字符，现在有 {chars} 个")]
    NameTooLong { chars: usize, max: usize },
    #[error("令牌名称不能包含换行或其他控制字符")]
    NameHasControlCharacters,
    #[error("找不到这个令牌")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A token's name as it may be stored: trimmed, not empty, at most [`NAME_MAX_CHARS`]
/// characters, no control characters.
pub fn check_name(name: &str) -> Result<String, TokenError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(TokenError::EmptyName);
    }
    let chars = name.chars().count();
    if chars > NAME_MAX_CHARS {
        return Err(TokenError::NameTooLong {
            chars,
            max: NAME_MAX_CHARS,
        });
    }
    if name.chars().any(char::is_control) {
        return Err(TokenError::NameHasControlCharacters);
    }
    Ok(name.to_owned())
}

/// A new token: the prefix and [`TOKEN_RANDOM_CHARS`] random URL-safe characters.
pub fn generate_token() -> String {
    let bytes: [u8; TOKEN_RANDOM_CHARS] = rand::random();
    let mut token = String::with_capacity(TOKEN_PREFIX.len() + TOKEN_RANDOM_CHARS);
    token.push_str(TOKEN_PREFIX);
    token.extend(
        bytes
            .iter()
            .map(|byte| URL_SAFE_ALPHABET[usize::from(byte & 63)] as char),
    );
    token
}

/// Whether `text` has the shape of a token this module makes: anything else is refused
/// without a database read.
pub fn looks_like_token(text: &str) -> bool {
    text.strip_prefix(TOKEN_PREFIX).is_some_and(|random| {
        random.len() == TOKEN_RANDOM_CHARS
            && random
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    })
}

/// The stored form of a token: its SHA-256 in lower-case hex.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Whether a use at `now` should be written down, given the last one written.
pub fn needs_touch(last_used_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_used_at.is_none_or(|last| now - last >= Duration::seconds(LAST_USED_RESOLUTION_SECONDS))
}

/// A token's state as the console lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenState {
    Active,
    Revoked,
}

impl TokenState {
    pub fn of(token: &api_token::Model) -> TokenState {
        if token.revoked_at.is_some() {
            TokenState::Revoked
        } else {
            TokenState::Active
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TokenState::Active => "有效",
            TokenState::Revoked => "已吊销",
        }
    }
}

/// A token just issued: the stored row, and the token itself, which exists nowhere else and
/// is shown once.
pub struct IssuedToken {
    pub row: api_token::Model,
    pub token: String,
}

/// Issues a token named `name` for `admin`, recording it in the audit log in the same
/// transaction.
pub async fn issue(
    context: &Context,
    admin: &account::Model,
    name: &str,
) -> Result<IssuedToken, TokenError> {
    let name = check_name(name)?;
    let token = generate_token();
    let change = Change::begin(context, Actor::Account(admin)).await?;
    let row = api_token::ActiveModel {
        name: Set(name),
        token_hash: Set(hash_token(&token)),
        created_by: Set(admin.id),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(change.txn())
    .await?;
    change
        .audit("api_token_issue", format!("#{} {}", row.id, row.name))
        .await?;
    change.commit().await?;
    Ok(IssuedToken { row, token })
}

/// Revokes token `id`: from now on it is refused. Revoking a revoked token changes nothing and
/// records nothing. Returns the token and whether this call revoked it.
pub async fn revoke(
    context: &Context,
    admin: &account::Model,
    id: i32,
) -> Result<(api_token::Model, bool), TokenError> {
    let change = Change::begin(context, Actor::Account(admin)).await?;
    let token = api_token::Entity::find_by_id(id)
        .one(change.txn())
        .await?
        .ok_or(TokenError::NotFound)?;
    if token.revoked_at.is_some() {
        change.rollback().await?;
        return Ok((token, false));
    }
    let mut active: api_token::ActiveModel = token.into();
    active.revoked_at = Set(Some(Utc::now()));
    let token = active.update(change.txn()).await?;
    change
        .audit("api_token_revoke", format!("#{} {}", token.id, token.name))
        .await?;
    change.commit().await?;
    Ok((token, true))
}

/// One token as the console lists it, with who issued it.
#[derive(Clone, Debug)]
pub struct TokenListing {
    pub token: api_token::Model,
    /// The issuing admin's e-mail, empty if the account is gone.
    pub issued_by: String,
    pub state: TokenState,
}

/// Every token, active ones first, then newest first.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<TokenListing>, DbErr> {
    let tokens = api_token::Entity::find()
        .order_by_desc(api_token::Column::Id)
        .all(db)
        .await?;
    let admins: HashMap<i32, String> = account::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|account| (account.id, account.email))
        .collect();
    let mut listed: Vec<TokenListing> = tokens
        .into_iter()
        .map(|token| TokenListing {
            issued_by: admins.get(&token.created_by).cloned().unwrap_or_default(),
            state: TokenState::of(&token),
            token,
        })
        .collect();
    listed.sort_by_key(|listing| listing.state == TokenState::Revoked);
    Ok(listed)
}

pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<api_token::Model>, DbErr> {
    api_token::Entity::find_by_id(id).one(db).await
}

/// Why a presented token was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not a token this installation issued (or not a token at all).
    Unknown,
    /// Issued, then revoked by an admin.
    Revoked,
}

/// The token `presented` stands for, if it is one of ours and not revoked. A use is written to
/// `last_used_at` at most once a minute (see [`needs_touch`]); a failure to write it is logged,
/// never held against the caller.
pub async fn authenticate(
    db: &DatabaseConnection,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<Result<api_token::Model, Refusal>, DbErr> {
    if !looks_like_token(presented) {
        return Ok(Err(Refusal::Unknown));
    }
    let Some(token) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash_token(presented)))
        .one(db)
        .await?
    else {
        return Ok(Err(Refusal::Unknown));
    };
    if token.revoked_at.is_some() {
        return Ok(Err(Refusal::Revoked));
    }
    if needs_touch(token.last_used_at, now)
        && let Err(error) = touch(db, token.id, now).await
    {
        tracing::warn!(token = token.id, %error, "could not record the API token's use");
    }
    Ok(Ok(token))
}

/// Moves `last_used_at` to `now` unless another request (or process) did within the minute:
/// the condition is in the UPDATE, so concurrent requests write once.
async fn touch(db: &DatabaseConnection, id: i32, now: DateTime<Utc>) -> Result<(), DbErr> {
    let stale = now - Duration::seconds(LAST_USED_RESOLUTION_SECONDS);
    let txn = begin_write(db).await?;
    api_token::Entity::update_many()
        .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
        .filter(api_token::Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(api_token::Column::LastUsedAt.is_null())
                .add(api_token::Column::LastUsedAt.lte(stale)),
        )
        .exec(&txn)
        .await?;
    txn.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_the_prefix_and_258_random_url_safe_bits() {
        let token = generate_token();
        assert!(token.starts_with("dupin_"), "{token}");
        assert_eq!(token.len(), TOKEN_PREFIX.len() + TOKEN_RANDOM_CHARS);
        assert!(looks_like_token(&token), "{token}");
        assert!(
            token[TOKEN_PREFIX.len()..]
                .bytes()
                .all(|byte| URL_SAFE_ALPHABET.contains(&byte))
        );
        assert_ne!(token, generate_token());
    }

    #[test]
    fn every_character_of_the_alphabet_is_used() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            seen.extend(generate_token()[TOKEN_PREFIX.len()..].bytes());
        }
        assert_eq!(seen.len(), 64);
    }

    #[test]
    fn only_token_shaped_text_is_looked_up() {
        let good = format!("dupin_{}", "a".repeat(TOKEN_RANDOM_CHARS));
        assert!(looks_like_token(&good));
        for bad in [
            String::new(),
            "dupin_".to_owned(),
            "a".repeat(49),
            format!("dupin_{}", "a".repeat(TOKEN_RANDOM_CHARS - 1)),
            format!("dupin_{}", "a".repeat(TOKEN_RANDOM_CHARS + 1)),
            format!("Dupin_{}", "a".repeat(TOKEN_RANDOM_CHARS)),
            format!("dupin_{}=", "a".repeat(TOKEN_RANDOM_CHARS - 1)),
            format!("dupin_{}令", "a".repeat(TOKEN_RANDOM_CHARS - 3)),
        ] {
            assert!(!looks_like_token(&bad), "{bad}");
        }
    }

    #[test]
    fn the_stored_hash_is_sha256_hex() {
        // echo -n abc | sha256sum
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let token = generate_token();
        assert_eq!(hash_token(&token).len(), 64);
        assert!(!hash_token(&token).contains(&token[TOKEN_PREFIX.len()..]));
    }

    #[test]
    fn names_are_trimmed_required_and_at_most_a_hundred_characters() {
        assert_eq!(
            check_name("  教育局数据平台 ").ok().as_deref(),
            Some("教育局数据平台")
        );
        assert!(matches!(check_name("   "), Err(TokenError::EmptyName)));
        assert!(check_name(&"督".repeat(100)).is_ok());
        assert!(matches!(
            check_name(&"督".repeat(101)),
            Err(TokenError::NameTooLong {
                chars: 101,
                max: 100
            })
        ));
        assert!(matches!(
            check_name("a\nb"),
            Err(TokenError::NameHasControlCharacters)
        ));
        assert_eq!(
            check_name(&"督".repeat(101)).err().map(|e| e.to_string()),
            Some("令牌名称最多 100 个字符，现在有 101 个".to_owned())
        );
    }

    #[test]
    fn a_use_is_written_down_at_most_once_a_minute() {
        let now = Utc::now();
        assert!(needs_touch(None, now));
        assert!(!needs_touch(Some(now), now));
        assert!(!needs_touch(Some(now - Duration::seconds(59)), now));
        assert!(needs_touch(Some(now - Duration::seconds(60)), now));
        assert!(needs_touch(Some(now - Duration::hours(3)), now));
        // A clock that stepped back does not write on every request.
        assert!(!needs_touch(Some(now + Duration::seconds(30)), now));
    }

    #[test]
    fn revoked_tokens_are_listed_as_such() {
        let now = Utc::now();
        let mut token = api_token::Model {
            id: 1,
            name: "x".to_owned(),
            token_hash: String::new(),
            created_by: 1,
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        assert_eq!(TokenState::of(&token), TokenState::Active);
        token.revoked_at = Some(now);
        assert_eq!(TokenState::of(&token), TokenState::Revoked);
        assert_eq!(TokenState::Revoked.label(), "已吊销");
    }
}
