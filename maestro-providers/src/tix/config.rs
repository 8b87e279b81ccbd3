use std::path::PathBuf;

use maestro_core::ConfigErrors;
use maestro_tix::{AnalysisConfig, SelectionConfig, UsagePolicy};
use serde::{Deserialize, Serialize};

use crate::tix_api::parse_bool;

/// The processing period the processor defaults to, in minutes (see [`TixConfig::period_minutes`]).
pub const DEFAULT_PERIOD_MINUTES: u32 = 5;

/// How usages above 1 are written into the API body (the raw value always stays in the event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageMode {
    /// Clamp to `[0, 1]`, the range of the API contract (default).
    #[default]
    Clamp,
    /// Send the raw value, as the original did.
    Raw,
}

impl From<UsageMode> for UsagePolicy {
    fn from(m: UsageMode) -> Self {
        match m {
            UsageMode::Clamp => UsagePolicy::Clamp,
            UsageMode::Raw => UsagePolicy::Raw,
        }
    }
}

/// What happens to report files that the batch selection discards (IP change, gap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DroppedFiles {
    /// Delete them, as the original (default). They are still counted, reported and recorded in
    /// a `tix.dropped` event.
    #[default]
    Delete,
    /// Move them into the installation's `dropped/` folder.
    Keep,
}

/// IP → AS lookup tables (CAIDA routeviews pfx2as text, and `asn<TAB>name`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AsLookupConfig {
    /// The prefix → ASN table.
    pub pfx2as: PathBuf,
    /// The ASN → name table (optional: without it ASes are named `AS<n>`).
    #[serde(default)]
    pub names: Option<PathBuf>,
}

/// Configuration of the TiX processor ([`TixProcessor`](super::TixProcessor)).
///
/// ```yaml
/// base_path: reports                 # TIX_REPORTS_BASE_PATH
/// period_minutes: 5                   # TIX_PROCESSING_PERIOD
/// tenant: tix
/// lease_secs: 300
/// selection: {min_observations: 1084, max_gap_seconds: 300}
/// analysis: {unwrap_midnight: false}
/// usage: clamp
/// dropped_files: delete
/// quarantine_grace_secs: 120
/// as_lookup: {pfx2as: routeviews-rv2-20171112.pfx2as, names: asn.txt}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TixConfig {
    /// The condenser's reports folder, laid out `{base}/{user}/{installation}/*.json`
    /// (`TIX_REPORTS_BASE_PATH`; default: the system temporary directory's `reports`, which is
    /// the original's default on Linux).
    #[serde(default = "default_base_path")]
    pub base_path: PathBuf,
    /// Minutes between two runs when the processor runs periodically (`TIX_PROCESSING_PERIOD`,
    /// default 5). Five is what the deployed original ran (`*/5`; its README said 10): a batch is
    /// ≈ 18 files ≈ 18 minutes of data and each result consumes ≈ 9 new minutes, so a 5-minute
    /// period publishes a result at most 5 minutes after its data is complete and never lets
    /// more than one batch per installation pile up, while a run over an idle installation
    /// costs only a directory listing. Within `1..=1440`.
    #[serde(default = "default_period")]
    pub period_minutes: u32,
    /// Tenant of the recorded events.
    #[serde(default = "default_tenant")]
    pub tenant: String,
    /// Length of the per-installation lease in seconds, renewed after every batch (default 300).
    /// A worker that dies holding it blocks its installation for at most this long.
    #[serde(default = "default_lease_secs")]
    pub lease_secs: u64,
    /// Batch-selection constants (the reference's by default).
    #[serde(default)]
    pub selection: SelectionConfig,
    /// Analysis constants (the reference's by default).
    #[serde(default)]
    pub analysis: AnalysisConfig,
    /// Usage values above 1 in the API body: clamped (default) or raw.
    #[serde(default)]
    pub usage: UsageMode,
    /// Files discarded by the selection: deleted (default) or kept in `dropped/`.
    #[serde(default)]
    pub dropped_files: DroppedFiles,
    /// Name of the folder (inside the installation folder) that receives quarantined files.
    #[serde(default = "default_quarantine_dir")]
    pub quarantine_dir: String,
    /// A file that does not parse is quarantined only once it is this many seconds old (by
    /// modification time; default 120): a younger one may still be being written by the
    /// condenser, so it is left for the next run and counted in `unreadable_pending`.
    #[serde(default = "default_grace")]
    pub quarantine_grace_secs: u64,
    /// `false`: record results but leave every file in place (no deletion, no quarantine move).
    /// The next run selects the same batches again and their events are deduplicated by id, so
    /// this is safe; it is how the crash tests simulate a worker killed before deleting.
    #[serde(default = "default_true")]
    pub dispose_files: bool,
    /// IP → AS tables. Unset (default): pass the IP through unresolved, as the original did
    /// (tix-api resolves it). Set: each result event also carries the AS (`localisation`); the
    /// API body is unchanged.
    #[serde(default)]
    pub as_lookup: Option<AsLookupConfig>,
}

fn default_base_path() -> PathBuf {
    std::env::temp_dir().join("reports")
}
fn default_period() -> u32 {
    DEFAULT_PERIOD_MINUTES
}
fn default_tenant() -> String {
    "tix".into()
}
fn default_lease_secs() -> u64 {
    300
}
fn default_quarantine_dir() -> String {
    "quarantine".into()
}
fn default_grace() -> u64 {
    120
}
fn default_true() -> bool {
    true
}

impl Default for TixConfig {
    fn default() -> Self {
        Self {
            base_path: default_base_path(),
            period_minutes: default_period(),
            tenant: default_tenant(),
            lease_secs: default_lease_secs(),
            selection: SelectionConfig::default(),
            analysis: AnalysisConfig::default(),
            usage: UsageMode::default(),
            dropped_files: DroppedFiles::default(),
            quarantine_dir: default_quarantine_dir(),
            quarantine_grace_secs: default_grace(),
            dispose_files: true,
            as_lookup: None,
        }
    }
}

/// Environment variables of the original that are accepted and deliberately unused.
pub const IGNORED_ENV: &[&str] = &[
    "TIX_RABBITMQ_USER",
    "TIX_RABBITMQ_PASS",
    "TIX_RABBITMQ_HOST",
    "TIX_RABBITMQ_PORT",
    "PROCESSOR_TYPE",
    "CELERY_BEAT_SCHEDULE_DIR",
    "CELERY_LOG_LEVEL",
];

impl TixConfig {
    /// Defaults with `base_path`.
    pub fn new(base_path: impl Into<PathBuf>) -> Self {
        Self { base_path: base_path.into(), ..Self::default() }
    }

    /// The period as a duration.
    pub fn period(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.period_minutes) * 60)
    }

    /// Read the original processor's environment: `TIX_REPORTS_BASE_PATH`,
    /// `TIX_PROCESSING_PERIOD` (minutes), plus `TIX_TENANT`, `TIX_LEASE_SECS`,
    /// `TIX_KEEP_DROPPED_FILES` (boolean), `TIX_USAGE` (`clamp`/`raw`), `TIX_UNWRAP_MIDNIGHT`
    /// (boolean), `TIX_AS_PFX2AS_FILE` and `TIX_AS_NAMES_FILE`. The broker and Celery variables
    /// ([`IGNORED_ENV`]: `TIX_RABBITMQ_*`, `PROCESSOR_TYPE`, `CELERY_*`) are accepted and
    /// ignored: maestro's scheduler, leases and outbox replace Celery and RabbitMQ. The API
    /// variables are read by [`TixApiConfig::from_env`](crate::tix_api::TixApiConfig::from_env).
    ///
    /// # Errors
    /// Every unparsable variable, by name, and every invalid resulting field.
    pub fn from_env() -> Result<Self, ConfigErrors> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// [`from_env`](Self::from_env) over any variable lookup (for tests and embedding).
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigErrors> {
        let mut errors = ConfigErrors::new();
        let mut cfg = Self::default();
        let non_empty = |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        if let Some(p) = non_empty("TIX_REPORTS_BASE_PATH") {
            cfg.base_path = PathBuf::from(p);
        }
        if let Some(p) = non_empty("TIX_PROCESSING_PERIOD") {
            match p.parse::<u32>() {
                Ok(v) => cfg.period_minutes = v,
                Err(_) => errors.push("TIX_PROCESSING_PERIOD", format!("`{p}` is not a whole number of minutes")),
            }
        }
        if let Some(t) = non_empty("TIX_TENANT") {
            cfg.tenant = t;
        }
        if let Some(s) = non_empty("TIX_LEASE_SECS") {
            match s.parse::<u64>() {
                Ok(v) => cfg.lease_secs = v,
                Err(_) => errors.push("TIX_LEASE_SECS", format!("`{s}` is not a whole number of seconds")),
            }
        }
        let flag = |name: &str, errors: &mut ConfigErrors| -> Option<bool> {
            let v = get(name)?;
            let parsed = parse_bool(&v);
            if parsed.is_none() {
                errors.push(name, format!("`{v}` is not a boolean (true/false, 1/0, yes/no)"));
            }
            parsed
        };
        if let Some(keep) = flag("TIX_KEEP_DROPPED_FILES", &mut errors) {
            cfg.dropped_files = if keep { DroppedFiles::Keep } else { DroppedFiles::Delete };
        }
        if let Some(unwrap) = flag("TIX_UNWRAP_MIDNIGHT", &mut errors) {
            cfg.analysis.unwrap_midnight = unwrap;
        }
        if let Some(u) = non_empty("TIX_USAGE") {
            match u.to_ascii_lowercase().as_str() {
                "clamp" => cfg.usage = UsageMode::Clamp,
                "raw" => cfg.usage = UsageMode::Raw,
                _ => errors.push("TIX_USAGE", format!("`{u}` is not `clamp` or `raw`")),
            }
        }
        match (non_empty("TIX_AS_PFX2AS_FILE"), non_empty("TIX_AS_NAMES_FILE")) {
            (Some(p), names) => {
                cfg.as_lookup = Some(AsLookupConfig { pfx2as: p.into(), names: names.map(PathBuf::from) })
            }
            (None, Some(_)) => errors.push("TIX_AS_NAMES_FILE", "needs TIX_AS_PFX2AS_FILE as well"),
            (None, None) => {}
        }
        let ignored: Vec<&str> = IGNORED_ENV.iter().copied().filter(|k| get(k).is_some()).collect();
        if !ignored.is_empty() {
            tracing::info!(
                ?ignored,
                "accepted and not used: maestro's scheduler, leases and outbox replace Celery/RabbitMQ"
            );
        }
        cfg.validate("env", &mut errors);
        errors.into_result(cfg)
    }

    /// Check every field; record each problem with its path. Returns whether it is valid.
    pub fn validate(&self, path: &str, errors: &mut ConfigErrors) -> bool {
        let before = errors.problems.len();
        if self.base_path.as_os_str().is_empty() {
            errors.push(format!("{path}.base_path"), "must not be empty");
        }
        if !(1..=1440).contains(&self.period_minutes) {
            errors.push(
                format!("{path}.period_minutes"),
                format!("must be within 1..=1440, got {}", self.period_minutes),
            );
        }
        if self.tenant.trim().is_empty() {
            errors.push(format!("{path}.tenant"), "must not be empty");
        }
        if !(10..=86_400).contains(&self.lease_secs) {
            errors.push(format!("{path}.lease_secs"), format!("must be within 10..=86400, got {}", self.lease_secs));
        }
        let name_ok = !self.quarantine_dir.is_empty()
            && !self.quarantine_dir.contains(['/', '\\'])
            && self.quarantine_dir != "."
            && self.quarantine_dir != "..";
        if !name_ok {
            errors.push(format!("{path}.quarantine_dir"), "must be a plain folder name");
        }
        for (sub, r) in [("selection", self.selection.validate()), ("analysis", self.analysis.validate())] {
            if let Err(maestro_tix::TixError::InvalidConfig { problems }) = r {
                for p in problems {
                    let (field, msg) = p.split_once(": ").unwrap_or((sub, p.as_str()));
                    errors.push(format!("{path}.{field}"), msg.to_string());
                }
            } else if let Err(e) = r {
                errors.push(format!("{path}.{sub}"), e.to_string());
            }
        }
        errors.problems.len() == before
    }
}
