//! The supervisors' console: accounts, the audit log, process-shared settings (the session key,
//! the one-time setup token), and the expected number of answers per school link.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_pk_auto, boolean, integer, integer_null, pk_auto, string, string_uniq, text,
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
                    .table(Account::Table)
                    .col(pk_auto(Account::Id))
                    .col(string_uniq(Account::Email))
                    .col(string(Account::DisplayName))
                    .col(string(Account::PasswordHash))
                    .col(string(Account::Role))
                    .col(integer_null(Account::SchoolId))
                    .col(boolean(Account::Disabled).default(false))
                    .col(integer(Account::SessionVersion).default(1))
                    .col(integer(Account::FailedSignIns).default(0))
                    .col(timestamp_with_time_zone_null(Account::LockedUntil))
                    .col(timestamp_with_time_zone_null(Account::LastSignInAt))
                    .col(timestamp_with_time_zone(Account::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEvent::Table)
                    .col(big_pk_auto(AuditEvent::Id))
                    .col(timestamp_with_time_zone(AuditEvent::At))
                    .col(integer_null(AuditEvent::AccountId))
                    .col(string(AuditEvent::Actor))
                    .col(string(AuditEvent::Action))
                    .col(text(AuditEvent::Detail))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_event_at")
                    .table(AuditEvent::Table)
                    .col(AuditEvent::At)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Setting::Table)
                    .col(string(Setting::Key).primary_key())
                    .col(text(Setting::Value))
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(CampaignLink::Table)
                    .add_column(integer(CampaignLink::Expected).default(0))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CampaignLink::Table)
                    .drop_column(CampaignLink::Expected)
                    .to_owned(),
            )
            .await?;
        for table in [
            Setting::Table.into_iden(),
            AuditEvent::Table.into_iden(),
            Account::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
    Email,
    DisplayName,
    PasswordHash,
    Role,
    SchoolId,
    Disabled,
    SessionVersion,
    FailedSignIns,
    LockedUntil,
    LastSignInAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Id,
    At,
    AccountId,
    Actor,
    Action,
    Detail,
}

#[derive(DeriveIden)]
enum Setting {
    Table,
    Key,
    Value,
}

#[derive(DeriveIden)]
enum CampaignLink {
    Table,
    Expected,
}
