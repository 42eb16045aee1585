//! TEMPORARY stand-in for the lead's photos module (same API as /work/notes/common.md), so that
//! the rectification branch compiles before `git merge main`; replaced by main's on merge.

use entity::photo;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;

pub struct Prepared {
    pub bytes: Vec<u8>,
    pub thumbnail: Vec<u8>,
    pub width: i32,
    pub height: i32,
}

#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("照片太大")]
    TooLarge,
    #[error("只能上传 JPEG 或 PNG 照片")]
    NotAnImage,
}

pub fn prepare(upload: &[u8]) -> Result<Prepared, PhotoError> {
    if upload.len() > MAX_PHOTO_BYTES {
        return Err(PhotoError::TooLarge);
    }
    if !(upload.starts_with(&[0xFF, 0xD8]) || upload.starts_with(b"\x89PNG")) {
        return Err(PhotoError::NotAnImage);
    }
    Ok(Prepared {
        bytes: upload.to_vec(),
        thumbnail: upload.to_vec(),
        width: 1,
        height: 1,
    })
}

pub enum Attach {
    VisitItem { visit: i32, item: String },
    Finding { visit: i32, finding: i32 },
    Event(i32),
}

pub async fn insert(
    txn: &impl ConnectionTrait,
    school_id: i32,
    attach: Attach,
    prepared: Prepared,
    created_by: Option<i32>,
) -> Result<photo::Model, DbErr> {
    let (visit, item, finding, event) = match attach {
        Attach::VisitItem { visit, item } => (Some(visit), Some(item), None, None),
        Attach::Finding { visit, finding } => (Some(visit), None, Some(finding), None),
        Attach::Event(event) => (None, None, None, Some(event)),
    };
    photo::ActiveModel {
        token: Set(crate::secrets::random_key()),
        school_id: Set(school_id),
        visit_id: Set(visit),
        item_id: Set(item),
        finding_id: Set(finding),
        event_id: Set(event),
        content_type: Set("image/jpeg".to_owned()),
        width: Set(prepared.width),
        height: Set(prepared.height),
        bytes: Set(prepared.bytes),
        thumbnail: Set(prepared.thumbnail),
        created_by: Set(created_by),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct PhotoRef {
    pub token: String,
    pub finding_id: Option<i32>,
    pub event_id: Option<i32>,
    pub item_id: Option<String>,
    pub width: i32,
    pub height: i32,
}

pub async fn list_for_events(
    db: &impl ConnectionTrait,
    events: &[i32],
) -> Result<Vec<PhotoRef>, DbErr> {
    Ok(photo::Entity::find()
        .filter(photo::Column::EventId.is_in(events.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| PhotoRef {
            token: p.token,
            finding_id: p.finding_id,
            event_id: p.event_id,
            item_id: p.item_id,
            width: p.width,
            height: p.height,
        })
        .collect())
}
