use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::error::{ProviderError, TranslateError};
use crate::model::{Kind, Relation, ResourceDraft, Scope};
use crate::provider::{Cursor, Page, Provider};
use crate::translator::Translator;

/// A raw item in the shape [`PassThroughTranslator`] reads.
pub fn item(kind: &str, id: &str, name: &str, attributes: Value) -> Value {
    json!({"kind": kind, "id": id, "name": name, "attributes": attributes})
}

/// Translates items of the shape `{kind, id, name, attributes?, tags?, relations?}` one to one.
/// An item without `kind` or `id` is an error naming what is missing.
#[derive(Debug, Default, Clone, Copy)]
pub struct PassThroughTranslator;

impl Translator for PassThroughTranslator {
    fn translate(&self, _scope: &Scope, item: &Value) -> Result<Vec<ResourceDraft>, TranslateError> {
        let id = item
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| TranslateError::new(item.to_string(), "missing string field `id`"))?;
        let kind = item
            .get("kind")
            .and_then(Value::as_str)
            .ok_or_else(|| TranslateError::new(id, "missing string field `kind`"))?;
        let mut d = ResourceDraft::new(Kind::new(kind), id, item.get("name").and_then(Value::as_str).unwrap_or(id));
        if let Some(attrs) = item.get("attributes") {
            d.doc.attributes =
                attrs.as_object().cloned().ok_or_else(|| TranslateError::new(id, "`attributes` must be an object"))?;
        }
        if let Some(tags) = item.get("tags").and_then(Value::as_object) {
            for (k, v) in tags {
                d.doc.tags.insert(k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string));
            }
        }
        if let Some(rels) = item.get("relations").and_then(Value::as_array) {
            for r in rels {
                let rel: Relation = serde_json::from_value(r.clone())
                    .map_err(|e| TranslateError::new(id, format!("bad relation: {e}")))?;
                d.doc.relations.push(rel);
            }
        }
        Ok(vec![d])
    }
}

/// A provider serving fixed pages per scope.
#[derive(Debug, Clone)]
pub struct StaticProvider {
    scopes: Vec<(Scope, Vec<Vec<Value>>)>,
}

impl StaticProvider {
    /// One scope (no region) with one page.
    pub fn single(tenant: &str, connection: &str, task: &str, items: Vec<Value>) -> Self {
        Self { scopes: vec![(Scope::new(tenant, connection, task, None), vec![items])] }
    }
    /// Scopes each with its pages.
    pub fn paged(scopes: Vec<(Scope, Vec<Vec<Value>>)>) -> Self {
        Self { scopes }
    }
}

#[async_trait]
impl Provider for StaticProvider {
    fn name(&self) -> &str {
        "static"
    }
    async fn scopes(&self) -> Result<Vec<Scope>, ProviderError> {
        Ok(self.scopes.iter().map(|(s, _)| s.clone()).collect())
    }
    async fn fetch_page(&self, scope: &Scope, cursor: Option<&Cursor>) -> Result<Page, ProviderError> {
        let (_, pages) = self
            .scopes
            .iter()
            .find(|(s, _)| s == scope)
            .ok_or_else(|| ProviderError::invalid(format!("unknown scope {scope}")))?;
        let i: usize = match cursor {
            None => 0,
            Some(c) => c.parse().map_err(|_| ProviderError::invalid(format!("bad cursor `{c}`")))?,
        };
        let items = pages.get(i).cloned().unwrap_or_default();
        let next = (i + 1 < pages.len()).then(|| (i + 1).to_string());
        Ok(Page { items, bad_items: Vec::new(), next })
    }
}

/// A provider whose page answers are scripted per call: each call to `fetch_page` for a scope
/// pops the next answer; when the script is empty it serves the static pages.
pub struct ScriptedProvider {
    inner: StaticProvider,
    script: Mutex<VecDeque<(Scope, Result<Page, ProviderError>)>>,
    calls: Mutex<u64>,
}

impl ScriptedProvider {
    /// Wrap `inner`.
    pub fn new(inner: StaticProvider) -> Self {
        Self { inner, script: Mutex::new(VecDeque::new()), calls: Mutex::new(0) }
    }
    /// The next fetch of `scope` returns `answer`.
    pub fn then(&self, scope: &Scope, answer: Result<Page, ProviderError>) -> &Self {
        self.script.lock().expect("poisoned").push_back((scope.clone(), answer));
        self
    }
    /// How many fetches were made.
    pub fn calls(&self) -> u64 {
        *self.calls.lock().expect("poisoned")
    }
}

#[async_trait]
impl Provider for ScriptedProvider {
    fn name(&self) -> &str {
        "scripted"
    }
    async fn scopes(&self) -> Result<Vec<Scope>, ProviderError> {
        self.inner.scopes().await
    }
    async fn fetch_page(&self, scope: &Scope, cursor: Option<&Cursor>) -> Result<Page, ProviderError> {
        *self.calls.lock().expect("poisoned") += 1;
        let scripted = {
            let mut s = self.script.lock().expect("poisoned");
            let pos = s.iter().position(|(sc, _)| sc == scope);
            pos.and_then(|p| s.remove(p)).map(|(_, a)| a)
        };
        match scripted {
            Some(a) => a,
            None => self.inner.fetch_page(scope, cursor).await,
        }
    }
}
