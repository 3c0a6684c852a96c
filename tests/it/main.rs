//! Integration tests, one binary. Every test that touches the database runs
//! twice: on SQLite always, and on PostgreSQL when `TEST_DATABASE_URL` is set
//! (see `support::TestDb`).

mod support;

mod admin;
mod chat;
mod cli;
mod e2e;
mod import;
mod load;
mod mediator;
mod oversight;
mod oversight_wiring;
mod resident;
mod retention;
mod routing;
mod storage;
mod telegram;
