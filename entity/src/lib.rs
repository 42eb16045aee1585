//! The database tables of dupin as sea-orm entities: data only, no behaviour.
//!
//! Queries live beside the domain modules that own them (`dupin::schools`, `dupin::campaigns`,
//! `dupin::answering`); this crate only says what a row looks like.

pub mod account;
pub mod admission;
pub mod api_token;
pub mod audit_event;
pub mod campaign;
pub mod campaign_link;
pub mod finding;
pub mod invitation;
pub mod invitation_link;
pub mod letter;
pub mod outbox;
pub mod photo;
pub mod rectification;
pub mod rectification_event;
pub mod response;
pub mod response_pending;
pub mod school;
pub mod score_sum;
pub mod setting;
pub mod sign_in_limit;
pub mod survey_version;
pub mod tally;
pub mod teacher;
pub mod visit;
pub mod visit_check;
