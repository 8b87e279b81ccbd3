//! The maestro reference binary as a library: configuration loading, the CLI subcommands
//! (`run`, `demo`, `resources`, `history`, `outbox`, `graph`) and progress display. `main.rs` only parses
//! arguments and sets up logging.
//!
//! Later work adds the REST API (`serve`), the scheduler (`beat`) and workers (`worker`).

pub mod commands;
pub mod config;
pub mod consume;
pub mod graph;
pub mod progress;
