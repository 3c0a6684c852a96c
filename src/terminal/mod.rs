//! The terminal chat: the same engine, routing, outbox and storage as the
//! bot, with the terminal as one more adapter. Bot messages are printed,
//! buttons are numbered and pressed by typing their number.

pub mod render;
