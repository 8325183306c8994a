//! Reusable view pieces. No server calls inside.

pub mod layout;
pub mod notice;
