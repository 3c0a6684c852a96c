//! jiefen (解纷): the Telegram front door of a county's people's-mediation
//! network.
//!
//! Residents file civil disputes from their phone; the bot routes each one
//! through an admin-editable rules table to the nearest suitable mediation
//! committee; mediators work the case in chat; every change of status is
//! pushed back to the resident; an admin HTTP API manages the network.
//!
//! The modules follow the domain: [`domain`] types parse and validate
//! themselves, [`storage`] holds all SQL for SQLite and PostgreSQL,
//! [`import`] loads region, committee and rule files.

pub mod admin;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod conversation;
pub mod domain;
pub mod i18n;
pub mod import;
pub mod jobs;
pub mod lifecycle;
pub mod metrics;
pub mod outgoing;
pub mod oversight;
pub mod routing;
pub mod secrets;
pub mod storage;
pub mod telegram;
pub mod terminal;
