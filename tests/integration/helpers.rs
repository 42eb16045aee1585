//! `spawn_app()`: the real server on a random port with a fresh SQLite database in a temporary
//! folder, the county's sample schools imported, and a client that talks HTTP to it like a phone.

use std::path::{Path, PathBuf};
use std::time::Duration;

use awc::http::StatusCode;
use dupin::campaigns::actions::create_campaign;
use dupin::campaigns::{self, NewCampaign, SchoolSelection};
use dupin::change::{Actor, Context};
use dupin::schools;
use dupin::schools::actions::import_schools;
use dupin::startup::{Application, Settings};
use dupin::survey::{self, QuestionKind, Survey};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

pub const PHONE_USER_AGENT: &str = "Mozilla/5.0 (Linux; Android 10; V2031A Build/QP1A.190711.020; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.193 Mobile Safari/537.36 MMWEBID/1234 MicroMessenger/8.0.49.2600(0x28003133) WeChat/arm64 Weixin NetType/4G Language/zh_CN ABI/arm64";

pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

pub struct TestApp {
    pub address: String,
    pub base_url: String,
    /// Where the database is, for tests that open it with the command line too.
    pub database_url: String,
    pub db: DatabaseConnection,
    pub surveys_dir: PathBuf,
    /// Kept so that the folder (and the database in it) lives as long as the test.
    _dir: tempfile::TempDir,
    _postgres: Option<PostgresDatabase>,
}

pub struct Options {
    pub surveys_dir: PathBuf,
    pub base_url: Option<String>,
    /// How long a request's head, and then its body, may take to arrive.
    pub request_timeout: Duration,
    /// Read the client's address from `X-Forwarded-For`, as behind nginx.
    pub trust_proxy: bool,
    /// SMTP and outbox sender settings (default: no host, mail waits in the outbox).
    pub mail: dupin::mail::MailSettings,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            surveys_dir: repo_path("surveys"),
            base_url: None,
            request_timeout: dupin::startup::DEFAULT_REQUEST_TIMEOUT,
            trust_proxy: false,
            mail: dupin::mail::MailSettings::default(),
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

/// Set to an administrator's URL (`postgres://postgres@127.0.0.1:5432/postgres`) to run the suite
/// on PostgreSQL: each test then creates its own database and drops it at the end.
pub const POSTGRES_ENV: &str = "DUPIN_TEST_POSTGRES";

/// A fresh database for one test: a SQLite file in `dir`, or a new PostgreSQL database.
pub(crate) async fn fresh_database(dir: &Path) -> (String, Option<PostgresDatabase>) {
    match std::env::var(POSTGRES_ENV) {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("dupin_test_{}", dupin::secrets::random_key());
            let admin = sea_orm::Database::connect(&admin_url)
                .await
                .expect("PostgreSQL answers at DUPIN_TEST_POSTGRES");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create the test database");
            let base = admin_url
                .rsplit_once('/')
                .map_or(admin_url.as_str(), |(base, _)| base);
            (
                format!("{base}/{name}"),
                Some(PostgresDatabase {
                    admin_url: admin_url.clone(),
                    name,
                }),
            )
        }
        _ => (format!("sqlite://{}/dupin.sqlite3", dir.display()), None),
    }
}

/// Drops its database when the test ends, whether it passed or not.
pub struct PostgresDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // The test's own runtime is ending: drop from a thread with a runtime of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                if let Ok(admin) = sea_orm::Database::connect(&admin_url).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// Where a test that needs PostgreSQL finds it when `DUPIN_TEST_POSTGRES` is not set.
pub const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A new, empty PostgreSQL database (dropped when the returned guard is), on the server of
/// `DUPIN_TEST_POSTGRES` or else the local one; `None` when no PostgreSQL answers there.
pub async fn new_postgres_database() -> Option<(String, PostgresDatabase)> {
    let admin_url = std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| LOCAL_POSTGRES.to_owned());
    let mut options = sea_orm::ConnectOptions::new(admin_url.clone());
    options
        .connect_timeout(Duration::from_secs(3))
        .acquire_timeout(Duration::from_secs(3))
        .sqlx_logging(false);
    let admin = sea_orm::Database::connect(options).await.ok()?;
    let name = format!("dupin_test_{}", dupin::secrets::random_key());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .ok()?;
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(base, _)| base);
    Some((
        format!("{base}/{name}"),
        PostgresDatabase {
            admin_url: admin_url.clone(),
            name,
        },
    ))
}

/// A browser for the console of any running dupin, such as one started as a separate process.
pub fn browser_at(address: &str) -> Browser {
    Browser {
        address: address.trim_end_matches('/').to_owned(),
        cookies: Default::default(),
        client: awc::Client::builder()
            .timeout(Duration::from_secs(30))
            .disable_redirects()
            .finish(),
    }
}

pub fn is_postgres(app: &TestApp) -> bool {
    app.database_url.starts_with("postgres")
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let (database_url, postgres) = fresh_database(dir.path()).await;
    let settings = Settings {
        bind: "127.0.0.1:0".to_owned(),
        database_url: database_url.clone(),
        surveys_dir: options.surveys_dir.clone(),
        base_url: options.base_url,
        workers: Some(2),
        session_key: None,
        request_timeout: options.request_timeout,
        trust_proxy: options.trust_proxy,
        mail: options.mail,
    };
    let app = Application::build(settings).await.expect("the app starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let base_url = app.base_url().to_owned();
    actix_web::rt::spawn(app.run_until_stopped());
    let db = dupin::db::connect(&database_url)
        .await
        .expect("test connection");
    TestApp {
        address,
        base_url,
        database_url,
        db,
        surveys_dir: options.surveys_dir,
        _dir: dir,
        _postgres: postgres,
    }
}

impl TestApp {
    /// What the domain's actions run in, as the command line would (no hooks of the server).
    pub fn context(&self) -> Context {
        Context::new(self.db.clone(), &self.address)
    }

    pub async fn import_sample_schools(&self) {
        let bytes = std::fs::read(repo_path("tests/fixtures/schools/county.csv")).expect("fixture");
        let parsed = schools::parse_csv(&bytes).expect("sample schools parse");
        let context = self.context();
        import_schools(&context, Actor::CommandLine, "county.csv", &parsed, &|_| {})
            .await
            .expect("import");
    }

    /// Creates a campaign of `survey` for all schools (importing the sample schools if needed)
    /// and returns its id.
    pub async fn create_campaign(
        &self,
        survey_id: &str,
        opens: Option<&str>,
        closes: Option<&str>,
    ) -> i32 {
        if schools::count(&self.db).await.expect("count") == 0 {
            self.import_sample_schools().await;
        }
        let catalog = survey::load_dir(&self.surveys_dir).expect("plan loads");
        let entry = catalog.get(survey_id).expect("survey exists");
        let (campaign, _) = create_campaign(
            &self.context(),
            Actor::CommandLine,
            NewCampaign {
                name: format!("测试 {survey_id}"),
                survey: entry,
                opens_at: opens.map(|t| campaigns::parse_time(t).expect("time")),
                closes_at: closes.map(|t| campaigns::parse_time(t).expect("time")),
                schools: SchoolSelection::All,
                status: campaigns::CampaignStatus::Open,
                expected_override: None,
            },
        )
        .await
        .expect("campaign created");
        campaign.id
    }

    pub async fn links(&self, campaign_id: i32) -> Vec<campaigns::LinkRow> {
        campaigns::links(&self.db, campaign_id)
            .await
            .expect("links")
    }

    /// The token of `code`'s link in the campaign.
    pub async fn link_token(&self, campaign_id: i32, code: &str) -> String {
        self.links(campaign_id)
            .await
            .into_iter()
            .find(|link| link.code == code)
            .expect("the school has a link")
            .token
    }

    pub async fn first_token(&self, campaign_id: i32) -> String {
        self.links(campaign_id).await.remove(0).token
    }

    /// Adds the answers whose counts are still pending to the tallies and score sums, as the
    /// first read of any figure does: for tests that read those tables themselves.
    pub async fn settle(&self) {
        dupin::answering::pending::settle(&self.db, None)
            .await
            .expect("the pending answers are added to the counts");
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                self.db.get_database_backend(),
                sql.to_owned(),
            ))
            .await
            .expect("query")
            .expect("a row");
        row.try_get_by_index::<i64>(0).expect("a count")
    }

    pub async fn responses(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM response").await
    }

    pub fn phone(&self) -> Phone {
        Phone {
            address: self.address.clone(),
            cookie: None,
            forwarded_for: None,
            client: awc::Client::builder()
                .timeout(Duration::from_secs(30))
                .disable_redirects()
                .add_default_header(("User-Agent", PHONE_USER_AGENT))
                .finish(),
        }
    }
}

/// What a page answered.
pub struct Page {
    pub status: StatusCode,
    pub body: String,
    pub location: Option<String>,
    pub content_type: String,
    pub set_cookie: Option<String>,
}

impl Page {
    /// The value of the form's hidden field `name`.
    pub fn hidden(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_owned())
    }
}

/// One phone: a browser with its own cookie, as WeChat's would keep it.
pub struct Phone {
    address: String,
    pub cookie: Option<String>,
    /// The address a proxy in front of dupin would append (`X-Forwarded-For`), for a server
    /// started with `trust_proxy`.
    pub forwarded_for: Option<String>,
    client: awc::Client,
}

impl Phone {
    async fn page(
        &mut self,
        mut response: awc::ClientResponse<
            impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
            + Unpin,
        >,
    ) -> Page {
        let set_cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        if let Some(cookie) = &set_cookie
            && self.cookie.is_none()
        {
            self.cookie = cookie.split(';').next().map(str::to_owned);
        }
        let body = response.body().limit(1 << 20).await.expect("body");
        Page {
            status: response.status(),
            body: String::from_utf8_lossy(&body).into_owned(),
            location: response
                .headers()
                .get("location")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
            content_type: response
                .headers()
                .get("content-type")
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            set_cookie,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let mut request = self.client.get(format!("{}{}", self.address, path));
        if let Some(cookie) = &self.cookie {
            request = request.insert_header(("Cookie", cookie.clone()));
        }
        if let Some(address) = &self.forwarded_for {
            request = request.insert_header(("X-Forwarded-For", address.clone()));
        }
        let response = request.send().await.expect("GET");
        self.page(response).await
    }

    pub async fn get_bytes(&mut self, path: &str) -> (StatusCode, String, Vec<u8>) {
        let mut response = self
            .client
            .get(format!("{}{}", self.address, path))
            .send()
            .await
            .expect("GET");
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.body().limit(8 << 20).await.expect("body");
        (response.status(), content_type, body.to_vec())
    }

    pub async fn post_raw(&mut self, path: &str, content_type: &str, body: Vec<u8>) -> Page {
        let mut request = self
            .client
            .post(format!("{}{}", self.address, path))
            .insert_header(("Content-Type", content_type.to_owned()));
        if let Some(cookie) = &self.cookie {
            request = request.insert_header(("Cookie", cookie.clone()));
        }
        if let Some(address) = &self.forwarded_for {
            request = request.insert_header(("X-Forwarded-For", address.clone()));
        }
        let response = request.send_body(body).await.expect("POST");
        self.page(response).await
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(String, String)]) -> Page {
        let body = encode_form(fields);
        self.post_raw(path, "application/x-www-form-urlencoded", body.into_bytes())
            .await
    }

    /// Opens the link, answers every question with `answers_for`, submits.
    pub async fn answer(&mut self, token: &str, survey: &Survey) -> Page {
        let form = self.get(&format!("/s/{token}")).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let mut fields = vec![
            (
                "_key".to_owned(),
                form.hidden("_key").expect("the form has a key"),
            ),
            (
                "_t".to_owned(),
                form.hidden("_t").expect("the form has a time"),
            ),
        ];
        fields.extend(answers_for(survey));
        self.post_form(&format!("/s/{token}"), &fields).await
    }
}

/// Opens the console's sign-in form as a browser would: its CSRF cookie (`name=value`) and the
/// token in the form.
pub async fn login_form(client: &awc::Client, address: &str) -> (String, String) {
    let mut form = client
        .get(format!("{address}/console/login"))
        .send()
        .await
        .expect("login form");
    let cookie = form
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .expect("csrf cookie")
        .to_owned();
    let body = form.body().await.expect("body");
    let page = String::from_utf8_lossy(&body);
    let start = page.find("name=\"_csrf\" value=\"").expect("csrf field") + 20;
    (cookie, page[start..start + 32].to_owned())
}

/// The form's hidden fields and `answers`: what the phone's browser would send.
pub fn filled_in(form: &Page, answers: Vec<(String, String)>) -> Vec<(String, String)> {
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let mut fields = vec![
        ("_key".to_owned(), form.hidden("_key").expect("a key")),
        ("_t".to_owned(), form.hidden("_t").expect("a time")),
    ];
    fields.extend(answers);
    fields
}

pub fn encode_form(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .map(|(name, value)| format!("{}={}", percent(name), percent(value)))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

pub fn catalog_survey(id: &str) -> Survey {
    survey::load_dir(&repo_path("surveys"))
        .expect("plan loads")
        .get(id)
        .expect("survey exists")
        .survey
        .clone()
}

/// A complete, valid set of answers: the first option of every choice, the smallest allowed
/// number, a short text. Answers to questions hidden by `show_if` are sent too; the server drops
/// them.
pub fn answers_for(survey: &Survey) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for question in survey.questions() {
        let id = question.id.clone();
        match &question.kind {
            QuestionKind::Single { options } => fields.push((id, options[0].code.clone())),
            QuestionKind::Multiple { options, min, .. } => {
                for option in options.iter().take((*min).max(1) as usize) {
                    fields.push((id.clone(), option.code.clone()));
                }
            }
            QuestionKind::Scale { scale } => fields.push((id, scale.points[1].code.clone())),
            QuestionKind::Matrix { scale, rows } => {
                for row in rows {
                    fields.push((format!("{id}.{}", row.id), scale.points[0].code.clone()));
                }
            }
            QuestionKind::Number { min, .. } => {
                fields.push((id, format!("{}", min.unwrap_or(0.0).max(0.0) as i64)))
            }
            QuestionKind::YesNo { .. } => fields.push((id, "yes".to_owned())),
            QuestionKind::Text { .. } | QuestionKind::LongText { .. } => {
                fields.push((id, "老师们辛苦了".to_owned()))
            }
            QuestionKind::Rating { .. } => fields.push((id, "8".to_owned())),
        }
    }
    fields
}

impl TestApp {
    /// A new admin's API token, for tests that read figures as a program would.
    pub async fn api_token(&self) -> String {
        let admin = self
            .account(
                &format!("admin-{}@county.edu.cn", dupin::secrets::random_key()),
                dupin::accounts::Role::Admin,
                None,
            )
            .await;
        dupin::api_tokens::issue(&self.context(), &admin, "测试")
            .await
            .expect("a token")
            .token
    }

    /// `GET path` of the JSON API with `token`: its status and body.
    pub async fn api_get(&self, token: &str, path: &str) -> (StatusCode, serde_json::Value) {
        let mut response = awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .finish()
            .get(format!("{}{path}", self.address))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .send()
            .await
            .expect("the API answers");
        let body = response.body().limit(16 << 20).await.expect("a body");
        let json = serde_json::from_slice(&body).unwrap_or_else(|error| {
            panic!(
                "{path}: no JSON ({error}): {}",
                String::from_utf8_lossy(&body)
            )
        });
        (response.status(), json)
    }

    /// A phone that already carries `cookie`, like a second tab of the same browser.
    pub fn phone_with_cookie(&self, cookie: Option<String>) -> Phone {
        let mut phone = self.phone();
        phone.cookie = cookie;
        phone
    }
}

impl Phone {
    pub async fn post_form_owned(mut self, path: String, fields: Vec<(String, String)>) -> Page {
        self.post_form(&path, &fields).await
    }
}

/// A phone pointed at any running dupin, such as one started as a separate process.
pub fn phone_at(address: &str) -> Phone {
    Phone {
        address: address.trim_end_matches('/').to_owned(),
        cookie: None,
        forwarded_for: None,
        client: awc::Client::builder()
            .timeout(Duration::from_secs(30))
            .disable_redirects()
            .add_default_header(("User-Agent", PHONE_USER_AGENT))
            .finish(),
    }
}

/// Copies the plan's survey files into `parent/surveys`, so a test can edit or break them, and
/// returns that folder.
pub fn copy_of_the_plan(parent: &Path) -> PathBuf {
    let copy = parent.join("surveys");
    std::fs::create_dir_all(&copy).expect("surveys folder");
    for entry in std::fs::read_dir(repo_path("surveys")).expect("the plan's folder") {
        let path = entry.expect("a folder entry").path();
        if path.extension().is_some_and(|ext| ext == "toml") {
            let name = path.file_name().expect("a file name");
            std::fs::copy(&path, copy.join(name)).expect("copy a survey file");
        }
    }
    let visits = repo_path("surveys/visits");
    std::fs::create_dir_all(copy.join("visits")).expect("visits folder");
    for entry in std::fs::read_dir(&visits).expect("the plan's visit checklists") {
        let path = entry.expect("a folder entry").path();
        let name = path.file_name().expect("a file name");
        std::fs::copy(&path, copy.join("visits").join(name)).expect("copy a checklist");
    }
    copy
}

/// Replaces `old`, which must occur exactly once, with `new` in the file at `path`.
pub fn edit_file(path: &Path, old: &str, new: &str) {
    let text = std::fs::read_to_string(path).expect("read the file to edit");
    assert_eq!(
        text.matches(old).count(),
        1,
        "{old:?} should occur once in {}",
        path.display()
    );
    std::fs::write(path, text.replacen(old, new, 1)).expect("write the edited file");
}

/// A desktop browser for the console: keeps every cookie it is given, like a real one.
pub struct Browser {
    address: String,
    pub cookies: std::collections::BTreeMap<String, String>,
    client: awc::Client,
}

/// A response kept as bytes: a download (CSV, XLSX, PNG, SVG) as the browser saves it.
pub struct Download {
    pub status: StatusCode,
    pub headers: awc::http::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Download {
    /// A header's value, or an empty string.
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// Status, `Content-Type`, `Content-Disposition` and body.
    pub fn parts(self) -> (StatusCode, String, String, Vec<u8>) {
        let (content_type, disposition) = (
            self.header("content-type"),
            self.header("content-disposition"),
        );
        (self.status, content_type, disposition, self.body)
    }
}

impl Browser {
    /// GETs `path` with this browser's cookies and keeps the body as bytes (up to 64 MB).
    pub async fn download(&self, path: &str) -> Download {
        let mut response = self
            .client
            .get(format!("{}{path}", self.address))
            .insert_header(("Cookie", self.cookie_header().unwrap_or_default()))
            .send()
            .await
            .expect("GET");
        let body = response.body().limit(64 << 20).await.expect("body");
        Download {
            status: response.status(),
            headers: response.headers().clone(),
            body: body.to_vec(),
        }
    }
}

impl TestApp {
    pub fn browser(&self) -> Browser {
        Browser {
            address: self.address.clone(),
            cookies: Default::default(),
            client: awc::Client::builder()
                .timeout(Duration::from_secs(30))
                .disable_redirects()
                .finish(),
        }
    }

    /// Creates an account directly in the database (password `correct horse battery`).
    pub async fn account(
        &self,
        email: &str,
        role: dupin::accounts::Role,
        school_id: Option<i32>,
    ) -> entity::account::Model {
        dupin::accounts::create(
            &self.db,
            dupin::accounts::NewAccount {
                email: email.to_owned(),
                display_name: String::new(),
                password: PASSWORD.to_owned(),
                role,
                school_id,
            },
        )
        .await
        .expect("account created")
    }

    /// A browser signed in as a new account of `role` (a school viewer gets the first school,
    /// importing the sample schools if needed).
    pub async fn signed_in(&self, role: dupin::accounts::Role) -> Browser {
        let school_id = if role == dupin::accounts::Role::School {
            if schools::count(&self.db).await.expect("count") == 0 {
                self.import_sample_schools().await;
            }
            Some(schools::list(&self.db).await.expect("schools")[0].id)
        } else {
            None
        };
        let email = format!(
            "{}-{}@county.edu.cn",
            role.slug(),
            dupin::secrets::random_key()
        );
        self.account(&email, role, school_id).await;
        let mut browser = self.browser();
        let page = browser.sign_in(&email, PASSWORD).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        browser
    }
}

pub const PASSWORD: &str = "correct horse battery";

impl Browser {
    fn remember(
        &mut self,
        response: &awc::ClientResponse<
            impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
            + Unpin,
        >,
    ) {
        for value in response.headers().get_all("set-cookie") {
            let Ok(value) = value.to_str() else { continue };
            let pair = value.split(';').next().unwrap_or_default();
            if let Some((name, cookie)) = pair.split_once('=') {
                let expired = value.contains("Max-Age=0")
                    || value
                        .to_ascii_lowercase()
                        .contains("expires=thu, 01 jan 1970");
                if cookie.is_empty() || expired {
                    self.cookies.remove(name.trim());
                } else {
                    self.cookies
                        .insert(name.trim().to_owned(), cookie.to_owned());
                }
            }
        }
    }

    /// The `Cookie` header this browser sends, if it holds any cookie.
    pub fn cookie_header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    async fn finish(
        &mut self,
        mut response: awc::ClientResponse<
            impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
            + Unpin,
        >,
    ) -> Page {
        self.remember(&response);
        let body = response.body().limit(32 << 20).await.expect("body");
        Page {
            status: response.status(),
            body: String::from_utf8_lossy(&body).into_owned(),
            location: response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            content_type: response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            set_cookie: response
                .headers()
                .get("set-cookie")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let mut request = self.client.get(format!("{}{}", self.address, path));
        if let Some(cookies) = self.cookie_header() {
            request = request.insert_header(("Cookie", cookies));
        }
        let response = request.send().await.expect("GET");
        self.finish(response).await
    }

    pub async fn post_body(&mut self, path: &str, content_type: &str, body: Vec<u8>) -> Page {
        let mut request = self
            .client
            .post(format!("{}{}", self.address, path))
            .insert_header(("Content-Type", content_type.to_owned()));
        if let Some(cookies) = self.cookie_header() {
            request = request.insert_header(("Cookie", cookies));
        }
        let response = request.send_body(body).await.expect("POST");
        self.finish(response).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let owned: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.post_body(
            path,
            "application/x-www-form-urlencoded",
            encode_form(&owned).into_bytes(),
        )
        .await
    }

    /// Posts a form the way the page would: with the CSRF token of the page at `page_path`.
    pub async fn submit(&mut self, page_path: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.get(page_path).await;
        assert_eq!(page.status, StatusCode::OK, "{page_path}: {}", page.body);
        let csrf = page.hidden("_csrf").expect("the page has a CSRF token");
        let mut all: Vec<(&str, &str)> = vec![("_csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }

    /// Uploads one file as `multipart/form-data` with the page's CSRF token.
    pub async fn upload(
        &mut self,
        page_path: &str,
        action: &str,
        field: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Page {
        let page = self.get(page_path).await;
        let csrf = page.hidden("_csrf").expect("the page has a CSRF token");
        let boundary = "----dupintestboundary7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.post_body(
            action,
            &format!("multipart/form-data; boundary={boundary}"),
            body,
        )
        .await
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/console/login").await;
        let csrf = form
            .hidden("_csrf")
            .expect("the sign-in form has a CSRF token");
        self.post(
            "/console/login",
            &[
                ("_csrf", &csrf),
                ("next", "/console"),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }
}

/// Runs `command` to its end off the test's runtime thread and returns its output. The server a
/// test spawned lives on that thread: waiting for a child process on it would stall whatever the
/// server had begun (a reminder sweep holding SQLite's write lock, say) while the child waits for
/// that lock — "database is locked" after ten seconds.
pub async fn output_of(mut command: std::process::Command) -> std::process::Output {
    actix_web::rt::task::spawn_blocking(move || command.output())
        .await
        .expect("the command's thread")
        .expect("the command runs")
}

/// [`output_of`] with `input` written to the command's standard input.
pub async fn output_with_input(
    mut command: std::process::Command,
    input: String,
) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    actix_web::rt::task::spawn_blocking(move || {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        // A command that does not read its input may have exited already: a broken pipe is fine.
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(input.as_bytes());
        }
        child.wait_with_output()
    })
    .await
    .expect("the command's thread")
    .expect("the command runs")
}
