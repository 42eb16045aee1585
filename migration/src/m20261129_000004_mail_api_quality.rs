//! Teacher rosters and their one-use invitations, the mail outbox, API tokens, and the
//! answer-quality flags written beside each response.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_pk_auto, integer, integer_null, pk_auto, string, string_null, string_uniq, text, text_null,
    timestamp_with_time_zone, timestamp_with_time_zone_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Teacher::Table)
                    .col(pk_auto(Teacher::Id))
                    .col(integer(Teacher::SchoolId))
                    .col(string(Teacher::Name))
                    .col(string(Teacher::Email))
                    .col(timestamp_with_time_zone(Teacher::CreatedAt))
                    .col(timestamp_with_time_zone(Teacher::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Teacher::Table, Teacher::SchoolId)
                            .to(School::Table, School::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("teacher_school_email")
                    .table(Teacher::Table)
                    .col(Teacher::SchoolId)
                    .col(Teacher::Email)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Invitation::Table)
                    .col(pk_auto(Invitation::Id))
                    .col(integer(Invitation::CampaignId))
                    .col(integer(Invitation::TeacherId))
                    .col(string_uniq(Invitation::Token))
                    .col(string(Invitation::Status))
                    .col(text_null(Invitation::LastError))
                    .col(timestamp_with_time_zone_null(Invitation::SentAt))
                    .col(timestamp_with_time_zone_null(Invitation::RemindedAt))
                    .col(integer(Invitation::Reminders).default(0))
                    .col(timestamp_with_time_zone(Invitation::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invitation::Table, Invitation::CampaignId)
                            .to(Campaign::Table, Campaign::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invitation::Table, Invitation::TeacherId)
                            .to(Teacher::Table, Teacher::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("invitation_campaign_teacher")
                    .table(Invitation::Table)
                    .col(Invitation::CampaignId)
                    .col(Invitation::TeacherId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(big_pk_auto(Outbox::Id))
                    .col(string(Outbox::Kind))
                    .col(string(Outbox::Recipient))
                    .col(string(Outbox::Subject))
                    .col(text(Outbox::TextBody))
                    .col(text_null(Outbox::HtmlBody))
                    .col(text_null(Outbox::Images))
                    .col(integer_null(Outbox::InvitationId))
                    .col(string(Outbox::Status))
                    .col(integer(Outbox::Attempts).default(0))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    .col(string_null(Outbox::LeaseOwner))
                    .col(timestamp_with_time_zone_null(Outbox::LeaseUntil))
                    .col(text_null(Outbox::LastError))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(Outbox::SentAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_due")
                    .table(Outbox::Table)
                    .col(Outbox::Status)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiToken::Table)
                    .col(pk_auto(ApiToken::Id))
                    .col(string(ApiToken::Name))
                    .col(string_uniq(ApiToken::TokenHash))
                    .col(integer(ApiToken::CreatedBy))
                    .col(timestamp_with_time_zone(ApiToken::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiToken::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiToken::RevokedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Response::Table)
                    .add_column(string_null(Response::Flags))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Response::Table)
                    .drop_column(Response::Flags)
                    .to_owned(),
            )
            .await?;
        for table in [
            ApiToken::Table.into_iden(),
            Outbox::Table.into_iden(),
            Invitation::Table.into_iden(),
            Teacher::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum School {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Campaign {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Response {
    Table,
    Flags,
}

#[derive(DeriveIden)]
enum Teacher {
    Table,
    Id,
    SchoolId,
    Name,
    Email,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Invitation {
    Table,
    Id,
    CampaignId,
    TeacherId,
    Token,
    Status,
    LastError,
    SentAt,
    RemindedAt,
    Reminders,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Kind,
    Recipient,
    Subject,
    TextBody,
    HtmlBody,
    Images,
    InvitationId,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseOwner,
    LeaseUntil,
    LastError,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum ApiToken {
    Table,
    Id,
    Name,
    TokenHash,
    CreatedBy,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}
