use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::aws::rules::RuleSet;
use crate::rest::{RulesTranslator, compile_rules};

/// The mapping rule files, embedded: `(file name, YAML)`, one per list call.
pub static RULE_FILES: &[(&str, &str)] = &[
    ("servers.yaml", include_str!("rules/servers.yaml")),
    ("flavors.yaml", include_str!("rules/flavors.yaml")),
    ("images.yaml", include_str!("rules/images.yaml")),
    ("volumes.yaml", include_str!("rules/volumes.yaml")),
    ("snapshots.yaml", include_str!("rules/snapshots.yaml")),
    ("security_groups.yaml", include_str!("rules/security_groups.yaml")),
    ("networks.yaml", include_str!("rules/networks.yaml")),
    ("subnets.yaml", include_str!("rules/subnets.yaml")),
    ("ports.yaml", include_str!("rules/ports.yaml")),
    ("routers.yaml", include_str!("rules/routers.yaml")),
    ("loadbalancers.yaml", include_str!("rules/loadbalancers.yaml")),
];

/// The compiled embedded rules, by call name.
///
/// # Errors
/// A rule file does not compile (caught by the unit tests).
pub fn rules() -> Result<&'static HashMap<String, RuleSet>, String> {
    static RULES: OnceLock<Result<HashMap<String, RuleSet>, String>> = OnceLock::new();
    RULES.get_or_init(|| compile_rules(RULE_FILES)).as_ref().map_err(Clone::clone)
}

/// The OpenStack translator: the embedded rules plus the server hooks.
///
/// # Errors
/// An embedded rule file does not compile.
pub fn translator(connection: &str, datacenter: &str, compat: bool) -> Result<RulesTranslator, String> {
    Ok(RulesTranslator::new("OpenStack", connection, datacenter, compat, rules()?, RULE_FILES, hook))
}

/// `cpu_memory`: `cpu` = the flavor's vCPUs, `memory` = its RAM in GiB (Nova gives MiB).
/// `ip_addresses`: as the original, `ipv4_private` is the first IPv4 address of the first
/// network in `addresses`, `ipv4_public` the first address of a network whose name contains
/// `public` or `internet` (any case); failing that, the first floating IP, then `accessIPv4`.
pub fn hook(name: &str, item: &Value, out: &mut Map<String, Value>) {
    match name {
        "cpu_memory" => {
            // A server carries its flavor under `@flavor`; a flavor item is its own.
            let Some(f) = item.get("@flavor").or_else(|| item.get("vcpus").map(|_| item)) else { return };
            if let Some(c) = f.get("vcpus").and_then(as_u64) {
                out.insert("cpu".into(), Value::from(c));
            }
            if let Some(mib) = f.get("ram").and_then(as_u64) {
                out.insert("memory".into(), Value::from(mib as f64 / 1024.0));
            }
        }
        "ip_addresses" => {
            let Some(Value::Object(nets)) = item.get("addresses") else { return };
            let v4 = |a: &&Value| {
                a.get("version")
                    .and_then(Value::as_u64)
                    .map_or_else(|| a.get("addr").and_then(Value::as_str).is_some_and(|s| s.contains('.')), |v| v == 4)
            };
            let addr = |a: &Value| a.get("addr").and_then(Value::as_str).map(str::to_string);
            let private = nets.values().next().and_then(Value::as_array).and_then(|l| l.iter().find(v4)).and_then(addr);
            let public = nets
                .iter()
                .filter(|(n, _)| {
                    let n = n.to_lowercase();
                    n.contains("public") || n.contains("internet")
                })
                .find_map(|(_, l)| l.as_array().and_then(|l| l.iter().find(v4)).and_then(addr))
                .or_else(|| {
                    nets.values()
                        .filter_map(Value::as_array)
                        .flatten()
                        .filter(v4)
                        .find(|a| a.get("OS-EXT-IPS:type").and_then(Value::as_str) == Some("floating"))
                        .and_then(addr)
                })
                .or_else(|| {
                    item.get("accessIPv4").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
                });
            if let Some(p) = private {
                out.insert("ipv4_private".into(), Value::String(p));
            }
            if let Some(p) = public {
                out.insert("ipv4_public".into(), Value::String(p));
            }
        }
        _ => {}
    }
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)),
        Value::String(s) => s.trim().split(|c: char| !c.is_ascii_digit()).next().and_then(|d| d.parse().ok()),
        _ => None,
    }
}
