//! Supervision after the rating (issue 13): visits to schools with their checklist answers,
//! findings and photos; rectification items (整改) with their history; and issued 督导意见书
//! (letters), each a frozen snapshot.
//!
//! Photos are stored in the database (the re-encoded image, EXIF stripped, and its thumbnail),
//! so that a backup of the database and `dupin migrate-data` carry them with everything else.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    blob, date, double_null, integer, integer_null, pk_auto, string, string_null, string_uniq,
    text, text_null, timestamp_with_time_zone, timestamp_with_time_zone_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Visit::Table)
                    .col(pk_auto(Visit::Id))
                    .col(integer(Visit::SchoolId))
                    .col(integer_null(Visit::CampaignId))
                    .col(string(Visit::Kind))
                    .col(string_null(Visit::Checklist))
                    .col(date(Visit::VisitedOn))
                    .col(text(Visit::Team))
                    .col(string_null(Visit::GroupMet))
                    .col(integer_null(Visit::GroupSize))
                    .col(text_null(Visit::Notes))
                    .col(integer(Visit::CreatedBy))
                    .col(timestamp_with_time_zone(Visit::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Visit::Table, Visit::SchoolId)
                            .to(School::Table, School::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Visit::Table, Visit::CampaignId)
                            .to(Campaign::Table, Campaign::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("visit_school")
                    .table(Visit::Table)
                    .col(Visit::SchoolId)
                    .col(Visit::VisitedOn)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(VisitCheck::Table)
                    .col(pk_auto(VisitCheck::Id))
                    .col(integer(VisitCheck::VisitId))
                    .col(string(VisitCheck::ItemId))
                    .col(string_null(VisitCheck::Judgement))
                    .col(double_null(VisitCheck::Number))
                    .col(text_null(VisitCheck::Note))
                    .foreign_key(
                        ForeignKey::create()
                            .from(VisitCheck::Table, VisitCheck::VisitId)
                            .to(Visit::Table, Visit::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("visit_check_item")
                    .table(VisitCheck::Table)
                    .col(VisitCheck::VisitId)
                    .col(VisitCheck::ItemId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Finding::Table)
                    .col(pk_auto(Finding::Id))
                    .col(integer(Finding::VisitId))
                    .col(integer(Finding::SchoolId))
                    .col(string(Finding::Area))
                    .col(string(Finding::Severity))
                    .col(text(Finding::Text))
                    .col(timestamp_with_time_zone(Finding::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Finding::Table, Finding::VisitId)
                            .to(Visit::Table, Visit::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Finding::Table, Finding::SchoolId)
                            .to(School::Table, School::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("finding_visit")
                    .table(Finding::Table)
                    .col(Finding::VisitId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Rectification::Table)
                    .col(pk_auto(Rectification::Id))
                    .col(integer(Rectification::SchoolId))
                    .col(integer_null(Rectification::CampaignId))
                    .col(string(Rectification::Source))
                    .col(integer_null(Rectification::FindingId))
                    .col(string_null(Rectification::Indicator))
                    .col(string_null(Rectification::Area))
                    .col(text(Rectification::Requirement))
                    .col(string(Rectification::Responsible))
                    .col(date(Rectification::Deadline))
                    .col(string(Rectification::Status))
                    .col(timestamp_with_time_zone_null(
                        Rectification::RemindedBeforeAt,
                    ))
                    .col(timestamp_with_time_zone_null(
                        Rectification::RemindedOverdueAt,
                    ))
                    .col(integer(Rectification::CreatedBy))
                    .col(timestamp_with_time_zone(Rectification::CreatedAt))
                    .col(timestamp_with_time_zone(Rectification::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Rectification::Table, Rectification::SchoolId)
                            .to(School::Table, School::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Rectification::Table, Rectification::CampaignId)
                            .to(Campaign::Table, Campaign::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Rectification::Table, Rectification::FindingId)
                            .to(Finding::Table, Finding::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("rectification_school")
                    .table(Rectification::Table)
                    .col(Rectification::SchoolId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("rectification_due")
                    .table(Rectification::Table)
                    .col(Rectification::Status)
                    .col(Rectification::Deadline)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RectificationEvent::Table)
                    .col(pk_auto(RectificationEvent::Id))
                    .col(integer(RectificationEvent::ItemId))
                    .col(string(RectificationEvent::Kind))
                    .col(text_null(RectificationEvent::Text))
                    .col(integer_null(RectificationEvent::AccountId))
                    .col(timestamp_with_time_zone(RectificationEvent::At))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RectificationEvent::Table, RectificationEvent::ItemId)
                            .to(Rectification::Table, Rectification::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("rectification_event_item")
                    .table(RectificationEvent::Table)
                    .col(RectificationEvent::ItemId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Photo::Table)
                    .col(pk_auto(Photo::Id))
                    .col(string_uniq(Photo::Token))
                    .col(integer(Photo::SchoolId))
                    .col(integer_null(Photo::VisitId))
                    .col(string_null(Photo::ItemId))
                    .col(integer_null(Photo::FindingId))
                    .col(integer_null(Photo::EventId))
                    .col(string(Photo::ContentType))
                    .col(integer(Photo::Width))
                    .col(integer(Photo::Height))
                    .col(blob(Photo::Bytes))
                    .col(blob(Photo::Thumbnail))
                    .col(integer_null(Photo::CreatedBy))
                    .col(timestamp_with_time_zone(Photo::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Photo::Table, Photo::SchoolId)
                            .to(School::Table, School::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Photo::Table, Photo::VisitId)
                            .to(Visit::Table, Visit::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Photo::Table, Photo::FindingId)
                            .to(Finding::Table, Finding::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Photo::Table, Photo::EventId)
                            .to(RectificationEvent::Table, RectificationEvent::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("photo_visit")
                    .table(Photo::Table)
                    .col(Photo::VisitId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Letter::Table)
                    .col(pk_auto(Letter::Id))
                    .col(integer(Letter::SchoolId))
                    .col(integer(Letter::CampaignId))
                    .col(integer(Letter::Year))
                    .col(integer(Letter::Number))
                    .col(integer(Letter::Version))
                    .col(integer(Letter::IssuedBy))
                    .col(timestamp_with_time_zone(Letter::IssuedAt))
                    .col(text(Letter::Snapshot))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Letter::Table, Letter::SchoolId)
                            .to(School::Table, School::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Letter::Table, Letter::CampaignId)
                            .to(Campaign::Table, Campaign::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("letter_school_version")
                    .table(Letter::Table)
                    .col(Letter::SchoolId)
                    .col(Letter::CampaignId)
                    .col(Letter::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("letter_number_version")
                    .table(Letter::Table)
                    .col(Letter::Year)
                    .col(Letter::Number)
                    .col(Letter::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Letter::Table.into_iden(),
            Photo::Table.into_iden(),
            RectificationEvent::Table.into_iden(),
            Rectification::Table.into_iden(),
            Finding::Table.into_iden(),
            VisitCheck::Table.into_iden(),
            Visit::Table.into_iden(),
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
enum Visit {
    Table,
    Id,
    SchoolId,
    CampaignId,
    Kind,
    Checklist,
    VisitedOn,
    Team,
    GroupMet,
    GroupSize,
    Notes,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum VisitCheck {
    Table,
    Id,
    VisitId,
    ItemId,
    Judgement,
    Number,
    Note,
}

#[derive(DeriveIden)]
enum Finding {
    Table,
    Id,
    VisitId,
    SchoolId,
    Area,
    Severity,
    Text,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Rectification {
    Table,
    Id,
    SchoolId,
    CampaignId,
    Source,
    FindingId,
    Indicator,
    Area,
    Requirement,
    Responsible,
    Deadline,
    Status,
    RemindedBeforeAt,
    RemindedOverdueAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RectificationEvent {
    Table,
    Id,
    ItemId,
    Kind,
    Text,
    AccountId,
    At,
}

#[derive(DeriveIden)]
enum Photo {
    Table,
    Id,
    Token,
    SchoolId,
    VisitId,
    ItemId,
    FindingId,
    EventId,
    ContentType,
    Width,
    Height,
    Bytes,
    Thumbnail,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Letter {
    Table,
    Id,
    SchoolId,
    CampaignId,
    Year,
    Number,
    Version,
    IssuedBy,
    IssuedAt,
    Snapshot,
}
