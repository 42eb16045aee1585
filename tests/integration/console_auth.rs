//! Signing in to the console: the setup link, sign-in and its slow-down, CSRF, sign-out,
//! password changes.

use awc::http::StatusCode;
use dupin::accounts::Role;

use crate::helpers::{PASSWORD, spawn_app};

#[actix_web::test]
async fn a_new_installation_offers_a_one_time_setup_link_that_creates_the_first_admin() {
    let app = spawn_app().await;
    let token = dupin::accounts::new_setup_token(&app.db)
        .await
        .expect("db")
        .expect("a token");
    let mut browser = app.browser();
    let page = browser.get(&format!("/setup/{token}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("创建管理员账号"));

    let mismatch = browser
        .post(
            &format!("/setup/{token}"),
            &[
                ("email", "chief@county.edu.cn"),
                ("name", "王主任"),
                ("password", PASSWORD),
                ("confirm", "something else"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mismatch.body.contains("两次输入的密码不一致"));

    let created = browser
        .post(
            &format!("/setup/{token}"),
            &[
                ("email", "Chief@County.edu.cn"),
                ("name", "王主任"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let home = browser.get("/console").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("王主任（管理员）"));

    // The link is spent.
    assert_eq!(
        app.browser().get(&format!("/setup/{token}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        dupin::accounts::new_setup_token(&app.db)
            .await
            .expect("db")
            .is_none()
    );
}

#[actix_web::test]
async fn an_anonymous_visitor_is_sent_to_sign_in_and_back_afterwards() {
    let app = spawn_app().await;
    app.account("li@county.edu.cn", Role::Supervisor, None)
        .await;
    let mut browser = app.browser();
    let page = browser.get("/console/password").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location.as_deref(),
        Some("/console/login?next=/console/password")
    );
    let form = browser.get("/console/login?next=/console/password").await;
    let csrf = form.hidden("_csrf").expect("csrf");
    let signed_in = browser
        .post(
            "/console/login",
            &[
                ("_csrf", &csrf),
                ("next", "/console/password"),
                ("email", "LI@county.edu.cn"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_in.location.as_deref(), Some("/console/password"));
    let cookie = signed_in.set_cookie.expect("a session cookie");
    assert!(cookie.starts_with("dupin_session="));
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert_eq!(
        browser.get("/console/password").await.status,
        StatusCode::OK
    );

    // `next` never leads off the site.
    let form = app
        .browser()
        .get("/console/login?next=https://evil.example/")
        .await;
    assert!(form.body.contains("name=\"next\" value=\"/console\""));
}

#[actix_web::test]
async fn wrong_passwords_are_refused_then_slowed_down_and_audited() {
    let app = spawn_app().await;
    app.account("li@county.edu.cn", Role::Supervisor, None)
        .await;
    let mut browser = app.browser();
    for attempt in 1..=3 {
        let page = browser.sign_in("li@county.edu.cn", "wrong password!").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
        assert!(page.body.contains("邮箱或密码不正确"));
    }
    // Now even the right password must wait.
    let page = browser.sign_in("li@county.edu.cn", PASSWORD).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.body.contains("登录失败次数过多"));
    let unknown = browser.sign_in("nobody@county.edu.cn", PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action = 'sign_in_failed'")
            .await,
        5
    );
}

#[actix_web::test]
async fn a_form_without_the_right_csrf_token_changes_nothing() {
    let app = spawn_app().await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let page = browser
        .post(
            "/console/password",
            &[
                ("_csrf", "forged"),
                ("current", PASSWORD),
                ("password", "a new long password"),
                ("confirm", "a new long password"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("页面已过期"));
    let logout = browser.post("/console/logout", &[]).await;
    assert_eq!(logout.status, StatusCode::FORBIDDEN);
    // The sign-in form too: its token must match its cookie.
    let mut stranger = app.browser();
    let page = stranger
        .post(
            "/console/login",
            &[("_csrf", "x"), ("email", "a@b.cn"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn changing_the_password_ends_other_sessions_and_sign_out_ends_this_one() {
    let app = spawn_app().await;
    app.account("li@county.edu.cn", Role::Supervisor, None)
        .await;
    let mut laptop = app.browser();
    laptop.sign_in("li@county.edu.cn", PASSWORD).await;
    let mut office = app.browser();
    office.sign_in("li@county.edu.cn", PASSWORD).await;

    let changed = laptop
        .submit(
            "/console/password",
            "/console/password",
            &[
                ("current", PASSWORD),
                ("password", "a new long password"),
                ("confirm", "a new long password"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert!(changed.body.contains("密码已修改"));
    assert_eq!(laptop.get("/console/password").await.status, StatusCode::OK);
    assert_eq!(
        office.get("/console/password").await.status,
        StatusCode::SEE_OTHER
    );

    let out = laptop
        .submit("/console/password", "/console/logout", &[])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        laptop.get("/console/password").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.browser()
            .sign_in("li@county.edu.cn", "a new long password")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}

/// `attempts` failed sign-ins from one client address, as nginx reports it.
async fn fail_from(
    app: &crate::helpers::TestApp,
    forwarded_for: &str,
    attempts: usize,
) -> StatusCode {
    let client = awc::Client::builder().disable_redirects().finish();
    let mut last = StatusCode::OK;
    for attempt in 0..attempts {
        // Each attempt names another account, so that only the per-client limit can bite.
        let email = format!("nobody{attempt}@county.edu.cn");
        let (cookie, csrf) = crate::helpers::login_form(&client, &app.address).await;
        let response = client
            .post(format!("{}/console/login", app.address))
            .insert_header(("Cookie", cookie))
            .insert_header(("X-Forwarded-For", forwarded_for.to_owned()))
            .send_form(&[
                ("_csrf", csrf.as_str()),
                ("email", &email),
                ("password", "wrong password!"),
            ])
            .await
            .expect("sign-in");
        last = response.status();
    }
    last
}

#[actix_web::test]
async fn behind_a_trusted_proxy_the_client_limit_counts_each_forwarded_address_apart() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Options {
        trust_proxy: true,
        ..Default::default()
    })
    .await;
    assert_eq!(
        fail_from(&app, "10.1.2.3", 21).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another family's phone behind the same proxy is not held back.
    assert_eq!(
        fail_from(&app, "10.1.2.4", 1).await,
        StatusCode::UNAUTHORIZED
    );

    // Without trusting the proxy, every client is the proxy: one limit for all.
    let untrusted = spawn_app().await;
    assert_eq!(
        fail_from(&untrusted, "10.1.2.3", 21).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        fail_from(&untrusted, "10.1.2.4", 1).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}
