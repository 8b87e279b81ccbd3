use maestro_core::ConfigErrors;

use super::*;

#[test]
fn every_rule_file_compiles_and_every_call_has_one() {
    let r = rules().unwrap();
    for t in TASKS {
        for c in t.calls {
            assert!(r.contains_key(c.resource), "no rule file for {}", c.resource);
        }
    }
    assert_eq!(r.len(), RULE_FILES.len());
}

#[test]
fn vm_sizes_and_resource_groups() {
    assert_eq!(vm_size("Standard_D4s_v3"), Some((4, 16.0)));
    assert_eq!(vm_size("standard_b1ls"), Some((1, 0.5)));
    assert_eq!(vm_size("Standard_Nope"), None);
    assert_eq!(
        resource_group("/subscriptions/s/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/vm1"),
        Some("rg-web")
    );
    assert_eq!(resource_group("/subscriptions/s"), None);
}

#[test]
fn config_validation_and_redaction() {
    let mut c = AzureConfig::new("c", "t/../x", "", "", "sub");
    c.login_endpoint = "nope".into();
    let mut e = ConfigErrors::new();
    assert!(!c.validate("s", &mut e));
    let paths: Vec<&str> = e.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["s.tenant_id", "s.client_id", "s.client_secret", "s.login_endpoint"]);
    let c = AzureConfig::new("c", "t", "app", "very-secret-value", "sub");
    assert!(!format!("{c:?}").contains("very-secret-value"));
}
