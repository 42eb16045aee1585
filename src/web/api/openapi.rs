//! The OpenAPI 3.1 document of the API (`openapi.json` beside this file, written by hand and
//! built into the binary), served without a token at `/api/v1/openapi.json` with this
//! installation's public address as its server.

use actix_web::{HttpResponse, web};

use super::{ApiError, json};
use crate::web::AppState;

/// The document as written.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// The document with `servers` set to this installation's public address.
pub fn with_server(base_url: &str) -> Result<serde_json::Value, serde_json::Error> {
    let mut document: serde_json::Value = serde_json::from_str(DOCUMENT)?;
    if let Some(object) = document.as_object_mut() {
        object.insert(
            "servers".to_owned(),
            serde_json::json!([{ "url": base_url.trim_end_matches('/'), "description": "本系统" }]),
        );
    }
    Ok(document)
}

pub async fn document(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let document = with_server(&state.base_url).map_err(ApiError::internal)?;
    json(&document)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::error::ApiRefusal;

    #[test]
    fn the_document_is_openapi_3_1_with_a_bearer_scheme_and_the_server_filled_in() {
        let document = with_server("https://dupin.example.cn/").expect("valid JSON");
        assert_eq!(document["openapi"], "3.1.0");
        assert_eq!(
            document["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        assert_eq!(document["servers"][0]["url"], "https://dupin.example.cn");
        // Every reference points at a schema that exists.
        let schemas = document["components"]["schemas"]
            .as_object()
            .expect("schemas");
        for reference in DOCUMENT.split("\"$ref\": \"").skip(1) {
            let target = reference.split('"').next().unwrap_or_default();
            let name = target
                .strip_prefix("#/components/schemas/")
                .or_else(|| target.strip_prefix("#/components/responses/"))
                .or_else(|| target.strip_prefix("#/components/parameters/"))
                .unwrap_or_else(|| panic!("unexpected reference {target}"));
            let found = if target.contains("/schemas/") {
                schemas.contains_key(name)
            } else if target.contains("/responses/") {
                document["components"]["responses"].get(name).is_some()
            } else {
                document["components"]["parameters"].get(name).is_some()
            };
            assert!(found, "{target} is referenced but not defined");
        }
    }

    #[test]
    fn every_error_code_is_documented() {
        let document = with_server("http://127.0.0.1:8080").expect("valid JSON");
        let codes = &document["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
            ["code"]["enum"];
        let codes = codes.as_array().expect("the codes");
        for error in [
            ApiRefusal::MissingToken,
            ApiRefusal::InvalidToken,
            ApiRefusal::RevokedToken,
            ApiRefusal::CampaignNotFound(String::new()),
            ApiRefusal::SchoolNotInCampaign {
                campaign: 1,
                school: 1,
            },
            ApiRefusal::NotASelfCheck(1),
            ApiRefusal::VisitNotFound(String::new()),
            ApiRefusal::NoSuchRoute(String::new()),
            ApiRefusal::LetterNotFound(String::new()),
            ApiRefusal::BadFilter(String::new()),
            ApiRefusal::Withheld(String::new()),
            ApiRefusal::UnknownParameter {
                name: String::new(),
                accepted: String::new(),
            },
            ApiRefusal::RepeatedParameter(String::new()),
            ApiRefusal::BadQuery(String::new()),
            ApiRefusal::MethodNotAllowed(String::new()),
        ] {
            assert!(
                codes.iter().any(|code| code == error.code()),
                "{} is not documented",
                error.code()
            );
        }
        // A failure on our side answers with the code "internal".
        assert!(codes.iter().any(|code| code == "internal"));
        assert_eq!(codes.len(), 16);
    }
}
