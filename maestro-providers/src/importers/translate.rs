use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::aws::instance_type;
use crate::aws::rules::RuleSet;
use crate::rest::{RulesTranslator, compile_rules};

/// The mapping rule files, embedded.
pub static RULE_FILES: &[(&str, &str)] = &[
    ("ansible_facts.yaml", include_str!("rules/ansible_facts.yaml")),
    ("ansible_device.yaml", include_str!("rules/ansible_device.yaml")),
    ("aws_instance.yaml", include_str!("rules/aws_instance.yaml")),
    ("aws_ebs_volume.yaml", include_str!("rules/aws_ebs_volume.yaml")),
    ("aws_instance_block_device.yaml", include_str!("rules/aws_instance_block_device.yaml")),
];

/// The compiled embedded rules.
///
/// # Errors
/// A rule file does not compile.
pub fn rules() -> Result<&'static HashMap<String, RuleSet>, String> {
    static RULES: OnceLock<Result<HashMap<String, RuleSet>, String>> = OnceLock::new();
    RULES.get_or_init(|| compile_rules(RULE_FILES)).as_ref().map_err(Clone::clone)
}

/// The importers' translator.
///
/// # Errors
/// An embedded rule file does not compile.
pub fn translator(connection: &str, datacenter: &str) -> Result<RulesTranslator, String> {
    Ok(RulesTranslator::new("Import", connection, datacenter, false, rules()?, RULE_FILES, hook))
}

/// `cpu_memory`: Ansible `ansible_memtotal_mb` in GiB; Terraform `instance_type` from the AWS
/// instance-type catalogue.
pub fn hook(name: &str, item: &Value, out: &mut Map<String, Value>) {
    if name != "cpu_memory" {
        return;
    }
    if let Some(mb) = item.get("ansible_memtotal_mb").and_then(Value::as_f64) {
        out.insert("memory".into(), Value::from((mb / 1024.0 * 100.0).round() / 100.0));
    }
    if let Some((cpu, mem)) = item.pointer("/attributes/instance_type").and_then(Value::as_str).and_then(instance_type)
    {
        out.insert("cpu".into(), Value::from(cpu));
        out.insert("memory".into(), Value::from(mem));
    }
}
