//! Report files written by the TiX condenser: the 12-key JSON object, its `from` socket address
//! and the 45-byte big-endian records of its base64 `message`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

use crate::error::{Result, TixError};

/// Size of one record of the current format.
pub const RECORD_LEN: usize = 45;
/// Size of one record of the legacy 2017-04 format (UTF-16 type char), rejected.
pub const LEGACY_RECORD_LEN: usize = 46;
/// Type byte of a SHORT probe record (the only kind the analysis uses).
pub const TYPE_SHORT: u8 = b'S';
/// Type byte of a LONG probe record.
pub const TYPE_LONG: u8 = b'L';

/// One probe observation (45 bytes, big-endian, in this field order).
///
/// The derived ordering — `day_timestamp`, then `t1`, `t2`, `t3`, `t4`, type, size — is the
/// fixed total order the analysis uses everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Record {
    /// Client Unix seconds when the echo came back.
    pub day_timestamp: i64,
    /// Client nanos-of-day when the probe left.
    pub t1: i64,
    /// Server nanos-of-day when the probe arrived.
    pub t2: i64,
    /// Server nanos-of-day when the reply left.
    pub t3: i64,
    /// Client nanos-of-day when the echo arrived.
    pub t4: i64,
    /// `b'S'` (short) or `b'L'` (long).
    pub type_identifier: u8,
    /// Probe size in bytes (32 for short probes).
    pub packet_size: i32,
}

impl Record {
    /// Decodes one 45-byte record.
    pub fn from_bytes(b: &[u8; RECORD_LEN]) -> Record {
        let i64_at = |o: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[o..o + 8]);
            i64::from_be_bytes(a)
        };
        let mut size = [0u8; 4];
        size.copy_from_slice(&b[9..13]);
        Record {
            day_timestamp: i64_at(0),
            type_identifier: b[8],
            packet_size: i32::from_be_bytes(size),
            t1: i64_at(13),
            t2: i64_at(21),
            t3: i64_at(29),
            t4: i64_at(37),
        }
    }

    /// Encodes the record as 45 big-endian bytes (inverse of [`Record::from_bytes`]).
    pub fn to_bytes(&self) -> [u8; RECORD_LEN] {
        let mut b = [0u8; RECORD_LEN];
        b[0..8].copy_from_slice(&self.day_timestamp.to_be_bytes());
        b[8] = self.type_identifier;
        b[9..13].copy_from_slice(&self.packet_size.to_be_bytes());
        b[13..21].copy_from_slice(&self.t1.to_be_bytes());
        b[21..29].copy_from_slice(&self.t2.to_be_bytes());
        b[29..37].copy_from_slice(&self.t3.to_be_bytes());
        b[37..45].copy_from_slice(&self.t4.to_be_bytes());
        b
    }

    /// Whether this is a SHORT probe record.
    pub fn is_short(&self) -> bool {
        self.type_identifier == TYPE_SHORT
    }

    /// Round-trip time `t4 - t1` in nanoseconds.
    pub fn rtt(&self) -> i64 {
        self.t4.wrapping_sub(self.t1)
    }
}

/// Decodes a `message` (already base64-decoded) into records.
///
/// `path` is only used in error messages.
///
/// # Errors
/// [`TixError::EmptyMessage`] for zero bytes, [`TixError::LegacyRecords`] for the 46-byte layout,
/// [`TixError::RecordLength`] for any other length that is not a multiple of 45.
pub fn decode_records(bytes: &[u8], path: &Path) -> Result<Vec<Record>> {
    if bytes.is_empty() {
        return Err(TixError::EmptyMessage { path: path.to_owned() });
    }
    let fits45 = bytes.len().is_multiple_of(RECORD_LEN) && looks_like(bytes, RECORD_LEN, |r| is_type(r[8]));
    if !fits45 {
        if bytes.len().is_multiple_of(LEGACY_RECORD_LEN)
            && looks_like(bytes, LEGACY_RECORD_LEN, |r| r[8] == 0 && is_type(r[9]))
        {
            return Err(TixError::LegacyRecords { path: path.to_owned(), len: bytes.len() });
        }
        if !bytes.len().is_multiple_of(RECORD_LEN) {
            return Err(TixError::RecordLength { path: path.to_owned(), len: bytes.len() });
        }
    }
    Ok(bytes
        .chunks_exact(RECORD_LEN)
        .map(|c| {
            let mut a = [0u8; RECORD_LEN];
            a.copy_from_slice(c);
            Record::from_bytes(&a)
        })
        .collect())
}

fn is_type(b: u8) -> bool {
    b == TYPE_SHORT || b == TYPE_LONG
}

fn looks_like(bytes: &[u8], len: usize, ok: impl Fn(&[u8]) -> bool) -> bool {
    bytes.len().is_multiple_of(len) && bytes.chunks_exact(len).all(ok)
}

/// The host part of a socket address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Host {
    /// An IPv4 or IPv6 literal.
    Ip(IpAddr),
    /// A host name (Jackson writes the name when the address was resolved).
    Name(String),
}

impl Host {
    /// The IP address, if the host is a literal.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Ip(ip) => Some(*ip),
            Host::Name(_) => None,
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(n) => f.write_str(n),
        }
    }
}

/// A parsed `from`/`to` socket address: `1.2.3.4:4500`, `[2001:db8::1]:4500`,
/// `[0:0:0:0:0:0:0:0%0]:4500`, `tix.example.net:4500`, or a bare IPv6 literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// The host.
    pub host: Host,
    /// The port, when present.
    pub port: Option<u16>,
    /// The IPv6 zone (`%0`), when present.
    pub zone: Option<String>,
}

impl Endpoint {
    /// Parses a socket address as Jackson writes an `InetSocketAddress`.
    ///
    /// Returns `None` when the value is not a socket address.
    pub fn parse(s: &str) -> Option<Endpoint> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix('[') {
            let (inside, after) = rest.split_once(']')?;
            let (addr, zone) = match inside.split_once('%') {
                Some((a, z)) if !z.is_empty() => (a, Some(z.to_owned())),
                Some(_) => return None,
                None => (inside, None),
            };
            let ip: Ipv6Addr = addr.parse().ok()?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':')?.parse().ok()?),
            };
            return Some(Endpoint { host: Host::Ip(IpAddr::V6(ip)), port, zone });
        }
        match s.matches(':').count() {
            0 => host_only(s).map(|host| Endpoint { host, port: None, zone: None }),
            1 => {
                let (h, p) = s.split_once(':')?;
                let host = host_only(h)?;
                Some(Endpoint { host, port: Some(p.parse().ok()?), zone: None })
            }
            _ => {
                // A bare IPv6 literal without brackets has no port.
                let (addr, zone) = match s.split_once('%') {
                    Some((a, z)) => (a, Some(z.to_owned())),
                    None => (s, None),
                };
                let ip: Ipv6Addr = addr.parse().ok()?;
                Some(Endpoint { host: Host::Ip(IpAddr::V6(ip)), port: None, zone })
            }
        }
    }
}

fn host_only(h: &str) -> Option<Host> {
    if h.is_empty() {
        return None;
    }
    if let Ok(ip) = h.parse::<Ipv4Addr>() {
        return Some(Host::Ip(IpAddr::V4(ip)));
    }
    let valid = h.len() <= 253
        && h.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    // All-numeric dotted names that are not IPv4 literals are malformed addresses.
    let numeric = h.chars().all(|c| c.is_ascii_digit() || c == '.');
    (valid && !numeric).then(|| Host::Name(h.to_ascii_lowercase()))
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.host, &self.zone) {
            (Host::Ip(IpAddr::V6(ip)), zone) => {
                write!(f, "[{ip}")?;
                if let Some(z) = zone {
                    write!(f, "%{z}")?;
                }
                f.write_str("]")?;
            }
            (h, _) => write!(f, "{h}")?,
        }
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

/// The JSON object of a report file (the 12 keys the processor's schema requires).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RawReport {
    /// Client socket address.
    pub from: String,
    /// Server socket address.
    pub to: String,
    /// Always `"LONG"`.
    #[serde(rename = "type")]
    pub packet_type: String,
    /// Data packet timestamp (ignored by the analysis).
    pub initial_timestamp: i64,
    /// Data packet timestamp (ignored).
    pub reception_timestamp: i64,
    /// Data packet timestamp (ignored).
    pub sent_timestamp: i64,
    /// Data packet timestamp (ignored).
    pub final_timestamp: i64,
    /// Base64 DER public key of the installation.
    pub public_key: String,
    /// Base64 records.
    pub message: String,
    /// Base64 SHA1withRSA signature of the message bytes.
    pub signature: String,
    /// User id.
    pub user_id: i64,
    /// Installation id.
    pub installation_id: i64,
}

/// A parsed report file.
#[derive(Debug, Clone)]
pub struct ReportFile {
    /// Where the file was read from (a bare name when parsed from memory).
    pub path: PathBuf,
    /// The parsed `from` address.
    pub from: Endpoint,
    /// The `userId` key.
    pub user_id: i64,
    /// The `installationId` key.
    pub installation_id: i64,
    /// The records in message order (never empty).
    pub records: Vec<Record>,
}

impl ReportFile {
    /// Reads and parses a report file.
    ///
    /// # Errors
    /// [`TixError::Io`] if the file cannot be read, otherwise as [`ReportFile::parse`].
    pub fn read(path: impl AsRef<Path>) -> Result<ReportFile> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| TixError::Io { path: path.to_owned(), source })?;
        ReportFile::parse(&bytes, path)
    }

    /// Parses the content of a report file; `path` is kept and used in error messages.
    ///
    /// # Errors
    /// [`TixError::Json`] (empty or malformed file, missing key), [`TixError::Base64`],
    /// [`TixError::InvalidFrom`], or a record error of [`decode_records`].
    pub fn parse(bytes: &[u8], path: impl AsRef<Path>) -> Result<ReportFile> {
        let path = path.as_ref();
        let raw: RawReport =
            serde_json::from_slice(bytes).map_err(|source| TixError::Json { path: path.to_owned(), source })?;
        let message = base64::engine::general_purpose::STANDARD
            .decode(raw.message.trim())
            .map_err(|source| TixError::Base64 { path: path.to_owned(), field: "message", source })?;
        let records = decode_records(&message, path)?;
        let from = Endpoint::parse(&raw.from)
            .ok_or_else(|| TixError::InvalidFrom { path: path.to_owned(), value: raw.from.clone() })?;
        Ok(ReportFile {
            path: path.to_owned(),
            from,
            user_id: raw.user_id,
            installation_id: raw.installation_id,
            records,
        })
    }

    /// The file name (last path component) as text.
    pub fn file_name(&self) -> String {
        self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }

    /// Timestamp of the first record in message order (the condenser names the file after it).
    pub fn first_timestamp(&self) -> i64 {
        self.records.first().map_or(i64::MIN, |r| r.day_timestamp)
    }

    /// Timestamp of the last record in message order.
    pub fn last_timestamp(&self) -> i64 {
        self.records.last().map_or(i64::MIN, |r| r.day_timestamp)
    }

    /// The client host the selection compares to detect an IP change.
    pub fn host(&self) -> &Host {
        &self.from.host
    }
}
