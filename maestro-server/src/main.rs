//! `maestro`: run collection pipelines from the command line.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};
use maestro_core::{Kind, ResourceFilter, ResourceKey};
use maestro_server::checks;
use maestro_server::commands::{self, OutboxAction};
use maestro_server::config::RunConfig;

/// mimalloc instead of glibc's malloc: the API's list pages allocate many small strings on
/// several threads, and glibc's arenas made that the largest cost after SQLite itself; with
/// mimalloc one page of 100k resources is served ~1.4x as fast (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "maestro",
    version,
    about = "Scheduled collection pipelines: collect, normalise, track changes, store, tell others."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every source of a config file once, then deliver the outbox to its publishers.
    Run {
        /// The config file (YAML or JSON).
        config: PathBuf,
    },
    /// Import the demo dataset into a SQLite file three times: first import, unchanged, one removal.
    Demo {
        /// Working directory for the database, the inventory copy and the events file.
        #[arg(long, default_value = "maestro-demo")]
        dir: PathBuf,
    },
    /// List resources.
    Resources {
        /// Database URL.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://maestro.db")]
        database: String,
        /// Tenant.
        #[arg(long, default_value = "default")]
        tenant: String,
        /// Only this kind.
        #[arg(long)]
        kind: Option<String>,
        /// Only active (true) or inactive (false) resources.
        #[arg(long)]
        active: Option<bool>,
        /// Only names containing this text.
        #[arg(long)]
        text: Option<String>,
        /// At most this many rows.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Show the change history of one resource.
    History {
        /// Database URL.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://maestro.db")]
        database: String,
        /// Tenant.
        #[arg(long, default_value = "default")]
        tenant: String,
        /// Connection.
        connection: String,
        /// Kind.
        kind: String,
        /// Native id.
        id: String,
    },
    /// Draw a business, infra or network graph of a tenant's inventory as SVG (and GraphML);
    /// with `--before TIME`, the business graph's changes since then.
    Graph {
        /// Database URL.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://maestro.db")]
        database: String,
        /// Tenant.
        #[arg(long, default_value = "default")]
        tenant: String,
        /// `business`, `infra` or `network`.
        #[arg(long, default_value = "business")]
        kind: String,
        /// Draw the change overlay against the inventory at this time (RFC 3339, business graphs).
        #[arg(long)]
        before: Option<chrono::DateTime<chrono::Utc>>,
        /// Entry application (repeatable).
        #[arg(long = "app")]
        apps: Vec<String>,
        /// System whose entries to use (repeatable).
        #[arg(long = "system")]
        systems: Vec<String>,
        /// Client whose systems to use (repeatable).
        #[arg(long = "client")]
        clients: Vec<String>,
        /// SVG output file.
        #[arg(long, default_value = "graph.svg")]
        out: PathBuf,
        /// GraphML output file (business graphs).
        #[arg(long)]
        graphml: Option<PathBuf>,
    },
    /// Standalone server: web page + websocket, the scheduler beat and in-process workers.
    Serve(maestro_server::runtime::cli::ServeArgs),
    /// Fire schedules only (any number of beats; one is active). Jobs go to RabbitMQ if
    /// MAESTRO_BROKER_URL / CELERY_BROKER_URL is set, else to the database.
    Beat(maestro_server::runtime::cli::RuntimeArgs),
    /// Run jobs only, from the same queue as the beats.
    Worker(maestro_server::runtime::cli::RuntimeArgs),
    /// Serve the JSON API (see docs/api.md) until Ctrl-C / SIGTERM.
    Api {
        /// Server config file (YAML/JSON); see `maestro_server::api::config`.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Database URL (overrides the file and DATABASE_URL).
        #[arg(long)]
        database: Option<String>,
        /// Address to listen on (overrides the file and MAESTRO_PORT).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Inspect the outbox: backlog per sink, dead letters, replay.
    Outbox {
        /// Database URL.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://maestro.db")]
        database: String,
        #[command(subcommand)]
        action: OutboxCmd,
    },
    /// Manage monitored sites (HTTP checks).
    Sites {
        /// Database URL.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://maestro.db")]
        database: String,
        /// Tenant.
        #[arg(long, default_value = "default")]
        tenant: String,
        #[command(subcommand)]
        action: SitesCmd,
    },
    /// Check every enabled site once, store results and events; exit 2 if any check failed.
    Check {
        /// Database URL.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://maestro.db")]
        database: String,
        /// Tenant.
        #[arg(long, default_value = "default")]
        tenant: String,
        /// Sites file (YAML/JSON list of sites with ids) loaded into the sites table first.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Also check the inventory's application / load balancer endpoints.
        #[arg(long)]
        inventory: bool,
        /// Checks in flight at once.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
    },
    #[cfg(feature = "kafka")]
    /// Consume site checks from Kafka into PostgreSQL's `site_monitor` table (the original consumer).
    Consume {
        /// Kafka bootstrap servers, `host:port[,…]`.
        #[arg(long, env = "BOOTSTRAP_SERVER")]
        brokers: String,
        /// PostgreSQL URL.
        #[arg(long, env = "DATABASE_URL")]
        database: String,
        /// Topic.
        #[arg(long, default_value = "site-monitor")]
        topic: String,
        /// Consumer group.
        #[arg(long, default_value = "monitor-group")]
        group: String,
        /// Schema for `site_monitor` and `site_monitor_dead_letters` (created if missing).
        #[arg(long, default_value = "public")]
        schema: String,
        /// SASL user (turns SASL on).
        #[arg(long, env = "KF_USER")]
        sasl_username: Option<String>,
        /// SASL password.
        #[arg(long, env = "KF_PASSWORD", hide_env_values = true)]
        sasl_password: Option<String>,
        /// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
        #[arg(long, default_value = "PLAIN")]
        sasl_mechanism: String,
        /// CA certificate file (turns TLS on).
        #[arg(long)]
        ca_file: Option<PathBuf>,
        /// CA certificate inline, PEM (turns TLS on).
        #[arg(long, env = "CA_PEM", hide_env_values = true)]
        ca_pem: Option<String>,
        /// Extra librdkafka property `key=value`, repeatable (e.g. `-X session.timeout.ms=6000`).
        #[arg(short = 'X', long = "property", value_name = "KEY=VALUE")]
        properties: Vec<String>,
    },
}

#[derive(Subcommand)]
enum SitesCmd {
    /// Add a site (validated: URL, regexp, conditions).
    Add {
        /// URL to check.
        #[arg(long)]
        url: String,
        /// Regular expression searched in the body.
        #[arg(long)]
        regexp: Option<String>,
        /// Condition, e.g. `[STATUS] == 200` (repeatable).
        #[arg(long = "condition")]
        conditions: Vec<String>,
        /// Seconds between checks.
        #[arg(long, default_value_t = 600)]
        interval: u64,
        /// Time limit of one check in ms.
        #[arg(long, default_value_t = 10_000)]
        timeout_ms: u64,
    },
    /// List sites with their latest result.
    List,
}

#[derive(Subcommand)]
enum OutboxCmd {
    /// Backlog, delivered and dead counts per sink.
    Status,
    /// List dead letters.
    Dead {
        /// Only this sink.
        #[arg(long)]
        sink: Option<String>,
    },
    /// Deliver a dead letter again.
    Replay {
        /// Dead letter id.
        id: i64,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("MAESTRO_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    // Not locked for the whole run: serve/beat/worker print from worker threads.
    let mut out = std::io::stdout();
    match cli.command {
        Command::Run { config } => {
            let config = match RunConfig::load(&config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(64);
                }
            };
            let reports = commands::run(config, &mut out).await?;
            std::process::exit(commands::exit_code(&reports));
        }
        Command::Demo { dir } => commands::demo(&dir, &mut out).await,
        Command::Resources { database, tenant, kind, active, text, limit } => {
            let filter = ResourceFilter { kind: kind.map(Kind::new), active, text, ..ResourceFilter::tenant(tenant) };
            commands::list_resources(&database, filter, limit, &mut out).await
        }
        Command::History { database, tenant, connection, kind, id } => {
            commands::history(&database, ResourceKey::new(tenant, connection, Kind::new(kind), id), &mut out).await
        }
        Command::Graph { database, tenant, kind, before, apps, systems, clients, out: svg, graphml } => {
            let kind = match kind.as_str() {
                "business" | "bussiness" => maestro_graph::GraphKind::Business,
                "infra" => maestro_graph::GraphKind::Infra,
                "network" => return maestro_server::graph::network(&database, &tenant, &svg, &mut out).await,
                other => anyhow::bail!("unknown graph kind `{other}`: business, infra or network"),
            };
            let args =
                maestro_server::graph::GraphArgs { database, tenant, kind, apps, systems, clients, out: svg, graphml };
            let status = match before {
                Some(t) => maestro_server::graph::graph_overlay(args, t, &mut out).await?,
                None => maestro_server::graph::graph(args, &mut out).await?,
            };
            match status {
                maestro_graph::JobStatus::Error => std::process::exit(1),
                maestro_graph::JobStatus::Warning => std::process::exit(2),
                _ => Ok(()),
            }
        }
        Command::Serve(args) => maestro_server::runtime::cli::run_serve(args).await,
        Command::Beat(args) => maestro_server::runtime::cli::run(maestro_server::runtime::cli::Mode::Beat, args).await,
        Command::Worker(args) => {
            maestro_server::runtime::cli::run(maestro_server::runtime::cli::Mode::Worker, args).await
        }
        Command::Api { config, database, listen } => {
            maestro_server::api::config::run_cli(config, database, listen).await
        }
        Command::Outbox { database, action } => {
            let action = match action {
                OutboxCmd::Status => OutboxAction::Status,
                OutboxCmd::Dead { sink } => OutboxAction::Dead { sink },
                OutboxCmd::Replay { id } => OutboxAction::Replay { id },
            };
            commands::outbox(&database, action, &mut out).await
        }
        Command::Sites { database, tenant, action } => match action {
            SitesCmd::Add { url, regexp, conditions, interval, timeout_ms } => {
                let site = checks::site_from_args(tenant, url, regexp, conditions, interval, timeout_ms);
                let code = checks::add_site(&database, site, &mut out, &mut std::io::stderr()).await?;
                std::process::exit(code)
            }
            SitesCmd::List => checks::list_sites(&database, &tenant, &mut out).await,
        },
        Command::Check { database, tenant, config, inventory, concurrency } => {
            let args = checks::CheckArgs { database, tenant, config, inventory, concurrency };
            let code = checks::check(args, &mut out, &mut std::io::stderr()).await?;
            out.flush()?;
            std::process::exit(code)
        }
        #[cfg(feature = "kafka")]
        Command::Consume {
            brokers,
            database,
            topic,
            group,
            schema,
            sasl_username,
            sasl_password,
            sasl_mechanism,
            ca_file,
            ca_pem,
            properties,
        } => {
            let args = maestro_server::consume::ConsumeArgs {
                brokers,
                database,
                topic,
                group,
                schema,
                sasl_username,
                sasl_password,
                sasl_mechanism,
                ca_file,
                ca_pem,
                properties,
            };
            maestro_server::consume::consume(args, &mut out).await
        }
    }
}
