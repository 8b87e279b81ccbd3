use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::aws::rules::RuleSet;
use crate::rest::{RulesTranslator, compile_rules};

/// The mapping rule files, embedded: `(file name, YAML)`, one per list.
pub static RULE_FILES: &[(&str, &str)] = &[
    ("droplets.yaml", include_str!("rules/droplets.yaml")),
    ("volumes.yaml", include_str!("rules/volumes.yaml")),
    ("images.yaml", include_str!("rules/images.yaml")),
    ("load_balancers.yaml", include_str!("rules/load_balancers.yaml")),
    ("snapshots.yaml", include_str!("rules/snapshots.yaml")),
    ("firewalls.yaml", include_str!("rules/firewalls.yaml")),
    ("endpoints.yaml", include_str!("rules/endpoints.yaml")),
    ("kubernetes_clusters.yaml", include_str!("rules/kubernetes_clusters.yaml")),
];

/// The compiled embedded rules, by call name.
///
/// # Errors
/// A rule file does not compile (caught by the unit tests).
pub fn rules() -> Result<&'static HashMap<String, RuleSet>, String> {
    static RULES: OnceLock<Result<HashMap<String, RuleSet>, String>> = OnceLock::new();
    RULES.get_or_init(|| compile_rules(RULE_FILES)).as_ref().map_err(Clone::clone)
}

/// The DigitalOcean translator: the embedded rules plus the droplet hooks.
///
/// # Errors
/// An embedded rule file does not compile.
pub fn translator(connection: &str, datacenter: &str, compat: bool) -> Result<RulesTranslator, String> {
    Ok(RulesTranslator::new("DigitalOcean", connection, datacenter, compat, rules()?, RULE_FILES, hook))
}

/// `cpu_memory`: `cpu` = `vcpus`, `memory` = `memory` (MiB) in GiB.
/// `ip_addresses`: `ipv4_private` / `ipv4_public` = the first `networks.v4` entry of type
/// `private` / `public` (as the original).
pub fn hook(name: &str, item: &Value, out: &mut Map<String, Value>) {
    match name {
        "cpu_memory" => {
            if let Some(c) = item.get("vcpus").and_then(Value::as_u64) {
                out.insert("cpu".into(), Value::from(c));
            }
            if let Some(m) = item.get("memory").and_then(Value::as_u64) {
                out.insert("memory".into(), Value::from(m as f64 / 1024.0));
            }
        }
        "ip_addresses" => {
            let v4 = item.pointer("/networks/v4").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
            for (kind, key) in [("private", "ipv4_private"), ("public", "ipv4_public")] {
                let found = v4
                    .iter()
                    .find(|n| n.get("type").and_then(Value::as_str) == Some(kind))
                    .and_then(|n| n.get("ip_address"))
                    .and_then(Value::as_str);
                if let Some(ip) = found {
                    out.insert(key.into(), Value::String(ip.to_string()));
                }
            }
        }
        _ => {}
    }
}
