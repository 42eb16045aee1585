use super::*;

/// A `width`×`height` JPEG, a gradient so that it has content.
fn jpeg_of(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&image)
        .expect("a JPEG");
    out
}

/// An EXIF block as a phone writes it: orientation 6 (turn 90° clockwise to view), a camera
/// description, and a GPS directory with the latitude's reference.
pub(crate) fn exif_with_gps() -> Vec<u8> {
    let mut tiff: Vec<u8> = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    // IFD0: three entries.
    tiff.extend_from_slice(&3u16.to_be_bytes());
    // Orientation, SHORT, 1, value 6.
    tiff.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0x00, 0x06, 0, 0]);
    // ImageDescription, ASCII, 4, "GPS\0" inline.
    tiff.extend_from_slice(&[0x01, 0x0E, 0x00, 0x02, 0, 0, 0, 4, b'G', b'P', b'S', 0]);
    // GPSInfo pointer, LONG, 1, at offset 50.
    tiff.extend_from_slice(&[0x88, 0x25, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 50]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(tiff.len(), 50);
    // GPS IFD: GPSLatitudeRef "N".
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&[0x00, 0x01, 0x00, 0x02, 0, 0, 0, 2, b'N', 0, 0, 0]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    let mut payload = b"Exif\x00\x00".to_vec();
    payload.extend_from_slice(&tiff);
    payload
}

/// `jpeg` with an APP1 EXIF segment right after its start marker.
pub(crate) fn with_exif(jpeg: &[u8], exif: &[u8]) -> Vec<u8> {
    let length = u16::try_from(exif.len() + 2).expect("a short segment");
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(exif);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[test]
fn a_phone_photo_loses_its_exif_and_is_turned_upright() {
    let upload = with_exif(&jpeg_of(400, 300), &exif_with_gps());
    assert!(contains(&upload, b"Exif"));
    let prepared = prepare(&upload).expect("a photo");
    assert!(!contains(&prepared.bytes, b"Exif"), "EXIF kept");
    assert!(
        !contains(&prepared.thumbnail, b"Exif"),
        "EXIF kept in the thumbnail"
    );
    // Orientation 6: the 400×300 sensor image is shown 300 wide and 400 high.
    assert_eq!((prepared.width, prepared.height), (300, 400));
    let thumbnail = image::load_from_memory(&prepared.thumbnail).expect("a thumbnail");
    assert_eq!((thumbnail.width(), thumbnail.height()), (240, 320));
    assert!(prepared.bytes.starts_with(&[0xFF, 0xD8, 0xFF]));
}

#[test]
fn a_large_photo_is_scaled_down_and_a_png_becomes_a_jpeg() {
    let big = prepare(&jpeg_of(3200, 2400)).expect("a photo");
    assert_eq!((big.width, big.height), (1600, 1200));

    let mut png = Vec::new();
    DynamicImage::ImageRgb8(image::RgbImage::new(20, 10))
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("a PNG");
    let small = prepare(&png).expect("a PNG is a photo");
    assert_eq!((small.width, small.height), (20, 10));
    assert!(small.bytes.starts_with(&[0xFF, 0xD8, 0xFF]));
}

#[test]
fn what_is_not_a_photo_is_refused_by_its_content() {
    assert_eq!(prepare(b"").err(), Some(PhotoError::Empty));
    assert_eq!(
        prepare(b"name,school\n=1+1,x\n").err(),
        Some(PhotoError::NotAPhoto)
    );
    // A GIF named .jpg is still a GIF.
    assert_eq!(prepare(b"GIF89a....").err(), Some(PhotoError::NotAPhoto));
    // The start of a JPEG, cut off.
    let jpeg = jpeg_of(64, 64);
    assert_eq!(prepare(&jpeg[..40]).err(), Some(PhotoError::Unreadable));
    assert_eq!(
        prepare(&vec![0xFF; MAX_PHOTO_BYTES + 1]).err(),
        Some(PhotoError::TooLarge)
    );
    assert!(PhotoError::TooLarge.to_string().contains("10 MB"));
}
