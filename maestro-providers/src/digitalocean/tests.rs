use maestro_core::{ConfigErrors, Kind};
use serde_json::json;

use super::*;
use crate::aws::CALL_KEY;

#[test]
fn every_rule_file_compiles_and_every_task_has_one() {
    let r = rules().unwrap();
    for t in TASKS {
        assert!(r.contains_key(t.items), "no rule file for {}", t.items);
    }
    assert_eq!(r.len(), RULE_FILES.len());
}

#[test]
fn droplets_get_ips_cpu_memory_and_tags() {
    let t = translator("do", "DO", false).unwrap();
    let d = json!({CALL_KEY: "droplets", "id": 3164444, "name": "web-1", "memory": 2048, "vcpus": 2, "disk": 50,
        "status": "off", "size_slug": "s-2vcpu-2gb", "region": {"slug": "nyc3", "name": "New York 3"},
        "networks": {"v4": [{"ip_address": "104.131.186.241", "type": "public"}, {"ip_address": "10.128.0.5", "type": "private"}]},
        "volume_ids": ["vol-1"], "image": {"id": 63663980, "distribution": "Ubuntu", "name": "20.04 (LTS) x64"},
        "@tags": [{"key": "environment", "value": "prod"}]});
    let r = t.translate_item(None, &d).unwrap().unwrap();
    assert_eq!(r.kind, Kind::SERVER);
    assert_eq!(r.native_id, "3164444");
    let a = &r.doc.attributes;
    assert_eq!(a["unique_id"], "3164444");
    assert_eq!(a["ipv4_private"], "10.128.0.5");
    assert_eq!(a["ipv4_public"], "104.131.186.241");
    assert_eq!((a["cpu"].as_u64(), a["memory"].as_f64()), (Some(2), Some(2.0)));
    assert_eq!(a["status"], "Stopped");
    assert_eq!(a["environment"], "prod");
    assert_eq!(a["datacenters"]["region"], "nyc3");
    assert_eq!(a["datacenters"]["instance"], "s-2vcpu-2gb");
    assert!(r.doc.relations.iter().any(|x| x.native_id == "vol-1"));
    assert!(r.doc.relations.iter().any(|x| x.native_id == "63663980"));
}

#[test]
fn config_validation_and_redaction() {
    let mut c = DigitalOceanConfig::new("", "");
    c.page_size = 500;
    c.endpoint = "nope".into();
    c.tasks = Some(vec!["x".into()]);
    let mut e = ConfigErrors::new();
    assert!(!c.validate("s", &mut e));
    let paths: Vec<&str> = e.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["s.connection", "s.token", "s.endpoint", "s.tasks[0]", "s.page_size"]);
    let c = DigitalOceanConfig::new("c", "dop_v1_secret_value");
    assert!(!format!("{c:?}").contains("dop_v1_secret_value"));
}
