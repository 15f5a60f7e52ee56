//! gport: a ports-tree manager for a small, static, musl-based system.
//!
//! The library is organised by concept; the `gport` binary is a thin CLI
//! over [`ops`]. Reading order for a newcomer: [`port`] and [`tree`] (the
//! definitions), [`fetch`] and [`extract`] and [`patch`] (getting a proven
//! source), [`build`], [`store`] (installed builds), [`link`] (activation),
//! [`ops::install`] (how they fit together).

pub mod atomic;
pub mod audit;
pub mod build;
pub mod cli;
pub mod config;
pub mod error;
pub mod extract;
pub mod fault;
pub mod fetch;
pub mod hash;
pub mod http;
pub mod journal;
pub mod link;
pub mod lock;
pub mod manifest;
pub mod mirror;
pub mod ops;
pub mod patch;
pub mod paths;
pub mod port;
pub mod reproduce;
pub mod sandbox;
pub mod skeleton;
pub mod store;
pub mod switch;
pub mod tree;
pub mod ui;
pub mod version;
