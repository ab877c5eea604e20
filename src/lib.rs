//! The `agora` binary's library half: configuration, the composition root and the embedded
//! database, shared by `main.rs` and the integration tests.

pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod embedded_pg;
pub mod seo;
pub mod telemetry;
pub mod web;
