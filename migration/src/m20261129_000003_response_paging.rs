//! Exports page through a campaign's answers by id; this index makes each page a range read
//! instead of a sort of the whole campaign.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("response_campaign_id")
                    .table(Response::Table)
                    .col(Response::CampaignId)
                    .col(Response::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("response_campaign_id")
                    .table(Response::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Response {
    Table,
    Id,
    CampaignId,
}
