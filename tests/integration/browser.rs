//! The real thing in a real browser: headless Chromium driven over WebDriver, signing in to the
//! console at a desktop size and answering a parents' form on a small phone with WeChat's user
//! agent. Screenshots of each step go to `target/screenshots/` for a person to look at.
//!
//! Without `chromedriver` installed these tests say `SKIPPED` on stderr and return.

use dupin::accounts::Role;
use dupin::survey::{Question, QuestionKind, Survey};
use serde_json::Value;

use crate::helpers::{PASSWORD, catalog_survey, spawn_app};
use crate::webdriver::{Screen, WebDriver, available};

/// The CSS selector of the label a person taps to choose `code` for the input named `name`.
fn label_for(name: &str, code: &str) -> String {
    format!("label:has(> input[name=\"{name}\"][value=\"{code}\"])")
}

/// Answers each of `questions` that the page shows, in order, by tapping labels and typing as a
/// person would: the first option of a choice (as many as a multiple choice needs), the second
/// point of a scale, 8 of 10, the smallest allowed number, a short sentence. A question hidden
/// by its `show_if` is left alone, so answers that reveal follow-ups get them answered too.
/// Returns the ids of the questions answered.
pub async fn answer_visible_questions(driver: &WebDriver, questions: &[&Question]) -> Vec<String> {
    let mut answered = Vec::new();
    for question in questions {
        let id = &question.id;
        let fieldset = driver.find(&format!("#q-{id}")).await;
        if !driver.is_displayed(&fieldset).await {
            continue;
        }
        let mut taps: Vec<(String, String)> = Vec::new();
        let mut typing: Option<(String, String)> = None;
        match &question.kind {
            QuestionKind::Single { options } => taps.push((id.clone(), options[0].code.clone())),
            QuestionKind::Multiple { options, min, .. } => {
                for option in options.iter().take((*min).max(1) as usize) {
                    taps.push((id.clone(), option.code.clone()));
                }
            }
            QuestionKind::Scale { scale } => {
                let point = scale.points.get(1).unwrap_or(&scale.points[0]);
                taps.push((id.clone(), point.code.clone()));
            }
            QuestionKind::Matrix { scale, rows } => {
                for row in rows {
                    taps.push((format!("{id}.{}", row.id), scale.points[0].code.clone()));
                }
            }
            QuestionKind::YesNo { .. } => taps.push((id.clone(), "yes".to_owned())),
            QuestionKind::Rating { .. } => taps.push((id.clone(), "8".to_owned())),
            QuestionKind::Number { min, .. } => {
                let number = min.unwrap_or(0.0).max(0.0) as i64;
                typing = Some((format!("input[name=\"{id}\"]"), number.to_string()));
            }
            QuestionKind::Text { .. } => {
                typing = Some((format!("input[name=\"{id}\"]"), "老师们辛苦了".to_owned()));
            }
            QuestionKind::LongText { .. } => {
                typing = Some((
                    format!("textarea[name=\"{id}\"]"),
                    "老师们辛苦了".to_owned(),
                ));
            }
        }
        for (name, code) in taps {
            let label = driver.find(&label_for(&name, &code)).await;
            driver.click(&label).await;
            let input = driver
                .find(&format!("input[name=\"{name}\"][value=\"{code}\"]"))
                .await;
            assert_eq!(
                driver.property(&input, "checked").await,
                Value::Bool(true),
                "tapping the label of {name}={code} chose it"
            );
        }
        if let Some((css, text)) = typing {
            let input = driver.find(&css).await;
            driver.click(&input).await;
            driver.send_keys(&input, &text).await;
        }
        answered.push(id.clone());
    }
    answered
}

/// How wide the page is against how wide the window is, in CSS pixels.
async fn page_and_window_width(driver: &WebDriver) -> (i64, i64) {
    let widths = driver
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            Vec::new(),
        )
        .await;
    (
        widths[0].as_i64().expect("a scroll width"),
        widths[1].as_i64().expect("a window width"),
    )
}

#[actix_web::test]
async fn an_admin_signs_in_through_the_real_form_in_chromium_and_lands_on_the_console() {
    const TEST: &str = "console-sign-in";
    if !available(TEST) {
        return;
    }
    let app = spawn_app().await;
    app.account("chief@county.edu.cn", Role::Admin, None).await;
    let driver = WebDriver::start(TEST, Screen::LAPTOP).await;

    driver.goto(&format!("{}/console", app.address)).await;
    driver.wait_for("form[action=\"/console/login\"]").await;
    assert!(
        driver
            .current_url()
            .await
            .ends_with("/console/login?next=/console"),
        "an anonymous visitor is sent to sign in"
    );
    let email = driver.find("#email").await;
    driver.send_keys(&email, "typo@county.edu.cn").await;
    driver.clear(&email).await;
    driver.send_keys(&email, "chief@county.edu.cn").await;
    let password = driver.find("#password").await;
    driver.send_keys(&password, PASSWORD).await;
    driver.screenshot("1-login").await;
    driver
        .click(&driver.find("form button[type=submit]").await)
        .await;

    driver.wait_for_text("督评工作台").await;
    assert_eq!(
        driver.current_url().await,
        format!("{}/console", app.address)
    );
    let nav = driver.text(&driver.find("nav.top").await).await;
    for item in ["账号", "审计日志", "退出"] {
        assert!(nav.contains(item), "{item} in {nav}");
    }
    assert!(driver.title().await.contains("督评"));
    driver.screenshot("2-home").await;
    let (page_width, window_width) = page_and_window_width(&driver).await;
    assert!(page_width <= window_width, "{page_width} > {window_width}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action = 'sign_in'")
            .await,
        1
    );

    // The accounts page in a real browser: add a supervisor with a generated password.
    driver
        .click(&driver.find("nav.top a[href=\"/console/accounts\"]").await)
        .await;
    driver
        .wait_for("form[action^=\"/console/accounts\"] #email")
        .await;
    assert_eq!(driver.find_all("table.accounts tbody tr").await.len(), 1);
    driver
        .send_keys(&driver.find("#email").await, "li@county.edu.cn")
        .await;
    driver
        .send_keys(&driver.find("#name").await, "李督导")
        .await;
    driver
        .click(&driver.find("input[name=\"generate\"]").await)
        .await;
    driver.screenshot("3-accounts").await;
    driver
        .click(
            &driver
                .find("form[action^=\"/console/accounts\"] button[type=submit]")
                .await,
        )
        .await;
    let shown = driver.wait_for("code.password").await;
    let generated = driver.text(&shown).await;
    assert_eq!(generated.len(), 19, "{generated}");
    driver.screenshot("4-account-created").await;
    assert_eq!(
        app.browser()
            .sign_in("li@county.edu.cn", &generated)
            .await
            .status,
        awc::http::StatusCode::SEE_OTHER
    );

    driver.goto(&format!("{}/console/audit", app.address)).await;
    driver.wait_for("table.audit").await;
    let log = driver.text(&driver.find("table.audit").await).await;
    assert!(log.contains("新建账号"), "{log}");
    driver.screenshot("5-audit").await;
    driver.quit().await;
}

#[actix_web::test]
async fn a_parent_answers_the_form_on_a_small_phone_in_wechat_without_scrolling_sideways() {
    const TEST: &str = "parents-form-phone";
    if !available(TEST) {
        return;
    }
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let token = app.first_token(campaign).await;
    let survey: Survey = catalog_survey("parents");
    let driver = WebDriver::start(TEST, Screen::SMALL_PHONE).await;

    driver.goto(&format!("{}/s/{token}", app.address)).await;
    driver.wait_for("form button[type=submit]").await;
    let user_agent = driver
        .execute("return navigator.userAgent;", Vec::new())
        .await;
    assert!(
        user_agent
            .as_str()
            .is_some_and(|ua| ua.contains("MicroMessenger")),
        "{user_agent}"
    );
    let (page_width, window_width) = page_and_window_width(&driver).await;
    assert_eq!(window_width, 360);
    assert!(
        page_width <= 360,
        "the form is {page_width} px wide on a 360 px phone"
    );
    driver.screenshot("1-form-top").await;
    assert_eq!(
        driver.find_all("fieldset.q").await.len(),
        survey.questions().count(),
        "one fieldset per question"
    );

    let questions: Vec<&Question> = survey.questions().collect();
    let (first_half, second_half) = questions.split_at(questions.len() / 2);
    let mut answered = answer_visible_questions(&driver, first_half).await;
    let middle = driver
        .find(&format!("#q-{}", first_half[first_half.len() - 1].id))
        .await;
    driver
        .execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![WebDriver::argument(&middle)],
        )
        .await;
    driver.screenshot("2-form-middle").await;
    answered.extend(answer_visible_questions(&driver, second_half).await);
    // The first choices reveal the follow-ups, which were answered too.
    for follow_up in [
        "tuition_free",
        "funding_received",
        "boarding_conditions",
        "family_call",
    ] {
        assert!(answered.iter().any(|id| id == follow_up), "{follow_up}");
    }
    let (page_width, _) = page_and_window_width(&driver).await;
    assert!(
        page_width <= 360,
        "the answered form is {page_width} px wide"
    );

    driver
        .click(&driver.find("form button[type=submit]").await)
        .await;
    driver.wait_for_text("提交成功").await;
    driver.screenshot("3-thanks").await;
    let (page_width, _) = page_and_window_width(&driver).await;
    assert!(
        page_width <= 360,
        "the thank-you page is {page_width} px wide"
    );
    assert_eq!(app.responses().await, 1);

    // Opening the link again on the same phone says it was answered.
    driver.goto(&format!("{}/s/{token}", app.address)).await;
    assert!(
        driver.try_find("form button[type=submit]").await.is_none(),
        "no second form for the same phone"
    );
    driver.quit().await;
}

/// The whole story in a real browser: a supervisor signs in, uploads the county's
/// schools, starts a campaign and opens its posters; a parent scans one (opens its address on a
/// phone), answers and is thanked; the campaign page then counts the answer.
#[actix_web::test]
async fn a_supervisor_starts_a_campaign_from_the_console_and_a_parent_answers_its_poster() {
    const TEST: &str = "end-to-end";
    if !available(TEST) {
        return;
    }
    let app = spawn_app().await;
    app.account("li@county.edu.cn", Role::Supervisor, None)
        .await;
    let desk = WebDriver::start(TEST, Screen::LAPTOP).await;

    desk.goto(&format!("{}/console", app.address)).await;
    desk.send_keys(&desk.wait_for("#email").await, "li@county.edu.cn")
        .await;
    desk.send_keys(&desk.find("#password").await, PASSWORD)
        .await;
    desk.click(&desk.find("form button[type=submit]").await)
        .await;
    desk.wait_for_text("督评工作台").await;

    // Upload the county's school list from a file, as exported from Excel.
    desk.goto(&format!("{}/console/schools/import", app.address))
        .await;
    let file = crate::helpers::repo_path("tests/fixtures/schools/county.csv");
    desk.send_keys(&desk.wait_for("#file").await, &file.display().to_string())
        .await;
    desk.screenshot("1-upload").await;
    desk.click(&desk.find("main form button[type=submit]").await)
        .await;
    desk.wait_for_text("新增 30 所").await;
    desk.screenshot("2-imported").await;

    // Start a parents' campaign for every school.
    desk.goto(&format!("{}/console/campaigns/new", app.address))
        .await;
    desk.click(
        &desk
            .wait_for("input[name=\"survey\"][value=\"parents\"]")
            .await,
    )
    .await;
    desk.send_keys(&desk.find("#name").await, "2026 秋季家长满意度测评")
        .await;
    desk.click(&desk.find("input[name=\"schools\"][value=\"all\"]").await)
        .await;
    desk.screenshot("3-new-campaign").await;
    desk.click(&desk.find("main form button[type=submit]").await)
        .await;
    desk.wait_for_text("2026 秋季家长满意度测评").await;
    let campaign_page = desk.current_url().await;
    assert!(
        campaign_page.contains("/console/campaigns/"),
        "{campaign_page}"
    );
    desk.screenshot("4-campaign").await;

    // Every school's poster, ready to print, each with its QR code and written address.
    desk.goto(&format!("{campaign_page}/posters")).await;
    desk.wait_for("p.url").await;
    let addresses = desk.find_all("p.url").await;
    assert_eq!(addresses.len(), 30, "one poster per school");
    assert_eq!(
        desk.find_all("svg").await.len(),
        30,
        "one QR code per poster"
    );
    let address = desk.text(&addresses[0]).await;
    assert!(
        address.starts_with(&format!("{}/s/", app.base_url)),
        "{address}"
    );
    desk.screenshot("5-posters").await;

    // A parent opens that address on a phone and answers.
    let phone = WebDriver::start(&format!("{TEST}-phone"), Screen::SMALL_PHONE).await;
    phone.goto(&address).await;
    phone.wait_for("form button[type=submit]").await;
    phone.screenshot("1-form").await;
    let survey: Survey = catalog_survey("parents");
    let questions: Vec<&Question> = survey.questions().collect();
    answer_visible_questions(&phone, &questions).await;
    phone
        .click(&phone.find("form button[type=submit]").await)
        .await;
    phone.wait_for_text("提交成功").await;
    phone.screenshot("2-thanks").await;
    phone.quit().await;

    // Back at the desk, the campaign counts it.
    desk.goto(&campaign_page).await;
    desk.wait_for("table").await;
    assert_eq!(app.responses().await, 1);
    let page = desk.page_source().await;
    assert!(page.contains("进行中"), "the campaign is open");
    desk.screenshot("6-campaign-after").await;
    desk.quit().await;
}
