//! SMTP: the settings (host, port, TLS mode, account, sender), building a message from an
//! outbox row, and one connection that says at which step a failure happened (connect, TLS,
//! authentication, sender, recipient, data) and whether trying again later could help.

use std::fmt;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, MailBodyParameter, MailParameter};
use lettre::{Address, Message};

use super::InlineImage;

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain text (a relay on the same machine or a test sink).
    None,
    /// Plain connection upgraded with STARTTLS, which the server must offer (port 587).
    Starttls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
}

impl TlsMode {
    pub fn parse(text: &str) -> Option<TlsMode> {
        match text.trim().to_ascii_lowercase().as_str() {
            "none" | "off" | "plain" => Some(TlsMode::None),
            "starttls" => Some(TlsMode::Starttls),
            "tls" | "smtps" | "ssl" => Some(TlsMode::Tls),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::None => "none",
            TlsMode::Starttls => "starttls",
            TlsMode::Tls => "tls",
        }
    }

    /// The usual port of the mode: 25, 587 or 465.
    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::None => 25,
            TlsMode::Starttls => 587,
            TlsMode::Tls => 465,
        }
    }
}

/// Default base of the retry backoff (`DUPIN_MAIL_RETRY_SECONDS`).
pub const DEFAULT_RETRY_SECONDS: u64 = 30;
/// After this many failed attempts a message is given up (`failed`).
pub const DEFAULT_MAX_ATTEMPTS: i32 = 12;
/// The sender used when `DUPIN_MAIL_FROM` is not set.
pub const DEFAULT_FROM: &str = "督评 <noreply@localhost>";

/// Where and how mail is sent. Without a host nothing is sent: mail waits in the outbox.
#[derive(Clone)]
pub struct MailSettings {
    pub host: Option<String>,
    /// `None`: the TLS mode's usual port.
    pub port: Option<u16>,
    pub tls: TlsMode,
    pub user: Option<String>,
    /// Only ever from the environment; never logged, printed or shown.
    pub password: Option<String>,
    /// `督评 <noreply@example.cn>`.
    pub from: String,
    /// The first retry waits this long, each next one twice as long (capped at an hour).
    pub retry_base: Duration,
    pub max_attempts: i32,
    /// How long one connection, command or reply may take.
    pub timeout: Duration,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            host: None,
            port: None,
            tls: TlsMode::Starttls,
            user: None,
            password: None,
            from: DEFAULT_FROM.to_owned(),
            retry_base: Duration::from_secs(DEFAULT_RETRY_SECONDS),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            timeout: Duration::from_secs(30),
        }
    }
}

impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "(set)"))
            .field("from", &self.from)
            .field("retry_base", &self.retry_base)
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

impl MailSettings {
    pub fn is_configured(&self) -> bool {
        self.host
            .as_deref()
            .is_some_and(|host| !host.trim().is_empty())
    }

    pub fn port(&self) -> u16 {
        self.port.unwrap_or_else(|| self.tls.default_port())
    }

    /// `host:port (starttls)`, for the console and the logs: never the password.
    pub fn describe(&self) -> String {
        match &self.host {
            Some(host) if self.is_configured() => {
                let user = self
                    .user
                    .as_deref()
                    .map(|user| format!("，账号 {user}"))
                    .unwrap_or_default();
                format!("{host}:{}（{}{user}）", self.port(), self.tls.as_str())
            }
            _ => "未配置".to_owned(),
        }
    }

    /// The sender as a mailbox; a bad `DUPIN_MAIL_FROM` is a configuration error.
    pub fn from_mailbox(&self) -> Result<Mailbox, String> {
        self.from.trim().parse::<Mailbox>().map_err(|error| {
            format!(
                "发件人地址 DUPIN_MAIL_FROM“{}”无效（{error}），应写成 督评 <noreply@example.cn>",
                self.from
            )
        })
    }

    /// The wait before attempt `attempts + 1`, after `attempts` failed ones (≥ 1).
    pub fn backoff(&self, attempts: i32) -> Duration {
        backoff(self.retry_base, attempts)
    }
}

/// `base × 2^(attempts−1)`, at most an hour (or `base`, when that is longer).
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let exponent = attempts.clamp(1, 20) as u32 - 1;
    let cap = Duration::from_secs(3600).max(base);
    base.saturating_mul(1u32 << exponent).min(cap)
}

/// The step of the conversation at which sending failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Connect,
    Tls,
    Auth,
    Sender,
    Recipient,
    Data,
    /// The message itself could not be built (a bad address, say).
    Message,
}

/// Why a message was not sent, in words for the console and the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpError {
    pub stage: Stage,
    /// Trying again cannot help (the server refused the recipient or the message for good).
    pub permanent: bool,
    pub message: String,
}

impl fmt::Display for SmtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SmtpError {}

impl SmtpError {
    /// The connection is unusable after this failure: open a new one for the next message.
    pub fn breaks_connection(&self) -> bool {
        !matches!(self.stage, Stage::Recipient | Stage::Message)
    }
}

/// The reason lettre gives, with the server's reply when there is one.
fn reason(error: &lettre::transport::smtp::Error) -> String {
    let text = error.to_string();
    // "permanent error (550): 5.1.1 …" reads as the server's code and words.
    if let Some(code) = error.status() {
        let code = code.to_string();
        if let Some((_, rest)) = text.split_once("): ") {
            return format!("{code} {rest}");
        }
        return code;
    }
    text
}

fn failed(
    stage: Stage,
    error: &lettre::transport::smtp::Error,
    settings: &MailSettings,
) -> SmtpError {
    let host = settings.host.as_deref().unwrap_or("");
    let port = settings.port();
    let detail = reason(error);
    let (message, permanent) = match stage {
        Stage::Connect if error.is_tls() => (
            format!("与邮件服务器 {host}:{port} 的 TLS 握手失败（TLS handshake failed）：{detail}"),
            false,
        ),
        Stage::Connect => (
            format!("无法连接邮件服务器 {host}:{port}（cannot connect）：{detail}"),
            false,
        ),
        Stage::Tls => (
            format!("与邮件服务器 {host}:{port} 的 TLS 握手失败（TLS handshake failed）：{detail}"),
            false,
        ),
        Stage::Auth if error.is_client() => (
            format!(
                "邮件服务器 {host}:{port} 没有提供可用的登录方式（authentication refused：服务器未提供 AUTH PLAIN 或 LOGIN，或要求先加密连接）：{detail}"
            ),
            false,
        ),
        Stage::Auth => (
            format!("邮件服务器拒绝了登录（authentication refused）：{detail}"),
            false,
        ),
        Stage::Sender => (
            format!(
                "邮件服务器拒绝了发件人 {}（sender refused）：{detail}",
                settings.from
            ),
            error.is_permanent(),
        ),
        Stage::Recipient => (
            format!("邮件服务器拒绝了收件人（recipient refused）：{detail}"),
            error.is_permanent() || error.is_client(),
        ),
        Stage::Data => (
            format!("邮件服务器拒绝了邮件内容（message refused）：{detail}"),
            error.is_permanent() || error.is_client(),
        ),
        Stage::Message => (format!("邮件无法生成：{detail}"), true),
    };
    SmtpError {
        stage,
        permanent,
        message,
    }
}

/// One open, greeted (and, if asked, encrypted and signed-in) connection to the SMTP server.
pub struct SmtpSession {
    connection: AsyncSmtpConnection,
    settings: MailSettings,
}

impl SmtpSession {
    /// Connects, says EHLO, upgrades with STARTTLS and signs in as the settings say.
    pub async fn open(settings: &MailSettings) -> Result<SmtpSession, SmtpError> {
        let host = settings.host.clone().unwrap_or_default();
        let hello = ClientId::default();
        let tls = |host: &str| {
            TlsParameters::new(host.to_owned())
                .map_err(|error| failed(Stage::Tls, &error, settings))
        };
        let initial_tls = match settings.tls {
            TlsMode::Tls => Some(tls(&host)?),
            _ => None,
        };
        if initial_tls.is_some() {
            // Reach the port first, so that a failure after it is the TLS handshake's.
            let port = settings.port();
            let probe = tokio::time::timeout(
                settings.timeout,
                tokio::net::TcpStream::connect((host.as_str(), port)),
            )
            .await;
            let problem = match probe {
                Ok(Ok(_)) => None,
                Ok(Err(error)) => Some(error.to_string()),
                Err(_) => Some(format!("no answer within {} s", settings.timeout.as_secs())),
            };
            if let Some(problem) = problem {
                return Err(SmtpError {
                    stage: Stage::Connect,
                    permanent: false,
                    message: format!(
                        "无法连接邮件服务器 {host}:{port}（cannot connect）：{problem}"
                    ),
                });
            }
        }
        let mut connection = AsyncSmtpConnection::connect_tokio1(
            (host.as_str(), settings.port()),
            Some(settings.timeout),
            &hello,
            initial_tls,
            None,
        )
        .await
        .map_err(|error| {
            let stage = if settings.tls == TlsMode::Tls {
                Stage::Tls
            } else {
                Stage::Connect
            };
            failed(stage, &error, settings)
        })?;
        if settings.tls == TlsMode::Starttls {
            if !connection.can_starttls() {
                connection.abort().await;
                return Err(SmtpError {
                    stage: Stage::Tls,
                    permanent: false,
                    message: format!(
                        "邮件服务器 {host}:{} 不支持 STARTTLS（TLS handshake failed）；请改用 DUPIN_SMTP_TLS=tls 或 none",
                        settings.port()
                    ),
                });
            }
            let parameters = tls(&host)?;
            connection
                .starttls(parameters, &hello)
                .await
                .map_err(|error| failed(Stage::Tls, &error, settings))?;
        }
        if let Some(user) = settings.user.as_deref().filter(|user| !user.is_empty()) {
            let credentials = Credentials::new(
                user.to_owned(),
                settings.password.clone().unwrap_or_default(),
            );
            connection
                .auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
                .await
                .map_err(|error| failed(Stage::Auth, &error, settings))?;
        }
        Ok(SmtpSession {
            connection,
            settings: settings.clone(),
        })
    }

    /// Sends one message: MAIL, RCPT for each recipient, DATA. After a refused recipient the
    /// transaction is reset so that the connection serves the next message.
    pub async fn send(&mut self, message: &Message) -> Result<(), SmtpError> {
        let envelope = message.envelope();
        let email = message.formatted();
        let mut options = Vec::new();
        if !email.is_ascii() {
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        self.connection
            .command(Mail::new(envelope.from().cloned(), options))
            .await
            .map_err(|error| failed(Stage::Sender, &error, &self.settings))?;
        for to in envelope.to() {
            if let Err(error) = self.connection.command(Rcpt::new(to.clone(), vec![])).await {
                let error = failed(Stage::Recipient, &error, &self.settings);
                if self.connection.command(Rset).await.is_err() {
                    return Err(SmtpError {
                        stage: Stage::Data,
                        ..error
                    });
                }
                return Err(error);
            }
        }
        self.connection
            .command(Data)
            .await
            .map_err(|error| failed(Stage::Data, &error, &self.settings))?;
        self.connection
            .message(&email)
            .await
            .map_err(|error| failed(Stage::Data, &error, &self.settings))?;
        Ok(())
    }

    /// Says QUIT and closes.
    pub async fn close(mut self) {
        let _ = self.connection.quit().await;
        self.connection.abort().await;
    }
}

/// The parts of a message, as stored in the outbox.
pub struct Parts<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: Option<&'a str>,
    pub images: &'a [InlineImage],
    /// `<…@…>`: the same on every attempt, so a receiving server can recognise a repeat.
    pub message_id: Option<String>,
}

/// Builds the MIME message: plain text; or multipart/alternative of text and HTML; with inline
/// images, the HTML inside multipart/related beside its images (`cid:`).
pub fn build_message(from: &Mailbox, parts: &Parts<'_>) -> Result<Message, SmtpError> {
    let bad = |message: String| SmtpError {
        stage: Stage::Message,
        permanent: true,
        message,
    };
    let to = parse_address(parts.to).map_err(bad)?;
    let builder = Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to))
        .subject(parts.subject)
        .message_id(parts.message_id.clone());
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(parts.text.to_owned());
    let built = match parts.html {
        None => builder.singlepart(text),
        Some(html) => {
            let html_part = SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(html.to_owned());
            if parts.images.is_empty() {
                builder.multipart(
                    MultiPart::alternative()
                        .singlepart(text)
                        .singlepart(html_part),
                )
            } else {
                let mut related = MultiPart::related().singlepart(html_part);
                for image in parts.images {
                    let content_type =
                        ContentType::parse(&image.content_type).map_err(|error| {
                            bad(format!("图片类型“{}”无效：{error}", image.content_type))
                        })?;
                    related = related.singlepart(
                        Attachment::new_inline(image.cid.clone())
                            .body(image.bytes.clone(), content_type),
                    );
                }
                builder.multipart(MultiPart::alternative().singlepart(text).multipart(related))
            }
        }
    };
    built.map_err(|error| bad(format!("邮件无法生成：{error}")))
}

/// Checks one e-mail address as people type it (surrounding spaces allowed).
pub fn parse_address(text: &str) -> Result<Address, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("邮箱地址为空".to_owned());
    }
    let address = text
        .parse::<Address>()
        .map_err(|_| format!("“{text}”不是有效的邮箱地址"))?;
    if !address.domain().contains('.') && address.domain() != "localhost" {
        return Err(format!("“{text}”不是有效的邮箱地址（域名不完整）"));
    }
    Ok(address)
}

/// Splits a list of addresses (one per line, or separated by commas, semicolons or spaces,
/// including the Chinese ones) and checks each; every bad one is named.
pub fn parse_address_list(text: &str, limit: usize) -> Result<Vec<String>, String> {
    let mut addresses: Vec<String> = Vec::new();
    let mut bad = Vec::new();
    for item in text
        .split(['\n', '\r', ',', ';', '，', '；', '、', ' ', '\t', '　'])
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        match parse_address(item) {
            Ok(address) => {
                let address = address.to_string();
                if !addresses
                    .iter()
                    .any(|known| known.eq_ignore_ascii_case(&address))
                {
                    addresses.push(address);
                }
            }
            Err(_) => bad.push(format!("“{item}”")),
        }
    }
    if !bad.is_empty() {
        return Err(format!("以下邮箱地址无效：{}", bad.join("、")));
    }
    if addresses.is_empty() {
        return Err("请至少填写一个邮箱地址".to_owned());
    }
    if addresses.len() > limit {
        return Err(format!(
            "一次最多发送给 {limit} 个地址，现在有 {} 个",
            addresses.len()
        ));
    }
    Ok(addresses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(base, 1), Duration::from_secs(30));
        assert_eq!(backoff(base, 2), Duration::from_secs(60));
        assert_eq!(backoff(base, 4), Duration::from_secs(240));
        assert_eq!(backoff(base, 11), Duration::from_secs(3600));
        assert_eq!(backoff(Duration::from_secs(1), 3), Duration::from_secs(4));
    }

    #[test]
    fn address_lists_split_and_name_bad_ones() {
        assert_eq!(
            parse_address_list("a@b.cn, c@d.cn\n e@f.cn；a@b.cn", 50).expect("the list is valid"),
            vec!["a@b.cn", "c@d.cn", "e@f.cn"]
        );
        let error = parse_address_list("a@b.cn\nnot-an-address\nx@", 50)
            .expect_err("bad addresses are refused");
        assert!(
            error.contains("not-an-address") && error.contains("x@"),
            "{error}"
        );
        assert!(parse_address_list(" \n ", 50).is_err());
        let many: Vec<String> = (0..51).map(|i| format!("u{i}@b.cn")).collect();
        assert!(
            parse_address_list(&many.join(","), 50)
                .expect_err("51 addresses are too many")
                .contains("50")
        );
    }

    #[test]
    fn tls_modes_parse() {
        assert_eq!(TlsMode::parse("STARTTLS"), Some(TlsMode::Starttls));
        assert_eq!(TlsMode::parse("none"), Some(TlsMode::None));
        assert_eq!(TlsMode::parse("tls"), Some(TlsMode::Tls));
        assert_eq!(TlsMode::parse("maybe"), None);
    }

    #[test]
    fn settings_never_show_the_password() {
        let settings = MailSettings {
            host: Some("smtp.example.cn".to_owned()),
            user: Some("u".to_owned()),
            password: Some("secret-pw".to_owned()),
            ..MailSettings::default()
        };
        assert!(!format!("{settings:?}").contains("secret-pw"));
        assert!(!settings.describe().contains("secret-pw"));
    }

    #[test]
    fn html_with_images_is_related_inside_alternative() {
        let from: Mailbox = "督评 <noreply@example.cn>"
            .parse()
            .expect("a valid mailbox");
        let images = vec![InlineImage {
            cid: "chart-1".to_owned(),
            content_type: "image/png".to_owned(),
            bytes: vec![0x89, b'P', b'N', b'G'],
        }];
        let message = build_message(
            &from,
            &Parts {
                to: "a@example.cn",
                subject: "报告",
                text: "张&李",
                html: Some("<img src=\"cid:chart-1\">"),
                images: &images,
                message_id: Some("<outbox-1-2@example.cn>".to_owned()),
            },
        )
        .expect("the message builds");
        let raw = String::from_utf8(message.formatted()).expect("MIME text is ASCII");
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("multipart/related"));
        assert!(raw.contains("Content-ID: <chart-1>"));
        assert!(raw.contains("Message-ID: <outbox-1-2@example.cn>"));
        assert!(
            build_message(
                &from,
                &Parts {
                    to: "not an address",
                    ..parts_of(&images)
                }
            )
            .is_err()
        );
    }

    fn parts_of(images: &[InlineImage]) -> Parts<'_> {
        Parts {
            to: "a@example.cn",
            subject: "s",
            text: "t",
            html: None,
            images,
            message_id: None,
        }
    }
}
