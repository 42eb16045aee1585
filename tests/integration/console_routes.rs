//! Every console route, read from the route table in the source, tried as an anonymous visitor
//! and as each role: an anonymous visitor is sent to sign in, a wrong role gets 403, and the right
//! role gets the page. A route added without its guard fails here.

use awc::http::StatusCode;
use dupin::accounts::Role;

use crate::helpers::{Browser, TestApp, spawn_app};

/// The console's route registrations, as written.
const ROUTE_SOURCES: [&str; 12] = [
    include_str!("../../src/web/console/mod.rs"),
    include_str!("../../src/web/console/schools.rs"),
    include_str!("../../src/web/console/campaigns.rs"),
    include_str!("../../src/web/console/admin.rs"),
    include_str!("../../src/web/console/results.rs"),
    include_str!("../../src/web/console/exports.rs"),
    include_str!("../../src/web/console/reports.rs"),
    include_str!("../../src/web/console/quality.rs"),
    include_str!("../../src/web/console/tokens.rs"),
    include_str!("../../src/web/console/mail.rs"),
    include_str!("../../src/web/console/teachers.rs"),
    include_str!("../../src/web/console/invitations.rs"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

/// `(method, path pattern)` of every `.route("…", web::get()|post()…)` in the console's source.
fn console_routes() -> Vec<(Method, String)> {
    let mut routes = Vec::new();
    for source in ROUTE_SOURCES {
        for piece in source.split(".route(").skip(1) {
            let Some(end) = piece.find(".to(") else {
                continue;
            };
            let registration = &piece[..end];
            let Some(path) = registration.split('"').nth(1) else {
                continue;
            };
            let method = if registration.contains("web::get()") {
                Method::Get
            } else if registration.contains("web::post()") {
                Method::Post
            } else {
                panic!("a route with another method: {registration}");
            };
            if path.starts_with("/console") {
                routes.push((method, path.to_owned()));
            }
        }
    }
    routes
}

/// Who may use a route: the sign-in page itself is open; everything else needs at least this.
fn needed_role(path: &str) -> Option<Role> {
    match path {
        "/console/login" => None,
        "/console" | "/console/logout" | "/console/password" | "/console/my-school" => {
            Some(Role::School)
        }
        // A school viewer may print its own school's poster (the sample path uses their school).
        "/console/campaigns/{id}/posters/{code}" => Some(Role::School),
        _ if path.starts_with("/console/accounts")
            || path.starts_with("/console/audit")
            || path.starts_with("/console/tokens") =>
        {
            Some(Role::Admin)
        }
        // A school viewer keeps its own school's teacher roster (the sample path uses their school).
        _ if path.starts_with("/console/schools/{id}/teachers") => Some(Role::School),
        _ => Some(Role::Supervisor),
    }
}

struct Fixture {
    campaign_id: i32,
    school_id: i32,
    school_code: String,
    account_id: i32,
}

fn concrete(pattern: &str, fixture: &Fixture) -> String {
    let path = pattern
        .replace("{code}", &fixture.school_code)
        .replace("{token}", "0123456789ABCDEFGHJK")
        // A chart every campaign's results page draws (src/web/console/reports.rs).
        .replace("{chart}", "heatmap");
    if path.starts_with("/console/campaigns/") {
        path.replace("{id}", &fixture.campaign_id.to_string())
    } else if path.starts_with("/console/schools/") || path.starts_with("/console/reports/schools/")
    {
        path.replace("{id}", &fixture.school_id.to_string())
    } else {
        path.replace("{id}", &fixture.account_id.to_string())
    }
}

async fn fixture(app: &TestApp) -> Fixture {
    let campaign_id = app.create_campaign("parents", None, None).await;
    let first = dupin::schools::list(&app.db)
        .await
        .expect("schools")
        .remove(0);
    let account = app
        .account("someone@county.edu.cn", Role::Supervisor, None)
        .await;
    Fixture {
        campaign_id,
        school_id: first.id,
        school_code: first.code,
        account_id: account.id,
    }
}

async fn try_route(
    browser: &mut Browser,
    method: Method,
    path: &str,
    csrf: &str,
) -> crate::helpers::Page {
    match method {
        Method::Get => browser.get(path).await,
        Method::Post => browser.post(path, &[("_csrf", csrf)]).await,
    }
}

#[actix_web::test]
async fn the_route_table_is_read_and_holds_every_part_of_the_console() {
    let routes = console_routes();
    for expected in [
        "/console/schools",
        "/console/schools/import",
        "/console/campaigns/new",
        "/console/campaigns/{id}/posters",
        "/console/accounts",
        "/console/audit",
    ] {
        assert!(
            routes.iter().any(|(_, path)| path == expected),
            "{expected} is missing from {routes:?}"
        );
    }
    assert!(routes.len() >= 25, "only {} routes found", routes.len());
}

#[actix_web::test]
async fn an_anonymous_visitor_is_sent_to_sign_in_from_every_console_route() {
    let app = spawn_app().await;
    let fixture = fixture(&app).await;
    let mut visitor = app.browser();
    for (method, pattern) in console_routes() {
        if needed_role(&pattern).is_none() {
            continue;
        }
        let path = concrete(&pattern, &fixture);
        let page = try_route(&mut visitor, method, &path, "").await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "{method:?} {path} let an anonymous visitor through: {}",
            page.body
        );
        assert!(
            page.location
                .as_deref()
                .is_some_and(|to| to.starts_with("/console/login")),
            "{method:?} {path} sent an anonymous visitor to {:?}",
            page.location
        );
    }
}

#[actix_web::test]
async fn each_role_gets_403_where_it_may_not_go_and_the_page_where_it_may() {
    let app = spawn_app().await;
    let fixture = fixture(&app).await;
    for role in [Role::School, Role::Supervisor, Role::Admin] {
        let mut browser = app.signed_in(role).await;
        // A real CSRF token of this session, so that only the role can refuse.
        let csrf = browser
            .get("/console/password")
            .await
            .hidden("_csrf")
            .expect("the password page has a CSRF token");
        for (method, pattern) in console_routes() {
            let Some(needed) = needed_role(&pattern) else {
                continue;
            };
            if pattern == "/console/logout" {
                continue;
            }
            let path = concrete(&pattern, &fixture);
            let page = try_route(&mut browser, method, &path, &csrf).await;
            if role.includes(needed) {
                if method == Method::Get {
                    assert!(
                        page.status == StatusCode::OK || page.status == StatusCode::SEE_OTHER,
                        "{role:?} should see GET {path}, got {}: {}",
                        page.status,
                        page.body
                    );
                }
                assert_ne!(
                    page.status,
                    StatusCode::FORBIDDEN,
                    "{role:?} was refused {method:?} {path}"
                );
            } else {
                assert_eq!(
                    page.status,
                    StatusCode::FORBIDDEN,
                    "{role:?} was let through {method:?} {path}: {}",
                    page.body
                );
            }
        }
    }
}
