//! A whole round of supervision in a real browser (issue 13), on whichever backend the suite
//! runs on: key-village schools send their self-checks; a supervisor, on a tablet, records a
//! random visit to one of them with the camera's photos (a first try missing a judgement keeps
//! what was typed), turns the visit's finding into a rectification item, the school's viewer
//! reports it done with a photo, the supervisor accepts it, issues the school's 督导意见书 and
//! prints it to PDF on A4 — the two pages its layout promises — and the targets page counts
//! what an independent count of the self-checks gives.
//!
//! Without `chromedriver` installed this test says `SKIPPED` on stderr and returns.

use std::path::{Path, PathBuf};

use dupin::accounts::Role;
use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp, spawn_app};
use crate::targets::key_village_self_checks;
use crate::webdriver::{Screen, WebDriver, available, pdf_pages};

/// A camera-sized JPEG written to `folder/name`, as a tablet's camera would hand the form.
fn camera_photo(folder: &Path, name: &str, shade: u8) -> PathBuf {
    let image = image::RgbImage::from_fn(1200, 900, |x, y| {
        image::Rgb([(x / 5) as u8, (y / 4) as u8, shade])
    });
    let path = folder.join(name);
    image::DynamicImage::ImageRgb8(image)
        .save_with_format(&path, image::ImageFormat::Jpeg)
        .expect("a JPEG photo");
    path
}

/// Signs `email` in through the real sign-in form and waits for the home page, which says
/// `home` (the console's for a supervisor, the school's own for its viewer).
async fn sign_in(driver: &WebDriver, app: &TestApp, email: &str, home: &str) {
    driver.goto(&format!("{}/console/login", app.address)).await;
    driver.send_keys(&driver.find("#email").await, email).await;
    driver
        .send_keys(&driver.find("#password").await, PASSWORD)
        .await;
    driver
        .click(&driver.find("form button[type=submit]").await)
        .await;
    driver.wait_for_text(home).await;
}

/// Chooses `value` in the `<select>` named by `css`, as a finger on the list would.
async fn choose(driver: &WebDriver, css: &str, value: &str) {
    let option = driver
        .find(&format!("{css} option[value=\"{value}\"]"))
        .await;
    driver.click(&option).await;
    let select = driver.find(css).await;
    assert_eq!(
        driver.property(&select, "value").await,
        Value::String(value.to_owned()),
        "{css} is {value}"
    );
}

/// Taps the big 符合 / 不符合 / 不适用 target of a checklist item.
async fn judge(driver: &WebDriver, item: &str, judgement: &str) {
    let label = driver
        .find(&format!(
            "label:has(> input[name=\"item_{item}\"][value=\"{judgement}\"])"
        ))
        .await;
    driver.click(&label).await;
}

/// Whether every image on the page has loaded and has pixels (a broken thumbnail has none).
async fn images_loaded(driver: &WebDriver, css: &str) -> usize {
    let loaded = driver
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0]))\
                 .filter(i => i.complete && i.naturalWidth > 0).length;",
            vec![Value::String(css.to_owned())],
        )
        .await;
    loaded.as_u64().expect("a count") as usize
}

/// The page fits the window: nothing to scroll sideways on a tablet.
async fn fits_the_width(driver: &WebDriver) -> bool {
    let widths = driver
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            Vec::new(),
        )
        .await;
    widths[0].as_i64() <= widths[1].as_i64()
}

#[actix_web::test]
async fn a_supervision_round_in_chromium_from_a_tablet_visit_to_a_printed_letter() {
    const TEST: &str = "supervision-round";
    if !available(TEST) {
        return;
    }
    let app = spawn_app().await;
    let expected = key_village_self_checks(&app).await;
    let round = app
        .count("SELECT CAST(MAX(id) AS BIGINT) FROM campaign")
        .await;
    let (key_codes, _) = crate::targets::fixture_codes();
    let school = dupin::schools::list(&app.db)
        .await
        .expect("schools")
        .into_iter()
        .find(|school| school.code == key_codes[0])
        .expect("the first key-village school");
    let supervisor = "inspector@county.edu.cn";
    app.account(supervisor, Role::Supervisor, None).await;
    let head = "head@school.edu.cn";
    app.account(head, Role::School, Some(school.id)).await;
    let photos = tempfile::tempdir().expect("a camera roll");
    let lunch = camera_photo(photos.path(), "lunch.jpg", 40);
    let kitchen = camera_photo(photos.path(), "kitchen.jpg", 160);
    let fixed = camera_photo(photos.path(), "fixed.jpg", 220);

    // 1. The supervisor, on a tablet in the school yard, records a random visit.
    let tablet = WebDriver::start(TEST, Screen::TABLET).await;
    sign_in(&tablet, &app, supervisor, "督评工作台").await;
    tablet
        .goto(&format!(
            "{}/console/schools/{}/visits/new?kind=random_visit&checklist=random_visit",
            app.address, school.id
        ))
        .await;
    tablet.wait_for_text("随机走访记录表").await;
    assert!(
        fits_the_width(&tablet).await,
        "the visit form fits a tablet"
    );
    let height = tablet
        .execute(
            "return document.querySelector('label:has(> input[name=\"item_toilets\"])')\
                 .getBoundingClientRect().height;",
            Vec::new(),
        )
        .await;
    assert!(
        height.as_f64().expect("a height") >= 44.0,
        "a judgement is a target a thumb can hit: {height}"
    );
    let camera = tablet.find("input[name=\"finding_1_photo\"]").await;
    assert_eq!(
        tablet
            .execute(
                "return arguments[0].getAttribute('capture');",
                vec![WebDriver::argument(&camera)]
            )
            .await,
        Value::String("environment".to_owned()),
        "the upload control opens the back camera"
    );
    tablet
        .send_keys(&tablet.find("#team").await, "王督学、李督学")
        .await;
    choose(&tablet, "#campaign", &round.to_string()).await;
    tablet
        .send_keys(&tablet.find("#number_pupils_present").await, "41")
        .await;
    judge(&tablet, "toilets", "met").await;
    judge(&tablet, "lunch", "not_met").await;
    tablet
        .send_keys(
            &tablet.find("#note_lunch").await,
            "菜量不足，学生反映吃不饱",
        )
        .await;
    // escort_meals is left unjudged: the form must say so and keep the rest.
    judge(&tablet, "online_class", "not_applicable").await;
    tablet
        .send_keys(
            &tablet.find("input[name=\"photo_lunch_photo\"]").await,
            &lunch.display().to_string(),
        )
        .await;
    choose(&tablet, "#finding_1_area", "nutrition").await;
    choose(&tablet, "#finding_1_severity", "major").await;
    tablet
        .send_keys(
            &tablet.find("#finding_1_text").await,
            "食堂未按规定留样，留样柜无温度记录",
        )
        .await;
    tablet
        .send_keys(&camera, &kitchen.display().to_string())
        .await;
    tablet.screenshot("1-visit-form").await;
    tablet
        .click(&tablet.find("form.visit button[type=submit]").await)
        .await;
    tablet.wait_for("div.notice[role=alert]").await;
    let refused = tablet.page_source().await;
    assert!(refused.contains("请选择符合/不符合/不适用"), "{refused}");
    assert!(
        refused.contains("请重新选择照片"),
        "photos must be chosen again"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM visit").await, 0);
    for (css, typed) in [
        ("#team", "王督学、李督学"),
        ("#number_pupils_present", "41"),
        ("#note_lunch", "菜量不足，学生反映吃不饱"),
        ("#finding_1_text", "食堂未按规定留样，留样柜无温度记录"),
    ] {
        assert_eq!(
            tablet.property(&tablet.find(css).await, "value").await,
            Value::String(typed.to_owned()),
            "{css} keeps what was typed"
        );
    }
    let lunch_not_met = tablet
        .find("input[name=\"item_lunch\"][value=\"not_met\"]")
        .await;
    assert_eq!(
        tablet.property(&lunch_not_met, "checked").await,
        Value::Bool(true),
        "the judgements made stay made"
    );
    tablet.screenshot("2-visit-refused").await;
    judge(&tablet, "escort_meals", "met").await;
    tablet
        .send_keys(
            &tablet.find("input[name=\"photo_lunch_photo\"]").await,
            &lunch.display().to_string(),
        )
        .await;
    tablet
        .send_keys(
            &tablet.find("input[name=\"finding_1_photo\"]").await,
            &kitchen.display().to_string(),
        )
        .await;
    tablet
        .click(&tablet.find("form.visit button[type=submit]").await)
        .await;
    tablet.wait_for_text("走访记录已保存").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM visit").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM photo").await, 2);
    assert_eq!(
        images_loaded(&tablet, "img[src*=\"/console/photos/\"]").await,
        2,
        "both photos show as thumbnails"
    );
    assert!(fits_the_width(&tablet).await);
    tablet.screenshot("3-visit-saved").await;

    // 2. The finding becomes a rectification item.
    tablet
        .goto(&format!(
            "{}/console/schools/{}/rectification/new",
            app.address, school.id
        ))
        .await;
    tablet.wait_for_text("新建整改项").await;
    let rows = tablet.find_all("div.row").await;
    let mut picked = false;
    for row in rows {
        if !tablet.text(&row).await.contains("食堂未按规定留样") {
            continue;
        }
        let key = tablet
            .execute(
                "return arguments[0].querySelector('input[name=pick]').value;",
                vec![WebDriver::argument(&row)],
            )
            .await;
        let key = key.as_str().expect("the row's key").to_owned();
        tablet
            .click(
                &tablet
                    .find(&format!("input[name=pick][value=\"{key}\"]"))
                    .await,
            )
            .await;
        tablet
            .send_keys(
                &tablet.find(&format!("#responsible-{key}")).await,
                "张副校长",
            )
            .await;
        picked = true;
        break;
    }
    assert!(picked, "the visit's finding is suggested as an item");
    tablet.screenshot("4-item-suggested").await;
    tablet
        .click(&tablet.find("button.big[type=submit]").await)
        .await;
    tablet
        .wait_for("a[href^=\"/console/rectification/\"]")
        .await;
    let item = app
        .count("SELECT CAST(MAX(id) AS BIGINT) FROM rectification WHERE source = 'finding'")
        .await;
    assert!(item > 0, "the item is stored");

    // 3. The school's head reports it done, with a photo, on a phone.
    let phone = WebDriver::start(&format!("{TEST}-school"), Screen::SMALL_PHONE).await;
    sign_in(&phone, &app, head, "本校调查").await;
    phone
        .goto(&format!("{}/console/my-school/rectification", app.address))
        .await;
    phone.wait_for_text("食堂未按规定留样").await;
    phone
        .click(
            &phone
                .find(&format!("a[href=\"/console/rectification/{item}\"]"))
                .await,
        )
        .await;
    phone.wait_for("#text").await;
    phone
        .send_keys(
            &phone.find("#text").await,
            "已购置带温度计的留样柜，每餐留样 48 小时并登记",
        )
        .await;
    phone
        .send_keys(&phone.find("#photos").await, &fixed.display().to_string())
        .await;
    phone.screenshot("5-school-reports").await;
    phone
        .click(
            &phone
                .find("form[action$=\"/report\"] button[type=submit]")
                .await,
        )
        .await;
    phone
        .wait_for_text("已报告整改情况，等待督导人员验收")
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM photo").await, 3);
    phone.quit().await;

    // 4. The supervisor accepts it.
    tablet
        .goto(&format!("{}/console/rectification/{item}", app.address))
        .await;
    tablet.wait_for_text("已购置带温度计的留样柜").await;
    tablet
        .send_keys(&tablet.find("#note").await, "现场查看留样记录齐全")
        .await;
    tablet
        .click(
            &tablet
                .find("form[action$=\"/accept\"] button[type=submit]")
                .await,
        )
        .await;
    tablet.wait_for_text("已验收通过").await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM rectification WHERE id = {item} AND status = 'accepted'"
        ))
        .await,
        1
    );
    tablet.screenshot("6-accepted").await;

    // 5. The letter is issued and printed: two A4 pages, as its layout promises.
    tablet
        .goto(&format!(
            "{}/console/campaigns/{round}/letters/{}",
            app.address, school.code
        ))
        .await;
    tablet.wait_for_text("草稿预览").await;
    tablet
        .click(&tablet.find(".draftmark button[type=submit]").await)
        .await;
    tablet.wait_for_text("督导意见书已出具").await;
    let year = chrono::Utc::now()
        .with_timezone(&dupin::campaigns::china_offset())
        .format("%Y")
        .to_string();
    let letter = tablet.text(&tablet.find("article.letter").await).await;
    for shown in [
        format!("〔{year}〕第 1 号"),
        "食堂未按规定留样，留样柜无温度记录".to_owned(),
        "张副校长".to_owned(),
        school.name.clone(),
    ] {
        assert!(
            letter.contains(&shown),
            "the letter shows {shown}:\n{letter}"
        );
    }
    assert_eq!(
        images_loaded(&tablet, "article.letter img").await,
        1,
        "the finding's thumbnail is in the letter"
    );
    tablet.screenshot("7-letter").await;
    let pdf = tablet.print_pdf("8-letter").await;
    assert!(pdf.starts_with(b"%PDF"), "Chromium printed a PDF");
    assert_eq!(
        pdf_pages(&pdf),
        2,
        "one school's letter is two A4 pages: the rating and indicators, then findings and items"
    );

    // 6. The targets page counts what the self-checks sent give.
    tablet
        .goto(&format!("{}/console/targets", app.address))
        .await;
    tablet.wait_for("#target-key_village_model_canteens").await;
    for (id, (achieved, target)) in [
        ("key_village_model_canteens", expected.canteens),
        ("key_village_small_kitchens", expected.kitchens),
    ] {
        let row = tablet
            .text(&tablet.find(&format!("#target-{id}")).await)
            .await;
        assert!(
            row.contains(&format!("{achieved} 所 / {target} 所")),
            "{id}: {row}"
        );
    }
    tablet.screenshot("9-targets").await;
    tablet.quit().await;

    // The school sees its own letter in the console.
    let mut viewer = app.browser();
    viewer.sign_in(head, PASSWORD).await;
    let mine = viewer.get("/console/my-school/letters").await;
    assert!(
        mine.body.contains(&format!("〔{year}〕第 1 号")),
        "{}",
        mine.body
    );
}
