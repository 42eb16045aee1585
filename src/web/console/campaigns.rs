//! Campaigns in the console: create, open and close, QR posters, live response rates; and a
//! school viewer's own school.

use actix_web::web;

pub fn routes(_config: &mut web::ServiceConfig) {}
