//! A photo taken on a visit (for a checklist item or a finding) or sent with a school's progress
//! report on a rectification item. Stored re-encoded, without EXIF (no GPS), with a thumbnail,
//! in the database so that backups and `migrate-data` carry it. Served by its unguessable token,
//! to those allowed to see its school.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "photo")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub token: String,
    pub school_id: i32,
    pub visit_id: Option<i32>,
    /// The checklist item it answers, for a photo item.
    pub item_id: Option<String>,
    pub finding_id: Option<i32>,
    /// The rectification event (a progress report) it belongs to.
    pub event_id: Option<i32>,
    /// `image/jpeg`.
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    pub bytes: Vec<u8>,
    /// A small JPEG for pages and letters.
    pub thumbnail: Vec<u8>,
    pub created_by: Option<i32>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
