//! A school's link as a QR code for posters and group chats: it carries the public address (not
//! the one the server is bound to), decodes, and keeps its white quiet zone.

use awc::http::StatusCode;
use image::GrayImage;

use crate::helpers::{Options, TestApp, spawn_app_with};

const PUBLIC_ADDRESS: &str = "https://dupin.example.cn";

/// A server behind a proxy: bound to 127.0.0.1 on a random port, reached at `PUBLIC_ADDRESS`.
async fn app_behind_a_public_address() -> (TestApp, String) {
    let app = spawn_app_with(Options {
        base_url: Some(PUBLIC_ADDRESS.to_owned()),
        ..Options::default()
    })
    .await;
    assert_eq!(app.base_url, PUBLIC_ADDRESS);
    let campaign = app.create_campaign("parents", None, None).await;
    let token = app.first_token(campaign).await;
    (app, token)
}

async fn png_of(app: &TestApp, path: &str) -> GrayImage {
    let (status, content_type, bytes) = app.phone().get_bytes(path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "image/png");
    image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
        .expect("a PNG")
        .to_luma8()
}

/// What a phone's camera would read: the text and the QR version (which gives its size).
fn scan(image: &GrayImage) -> (String, usize) {
    let mut prepared = rqrr::PreparedImage::prepare(image.clone());
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    let (meta, content) = grids[0].decode().expect("the QR code decodes");
    (content, meta.version.0)
}

#[actix_web::test]
async fn the_svg_qr_code_of_a_link_is_an_svg_image() {
    let (app, token) = app_behind_a_public_address().await;

    let (status, content_type, bytes) = app.phone().get_bytes(&format!("/s/{token}/qr.svg")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "image/svg+xml");
    let svg = String::from_utf8(bytes).expect("UTF-8");
    assert!(svg.contains("<svg"), "{svg}");
}

#[actix_web::test]
async fn the_png_qr_code_of_a_link_reads_as_its_public_address() {
    let (app, token) = app_behind_a_public_address().await;

    let image = png_of(&app, &format!("/s/{token}/qr.png")).await;

    let (content, _) = scan(&image);
    assert_eq!(content, format!("{PUBLIC_ADDRESS}/s/{token}"));
}

#[actix_web::test]
async fn a_token_typed_in_lower_case_gives_the_qr_code_of_the_link_as_issued() {
    let (app, token) = app_behind_a_public_address().await;

    let image = png_of(&app, &format!("/s/{}/qr.png", token.to_lowercase())).await;

    assert_eq!(scan(&image).0, format!("{PUBLIC_ADDRESS}/s/{token}"));
}

#[actix_web::test]
async fn the_png_qr_code_keeps_a_white_quiet_zone_of_four_modules() {
    let (app, token) = app_behind_a_public_address().await;

    let image = png_of(&app, &format!("/s/{token}/qr.png")).await;

    let (_, version) = scan(&image);
    let (width, height) = image.dimensions();
    assert_eq!(width, height, "square");
    let modules_across = 17 + 4 * version as u32 + 2 * 4;
    assert_eq!(width % modules_across, 0, "whole pixels per module");
    let quiet_zone = 4 * (width / modules_across);
    for (x, y, pixel) in image.enumerate_pixels() {
        let in_quiet_zone =
            x < quiet_zone || y < quiet_zone || x >= width - quiet_zone || y >= height - quiet_zone;
        if in_quiet_zone {
            assert_eq!(
                pixel.0[0], 255,
                "pixel ({x}, {y}) of the quiet zone is not white"
            );
        }
    }
}

#[actix_web::test]
async fn a_poster_can_ask_for_a_larger_qr_code() {
    let (app, token) = app_behind_a_public_address().await;

    let image = png_of(&app, &format!("/s/{token}/qr.png?size=1000")).await;

    assert!(image.width() >= 1000, "{} px wide", image.width());
    assert_eq!(image.width(), image.height());
    assert_eq!(scan(&image).0, format!("{PUBLIC_ADDRESS}/s/{token}"));
}

#[actix_web::test]
async fn the_qr_code_of_an_unknown_link_is_not_found() {
    let (app, _) = app_behind_a_public_address().await;
    let mut phone = app.phone();

    for token in ["0123456789ABCDEFGHJK", "nope"] {
        for image in ["qr.svg", "qr.png"] {
            let (status, _, _) = phone.get_bytes(&format!("/s/{token}/{image}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "/s/{token}/{image}");
        }
    }
}
