//! One integration-test binary: the real server on a random port, spoken to over HTTP.

mod answering;
mod api;
mod browser;
mod charts;
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
mod invitations;
mod limits;
mod mail;
mod ops;
mod qr;
mod quality;
mod results;
mod sign_in_limits;
mod smtp;
mod versions;
mod webdriver;
