//! Source mirrors: a directory of distfiles (subdirectories allowed) with an
//! `INDEX` at its root, served by any static HTTP server, replicated
//! append-only between machines, and consulted by content when fetching.

pub mod import;
pub mod index;
pub mod local;
pub mod sync;
