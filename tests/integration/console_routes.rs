//! Every route the application serves — read from its real route table
//! (`dupin::web::route_table`), not from the source — tried as an anonymous visitor and as each
//! role: an anonymous visitor is sent to sign in (console) or refused with 401 (API), a wrong
//! role gets 403, and the right role gets the page. A route added without its guard, or a route
//! this test does not know how to judge, fails here.

use awc::http::StatusCode;
use dupin::accounts::Role;
use dupin::web::{Method, Route};

use crate::helpers::{Browser, TestApp, spawn_app};

/// The routes anyone may open without signing in: the phone form and its QR codes, the front
/// page, the health check, the sign-in page and the first admin's setup link.
const PUBLIC: [&str; 9] = [
    "/",
    "/healthz",
    "/s/{token}",
    "/s/{token}/thanks",
    "/s/{token}/qr.svg",
    "/s/{token}/qr.png",
    "/setup/{token}",
    "/console/login",
    "/api/v1/openapi.json",
];

/// Every route of the console (`/console…`) in the table.
fn console_routes() -> Vec<(Method, String)> {
    dupin::web::route_table()
        .into_iter()
        .filter(|route| route.path.starts_with("/console"))
        .map(|route| (route.method, route.path.to_owned()))
        .collect()
}

/// Who may use a route: the sign-in page itself is open; everything else needs at least this.
fn needed_role(path: &str) -> Option<Role> {
    match path {
        "/console/login" => None,
        "/console" | "/console/logout" | "/console/password" | "/console/my-school" => {
            Some(Role::School)
        }
        // A school viewer reads its own school's letters (the sample letter is of their school).
        "/console/letters/{id}" | "/console/my-school/letters" => Some(Role::School),
        // A school viewer sees its own school's photos (the fixture's photo is of their school).
        _ if path.starts_with("/console/photos/") => Some(Role::School),
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
        // A school viewer sees its own school's rectification items (the sample item is at their
        // school) and reports on them; judging and editing them is a supervisor's.
        "/console/my-school/rectification"
        | "/console/rectification/{id}"
        | "/console/rectification/{id}/report" => Some(Role::School),
        _ => Some(Role::Supervisor),
    }
}

/// Routes only a school viewer may use, though supervisors and admins may do everything else:
/// reporting a school's own progress.
fn school_only(path: &str) -> bool {
    path == "/console/rectification/{id}/report"
}

struct Fixture {
    rectification_id: i32,
    campaign_id: i32,
    school_id: i32,
    school_code: String,
    account_id: i32,
    visit_id: i32,
    /// A letter issued to the first school (the school viewer's).
    letter_id: i32,
    /// A photo of the first school (the school viewer's).
    photo_token: String,
}

fn concrete(pattern: &str, fixture: &Fixture) -> String {
    if pattern.starts_with("/console/photos/") {
        return pattern.replace("{token}", &fixture.photo_token);
    }
    let path = pattern
        .replace("{code}", &fixture.school_code)
        .replace("{token}", "0123456789ABCDEFGHJK")
        // A chart every campaign's results page draws (src/web/console/reports.rs).
        .replace("{chart}", "heatmap");
    if path.starts_with("/console/letters/") {
        path.replace("{id}", &fixture.letter_id.to_string())
    } else if path.starts_with("/console/campaigns/") {
        path.replace("{id}", &fixture.campaign_id.to_string())
    } else if path.starts_with("/console/visits/") {
        path.replace("{id}", &fixture.visit_id.to_string())
    } else if path.starts_with("/console/rectification/") {
        path.replace("{id}", &fixture.rectification_id.to_string())
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
    let visit_id = recorded_visit(app, first.id, account.id).await;
    let rectification_id = dupin::rectification::create_items(
        &app.context(),
        dupin::change::Actor::CommandLine,
        &first,
        vec![dupin::rectification::NewItem {
            requirement: "整改要求".to_owned(),
            responsible: "校长".to_owned(),
            deadline: dupin::rectification::today().to_string(),
            ..Default::default()
        }],
    )
    .await
    .expect("an item")[0]
        .id;
    let letter_id = crate::letters::issue_letter(app, first.id, campaign_id).await;
    let photo_token = crate::photos::a_photo_of(app, first.id).await;
    Fixture {
        rectification_id,
        campaign_id,
        school_id: first.id,
        school_code: first.code,
        account_id: account.id,
        visit_id,
        letter_id,
        photo_token,
    }
}

/// A visit to `school_id`, written straight into the database.
async fn recorded_visit(app: &TestApp, school_id: i32, account_id: i32) -> i32 {
    use sea_orm::{ActiveModelTrait, Set};
    entity::visit::ActiveModel {
        school_id: Set(school_id),
        campaign_id: Set(None),
        kind: Set("random_visit".to_owned()),
        checklist: Set(None),
        visited_on: Set(chrono::NaiveDate::from_ymd_opt(2026, 11, 20).expect("a date")),
        team: Set("张三".to_owned()),
        group_met: Set(None),
        group_size: Set(None),
        notes: Set(None),
        created_by: Set(account_id),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("a visit")
    .id
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
        Method::Any => panic!("no console route takes any method: {path}"),
    }
}

#[actix_web::test]
async fn every_route_in_the_table_is_public_console_or_api_and_none_is_unknown() {
    let table: Vec<Route> = dupin::web::route_table();
    for route in &table {
        let known = PUBLIC.contains(&route.path)
            || route.path.starts_with("/console")
            || route.path.starts_with("/api/v1/")
            || route.path == "/api/{rest:.*}";
        assert!(
            known,
            "{route:?} is neither public, console nor API: judge it here"
        );
    }
    for public in PUBLIC {
        assert!(
            table.iter().any(|route| route.path == public),
            "{public} is declared public but not served"
        );
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
        "/console/campaigns/{id}/invitations",
        "/console/accounts",
        "/console/audit",
        "/console/tokens",
        "/console/mail",
        "/console/visits",
        "/console/schools/{id}/visits/new",
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
            let allowed = if school_only(&pattern) {
                role == Role::School
            } else {
                role.includes(needed)
            };
            if allowed {
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

/// The API's routes (besides its open document and its catch-all).
fn api_routes() -> Vec<&'static str> {
    dupin::web::route_table()
        .into_iter()
        .filter(|route| route.path.starts_with("/api/v1/") && !PUBLIC.contains(&route.path))
        .map(|route| route.path)
        .collect()
}

#[actix_web::test]
async fn every_api_route_refuses_a_caller_without_a_token_and_answers_one_with_a_token() {
    let app = spawn_app().await;
    let fixture = fixture(&app).await;
    let routes = api_routes();
    assert!(routes.len() >= 7, "{routes:?}");
    let admin = app
        .account("token-admin@county.edu.cn", Role::Admin, None)
        .await;
    let token = dupin::api_tokens::issue(&app.context(), &admin, "routes")
        .await
        .expect("a token")
        .token;
    let client = awc::Client::default();
    let session = app
        .signed_in(Role::Admin)
        .await
        .cookie_header()
        .expect("a session cookie");
    // Indicators come only from a school self-check campaign.
    let self_check = app.create_campaign("school", None, None).await;
    for pattern in routes {
        let campaign = if pattern.ends_with("/indicators") {
            self_check
        } else if pattern.starts_with("/api/v1/letters/") {
            fixture.letter_id
        } else {
            fixture.campaign_id
        };
        let id = if pattern.starts_with("/api/v1/visits/") {
            fixture.visit_id
        } else {
            campaign
        };
        let path = pattern.replace("{id}", &id.to_string());
        let url = format!("{}{path}", app.address);
        let anonymous = client.get(&url).send().await.expect("a response");
        assert_eq!(
            anonymous.status(),
            StatusCode::UNAUTHORIZED,
            "GET {path} answered a caller without a token"
        );
        let with_token = client
            .get(&url)
            .insert_header(("Authorization", format!("Bearer {token}")))
            .send()
            .await
            .expect("a response");
        assert_eq!(
            with_token.status(),
            StatusCode::OK,
            "GET {path} with a token"
        );
        // A console session is no API credential.
        let with_cookie = client
            .get(&url)
            .insert_header(("Cookie", session.clone()))
            .send()
            .await
            .expect("a response");
        assert_eq!(
            with_cookie.status(),
            StatusCode::UNAUTHORIZED,
            "GET {path} with a cookie"
        );
    }
}
