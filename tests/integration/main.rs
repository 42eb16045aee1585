//! One integration-test binary: the real server on a random port, spoken to over HTTP.

mod answering;
mod browser;
mod cli;
mod console_admin;
mod console_auth;
mod console_campaigns;
mod console_routes;
mod console_schools;
mod durability;
mod exports;
mod fuzz;
mod helpers;
mod instances;
mod limits;
mod ops;
mod qr;
mod results;
mod versions;
mod webdriver;
