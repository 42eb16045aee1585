//! A deliberately small HTTP/1.1 client for the benchmark: one keep-alive connection per
//! simulated phone loop, `Content-Length` bodies only (what dupin sends), gzip when asked.
//! Each submission is a new phone: no cookie, a fresh form, a fresh key.

use std::io::Read;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::survey::Survey;

pub struct Connection {
    stream: BufReader<TcpStream>,
}

pub struct Response {
    pub status: u16,
    /// The first `Set-Cookie` (name=value), for the phone's browser cookie.
    pub set_cookie: Option<String>,
    /// Every `Set-Cookie` (name=value), in order.
    pub cookies: Vec<String>,
    pub body: Vec<u8>,
}

/// What a streamed response carried, without keeping it.
pub struct Counted {
    pub status: u16,
    pub bytes: u64,
    pub lines: u64,
}

impl Connection {
    pub async fn open(port: u16) -> anyhow::Result<Connection> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream: BufReader::new(stream),
        })
    }

    pub async fn request(
        &mut self,
        head: &str,
        body: &[u8],
        gzip: bool,
    ) -> anyhow::Result<Response> {
        let stream = self.stream.get_mut();
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        let mut status_line = String::new();
        if self.stream.read_line(&mut status_line).await? == 0 {
            bail!("the server closed the connection");
        }
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .with_context(|| format!("bad status line {status_line:?}"))?;
        let mut length = 0usize;
        let mut chunked = false;
        let mut cookies = Vec::new();
        let mut gzipped = false;
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line).await?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().context("bad content-length")?,
                "set-cookie" => cookies.extend(value.split(';').next().map(str::to_owned)),
                "content-encoding" => gzipped = value.eq_ignore_ascii_case("gzip"),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                _ => {}
            }
        }
        let mut body = if chunked {
            self.read_chunked().await?
        } else {
            let mut body = vec![0; length];
            self.stream.read_exact(&mut body).await?;
            body
        };
        if gzipped && gzip {
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut plain)?;
            body = plain;
        }
        Ok(Response {
            status,
            set_cookie: cookies.first().cloned(),
            cookies,
            body,
        })
    }

    /// Sends a request and reads its (chunked or sized) body through a small buffer, counting
    /// bytes and newlines: for downloads far larger than memory should hold.
    pub async fn request_counted(&mut self, head: &str) -> anyhow::Result<Counted> {
        self.stream.get_mut().write_all(head.as_bytes()).await?;
        let mut status_line = String::new();
        if self.stream.read_line(&mut status_line).await? == 0 {
            bail!("the server closed the connection");
        }
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .with_context(|| format!("bad status line {status_line:?}"))?;
        let mut length = 0u64;
        let mut chunked = false;
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line).await?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().context("bad content-length")?,
                "transfer-encoding" => chunked = value.trim().eq_ignore_ascii_case("chunked"),
                _ => {}
            }
        }
        let mut counted = Counted {
            status,
            bytes: 0,
            lines: 0,
        };
        if !chunked {
            self.skip_counting(length, &mut counted).await?;
            return Ok(counted);
        }
        loop {
            let mut size_line = String::new();
            self.stream.read_line(&mut size_line).await?;
            let size_text = size_line.trim().split(';').next().unwrap_or("");
            let size = u64::from_str_radix(size_text, 16)
                .with_context(|| format!("bad chunk size {size_line:?}"))?;
            self.skip_counting(size, &mut counted).await?;
            let mut end_of_chunk = String::new();
            self.stream.read_line(&mut end_of_chunk).await?;
            if size == 0 {
                return Ok(counted);
            }
        }
    }

    async fn skip_counting(&mut self, mut left: u64, counted: &mut Counted) -> anyhow::Result<()> {
        let mut buffer = vec![0u8; 64 * 1024];
        while left > 0 {
            let want = buffer
                .len()
                .min(usize::try_from(left).unwrap_or(buffer.len()));
            let read = self.stream.read(&mut buffer[..want]).await?;
            if read == 0 {
                bail!("the server closed the connection mid-body");
            }
            counted.bytes += read as u64;
            counted.lines += buffer[..read].iter().filter(|&&byte| byte == b'\n').count() as u64;
            left -= read as u64;
        }
        Ok(())
    }
}

impl Connection {
    async fn read_chunked(&mut self) -> anyhow::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let mut size_line = String::new();
            self.stream.read_line(&mut size_line).await?;
            let size_text = size_line.trim().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size_text, 16)
                .with_context(|| format!("bad chunk size {size_line:?}"))?;
            let start = body.len();
            body.resize(start + size, 0);
            self.stream.read_exact(&mut body[start..]).await?;
            let mut end_of_chunk = String::new();
            self.stream.read_line(&mut end_of_chunk).await?;
            if size == 0 {
                return Ok(body);
            }
        }
    }
}

fn hidden(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_owned())
}

pub(super) fn encode(fields: &[(String, String)]) -> String {
    let mut out = String::new();
    for (n, (name, value)) in fields.iter().enumerate() {
        if n > 0 {
            out.push('&');
        }
        for (part, text) in [(0, name), (1, value)] {
            if part == 1 {
                out.push('=');
            }
            for byte in text.bytes() {
                match byte {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        out.push(byte as char)
                    }
                    other => out.push_str(&format!("%{other:02X}")),
                }
            }
        }
    }
    out
}

/// Random complete answers, already form-encoded: made once before the run so that the load
/// generator, which shares the server's cores, spends them on HTTP rather than on dice.
pub fn answer_pool(survey: &Survey, size: usize) -> Vec<String> {
    let mut rng = rand::rng();
    (0..size)
        .map(|_| encode(&super::random_answers(survey, &mut rng)))
        .collect()
}

/// One phone: open the form, answer (one of the pool's answers), submit; succeed on the
/// redirect to thanks.
pub async fn submit_once(
    connection: &mut Option<Connection>,
    port: u16,
    token: &str,
    answers: &str,
    address: &str,
    gzip: bool,
) -> anyhow::Result<()> {
    if connection.is_none() {
        *connection = Some(Connection::open(port).await?);
    }
    let Some(conn) = connection.as_mut() else {
        bail!("no connection");
    };
    let accept = if gzip {
        "Accept-Encoding: gzip\r\n"
    } else {
        ""
    };
    let head = format!(
        "GET /s/{token} HTTP/1.1\r\nHost: 127.0.0.1\r\n{accept}User-Agent: dupin-bench\r\nX-Forwarded-For: {address}\r\n\r\n"
    );
    let form = conn.request(&head, b"", gzip).await?;
    if form.status != 200 {
        bail!("GET /s/{token} answered {}", form.status);
    }
    let page = String::from_utf8_lossy(&form.body);
    let key = hidden(&page, "_key").context("the form has no _key")?;
    let served = hidden(&page, "_t").context("the form has no _t")?;
    let cookie = form.set_cookie.context("the form set no cookie")?;
    let body = format!(
        "{}&{answers}",
        encode(&[("_key".to_owned(), key), ("_t".to_owned(), served)])
    );
    let head = format!(
        "POST /s/{token} HTTP/1.1\r\nHost: 127.0.0.1\r\n{accept}User-Agent: dupin-bench\r\nX-Forwarded-For: {address}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let answer = conn.request(&head, body.as_bytes(), gzip).await?;
    if answer.status != 303 {
        let text = String::from_utf8_lossy(&answer.body);
        let alert = text
            .find("role=\"alert\"")
            .map(|at| &text[at..(at + 300).min(text.len())])
            .unwrap_or("");
        bail!("POST /s/{token} answered {} {alert}", answer.status);
    }
    Ok(())
}
