//! The `maestro` binary end to end, as a user runs it: real process, real SQLite file.

use std::process::Command;

fn maestro() -> Command {
    Command::new(env!("CARGO_BIN_EXE_maestro"))
}

#[test]
fn demo_shows_create_unchanged_and_one_deactivation() {
    let dir = tempfile::tempdir().unwrap();
    let out = maestro().args(["demo", "--dir"]).arg(dir.path()).env("RUST_BACKTRACE", "0").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("created 389, updated 0, unchanged 0"), "{stdout}");
    assert!(stdout.contains("created 0, updated 0, unchanged 389, reactivated 0, deactivated 0"), "{stdout}");
    assert!(stdout.contains("updated 1, unchanged 387, reactivated 0, deactivated 1"), "{stdout}");
    assert!(stdout.contains("history of server `i-b3df0f6c3d5ae60c5`: created, deactivated"), "{stdout}");
    assert!(stdout.contains("/attributes/language: \"Go\" → \"Rust\""), "{stdout}");
    let events = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    assert_eq!(events.lines().count(), 389 + 1 + 1 + 2 + 1, "389 created + 3 run.finished + 1 updated + 1 deactivated");
    // The database is a plain SQLite file the other subcommands can read.
    let db = format!("sqlite://{}", dir.path().join("maestro.db").display());
    let out =
        maestro().args(["resources", "--database", &db, "--tenant", "demo", "--active", "false"]).output().unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert_eq!(listing.lines().count(), 1, "{listing}");
    assert!(listing.starts_with("server\ti-b3df0f6c3d5ae60c5\tinactive"), "{listing}");
    let out = maestro().args(["outbox", "--database", &db, "status"]).output().unwrap();
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(status.contains("backlog 0") && status.contains("delivered 394"), "{status}");
    // And the stored inventory draws as a business graph.
    let svg = dir.path().join("g.svg");
    let graphml = dir.path().join("g.graphml");
    let out = maestro()
        .args(["graph", "--database", &db, "--tenant", "demo", "--app", "WebServer Maestro", "--out"])
        .arg(&svg)
        .arg("--graphml")
        .arg(&graphml)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Finished") && text.contains("12 applications"), "{text}");
    let drawing = std::fs::read_to_string(&svg).unwrap();
    assert!(drawing.starts_with("<svg") && drawing.contains("WebServer"), "not the expected SVG");
    assert!(std::fs::read_to_string(&graphml).unwrap().contains("<graphml"));
    let out = maestro()
        .args(["graph", "--database", &db, "--tenant", "demo", "--app", "no such app", "--out"])
        .arg(&svg)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "an unknown entry is a warning status: {text}");
    assert!(text.contains("Warning") && text.contains("no applications found"), "{text}");
}

#[test]
fn bad_config_lists_every_problem_and_exits_64() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.yaml");
    std::fs::write(&cfg, "tenant: acme\npipeline: {batch_size: 0}\nsources:\n  - {type: file, connection: c, paths: [a.txt]}\n  - {type: nope}\npublishers:\n  - {type: webhook, url: 'ftp://x'}\n").unwrap();
    let out = maestro().arg("run").arg(&cfg).output().unwrap();
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "pipeline.batch_size",
        "sources[0].paths[0]",
        "sources[1].type: no provider named `nope`",
        "publishers[0].url",
        "4 problem(s)",
    ] {
        assert!(err.contains(needle), "missing `{needle}` in:\n{err}");
    }
}

#[test]
fn a_partial_run_exits_2_and_names_the_item() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.json");
    std::fs::write(&inv, r#"{"servers": [{"unique_id": "i-1", "name": "ok"}, {"os": "no identity"}]}"#).unwrap();
    let cfg = dir.path().join("m.yaml");
    std::fs::write(
        &cfg,
        format!(
            "database: sqlite://{}\ntenant: t\nsources:\n  - {{type: file, connection: c, paths: [{}]}}\n",
            dir.path().join("m.db").display(),
            inv.display()
        ),
    )
    .unwrap();
    let out = maestro().arg("run").arg(&cfg).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("scope servers Partial") && stdout.contains("has no identity"), "{stdout}");
}
