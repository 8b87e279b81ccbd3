//! Unit tests: every condition kind, parse errors with positions, site validation, due sites.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use maestro_core::monitor::Site;
use serde_json::json;

use super::*;

fn obs(status: u16, body: &'static [u8]) -> Observation<'static> {
    Observation { status: Some(status), response_time_ms: Some(120.0), body, ..Observation::default() }
}

fn holds(cond: &str, o: &Observation<'_>) -> bool {
    Condition::parse(cond).unwrap_or_else(|e| panic!("{cond}: {e}")).evaluate(o)
}

#[test]
fn status_conditions() {
    let o = obs(201, b"");
    assert!(holds("[STATUS] == 201", &o));
    assert!(!holds("[STATUS] == 200", &o));
    assert!(holds("[STATUS] != 200", &o));
    assert!(holds("[STATUS] < 300", &o));
    assert!(holds("[STATUS] >= 201", &o));
    assert!(!holds("[STATUS] > 201", &o));
    assert!(holds("[STATUS] <= 201", &o));
    assert!(holds("[STATUS] == any(200, 201)", &o));
    assert!(!holds("[STATUS] == any(200, 204)", &o));
    assert!(holds("[STATUS] == pat(2*)", &o));
    assert!(!holds("[STATUS] == 200", &Observation::default()), "no response: fails");
}

#[test]
fn response_time_conditions() {
    let o = obs(200, b"");
    assert!(holds("[RESPONSE_TIME] < 300", &o));
    assert!(!holds("[RESPONSE_TIME] < 100", &o));
    assert!(holds("[RESPONSE_TIME] >= 120", &o));
}

#[test]
fn body_text_conditions() {
    let o = obs(200, b"all ok");
    assert!(holds("[BODY] == all ok", &o));
    assert!(holds("[BODY] == pat(*ok*)", &o));
    assert!(!holds("[BODY] == pat(*fail*)", &o));
    assert!(holds("[BODY] != pat(*fail*)", &o));
    assert!(holds("[BODY] == any(nope, all ok)", &o));
    assert!(holds("len([BODY]) == 6", &o));
}

#[test]
fn json_path_conditions() {
    let body: &'static [u8] =
        br#"{"status": "UP", "count": 3, "items": [{"name": "a", "ok": true}, {"name": "b"}], "nested": {"x": null}}"#;
    let o = obs(200, body);
    assert!(holds("[BODY].status == UP", &o));
    assert!(!holds("[BODY].status == DOWN", &o));
    assert!(holds("[BODY].count > 2", &o));
    assert!(holds("[BODY].count == 3.0", &o), "numbers compare as numbers");
    assert!(holds("[BODY].items[1].name == b", &o));
    assert!(holds("[BODY].items[0].ok == true", &o));
    assert!(holds("[BODY].nested.x == null", &o));
    assert!(holds("len([BODY].items) > 0", &o));
    assert!(holds("len([BODY].items) == 2", &o));
    assert!(holds("len([BODY].status) == 2", &o), "string length");
    assert!(holds("has([BODY].nested.x) == true", &o));
    assert!(holds("has([BODY].missing) == false", &o));
    assert!(!holds("has([BODY].missing) == true", &o));
    assert!(!holds("[BODY].missing == UP", &o), "a missing path fails");
    assert!(!holds("[BODY].items[5].name == a", &o));
    assert!(!holds("[BODY].status == UP", &obs(200, b"not json")), "a non-JSON body fails");
    assert!(!holds("[BODY].status > 1", &o), "ordered comparison of a string fails");
}

#[test]
fn certificate_and_connected_conditions() {
    let now: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().expect("time");
    let mut o = obs(200, b"");
    o.now = Some(now);
    o.cert_expires_at = Some(now + Duration::hours(72));
    assert!(holds("[CERTIFICATE_EXPIRATION] > 48h", &o));
    assert!(!holds("[CERTIFICATE_EXPIRATION] > 4d", &o));
    assert!(holds("[CERTIFICATE_EXPIRATION] < 1w", &o));
    o.cert_expires_at = None;
    assert!(!holds("[CERTIFICATE_EXPIRATION] > 48h", &o), "no certificate (http): fails");
    assert!(holds("[CONNECTED] == true", &o));
    assert!(holds("[CONNECTED] == false", &Observation::default()));
}

#[test]
fn parse_errors_point_at_the_problem() {
    let cases = [
        ("[STATUS] => 200", 9, "expected an operator"),
        ("[STATUS] === 200", 11, "unexpected operator character"),
        ("[STAT] == 200", 0, "expected [STATUS]"),
        ("[STATUS] == ", 12, "expected a value"),
        ("[STATUS] == ok", 12, "integer status code"),
        ("[STATUS] == any(200, x)", 12, "integer status codes"),
        ("[STATUS] < any(200, 201)", 11, "only work with == and !="),
        ("[RESPONSE_TIME] < fast", 18, "expected a number"),
        ("[BODY]. == x", 7, "field name"),
        ("[BODY].items[x] == 1", 13, "index like [0]"),
        ("len([BODY].items > 0", 17, "expected `)`"),
        ("len([STATUS]) > 0", 4, "takes [BODY]"),
        ("has([BODY].x) == yes", 17, "true / false"),
        ("[CERTIFICATE_EXPIRATION] > soon", 27, "not a duration"),
        ("[BODY] == pat(*ok*", 18, "not closed"),
        ("[BODY].n > abc", 11, "need a number"),
    ];
    for (input, pos, msg) in cases {
        let e = Condition::parse(input).expect_err(input);
        assert_eq!(e.position, pos, "{input}: {e}");
        assert!(e.message.contains(msg), "{input}: {e}");
        assert!(e.to_string().contains(&format!("position {pos}")), "{e}");
    }
}

#[test]
fn validation_reports_every_problem_with_its_field() {
    let mut s = Site::new("acme", "ftp://example.com/");
    s.regexp = Some("a(b".into());
    s.method = "GE T".into();
    s.timeout_ms = 0;
    s.conditions = vec!["[STATUS] == 200".into(), "[BODY] ~= x".into()];
    s.headers.insert("Bad Header".into(), "v".into());
    let e = validate_site(&s).expect_err("invalid");
    let fields: Vec<&str> = e.problems.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(fields, ["url", "timeout_ms", "method", "headers.Bad Header", "regexp", "conditions[1]"], "{e}");
    assert!(e.problems[4].1.contains("invalid regular expression"), "{e}");
    assert!(e.problems[4].1.contains("unclosed group"), "the regex crate's message (with position): {e}");
    assert!(e.problems[5].1.contains("position 7"), "{e}");

    let mut errors = maestro_core::ConfigErrors::new();
    assert!(validate_site_at(&s, "sites[4]", &mut errors).is_none());
    assert_eq!(errors.problems[0].0, "sites[4].url");

    let ok = validate_site(&Site::new("acme", "https://example.com/h")).expect("valid");
    assert_eq!(ok.method, reqwest::Method::GET);
}

#[test]
fn sites_file_paths_name_the_entry() {
    let v = json!({"sites": [
        {"id": 1, "url": "https://a.test/", "conditions": ["[STATUS] == 200"]},
        {"id": 2, "url": "https://b.test/", "regexp": "("},
        {"id": 3, "url": "https://c.test/", "colour": "red"},
    ]});
    let mut errors = maestro_core::ConfigErrors::new();
    let sites = parse_sites(&v, "acme", "sites.yaml: sites", &mut errors);
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0].tenant, "acme");
    assert_eq!(errors.problems[0].0, "sites.yaml: sites[1].regexp");
    assert!(errors.problems[1].0.starts_with("sites.yaml: sites[2]"), "{errors}");
    assert!(errors.problems[1].1.contains("unknown field `colour`"), "{errors}");
}

#[test]
fn due_sites_honour_each_interval() {
    let now: DateTime<Utc> = "2026-01-01T01:00:00Z".parse().expect("time");
    let mk = |id, interval| Site { id, interval_secs: interval, ..Site::new("t", "https://x.test/") };
    let sites = vec![mk(1, 600), mk(2, 600), mk(3, 60), mk(4, 60)];
    let latest = BTreeMap::from([
        (1, now - Duration::seconds(300)),         // checked 5 min ago, every 10 min: not due
        (2, now - Duration::seconds(600)),         // due
        (3, now - Duration::milliseconds(59_500)), // within the 1 % slack of 60 s: due
    ]);
    let due: Vec<i64> = due_sites(sites, &latest, now).into_iter().map(|s| s.id).collect();
    assert_eq!(due, vec![2, 3, 4]);
}
