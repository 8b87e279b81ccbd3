use std::collections::HashMap;

use super::*;

fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |k| map.get(k).cloned()
}

#[test]
fn env_of_the_original_is_accepted() {
    let cfg = TixConfig::from_lookup(lookup(&[
        ("TIX_REPORTS_BASE_PATH", "reports"),
        ("TIX_PROCESSING_PERIOD", "10"),
        ("TIX_RABBITMQ_USER", "guest"),
        ("TIX_RABBITMQ_PASS", "guest"),
        ("TIX_RABBITMQ_HOST", "localhost"),
        ("TIX_RABBITMQ_PORT", "5672"),
        ("PROCESSOR_TYPE", "WORKER"),
    ]))
    .unwrap();
    assert_eq!(cfg.base_path, std::path::PathBuf::from("reports"));
    assert_eq!(cfg.period_minutes, 10);
    assert_eq!(cfg.period(), std::time::Duration::from_secs(600));
}

#[test]
fn defaults_are_the_reference_ones() {
    let cfg = TixConfig::from_lookup(lookup(&[])).unwrap();
    assert_eq!(cfg.period_minutes, DEFAULT_PERIOD_MINUTES);
    assert_eq!(cfg.period_minutes, 5);
    assert_eq!(cfg.base_path, std::env::temp_dir().join("reports"));
    assert_eq!(cfg.selection, maestro_tix::SelectionConfig::default());
    assert_eq!(cfg.analysis, maestro_tix::AnalysisConfig::default());
    assert_eq!(cfg.usage, UsageMode::Clamp);
    assert_eq!(cfg.dropped_files, DroppedFiles::Delete);
    assert!(cfg.as_lookup.is_none(), "pass-through by default, as the original");
    assert!(cfg.dispose_files);
}

#[test]
fn env_problems_are_all_reported() {
    let e = TixConfig::from_lookup(lookup(&[
        ("TIX_PROCESSING_PERIOD", "five"),
        ("TIX_KEEP_DROPPED_FILES", "maybe"),
        ("TIX_USAGE", "loud"),
        ("TIX_AS_NAMES_FILE", "asn.txt"),
        ("TIX_LEASE_SECS", "1"),
    ]))
    .unwrap_err();
    let paths: Vec<&str> = e.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        vec!["TIX_PROCESSING_PERIOD", "TIX_KEEP_DROPPED_FILES", "TIX_USAGE", "TIX_AS_NAMES_FILE", "env.lease_secs"]
    );
}

#[test]
fn example_config_parses_and_unknown_fields_are_refused() {
    let yaml = serde_json::json!({
        "base_path": "reports",
        "period_minutes": 5,
        "tenant": "tix",
        "lease_secs": 300,
        "selection": {"min_observations": 1084, "max_gap_seconds": 300},
        "analysis": {"unwrap_midnight": true},
        "usage": "raw",
        "dropped_files": "keep",
        "as_lookup": {"pfx2as": "pfx2as.txt", "names": "asn.txt"}
    });
    let mut errors = maestro_core::ConfigErrors::new();
    let cfg: TixConfig = crate::util::parse_config(&yaml, "tix", &mut errors).unwrap();
    assert!(cfg.validate("tix", &mut errors), "{errors}");
    assert_eq!(cfg.usage, UsageMode::Raw);
    assert!(cfg.analysis.unwrap_midnight);
    let bad = serde_json::json!({"base_path": "r", "period": 5});
    assert!(crate::util::parse_config::<TixConfig>(&bad, "tix", &mut errors).is_none());
    assert!(errors.problems[0].1.contains("unknown field `period`"), "{errors}");
}

#[test]
fn invalid_fields_are_reported_with_paths() {
    let mut cfg = TixConfig::new("");
    cfg.period_minutes = 0;
    cfg.quarantine_dir = "../x".into();
    cfg.selection.min_observations = 0;
    let mut errors = maestro_core::ConfigErrors::new();
    assert!(!cfg.validate("tix", &mut errors));
    let paths: Vec<&str> = errors.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        vec!["tix.base_path", "tix.period_minutes", "tix.quarantine_dir", "tix.selection.min_observations"]
    );
    assert!(TixProcessor::new(cfg).is_err());
}

#[test]
fn result_ids_are_uuid_v5_of_the_key() {
    let a = result_event_id("tix:23:17916:1510458308-1510459486");
    assert_eq!(a, result_event_id("tix:23:17916:1510458308-1510459486"));
    assert_ne!(a, result_event_id("tix:23:17916:1510458308-1510459487"));
    assert_eq!(a.get_version_num(), 5);
}

#[test]
fn discovery_lists_user_and_installation_folders() {
    let tmp = tempfile::tempdir().unwrap();
    for d in ["23/17916", "23/41", "6/1", ".hidden/2"] {
        std::fs::create_dir_all(tmp.path().join(d)).unwrap();
    }
    std::fs::write(tmp.path().join("23/stray.json"), "{}").unwrap();
    let p = TixProcessor::new(TixConfig::new(tmp.path())).unwrap();
    let found: Vec<(String, String)> = p.discover().unwrap().into_iter().map(|(u, i, _)| (u, i)).collect();
    let want = [("23", "17916"), ("23", "41"), ("6", "1")].map(|(u, i)| (u.to_string(), i.to_string()));
    assert_eq!(found, want.to_vec());
    let missing = TixProcessor::new(TixConfig::new(tmp.path().join("nope"))).unwrap();
    assert!(matches!(missing.discover(), Err(TixProcessError::Io { .. })));
}

#[tokio::test]
async fn run_processes_then_stops_on_shutdown_and_an_empty_base_records_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("23").join("17916")).unwrap();
    let store = maestro_core::testing::MemoryRepository::new();
    let p = TixProcessor::new(TixConfig::new(tmp.path())).unwrap();
    p.run(&store, async {}).await.unwrap();
    let report = p.process_all(&store).await.unwrap();
    assert_eq!(report.installations.len(), 1);
    assert_eq!(report.installations[0].status, InstallationStatus::Processed);
    assert_eq!((report.results(), report.quarantined(), report.dropped_files()), (0, 0, 0));
    use maestro_core::OutboxStore;
    assert!(store.events_after(Default::default(), 10).await.unwrap().is_empty());
}
