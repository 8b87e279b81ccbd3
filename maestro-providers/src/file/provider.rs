use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use maestro_core::{Cursor, Page, Provider, ProviderError, Scope};
use serde_json::Value;
use tokio::sync::Mutex;

use super::config::FileConfig;
use super::translate::ENTITIES;

/// Items of each entity, in file order, with the file each came from.
type Loaded = BTreeMap<String, Arc<Vec<Value>>>;

/// Reads inventory files. Files are parsed once per run (on `scopes()`), then served page by page.
pub struct FileProvider {
    tenant: String,
    config: FileConfig,
    /// Where `config.paths` are read (local, SSH or S3); an error if the source cannot be built.
    #[cfg(feature = "importers")]
    source: Result<crate::importers::FileSource, String>,
    loaded: Mutex<Option<Result<Loaded, String>>>,
}

impl FileProvider {
    /// A provider for `tenant` reading `config.paths` (locally, or over `config.ssh` /
    /// `config.s3` with feature `importers`). Nothing is read or connected yet.
    pub fn new(tenant: &str, config: FileConfig) -> Self {
        #[cfg(feature = "importers")]
        let source = crate::importers::FileSource::new(config.ssh.as_ref(), config.s3.as_ref()).map_err(|e| e.message);
        Self {
            tenant: tenant.into(),
            config,
            #[cfg(feature = "importers")]
            source,
            loaded: Mutex::new(None),
        }
    }

    /// How `path` is named in messages and its text.
    #[cfg(feature = "importers")]
    async fn read(&self, path: &Path) -> Result<(String, String), String> {
        let source = self.source.as_ref().map_err(Clone::clone)?;
        let shown = source.describe(path);
        let bytes = source.read(path).await.map_err(|e| e.message)?;
        let text = String::from_utf8(bytes).map_err(|e| format!("`{shown}`: not UTF-8 text: {e}"))?;
        Ok((shown, text))
    }

    /// How `path` is named in messages and its text.
    #[cfg(not(feature = "importers"))]
    async fn read(&self, path: &Path) -> Result<(String, String), String> {
        let shown = path.display().to_string();
        let text = tokio::fs::read_to_string(path).await.map_err(|e| format!("cannot read `{shown}`: {e}"))?;
        Ok((shown, text))
    }

    fn scope(&self, entity: &str) -> Scope {
        Scope::new(&self.tenant, &self.config.connection, entity, None)
    }

    async fn load(&self) -> Result<Loaded, String> {
        let mut out: Loaded = BTreeMap::new();
        for path in &self.config.paths {
            let (shown, text) = self.read(path).await?;
            let doc = parse(path, &shown, &text)?;
            match (&self.config.entity, doc) {
                (Some(entity), Value::Array(items)) => append(&mut out, entity, items),
                (Some(entity), _) => {
                    return Err(format!("`{shown}`: expected a top-level array of {entity}"));
                }
                (None, Value::Object(map)) => {
                    for (key, v) in map {
                        let Some((entity, _)) = ENTITIES.iter().find(|(n, _)| *n == key || alias(&key) == Some(*n))
                        else {
                            let known: Vec<&str> = ENTITIES.iter().map(|(n, _)| *n).collect();
                            return Err(format!(
                                "`{shown}`: unknown top-level key `{key}`; known: {}",
                                known.join(", ")
                            ));
                        };
                        match v {
                            Value::Array(items) => append(&mut out, entity, items),
                            _ => return Err(format!("`{shown}`: `{key}` must be an array")),
                        }
                    }
                }
                (None, _) => {
                    return Err(format!(
                        "`{shown}`: expected an object of entity arrays (servers, applications, …), or set `entity`"
                    ));
                }
            }
        }
        Ok(out)
    }

    async fn loaded(&self) -> Result<Loaded, ProviderError> {
        let mut guard = self.loaded.lock().await;
        if guard.is_none() {
            *guard = Some(self.load().await);
        }
        guard.as_ref().expect("just loaded").clone().map_err(ProviderError::malformed)
    }
}

fn alias(key: &str) -> Option<&'static str> {
    match key {
        "apps" => Some("applications"),
        "system" => Some("systems"),
        "network" => Some("networks"),
        _ => None,
    }
}

fn append(out: &mut Loaded, entity: &str, items: Vec<Value>) {
    let slot = out.entry(entity.to_string()).or_insert_with(|| Arc::new(Vec::new()));
    Arc::make_mut(slot).extend(items);
}

/// Parse JSON or YAML (by `path`'s extension); errors name the file (`shown`) and the line/column.
fn parse(path: &Path, shown: &str, text: &str) -> Result<Value, String> {
    let yaml = matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
    if yaml {
        serde_yaml_ng::from_str(text).map_err(|e| match e.location() {
            Some(l) => format!("`{shown}` line {} column {}: {e}", l.line(), l.column()),
            None => format!("`{shown}`: {e}"),
        })
    } else {
        serde_json::from_str(text).map_err(|e| format!("`{shown}` line {} column {}: {e}", e.line(), e.column()))
    }
}

#[async_trait]
impl Provider for FileProvider {
    fn name(&self) -> &str {
        "file"
    }

    async fn scopes(&self) -> Result<Vec<Scope>, ProviderError> {
        // Re-read the files at the start of every run.
        *self.loaded.lock().await = None;
        match self.loaded().await {
            Ok(l) => Ok(l.keys().map(|e| self.scope(e)).collect()),
            Err(e) => Err(e),
        }
    }

    async fn fetch_page(&self, scope: &Scope, cursor: Option<&Cursor>) -> Result<Page, ProviderError> {
        let loaded = self.loaded().await?;
        let items = loaded
            .get(&scope.task)
            .ok_or_else(|| ProviderError::invalid(format!("no entity `{}` in the files", scope.task)))?;
        let start: usize = match cursor {
            None => 0,
            Some(c) => c.parse().map_err(|_| ProviderError::invalid(format!("bad cursor `{c}`")))?,
        };
        let end = (start + self.config.page_size).min(items.len());
        let page = items.get(start..end).unwrap_or(&[]).to_vec();
        Ok(Page { items: page, bad_items: Vec::new(), next: (end < items.len()).then(|| end.to_string()) })
    }
}
