//! Schools, frozen survey versions, campaigns with one link per school, responses and tallies.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_pk_auto, boolean, integer, pk_auto, string, string_null, string_uniq, text,
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
                    .table(School::Table)
                    .col(pk_auto(School::Id))
                    .col(string_uniq(School::Code))
                    .col(string(School::Name))
                    .col(string(School::Township))
                    .col(string(School::Kind))
                    .col(boolean(School::IsCentral))
                    .col(boolean(School::IsKeyVillage))
                    .col(integer(School::Enrolment))
                    .col(integer(School::Teachers))
                    .col(timestamp_with_time_zone(School::CreatedAt))
                    .col(timestamp_with_time_zone(School::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SurveyVersion::Table)
                    .col(pk_auto(SurveyVersion::Id))
                    .col(string(SurveyVersion::SurveyId))
                    .col(string_uniq(SurveyVersion::Digest))
                    .col(string(SurveyVersion::Title))
                    .col(string(SurveyVersion::Audience))
                    .col(text(SurveyVersion::Definition))
                    .col(text(SurveyVersion::Source))
                    .col(timestamp_with_time_zone(SurveyVersion::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Campaign::Table)
                    .col(pk_auto(Campaign::Id))
                    .col(string(Campaign::Name))
                    .col(integer(Campaign::SurveyVersionId))
                    .col(string(Campaign::Status))
                    .col(timestamp_with_time_zone_null(Campaign::OpensAt))
                    .col(timestamp_with_time_zone_null(Campaign::ClosesAt))
                    .col(timestamp_with_time_zone(Campaign::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Campaign::Table, Campaign::SurveyVersionId)
                            .to(SurveyVersion::Table, SurveyVersion::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CampaignLink::Table)
                    .col(pk_auto(CampaignLink::Id))
                    .col(integer(CampaignLink::CampaignId))
                    .col(integer(CampaignLink::SchoolId))
                    .col(string_uniq(CampaignLink::Token))
                    .col(big_integer(CampaignLink::ResponseCount).default(0))
                    .col(timestamp_with_time_zone(CampaignLink::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CampaignLink::Table, CampaignLink::CampaignId)
                            .to(Campaign::Table, Campaign::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CampaignLink::Table, CampaignLink::SchoolId)
                            .to(School::Table, School::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("campaign_link_campaign_school")
                    .table(CampaignLink::Table)
                    .col(CampaignLink::CampaignId)
                    .col(CampaignLink::SchoolId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Response::Table)
                    .col(big_pk_auto(Response::Id))
                    .col(integer(Response::CampaignId))
                    .col(integer(Response::SchoolId))
                    .col(integer(Response::SurveyVersionId))
                    .col(string_uniq(Response::IdempotencyKey))
                    .col(string_null(Response::BrowserKey))
                    .col(text(Response::Answers))
                    .col(timestamp_with_time_zone(Response::SubmittedAt))
                    .col(ColumnDef::new(Response::DurationMs).big_integer().null())
                    .col(boolean(Response::Excluded).default(false))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Response::Table, Response::CampaignId)
                            .to(Campaign::Table, Campaign::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // One answer per browser and campaign. NULL browser keys (cookies refused) never collide.
        manager
            .create_index(
                Index::create()
                    .name("response_campaign_browser")
                    .table(Response::Table)
                    .col(Response::CampaignId)
                    .col(Response::BrowserKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("response_campaign_school")
                    .table(Response::Table)
                    .col(Response::CampaignId)
                    .col(Response::SchoolId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tally::Table)
                    .col(integer(Tally::CampaignId))
                    .col(integer(Tally::SchoolId))
                    .col(string(Tally::QuestionKey))
                    .col(string(Tally::OptionKey))
                    .col(big_integer(Tally::Count).default(0))
                    .primary_key(
                        Index::create()
                            .col(Tally::CampaignId)
                            .col(Tally::SchoolId)
                            .col(Tally::QuestionKey)
                            .col(Tally::OptionKey),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Tally::Table.into_iden(),
            Response::Table.into_iden(),
            CampaignLink::Table.into_iden(),
            Campaign::Table.into_iden(),
            SurveyVersion::Table.into_iden(),
            School::Table.into_iden(),
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
    Code,
    Name,
    Township,
    Kind,
    IsCentral,
    IsKeyVillage,
    Enrolment,
    Teachers,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SurveyVersion {
    Table,
    Id,
    SurveyId,
    Digest,
    Title,
    Audience,
    Definition,
    Source,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Campaign {
    Table,
    Id,
    Name,
    SurveyVersionId,
    Status,
    OpensAt,
    ClosesAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CampaignLink {
    Table,
    Id,
    CampaignId,
    SchoolId,
    Token,
    ResponseCount,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Response {
    Table,
    Id,
    CampaignId,
    SchoolId,
    SurveyVersionId,
    IdempotencyKey,
    BrowserKey,
    Answers,
    SubmittedAt,
    DurationMs,
    Excluded,
}

#[derive(DeriveIden)]
enum Tally {
    Table,
    CampaignId,
    SchoolId,
    QuestionKey,
    OptionKey,
    Count,
}
