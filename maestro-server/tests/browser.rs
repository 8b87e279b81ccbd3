//! The web page in a real headless Chromium driven over WebDriver (chromedriver): it loads,
//! shows the seeded demo data, a filter changes the rows, the Sites section shows seeded sites
//! with their last check (run by `maestro check` against a loopback target) and its form adds a
//! site through the API; a screenshot is saved under `target/test-artifacts/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`apt-get install -y chromium chromium-driver`;
//! `scripts/services.sh` installs them).

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use common::{Proc, eventually, served_url};
use fantoccini::{ClientBuilder, Locator};

const JWT_SECRET: &str = "browser-jwt-secret";

/// A loopback check target on its own thread and runtime (the CLI calls block): `/ok` answers
/// 200 `all ok`, `/status/{code}` answers `code`.
fn target() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
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
    format!("http://{}", rx.recv().expect("target address"))
}

/// The cells of the Sites row of site `id`: status, code, response time, checked at.
async fn site_row(c: &fantoccini::Client, id: i64) -> [String; 4] {
    let row = c.find(Locator::Css(&format!("#sites-table tr.site[data-site-id='{id}']"))).await.unwrap();
    let mut out: [String; 4] = Default::default();
    for (i, class) in ["status", "code", "response-time", "checked-at"].iter().enumerate() {
        out[i] = row.find(Locator::Css(&format!("td.{class}"))).await.unwrap().text().await.unwrap();
    }
    out
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct KillOnDrop(std::process::Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `data-kind` of every inventory row, read in one script run so that the rows all come from
/// one document (reading row by row raced with a navigation: stale element references).
async fn row_kinds(c: &fantoccini::Client) -> Vec<String> {
    const JS: &str = "return Array.from(document.querySelectorAll('#inventory-table tbody tr.resource'))\
                      .map(r => r.getAttribute('data-kind') || '')";
    eventually("the inventory rows", Duration::from_secs(30), || async {
        let v = c.execute(JS, vec![]).await.ok()?;
        serde_json::from_value::<Vec<String>>(v).ok()
    })
    .await
}

/// Wait until the page at a URL containing `needle` has loaded completely. The URL alone is not
/// enough: it changes when the navigation commits, while the new document is still arriving.
async fn loaded(c: &fantoccini::Client, what: &str, needle: &str) {
    eventually(what, Duration::from_secs(30), || async {
        let url = c.current_url().await.ok()?;
        if !url.as_str().contains(needle) {
            return None;
        }
        let state = c.execute("return document.readyState", vec![]).await.ok()?;
        (state == "complete").then_some(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_the_demo_inventory_and_filters_it_in_chromium() {
    for (bin, pkg) in [("chromedriver", "chromium-driver"), ("chromium", "chromium")] {
        let found = Command::new("sh").arg("-c").arg(format!("command -v {bin}")).output().unwrap().status.success();
        assert!(found, "`{bin}` is missing: install it with apt-get install -y {pkg} (scripts/services.sh does)");
    }
    // Seed a SQLite file with the demo import (the real binary).
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_maestro")).args(["demo", "--dir"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let db = format!("sqlite://{}", dir.path().join("maestro.db").display());
    let config = dir.path().join("web.yaml");
    std::fs::write(
        &config,
        format!("tenant: demo\nserver: {{graphs_dir: \"{}\"}}\n", dir.path().join("graphs").display()),
    )
    .unwrap();
    // Two sites checked once by `maestro check` against a loopback target: one up, one down.
    let base = target();
    for (url, extra) in [
        (format!("{base}/ok"), ["--regexp", "all ok"]),
        (format!("{base}/status/503"), ["--condition", "[STATUS] == 200"]),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_maestro"))
            .args(["sites", "--database", &db, "--tenant", "demo", "add", "--url", &url])
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["check", "--database", &db, "--tenant", "demo"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "one check fails: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut serve = Proc::start(
        "serve",
        &["serve", "--config", config.to_str().unwrap(), "--database", &db, "--port", "0", "--web-only"],
        &[("MAESTRO_SECRETJWT", JWT_SECRET)],
    );
    let url = served_url(&serve.wait_line(Duration::from_secs(60), |l| l.starts_with("maestro serve on")));

    let port = free_port();
    let _driver = KillOnDrop(
        Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1400,1000",
                     format!("--user-data-dir={}", profile.path().display())]
        }),
    );
    let webdriver = format!("http://127.0.0.1:{port}");
    let client = eventually("chromedriver accepting sessions", Duration::from_secs(60), || {
        let caps = caps.clone();
        let webdriver = webdriver.clone();
        async move {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            ClientBuilder::new(connector).capabilities(caps).connect(&webdriver).await.ok()
        }
    })
    .await;

    client.goto(&url).await.unwrap();
    let count = client.find(Locator::Id("inventory-count")).await.unwrap().text().await.unwrap();
    assert!(count.starts_with("200 resource(s) shown"), "first page of the 389 demo resources: {count}");
    let before = row_kinds(&client).await;
    assert_eq!(before.len(), 200);
    assert!(before.iter().any(|k| k != "server"), "unfiltered rows mix kinds");
    assert_eq!(client.find(Locator::Id("tenant")).await.unwrap().text().await.unwrap(), "demo");

    // The Sites section: each seeded site with its last check.
    let [status, code, rt, at] = site_row(&client, 1).await;
    assert_eq!((status.as_str(), code.as_str()), ("up", "200"));
    assert!(rt.ends_with(" ms") && at.starts_with("20"), "response time `{rt}`, checked at `{at}`");
    let [status, code, _, at] = site_row(&client, 2).await;
    assert_eq!((status.as_str(), code.as_str()), ("down", "503"));
    assert_ne!(at, "—");
    assert_eq!(client.find_all(Locator::Css("#sites-table tr.site")).await.unwrap().len(), 2);

    // The form adds a site through the API with a token; a bad regexp is refused with its field.
    let token = maestro_server::api::auth::issue_token(JWT_SECRET, "demo", 3600).unwrap();
    client.find(Locator::Id("site-url")).await.unwrap().send_keys(&format!("{base}/ok?from=form")).await.unwrap();
    client.find(Locator::Id("site-regexp")).await.unwrap().send_keys("(unclosed").await.unwrap();
    client.find(Locator::Id("site-token")).await.unwrap().send_keys(&token).await.unwrap();
    client.find(Locator::Id("add-site-submit")).await.unwrap().click().await.unwrap();
    let refused = eventually("the refusal", Duration::from_secs(30), || async {
        let t = client.find(Locator::Id("add-site-status")).await.ok()?.text().await.ok()?;
        t.starts_with("regexp:").then_some(t)
    })
    .await;
    assert!(refused.contains("invalid regular expression"), "{refused}");
    client.find(Locator::Id("site-regexp")).await.unwrap().clear().await.unwrap();
    client.find(Locator::Id("add-site-submit")).await.unwrap().click().await.unwrap();
    eventually("the added site after the reload", Duration::from_secs(30), || async {
        let rows = client.find_all(Locator::Css("#sites-table tr.site")).await.ok()?;
        (rows.len() == 3).then_some(())
    })
    .await;
    let [status, code, ..] = site_row(&client, 3).await;
    assert_eq!((status.as_str(), code.as_str()), ("not checked yet", "—"));
    client.goto(&format!("{url}/#sites")).await.unwrap();
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(artifacts_dir().join("web-page-sites.png"), &png).unwrap();

    // A real interaction: choose the kind, type a text, press the button.
    client.find(Locator::Id("kind")).await.unwrap().select_by_value("application").await.unwrap();
    client.find(Locator::Id("active")).await.unwrap().select_by_value("true").await.unwrap();
    client.find(Locator::Id("apply")).await.unwrap().click().await.unwrap();
    loaded(&client, "the filtered page", "kind=application").await;
    let apps = row_kinds(&client).await;
    assert_eq!(apps.len(), 54, "the demo's 54 active applications");
    assert!(apps.iter().all(|k| k == "application"), "{apps:?}");
    let count = client.find(Locator::Id("inventory-count")).await.unwrap().text().await.unwrap();
    assert_eq!(count, "54 resource(s) shown");

    // The text filter narrows further: every row's name or id contains it.
    let first_name =
        client.find(Locator::Css("#inventory-table tbody tr.resource td.name")).await.unwrap().text().await.unwrap();
    let needle: String = first_name.chars().take(6).collect();
    let q = client.find(Locator::Id("q")).await.unwrap();
    q.clear().await.unwrap();
    q.send_keys(&needle).await.unwrap();
    client.find(Locator::Id("apply")).await.unwrap().click().await.unwrap();
    loaded(&client, "the text-filtered page", "q=").await;
    let narrowed = row_kinds(&client).await;
    assert!(!narrowed.is_empty() && narrowed.len() <= apps.len(), "{} rows for `{needle}`", narrowed.len());
    assert_eq!(
        client.find(Locator::Id("q")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some(needle.as_str()),
        "the form keeps the filter"
    );
    // The live section connected its websocket.
    eventually("the live websocket", Duration::from_secs(30), || async {
        let s = client.find(Locator::Id("live-status")).await.ok()?.text().await.ok()?;
        (s == "connected").then_some(())
    })
    .await;

    client.goto(&format!("{url}/?kind=application&active=true")).await.unwrap();
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let path = artifacts_dir().join("web-page.png");
    std::fs::write(&path, &png).unwrap();
    eprintln!("screenshot saved to {}", path.display());
    client.close().await.unwrap();
    assert!(serve.terminate(Duration::from_secs(30)).success());
}
