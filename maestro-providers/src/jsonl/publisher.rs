use async_trait::async_trait;
use maestro_core::{BatchOutcome, Event, PublishError, Publisher};
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use super::config::JsonlConfig;

/// Writes events as JSON lines.
pub struct JsonlPublisher {
    name: String,
    config: JsonlConfig,
    file: Mutex<Option<tokio::fs::File>>,
}

impl JsonlPublisher {
    /// A publisher writing to `config.path` (opened on first use).
    pub fn new(config: JsonlConfig) -> Self {
        let name = config.name.clone().unwrap_or_else(|| format!("jsonl:{}", config.path.display()));
        Self { name, config, file: Mutex::new(None) }
    }

    fn is_stdout(&self) -> bool {
        self.config.path.as_os_str() == "-"
    }

    async fn write(&self, bytes: &[u8]) -> Result<(), PublishError> {
        let io = |e: std::io::Error| {
            PublishError::transient(&self.name, format!("writing `{}`: {e}", self.config.path.display())).with_source(e)
        };
        if self.is_stdout() {
            let mut out = tokio::io::stdout();
            out.write_all(bytes).await.map_err(io)?;
            return out.flush().await.map_err(io);
        }
        let mut guard = self.file.lock().await;
        if guard.is_none() {
            *guard = Some(
                tokio::fs::OpenOptions::new().create(true).append(true).open(&self.config.path).await.map_err(io)?,
            );
        }
        let f = guard.as_mut().expect("just opened");
        f.write_all(bytes).await.map_err(io)?;
        f.flush().await.map_err(io)
    }
}

#[async_trait]
impl Publisher for JsonlPublisher {
    fn name(&self) -> &str {
        &self.name
    }

    async fn publish(&self, event: &Event) -> Result<(), PublishError> {
        let mut line = serde_json::to_vec(event).expect("events serialise");
        line.push(b'\n');
        self.write(&line).await
    }

    /// One write per batch: all lines or (on error) none are counted.
    async fn publish_batch(&self, events: &[Event]) -> BatchOutcome {
        let mut buf = Vec::with_capacity(events.len() * 512);
        for e in events {
            serde_json::to_writer(&mut buf, e).expect("events serialise");
            buf.push(b'\n');
        }
        match self.write(&buf).await {
            Ok(()) => BatchOutcome { delivered: events.len(), error: None },
            Err(e) => BatchOutcome { delivered: 0, error: Some(e) },
        }
    }
}
