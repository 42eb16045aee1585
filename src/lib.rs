//! dupin (督评): a county education bureau's platform for the questionnaires, satisfaction tests
//! and overall ratings of its supervision plan.
//!
//! Data flows one way: `web` → domain modules (`survey`, `schools`, `campaigns`, `answering`,
//! `distribution`) → `entity`. Domain modules never import actix-web; parsing, validation and
//! scoring do no I/O and are unit-tested beside their code.

pub mod accounts;
pub mod answering;
pub mod api_tokens;
pub mod audit;
pub mod bench;
pub mod cache;
pub mod campaigns;
pub mod change;
pub mod charts;
pub mod cli;
pub mod csv_files;
pub mod db;
pub mod export;
pub mod invitations;
pub mod links;
pub mod mail;
pub mod ops;
pub mod quality;
pub mod rating;
pub mod reports;
pub mod results;
pub mod school_kind;
pub mod schools;
pub mod secrets;
pub mod startup;
pub mod survey;
pub mod teachers;
pub mod web;
