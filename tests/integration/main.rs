//! One integration-test binary: the real server on a random port, spoken to over HTTP.

mod answering;
mod cli;
mod console_auth;
mod durability;
mod helpers;
mod qr;
mod versions;
