//! Limits that hold and secrets that are not kept:
//! - `sign_in_limit`: failed sign-ins counted per typed e-mail, known or not, in one row each, so
//!   that an attempt is reserved by one conditional UPDATE before its password is checked. The
//!   account's own `failed_sign_ins` and `locked_until` go.
//! - `invitation_link`: a teacher's personal links, kept only as SHA-256 hashes (a first link and
//!   one per reminder or resend, all valid until the invitation is answered). The invitation's
//!   `token` column, which held the link itself, goes; existing tokens are hashed over.
//! - `teacher.added_by_school` and `teacher.approved_at`: a teacher a school's own account added
//!   after a campaign opened is invited only once a supervisor approves.
//! - `admission`: how many answers each link took in its current minute, counted by the answer
//!   writer in the answers' transaction, so that every dupin process agrees on when a link's
//!   answers come faster than its school could send them (they are then held).
//! - `audit_event.school_id`: the school an event concerns, so that the invitations page can
//!   list every change to its schools' rosters with who made it and when.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, boolean, integer, integer_null, pk_auto, string, string_null, text_null,
    timestamp_with_time_zone, timestamp_with_time_zone_null,
};
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};
use sha2::{Digest, Sha256};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The invitation table as the mail migration made it, without its `token`, under `name`.
fn invitation_without_token(name: &str) -> TableCreateStatement {
    Table::create()
        .table(Alias::new(name))
        .col(pk_auto(Invitation::Id))
        .col(integer(Invitation::CampaignId))
        .col(integer(Invitation::TeacherId))
        .col(string(Invitation::Status))
        .col(text_null(Invitation::LastError))
        .col(timestamp_with_time_zone_null(Invitation::SentAt))
        .col(timestamp_with_time_zone_null(Invitation::RemindedAt))
        .col(integer(Invitation::Reminders).default(0))
        .col(timestamp_with_time_zone(Invitation::CreatedAt))
        .foreign_key(
            ForeignKey::create()
                .from(Alias::new(name), Invitation::CampaignId)
                .to(Campaign::Table, Campaign::Id),
        )
        .foreign_key(
            ForeignKey::create()
                .from(Alias::new(name), Invitation::TeacherId)
                .to(Teacher::Table, Teacher::Id),
        )
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Tables are rebuilt and tokens rewritten: all of it commits with the migration's record,
    /// or nothing does.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();

        manager
            .create_table(
                Table::create()
                    .table(SignInLimit::Table)
                    .col(string(SignInLimit::Email).primary_key())
                    .col(integer(SignInLimit::Attempts).default(0))
                    .col(timestamp_with_time_zone_null(SignInLimit::LockedUntil))
                    .col(timestamp_with_time_zone_null(SignInLimit::RefusalAudited))
                    .col(timestamp_with_time_zone(SignInLimit::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for column in [Account::FailedSignIns, Account::LockedUntil] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Account::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(InvitationLink::Table)
                    .col(string(InvitationLink::TokenHash).primary_key())
                    .col(integer(InvitationLink::InvitationId))
                    .col(timestamp_with_time_zone(InvitationLink::CreatedAt))
                    .to_owned(),
            )
            .await?;
        let tokens = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT id, token, created_at FROM invitation",
            ))
            .await?;
        for row in tokens {
            let id: i32 = row.try_get_by_index(0)?;
            let token: String = row.try_get_by_index(1)?;
            let insert = Query::insert()
                .into_table(InvitationLink::Table)
                .columns([
                    InvitationLink::TokenHash,
                    InvitationLink::InvitationId,
                    InvitationLink::CreatedAt,
                ])
                .values([
                    sha256_hex(&token).into(),
                    id.into(),
                    Expr::cust("CURRENT_TIMESTAMP"),
                ])
                .map_err(|error| DbErr::Migration(error.to_string()))?
                .to_owned();
            db.execute(&insert).await?;
        }
        if backend == DbBackend::Sqlite {
            // SQLite drops no column with a UNIQUE constraint: the table is rebuilt without it.
            // Nothing refers to an invitation by a foreign key, so the old table may go.
            manager
                .create_table(invitation_without_token("invitation_rebuilt"))
                .await?;
            for statement in [
                "INSERT INTO \"invitation_rebuilt\" (\"id\", \"campaign_id\", \"teacher_id\", \
                 \"status\", \"last_error\", \"sent_at\", \"reminded_at\", \"reminders\", \
                 \"created_at\") SELECT \"id\", \"campaign_id\", \"teacher_id\", \"status\", \
                 \"last_error\", \"sent_at\", \"reminded_at\", \"reminders\", \"created_at\" \
                 FROM \"invitation\"",
                "DROP TABLE \"invitation\"",
                "ALTER TABLE \"invitation_rebuilt\" RENAME TO \"invitation\"",
            ] {
                db.execute_unprepared(statement).await?;
            }
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
        } else {
            manager
                .alter_table(
                    Table::alter()
                        .table(Invitation::Table)
                        .drop_column(Invitation::Token)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Teacher::Table)
                    .add_column(boolean(Teacher::AddedBySchool).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Teacher::Table)
                    .add_column(timestamp_with_time_zone_null(Teacher::ApprovedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditEvent::Table)
                    .add_column(integer_null(AuditEvent::SchoolId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_event_school")
                    .table(AuditEvent::Table)
                    .col(AuditEvent::SchoolId)
                    .col(AuditEvent::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Admission::Table)
                    .col(integer(Admission::LinkId).primary_key())
                    .col(big_integer(Admission::Minute))
                    .col(big_integer(Admission::Count))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("invitation_link_invitation")
                    .table(InvitationLink::Table)
                    .col(InvitationLink::InvitationId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Admission::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("audit_event_school")
                    .table(AuditEvent::Table)
                    .to_owned(),
            )
            .await?;
        for (table, column) in [
            (
                Teacher::Table.into_iden(),
                Teacher::AddedBySchool.into_iden(),
            ),
            (Teacher::Table.into_iden(), Teacher::ApprovedAt.into_iden()),
            (
                AuditEvent::Table.into_iden(),
                AuditEvent::SchoolId.into_iden(),
            ),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        // The links cannot be recovered from their hashes: going back leaves every invitation
        // with a token nobody holds (`invitation-{id}`), which no link matches.
        manager
            .alter_table(
                Table::alter()
                    .table(Invitation::Table)
                    .add_column(string_null(Invitation::Token))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared("UPDATE invitation SET token = 'invitation-' || CAST(id AS VARCHAR)")
            .await?;
        manager
            .drop_table(Table::drop().table(InvitationLink::Table).to_owned())
            .await?;
        for column in [Account::FailedSignIns] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Account::Table)
                        .add_column(integer(column).default(0))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Account::Table)
                    .add_column(timestamp_with_time_zone_null(Account::LockedUntil))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(SignInLimit::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Admission {
    Table,
    LinkId,
    Minute,
    Count,
}

#[derive(DeriveIden)]
enum SignInLimit {
    Table,
    Email,
    Attempts,
    LockedUntil,
    RefusalAudited,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Account {
    Table,
    FailedSignIns,
    LockedUntil,
}

#[derive(DeriveIden)]
enum InvitationLink {
    Table,
    TokenHash,
    InvitationId,
    CreatedAt,
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
enum Campaign {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Teacher {
    Table,
    Id,
    AddedBySchool,
    ApprovedAt,
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Id,
    SchoolId,
}
