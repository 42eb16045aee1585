//! A small WebDriver client for the real-browser tests: starts Debian's `chromedriver` on a free
//! port, opens one headless Chromium session (a desktop window or an emulated phone), and speaks
//! the W3C WebDriver protocol to it over HTTP with `awc` and `serde_json`.
//!
//! Only what the tests need: open a page, find elements by CSS, click, type, read text, run a
//! script, take screenshots into `target/screenshots/`. The session and the driver end when the
//! `WebDriver` is dropped, whether the test passed or panicked.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{PHONE_USER_AGENT, repo_path};

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// The key under which WebDriver names an element.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long `wait_for` and friends keep trying before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// Whether the browser tests can run here. When they cannot, says so on stderr in a line nobody
/// can mistake for a pass; the caller then returns.
pub fn available(test: &str) -> bool {
    if Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists() {
        true
    } else {
        // Straight to the process's stderr: `eprintln!` would be captured, and a skip must never
        // pass for a pass.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: chromium-driver is not installed ({test} needs {CHROMEDRIVER} and {CHROMIUM}; apt-get install chromium chromium-driver)"
        );
        false
    }
}

/// The window a session opens with.
#[derive(Clone, Copy, Debug)]
pub enum Screen {
    /// A desktop browser window of this outer size.
    Desktop { width: u32, height: u32 },
    /// A phone: exactly this viewport in CSS pixels at twice the density, touch, and the
    /// WeChat-like user agent of `helpers::PHONE_USER_AGENT`.
    Phone { width: u32, height: u32 },
    /// A tablet held upright, as a supervisor carries in a school yard: this viewport in CSS
    /// pixels at twice the density, touch, and an Android tablet's Chrome user agent.
    Tablet { width: u32, height: u32 },
}

impl Screen {
    pub const LAPTOP: Screen = Screen::Desktop {
        width: 1280,
        height: 800,
    };
    pub const SMALL_PHONE: Screen = Screen::Phone {
        width: 360,
        height: 640,
    };
    pub const TABLET: Screen = Screen::Tablet {
        width: 800,
        height: 1280,
    };
}

/// An Android tablet's Chrome, as supervisors' tablets send.
const TABLET_USER_AGENT: &str = "Mozilla/5.0 (Linux; Android 13; M2105K81AC) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.193 Safari/537.36";

/// An element of the current page, as the browser names it.
#[derive(Clone, Debug)]
pub struct Element(String);

/// A failed WebDriver command: its error code (`no such element`, …) and message.
#[derive(Debug)]
pub struct DriverError {
    pub error: String,
    pub message: String,
}

impl std::fmt::Display for DriverError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}: {}", self.error, self.message)
    }
}

/// One chromedriver process with one browser session.
pub struct WebDriver {
    base: String,
    session: String,
    client: awc::Client,
    driver: Child,
    /// The browser's fresh profile, removed with it.
    profile: tempfile::TempDir,
    test_name: String,
    ended: bool,
}

/// A port nobody listens on right now, for chromedriver to take.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("the port's address").port()
}

/// Where screenshots go: `target/screenshots` (or under `CARGO_TARGET_DIR`).
pub fn screenshot_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(target) if !target.is_empty() => {
            let target = PathBuf::from(target);
            if target.is_absolute() {
                target
            } else {
                repo_path("").join(target)
            }
        }
        _ => repo_path("target"),
    }
    .join("screenshots")
}

impl WebDriver {
    /// Starts chromedriver and a headless Chromium with a fresh profile. `test_name` names the
    /// screenshots.
    pub async fn start(test_name: &str, screen: Screen) -> WebDriver {
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("a profile folder");
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .finish();
        let mut webdriver = WebDriver {
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            client,
            driver,
            profile,
            test_name: test_name.to_owned(),
            ended: false,
        };
        webdriver.wait_until_ready().await;
        webdriver.session = webdriver.new_session(screen).await;
        if let Screen::Desktop { width, height } = screen {
            webdriver.set_window_size(width, height).await;
        }
        webdriver
    }

    async fn wait_until_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.driver.try_wait() {
                panic!("chromedriver exited at start: {status}");
            }
            let ready = match self
                .client
                .get(format!("{}/status", self.base))
                .send()
                .await
            {
                Ok(mut response) => response
                    .json::<Value>()
                    .await
                    .ok()
                    .and_then(|status| status["value"]["ready"].as_bool())
                    .unwrap_or(false),
                Err(_) => false,
            };
            if ready {
                return;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "chromedriver did not become ready on {}",
                self.base
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn new_session(&self, screen: Screen) -> String {
        let profile = self.profile.path().display().to_string();
        let (width, height) = match screen {
            Screen::Desktop { width, height }
            | Screen::Phone { width, height }
            | Screen::Tablet { width, height } => (width, height),
        };
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--no-default-browser-check".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-extensions".to_owned(),
            format!("--user-data-dir={profile}"),
            format!("--window-size={width},{height}"),
        ];
        let mut chrome_options = json!({ "binary": CHROMIUM });
        let emulated = match screen {
            Screen::Desktop { .. } => None,
            Screen::Phone { width, height } => Some((width, height, PHONE_USER_AGENT)),
            Screen::Tablet { width, height } => Some((width, height, TABLET_USER_AGENT)),
        };
        if let Some((width, height, user_agent)) = emulated {
            args.push(format!("--user-agent={user_agent}"));
            // A headless window is at least 500 pixels wide; emulation gives the exact viewport.
            chrome_options["mobileEmulation"] = json!({
                "deviceMetrics": {
                    "width": width,
                    "height": height,
                    "pixelRatio": 2.0,
                    "mobile": true,
                    "touch": true,
                },
                "userAgent": user_agent,
            });
        }
        chrome_options["args"] = json!(args);
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "goog:chromeOptions": chrome_options,
                }
            }
        });
        let value = self
            .send("POST", "/session", Some(capabilities))
            .await
            .unwrap_or_else(|error| panic!("Chromium did not start: {error}"));
        value["sessionId"]
            .as_str()
            .expect("the new session has an id")
            .to_owned()
    }

    /// Sends one command and returns its `value`, or the driver's error.
    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, DriverError> {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "GET" => self.client.get(url),
            "DELETE" => self.client.delete(url),
            _ => self.client.post(url),
        };
        let sent = match body {
            Some(body) => request.send_json(&body).await,
            None if method == "POST" => request.send_json(&json!({})).await,
            None => request.send().await,
        };
        let mut response = sent.map_err(|error| DriverError {
            error: "transport".to_owned(),
            message: format!("{method} {path}: {error}"),
        })?;
        let bytes = response
            .body()
            .limit(256 << 20)
            .await
            .map_err(|error| DriverError {
                error: "transport".to_owned(),
                message: format!("{method} {path}: {error}"),
            })?;
        let mut answer: Value = serde_json::from_slice(&bytes).map_err(|error| DriverError {
            error: "bad response".to_owned(),
            message: format!("{method} {path}: {error}"),
        })?;
        let value = answer["value"].take();
        match value["error"].as_str() {
            Some(error) => Err(DriverError {
                error: error.to_owned(),
                message: value["message"].as_str().unwrap_or_default().to_owned(),
            }),
            None => Ok(value),
        }
    }

    /// A command of this session that must succeed.
    async fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        self.send(method, &path, body)
            .await
            .unwrap_or_else(|error| panic!("WebDriver {method} {path}: {error}"))
    }

    pub async fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })))
            .await;
    }

    pub async fn current_url(&self) -> String {
        self.command("GET", "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn title(&self) -> String {
        self.command("GET", "/title", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn page_source(&self) -> String {
        self.command("GET", "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The first element that matches `css`, or `None`.
    pub async fn try_find(&self, css: &str) -> Option<Element> {
        let path = format!("/session/{}/element", self.session);
        let body = json!({ "using": "css selector", "value": css });
        match self.send("POST", &path, Some(body)).await {
            Ok(value) => Some(element_of(&value)),
            Err(error) if error.error == "no such element" => None,
            Err(error) => panic!("WebDriver find {css}: {error}"),
        }
    }

    /// The first element that matches `css`; the test fails if there is none.
    pub async fn find(&self, css: &str) -> Element {
        match self.try_find(css).await {
            Some(element) => element,
            None => panic!("no element matches {css} on {}", self.current_url().await),
        }
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let value = self
            .command(
                "POST",
                "/elements",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        value
            .as_array()
            .map(|elements| elements.iter().map(element_of).collect())
            .unwrap_or_default()
    }

    /// Waits until an element matches `css` (a page loading after a click, say).
    pub async fn wait_for(&self, css: &str) -> Element {
        let started = Instant::now();
        loop {
            if let Some(element) = self.try_find(css).await {
                return element;
            }
            if started.elapsed() > PATIENCE {
                panic!(
                    "no element matched {css} within {PATIENCE:?} on {}",
                    self.current_url().await
                );
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page's text contains `text`.
    pub async fn wait_for_text(&self, text: &str) {
        let started = Instant::now();
        loop {
            if self.page_source().await.contains(text) {
                return;
            }
            if started.elapsed() > PATIENCE {
                panic!(
                    "{text:?} did not appear within {PATIENCE:?} on {}:\n{}",
                    self.current_url().await,
                    self.page_source().await
                );
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the element as a person would: the browser scrolls it into view and refuses if
    /// something else covers it or it is hidden.
    pub async fn click(&self, element: &Element) {
        self.command("POST", &format!("/element/{}/click", element.0), None)
            .await;
    }

    pub async fn send_keys(&self, element: &Element, text: &str) {
        self.command(
            "POST",
            &format!("/element/{}/value", element.0),
            Some(json!({ "text": text })),
        )
        .await;
    }

    pub async fn clear(&self, element: &Element) {
        self.command("POST", &format!("/element/{}/clear", element.0), None)
            .await;
    }

    /// The element's visible text.
    pub async fn text(&self, element: &Element) -> String {
        self.command("GET", &format!("/element/{}/text", element.0), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn is_displayed(&self, element: &Element) -> bool {
        self.command("GET", &format!("/element/{}/displayed", element.0), None)
            .await
            .as_bool()
            .unwrap_or(false)
    }

    /// A DOM property of the element (`checked`, `value`, …).
    pub async fn property(&self, element: &Element, name: &str) -> Value {
        self.command(
            "GET",
            &format!("/element/{}/property/{name}", element.0),
            None,
        )
        .await
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) and returns what it returns.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// An element as a script argument.
    pub fn argument(element: &Element) -> Value {
        json!({ ELEMENT_KEY: element.0 })
    }

    /// Sets the outer size of the browser window.
    pub async fn set_window_size(&self, width: u32, height: u32) {
        self.command(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await;
    }

    /// Saves what the window shows as `target/screenshots/<test name>-<step>.png` and returns
    /// the path.
    pub async fn screenshot(&self, step: &str) -> PathBuf {
        let encoded = self.command("GET", "/screenshot", None).await;
        let png = base64_decode(encoded.as_str().expect("a base64 screenshot"))
            .expect("the screenshot is valid base64");
        let folder = screenshot_dir();
        std::fs::create_dir_all(&folder).expect("the screenshot folder");
        let path = folder.join(format!("{}-{step}.png", self.test_name));
        std::fs::write(&path, png).expect("the screenshot is written");
        eprintln!("screenshot: {}", path.display());
        path
    }

    /// Prints the current page as Chromium's print to PDF does on A4 paper, with the page's own
    /// `@page` margins and backgrounds, and saves it as `target/screenshots/<test name>-<step>.pdf`;
    /// returns the PDF.
    pub async fn print_pdf(&self, step: &str) -> Vec<u8> {
        let encoded = self
            .command(
                "POST",
                "/print",
                Some(json!({
                    "page": { "width": 21.0, "height": 29.7 },
                    "background": true,
                    "shrinkToFit": false,
                })),
            )
            .await;
        let pdf = base64_decode(encoded.as_str().expect("a base64 PDF"))
            .expect("the PDF is valid base64");
        let folder = screenshot_dir();
        std::fs::create_dir_all(&folder).expect("the screenshot folder");
        let path = folder.join(format!("{}-{step}.pdf", self.test_name));
        std::fs::write(&path, &pdf).expect("the PDF is written");
        eprintln!("printed: {}", path.display());
        pdf
    }

    /// Ends the session and the driver.
    pub async fn quit(mut self) {
        let path = format!("/session/{}", self.session);
        let _ = self.send("DELETE", &path, None).await;
        self.ended = true;
        self.stop_driver();
    }

    fn stop_driver(&mut self) {
        // Already exited is fine: there is nothing left to stop.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for WebDriver {
    fn drop(&mut self) {
        if !self.ended && !self.session.is_empty() {
            // A test that panicked never reached `quit`: end the session without the async
            // runtime, so that chromedriver closes Chromium before it is killed itself.
            let _ = delete_session_blocking(&self.base, &self.session);
        }
        self.stop_driver();
    }
}

/// `DELETE /session/{id}` over a plain socket, for `Drop`.
fn delete_session_blocking(base: &str, session: &str) -> std::io::Result<()> {
    let address = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "DELETE /session/{session} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    Ok(())
}

fn element_of(value: &Value) -> Element {
    Element(
        value[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("not an element: {value}"))
            .to_owned(),
    )
}

/// How many pages a PDF has: its `/Type /Page` objects (the page tree's `/Type /Pages` nodes
/// are not pages). Chromium writes page objects uncompressed, so they can be counted in the bytes.
pub fn pdf_pages(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page";
    let compact = b"/Type/Page";
    let mut pages = 0;
    for (index, _) in pdf.iter().enumerate() {
        for pattern in [&needle[..], &compact[..]] {
            if pdf[index..].starts_with(pattern) && pdf.get(index + pattern.len()) != Some(&b's') {
                pages += 1;
            }
        }
    }
    pages
}

#[test]
fn pdf_pages_counts_pages_and_not_the_page_tree() {
    let pdf = b"<< /Type /Pages /Count 2 >> << /Type /Page /Parent 1 0 R >> << /Type/Page >>";
    assert_eq!(pdf_pages(pdf), 2);
    assert_eq!(pdf_pages(b"%PDF-1.4"), 0);
}

/// Standard base64 (with or without padding) to bytes; `None` on any other character.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn sextet(byte: u8) -> Option<u32> {
        Some(match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let clean: Vec<u8> = text
        .bytes()
        .filter(|byte| !byte.is_ascii_whitespace() && *byte != b'=')
        .collect();
    let mut bytes = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut group = 0u32;
        for (index, byte) in chunk.iter().enumerate() {
            group |= sextet(*byte)? << (18 - 6 * index);
        }
        let produced = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        bytes.extend_from_slice(&group.to_be_bytes()[1..1 + produced]);
    }
    Some(bytes)
}

#[test]
fn base64_decodes_with_and_without_padding() {
    assert_eq!(base64_decode("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
    assert_eq!(base64_decode("aGVsbG8").as_deref(), Some(&b"hello"[..]));
    assert_eq!(base64_decode("aGk=").as_deref(), Some(&b"hi"[..]));
    assert_eq!(
        base64_decode("AAEC/w==").as_deref(),
        Some(&[0u8, 1, 2, 255][..])
    );
    assert_eq!(base64_decode("a!=="), None);
    assert_eq!(base64_decode("").as_deref(), Some(&b""[..]));
}
