//! The CSV upload forms of the console (schools, teacher rosters): one multipart reader that
//! takes the `_csrf` field and one `file` up to [`MAX_UPLOAD_BYTES`], reads a refused file to its
//! end (up to a bound) so the browser sees the answer, and keeps only the file's base name.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use futures_util::StreamExt;

use super::ConsoleError;

/// The largest file accepted: a county's school list or teacher roster is well under a megabyte.
pub(super) const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;
/// Past this much of a refused file, reading stops and the connection may simply be dropped.
const MAX_DISCARDED_BYTES: usize = 8 * MAX_UPLOAD_BYTES;
/// The upload form has two fields; a few more are tolerated and ignored.
const MAX_UPLOAD_FIELDS: usize = 8;
const MAX_SMALL_FIELD_BYTES: usize = 4096;

pub(super) enum UploadedFile {
    Missing,
    TooLarge,
    Read(Vec<u8>),
}

pub(super) struct Upload {
    pub csrf: String,
    pub file_name: Option<String>,
    pub file: UploadedFile,
}

/// Reads the upload form: its `_csrf` field and its `file`, the latter up to
/// [`MAX_UPLOAD_BYTES`]. Other fields are read and ignored.
pub(super) async fn read_upload(mut payload: Multipart) -> Result<Upload, ConsoleError> {
    let unreadable = || {
        ConsoleError::bad_request("上传的内容无法读取，没有导入。请重新选择文件后再试。".to_owned())
    };
    let mut upload = Upload {
        csrf: String::new(),
        file_name: None,
        file: UploadedFile::Missing,
    };
    let mut fields = 0;
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| unreadable())?;
        fields += 1;
        if fields > MAX_UPLOAD_FIELDS {
            return Err(unreadable());
        }
        match field.name() {
            Some("_csrf") => {
                let bytes = read_field(&mut field, MAX_SMALL_FIELD_BYTES)
                    .await
                    .map_err(|_| unreadable())?;
                let token = bytes.ok_or(ConsoleError::bad_csrf())?;
                upload.csrf = String::from_utf8(token).map_err(|_| ConsoleError::bad_csrf())?;
            }
            Some("file") => {
                let file_name = field
                    .content_disposition()
                    .and_then(|disposition| disposition.get_filename())
                    .map(base_name)
                    .filter(|name| !name.is_empty());
                let bytes = read_field(&mut field, MAX_UPLOAD_BYTES)
                    .await
                    .map_err(|_| unreadable())?;
                upload.file = match bytes {
                    None => UploadedFile::TooLarge,
                    // A form sent without choosing a file has an empty part with no name.
                    Some(bytes) if bytes.is_empty() && file_name.is_none() => UploadedFile::Missing,
                    Some(bytes) => UploadedFile::Read(bytes),
                };
                upload.file_name = file_name;
            }
            _ => {
                read_field(&mut field, MAX_SMALL_FIELD_BYTES)
                    .await
                    .map_err(|_| unreadable())?;
            }
        }
    }
    Ok(upload)
}

/// A field's bytes, or `None` when there are more than `limit`. A field over the limit is still
/// read to its end (up to [`MAX_DISCARDED_BYTES`]), so that the browser gets to read the answer
/// that says so instead of a dropped connection.
async fn read_field(
    field: &mut actix_multipart::Field,
    limit: usize,
) -> Result<Option<Vec<u8>>, actix_multipart::MultipartError> {
    let mut bytes = Vec::new();
    let mut discarded = 0;
    while let Some(chunk) = field.next().await {
        let chunk = chunk?;
        if discarded > 0 || bytes.len() + chunk.len() > limit {
            discarded += chunk.len();
            bytes = Vec::new();
            if discarded > MAX_DISCARDED_BYTES {
                break;
            }
        } else {
            bytes.extend_from_slice(&chunk);
        }
    }
    Ok((discarded == 0).then_some(bytes))
}

/// `C:\Users\李\学校.csv` → `学校.csv`: some browsers send the whole path. At most 100 characters
/// are kept, enough for any real name and short enough for the audit log.
fn base_name(name: &str) -> String {
    name.rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim()
        .chars()
        .take(100)
        .collect()
}

impl Upload {
    /// The file's bytes, or the status and message of why there are none.
    pub(super) fn bytes(&self) -> Result<&[u8], (StatusCode, String)> {
        match &self.file {
            UploadedFile::Missing => Err((
                StatusCode::UNPROCESSABLE_ENTITY,
                "请先选择要上传的 CSV 文件".to_owned(),
            )),
            UploadedFile::TooLarge => Err((
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "文件超过 {} MB，没有导入。请确认选择的是导出的 CSV 文件，而不是 Excel 工作簿",
                    MAX_UPLOAD_BYTES / (1024 * 1024)
                ),
            )),
            UploadedFile::Read(bytes) => Ok(bytes),
        }
    }

    pub(super) fn name(&self) -> String {
        self.file_name
            .clone()
            .unwrap_or_else(|| "（未命名文件）".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::base_name;

    #[test]
    fn uploaded_file_names_lose_their_folders() {
        assert_eq!(base_name("C:\\Users\\李\\学校.csv"), "学校.csv");
        assert_eq!(base_name("/home/li/county.csv"), "county.csv");
        assert_eq!(base_name("county.csv"), "county.csv");
        assert_eq!(base_name(&"长".repeat(300)).chars().count(), 100);
    }
}

/// Text fields of a form with photos: a checklist of a few dozen items, each with a judgement
/// and a note, and a few findings.
const MAX_FORM_FIELDS: usize = 600;
/// The longest text field of a form with photos (a finding, a note, a progress report).
const MAX_TEXT_FIELD_BYTES: usize = 16 * 1024;

/// A multipart form of text fields and photos (a visit, a progress report), read whole.
#[derive(Debug, Default)]
pub struct MultipartForm {
    /// The `_csrf` field, still to be checked by the caller.
    pub csrf: String,
    /// The text fields in the order sent, `_csrf` left out.
    pub fields: Vec<(String, String)>,
    /// The chosen files by field name, in the order sent; inputs left empty are not here.
    pub files: Vec<(String, Vec<u8>)>,
    /// The names of the file fields whose file was over [`crate::photos::MAX_PHOTO_BYTES`]:
    /// not read, so that the form can say which photo to take again.
    pub too_large: Vec<String>,
}

impl MultipartForm {
    /// The first value of the text field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Reads a form of text fields and at most `max_files` files of at most
/// [`crate::photos::MAX_PHOTO_BYTES`] each. A form with more files, more than
/// [`MAX_FORM_FIELDS`] fields, a text field over [`MAX_TEXT_FIELD_BYTES`] or text that is not
/// UTF-8 is refused as a whole with a message; an oversized file is only named in `too_large`.
pub async fn read_form(
    mut payload: Multipart,
    max_files: usize,
) -> Result<MultipartForm, ConsoleError> {
    let unreadable = || {
        ConsoleError::bad_request(
            "表单内容无法读取，没有保存。请返回上一页重新填写后再提交。".to_owned(),
        )
    };
    let mut form = MultipartForm::default();
    let mut parts = 0;
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| unreadable())?;
        parts += 1;
        if parts > MAX_FORM_FIELDS + max_files {
            return Err(unreadable());
        }
        let name = field.name().unwrap_or_default().to_owned();
        let is_file = field
            .content_disposition()
            .is_some_and(|disposition| disposition.get_filename().is_some());
        if is_file {
            let bytes = read_field(&mut field, crate::photos::MAX_PHOTO_BYTES)
                .await
                .map_err(|_| unreadable())?;
            match bytes {
                // An input left empty sends an empty part.
                Some(bytes) if bytes.is_empty() => {}
                Some(bytes) => {
                    if form.files.len() >= max_files {
                        return Err(ConsoleError::bad_request(format!(
                            "一次最多上传 {max_files} 张照片，没有保存。请减少照片后再提交。"
                        )));
                    }
                    form.files.push((name, bytes));
                }
                None => form.too_large.push(name),
            }
            continue;
        }
        let bytes = read_field(&mut field, MAX_TEXT_FIELD_BYTES)
            .await
            .map_err(|_| unreadable())?
            .ok_or_else(|| {
                ConsoleError::bad_request(format!(
                    "有一栏文字超过 {} KB，没有保存。请缩短后再提交。",
                    MAX_TEXT_FIELD_BYTES / 1024
                ))
            })?;
        let text = String::from_utf8(bytes).map_err(|_| unreadable())?;
        if name == "_csrf" {
            form.csrf = text;
        } else {
            form.fields.push((name, text));
        }
    }
    Ok(form)
}
