//! Answering through a teacher's personal link: finding the school link an invitation opens,
//! and spending the invitation in the transaction that stores its answer. It lives here, beside
//! the writer that calls it, so that answering never reaches up into `invitations` (which
//! creates the invitations and mails them).
//!
//! Anonymity: spending an invitation writes only its status — not when, not which answer.

use entity::{campaign_link, invitation, invitation_link, teacher};
use sea_orm::sea_query::{Expr, ExprTrait, Query};

use crate::secrets::sha256_hex;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait, Statement,
};

/// `invitation.status` of a used invitation (`invitations::Status::Answered`).
pub const ANSWERED: &str = "answered";

/// What a personal link opens: the school link of the teacher's school in the campaign (whose
/// form, counts and tallies the answer joins), and whether the invitation was already used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonalLink {
    /// The token of the school's campaign link.
    pub link_token: String,
    pub answered: bool,
}

/// The invitations table's rows whose link has this token: found by its hash, as only the hash
/// is kept.
fn of_token(token: &str) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(invitation_link::Column::InvitationId)
        .from(invitation_link::Entity)
        .and_where(Expr::col(invitation_link::Column::TokenHash).eq(sha256_hex(token)))
        .to_owned()
}

/// Looks up an invitation by one of its links' (normalised) tokens: two indexed reads.
pub async fn find_personal_link(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<PersonalLink>, DbErr> {
    let Some((campaign_id, teacher_id, status)) = invitation::Entity::find()
        .select_only()
        .column(invitation::Column::CampaignId)
        .column(invitation::Column::TeacherId)
        .column(invitation::Column::Status)
        .filter(invitation::Column::Id.in_subquery(of_token(token)))
        .into_tuple::<(i32, i32, String)>()
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let link_token: Option<String> = campaign_link::Entity::find()
        .select_only()
        .column(campaign_link::Column::Token)
        .filter(campaign_link::Column::CampaignId.eq(campaign_id))
        .filter(
            campaign_link::Column::SchoolId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(teacher::Column::SchoolId)
                    .from(teacher::Entity)
                    .and_where(teacher::Column::Id.eq(teacher_id))
                    .to_owned(),
            ),
        )
        .into_tuple()
        .one(db)
        .await?;
    Ok(link_token.map(|link_token| PersonalLink {
        link_token,
        answered: status == ANSWERED,
    }))
}

/// The statement that marks the invitation of (any of its links') `token` answered, run in the
/// answer writer's transaction. It changes no row when the invitation already was answered (or
/// there is none): the link was used, and the answer must not be stored. Nothing else is
/// written: not when, not which answer.
pub fn mark_answered(backend: DatabaseBackend, token: &str) -> Statement {
    invitation::Entity::update_many()
        .col_expr(invitation::Column::Status, Expr::value(ANSWERED))
        .filter(invitation::Column::Id.in_subquery(of_token(token)))
        .filter(invitation::Column::Status.ne(ANSWERED))
        .build(backend)
}
