//! The school list in the console: search, filters, sorting, add and edit, CSV upload and
//! download. Supervisors and admins only.

use actix_web::web;

pub fn routes(_config: &mut web::ServiceConfig) {}
