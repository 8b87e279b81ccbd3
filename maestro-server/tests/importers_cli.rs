//! `maestro run` end to end with a `terraform` importer reading its state over SSH from a real
//! OpenSSH server (started on a free loopback port; `apt-get install -y openssh-server`), into a
//! real SQLite file: the import succeeds with a verified host key and is refused with an unknown
//! one, and no secret is ever printed.

#[path = "../../maestro-providers/tests/support/sshd.rs"]
mod sshd;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sshd::Sshd;

const PASSWORD: &str = "pw-never-printed-42";

fn maestro(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maestro")).args(args).env("RUST_BACKTRACE", "0").output().unwrap()
}

fn text(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../maestro-providers/tests/fixtures/importers").join(name)
}

/// A config with one `terraform` source over SSH; returns (config path, database URL).
fn write_config(dir: &Path, sshd: &Sshd, known_hosts: &Path) -> (String, String) {
    let db = format!("sqlite://{}", dir.join("maestro.db").display());
    let source = format!(
        "  - type: terraform\n    connection: tf-ssh\n    ssh:\n      host: 127.0.0.1\n      port: {}\n      \
         user: {}\n      private_key_file: {}\n      password: {PASSWORD}\n      known_hosts_file: {}\n    \
         paths: [{}]\n",
        sshd.port,
        sshd.user,
        sshd.path("id_ed25519").display(),
        known_hosts.display(),
        fixture("terraform.tfstate").display()
    );
    let cfg = dir.join(format!("maestro-{}.yaml", known_hosts.file_name().unwrap().to_string_lossy()));
    std::fs::write(&cfg, format!("database: {db}\ntenant: acme\nsources:\n{source}")).unwrap();
    (cfg.display().to_string(), db)
}

#[test]
fn maestro_run_imports_terraform_state_over_ssh_and_refuses_an_unknown_host_key() {
    let sshd = Sshd::start().unwrap_or_else(|e| panic!("{e:#}"));
    let dir = tempfile::tempdir().unwrap();

    let (cfg, db) = write_config(dir.path(), &sshd, &sshd.path("known_hosts"));
    let out = maestro(&["run", &cfg]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Complete"), "{}", text(&out));
    assert!(!text(&out).contains(PASSWORD), "the password must never be printed");

    let out = maestro(&["resources", "--database", &db, "--tenant", "acme"]);
    assert!(out.status.success(), "{}", text(&out));
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(listing.lines().filter(|l| l.starts_with("server\t")).count(), 2, "{listing}");
    assert_eq!(listing.lines().filter(|l| l.starts_with("volume\t")).count(), 5, "{listing}");
    assert!(listing.contains("i-0a1b2c3d4e5f60701"), "{listing}");

    // An empty known_hosts file: the run fails naming the host key; nothing is deactivated.
    let empty = dir.path().join("empty_known_hosts");
    std::fs::write(&empty, "").unwrap();
    let (cfg, _) = write_config(dir.path(), &sshd, &empty);
    let out = maestro(&["run", &cfg]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let all = text(&out);
    assert!(all.contains(&format!("host key of `[127.0.0.1]:{}`", sshd.port)), "{all}");
    assert!(all.contains("is not in the known_hosts file"), "{all}");
    assert!(!all.contains(PASSWORD), "the password must never be printed");
    let out = maestro(&["resources", "--database", &db, "--tenant", "acme", "--active", "false"]);
    assert!(out.status.success(), "{}", text(&out));
    let inactive = String::from_utf8_lossy(&out.stdout);
    assert_eq!(inactive.lines().filter(|l| l.starts_with("server\t") || l.starts_with("volume\t")).count(), 0);
}
