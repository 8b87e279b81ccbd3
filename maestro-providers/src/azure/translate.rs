use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::aws::rules::RuleSet;
use crate::rest::{RulesTranslator, compile_rules};

/// The mapping rule files, embedded: `(file name, YAML)`, one per ARM resource type.
pub static RULE_FILES: &[(&str, &str)] = &[
    ("virtualMachines.yaml", include_str!("rules/virtualMachines.yaml")),
    ("disks.yaml", include_str!("rules/disks.yaml")),
    ("snapshots.yaml", include_str!("rules/snapshots.yaml")),
    ("images.yaml", include_str!("rules/images.yaml")),
    ("networkInterfaces.yaml", include_str!("rules/networkInterfaces.yaml")),
    ("publicIPAddresses.yaml", include_str!("rules/publicIPAddresses.yaml")),
    ("routeTables.yaml", include_str!("rules/routeTables.yaml")),
    ("virtualNetworks.yaml", include_str!("rules/virtualNetworks.yaml")),
];

/// The VM sizes catalogue shipped with the provider (name, vCPUs, memory GiB).
pub static VM_SIZES: &str = include_str!("vm_sizes.tsv");

/// `(vCPUs, memory GiB)` of a VM size (case-insensitive), from [`VM_SIZES`].
pub fn vm_size(name: &str) -> Option<(u32, f64)> {
    static TABLE: OnceLock<HashMap<String, (u32, f64)>> = OnceLock::new();
    let t = TABLE.get_or_init(|| {
        VM_SIZES
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let mut p = l.split('\t');
                let n = p.next()?.to_lowercase();
                let c = p.next()?.trim().parse().ok()?;
                let m = p.next()?.trim().parse().ok()?;
                Some((n, (c, m)))
            })
            .collect()
    });
    t.get(&name.to_lowercase()).copied()
}

/// The compiled embedded rules, by resource type.
///
/// # Errors
/// A rule file does not compile (caught by the unit tests).
pub fn rules() -> Result<&'static HashMap<String, RuleSet>, String> {
    static RULES: OnceLock<Result<HashMap<String, RuleSet>, String>> = OnceLock::new();
    RULES.get_or_init(|| compile_rules(RULE_FILES)).as_ref().map_err(Clone::clone)
}

/// The Azure translator.
///
/// # Errors
/// An embedded rule file does not compile.
pub fn translator(connection: &str, datacenter: &str, compat: bool) -> Result<RulesTranslator, String> {
    Ok(RulesTranslator::new("Azure", connection, datacenter, compat, rules()?, RULE_FILES, hook))
}

/// `cpu_memory`: from `@size` (the VM size looked up by the provider). `ip_addresses`: from
/// `@ipv4_private` / `@ipv4_public` (resolved by the provider from the VM's primary NIC).
pub fn hook(name: &str, item: &Value, out: &mut Map<String, Value>) {
    let copy = |from: &str, to: &str, out: &mut Map<String, Value>| {
        if let Some(v) = item.pointer(from) {
            out.insert(to.into(), v.clone());
        }
    };
    match name {
        "cpu_memory" => {
            copy("/@size/cpu", "cpu", out);
            copy("/@size/memory", "memory", out);
        }
        "ip_addresses" => {
            copy("/@ipv4_private", "ipv4_private", out);
            copy("/@ipv4_public", "ipv4_public", out);
        }
        _ => {}
    }
}
