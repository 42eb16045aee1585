//! Photos taken in a school yard: on a visit (for a checklist item or a finding) and with a
//! school's progress report on a rectification item. This module owns turning an upload into a
//! photo dupin keeps, and the photo rows.
//!
//! An upload is accepted only when its content (not its name or declared type) is a JPEG or a
//! PNG of at most [`MAX_PHOTO_BYTES`] and [`MAX_PIXELS`]. It is decoded, turned upright by its
//! EXIF orientation, scaled to at most [`MAX_SIDE`] pixels and written anew as a JPEG: nothing of
//! the original file survives, so its EXIF (the phone's GPS position, its serial number, the
//! time) is gone. A [`THUMB_SIDE`]-pixel thumbnail is made at the same time for pages, letters
//! and reports. Both are stored in the database, so a backup of the database and
//! `dupin migrate-data` carry them. Photos are served by an unguessable token, and only to those
//! who may see their school (the web layer checks).
//!
//! Decoding is CPU work: the web layer runs [`prepare`] off the async threads.

use std::io::Cursor;

use chrono::Utc;
use entity::photo;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;

/// The largest upload accepted: a phone's photo is 2–6 MB.
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;
/// The largest image decoded (a 50-megapixel camera), so a small file cannot ask for gigabytes.
pub const MAX_PIXELS: u64 = 50_000_000;
/// The longer side of a kept photo, in pixels: enough to read a notice on a wall.
pub const MAX_SIDE: u32 = 1600;
/// The longer side of a thumbnail.
pub const THUMB_SIDE: u32 = 320;
/// JPEG quality of kept photos and thumbnails.
const QUALITY: u8 = 80;

/// Why an upload is not a photo dupin keeps. The messages are for the person holding the phone.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhotoError {
    #[error("照片为空，请重新拍摄或选择。")]
    Empty,
    #[error("照片超过 {} MB，请降低相机分辨率后重拍，或选择较小的照片。", MAX_PHOTO_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("只接受 JPEG 或 PNG 格式的照片（所选文件不是图片，或格式不受支持）。")]
    NotAPhoto,
    #[error("照片尺寸过大（超过 {} 万像素），请降低相机分辨率后重拍。", MAX_PIXELS / 10_000)]
    TooManyPixels,
    #[error("照片已损坏，无法读取，请重新拍摄。")]
    Unreadable,
}

/// An upload turned into what is kept: re-encoded, upright, without metadata.
pub struct Prepared {
    pub bytes: Vec<u8>,
    pub thumbnail: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("bytes", &self.bytes.len())
            .field("thumbnail", &self.thumbnail.len())
            .field("width", &self.width)
            .field("height", &self.height)
            .finish()
    }
}

/// The image formats accepted, told by their first bytes.
fn format_of(upload: &[u8]) -> Option<image::ImageFormat> {
    if upload.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(image::ImageFormat::Jpeg)
    } else if upload.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(image::ImageFormat::Png)
    } else {
        None
    }
}

/// Checks an upload and turns it into a photo to keep (see the module's comment).
pub fn prepare(upload: &[u8]) -> Result<Prepared, PhotoError> {
    if upload.is_empty() {
        return Err(PhotoError::Empty);
    }
    if upload.len() > MAX_PHOTO_BYTES {
        return Err(PhotoError::TooLarge);
    }
    let format = format_of(upload).ok_or(PhotoError::NotAPhoto)?;
    let mut reader = ImageReader::with_format(Cursor::new(upload), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| PhotoError::Unreadable)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(PhotoError::TooManyPixels);
    }
    // A photo whose orientation cannot be read is kept as it was taken.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|_| PhotoError::Unreadable)?;
    image.apply_orientation(orientation);
    let kept = scaled(&image, MAX_SIDE);
    let thumbnail = scaled(&kept, THUMB_SIDE);
    Ok(Prepared {
        bytes: jpeg(&kept)?,
        thumbnail: jpeg(&thumbnail)?,
        width: kept.width(),
        height: kept.height(),
    })
}

/// `image` made no larger than `side` on its longer side (never enlarged).
fn scaled(image: &DynamicImage, side: u32) -> DynamicImage {
    if image.width() <= side && image.height() <= side {
        image.clone()
    } else {
        image.resize(side, side, FilterType::Triangle)
    }
}

/// A JPEG of `image`, with no metadata at all.
fn jpeg(image: &DynamicImage) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, QUALITY)
        .encode_image(&image.to_rgb8())
        .map_err(|_| PhotoError::Unreadable)?;
    Ok(out)
}

/// What a photo belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attach {
    /// A photo item of a visit's checklist.
    VisitItem { visit: i32, item: String },
    /// A finding of a visit.
    Finding { visit: i32, finding: i32 },
    /// A step of a rectification item (a school's progress report).
    Event(i32),
}

/// Stores a prepared photo of `school_id`, in the caller's transaction.
pub async fn insert(
    txn: &impl ConnectionTrait,
    school_id: i32,
    attach: Attach,
    prepared: Prepared,
    created_by: Option<i32>,
) -> Result<photo::Model, DbErr> {
    let (visit_id, item_id, finding_id, event_id) = match attach {
        Attach::VisitItem { visit, item } => (Some(visit), Some(item), None, None),
        Attach::Finding { visit, finding } => (Some(visit), None, Some(finding), None),
        Attach::Event(event) => (None, None, None, Some(event)),
    };
    photo::ActiveModel {
        token: Set(crate::secrets::random_key()),
        school_id: Set(school_id),
        visit_id: Set(visit_id),
        item_id: Set(item_id),
        finding_id: Set(finding_id),
        event_id: Set(event_id),
        content_type: Set("image/jpeg".to_owned()),
        width: Set(i32::try_from(prepared.width).unwrap_or(i32::MAX)),
        height: Set(i32::try_from(prepared.height).unwrap_or(i32::MAX)),
        bytes: Set(prepared.bytes),
        thumbnail: Set(prepared.thumbnail),
        created_by: Set(created_by),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await
}

/// A photo as pages list it: its token and what it belongs to, never its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PhotoRef {
    pub token: String,
    pub school_id: i32,
    pub visit_id: Option<i32>,
    pub item_id: Option<String>,
    pub finding_id: Option<i32>,
    pub event_id: Option<i32>,
    pub width: i32,
    pub height: i32,
}

/// Token, school, visit, item, finding, event, width, height.
type RefColumns = (
    String,
    i32,
    Option<i32>,
    Option<String>,
    Option<i32>,
    Option<i32>,
    i32,
    i32,
);

/// The photo columns without the images.
async fn refs(
    db: &impl ConnectionTrait,
    filter: sea_orm::Condition,
) -> Result<Vec<PhotoRef>, DbErr> {
    let rows: Vec<RefColumns> = photo::Entity::find()
        .select_only()
        .columns([
            photo::Column::Token,
            photo::Column::SchoolId,
            photo::Column::VisitId,
            photo::Column::ItemId,
            photo::Column::FindingId,
            photo::Column::EventId,
            photo::Column::Width,
            photo::Column::Height,
        ])
        .filter(filter)
        .order_by_asc(photo::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(token, school_id, visit_id, item_id, finding_id, event_id, width, height)| PhotoRef {
                token,
                school_id,
                visit_id,
                item_id,
                finding_id,
                event_id,
                width,
                height,
            },
        )
        .collect())
}

/// Every photo of a visit: its items' and its findings', in the order taken.
pub async fn list_for_visit(
    db: &impl ConnectionTrait,
    visit_id: i32,
) -> Result<Vec<PhotoRef>, DbErr> {
    refs(
        db,
        sea_orm::Condition::all().add(photo::Column::VisitId.eq(visit_id)),
    )
    .await
}

/// The photos of these findings.
pub async fn list_for_findings(
    db: &impl ConnectionTrait,
    finding_ids: &[i32],
) -> Result<Vec<PhotoRef>, DbErr> {
    if finding_ids.is_empty() {
        return Ok(Vec::new());
    }
    refs(
        db,
        sea_orm::Condition::all().add(photo::Column::FindingId.is_in(finding_ids.iter().copied())),
    )
    .await
}

/// The photos of these rectification steps.
pub async fn list_for_events(
    db: &impl ConnectionTrait,
    event_ids: &[i32],
) -> Result<Vec<PhotoRef>, DbErr> {
    if event_ids.is_empty() {
        return Ok(Vec::new());
    }
    refs(
        db,
        sea_orm::Condition::all().add(photo::Column::EventId.is_in(event_ids.iter().copied())),
    )
    .await
}

/// One photo's image, by its token: the school it shows (for the caller's access check) and the
/// JPEG bytes, full size or the thumbnail. `None` for a token that names no photo.
pub async fn image(
    db: &impl ConnectionTrait,
    token: &str,
    thumbnail: bool,
) -> Result<Option<(i32, Vec<u8>)>, DbErr> {
    if !crate::secrets::is_random_key(token) {
        return Ok(None);
    }
    let column = if thumbnail {
        photo::Column::Thumbnail
    } else {
        photo::Column::Bytes
    };
    photo::Entity::find()
        .select_only()
        .column(photo::Column::SchoolId)
        .column(column)
        .filter(photo::Column::Token.eq(token))
        .into_tuple::<(i32, Vec<u8>)>()
        .one(db)
        .await
}

/// A photo's thumbnail as a `data:` URI, for documents that must stand alone once frozen (an
/// issued letter, a mailed report). `None` for a token that names no photo.
pub async fn thumbnail_data_uri(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<String>, DbErr> {
    Ok(image(db, token, true).await?.map(|(_, bytes)| {
        format!(
            "data:image/jpeg;base64,{}",
            crate::mail::base64_encode(&bytes)
        )
    }))
}

#[cfg(test)]
mod tests;
