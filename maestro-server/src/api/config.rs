//! `maestro api` configuration: a YAML/JSON file, then environment variables, then flags.
//!
//! ```yaml
//! database: sqlite://maestro.db     # env DATABASE_URL
//! listen: 127.0.0.1:8080            # env MAESTRO_PORT sets the port (host 0.0.0.0)
//! body_limit_bytes: 1048576
//! request_timeout_secs: 30
//! max_concurrent_runs: 4
//! shutdown_grace_secs: 30
//! file_root: ./inventories          # where API-created `file` connections may read
//! ```
//! Secrets come only from the environment: `MAESTRO_SECRETJWT`, `MAESTRO_SECRETJWT_PRIVATE`,
//! `MAESTRO_NOAUTH`, `MAESTRO_METRICS_TOKEN`, `MAESTRO_SECRET_KEY`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::ApiConfig;
use super::auth::AuthConfig;
use super::crypto::SecretKey;

fn default_database() -> String {
    "sqlite://maestro.db".into()
}
fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_body_limit() -> usize {
    1024 * 1024
}
fn default_timeout() -> u64 {
    30
}
fn default_runs() -> usize {
    4
}

/// The server's settings (no secrets).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Database URL.
    #[serde(default = "default_database")]
    pub database: String,
    /// Address to listen on.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Largest request body in bytes (413 above).
    #[serde(default = "default_body_limit")]
    pub body_limit_bytes: usize,
    /// Request timeout in seconds (408 after).
    #[serde(default = "default_timeout")]
    pub request_timeout_secs: u64,
    /// Runs executing at once.
    #[serde(default = "default_runs")]
    pub max_concurrent_runs: usize,
    /// How long a shutdown waits for background runs before marking them interrupted.
    #[serde(default = "default_timeout")]
    pub shutdown_grace_secs: u64,
    /// Root directory for API-created `file` connections (none: refused).
    #[serde(default)]
    pub file_root: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        serde_json::from_value(serde_json::json!({})).expect("defaults")
    }
}

/// Errors loading the server configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerConfigError {
    /// The file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// File.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is invalid.
    #[error("invalid server config `{path}`: {message}")]
    Invalid {
        /// File.
        path: String,
        /// Parser message (field, line, column).
        message: String,
    },
    /// An environment variable is invalid.
    #[error("environment variable {name}: {message}")]
    Env {
        /// Variable.
        name: &'static str,
        /// Problem.
        message: String,
    },
}

impl ServerConfig {
    /// Load `file` (if any), then apply `DATABASE_URL` and `MAESTRO_PORT`.
    ///
    /// # Errors
    /// Unreadable or invalid file; a `MAESTRO_PORT` that is not a port number.
    pub fn load(file: Option<&Path>) -> Result<Self, ServerConfigError> {
        let mut c = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|source| ServerConfigError::Read { path: p.display().to_string(), source })?;
                serde_yaml_ng::from_str::<ServerConfig>(&text)
                    .map_err(|e| ServerConfigError::Invalid { path: p.display().to_string(), message: e.to_string() })?
            }
            None => ServerConfig::default(),
        };
        if let Ok(db) = std::env::var("DATABASE_URL")
            && file.is_none()
        {
            c.database = db;
        }
        if let Ok(port) = std::env::var("MAESTRO_PORT") {
            let port: u16 = port.parse().map_err(|_| ServerConfigError::Env {
                name: "MAESTRO_PORT",
                message: format!("`{port}` is not a port"),
            })?;
            c.listen = format!("0.0.0.0:{port}");
        }
        Ok(c)
    }

    /// The [`ApiConfig`] for these settings and the secrets of the environment.
    ///
    /// # Errors
    /// A `MAESTRO_SECRET_KEY` that is not 32 bytes of hex or base64.
    pub fn api_config(&self) -> Result<ApiConfig, ServerConfigError> {
        let secret_key = match std::env::var("MAESTRO_SECRET_KEY") {
            Ok(k) if !k.is_empty() => Some(
                SecretKey::parse(&k)
                    .map_err(|e| ServerConfigError::Env { name: "MAESTRO_SECRET_KEY", message: e.to_string() })?,
            ),
            _ => None,
        };
        Ok(ApiConfig {
            auth: AuthConfig::from_env(),
            secret_key,
            body_limit: self.body_limit_bytes,
            request_timeout: Duration::from_secs(self.request_timeout_secs.max(1)),
            max_concurrent_runs: self.max_concurrent_runs.max(1),
            pipeline: maestro_core::PipelineConfig::default(),
            file_root: self.file_root.clone(),
        })
    }
}

/// `maestro api`: load the config (file, env, then the flags), open the store and serve until
/// Ctrl-C or SIGTERM.
///
/// # Errors
/// Bad configuration, unreachable database, unusable listen address.
pub async fn run_cli(file: Option<PathBuf>, database: Option<String>, listen: Option<String>) -> anyhow::Result<()> {
    use anyhow::Context;
    let mut c = ServerConfig::load(file.as_deref())?;
    if let Some(d) = database {
        c.database = d;
    }
    if let Some(l) = listen {
        c.listen = l;
    }
    let api = c.api_config()?;
    let store = maestro_store::open(&c.database)
        .await
        .with_context(|| format!("opening the database ({})", c.database.split(':').next().unwrap_or("")))?;
    let listener =
        tokio::net::TcpListener::bind(&c.listen).await.with_context(|| format!("listening on {}", c.listen))?;
    eprintln!("maestro api listening on http://{}", listener.local_addr()?);
    let state = super::ApiState::new(store, api);
    super::serve(listener, state, shutdown_signal(), Duration::from_secs(c.shutdown_grace_secs)).await?;
    eprintln!("maestro api stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_field_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("server.yaml");
        std::fs::write(&p, "listen: 127.0.0.1:1\nlisten_port: 3\n").unwrap();
        let e = ServerConfig::load(Some(&p)).unwrap_err().to_string();
        assert!(e.contains("unknown field `listen_port`"), "{e}");
        std::fs::write(&p, "listen: 127.0.0.1:1\nmax_concurrent_runs: 2\n").unwrap();
        let c = ServerConfig::load(Some(&p)).unwrap();
        assert_eq!(c.max_concurrent_runs, 2);
    }
}
