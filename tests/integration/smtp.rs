//! A real SMTP server on loopback for the mail tests: `tests/smtp_sink.py` (aiosmtpd) in a child
//! process, writing every message it accepts to a folder as `.eml` plus a `.json` summary that
//! Python's `email` package decoded (envelope, subject, text and HTML parts, inline images).
//! Without aiosmtpd the mail tests print SKIPPED and return.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::repo_path;

/// Whether `python3` can import aiosmtpd; if not, says SKIPPED on stderr for `test`.
pub fn available(test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !ok {
        eprintln!(
            "SKIPPED {test}: python3 cannot import aiosmtpd (python3 -m pip install aiosmtpd)"
        );
    }
    ok
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// One message as the sink received it.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct Received {
    pub rcpt_tos: Vec<String>,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub content_types: Vec<String>,
    pub text: Option<String>,
    pub html: Option<String>,
    pub images: Vec<ReceivedImage>,
}

#[derive(Clone, Debug, serde::Deserialize)]
pub struct ReceivedImage {
    pub content_type: String,
    pub content_id: String,
    pub base64: String,
}

/// The sink's folder and port; the server itself may be stopped and started again.
pub struct Sink {
    pub port: u16,
    folder: tempfile::TempDir,
    child: Option<Child>,
    reject_domain: Option<String>,
}

impl Sink {
    /// A sink on a free port, not started yet.
    pub fn new() -> Sink {
        Sink {
            port: free_port(),
            folder: tempfile::tempdir().expect("temp dir"),
            child: None,
            reject_domain: None,
        }
    }

    /// Recipients at `domain` are refused with 550.
    pub fn rejecting(mut self, domain: &str) -> Sink {
        self.reject_domain = Some(domain.to_owned());
        self
    }

    /// A sink listening already.
    pub fn started() -> Sink {
        let mut sink = Sink::new();
        sink.start();
        sink
    }

    pub fn folder(&self) -> &Path {
        self.folder.path()
    }

    /// Starts the server on the sink's port and waits until it listens.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "the sink runs already");
        let ready = self.folder().join("ready");
        let _ = std::fs::remove_file(&ready);
        let mut command = Command::new("python3");
        command
            .arg(repo_path("tests/smtp_sink.py"))
            .arg(self.port.to_string())
            .arg(self.folder())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(domain) = &self.reject_domain {
            command.args(["--reject-domain", domain]);
        }
        self.child = Some(command.spawn().expect("python3 starts"));
        let deadline = Instant::now() + Duration::from_secs(20);
        while !ready.exists() {
            assert!(
                Instant::now() < deadline,
                "the SMTP sink did not start on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (as an outage would); the folder stays.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Until the port refuses connections, the outage has not begun.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "the sink's port stays open");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every message received so far, in order of arrival.
    pub fn received(&self) -> Vec<Received> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.folder())
            .expect("the sink's folder")
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|path| {
                let text = std::fs::read_to_string(path).expect("a message summary");
                serde_json::from_str(&text).expect("a JSON summary")
            })
            .collect()
    }

    /// Waits until at least `count` messages arrived (panics after `patience`).
    pub async fn wait_for(&self, count: usize, patience: Duration) -> Vec<Received> {
        let deadline = Instant::now() + patience;
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {count} messages arrived within {patience:?}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Settings that send to this sink, retrying after about a second.
    pub fn settings(&self) -> dupin::mail::MailSettings {
        dupin::mail::MailSettings {
            host: Some("127.0.0.1".to_owned()),
            port: Some(self.port),
            tls: dupin::mail::TlsMode::None,
            from: "督评 <noreply@county.edu.cn>".to_owned(),
            retry_base: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            ..dupin::mail::MailSettings::default()
        }
    }

    /// The same as environment variables for a `dupin` child process.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("DUPIN_SMTP_HOST", "127.0.0.1".to_owned()),
            ("DUPIN_SMTP_PORT", self.port.to_string()),
            ("DUPIN_SMTP_TLS", "none".to_owned()),
            ("DUPIN_MAIL_FROM", "督评 <noreply@county.edu.cn>".to_owned()),
            ("DUPIN_MAIL_RETRY_SECONDS", "1".to_owned()),
        ]
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
