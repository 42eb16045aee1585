//! Photos are served by their token to supervisors and to the school viewer of the photo's
//! school only: another school's viewer holding a copied address gets 404, like a made-up token,
//! and an anonymous visitor is sent to sign in.

use awc::http::StatusCode;
use dupin::accounts::Role;

use crate::helpers::{PASSWORD, TestApp, spawn_app};

/// Stores a small photo of `school_id` on a visit, as a supervisor's visit would.
pub(crate) async fn a_photo_of(app: &TestApp, school_id: i32) -> String {
    use sea_orm::ConnectionTrait;
    let supervisor = app
        .account("visitor@county.edu.cn", Role::Supervisor, None)
        .await;
    app.db
        .execute_unprepared(&format!(
            "INSERT INTO visit (school_id, kind, visited_on, team, created_by, created_at) \
             VALUES ({school_id}, 'random_visit', '2026-12-01', '王督学', {}, '2026-12-01 08:00:00+00:00')",
            supervisor.id
        ))
        .await
        .expect("a visit");
    let visit = app.count("SELECT CAST(MAX(id) AS BIGINT) FROM visit").await;
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::new(8, 8))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("a PNG");
    let prepared = dupin::photos::prepare(&png).expect("a photo");
    let attach = dupin::photos::Attach::VisitItem {
        visit: i32::try_from(visit).expect("an id"),
        item: "lunch_photo".to_owned(),
    };
    dupin::photos::insert(&app.db, school_id, attach, prepared, Some(supervisor.id))
        .await
        .expect("a stored photo")
        .token
}

#[actix_web::test]
async fn a_photo_is_shown_to_its_school_and_to_supervisors_and_to_nobody_else() {
    let app = spawn_app().await;
    app.import_sample_schools().await;
    let schools = dupin::schools::list(&app.db).await.expect("schools");
    let token = a_photo_of(&app, schools[0].id).await;
    let full = format!("/console/photos/{token}");
    let thumb = format!("/console/photos/{token}/thumb");

    let supervisor = app.signed_in(Role::Supervisor).await;
    let photo = supervisor.download(&full).await;
    assert_eq!(photo.status, StatusCode::OK);
    assert_eq!(photo.header("content-type"), "image/jpeg");
    assert_eq!(photo.header("x-content-type-options"), "nosniff");
    let image = image::load_from_memory(&photo.body).expect("a JPEG");
    assert_eq!((image.width(), image.height()), (8, 8));

    let own = app.signed_in(Role::School).await;
    assert_eq!(own.download(&thumb).await.status, StatusCode::OK);

    app.account("other@school.cn", Role::School, Some(schools[1].id))
        .await;
    let mut other = app.browser();
    assert_eq!(
        other.sign_in("other@school.cn", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(other.download(&full).await.status, StatusCode::NOT_FOUND);
    assert_eq!(other.download(&thumb).await.status, StatusCode::NOT_FOUND);
    let made_up = "/console/photos/0123456789abcdef0123456789abcdef";
    assert_eq!(
        supervisor.download(made_up).await.status,
        StatusCode::NOT_FOUND
    );

    let anonymous = app.browser().get(&full).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
}
