//! `maestro serve` as a user runs it: a real process on a real SQLite file, with a schedule that
//! imports the demo inventory every second and one that draws a graph every two seconds.

mod common;

use std::time::Duration;

use common::{Proc, demo_inventory, eventually, served_url};
use maestro_core::scheduler::{JobFilter, JobState, ScheduleStore};
use maestro_core::{PageRequest, Repository, ResourceFilter, RunStatus};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_scheduled_imports_and_serves_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let graphs = dir.path().join("graphs");
    let config = dir.path().join("maestro.yaml");
    std::fs::write(
        &config,
        format!(
            r#"tenant: demo
sources:
  - {{type: file, connection: demo-files, paths: ["{inv}"]}}
schedules:
  - {{name: import, kind: crawl, args: {{connection: demo-files}}, every: 1}}
  - {{name: webgraph, kind: graph, args: {{apps: [WebServer Maestro]}}, every: 2}}
  - {{name: broken, kind: no-such-kind, every: 1}}
server: {{graphs_dir: "{graphs}", workers: 2}}
"#,
            inv = demo_inventory().display(),
            graphs = graphs.display()
        ),
    )
    .unwrap();
    let mut serve = Proc::start(
        "serve",
        &[
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--database",
            &db,
            "--port",
            "0",
            "--tick-ms",
            "200",
            "--poll-ms",
            "100",
        ],
        &[],
    );
    let url = served_url(&serve.wait_line(Duration::from_secs(60), |l| l.starts_with("maestro serve on")));

    let store = maestro_store::SqliteStore::open(&db).await.unwrap();
    // The scheduled import ran and the resources are in the store.
    let job = eventually("a succeeded import job", Duration::from_secs(60), || async {
        let f = JobFilter { schedule: Some("import".into()), state: Some(JobState::Succeeded), ..JobFilter::default() };
        store.list_jobs(&f).await.unwrap().into_iter().next()
    })
    .await;
    assert!(job.id.starts_with("demo/import@"), "the job id is the slot key: {}", job.id);
    let run = store.get_run(job.run_id).await.unwrap().expect("the run is recorded under the job's run id");
    assert_eq!(run.status, RunStatus::Complete);
    let page = store.list_resources(&ResourceFilter::tenant("demo"), &PageRequest::first(1000)).await.unwrap();
    assert_eq!(page.items.len(), 389, "the whole demo inventory was imported");
    // Later slots ran again (unchanged, so nothing written).
    eventually("a second import", Duration::from_secs(60), || async {
        let f = JobFilter { schedule: Some("import".into()), state: Some(JobState::Succeeded), ..JobFilter::default() };
        (store.list_jobs(&f).await.unwrap().len() >= 2).then_some(())
    })
    .await;
    // An unknown job kind is dead at once, with the known kinds named.
    let dead = eventually("the broken schedule's job dead", Duration::from_secs(60), || async {
        let f = JobFilter { schedule: Some("broken".into()), state: Some(JobState::Dead), ..JobFilter::default() };
        store.list_jobs(&f).await.unwrap().into_iter().next()
    })
    .await;
    let err = dead.last_error.unwrap();
    assert!(
        err.contains("no job kind named `no-such-kind`; known: crawl, graph, outbox.relay, site.check, tix.process"),
        "{err}"
    );
    // The graph job wrote its SVG, served under /files/graphs/.
    eventually("the graph SVG", Duration::from_secs(60), || async {
        graphs.join("webgraph.svg").exists().then_some(())
    })
    .await;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let svg = http.get(format!("{url}/files/graphs/webgraph.svg")).send().await.unwrap();
    assert_eq!(svg.status(), 200);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("WebServer"));
    // Traversal and odd names are refused.
    for bad in ["/files/graphs/..%2Fm.db", "/files/graphs/.hidden.svg", "/files/graphs/a%20b.svg"] {
        let r = http.get(format!("{url}{bad}")).send().await.unwrap();
        assert!(r.status().is_client_error(), "{bad}: {}", r.status());
    }
    // The page shows the inventory, the schedules with their last run, and filters.
    let html = http.get(format!("{url}/?kind=server&active=true")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"inventory-table\""), "{html}");
    assert!(html.contains("i-b3df0f6c3d5ae60c5"), "a demo server is listed");
    assert!(!html.contains("data-kind=\"application\""), "the kind filter applies");
    assert!(html.contains("class=\"schedule\"") && html.contains("import") && html.contains("Complete"));
    assert!(
        html.contains("id=\"sites-empty\"") && html.contains("No sites are monitored."),
        "the Sites section without sites"
    );
    let bad = http.get(format!("{url}/?active=maybe")).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("active must be true, false or empty"));
    let bad = http.get(format!("{url}/?colour=red")).send().await.unwrap();
    assert_eq!(bad.status(), 400);

    // Graceful shutdown: SIGTERM stops the beat, lets the workers finish, exits 0.
    let status = serve.terminate(Duration::from_secs(60));
    assert!(status.success(), "exit status {status}; stdout:\n{}", serve.lines().join("\n"));
    assert!(serve.lines().iter().any(|l| l == "maestro serve stopped"));
    // No job was left half-done: in-flight jobs finished before the exit.
    let f = JobFilter { state: Some(JobState::Running), ..JobFilter::default() };
    let left = store.list_jobs(&f).await.unwrap();
    assert!(left.is_empty(), "jobs left running after shutdown: {left:?}");
    // The beat gave its lease up.
    use maestro_core::LeaseStore;
    assert_eq!(store.lease_holder("beat", chrono::Utc::now()).await.unwrap(), None);
}

#[test]
fn bad_runtime_config_names_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.yaml");
    std::fs::write(&config, "tenant: t\nschedules:\n  - {name: a, kind: crawl, every: 0}\n  - {name: b, kind: crawl}\nserver: {workers: 0, colour: 1}\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["beat", "--config", config.to_str().unwrap(), "--database", "sqlite::memory:"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in
        ["schedules[0].every", "schedules[1]: give exactly one of `every` (seconds) and `cron`", "server.colour"]
    {
        assert!(err.contains(needle), "missing `{needle}` in:\n{err}");
    }
}
