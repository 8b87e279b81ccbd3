//! A [`Translator`] over the declarative mapping rules of [`crate::aws::rules`], for any provider
//! whose raw items carry the name of their call under [`CALL_KEY`].

use std::collections::HashMap;

use maestro_core::{Relation, ResourceDraft, Scope, TranslateError, Translator};
use serde_json::{Map, Value};

use crate::aws::CALL_KEY;
use crate::aws::rules::{Context, RuleSet, apply};

/// Provider-specific computation run after the rules of a rule set that names it in `hooks`
/// (`cpu_memory`): gets the hook name, the raw item and the output fields.
pub type Hook = fn(hook: &str, item: &Value, out: &mut Map<String, Value>);

/// Compile embedded rule files (`(file name, YAML)`); each file's `call` must match its name.
///
/// # Errors
/// The first file that does not compile, with its name and the rule path.
pub fn compile_rules(files: &[(&str, &str)]) -> Result<HashMap<String, RuleSet>, String> {
    let mut out = HashMap::new();
    for (file, text) in files {
        let rs = RuleSet::from_yaml(file, text)?;
        if file.trim_end_matches(".yaml") != rs.call {
            return Err(format!("{file}: `call: {}` does not match the file name", rs.call));
        }
        out.insert(rs.call.clone(), rs);
    }
    Ok(out)
}

/// Translates raw items with a provider's compiled rule sets.
#[derive(Debug, Clone)]
pub struct RulesTranslator {
    provider: &'static str,
    connection: String,
    datacenter: String,
    compat: bool,
    version: String,
    rules: &'static HashMap<String, RuleSet>,
    hook: Hook,
}

impl RulesTranslator {
    /// A translator; `provider` is the `datacenters.provider` label, `files` the rule files
    /// (hashed into [`Translator::version`]).
    pub fn new(
        provider: &'static str,
        connection: &str,
        datacenter: &str,
        compat: bool,
        rules: &'static HashMap<String, RuleSet>,
        files: &[(&str, &str)],
        hook: Hook,
    ) -> Self {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in files.iter().flat_map(|(n, t)| n.bytes().chain(t.bytes())) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        let version =
            format!("{}-{h:016x}{}", provider.to_lowercase().replace(' ', "-"), if compat { "-compat" } else { "" });
        Self { provider, connection: connection.into(), datacenter: datacenter.into(), compat, version, rules, hook }
    }

    fn rule_set(&self, item: &Value) -> Result<&'static RuleSet, TranslateError> {
        let call = item.get(CALL_KEY).and_then(Value::as_str).ok_or_else(|| {
            TranslateError::new(
                short(item),
                format!("raw item has no `{CALL_KEY}`: not from the {} provider", self.provider),
            )
        })?;
        self.rules.get(call).ok_or_else(|| TranslateError::new(call, format!("no mapping rule for `{call}`")))
    }

    /// Translate one item for `region`.
    ///
    /// # Errors
    /// No rule for the item's call, or no native id.
    pub fn translate_item(&self, region: Option<&str>, item: &Value) -> Result<Option<ResourceDraft>, TranslateError> {
        let rs = self.rule_set(item)?;
        if rs.skips(item) {
            return Ok(None);
        }
        let ctx = Context {
            region,
            connection: &self.connection,
            datacenter: &self.datacenter,
            provider: self.provider,
            compat: self.compat,
        };
        let call = rs.call.as_str();
        let id = match rs.id.eval(item, &ctx) {
            Some(Value::String(s)) if !s.is_empty() => s,
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(TranslateError::new(short(item), format!("{call} item has no native id"))),
        };
        let mut attrs = Map::with_capacity(rs.fields.len() + 2);
        apply(&rs.fields, item, &ctx, &mut attrs);
        for h in &rs.hooks {
            (self.hook)(h, item, &mut attrs);
        }
        let name = match rs.name.as_ref().and_then(|r| r.eval(item, &ctx)) {
            Some(Value::String(s)) if !s.is_empty() => s,
            _ => id.clone(),
        };
        let mut d = ResourceDraft::new(rs.kind.clone(), id, name);
        d.doc.tags = rs.tag_map(item, &ctx);
        let mut targets = Vec::new();
        for (rel, kind, path) in &rs.relations {
            targets.clear();
            path.all(item, &mut targets);
            for t in &targets {
                let id = match t {
                    Value::String(s) if !s.is_empty() => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => continue,
                };
                let r = Relation::new(rel.clone(), kind.clone(), id);
                if !d.doc.relations.contains(&r) {
                    d.doc.relations.push(r);
                }
            }
        }
        d.doc.attributes = attrs;
        Ok(Some(d))
    }
}

fn short(v: &Value) -> String {
    v.to_string().chars().take(80).collect()
}

impl Translator for RulesTranslator {
    fn translate(&self, scope: &Scope, item: &Value) -> Result<Vec<ResourceDraft>, TranslateError> {
        Ok(self.translate_item(scope.region.as_deref(), item)?.into_iter().collect())
    }

    fn volatile_keys(&self) -> &[&str] {
        &[]
    }

    fn version(&self) -> &str {
        &self.version
    }
}
