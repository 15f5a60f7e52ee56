//! Operations: one module per verb family, each taking resolved
//! [`Settings`](crate::config::Settings) and returning data for the CLI.

pub mod install;
pub mod porter;
pub mod query;
