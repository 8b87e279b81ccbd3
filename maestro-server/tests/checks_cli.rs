//! `maestro sites add|list` and `maestro check` end to end: real process, real SQLite file, a
//! loopback HTTP target.

use std::process::Command;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;

fn maestro() -> Command {
    Command::new(env!("CARGO_BIN_EXE_maestro"))
}

/// A target server on its own thread and runtime (the CLI calls below block).
fn serve() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
        rt.block_on(async move {
            let app =
                Router::new().route("/ok", get(|| async { "all ok" })).route(
                    "/status/{code}",
                    get(|Path(code): Path<u16>| async move {
                        StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT)
                    }),
                );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            tx.send(listener.local_addr().expect("addr")).expect("send");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    format!("http://{}", rx.recv().expect("server address"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn sites_add_list_and_check() {
    let base = serve();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("m.db").display());

    let out = maestro()
        .args(["sites", "--database", &db, "--tenant", "acme", "add", "--url", &format!("{base}/ok")])
        .args(["--regexp", "all ok", "--condition", "[STATUS] == 200"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("site 1 added"), "{}", text(&out.stdout));

    // Invalid input: every problem, with its field and position; nothing stored.
    let out = maestro()
        .args(["sites", "--database", &db, "--tenant", "acme", "add", "--url", &format!("{base}/x")])
        .args(["--regexp", "(", "--condition", "[STATUS] => 200"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(64));
    let err = text(&out.stderr);
    assert!(err.contains("regexp: invalid regular expression"), "{err}");
    assert!(err.contains("conditions[0]: expected an operator") && err.contains("position 9"), "{err}");

    // A sites file adds site 10 (a failing target); the run checks both and exits 2.
    let file = dir.path().join("sites.yaml");
    std::fs::write(&file, format!("- id: 10\n  url: {base}/status/500\n  conditions: ['[STATUS] == 200']\n"))
        .expect("write");
    let out =
        maestro().args(["check", "--database", &db, "--tenant", "acme", "--config"]).arg(&file).output().expect("run");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("2 checked, 1 failed, 2 stored"), "{stdout}");
    let row = stdout.lines().find(|l| l.trim_start().starts_with("10 ")).expect("row of site 10");
    assert!(row.contains("FAIL") && row.contains("500") && row.contains("failed: [STATUS] == 200"), "{row}");
    let row = stdout.lines().find(|l| l.trim_start().starts_with("1 ")).expect("row of site 1");
    assert!(row.contains("ok") && row.contains("200") && row.contains("match"), "{row}");

    // A bad sites file names the file and the field.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "- id: 11\n  url: not a url\n").expect("write");
    let out =
        maestro().args(["check", "--database", &db, "--tenant", "acme", "--config"]).arg(&bad).output().expect("run");
    assert_eq!(out.status.code(), Some(64));
    assert!(text(&out.stderr).contains("bad.yaml: sites[0].url"), "{}", text(&out.stderr));

    let out = maestro().args(["sites", "--database", &db, "--tenant", "acme", "list"]).output().expect("run");
    let listing = text(&out.stdout);
    assert!(out.status.success());
    assert_eq!(listing.lines().count(), 3, "header + 2 sites: {listing}");
    assert!(listing.lines().any(|l| l.trim_start().starts_with("10 ") && l.contains("FAIL")), "{listing}");

    // The results' events wait in the outbox for the publishers.
    let out = maestro().args(["outbox", "--database", &db, "status"]).output().expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));
}
