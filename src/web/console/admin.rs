//! Accounts and the audit log: admins only.

use actix_web::web;

pub fn routes(_config: &mut web::ServiceConfig) {}
