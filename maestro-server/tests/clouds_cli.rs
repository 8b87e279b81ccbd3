//! `maestro run` end to end against the loopback cloud doubles of
//! `maestro-providers/tests/support/` (real process, real SQLite file, real HTTP).

#[path = "../../maestro-providers/tests/support/fake_openstack.rs"]
mod fake_openstack;

#[path = "../../maestro-providers/tests/support/fake_digitalocean.rs"]
mod fake_digitalocean;

#[path = "../../maestro-providers/tests/support/fake_azure.rs"]
mod fake_azure;

use std::path::Path;
use std::process::{Command, Output};

fn maestro(args: Vec<String>) -> impl FnOnce() -> Output {
    move || Command::new(env!("CARGO_BIN_EXE_maestro")).args(args).env("RUST_BACKTRACE", "0").output().unwrap()
}

async fn run(args: &[&str]) -> Output {
    let args = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(maestro(args)).await.unwrap()
}

fn text(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn write_config(dir: &Path, source: &str) -> (String, String) {
    let db = format!("sqlite://{}", dir.join("maestro.db").display());
    let cfg = dir.join("maestro.yaml");
    std::fs::write(&cfg, format!("database: {db}\ntenant: acme\nsources:\n{source}")).unwrap();
    (cfg.display().to_string(), db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maestro_run_crawls_openstack_and_deactivates_a_deleted_server() {
    let fake = fake_openstack::FakeOpenStack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let source = format!(
        "  - type: openstack\n    connection: os-cli\n    auth_url: {}\n    username: {}\n    password: {}\n    \
         user_domain_id: default\n    project_id: {}\n    regions: [RegionOne]\n    page_size: 2\n",
        fake.auth_url,
        fake_openstack::USER,
        fake_openstack::PASSWORD,
        fake_openstack::PROJECT
    );
    let (cfg, db) = write_config(dir.path(), &source);
    let out = run(&["run", &cfg]).await;
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Complete"), "{}", text(&out));
    assert!(!text(&out).contains(fake_openstack::PASSWORD), "the password must never be printed");

    let out = run(&["resources", "--database", &db, "--tenant", "acme"]).await;
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(listing.lines().filter(|l| l.starts_with("server\t")).count(), 5, "{listing}");
    assert!(listing.contains("5f1b0003-0c6e-4b4c-9d1b-2a1e0c9f0003"), "{listing}");

    assert!(fake.state().delete("servers", "5f1b0003-0c6e-4b4c-9d1b-2a1e0c9f0003"));
    let out = run(&["run", &cfg]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("deactivated 1"), "{}", text(&out));
    let out = run(&["resources", "--database", &db, "--tenant", "acme", "--active", "false"]).await;
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(listing.lines().count(), 1, "{listing}");
    assert!(listing.starts_with("server\t5f1b0003-0c6e-4b4c-9d1b-2a1e0c9f0003\tinactive"), "{listing}");

    // Wrong password: every scope fails, the exit code says so, nothing is deactivated.
    let bad = source.replace(fake_openstack::PASSWORD, "not the password");
    let (cfg, _) = write_config(dir.path(), &bad);
    let out = run(&["run", &cfg]).await;
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("keystone refused the credentials"), "{}", text(&out));
    let out = run(&["resources", "--database", &db, "--tenant", "acme", "--active", "false"]).await;
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maestro_run_crawls_digitalocean_and_deactivates_a_deleted_droplet() {
    let fake = fake_digitalocean::FakeDigitalOcean::start().await;
    let dir = tempfile::tempdir().unwrap();
    let source = format!(
        "  - {{type: digitalocean, connection: do-cli, token: {}, endpoint: '{}', page_size: 2}}\n",
        fake_digitalocean::TOKEN,
        fake.base
    );
    let (cfg, db) = write_config(dir.path(), &source);
    let out = run(&["run", &cfg]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains(fake_digitalocean::TOKEN), "the token must never be printed");
    let out = run(&["resources", "--database", &db, "--tenant", "acme"]).await;
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(listing.lines().filter(|l| l.starts_with("server\t")).count(), 5, "{listing}");

    assert!(fake.state().delete("droplets", "3164444"));
    let out = run(&["run", &cfg]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("deactivated 1"), "{}", text(&out));
    let out = run(&["resources", "--database", &db, "--tenant", "acme", "--active", "false"]).await;
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(listing.lines().count(), 1, "{listing}");
    assert!(listing.starts_with("server\t3164444\tinactive"), "{listing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maestro_run_crawls_azure_and_deactivates_a_deleted_vm() {
    let fake = fake_azure::FakeAzure::start().await;
    let dir = tempfile::tempdir().unwrap();
    let source = format!(
        "  - type: azure\n    connection: az-cli\n    tenant_id: {}\n    client_id: {}\n    client_secret: '{}'\n    \
         subscription_id: {}\n    login_endpoint: '{}'\n    management_endpoint: '{}'\n",
        fake_azure::TENANT_ID,
        fake_azure::CLIENT_ID,
        fake_azure::CLIENT_SECRET,
        fake_azure::SUBSCRIPTION,
        fake.base,
        fake.base
    );
    let (cfg, db) = write_config(dir.path(), &source);
    let out = run(&["run", &cfg]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains(fake_azure::CLIENT_SECRET), "the secret must never be printed");
    let out = run(&["resources", "--database", &db, "--tenant", "acme"]).await;
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(listing.lines().filter(|l| l.starts_with("server\t")).count(), 4, "{listing}");

    assert!(fake.state().delete("virtualMachines", "db-1"));
    let out = run(&["run", &cfg]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("deactivated 1"), "{}", text(&out));
    let out = run(&["resources", "--database", &db, "--tenant", "acme", "--active", "false"]).await;
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(listing.lines().count(), 1, "{listing}");
    assert!(
        listing.starts_with("server\t/subscriptions/") && listing.contains("/virtualMachines/db-1\tinactive"),
        "{listing}"
    );
}
