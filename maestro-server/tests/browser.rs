//! The web page in a real headless Chromium driven over WebDriver (chromedriver): it loads,
//! shows the seeded demo data, a filter changes the rows; a screenshot is saved under
//! `target/test-artifacts/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`apt-get install -y chromium chromium-driver`;
//! `scripts/services.sh` installs them).

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Proc, eventually, served_url};
use fantoccini::{ClientBuilder, Locator};

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

async fn row_kinds(c: &fantoccini::Client) -> Vec<String> {
    let mut kinds = Vec::new();
    for row in c.find_all(Locator::Css("#inventory-table tbody tr.resource")).await.unwrap() {
        kinds.push(row.attr("data-kind").await.unwrap().unwrap_or_default());
    }
    kinds
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
    let mut serve = Proc::start(
        "serve",
        &["serve", "--config", config.to_str().unwrap(), "--database", &db, "--port", "0", "--web-only"],
        &[],
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
    assert_eq!(client.find(Locator::Id("checks-empty")).await.unwrap().text().await.unwrap(), "no checks yet");

    // A real interaction: choose the kind, type a text, press the button.
    client.find(Locator::Id("kind")).await.unwrap().select_by_value("application").await.unwrap();
    client.find(Locator::Id("active")).await.unwrap().select_by_value("true").await.unwrap();
    client.find(Locator::Id("apply")).await.unwrap().click().await.unwrap();
    eventually("the filtered page", Duration::from_secs(30), || async {
        client.current_url().await.ok().filter(|u| u.as_str().contains("kind=application")).map(|_| ())
    })
    .await;
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
    eventually("the text-filtered page", Duration::from_secs(30), || async {
        client.current_url().await.ok().filter(|u| u.as_str().contains("q=")).map(|_| ())
    })
    .await;
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
