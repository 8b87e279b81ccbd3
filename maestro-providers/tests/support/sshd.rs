//! An OpenSSH server for tests: `/usr/sbin/sshd` on a free loopback port, as the current user,
//! with a fresh host key, one authorised client key and the `internal-sftp` subsystem.
#![allow(dead_code)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

/// Run a command; its stderr on failure.
pub fn run(cmd: &mut Command) -> Result<()> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    ensure!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    Ok(())
}

/// A passphrase-less ed25519 key pair at `path` and `path.pub`.
pub fn keygen(path: &Path) -> Result<()> {
    run(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", "maestro-test", "-f"]).arg(path))
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// An OpenSSH server on a free loopback port, as the current user, with a fresh host key and one
/// authorised client key. Stopped (by its process id) when dropped.
pub struct Sshd {
    dir: tempfile::TempDir,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    /// The user it logs in (the current user).
    pub user: String,
    child: Child,
}

impl Sshd {
    /// Start it; fails (saying how to install it) when `/usr/sbin/sshd` is missing.
    pub fn start() -> Result<Self> {
        let sshd = Path::new("/usr/sbin/sshd");
        if !sshd.exists() {
            bail!(
                "/usr/sbin/sshd is missing: the SSH importer tests need Debian's OpenSSH server. Install it with \
                 `apt-get install -y openssh-server` (or `. scripts/services.sh`)"
            );
        }
        let dir = tempfile::tempdir()?;
        let d = dir.path().to_path_buf();
        let d = d.as_path();
        keygen(&d.join("host_key"))?;
        keygen(&d.join("id_ed25519"))?;
        std::fs::copy(d.join("id_ed25519.pub"), d.join("authorized_keys"))?;
        let user = String::from_utf8(Command::new("id").arg("-un").output()?.stdout)?.trim().to_string();
        // As root, sshd insists on its privilege-separation directory.
        let is_root = String::from_utf8(Command::new("id").arg("-u").output()?.stdout)?.trim() == "0";
        if is_root {
            std::fs::create_dir_all("/run/sshd").context("creating /run/sshd for sshd's privilege separation")?;
        }
        let port = free_port()?;
        let config = format!(
            "ListenAddress 127.0.0.1\nPort {port}\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\n\
             LogLevel VERBOSE\n",
            d = d.display()
        );
        std::fs::write(d.join("sshd_config"), config)?;
        let child = Command::new(sshd)
            .arg("-D")
            .arg("-f")
            .arg(d.join("sshd_config"))
            .arg("-E")
            .arg(d.join("sshd.log"))
            .args(["-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting /usr/sbin/sshd")?;
        let mut me = Self { dir, port, user, child };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = me.child.try_wait()? {
                bail!("sshd exited ({status}) before listening: {}", me.log());
            }
            ensure!(Instant::now() < deadline, "sshd did not listen on 127.0.0.1:{port} within 15 s: {}", me.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        // A known_hosts file listing the host key, as `ssh-keyscan -p PORT 127.0.0.1` writes it.
        let host_pub = std::fs::read_to_string(d.join("host_key.pub"))?;
        std::fs::write(me.path("known_hosts"), format!("[127.0.0.1]:{port} {host_pub}"))?;
        Ok(me)
    }

    /// A file in its directory (`id_ed25519` client key, `known_hosts`, `sshd.log`, …).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// sshd's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
