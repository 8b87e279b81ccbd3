use std::collections::HashMap;
use std::sync::OnceLock;

use maestro_core::{Relation, ResourceDraft, Scope, TranslateError, Translator};
use serde_json::{Map, Value};

use super::provider::CALL_KEY;
use super::rules::{Context, RuleSet, apply};

/// The mapping rule files, embedded: `(file name, YAML)`. One per API call.
pub static RULE_FILES: &[(&str, &str)] = &[
    ("DescribeInstances.yaml", include_str!("rules/DescribeInstances.yaml")),
    ("DescribeVolumes.yaml", include_str!("rules/DescribeVolumes.yaml")),
    ("DescribeSnapshots.yaml", include_str!("rules/DescribeSnapshots.yaml")),
    ("DescribeImages.yaml", include_str!("rules/DescribeImages.yaml")),
    ("DescribeSecurityGroups.yaml", include_str!("rules/DescribeSecurityGroups.yaml")),
    ("DescribeVpcs.yaml", include_str!("rules/DescribeVpcs.yaml")),
    ("DescribeSubnets.yaml", include_str!("rules/DescribeSubnets.yaml")),
    ("DescribeVpcPeeringConnections.yaml", include_str!("rules/DescribeVpcPeeringConnections.yaml")),
    ("DescribeVpnGateways.yaml", include_str!("rules/DescribeVpnGateways.yaml")),
    ("DescribeVpcEndpoints.yaml", include_str!("rules/DescribeVpcEndpoints.yaml")),
    ("DescribeRouteTables.yaml", include_str!("rules/DescribeRouteTables.yaml")),
    ("DescribeNetworkInterfaces.yaml", include_str!("rules/DescribeNetworkInterfaces.yaml")),
    ("DescribeNatGateways.yaml", include_str!("rules/DescribeNatGateways.yaml")),
    ("DescribeNetworkAcls.yaml", include_str!("rules/DescribeNetworkAcls.yaml")),
    ("DescribeLoadBalancersV2.yaml", include_str!("rules/DescribeLoadBalancersV2.yaml")),
    ("DescribeLoadBalancersClassic.yaml", include_str!("rules/DescribeLoadBalancersClassic.yaml")),
    ("DescribeAutoScalingGroups.yaml", include_str!("rules/DescribeAutoScalingGroups.yaml")),
    ("DescribeDBInstances.yaml", include_str!("rules/DescribeDBInstances.yaml")),
    ("DescribeCacheClusters.yaml", include_str!("rules/DescribeCacheClusters.yaml")),
    ("ListIdentities.yaml", include_str!("rules/ListIdentities.yaml")),
    ("ListQueues.yaml", include_str!("rules/ListQueues.yaml")),
    ("ListBuckets.yaml", include_str!("rules/ListBuckets.yaml")),
    ("ListDistributions.yaml", include_str!("rules/ListDistributions.yaml")),
    ("ListFunctions.yaml", include_str!("rules/ListFunctions.yaml")),
    ("ListLayers.yaml", include_str!("rules/ListLayers.yaml")),
    ("ListTables.yaml", include_str!("rules/ListTables.yaml")),
    ("GetRestApis.yaml", include_str!("rules/GetRestApis.yaml")),
];

/// The instance-type catalogue (name, vCPUs, memory GiB), derived from moto's data.
pub static INSTANCE_TYPES: &str = include_str!("rules/instance_types.tsv");

/// `(vcpus, memory GiB)` of an instance type, from the shipped catalogue.
pub fn instance_type(name: &str) -> Option<(u32, f64)> {
    static TABLE: OnceLock<HashMap<&'static str, (u32, f64)>> = OnceLock::new();
    let t = TABLE.get_or_init(|| {
        INSTANCE_TYPES
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let mut p = l.split('\t');
                let n = p.next()?;
                let c = p.next()?.parse().ok()?;
                let m = p.next()?.parse().ok()?;
                Some((n, (c, m)))
            })
            .collect()
    });
    t.get(name).copied()
}

fn compiled() -> &'static Result<HashMap<String, RuleSet>, String> {
    static RULES: OnceLock<Result<HashMap<String, RuleSet>, String>> = OnceLock::new();
    RULES.get_or_init(|| {
        let mut out = HashMap::new();
        for (file, text) in RULE_FILES {
            let rs = RuleSet::from_yaml(file, text)?;
            if file.trim_end_matches(".yaml") != rs.call {
                return Err(format!("{file}: `call: {}` does not match the file name", rs.call));
            }
            out.insert(rs.call.clone(), rs);
        }
        Ok(out)
    })
}

/// The compiled embedded rules, by call name.
///
/// # Errors
/// A rule file does not compile (caught by the unit tests).
pub fn rules() -> Result<&'static HashMap<String, RuleSet>, String> {
    compiled().as_ref().map_err(Clone::clone)
}

/// Translates raw AWS items (tagged with [`CALL_KEY`]) with the embedded mapping rules.
#[derive(Debug, Clone)]
pub struct AwsTranslator {
    connection: String,
    datacenter: String,
    compat: bool,
    version: String,
}

impl AwsTranslator {
    /// A translator for `connection`, naming its datacenter `datacenter`.
    ///
    /// # Errors
    /// An embedded rule file does not compile.
    pub fn new(connection: &str, datacenter: &str, compat: bool) -> Result<Self, String> {
        rules()?;
        // The version changes whenever a rule file or the catalogue changes.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in RULE_FILES.iter().flat_map(|(n, t)| n.bytes().chain(t.bytes())).chain(INSTANCE_TYPES.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Ok(Self {
            connection: connection.into(),
            datacenter: datacenter.into(),
            compat,
            version: format!("aws-{h:016x}{}", if compat { "-compat" } else { "" }),
        })
    }

    /// Translate one item with an explicit region (what [`Translator::translate`] does with the
    /// scope's region).
    ///
    /// # Errors
    /// No rule for the item's call, or no native id.
    pub fn translate_item(&self, region: Option<&str>, item: &Value) -> Result<ResourceDraft, TranslateError> {
        self.translate_with(self.rule_set(item)?, region, item)
    }

    fn rule_set(&self, item: &Value) -> Result<&'static RuleSet, TranslateError> {
        let call = item.get(CALL_KEY).and_then(Value::as_str).ok_or_else(|| {
            TranslateError::new(short(item), format!("raw item has no `{CALL_KEY}`: not from the aws provider"))
        })?;
        let rules = rules().map_err(|e| TranslateError::new(call, e))?;
        rules.get(call).ok_or_else(|| TranslateError::new(call, format!("no mapping rule for `{call}`")))
    }

    fn translate_with(
        &self,
        rs: &RuleSet,
        region: Option<&str>,
        item: &Value,
    ) -> Result<ResourceDraft, TranslateError> {
        let call = rs.call.as_str();
        let ctx = Context {
            region,
            connection: &self.connection,
            datacenter: &self.datacenter,
            provider: "AWS",
            compat: self.compat,
        };
        let id = match rs.id.eval(item, &ctx) {
            Some(Value::String(s)) if !s.is_empty() => s,
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(TranslateError::new(short(item), format!("{call} item has no native id"))),
        };
        let mut attrs = Map::with_capacity(rs.fields.len() + 2);
        apply(&rs.fields, item, &ctx, &mut attrs);
        for h in &rs.hooks {
            if h == "cpu_memory" {
                let found = attrs
                    .get("datacenters")
                    .and_then(|d| d.get("instance"))
                    .and_then(Value::as_str)
                    .and_then(instance_type);
                if let Some((cpu, mem)) = found {
                    attrs.insert("cpu".into(), Value::from(cpu));
                    attrs.insert("memory".into(), Value::from(mem));
                }
            }
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
                if let Some(id) = t.as_str().filter(|s| !s.is_empty()) {
                    let r = Relation::new(rel.clone(), kind.clone(), id);
                    if !d.doc.relations.contains(&r) {
                        d.doc.relations.push(r);
                    }
                }
            }
        }
        d.doc.attributes = attrs;
        Ok(d)
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    s.chars().take(80).collect()
}

impl Translator for AwsTranslator {
    fn translate(&self, scope: &Scope, item: &Value) -> Result<Vec<ResourceDraft>, TranslateError> {
        let rs = self.rule_set(item)?;
        if rs.skips(item) {
            return Ok(Vec::new());
        }
        self.translate_with(rs, scope.region.as_deref(), item).map(|d| vec![d])
    }

    fn volatile_keys(&self) -> &[&str] {
        // Request-scoped values that change on every call without a real change.
        &["ResponseMetadata", "requestId", "RequestId"]
    }

    fn version(&self) -> &str {
        &self.version
    }
}
