use serde_json::json;

use super::*;

#[test]
fn every_rule_file_compiles() {
    assert_eq!(rules().unwrap().len(), RULE_FILES.len());
}

#[test]
fn terraform_other_versions_are_refused_by_name() {
    let e = items_of(Format::Terraform, "server-list", &json!({"version": 3})).unwrap_err();
    assert!(e.contains("version 3 is not supported"), "{e}");
    assert!(items_of(Format::Terraform, "server-list", &json!({"serial": 1})).unwrap_err().contains("no `version`"));
}

#[test]
fn ansible_needs_facts() {
    assert!(items_of(Format::Ansible, "server-list", &json!({"x": 1})).unwrap_err().contains("no `ansible_*` facts"));
    let one = items_of(Format::Ansible, "server-list", &json!({"ansible_facts": {"ansible_hostname": "h"}})).unwrap();
    assert_eq!(one.len(), 1);
}

// ---------------------------------------------------------------- sources

/// The provider names of the sources built from a YAML list, or every problem.
fn parse_sources(yaml: &str) -> Result<Vec<String>, maestro_core::ConfigErrors> {
    let value: serde_json::Value = serde_yaml_ng::from_str(yaml).unwrap();
    let mut errors = maestro_core::ConfigErrors::new();
    let built: Vec<String> = value
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter_map(|(i, v)| crate::build_source("t", v, &format!("sources[{i}]"), &mut errors))
        .map(|s| s.provider.name().to_string())
        .collect();
    errors.into_result(built)
}

#[test]
fn the_documented_ssh_and_s3_examples_parse() {
    let built = parse_sources(
        r#"
- type: terraform
  connection: tf-prod
  ssh: {host: 127.0.0.1, port: 2222, user: deploy, private_key_file: keys/id_ed25519, known_hosts_file: keys/known_hosts}
  paths: [/srv/terraform/terraform.tfstate]
- type: ansible
  connection: facts
  s3: {bucket: inventories, region: us-east-1, endpoint: "http://127.0.0.1:5055", access_key_id: AKID, secret_access_key: SECRET}
  paths: [facts/web-1.json]
- {type: ansible, connection: local, paths: [facts/web-1.json]}
"#,
    )
    .unwrap();
    assert_eq!(built, ["terraform", "ansible", "ansible"]);
}

#[test]
fn unknown_source_fields_are_named_with_their_path() {
    let e = parse_sources(
        "- {type: terraform, connection: c, paths: [a], ssh: {hots: h, user: u, known_hosts_file: k, password: p}}",
    )
    .unwrap_err();
    assert_eq!(e.problems.len(), 1, "{e:?}");
    assert_eq!(e.problems[0].0, "sources[0].ssh.hots");
    assert!(e.problems[0].1.contains("unknown field `hots`"), "{e:?}");
}

#[test]
fn source_validation_reports_every_problem_with_its_path() {
    let e = parse_sources(
        r#"
- type: terraform
  connection: c
  paths: [a]
  ssh: {host: "", port: 0, user: u, known_hosts_file: k, read_timeout_secs: 0}
- type: ansible
  connection: c
  paths: [facts/, ""]
  s3: {bucket: No_Such, endpoint: "ftp://x", access_key_id: "", secret_access_key: s}
- type: ansible
  connection: c
  paths: [a]
  ssh: {host: h, user: u, known_hosts_file: k, password: p}
  s3: {bucket: abc, access_key_id: a, secret_access_key: s}
"#,
    )
    .unwrap_err();
    let paths: Vec<&str> = e.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "sources[0].ssh.host",
            "sources[0].ssh.port",
            "sources[0].ssh",
            "sources[0].ssh.read_timeout_secs",
            "sources[1].paths[0]",
            "sources[1].paths[1]",
            "sources[1].s3.bucket",
            "sources[1].s3.endpoint",
            "sources[1].s3.access_key_id",
            "sources[2]",
        ],
        "{e:#?}"
    );
    assert!(e.problems[2].1.contains("`private_key_file` or `password`"));
    assert!(e.problems[4].1.contains("prefix listing is not supported"));
    assert!(e.problems[9].1.contains("at most one of `ssh` and `s3`"));
}

#[test]
fn debug_never_shows_secrets() {
    let ssh: SshSource = serde_json::from_value(json!({
        "host": "h", "user": "u", "known_hosts_file": "k", "password": "hunter2-pass",
        "private_key_file": "id", "private_key_passphrase": "key-phrase-9"
    }))
    .unwrap();
    let s3: S3Source = serde_json::from_value(json!({
        "bucket": "abc", "access_key_id": "AKIDVISIBLE", "secret_access_key": "s3cr3t-key", "session_token": "tok-77"
    }))
    .unwrap();
    let cfg =
        ImportConfig { ssh: Some(ssh.clone()), s3: Some(s3.clone()), ..ImportConfig::local("ansible", "c", vec![]) };
    let shown = format!(
        "{cfg:?} {:?} {:?}",
        FileSource::new(Some(&ssh), None).unwrap(),
        FileSource::new(None, Some(&s3)).unwrap()
    );
    for secret in ["hunter2-pass", "key-phrase-9", "s3cr3t-key", "tok-77"] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    assert!(shown.contains("AKIDVISIBLE") && shown.contains("<redacted>"), "{shown}");
}

#[test]
fn sources_name_their_files() {
    let ssh: SshSource = serde_json::from_value(
        json!({"host": "h", "port": 2222, "user": "u", "known_hosts_file": "k", "password": "p"}),
    )
    .unwrap();
    let s3: S3Source =
        serde_json::from_value(json!({"bucket": "inv", "access_key_id": "a", "secret_access_key": "s"})).unwrap();
    let p = std::path::Path::new("/srv/tf/terraform.tfstate");
    assert_eq!(FileSource::Local.describe(p), "/srv/tf/terraform.tfstate");
    assert_eq!(FileSource::new(Some(&ssh), None).unwrap().describe(p), "ssh://u@h:2222/srv/tf/terraform.tfstate");
    let key = std::path::Path::new("facts/web-1.json");
    assert_eq!(FileSource::new(None, Some(&s3)).unwrap().describe(key), "s3://inv/facts/web-1.json");
    assert_eq!(encode_key("prod env/a+b/ü.json"), "prod%20env/a%2Bb/%C3%BC.json");
}

#[test]
fn ansible_devices_become_volumes_of_the_host_with_their_size() {
    let facts = json!({"ansible_facts": {
        "ansible_machine_id": "m-1",
        "ansible_devices": {
            "vda": {"sectors": "41943040", "model": "virtio"},
            "nvme0n1": {"sectors": 1000215216, "sectorsize": "512"},
            "loop0": {"sectors": "0"}, "sr0": {"sectors": "2097151"}
        }
    }});
    let items = items_of(Format::Ansible, "volumes-list", &facts).unwrap();
    let ids: Vec<&str> = items.iter().map(|v| v["@id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["m-1:vda", "m-1:nvme0n1"], "in file order; loop and optical devices skipped");
    assert_eq!(items[0]["@size_gib"], 20, "41943040 × 512 B = 20 GiB");
    assert_eq!(items[1]["@size_gib"], 476, "1000215216 × 512 B = 476.9 GiB, floored");
    assert_eq!(items[0]["@host"], "m-1");
    assert_eq!(items[0]["model"], "virtio");
    // Server facts alone yield no volumes; devices without a host identity are an error.
    assert!(items_of(Format::Ansible, "volumes-list", &json!({"ansible_hostname": "h"})).unwrap().is_empty());
    let e = items_of(Format::Ansible, "volumes-list", &json!({"ansible_devices": {"vda": {}}})).unwrap_err();
    assert!(e.contains("host identity"), "{e}");
}
