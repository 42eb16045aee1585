//! One teacher of a school's roster: whom a teachers' campaign can invite by e-mail.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "teacher")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub school_id: i32,
    pub name: String,
    /// Unique within a school; a re-uploaded roster updates by it.
    pub email: String,
    /// Added by the school's own account (a school viewer), not by a supervisor: such a teacher,
    /// added after a campaign opened, is invited to it only once a supervisor approves.
    pub added_by_school: bool,
    /// When a supervisor approved a teacher the school added.
    pub approved_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
