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
