use maestro_core::{ConfigErrors, Kind};
use serde_json::{Map, Value, json};

use super::calls::{join, root};
use super::keystone::{auth_body, parse_token, tokens_url};
use super::*;
use crate::aws::CALL_KEY;

#[test]
fn every_rule_file_compiles_and_every_call_has_one() {
    let r = rules().unwrap();
    for t in calls::TASKS {
        for c in t.calls {
            assert!(r.contains_key(c.name), "no rule file for call {}", c.name);
        }
    }
    assert_eq!(r.len(), RULE_FILES.len());
}

#[test]
fn urls_join_without_repeating_the_version() {
    assert_eq!(join("http://h:9696", "/v2.0/networks"), "http://h:9696/v2.0/networks");
    assert_eq!(join("http://h:9696/v2.0/", "/v2.0/networks"), "http://h:9696/v2.0/networks");
    assert_eq!(join("http://h/compute/v2.1/p1", "/servers/detail"), "http://h/compute/v2.1/p1/servers/detail");
    assert_eq!(join("http://h:9292/v2", "/v2/images"), "http://h:9292/v2/images");
    assert_eq!(root("http://h:9292/v2"), "http://h:9292");
    assert_eq!(tokens_url("http://k:5000"), "http://k:5000/v3/auth/tokens");
    assert_eq!(tokens_url("http://k:5000/v3/"), "http://k:5000/v3/auth/tokens");
}

#[test]
fn auth_body_scopes_by_id_or_by_name_and_domain() {
    let mut c = OpenStackConfig::new("c", "http://k", "alice", "pw", "p-1");
    let b = auth_body(&c);
    assert_eq!(b["auth"]["scope"]["project"], json!({"id": "p-1"}));
    assert_eq!(b["auth"]["identity"]["password"]["user"]["domain"], json!({"id": "default"}));
    c.project_id = None;
    c.project_name = Some("demo".into());
    c.project_domain_name = Some("Corp".into());
    let b = auth_body(&c);
    assert_eq!(b["auth"]["scope"]["project"], json!({"name": "demo", "domain": {"name": "Corp"}}));
}

#[test]
fn token_catalogue_selects_by_type_interface_and_region() {
    let doc = json!({"token": {"expires_at": "2030-01-01T00:00:00.000000Z", "catalog": [
        {"type": "compute", "endpoints": [
            {"interface": "internal", "region_id": "R1", "url": "http://internal"},
            {"interface": "public", "region_id": "R1", "url": "http://r1"},
            {"interface": "public", "region_id": "R2", "url": "http://r2"}]},
        {"type": "volumev3", "endpoints": [{"interface": "public", "region": "R1", "url": "http://cinder"}]}
    ]}});
    let t = parse_token(Some("tok"), &doc).unwrap();
    assert_eq!(t.endpoint(&["compute"], "public", Some("R2")).unwrap(), "http://r2");
    assert_eq!(t.endpoint(&["compute"], "public", None).unwrap(), "http://r1");
    assert_eq!(t.endpoint(&["compute"], "internal", Some("R1")).unwrap(), "http://internal");
    assert_eq!(t.endpoint(&["block-storage", "volumev3"], "public", Some("R1")).unwrap(), "http://cinder");
    let e = t.endpoint(&["load-balancer"], "public", Some("R1")).unwrap_err();
    assert!(
        e.message.contains("no `load-balancer` endpoint") && e.message.contains("compute/public/R1"),
        "{}",
        e.message
    );
    assert!(parse_token(None, &doc).unwrap_err().message.contains("X-Subject-Token"));
    assert_eq!(format!("{:?}", t.value), "<redacted>");
}

#[test]
fn config_validation_reports_every_problem_and_debug_hides_the_password() {
    let mut c = OpenStackConfig::new("", "ftp://k", "", "", "p");
    c.user_domain_id = None;
    c.tasks = Some(vec!["server-list".into(), "nope".into()]);
    c.page_size = 0;
    c.interface = "private".into();
    let mut e = ConfigErrors::new();
    assert!(!c.validate("sources[0]", &mut e));
    let paths: Vec<&str> = e.problems.iter().map(|(p, _)| p.as_str()).collect();
    for p in [
        "sources[0].connection",
        "sources[0].auth_url",
        "sources[0].username",
        "sources[0].password",
        "sources[0].user_domain_id",
        "sources[0].interface",
        "sources[0].tasks[1]",
        "sources[0].page_size",
    ] {
        assert!(paths.contains(&p), "missing {p} in {paths:?}");
    }
    let c = OpenStackConfig::new("c", "http://k", "alice", "s3cr3t-pw", "p");
    assert!(!format!("{c:?}").contains("s3cr3t-pw"));
    let mut e = ConfigErrors::new();
    let v = json!({"type": "openstack", "connection": "c", "auth_url": "http://k", "username": "u",
        "password": "s3cr3t-pw", "user_domain_id": "default", "project_id": "p", "bogus": 1});
    assert!(crate::build_source("t", &v, "sources[0]", &mut e).is_none());
    assert!(e.problems[0].1.contains("unknown field `bogus`"), "{e:?}");
    assert!(!format!("{e:?}").contains("s3cr3t-pw"));
}

fn server(addresses: Value) -> Value {
    json!({CALL_KEY: "servers", "id": "s-1", "name": "web", "status": "SHUTOFF", "addresses": addresses,
           "flavor": {"id": "f1"}, "@flavor": {"id": "f1", "name": "m1.small", "vcpus": 2, "ram": 2048},
           "metadata": {"environment": "prod"}, "@metadata": [{"key": "environment", "value": "prod"}],
           "os-extended-volumes:volumes_attached": [{"id": "v-1"}], "image": {"id": "img-1"}})
}

#[test]
fn servers_get_status_cpu_memory_and_addresses_as_the_original() {
    let t = translator("conn", "OS", false).unwrap();
    let d = t
        .translate_item(
            Some("R1"),
            &server(json!({
                "private-net": [{"addr": "fe80::1", "version": 6}, {"addr": "10.0.0.5", "version": 4, "OS-EXT-IPS:type": "fixed"}],
                "Public_Internet": [{"addr": "203.0.113.9", "version": 4}]
            })),
        )
        .unwrap()
        .unwrap();
    assert_eq!(d.kind, Kind::SERVER);
    let a = &d.doc.attributes;
    assert_eq!(a["status"], "Stopped");
    assert_eq!(a["active"], true);
    assert_eq!(a["cpu"], 2);
    assert_eq!(a["memory"], 2.0);
    assert_eq!(a["ipv4_private"], "10.0.0.5");
    assert_eq!(a["ipv4_public"], "203.0.113.9");
    assert_eq!(a["environment"], "prod");
    assert_eq!(a["datacenters"]["instance"], "m1.small");
    assert_eq!(a["datacenters"]["region"], "R1");
    assert_eq!(d.doc.tags.get("environment").map(String::as_str), Some("prod"));
    assert!(d.doc.relations.iter().any(|r| r.native_id == "v-1"));
    // A floating IP is public when no network is named public/internet.
    let d = t
        .translate_item(None, &server(json!({"net1": [{"addr": "10.1.0.2", "version": 4}, {"addr": "198.51.100.4", "version": 4, "OS-EXT-IPS:type": "floating"}]})))
        .unwrap()
        .unwrap();
    assert_eq!(d.doc.attributes["ipv4_private"], "10.1.0.2");
    assert_eq!(d.doc.attributes["ipv4_public"], "198.51.100.4");
}

#[test]
fn server_status_map() {
    let t = translator("conn", "OS", false).unwrap();
    for (status, shown, active) in [
        ("ACTIVE", "Active", true),
        ("BUILD", "Active", true),
        ("REBOOT", "Available", true),
        ("PAUSED", "Stopped", true),
        ("ERROR", "Active", false),
        ("SOFT_DELETED", "Active", false),
    ] {
        let mut s = server(json!({}));
        s["status"] = json!(status);
        let d = t.translate_item(None, &s).unwrap().unwrap();
        assert_eq!(d.doc.attributes["status"], shown, "{status}");
        assert_eq!(d.doc.attributes["active"], active, "{status}");
    }
}

#[test]
fn flavors_carry_cpu_and_memory_in_gib() {
    let t = translator("conn", "OS", false).unwrap();
    let f = json!({CALL_KEY: "flavors", "id": "f2", "name": "m1.large", "vcpus": 4, "ram": 8192, "disk": 80});
    let d = t.translate_item(None, &f).unwrap().unwrap();
    let mut want = Map::new();
    want.insert("cpu".into(), json!(4));
    want.insert("memory".into(), json!(8.0));
    for (k, v) in want {
        assert_eq!(d.doc.attributes[&k], v, "{k}");
    }
}
