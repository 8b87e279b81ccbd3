//! Where an importer reads its files: the local file system, an SSH server (SFTP) or an S3
//! bucket. [`FileSource::read`] returns the bytes of one file; every error names the file
//! ([`FileSource::describe`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use maestro_core::{ConfigErrors, ProviderError, ProviderErrorKind};
use reqwest::Method;
use russh::client;
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKey};
use russh_sftp::client::SftpSession;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::aws::client::{AwsClient, AwsRequest, Credentials};

/// Read the files over SSH (the SFTP subsystem; no remote shell command is ever run).
///
/// The server's host key MUST be listed in `known_hosts_file` (OpenSSH format, as written by
/// `ssh-keyscan` or `ssh`): an unknown or changed key fails the fetch before anything is read.
/// `Debug` never shows the password or the key passphrase.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshSource {
    /// Host name or address of the SSH server (also the name looked up in `known_hosts_file`).
    pub host: String,
    /// TCP port.
    #[serde(default = "default_ssh_port")]
    pub port: u16,
    /// User to log in as.
    pub user: String,
    /// Private key file (OpenSSH or PEM: ed25519, ECDSA, RSA). Relative paths are resolved from
    /// the working directory.
    #[serde(default)]
    pub private_key_file: Option<PathBuf>,
    /// Passphrase of an encrypted `private_key_file`. Never logged.
    #[serde(default)]
    pub private_key_passphrase: Option<String>,
    /// Password, tried when no key is set or the key is refused. Never logged.
    #[serde(default)]
    pub password: Option<String>,
    /// The known host keys (OpenSSH `known_hosts` format; hashed entries are understood). For a
    /// port other than 22 the entry is `[host]:port`.
    pub known_hosts_file: PathBuf,
    /// Time limit to connect, verify the host key, log in and open SFTP, in seconds.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: f64,
    /// Time limit of one file read, in seconds.
    #[serde(default = "default_read_timeout")]
    pub read_timeout_secs: f64,
}

fn default_ssh_port() -> u16 {
    22
}
fn default_connect_timeout() -> f64 {
    10.0
}
fn default_read_timeout() -> f64 {
    30.0
}
fn default_region() -> String {
    "us-east-1".into()
}

impl std::fmt::Debug for SshSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshSource")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("private_key_file", &self.private_key_file)
            .field("private_key_passphrase", &self.private_key_passphrase.as_ref().map(|_| "<redacted>"))
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("known_hosts_file", &self.known_hosts_file)
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .field("read_timeout_secs", &self.read_timeout_secs)
            .finish()
    }
}

/// Read the files from an S3 bucket (a SigV4-signed `GetObject` through the AWS client, path-style
/// URL `{endpoint}/{bucket}/{key}`); `paths` are object keys. `Debug` never shows the secret key
/// or the session token.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Source {
    /// Bucket name.
    pub bucket: String,
    /// Region to sign for.
    #[serde(default = "default_region")]
    pub region: String,
    /// Base URL of an S3-compatible service (moto, MinIO, Spaces); default
    /// `https://s3.{region}.amazonaws.com`.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key. Never logged.
    pub secret_access_key: String,
    /// Session token of temporary credentials. Never logged.
    #[serde(default)]
    pub session_token: Option<String>,
    /// Time limit of one request, in seconds.
    #[serde(default = "default_read_timeout")]
    pub timeout_secs: f64,
}

impl std::fmt::Debug for S3Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Source")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

fn check_timeout(errors: &mut ConfigErrors, at: String, secs: f64) {
    if !(secs.is_finite() && secs > 0.0 && secs <= 3600.0) {
        errors.push(at, format!("must be a number of seconds in (0, 3600], got {secs}"));
    }
}

impl SshSource {
    /// Check the fields; record every problem under `path` (e.g. `sources[0].ssh`).
    pub fn validate(&self, path: &str, errors: &mut ConfigErrors) {
        if self.host.trim().is_empty() {
            errors.push(format!("{path}.host"), "must not be empty");
        }
        if self.port == 0 {
            errors.push(format!("{path}.port"), "must be 1..=65535");
        }
        if self.user.trim().is_empty() {
            errors.push(format!("{path}.user"), "must not be empty");
        }
        if self.private_key_file.is_none() && self.password.is_none() {
            errors.push(path.to_string(), "set `private_key_file` or `password` (or both)");
        }
        if self.private_key_file.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            errors.push(format!("{path}.private_key_file"), "must not be empty");
        }
        if self.known_hosts_file.as_os_str().is_empty() {
            errors.push(format!("{path}.known_hosts_file"), "must not be empty");
        }
        check_timeout(errors, format!("{path}.connect_timeout_secs"), self.connect_timeout_secs);
        check_timeout(errors, format!("{path}.read_timeout_secs"), self.read_timeout_secs);
    }
}

impl S3Source {
    /// Check the fields; record every problem under `path` (e.g. `sources[0].s3`).
    pub fn validate(&self, path: &str, errors: &mut ConfigErrors) {
        let b = &self.bucket;
        if b.len() < 3
            || b.len() > 63
            || !b.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'))
        {
            errors.push(format!("{path}.bucket"), format!("`{b}` is not a bucket name (3-63 of a-z 0-9 . -)"));
        }
        if self.region.trim().is_empty() {
            errors.push(format!("{path}.region"), "must not be empty");
        }
        if let Some(e) = &self.endpoint
            && !(e.starts_with("http://") || e.starts_with("https://"))
        {
            errors.push(format!("{path}.endpoint"), format!("`{e}`: expected an http:// or https:// URL"));
        }
        if self.access_key_id.is_empty() {
            errors.push(format!("{path}.access_key_id"), "must not be empty");
        }
        if self.secret_access_key.is_empty() {
            errors.push(format!("{path}.secret_access_key"), "must not be empty");
        }
        check_timeout(errors, format!("{path}.timeout_secs"), self.timeout_secs);
    }
}

/// Where the files are read from; built once per provider from its configuration.
#[derive(Debug)]
pub enum FileSource {
    /// The local file system (relative paths from the working directory).
    Local,
    /// An SSH server (SFTP); the connection is opened on the first read and reused.
    Ssh(SshReader),
    /// An S3 bucket.
    S3(S3Reader),
}

impl FileSource {
    /// Check the `ssh` / `s3` fields of a source config at `path` (at most one of them; each
    /// one's own fields); record every problem.
    pub fn validate(ssh: Option<&SshSource>, s3: Option<&S3Source>, path: &str, errors: &mut ConfigErrors) {
        if ssh.is_some() && s3.is_some() {
            errors.push(path.to_string(), "set at most one of `ssh` and `s3`");
        }
        if let Some(ssh) = ssh {
            ssh.validate(&format!("{path}.ssh"), errors);
        }
        if let Some(s3) = s3 {
            s3.validate(&format!("{path}.s3"), errors);
        }
    }

    /// The source of `ssh` or `s3` (at most one of them is set), else the local file system.
    ///
    /// # Errors
    /// The S3 HTTP client cannot be built.
    pub fn new(ssh: Option<&SshSource>, s3: Option<&S3Source>) -> Result<Self, ProviderError> {
        Ok(match (ssh, s3) {
            (Some(ssh), _) => Self::Ssh(SshReader::new(ssh.clone())),
            (None, Some(s3)) => Self::S3(S3Reader::new(s3)?),
            (None, None) => Self::Local,
        })
    }

    /// How `path` is named in messages: the path itself, `ssh://user@host:port/path` or
    /// `s3://bucket/key`.
    pub fn describe(&self, path: &Path) -> String {
        match self {
            Self::Local => path.display().to_string(),
            Self::Ssh(r) => {
                let p = path.display().to_string();
                let sep = if p.starts_with('/') { "" } else { "/" };
                format!("ssh://{}@{}:{}{sep}{p}", r.config.user, r.config.host, r.config.port)
            }
            Self::S3(r) => format!("s3://{}/{}", r.bucket, path.display().to_string().trim_start_matches('/')),
        }
    }

    /// The bytes of one file.
    ///
    /// # Errors
    /// The file cannot be read; the message names it ([`describe`](Self::describe)). Unknown or
    /// changed host keys and refused logins are [`ProviderErrorKind::Auth`]; connection faults and
    /// timeouts are transient.
    pub async fn read(&self, path: &Path) -> Result<Vec<u8>, ProviderError> {
        let shown = self.describe(path);
        // Keep the kind and any retry-after hint; prefix the file.
        let named = |e: ProviderError| {
            let message = format!("cannot read `{shown}`: {}", e.message);
            ProviderError { message, ..e }
        };
        match self {
            Self::Local => {
                tokio::fs::read(path).await.map_err(|e| ProviderError::invalid(format!("cannot read `{shown}`: {e}")))
            }
            Self::Ssh(r) => r.read(path).await.map_err(named),
            Self::S3(r) => r.read(path).await.map_err(named),
        }
    }
}

/// Reads objects of one bucket with signed `GetObject` requests.
#[derive(Debug)]
pub struct S3Reader {
    client: AwsClient,
    bucket: String,
    region: String,
}

/// Percent-encode an object key for the URL path (RFC 3986 unreserved characters and `/` kept).
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl S3Reader {
    /// A reader of `config.bucket`.
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(config: &S3Source) -> Result<Self, ProviderError> {
        let credentials = Credentials {
            access_key_id: config.access_key_id.clone(),
            secret_access_key: config.secret_access_key.clone(),
            session_token: config.session_token.clone(),
        };
        let timeout = Duration::from_secs_f64(config.timeout_secs);
        let client = AwsClient::new(credentials, config.endpoint.clone(), 4, timeout)?;
        Ok(Self { client, bucket: config.bucket.clone(), region: config.region.clone() })
    }

    async fn read(&self, path: &Path) -> Result<Vec<u8>, ProviderError> {
        let key = path.to_str().ok_or_else(|| ProviderError::invalid("the object key is not UTF-8"))?;
        let key = key.trim_start_matches('/');
        let req = AwsRequest {
            service: "s3",
            host_prefix: "s3",
            region: self.region.clone(),
            method: Method::GET,
            path_and_query: format!("/{}/{}", self.bucket, encode_key(key)),
            headers: Vec::new(),
            body: Vec::new(),
        };
        match self.client.send(&req).await {
            Ok(resp) => Ok(resp.body),
            Err(e) => {
                let (bucket, what) = (&self.bucket, &e.message);
                let message = if what.contains("NoSuchKey") {
                    format!("no object `{key}` in bucket `{bucket}` (NoSuchKey)")
                } else if what.contains("NoSuchBucket") {
                    format!("no bucket `{bucket}` (NoSuchBucket) for key `{key}`")
                } else if what.contains("AccessDenied") {
                    format!("access to `{key}` in bucket `{bucket}` denied (AccessDenied)")
                } else {
                    format!("bucket `{bucket}` key `{key}`: {what}")
                };
                let kind = if what.contains("NoSuchKey") || what.contains("NoSuchBucket") {
                    ProviderErrorKind::Invalid
                } else {
                    e.kind
                };
                Err(ProviderError { kind, message, ..e })
            }
        }
    }
}

/// Reads files over SFTP; one SSH connection, opened on the first read and reused until it fails.
pub struct SshReader {
    config: SshSource,
    conn: Mutex<Option<SshConn>>,
}

impl std::fmt::Debug for SshReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshReader").field("config", &self.config).finish_non_exhaustive()
    }
}

struct SshConn {
    // Kept for the connection's lifetime: dropping the handle closes the session.
    session: client::Handle<HostKeyCheck>,
    sftp: SftpSession,
}

/// The host-key policy: accept exactly the keys listed for `[host]:port` in the known_hosts file.
struct HostKeyCheck {
    host: String,
    port: u16,
    known_hosts: PathBuf,
    /// Why the key was refused, for the error message.
    refusal: Arc<std::sync::Mutex<Option<String>>>,
}

impl HostKeyCheck {
    fn refuse(&self, why: String) -> Result<bool, russh::Error> {
        *self.refusal.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(why);
        Ok(false)
    }

    fn check(&self, key: &PublicKey) -> Result<bool, russh::Error> {
        let fingerprint = key.fingerprint(HashAlg::Sha256);
        let shown = self.known_hosts.display();
        let entry = if self.port == 22 { self.host.clone() } else { format!("[{}]:{}", self.host, self.port) };
        match russh::keys::check_known_hosts_path(&self.host, self.port, key, &self.known_hosts) {
            Ok(true) => Ok(true),
            Ok(false) => self.refuse(format!(
                "host key of `{entry}` ({} {fingerprint}) is not in the known_hosts file `{shown}`: refused \
                 (add it with `ssh-keyscan -p {} {} >> {shown}` after checking the fingerprint)",
                key.algorithm(),
                self.port,
                self.host
            )),
            Err(russh::keys::Error::KeyChanged { line }) => self.refuse(format!(
                "host key of `{entry}` ({} {fingerprint}) does NOT match the one at line {line} of `{shown}`: \
                 refused (possible man-in-the-middle, or the server's key was replaced)",
                key.algorithm()
            )),
            Err(e) => self.refuse(format!("cannot check the host key against `{shown}`: {e}")),
        }
    }
}

impl client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(&mut self, key: &russh::keys::PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        match key {
            russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } => self.check(key),
            russh::keys::PublicKeyOrCertificate::Certificate(_) => {
                self.refuse("the server presented a host certificate; only plain host keys are supported".into())
            }
        }
    }
}

impl SshReader {
    /// A reader for `config`; nothing is connected yet.
    pub fn new(config: SshSource) -> Self {
        Self { config, conn: Mutex::new(None) }
    }

    async fn read(&self, path: &Path) -> Result<Vec<u8>, ProviderError> {
        let remote = path.to_str().ok_or_else(|| ProviderError::invalid("the remote path is not UTF-8"))?.to_string();
        let mut guard = self.conn.lock().await;
        if guard.as_ref().is_some_and(|c| c.session.is_closed()) {
            // Closed by the server or by the inactivity timeout since the last read.
            *guard = None;
        }
        if guard.is_none() {
            let limit = Duration::from_secs_f64(self.config.connect_timeout_secs);
            let conn = tokio::time::timeout(limit, self.connect()).await.map_err(|_| {
                ProviderError::transient(format!(
                    "connecting to {}:{} timed out after {}s",
                    self.config.host, self.config.port, self.config.connect_timeout_secs
                ))
            })??;
            *guard = Some(conn);
        }
        let conn = guard.as_ref().expect("just connected");
        let limit = Duration::from_secs_f64(self.config.read_timeout_secs);
        let result = match tokio::time::timeout(limit, conn.sftp.read(remote)).await {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(russh_sftp::client::error::Error::Status(s))) => {
                // The server answered: the connection is fine, the file is not.
                return Err(ProviderError::invalid(format!("{}: {}", s.status_code, s.error_message)));
            }
            Ok(Err(e)) => Err(ProviderError::transient(format!("SFTP: {e}"))),
            Err(_) => Err(ProviderError::transient(format!("timed out after {}s", self.config.read_timeout_secs))),
        };
        if result.is_err() {
            // A broken or stuck connection is not reused.
            *guard = None;
        }
        result
    }

    async fn connect(&self) -> Result<SshConn, ProviderError> {
        let c = &self.config;
        let at = format!("{}:{}", c.host, c.port);
        // russh reads a missing known_hosts file as an empty one; say which file is missing.
        if let Err(e) = std::fs::metadata(&c.known_hosts_file) {
            return Err(ProviderError::invalid(format!(
                "cannot read the known_hosts file `{}`: {e}",
                c.known_hosts_file.display()
            )));
        }
        let key = match &c.private_key_file {
            Some(file) => {
                Some(Arc::new(russh::keys::load_secret_key(file, c.private_key_passphrase.as_deref()).map_err(
                    |e| ProviderError::invalid(format!("cannot load the private key `{}`: {e}", file.display())),
                )?))
            }
            None => None,
        };
        let refusal = Arc::new(std::sync::Mutex::new(None));
        let handler = HostKeyCheck {
            host: c.host.clone(),
            port: c.port,
            known_hosts: c.known_hosts_file.clone(),
            refusal: refusal.clone(),
        };
        let config = Arc::new(client::Config {
            inactivity_timeout: Some(Duration::from_secs_f64(c.read_timeout_secs.max(c.connect_timeout_secs) * 4.0)),
            ..client::Config::default()
        });
        let mut session = match client::connect(config, (c.host.as_str(), c.port), handler).await {
            Ok(s) => s,
            Err(e) => {
                let refused = refusal.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
                return Err(match refused {
                    Some(why) => ProviderError::auth(why),
                    None => ProviderError::transient(format!("cannot connect to {at}: {e}")),
                });
            }
        };
        let ssh_err = |what: &str, e: russh::Error| ProviderError::transient(format!("{at}: {what}: {e}"));
        let mut logged_in = false;
        if let Some(key) = key {
            let hash = if key.algorithm().is_rsa() {
                session.best_supported_rsa_hash().await.map_err(|e| ssh_err("RSA hash negotiation", e))?.flatten()
            } else {
                None
            };
            let r = session
                .authenticate_publickey(&c.user, PrivateKeyWithHashAlg::new(key, hash))
                .await
                .map_err(|e| ssh_err("public key login", e))?;
            logged_in = r.success();
        }
        if !logged_in && let Some(password) = &c.password {
            let r = session.authenticate_password(&c.user, password).await.map_err(|e| ssh_err("password login", e))?;
            logged_in = r.success();
        }
        if !logged_in {
            return Err(ProviderError::auth(format!("{at}: login as `{}` refused", c.user)));
        }
        let channel = session.channel_open_session().await.map_err(|e| ssh_err("opening a channel", e))?;
        channel.request_subsystem(true, "sftp").await.map_err(|e| ssh_err("starting SFTP", e))?;
        let sftp = SftpSession::new(channel.into_stream())
            .await
            .map_err(|e| ProviderError::transient(format!("{at}: starting SFTP: {e}")))?;
        sftp.set_timeout(self.config.read_timeout_secs.ceil() as u64);
        Ok(SshConn { session, sftp })
    }
}
