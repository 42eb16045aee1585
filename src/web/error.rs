//! The one place where failures become HTTP answers. A 4xx says in plain Chinese what was wrong;
//! a 5xx says only that something failed, and its cause goes to the log.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use super::templates::{self, MessagePage};

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("no such page")]
    NotFound,
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("the request could not be read")]
    BadRequest,
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    #[error("the request head is too large")]
    HeadersTooLarge,
    #[error("internal error: {0}")]
    Internal(String),
}

impl PageError {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        PageError::Internal(cause.to_string())
    }
}

impl From<sea_orm::DbErr> for PageError {
    fn from(error: sea_orm::DbErr) -> Self {
        PageError::internal(error)
    }
}

impl From<handlebars::RenderError> for PageError {
    fn from(error: handlebars::RenderError) -> Self {
        PageError::internal(error)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            PageError::BadRequest => StatusCode::BAD_REQUEST,
            PageError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            PageError::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let page = match self {
            PageError::NotFound => MessagePage {
                title: "找不到这个页面",
                heading: "找不到这个页面",
                message: "您打开的地址不存在或已失效。请检查二维码或链接是否完整，或向学校询问新的链接。",
            },
            PageError::PayloadTooLarge => MessagePage {
                title: "提交的内容太长",
                heading: "提交的内容太长",
                message: "您提交的内容超出了允许的长度，没有被保存。请返回上一页，缩短填写的文字后再提交。",
            },
            PageError::BadRequest => MessagePage {
                title: "无法识别的请求",
                heading: "无法识别的请求",
                message: "您的浏览器发送的内容无法识别，没有被保存。请重新打开链接后再填写。",
            },
            PageError::RequestTimeout => MessagePage {
                title: "网络太慢，没有收到完整的内容",
                heading: "网络太慢，没有收到完整的内容",
                message: "您提交的内容没有在规定时间内完整送达，没有被保存。请到信号好一些的地方，返回上一页再提交一次。",
            },
            PageError::HeadersTooLarge => MessagePage {
                title: "浏览器发送的信息太多",
                heading: "浏览器发送的信息太多",
                message: "您的浏览器随请求发送的信息（如 Cookie）太多，无法处理。请清除本网站的 Cookie 或换一个浏览器后重新打开链接。",
            },
            PageError::Internal(cause) => {
                tracing::error!(cause = %cause, "request failed");
                MessagePage {
                    title: "系统暂时出错",
                    heading: "系统暂时出错",
                    message: "很抱歉，系统暂时出现问题。请稍后再试。",
                }
            }
        };
        templates::message_response(self.status_code(), &page)
    }
}
