//! dupin (督评): a county education bureau's platform for the questionnaires, satisfaction tests
//! and overall ratings of its supervision plan.
//!
//! The modules below are listed in layers, lowest first; a module uses only modules of lower
//! layers (`layers.rs` checks it). Data flows one way: `cli` and `web` → domain modules →
//! `entity`. Domain modules never import actix-web; parsing, validation and scoring do no I/O and
//! are unit-tested beside their code. Every state-changing action is one domain function that
//! owns its [`change::Change`]: begins the write, changes, audits, queues mail and commits.

// 0 — leaves
/// The one in-process cache type (`TtlCache`).
pub mod cache;
/// CSV in (clerks' uploads, one import error type) and out (BOM, formula-safe cells).
pub mod csv_files;
/// Opening and migrating the database; `begin_write`.
pub mod db;
/// Progress of a long command: a bar on a terminal, a line per tenth otherwise.
pub mod progress;
/// The seven kinds of school the bureau's list names.
pub mod school_kind;
/// Random keys for cookies, idempotency keys and CSRF tokens.
pub mod secrets;
// 1–2 — who did what, and the unit of every change
/// The audit log and who acts (`Actor`).
pub mod audit;
/// One owner for every change: `Context`, `Change`, after-commit hooks.
pub mod change;
// 3 — the plan's files and the links people answer through
/// Link tokens, public addresses and QR codes.
pub mod links;
/// The plan's surveys as checked files, and the shape of an answer.
pub mod survey;
// 4 — pure arithmetic on the plan; the outbox
/// The outbox, its sender over SMTP and the mail templates.
pub mod mail;
/// Indicators, county targets, visit checklists, satisfaction statistics, the overall rating
/// and group tests (pure).
pub mod rating;
// 5–7 — records
/// Console accounts: roles, passwords, sign-in, setup; their actions.
pub mod accounts;
/// Validating a submitted form and storing it once (the group-commit writer).
pub mod answering;
/// Tokens of the read-only JSON API.
pub mod api_tokens;
/// Campaigns, their links and response rates; their actions.
pub mod campaigns;
/// Photos from visits and progress reports: checked by content, EXIF stripped, thumbnailed.
pub mod photos;
/// The county's schools: import, form, search; their actions.
pub mod schools;
// 8–12 — what the records become
/// Charts drawn with plotters (SVG and PNG, Chinese labels).
pub mod charts;
/// CSV and XLSX exports of answers and counts, streamed.
pub mod export;
/// One-use invitations of teachers, and reminders.
pub mod invitations;
/// 督导意见书 (a school's frozen, numbered opinion letter of a round) and 通报 (the round's
/// circular with its responsibility list).
pub mod letters;
/// Answer-quality flags, and excluding or restoring an answer.
pub mod quality;
/// Rectification items (整改): suggestions, confirmation, reports, acceptance, reminders.
pub mod rectification;
/// The county and school reports, and the report and digest mails.
pub mod reports;
/// A campaign's figures from its tallies: per question, area, indicator and rating; the
/// county's targets from the latest self-check.
pub mod results;
/// Teacher rosters per school and for the county; their actions.
pub mod teachers;
/// Supervisors' visits to schools: checklist answers, findings, photos (layer 9).
pub mod visits;
// 13–17 — faces and tools
/// `dupin bench` and `dupin bench-results`.
pub mod bench;
/// The command line: every `dupin` command's body.
pub mod cli;
/// `dupin demo`: a plausible county with a round of every survey, in an empty database.
pub mod demo;
/// Backups and moving data between databases.
pub mod ops;
/// Wiring the server: plan, database, templates, writer, routes.
pub mod startup;
/// The HTTP face: routes, guards, pages, the JSON API.
pub mod web;

#[cfg(test)]
mod layers;
