//! IP → AS localisation: longest-prefix match over a CAIDA routeviews `pfx2as` table plus an
//! ASN → name table, with a cache and a pass-through mode (the reference processor posts the IP
//! and lets tix-api resolve it).
//!
//! Accepted `pfx2as` lines (blank lines and `#` comments are skipped):
//! `1.0.0.0<TAB>24<TAB>13335` (CAIDA), `1.0.0.0/24 13335` (tix `ip_to_as`); the AS field may be a
//! multi-origin `7018_209` or an AS set `4,5` — the first ASN is used. Name lines:
//! `13335<TAB>CLOUDFLARENET` (an `AS` prefix on the number is tolerated).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::{Result, TixError};

/// A prefix → origin-AS table for IPv4 and IPv6.
#[derive(Debug, Clone, Default)]
pub struct Pfx2AsTable {
    v4: Vec<HashMap<u32, Vec<u32>>>,
    v6: Vec<HashMap<u128, Vec<u32>>>,
    len: usize,
}

fn mask_v4(addr: u32, len: u8) -> u32 {
    if len == 0 { 0 } else { addr & (u32::MAX << (32 - u32::from(len))) }
}

fn mask_v6(addr: u128, len: u8) -> u128 {
    if len == 0 { 0 } else { addr & (u128::MAX << (128 - u32::from(len))) }
}

impl Pfx2AsTable {
    /// Parses the text of a table; `table` names it in errors.
    ///
    /// # Errors
    /// [`TixError::AsTable`] for the first malformed line.
    pub fn parse(text: &str, table: &str) -> Result<Self> {
        let mut t = Pfx2AsTable { v4: vec![HashMap::new(); 33], v6: vec![HashMap::new(); 129], len: 0 };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err =
                |reason: &str| TixError::AsTable { table: table.to_owned(), line: n + 1, reason: reason.to_owned() };
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (addr, len, asns) = match fields.as_slice() {
                [prefix, asns] => {
                    let (a, l) = prefix.split_once('/').ok_or_else(|| err("expected `ip/len asn`"))?;
                    (a, l, *asns)
                }
                [a, l, asns] => (*a, *l, *asns),
                _ => return Err(err("expected `ip<TAB>len<TAB>asn` or `ip/len asn`")),
            };
            let len: u8 = len.parse().map_err(|_| err("invalid prefix length"))?;
            let asns: Vec<u32> = asns
                .split(['_', ','])
                .map(|a| a.trim_start_matches("AS").parse::<u32>())
                .collect::<std::result::Result<_, _>>()
                .map_err(|_| err("invalid asn"))?;
            if asns.is_empty() {
                return Err(err("missing asn"));
            }
            match addr.parse::<IpAddr>().map_err(|_| err("invalid address"))? {
                IpAddr::V4(a) if len <= 32 => {
                    t.v4[usize::from(len)].insert(mask_v4(a.into(), len), asns);
                }
                IpAddr::V6(a) if len <= 128 => {
                    t.v6[usize::from(len)].insert(mask_v6(a.into(), len), asns);
                }
                _ => return Err(err("prefix length out of range")),
            }
            t.len += 1;
        }
        Ok(t)
    }

    /// Reads and parses a table file.
    ///
    /// # Errors
    /// [`TixError::Io`] or [`TixError::AsTable`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| TixError::Io { path: path.to_owned(), source })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Number of prefixes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table has no prefix.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Longest-prefix match: `(prefix as text, origin ASNs)`.
    pub fn lookup(&self, ip: IpAddr) -> Option<(String, &[u32])> {
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                (0..=32u8).rev().find_map(|len| {
                    let net = mask_v4(a, len);
                    self.v4
                        .get(usize::from(len))?
                        .get(&net)
                        .map(|v| (format!("{}/{len}", Ipv4Addr::from(net)), v.as_slice()))
                })
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                (0..=128u8).rev().find_map(|len| {
                    let net = mask_v6(a, len);
                    self.v6
                        .get(usize::from(len))?
                        .get(&net)
                        .map(|v| (format!("{}/{len}", Ipv6Addr::from(net)), v.as_slice()))
                })
            }
        }
    }
}

/// An ASN → AS name table.
#[derive(Debug, Clone, Default)]
pub struct AsNames(HashMap<u32, String>);

impl AsNames {
    /// Parses `asn<TAB>name` lines; `table` names it in errors.
    ///
    /// # Errors
    /// [`TixError::AsTable`] for the first malformed line.
    pub fn parse(text: &str, table: &str) -> Result<Self> {
        let mut m = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let err =
                |reason: &str| TixError::AsTable { table: table.to_owned(), line: n + 1, reason: reason.to_owned() };
            let (asn, name) = trimmed
                .split_once('\t')
                .or_else(|| trimmed.split_once(char::is_whitespace))
                .ok_or_else(|| err("expected `asn<TAB>name`"))?;
            let asn: u32 = asn.trim().trim_start_matches("AS").parse().map_err(|_| err("invalid asn"))?;
            m.insert(asn, name.trim().to_owned());
        }
        Ok(AsNames(m))
    }

    /// Reads and parses a names file.
    ///
    /// # Errors
    /// [`TixError::Io`] or [`TixError::AsTable`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| TixError::Io { path: path.to_owned(), source })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The name of an ASN.
    pub fn get(&self, asn: u32) -> Option<&str> {
        self.0.get(&asn).map(String::as_str)
    }
}

/// Why an address has no AS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownReason {
    /// Private, loopback, link-local, CGNAT, unspecified, documentation or multicast address.
    Private,
    /// No prefix of the table covers the address.
    NotRouted,
}

/// The outcome of a lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Localisation {
    /// Found by longest-prefix match.
    As {
        /// Origin ASN (the first one for multi-origin prefixes).
        asn: u32,
        /// All origin ASNs of the prefix.
        origins: Vec<u32>,
        /// AS name, when the name table has it.
        name: Option<String>,
        /// The matching prefix.
        prefix: String,
    },
    /// No AS (tix-api's `UNKNOWN`).
    Unknown {
        /// Why.
        reason: UnknownReason,
    },
    /// Pass-through mode: the IP is forwarded unresolved (the reference behaviour).
    PassThrough {
        /// The address.
        ip: IpAddr,
    },
}

impl Localisation {
    /// The provider name tix-api would store: the AS name (or `AS<n>` without a name),
    /// `UNKNOWN`, or the IP in pass-through mode.
    pub fn provider_name(&self) -> String {
        match self {
            Localisation::As { asn, name, .. } => name.clone().unwrap_or_else(|| format!("AS{asn}")),
            Localisation::Unknown { .. } => "UNKNOWN".to_owned(),
            Localisation::PassThrough { ip } => ip.to_string(),
        }
    }
}

/// Whether an address is private or otherwise not globally routed (maps to `UNKNOWN`).
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || a.is_documentation()
                || a.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let s = a.segments();
            a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
        }
    }
}

/// Resolver mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResolverMode {
    /// Look addresses up in the tables.
    #[default]
    Lookup,
    /// Return [`Localisation::PassThrough`] for every address.
    PassThrough,
}

/// A cached IP → AS resolver (thread-safe).
#[derive(Debug)]
pub struct AsResolver {
    table: Pfx2AsTable,
    names: AsNames,
    mode: ResolverMode,
    ttl: Duration,
    cache: Mutex<HashMap<IpAddr, (Instant, Localisation)>>,
}

impl AsResolver {
    /// Default cache lifetime (one day, as tix-api).
    pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);

    /// A resolver over the given tables.
    pub fn new(table: Pfx2AsTable, names: AsNames) -> Self {
        AsResolver {
            table,
            names,
            mode: ResolverMode::Lookup,
            ttl: Self::DEFAULT_TTL,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// A resolver that forwards every address unresolved.
    pub fn pass_through() -> Self {
        AsResolver { mode: ResolverMode::PassThrough, ..Self::new(Pfx2AsTable::default(), AsNames::default()) }
    }

    /// Sets the cache lifetime.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The mode.
    pub fn mode(&self) -> ResolverMode {
        self.mode
    }

    /// Resolves an address (cached).
    pub fn resolve(&self, ip: IpAddr) -> Localisation {
        self.resolve_at(ip, Instant::now())
    }

    /// Resolves an address as of `now` (for tests of the cache lifetime).
    pub fn resolve_at(&self, ip: IpAddr, now: Instant) -> Localisation {
        if self.mode == ResolverMode::PassThrough {
            return Localisation::PassThrough { ip };
        }
        let mut cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((at, loc)) = cache.get(&ip)
            && now.saturating_duration_since(*at) < self.ttl
        {
            return loc.clone();
        }
        let loc = self.resolve_uncached(ip);
        cache.insert(ip, (now, loc.clone()));
        loc
    }

    /// Number of cached entries.
    pub fn cached(&self) -> usize {
        self.cache.lock().map_or(0, |c| c.len())
    }

    /// Resolves without the cache.
    pub fn resolve_uncached(&self, ip: IpAddr) -> Localisation {
        let ip = match ip {
            IpAddr::V6(a) => a.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        if is_private(ip) {
            return Localisation::Unknown { reason: UnknownReason::Private };
        }
        match self.table.lookup(ip) {
            Some((prefix, origins)) => Localisation::As {
                asn: origins[0],
                origins: origins.to_vec(),
                name: self.names.get(origins[0]).map(str::to_owned),
                prefix,
            },
            None => Localisation::Unknown { reason: UnknownReason::NotRouted },
        }
    }
}
