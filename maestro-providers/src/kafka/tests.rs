use chrono::{NaiveDate, Utc};
use maestro_core::{ConfigErrors, Event, Retry};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use serde_json::json;

use super::consumer::parse_row;
use super::format::{message_key, message_value, python_json};
use super::publisher::classify;
use super::*;

fn site_check(site_id: i64) -> Event {
    Event {
        id: uuid::Uuid::now_v7(),
        kind: "site.check".into(),
        tenant: "acme".into(),
        subject: format!("site:{site_id}"),
        run_id: None,
        occurred_at: Utc::now(),
        payload: json!({"site_id": site_id, "status_code": 200, "response_time": 0.25, "has_regexp": true,
            "created": "2021-05-20 10:00:00.123456", "modified": "2021-05-20 10:00:00.123456", "comments": ""}),
    }
}

#[test]
fn key_and_value_are_the_originals_bytes() {
    let e = site_check(7);
    assert_eq!(message_key(&e), br#"{"site_id": 7}"#.to_vec(), "the bytes of json.dumps of the key");
    assert_eq!(
        String::from_utf8(message_value(&e)).unwrap(),
        r#"{"site_id": 7, "status_code": 200, "response_time": 0.25, "has_regexp": true, "created": "2021-05-20 10:00:00.123456", "modified": "2021-05-20 10:00:00.123456", "comments": ""}"#
    );
}

#[test]
fn other_events_are_keyed_by_subject_and_carry_the_whole_event() {
    let e = maestro_core::testing::sample_events("t").remove(2);
    assert_eq!(message_key(&e), e.subject.as_bytes());
    let back: Event = serde_json::from_slice(&message_value(&e)).unwrap();
    assert_eq!(back, e);
}

#[test]
fn python_json_nests() {
    assert_eq!(
        python_json(&json!({"a": [1, 2, {"b": null}], "c": {}})),
        br#"{"a": [1, 2, {"b": null}], "c": {}}"#.to_vec()
    );
}

#[test]
fn example_config_parses_and_debug_hides_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").unwrap();
    let v = json!({"type": "kafka", "bootstrap_servers": "kafka.example.com:12345", "security_protocol": "sasl_ssl",
        "sasl": {"mechanism": "SCRAM-SHA-512", "username": "avnadmin", "password": "hunter2"},
        "ca_file": ca, "topics": {"run.finished": "maestro-runs"}, "properties": {"sasl.oauthbearer.config": "secret-too"}});
    let mut errors = ConfigErrors::new();
    let cfg: KafkaPublisherConfig = crate::util::parse_config(&v, "publishers[0]", &mut errors).unwrap();
    assert!(cfg.validate("publishers[0]", &mut errors), "{errors}");
    assert_eq!(cfg.topic_for("site.check"), "site-monitor");
    assert_eq!(cfg.topic_for("run.finished"), "maestro-runs");
    assert_eq!(cfg.sink_name(), "kafka:site-monitor");
    let dbg = format!("{cfg:?}");
    assert!(!dbg.contains("hunter2") && !dbg.contains("secret-too"), "{dbg}");
    assert!(dbg.contains("avnadmin"));
    let cc = cfg.connection.client_config();
    assert_eq!(cc.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
    assert_eq!(cc.get("security.protocol"), Some("sasl_ssl"));
    let plain = json!({"type": "kafka", "bootstrap_servers": "127.0.0.1:1"});
    assert!(crate::build_publisher("t", &plain, "publishers[0]", &mut errors).is_some(), "{errors}");
}

#[test]
fn invalid_config_reports_every_problem_with_its_path() {
    let v = json!({"type": "kafka", "bootstrap_servers": "nohost", "security_protocol": "sasl_ssl",
        "topic": "bad topic", "message_timeout_secs": 0, "ca_file": "/nonexistent/ca.pem"});
    let mut errors = ConfigErrors::new();
    assert!(crate::build_publisher("t", &v, "p", &mut errors).is_none());
    let paths: Vec<&str> = errors.problems.iter().map(|(p, _)| p.as_str()).collect();
    for want in ["p.bootstrap_servers[0]", "p.sasl", "p.topic", "p.message_timeout_secs", "p.ca_file"] {
        assert!(paths.contains(&want), "missing {want} in {errors}");
    }
    let mut errors = ConfigErrors::new();
    assert!(
        crate::build_publisher("t", &json!({"type": "kafka", "bootstrap_servers": "h:1", "acks": 1}), "p", &mut errors)
            .is_none()
    );
    assert!(errors.problems[0].1.contains("unknown field `acks`"), "{errors}");
}

#[test]
fn the_originals_space_mangled_ca_pem_is_repaired() {
    let mangled = "-----BEGIN CERTIFICATE----- MIIBaaa MIIBbbb -----END CERTIFICATE-----";
    assert_eq!(repair_pem(mangled), "-----BEGIN CERTIFICATE-----\nMIIBaaa\nMIIBbbb\n-----END CERTIFICATE-----\n");
    let intact = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
    assert_eq!(repair_pem(intact), intact);
}

#[test]
fn errors_are_classified() {
    let t = |e| classify("k", e).retry;
    assert_eq!(t(KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge)), Retry::Never);
    assert_eq!(t(KafkaError::MessageProduction(RDKafkaErrorCode::InvalidRecord)), Retry::Never);
    assert_eq!(t(KafkaError::MessageProduction(RDKafkaErrorCode::MessageTimedOut)), Retry::Backoff);
    assert_eq!(t(KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull)), Retry::Backoff);
    assert_eq!(t(KafkaError::MessageProduction(RDKafkaErrorCode::AllBrokersDown)), Retry::Backoff);
    assert_eq!(t(KafkaError::MessageProduction(RDKafkaErrorCode::UnknownTopicOrPartition)), Retry::Backoff);
}

#[test]
fn rows_follow_the_original_mapping() {
    let row = parse_row(
        Some(br#"{"site_id": 7}"#),
        Some(br#"{"site_id": 99, "status_code": "", "response_time": null, "has_regexp": "", "comments": "Request Exception: boom", "modified": "2021-05-20 10:00:00.123456"}"#),
    )
    .unwrap();
    assert_eq!(row.site_id, 7, "site_id comes from the key, as in the original");
    assert_eq!((row.status_code, row.response_time, row.has_regexp), (None, None, None), "\"\" and null become NULL");
    assert_eq!(row.comments.as_deref(), Some("Request Exception: boom"));
    let want = NaiveDate::from_ymd_opt(2021, 5, 20).unwrap().and_hms_micro_opt(10, 0, 0, 123_456).unwrap();
    assert_eq!(row.record_date, want);
    let row = parse_row(Some(br#"{"site_id":7}"#), Some(br#"{"status_code":200,"response_time":0.5,"has_regexp":false,"comments":"","modified":"2021-05-20T12:00:00.123456+02:00"}"#)).unwrap();
    assert_eq!(row.record_date, want, "RFC 3339 is converted to UTC");
    assert_eq!(row.comments, None);
    assert_eq!((row.status_code, row.response_time, row.has_regexp), (Some(200), Some(0.5), Some(false)));
}

#[test]
fn bad_messages_say_what_is_wrong() {
    let v = br#"{"modified": "2021-05-20 10:00:00"}"#;
    let cases: [(Option<&[u8]>, Option<&[u8]>, &str); 7] = [
        (None, Some(v), "no key"),
        (Some(b"7"), Some(v), "key has no site_id"),
        (Some(b"{\"site_id\": \"x\"}"), Some(v), "key.site_id is not a 32-bit integer"),
        (Some(b"{\"site_id\": 1}"), Some(b"not json"), "value is not JSON"),
        (
            Some(b"{\"site_id\": 1}"),
            Some(br#"{"status_code": "200", "modified": "2021-05-20 10:00:00"}"#),
            "status_code is not an integer",
        ),
        (Some(b"{\"site_id\": 1}"), Some(br#"{"status_code": 200}"#), "no modified"),
        (Some(b"{\"site_id\": 1}"), Some(br#"{"modified": "yesterday"}"#), "modified is not a timestamp"),
    ];
    for (k, v, want) in cases {
        let err = parse_row(k, v).unwrap_err();
        assert!(err.contains(want), "{err:?} should contain {want:?}");
    }
}

#[test]
fn consumer_config_is_validated_and_redacted() {
    let mut c = KafkaConsumerConfig::new("127.0.0.1:9092", "postgres://u:secretpw@127.0.0.1/db");
    assert!(c.validate().is_ok());
    assert!(!format!("{c:?}").contains("secretpw"));
    assert_eq!((c.topic.as_str(), c.group.as_str()), ("site-monitor", "monitor-group"));
    c.schema = "Bad-Schema".into();
    c.database_url = "mysql://x".into();
    let e = c.validate().unwrap_err();
    let paths: Vec<&str> = e.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["consumer.schema", "consumer.database_url"]);
}
