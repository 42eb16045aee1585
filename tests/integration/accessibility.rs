//! The main console pages and the phone form on the demo county, in headless Chromium: each is
//! screenshotted (`target/screenshots/demo-*.png`; README shows three of them, copied to
//! `tests/screenshots/`) and audited with axe-core against the WCAG 2.1 A and AA rules, with zero
//! violations as the bar. axe-core comes from npm (`.ci/run` installs it into `target/axe`);
//! without Chromium or axe-core the test says SKIPPED.

use std::io::Write;
use std::path::PathBuf;

use serde_json::Value;

use crate::demo::demo;
use crate::helpers::repo_path;
use crate::webdriver::{Screen, WebDriver, available};

/// axe-core's browser build: `DUPIN_AXE_JS`, or where `.ci/run` installs it.
fn axe_source() -> Option<String> {
    let path = std::env::var_os("DUPIN_AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_path("target/axe/node_modules/axe-core/axe.min.js"));
    std::fs::read_to_string(path).ok()
}

/// Runs axe on the page shown and returns its violations as `rule (impact): targets` lines.
async fn audit(driver: &WebDriver, axe: &str) -> Vec<String> {
    driver
        .execute(&format!("{axe}\nreturn true;"), Vec::new())
        .await;
    let result = driver
        .execute(
            "return axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})\
             .then(r => r.violations.map(v => v.id + ' (' + v.impact + '): ' + \
             v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(' | ')));",
            Vec::new(),
        )
        .await;
    match result {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|item| item.as_str().map(str::to_owned))
            .collect(),
        other => vec![format!("axe did not run: {other}")],
    }
}

/// `[pixels wider than the window, cells broken over lines]` as a complaint, if any.
fn too_wide(measured: &Value) -> Option<String> {
    let wide = measured.get(0).and_then(Value::as_f64).unwrap_or(0.0);
    let broken = measured.get(1).and_then(Value::as_f64).unwrap_or(0.0);
    let widest = measured.get(2).and_then(Value::as_str).unwrap_or_default();
    (wide > 0.0 || broken > 0.0).then(|| {
        format!(
            "at 1280 px the page is {wide} px wider than the window ({widest}) and {broken} name or grade cells wrap"
        )
    })
}

#[actix_web::test]
async fn the_console_and_the_phone_form_on_the_demo_pass_axe_and_are_screenshotted() {
    const TEST: &str = "demo";
    if !available(TEST) {
        return;
    }
    let axe = axe_source();
    if axe.is_none() {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED (audit only): axe-core is not installed (npm install --prefix target/axe axe-core); screenshots are still taken"
        );
    }
    let demo = demo();
    demo.run.succeeded();
    let password = demo
        .run
        .stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("password:"))
        .map(|password| password.trim().to_owned())
        .expect("a password");
    let token = {
        let db = dupin::db::connect(&demo.url).await.expect("demo db");
        let link = <entity::campaign_link::Entity as sea_orm::EntityTrait>::find_by_id(1)
            .one(&db)
            .await
            .expect("query")
            .expect("the first link");
        link.token
    };
    let server = demo.terminal.start_server_with_env(
        &["serve", "--bind", "127.0.0.1:0"],
        &[("DATABASE_URL", &demo.url)],
    );
    let address = server.address.clone();
    let mut violations = Vec::new();

    let driver = WebDriver::start(TEST, Screen::LAPTOP).await;
    driver.goto(&format!("{address}/console/login")).await;
    driver.wait_for("#email").await;
    if let Some(axe) = &axe {
        for line in audit(&driver, axe).await {
            violations.push(format!("/console/login: {line}"));
        }
    }
    driver
        .send_keys(&driver.find("#email").await, "admin@demo.invalid")
        .await;
    driver
        .send_keys(&driver.find("#password").await, &password)
        .await;
    driver
        .click(&driver.find("form button[type=submit]").await)
        .await;
    driver.wait_for("nav.top").await;
    let pages = [
        ("console", "/console"),
        ("campaigns", "/console/campaigns"),
        ("rates", "/console/campaigns/1"),
        ("results", "/console/campaigns/1/results"),
        ("self-check", "/console/campaigns/4/results"),
        ("assessment", "/console/assessment"),
        ("county-report", "/console/reports/county"),
        ("schools", "/console/schools"),
        ("quality", "/console/campaigns/1/quality"),
        ("teachers-results", "/console/campaigns/2/results"),
    ];
    for (step, path) in pages {
        driver.goto(&format!("{address}{path}")).await;
        driver.wait_for("main").await;
        driver.screenshot(step).await;
        // At 1280 px every table of schools fits the window: nothing scrolls sideways, and
        // no school's name or grade is broken over lines.
        let overflow = driver
            .execute(
                "const wide = document.documentElement.scrollWidth - window.innerWidth;\
                 const lines = td => { const range = document.createRange(); range.selectNodeContents(td); \
                 return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; };\
                 const broken = [...document.querySelectorAll('table.ratings td:nth-child(2), table.ratings td:nth-child(8), table.assessment td:nth-child(2), table.schools td:nth-child(2)')]\
                 .filter(td => lines(td) > 1).length;\
                 const widest = [...document.querySelectorAll('main > *, main table')].filter(e => e.getBoundingClientRect().right > window.innerWidth)\
                 .map(e => e.tagName + '.' + e.className + ':' + Math.round(e.getBoundingClientRect().width)).slice(0, 4).join(' ') + ' cells ' + [...(document.querySelector('table.ratings tbody tr, table.assessment tbody tr')||{cells:[]}).cells].map(c => Math.round(c.getBoundingClientRect().width) + '=' + c.textContent.slice(0, 30)).join(' | ');\
                 return [wide, broken, widest];",
                Vec::new(),
            )
            .await;
        if let Some(line) = too_wide(&overflow) {
            violations.push(format!("{path}: {line}"));
        }
        if let Some(axe) = &axe {
            for line in audit(&driver, axe).await {
                violations.push(format!("{path}: {line}"));
            }
        }
    }
    // The rating table itself, for the README.
    driver
        .goto(&format!("{address}/console/campaigns/1/results"))
        .await;
    driver.wait_for("table.ratings").await;
    driver
        .execute(
            "document.querySelector('table.ratings').scrollIntoView(); return true;",
            Vec::new(),
        )
        .await;
    driver.screenshot("ratings").await;
    driver.quit().await;

    let phone = WebDriver::start(TEST, Screen::SMALL_PHONE).await;
    phone.goto(&format!("{address}/s/{token}")).await;
    phone.wait_for("form").await;
    phone.screenshot("phone-form").await;
    if let Some(axe) = &axe {
        for line in audit(&phone, axe).await {
            violations.push(format!("/s/…: {line}"));
        }
    }
    phone.quit().await;
    server.stop();
    assert!(
        violations.is_empty(),
        "axe-core found {} WCAG 2.1 AA violations:\n{}",
        violations.len(),
        violations.join("\n")
    );
}
