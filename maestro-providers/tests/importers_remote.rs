//! The `ansible` and `terraform` importers reading their files over SSH (a real OpenSSH server
//! started by each test on a free loopback port, SFTP subsystem) and from S3 (moto's server),
//! through the real pipeline into real SQLite files, compared with the same import from local
//! paths (`tests/fixtures/importers/`).
//!
//! Needs `/usr/sbin/sshd` and `ssh-keygen` (`apt-get install -y openssh-server`, also done by
//! `. scripts/services.sh`) and moto's server at `MAESTRO_MOTO_URL` (default
//! `http://127.0.0.1:5055`; `. scripts/services.sh` starts it) with boto3 for `MAESTRO_PYTHON`
//! (default `python3`), which puts the objects (an independent client).

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use maestro_core::{
    Document, NoObserver, PageRequest, Pipeline, Provider, ProviderErrorKind, Repository, ResourceFilter, RunJob,
    RunReport, RunStatus, ScopeOutcome,
};
use maestro_providers::file::{FileConfig, FileProvider, FileTranslator};
use maestro_providers::importers::{Format, ImportConfig, ImportProvider, S3Source, SshSource, translator};
use maestro_store::SqliteStore;

const TENANT: &str = "acme";

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/importers").join(name)
}

fn kind(format: Format) -> &'static str {
    if format == Format::Ansible { "ansible" } else { "terraform" }
}

async fn store() -> Result<(tempfile::TempDir, Arc<SqliteStore>)> {
    let dir = tempfile::tempdir()?;
    let s = SqliteStore::open(&format!("sqlite://{}", dir.path().join("maestro.db").display())).await?;
    Ok((dir, Arc::new(s)))
}

async fn crawl(store: &Arc<SqliteStore>, conn: &str, p: &ImportProvider) -> Result<RunReport> {
    let t = translator(conn, conn).map_err(anyhow::Error::msg)?;
    Ok(Pipeline::new(store.clone())
        .run_and_record(RunJob { tenant: TENANT, connection: conn, provider: p, translator: &t }, &NoObserver)
        .await?)
}

/// Identity → (active, provider-owned document).
async fn inventory(store: &Arc<SqliteStore>) -> Result<BTreeMap<String, (bool, Document)>> {
    let p = store.list_resources(&ResourceFilter::tenant(TENANT), &PageRequest::first(10_000)).await?;
    Ok(p.items.into_iter().map(|r| (format!("{}/{}", r.key.kind, r.key.native_id), (r.active, r.doc))).collect())
}

/// Import `files` from local paths into a fresh store; the inventory.
async fn local_inventory(format: Format, conn: &str, files: &[&str]) -> Result<BTreeMap<String, (bool, Document)>> {
    let (_dir, store) = store().await?;
    let p = ImportProvider::new(
        TENANT,
        format,
        ImportConfig::local(kind(format), conn, files.iter().map(|f| sample(f)).collect()),
    )?;
    let r = crawl(&store, conn, &p).await?;
    ensure!(r.status == RunStatus::Complete, "local import failed: {r:#?}");
    inventory(&store).await
}

/// The error of the first failed scope of a run.
fn first_error(r: &RunReport) -> String {
    r.scopes.iter().find_map(|s| s.error.clone()).unwrap_or_default()
}

// ---------------------------------------------------------------- SSH

#[path = "support/sshd.rs"]
mod sshd;

use sshd::{Sshd, keygen, run};

/// An SSH source for `sshd` with its client key and the named known_hosts file (in its directory).
fn ssh_source(sshd: &Sshd, known_hosts: &str) -> SshSource {
    serde_json::from_value(serde_json::json!({
        "host": "127.0.0.1",
        "port": sshd.port,
        "user": sshd.user,
        "private_key_file": sshd.path("id_ed25519"),
        "known_hosts_file": sshd.path(known_hosts),
        "connect_timeout_secs": 10,
        "read_timeout_secs": 10,
    }))
    .expect("a valid ssh source")
}

fn ssh_provider(
    sshd: &Sshd,
    format: Format,
    conn: &str,
    known_hosts: &str,
    files: &[PathBuf],
) -> Result<ImportProvider> {
    let cfg = ImportConfig {
        ssh: Some(ssh_source(sshd, known_hosts)),
        ..ImportConfig::local(kind(format), conn, files.to_vec())
    };
    let mut errors = maestro_core::ConfigErrors::new();
    ensure!(cfg.validate("sources[0]", &mut errors), "{errors:?}");
    Ok(ImportProvider::new(TENANT, format, cfg)?)
}

#[tokio::test]
async fn ssh_import_equals_the_local_import() -> Result<()> {
    let sshd = Sshd::start()?;
    for (format, conn, files, expected) in [
        (Format::Terraform, "tf", &["terraform.tfstate"][..], 7),
        (Format::Ansible, "facts", &["web-1.facts.json", "db-1.facts.json"][..], 4),
    ] {
        let local = local_inventory(format, conn, files).await?;
        assert_eq!(local.len(), expected, "{conn}: the local import itself");
        let (_dir, store) = store().await?;
        let remote: Vec<PathBuf> = files.iter().map(|f| sample(f)).collect();
        let p = ssh_provider(&sshd, format, conn, "known_hosts", &remote)?;
        let r = crawl(&store, conn, &p).await?;
        assert_eq!(r.status, RunStatus::Complete, "{r:#?}\nsshd log:\n{}", sshd.log());
        let over_ssh = inventory(&store).await?;
        assert_eq!(over_ssh, local, "{conn}: the SSH import differs from the local one");
        assert!(over_ssh.values().all(|(active, _)| *active));
    }
    let log = sshd.log();
    assert!(log.contains("Accepted publickey"), "sshd saw no key login:\n{log}");
    assert!(log.contains("subsystem 'sftp'"), "sshd saw no SFTP session:\n{log}");
    // One connection per provider (its scopes and files share it), plus the readiness probe.
    assert_eq!(log.matches("Connection from").count(), 3, "{log}");
    Ok(())
}

#[tokio::test]
async fn ssh_unknown_or_changed_host_keys_are_refused_before_anything_is_read() -> Result<()> {
    let sshd = Sshd::start()?;
    std::fs::write(sshd.path("empty_known_hosts"), "")?;
    // Another key recorded for the same `[127.0.0.1]:port`: a changed host key.
    keygen(&sshd.path("other_host_key"))?;
    let other = std::fs::read_to_string(sshd.path("other_host_key.pub"))?;
    std::fs::write(sshd.path("wrong_known_hosts"), format!("[127.0.0.1]:{} {other}", sshd.port))?;
    let files = [sample("terraform.tfstate")];
    for (known_hosts, needle) in [
        ("empty_known_hosts", "is not in the known_hosts file"),
        ("wrong_known_hosts", "does NOT match the one at line 1"),
        ("no_such_known_hosts", "cannot read the known_hosts file"),
    ] {
        let p = ssh_provider(&sshd, Format::Terraform, "tf", known_hosts, &files)?;
        let scope = p.scopes().await?.remove(0);
        let e = match p.fetch_page(&scope, None).await {
            Ok(page) => {
                panic!("{known_hosts}: an untrusted host must be refused, yet {} items were read", page.items.len())
            }
            Err(e) => e,
        };
        assert!(e.message.contains(needle), "{known_hosts}: {e}");
        assert!(e.message.contains(&format!("[127.0.0.1]:{}", sshd.port)) || known_hosts == "no_such_known_hosts");
        assert!(e.message.contains(known_hosts), "the message names the known_hosts file: {e}");
        let expected_kind =
            if known_hosts == "no_such_known_hosts" { ProviderErrorKind::Invalid } else { ProviderErrorKind::Auth };
        assert_eq!(e.kind, expected_kind, "{e}");

        // Through the pipeline: the run fails, nothing is written.
        let (_dir, store) = store().await?;
        let r = crawl(&store, "tf", &p).await?;
        assert_eq!(r.status, RunStatus::Failed);
        assert!(r.scopes.iter().all(|s| s.outcome == ScopeOutcome::Failed), "{r:#?}");
        assert!(inventory(&store).await?.is_empty());
    }
    // The server was reached, but never got as far as a login, let alone a file.
    let log = sshd.log();
    assert!(log.matches("Connection from").count() >= 3, "the refused clients did connect:\n{log}");
    assert!(!log.contains("Accepted") && !log.contains("sftp"), "something was read:\n{log}");
    Ok(())
}

#[tokio::test]
async fn ssh_missing_and_malformed_remote_files_are_named_and_deactivate_nothing() -> Result<()> {
    let sshd = Sshd::start()?;
    let (_dir, store) = store().await?;
    let good = ssh_provider(&sshd, Format::Terraform, "tf", "known_hosts", &[sample("terraform.tfstate")])?;
    assert_eq!(crawl(&store, "tf", &good).await?.status, RunStatus::Complete);
    let active = |inv: &BTreeMap<String, (bool, Document)>| inv.values().filter(|(a, _)| *a).count();
    assert_eq!(active(&inventory(&store).await?), 7);

    let missing = sshd.path("no/such/terraform.tfstate");
    let port = sshd.port;
    for (file, needle) in [
        (missing.clone(), format!("cannot read `ssh://{}@127.0.0.1:{port}{}`: ", sshd.user, missing.display())),
        (sample("broken.tfstate"), "broken.tfstate` line 4 column 48".to_string()),
        (sample("legacy-v3.tfstate"), "legacy-v3.tfstate`: state format version 3 is not supported".to_string()),
    ] {
        let p = ssh_provider(&sshd, Format::Terraform, "tf", "known_hosts", &[file])?;
        let r = crawl(&store, "tf", &p).await?;
        assert_eq!(r.status, RunStatus::Failed, "{r:#?}");
        for s in &r.scopes {
            assert_eq!(s.outcome, ScopeOutcome::Failed);
            let e = s.error.as_deref().unwrap_or("");
            assert!(e.contains(&needle), "expected `{needle}` in: {e}");
            assert!(e.contains("ssh://"), "the file is named with its source: {e}");
        }
        assert_eq!(active(&inventory(&store).await?), 7, "nothing deactivated");
    }
    // The missing file is reported as such by the server (SFTP status), not as a connection fault.
    let p = ssh_provider(&sshd, Format::Terraform, "tf", "known_hosts", &[missing])?;
    let scope = p.scopes().await?.remove(0);
    let e = p.fetch_page(&scope, None).await.expect_err("missing file");
    assert_eq!(e.kind, ProviderErrorKind::Invalid, "{e}");
    assert!(e.message.contains("No such file"), "{e}");
    Ok(())
}

#[tokio::test]
async fn ssh_refused_client_key_is_an_auth_error() -> Result<()> {
    let sshd = Sshd::start()?;
    keygen(&sshd.path("stranger"))?;
    let mut src = ssh_source(&sshd, "known_hosts");
    src.private_key_file = Some(sshd.path("stranger"));
    let cfg =
        ImportConfig { ssh: Some(src), ..ImportConfig::local("terraform", "tf", vec![sample("terraform.tfstate")]) };
    let p = ImportProvider::new(TENANT, Format::Terraform, cfg)?;
    let scope = p.scopes().await?.remove(0);
    let e = p.fetch_page(&scope, None).await.expect_err("an unknown client key must be refused");
    assert_eq!(e.kind, ProviderErrorKind::Auth, "{e}");
    assert!(e.message.contains(&format!("login as `{}` refused", sshd.user)), "{e}");
    Ok(())
}

#[tokio::test]
async fn ssh_rsa_pem_client_keys_and_hashed_known_hosts_work() -> Result<()> {
    // The original's SSH source took RSA keys in PEM: they sign with rsa-sha2-* here.
    let sshd = Sshd::start()?;
    let key = sshd.path("id_rsa");
    run(Command::new("ssh-keygen").args(["-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "", "-f"]).arg(&key))?;
    ensure!(std::fs::read_to_string(&key)?.starts_with("-----BEGIN RSA PRIVATE KEY-----"), "not a PEM key");
    let mut authorized = std::fs::read_to_string(sshd.path("authorized_keys"))?;
    authorized.push_str(&std::fs::read_to_string(sshd.path("id_rsa.pub"))?);
    std::fs::write(sshd.path("authorized_keys"), authorized)?;
    // Hashed known_hosts entries (`ssh-keygen -H`, `HashKnownHosts yes`) are understood too.
    std::fs::copy(sshd.path("known_hosts"), sshd.path("hashed_known_hosts"))?;
    run(Command::new("ssh-keygen").arg("-H").arg("-f").arg(sshd.path("hashed_known_hosts")))?;
    let hashed = std::fs::read_to_string(sshd.path("hashed_known_hosts"))?;
    ensure!(hashed.starts_with("|1|") && !hashed.contains("127.0.0.1"), "not hashed: {hashed}");
    let mut src = ssh_source(&sshd, "hashed_known_hosts");
    src.private_key_file = Some(key);
    let cfg =
        ImportConfig { ssh: Some(src), ..ImportConfig::local("ansible", "facts", vec![sample("web-1.facts.json")]) };
    let p = ImportProvider::new(TENANT, Format::Ansible, cfg)?;
    let scope = p.scopes().await?.remove(0);
    let page = p.fetch_page(&scope, None).await?;
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0]["ansible_hostname"], "web-1");
    let log = sshd.log();
    assert!(log.contains("Accepted publickey") && log.contains(": RSA SHA256:"), "{log}");
    Ok(())
}

// ---------------------------------------------------------------- S3

fn moto_url() -> String {
    let url = std::env::var("MAESTRO_MOTO_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "http://127.0.0.1:5055".into());
    let url = url.trim_end_matches('/').to_string();
    let hostport = url.split("://").nth(1).unwrap_or(&url).split('/').next().unwrap_or_default().to_string();
    let reachable = std::net::ToSocketAddrs::to_socket_addrs(&hostport)
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(3)).is_ok());
    if !reachable {
        panic!(
            "moto's server is not reachable at {url} (MAESTRO_MOTO_URL): start it with `. scripts/services.sh`, \
             or `pip install \"moto[server]\" boto3 && python3 -m moto.server -H 127.0.0.1 -p 5055 &`"
        );
    }
    url
}

/// Create `bucket` and put `objects` (key, local file) with boto3.
fn put_objects(endpoint: &str, bucket: &str, objects: &[(&str, PathBuf)]) -> Result<()> {
    let python = std::env::var("MAESTRO_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = r#"
import sys, boto3
endpoint, bucket, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="AKIDMAESTROTEST", aws_secret_access_key="maestro-secret-key")
s3.create_bucket(Bucket=bucket)
for key, path in zip(pairs[::2], pairs[1::2]):
    with open(path, "rb") as f:
        s3.put_object(Bucket=bucket, Key=key, Body=f.read())
print(len(s3.list_objects_v2(Bucket=bucket).get("Contents", [])))
"#;
    let mut cmd = Command::new(&python);
    cmd.args(["-c", script, endpoint, bucket]);
    for (key, path) in objects {
        cmd.arg(key).arg(path);
    }
    let out =
        cmd.output().with_context(|| format!("running `{python}` (set MAESTRO_PYTHON to a python with boto3)"))?;
    ensure!(out.status.success(), "boto3 setup failed: {}", String::from_utf8_lossy(&out.stderr));
    let listed = String::from_utf8_lossy(&out.stdout).trim().to_string();
    ensure!(listed == objects.len().to_string(), "boto3 lists {listed} objects, expected {}", objects.len());
    Ok(())
}

fn unique_bucket(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    format!("{prefix}-{}-{}", std::process::id(), nanos % 1_000_000_000)
}

fn s3_provider(endpoint: &str, bucket: &str, format: Format, conn: &str, keys: &[&str]) -> Result<ImportProvider> {
    let src: S3Source = serde_json::from_value(serde_json::json!({
        "bucket": bucket,
        "region": "us-east-1",
        "endpoint": endpoint,
        "access_key_id": "AKIDMAESTROTEST",
        "secret_access_key": "maestro-secret-key",
        "timeout_secs": 10,
    }))?;
    let cfg = ImportConfig {
        s3: Some(src),
        ..ImportConfig::local(kind(format), conn, keys.iter().map(PathBuf::from).collect())
    };
    let mut errors = maestro_core::ConfigErrors::new();
    ensure!(cfg.validate("sources[0]", &mut errors), "{errors:?}");
    Ok(ImportProvider::new(TENANT, format, cfg)?)
}

#[tokio::test]
async fn s3_import_equals_the_local_import_and_missing_objects_are_named() -> Result<()> {
    let endpoint = moto_url();
    let bucket = unique_bucket("maestro-imports");
    put_objects(
        &endpoint,
        &bucket,
        &[
            // A space and a plus in the key: the key is percent-encoded once in the signed URL.
            ("state/prod env+1/terraform.tfstate", sample("terraform.tfstate")),
            ("facts/web-1.json", sample("web-1.facts.json")),
            ("facts/db-1.json", sample("db-1.facts.json")),
            ("broken/terraform.tfstate", sample("broken.tfstate")),
        ],
    )?;

    for (format, conn, keys, files, expected) in [
        (Format::Terraform, "tf", &["state/prod env+1/terraform.tfstate"][..], &["terraform.tfstate"][..], 7),
        (
            Format::Ansible,
            "facts",
            &["facts/web-1.json", "/facts/db-1.json"][..],
            &["web-1.facts.json", "db-1.facts.json"][..],
            4,
        ),
    ] {
        let local = local_inventory(format, conn, files).await?;
        assert_eq!(local.len(), expected);
        let (_dir, store) = store().await?;
        let r = crawl(&store, conn, &s3_provider(&endpoint, &bucket, format, conn, keys)?).await?;
        assert_eq!(r.status, RunStatus::Complete, "{r:#?}");
        assert_eq!(inventory(&store).await?, local, "{conn}: the S3 import differs from the local one");
    }

    // A missing key, a missing bucket and a malformed object: the scope fails naming them,
    // nothing is deactivated.
    let (_dir, store) = store().await?;
    let good = s3_provider(&endpoint, &bucket, Format::Terraform, "tf", &["state/prod env+1/terraform.tfstate"])?;
    assert_eq!(crawl(&store, "tf", &good).await?.status, RunStatus::Complete);
    let missing_bucket = unique_bucket("maestro-nobucket");
    for (bucket, key, needle) in [
        (
            bucket.as_str(),
            "state/gone.tfstate",
            format!("no object `state/gone.tfstate` in bucket `{bucket}` (NoSuchKey)"),
        ),
        (
            missing_bucket.as_str(),
            "a.tfstate",
            format!("no bucket `{missing_bucket}` (NoSuchBucket) for key `a.tfstate`"),
        ),
        (
            bucket.as_str(),
            "broken/terraform.tfstate",
            format!("`s3://{bucket}/broken/terraform.tfstate` line 4 column 48"),
        ),
    ] {
        let p = s3_provider(&endpoint, bucket, Format::Terraform, "tf", &[key])?;
        let r = crawl(&store, "tf", &p).await?;
        assert_eq!(r.status, RunStatus::Failed, "{r:#?}");
        assert!(r.scopes.iter().all(|s| s.outcome == ScopeOutcome::Failed));
        let e = first_error(&r);
        assert!(e.contains(&needle), "expected `{needle}` in: {e}");
        let active = inventory(&store).await?.values().filter(|(a, _)| *a).count();
        assert_eq!(active, 7, "nothing deactivated");
    }
    Ok(())
}

// ---------------------------------------------------------------- the `file` template importer

fn demo_inventory() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/data/demo-inventory.json")
}

/// Import with a `file` provider into a fresh store: the run report and the inventory.
async fn file_import(cfg: FileConfig) -> Result<(RunReport, BTreeMap<String, (bool, Document)>)> {
    let (_dir, store) = store().await?;
    let p = FileProvider::new(TENANT, cfg);
    let r = Pipeline::new(store.clone())
        .run_and_record(
            RunJob { tenant: TENANT, connection: "files", provider: &p, translator: &FileTranslator },
            &NoObserver,
        )
        .await?;
    Ok((r, inventory(&store).await?))
}

#[tokio::test]
async fn file_template_over_ssh_and_s3_equals_the_local_import() -> Result<()> {
    let (r, local) = file_import(FileConfig::new("files", vec![demo_inventory()])).await?;
    assert_eq!(r.status, RunStatus::Complete, "{r:#?}");
    assert_eq!(local.len(), 389, "the local import itself");

    let sshd = Sshd::start()?;
    let cfg =
        FileConfig { ssh: Some(ssh_source(&sshd, "known_hosts")), ..FileConfig::new("files", vec![demo_inventory()]) };
    let (r, over_ssh) = file_import(cfg).await?;
    assert_eq!(r.status, RunStatus::Complete, "{r:#?}");
    assert_eq!(over_ssh, local, "the SSH import differs from the local one");

    let endpoint = moto_url();
    let bucket = unique_bucket("maestro-files");
    put_objects(&endpoint, &bucket, &[("inventories/demo.json", demo_inventory())])?;
    let s3: S3Source = serde_json::from_value(serde_json::json!({
        "bucket": bucket, "endpoint": endpoint, "access_key_id": "AKIDMAESTROTEST", "secret_access_key": "maestro-secret-key",
    }))?;
    let cfg = FileConfig { s3: Some(s3.clone()), ..FileConfig::new("files", vec!["inventories/demo.json".into()]) };
    let (r, from_s3) = file_import(cfg).await?;
    assert_eq!(r.status, RunStatus::Complete, "{r:#?}");
    assert_eq!(from_s3, local, "the S3 import differs from the local one");

    // Missing remote files are named with their source; nothing is written.
    let missing = sshd.path("gone.json");
    let cfg =
        FileConfig { ssh: Some(ssh_source(&sshd, "known_hosts")), ..FileConfig::new("files", vec![missing.clone()]) };
    let (r, inv) = file_import(cfg).await?;
    assert_eq!(r.status, RunStatus::Failed);
    let e = r.error.clone().unwrap_or_default() + &first_error(&r);
    assert!(e.contains(&format!("ssh://{}@127.0.0.1:{}{}", sshd.user, sshd.port, missing.display())), "{r:#?}");
    assert!(inv.is_empty());
    let cfg = FileConfig { s3: Some(s3), ..FileConfig::new("files", vec!["inventories/gone.json".into()]) };
    let (r, _) = file_import(cfg).await?;
    let e = r.error.clone().unwrap_or_default() + &first_error(&r);
    assert!(e.contains(&format!("no object `inventories/gone.json` in bucket `{bucket}`")), "{r:#?}");
    Ok(())
}

// ---------------------------------------------------------------- DigitalOcean Spaces

/// DigitalOcean Spaces is S3-compatible: as docs/providers/digitalocean.md says, the `aws`
/// provider pointed at a Spaces endpoint, with a DigitalOcean region and only the
/// `storage-object-list` task, lists the buckets as object storage. moto stands in for
/// `https://nyc3.digitaloceanspaces.com` (an S3-compatible server on loopback).
#[tokio::test]
async fn digitalocean_spaces_are_listed_by_the_aws_provider_on_an_s3_endpoint() -> Result<()> {
    use maestro_providers::aws::{AwsConfig, AwsProvider, AwsTranslator};
    let endpoint = moto_url();
    let bucket = unique_bucket("spaces");
    put_objects(&endpoint, &bucket, &[])?;

    let conn = "do-spaces";
    let mut cfg = AwsConfig::new(conn, "DO00SPACESKEY", "spaces-secret", &["nyc3"]);
    cfg.datacenter = Some("DigitalOcean Spaces".into());
    cfg.endpoint = Some(endpoint);
    cfg.tasks = Some(vec!["storage-object-list".into()]);
    let mut errors = maestro_core::ConfigErrors::new();
    ensure!(cfg.validate("sources[0]", &mut errors), "the documented Spaces config is valid: {errors:?}");
    let provider = AwsProvider::new(TENANT, cfg)?;
    let translator = AwsTranslator::new(conn, "DigitalOcean Spaces", false).map_err(anyhow::Error::msg)?;
    let (_dir, store) = store().await?;
    let report = Pipeline::new(store.clone())
        .run_and_record(
            RunJob { tenant: TENANT, connection: conn, provider: &provider, translator: &translator },
            &NoObserver,
        )
        .await?;
    assert_eq!(report.status, RunStatus::Complete, "{report:?}");
    let listed = store.list_resources(&ResourceFilter::tenant(TENANT), &PageRequest::first(10_000)).await?;
    let ours: Vec<_> = listed.items.iter().filter(|r| r.key.native_id == bucket).collect();
    assert_eq!(
        ours.len(),
        1,
        "the Space `{bucket}` is stored once: {:?}",
        listed.items.iter().map(|r| &r.key.native_id).collect::<Vec<_>>()
    );
    let r = ours[0];
    assert!(r.active);
    assert_eq!(r.key.connection, conn);
    assert_eq!(r.doc.attributes["family"], "ObjectStorage", "{:?}", r.doc.attributes);
    Ok(())
}
