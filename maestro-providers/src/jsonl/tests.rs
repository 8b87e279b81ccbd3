use maestro_core::testing::assert_publisher_contract;

use super::*;

#[tokio::test]
async fn passes_the_contract_and_writes_one_line_per_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let p = JsonlPublisher::new(JsonlConfig { kind: "jsonl".into(), name: None, path: path.clone() });
    let events = assert_publisher_contract(&p).await;
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<maestro_core::Event> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), events.len() * 2);
    assert_eq!(lines[0], events[0]);
    assert_eq!(lines[events.len()], events[0]);
}

#[tokio::test]
async fn unwritable_path_is_a_transient_error_naming_the_file() {
    let p = JsonlPublisher::new(JsonlConfig {
        kind: "jsonl".into(),
        name: None,
        path: "/nonexistent-dir/x/events.jsonl".into(),
    });
    let err = maestro_core::Publisher::publish(&p, &maestro_core::testing::sample_events("t")[0]).await.unwrap_err();
    assert!(err.message.contains("events.jsonl"), "{err}");
}
