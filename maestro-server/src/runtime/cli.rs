//! Command-line arguments of the long-running modes (the binary's `main.rs` only forwards them).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use super::{ModeOptions, Runtime, RuntimeConfig, Shutdown};

/// Arguments every mode shares.
#[derive(Debug, Clone, clap::Args)]
pub struct RuntimeArgs {
    /// Runtime config file (YAML or JSON: sources, publishers, schedules, server settings).
    /// Without it nothing is crawled and the defaults apply.
    #[arg(long, short = 'c')]
    pub config: Option<PathBuf>,
    /// Database URL; overrides the config file.
    #[arg(long, env = "DATABASE_URL")]
    pub database: Option<String>,
    /// PostgreSQL schema to keep every table in (created if missing).
    #[arg(long, env = "MAESTRO_DB_SCHEMA")]
    pub schema: Option<String>,
    /// In-process worker tasks (`serve`, `worker`); overrides `server.workers`.
    #[arg(long, env = "MAESTRO_GWORKERS")]
    pub workers: Option<usize>,
    /// Beat tick in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub tick_ms: u64,
    /// Beat lease in seconds: a standby beat takes over at most this long (plus one tick) after
    /// the active one died.
    #[arg(long, default_value_t = 10)]
    pub lease_ttl: u64,
    /// How often an idle worker looks for a job, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub poll_ms: u64,
}

/// Arguments of `maestro serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Shared runtime arguments.
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    /// HTTP port; overrides `server.port` (0 picks a free port, printed at start).
    #[arg(long, env = "MAESTRO_PORT")]
    pub port: Option<u16>,
    /// Address to bind.
    #[arg(long, env = "MAESTRO_BIND", default_value = "127.0.0.1")]
    pub bind: String,
    /// Serve the page and websocket only: no beat, no workers (next to `maestro beat` and
    /// `maestro worker` processes on a RabbitMQ deployment).
    #[arg(long)]
    pub web_only: bool,
}

/// Which mode to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// HTTP + beat + workers.
    Serve,
    /// Schedules only.
    Beat,
    /// Jobs only.
    Worker,
}

impl RuntimeArgs {
    async fn build(&self) -> Result<(Arc<Runtime>, ModeOptions)> {
        let mut config = match &self.config {
            Some(p) => RuntimeConfig::load(p)?,
            None => RuntimeConfig::empty(),
        };
        if let Some(db) = &self.database {
            config.database.clone_from(db);
        }
        if let Some(w) = self.workers {
            anyhow::ensure!(w >= 1, "--workers / MAESTRO_GWORKERS must be at least 1");
            config.server.workers = w;
        }
        let store = super::open_store(&config.database, self.schema.as_deref())
            .await
            .with_context(|| format!("opening the database ({})", config.database.split(':').next().unwrap_or("")))?;
        let mut opts = ModeOptions::from_settings(&config.server);
        opts.tick = Duration::from_millis(self.tick_ms.max(10));
        opts.lease_ttl = Duration::from_secs(self.lease_ttl.max(1));
        opts.poll_interval = Duration::from_millis(self.poll_ms.max(1));
        Ok((Arc::new(Runtime::new(config, store)), opts))
    }
}

/// Run `maestro beat` or `maestro worker` until SIGINT/SIGTERM.
///
/// # Errors
/// Bad config, unreachable database or broker.
pub async fn run(mode: Mode, args: RuntimeArgs) -> Result<()> {
    let (rt, opts) = args.build().await?;
    let shutdown = Shutdown::on(super::shutdown_signal());
    match mode {
        Mode::Beat => super::beat(rt, opts, shutdown).await,
        Mode::Worker => super::worker(rt, opts, shutdown).await,
        Mode::Serve => anyhow::bail!("use run_serve for serve"),
    }
}

/// Run `maestro serve` until SIGINT/SIGTERM.
///
/// # Errors
/// Bad config, unreachable database, address in use.
pub async fn run_serve(args: ServeArgs) -> Result<()> {
    let (rt, mut opts) = args.runtime.build().await?;
    opts.web_only = args.web_only;
    let port = args.port.unwrap_or(rt.config.server.port);
    let addr = format!("{}:{port}", args.bind);
    let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("binding {addr}"))?;
    let shutdown = Shutdown::on(super::shutdown_signal());
    // The JSON API (docs/api.md) shares the store; its secrets come from the environment.
    let api_config = crate::api::config::ServerConfig::load(None)?.api_config()?;
    let store: Arc<dyn maestro_store::AnyStore> = rt.store.clone();
    let api = crate::api::ApiState::new(store, api_config);
    let app = crate::web::app(crate::web::WebState { rt: rt.clone(), shutdown: shutdown.clone() }, api);
    super::serve(rt, opts, listener, app, shutdown).await
}
