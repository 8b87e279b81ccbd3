use std::collections::BTreeMap;

use maestro_core::{Kind, ResourceDraft, Scope, TranslateError, Translator};
use serde_json::{Map, Value};

use crate::util::strip_ref;

/// Entity names of the File template and the kind each becomes.
pub const ENTITIES: &[(&str, &str)] = &[
    ("servers", "server"),
    ("applications", "application"),
    ("volumes", "volume"),
    ("snapshots", "snapshot"),
    ("images", "image"),
    ("flavors", "flavor"),
    ("networks", "network"),
    ("systems", "system"),
    ("clients", "client"),
    ("datacenters", "datacenter"),
];

/// The kind of an entity name.
pub fn kind_of_entity(entity: &str) -> Option<Kind> {
    ENTITIES.iter().find(|(e, _)| *e == entity).map(|(_, k)| Kind::new(*k))
}

/// Translates File-template items into resources.
///
/// Identity: `unique_id` when present; otherwise servers fall back to `ipv4_private`, then
/// `hostname`, then `name`, and every other entity to `name` (as the original File import).
/// Tags in the original list form `[{key, value}]` or as an object become a tag map.
/// Relations: server `applications` → `runs`; application `system` → `member_of`; application
/// `deps[].name` → `depends_on` (the endpoint stays in the `deps` attribute); system `clients` →
/// `serves`. `#name::` references are resolved to names.
#[derive(Debug, Default, Clone, Copy)]
pub struct FileTranslator;

fn s(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.trim().is_empty())
}

fn ref_names(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(strip_ref(s).to_string()),
                Value::Object(o) => s(o.get("name")).map(|n| strip_ref(n).to_string()),
                _ => None,
            })
            .collect(),
        Some(Value::String(s)) => vec![strip_ref(s).to_string()],
        _ => Vec::new(),
    }
}

fn tags(v: Option<&Value>) -> Result<BTreeMap<String, String>, String> {
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    match v {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|t| match (t.get("key").and_then(Value::as_str), t.get("value")) {
                (Some(k), Some(v)) => Ok((k.to_string(), text(v))),
                (Some(k), None) => Ok((k.to_string(), String::new())),
                _ => Err(format!("tag {t} has no string `key`")),
            })
            .collect(),
        Some(Value::Object(m)) => Ok(m.iter().map(|(k, v)| (k.clone(), text(v))).collect()),
        Some(other) => Err(format!("`tags` must be a list of {{key, value}} or an object, got {other}")),
    }
}

impl Translator for FileTranslator {
    fn translate(&self, scope: &Scope, item: &Value) -> Result<Vec<ResourceDraft>, TranslateError> {
        let entity = scope.task.as_str();
        let kind =
            kind_of_entity(entity).ok_or_else(|| TranslateError::new(entity, format!("unknown entity `{entity}`")))?;
        let obj = item
            .as_object()
            .ok_or_else(|| TranslateError::new(item.to_string(), format!("each {entity} item must be an object")))?;
        let name = s(obj.get("name")).or_else(|| s(obj.get("hostname")));
        let id = s(obj.get("unique_id"))
            .or_else(|| {
                if kind == Kind::SERVER { s(obj.get("ipv4_private")).or_else(|| s(obj.get("hostname"))) } else { None }
            })
            .or(name)
            .ok_or_else(|| {
                let what = if kind == Kind::SERVER {
                    "`unique_id`, `ipv4_private`, `hostname` or `name`"
                } else {
                    "`unique_id` or `name`"
                };
                TranslateError::new(
                    format!("{entity} item {}", truncate(item)),
                    format!("has no identity: needs {what}"),
                )
            })?;
        let mut d = ResourceDraft::new(kind.clone(), id, name.unwrap_or(id));
        d.doc.tags = tags(obj.get("tags")).map_err(|e| TranslateError::new(id, e))?;
        let mut attrs: Map<String, Value> = obj.clone();
        for k in ["name", "tags", "unique_id"] {
            attrs.remove(k);
        }
        d.doc.attributes = attrs;
        match kind.as_str() {
            "server" => {
                for app in ref_names(obj.get("applications")) {
                    d = d.relate("runs", Kind::APPLICATION, app);
                }
            }
            "application" => {
                for sys in ref_names(obj.get("system")) {
                    d = d.relate("member_of", Kind::SYSTEM, sys);
                }
                for dep in ref_names(obj.get("deps")) {
                    d = d.relate("depends_on", Kind::APPLICATION, dep);
                }
            }
            "system" => {
                for c in ref_names(obj.get("clients")) {
                    d = d.relate("serves", Kind::CLIENT, c);
                }
                for e in ref_names(obj.get("entry")) {
                    d = d.relate("entry", Kind::APPLICATION, e);
                }
            }
            _ => {}
        }
        Ok(vec![d])
    }
}

fn truncate(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        format!("{}…", &s[..s.char_indices().take_while(|(i, _)| *i < 80).last().map_or(0, |(i, c)| i + c.len_utf8())])
    } else {
        s
    }
}
