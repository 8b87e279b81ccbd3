//! The maestro reference binary as a library: configuration loading, the CLI subcommands
//! (`run`, `demo`, `resources`, `history`, `outbox`, `graph`), progress display, the long-running
//! modes ([`runtime`]: `serve`, `beat`, `worker`) and the web side ([`web`]: the page at `/`, the
//! `/events` websocket, graph SVGs). `main.rs` only parses arguments and sets up logging.

pub mod api;
pub mod checks;
pub mod commands;
pub mod config;
#[cfg(feature = "kafka")]
pub mod consume;
pub mod graph;
pub mod progress;
pub mod runtime;
pub mod web;
