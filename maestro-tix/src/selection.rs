//! Batch selection over an installation directory (SPEC §1.3), as a dry iterator: nothing is
//! deleted unless the caller asks ([`Installation::run`] with [`Disposal::Delete`], or
//! [`delete_files`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analysis::{AnalysisConfig, AnalysisResult, analyse_with};
use crate::error::{Result, TixError};
use crate::report::{Endpoint, Host, Record, ReportFile};

/// What the selection counts against [`SelectionConfig::min_observations`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObservationCount {
    /// Every record of every file, any type, duplicates included (the reference).
    #[default]
    AllRecords,
    /// Unique SHORT records only — the quantity the analysis actually uses (weakness 8).
    UniqueShort,
}

/// Batch-selection constants; the defaults are the reference's.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SelectionConfig {
    /// A batch needs at least this many observations (1084 = 1024 + 60).
    pub min_observations: usize,
    /// Gaps longer than this many seconds split a candidate batch (300).
    pub max_gap_seconds: i64,
    /// What counts as an observation.
    pub count: ObservationCount,
}

impl SelectionConfig {
    /// Checks every field and reports all problems at once.
    ///
    /// # Errors
    /// [`TixError::InvalidConfig`] listing each offending field.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        if self.min_observations == 0 {
            problems.push("selection.min_observations: must be positive".to_owned());
        }
        if self.max_gap_seconds <= 0 {
            problems.push("selection.max_gap_seconds: must be positive".to_owned());
        }
        if problems.is_empty() { Ok(()) } else { Err(TixError::InvalidConfig { problems }) }
    }
}

impl Default for SelectionConfig {
    fn default() -> Self {
        SelectionConfig { min_observations: 1084, max_gap_seconds: 300, count: ObservationCount::AllRecords }
    }
}

/// A set of report files selected for one analysis.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The report files, oldest first.
    pub files: Vec<PathBuf>,
    /// The client address of the first file (all files share its host).
    pub from: Endpoint,
    /// `userId` of the first file.
    pub user_id: i64,
    /// `installationId` of the first file.
    pub installation_id: i64,
    /// All records of all files, file by file in message order.
    pub records: Vec<Record>,
}

impl Batch {
    /// A batch of the given reports, in the given order; `None` when there is none.
    pub fn from_reports<'a>(reports: impl IntoIterator<Item = &'a ReportFile>) -> Option<Batch> {
        let mut it = reports.into_iter();
        let first = it.next()?;
        let mut batch = Batch {
            files: vec![first.path.clone()],
            from: first.from.clone(),
            user_id: first.user_id,
            installation_id: first.installation_id,
            records: first.records.clone(),
        };
        for r in it {
            batch.files.push(r.path.clone());
            batch.records.extend_from_slice(&r.records);
        }
        Some(batch)
    }

    /// The client host (what the API body calls `ip`).
    pub fn host(&self) -> &Host {
        &self.from.host
    }

    /// Number of records of all types, duplicates included.
    pub fn record_count(&self) -> usize {
        self.records.len()
    }

    /// Number of unique SHORT records (what the analysis uses).
    pub fn unique_short_count(&self) -> usize {
        crate::analysis::short_records(&self.records).len()
    }

    /// Oldest and newest `day_timestamp` of all records.
    pub fn time_range(&self) -> (i64, i64) {
        let min = self.records.iter().map(|r| r.day_timestamp).min().unwrap_or(0);
        let max = self.records.iter().map(|r| r.day_timestamp).max().unwrap_or(0);
        (min, max)
    }

    /// Idempotency key of the batch: installation plus time range; see
    /// [`idempotency_key`](crate::idempotency_key).
    pub fn idempotency_key(&self) -> String {
        let (first, last) = self.time_range();
        crate::idempotency_key(self.user_id, self.installation_id, first, last)
    }
}

/// Why the selection discarded a file without a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum DropReason {
    /// A later file came from another host; the older files were discarded.
    HostChanged {
        /// Host of the discarded files.
        from: String,
        /// Host of the file that replaced them.
        to: String,
    },
    /// A gap longer than the limit left too few observations before it.
    Gap {
        /// The gap in seconds.
        seconds: i64,
    },
}

/// A report file the selection discarded (the reference deleted these silently).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DroppedFile {
    /// The file.
    pub path: PathBuf,
    /// Records in the file.
    pub records: usize,
    /// Why.
    pub reason: DropReason,
}

/// A file that could not be parsed; it never enters a batch (quarantine it).
#[derive(Debug)]
pub struct RejectedFile {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub error: TixError,
}

/// One step of the selection loop.
#[derive(Debug, Clone)]
pub struct Selection {
    /// 0-based iteration number.
    pub index: usize,
    /// The selected batch.
    pub batch: Batch,
    /// Observations as counted by the selection (see [`ObservationCount`]).
    pub observation_count: usize,
    /// Files discarded while building this batch; delete or archive them.
    pub dropped: Vec<DroppedFile>,
    /// The oldest `len(files) / 2` files of the batch (at least one): delete them once the
    /// result (or the error) is safely recorded; the rest is reused by the next batch.
    pub consumed: Vec<PathBuf>,
}

/// State after the last batch.
#[derive(Debug, Clone, Default)]
pub struct SelectionEnd {
    /// Files discarded by the final, unsuccessful selection.
    pub dropped: Vec<DroppedFile>,
    /// Files still waiting for more data, oldest first.
    pub remaining: Vec<PathBuf>,
}

/// The report files of one installation directory, parsed and ordered by the timestamp of
/// their first record (then by file name).
#[derive(Debug)]
pub struct Installation {
    dir: PathBuf,
    reports: Vec<ReportFile>,
    rejected: Vec<RejectedFile>,
}

impl Installation {
    /// Reads every `*.json` file directly inside `dir` (sub-directories such as
    /// `failed-results/` are ignored). Files that do not parse are kept aside in
    /// [`Installation::rejected`].
    ///
    /// # Errors
    /// [`TixError::Io`] if the directory cannot be listed.
    pub fn open(dir: impl AsRef<Path>) -> Result<Installation> {
        let dir = dir.as_ref();
        let io = |source| TixError::Io { path: dir.to_owned(), source };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let path = entry.path();
            let is_file = entry.file_type().map_err(io)?.is_file();
            if is_file && path.extension().is_some_and(|e| e == "json") {
                paths.push(path);
            }
        }
        paths.sort();
        let mut reports = Vec::with_capacity(paths.len());
        let mut rejected = Vec::new();
        for path in paths {
            match ReportFile::read(&path) {
                Ok(r) => reports.push(r),
                Err(error) => rejected.push(RejectedFile { path, error }),
            }
        }
        Ok(Installation::from_reports(dir, reports, rejected))
    }

    /// An installation made of already parsed reports (ordered here).
    pub fn from_reports(dir: impl AsRef<Path>, mut reports: Vec<ReportFile>, rejected: Vec<RejectedFile>) -> Self {
        reports.sort_by(|a, b| a.first_timestamp().cmp(&b.first_timestamp()).then_with(|| a.path.cmp(&b.path)));
        Installation { dir: dir.as_ref().to_owned(), reports, rejected }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The parsed reports, oldest first.
    pub fn reports(&self) -> &[ReportFile] {
        &self.reports
    }

    /// Files that failed to parse.
    pub fn rejected(&self) -> &[RejectedFile] {
        &self.rejected
    }

    /// All reports as one batch (for directories that already hold exactly one batch).
    pub fn as_single_batch(&self) -> Option<Batch> {
        Batch::from_reports(&self.reports)
    }

    /// The selection loop as an iterator. It only simulates deletions: each [`Selection`]
    /// assumes its `dropped` and `consumed` files are gone before the next one.
    pub fn select_batches(&self, config: &SelectionConfig) -> Batches<'_> {
        Batches {
            reports: &self.reports,
            alive: (0..self.reports.len()).collect(),
            config: config.clone(),
            index: 0,
            end: None,
        }
    }

    /// The select → analyse loop as an iterator of [`Iteration`]s (dry: deletes nothing).
    pub fn iterations<'a>(
        &'a self,
        selection: &SelectionConfig,
        analysis: &'a AnalysisConfig,
    ) -> impl Iterator<Item = Iteration> + 'a {
        self.select_batches(selection).map(move |selection| {
            let result = analyse_with(&selection.batch, analysis);
            Iteration { selection, result }
        })
    }

    /// Runs the whole select → analyse → dispose loop. With [`Disposal::Delete`], each
    /// iteration's dropped and consumed files, and the final dropped files, are deleted
    /// (a failed analysis consumes its files too, so a poison batch cannot block the
    /// installation); rejected files are never touched.
    ///
    /// # Errors
    /// [`TixError::Io`] when a deletion fails (the loop stops there; nothing else is lost).
    pub fn run(&self, selection: &SelectionConfig, analysis: &AnalysisConfig, disposal: Disposal) -> Result<RunReport> {
        let mut batches = self.select_batches(selection);
        let mut iterations = Vec::new();
        for sel in batches.by_ref() {
            let result = analyse_with(&sel.batch, analysis);
            if disposal == Disposal::Delete {
                delete_files(sel.dropped.iter().map(|d| d.path.as_path()))?;
                delete_files(sel.consumed.iter().map(PathBuf::as_path))?;
            }
            iterations.push(Iteration { selection: sel, result });
        }
        let end = batches.finish();
        if disposal == Disposal::Delete {
            delete_files(end.dropped.iter().map(|d| d.path.as_path()))?;
        }
        Ok(RunReport { iterations, end })
    }
}

/// Whether [`Installation::run`] deletes files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposal {
    /// Delete nothing; report what would be deleted.
    DryRun,
    /// Delete dropped and consumed files as the reference does.
    Delete,
}

/// One batch and its analysis.
#[derive(Debug)]
pub struct Iteration {
    /// The selection step.
    pub selection: Selection,
    /// The analysis result or the typed reason it failed.
    pub result: Result<AnalysisResult>,
}

/// Everything one [`Installation::run`] did.
#[derive(Debug)]
pub struct RunReport {
    /// Every batch, oldest first.
    pub iterations: Vec<Iteration>,
    /// The end state.
    pub end: SelectionEnd,
}

/// Deletes files, ignoring files that are already gone.
///
/// # Errors
/// [`TixError::Io`] for the first file that exists but cannot be removed.
pub fn delete_files<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Result<()> {
    for p in paths {
        match std::fs::remove_file(p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(TixError::Io { path: p.to_owned(), source }),
        }
    }
    Ok(())
}

/// Moves a file into `quarantine_dir` (created if missing), keeping its name.
///
/// # Errors
/// [`TixError::Io`] if the directory cannot be created or the file cannot be moved.
pub fn quarantine_file(path: &Path, quarantine_dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(quarantine_dir)
        .map_err(|source| TixError::Io { path: quarantine_dir.to_owned(), source })?;
    let target = quarantine_dir.join(path.file_name().unwrap_or_default());
    std::fs::rename(path, &target).map_err(|source| TixError::Io { path: path.to_owned(), source })?;
    Ok(target)
}

/// The selection loop (see [`Installation::select_batches`]).
#[derive(Debug)]
pub struct Batches<'a> {
    reports: &'a [ReportFile],
    alive: Vec<usize>,
    config: SelectionConfig,
    index: usize,
    end: Option<SelectionEnd>,
}

impl Batches<'_> {
    /// Drains the iterator and returns the end state.
    pub fn finish(mut self) -> SelectionEnd {
        while self.next().is_some() {}
        self.end.take().unwrap_or_default()
    }

    fn obs_count(&self, files: &[usize]) -> usize {
        match self.config.count {
            ObservationCount::AllRecords => files.iter().map(|&i| self.reports[i].records.len()).sum(),
            ObservationCount::UniqueShort => {
                let set: HashSet<&Record> =
                    files.iter().flat_map(|&i| self.reports[i].records.iter()).filter(|r| r.is_short()).collect();
                set.len()
            }
        }
    }

    /// `max(0, max_i(first[i] - first[i-1]), last file's internal span)`.
    fn max_gap(&self, p: &[usize]) -> i64 {
        let r = |i: usize| &self.reports[p[i]];
        let mut g = 0i64;
        for i in 1..p.len() {
            g = g.max(r(i).first_timestamp().saturating_sub(r(i - 1).first_timestamp()));
        }
        let l = r(p.len() - 1);
        g.max(l.last_timestamp().saturating_sub(l.first_timestamp()))
    }

    /// Splits at the largest gap when it exceeds the limit: `(before, after, gap)`.
    fn divide_by_gap(&self, p: &[usize]) -> (Vec<usize>, Vec<usize>, i64) {
        let g = self.max_gap(p);
        if g <= self.config.max_gap_seconds {
            return (p.to_vec(), Vec::new(), g);
        }
        let l = &self.reports[p[p.len() - 1]];
        if l.last_timestamp().saturating_sub(l.first_timestamp()) == g {
            return (p[..p.len() - 1].to_vec(), vec![p[p.len() - 1]], g);
        }
        for i in (1..p.len()).rev() {
            let d = self.reports[p[i]].first_timestamp().saturating_sub(self.reports[p[i - 1]].first_timestamp());
            if d == g {
                return (p[..i].to_vec(), p[i..].to_vec(), g);
            }
        }
        (p.to_vec(), Vec::new(), g) // unreachable: g is one of the values above
    }

    fn dropped(&self, files: &[usize], reason: DropReason) -> Vec<DroppedFile> {
        files
            .iter()
            .map(|&i| DroppedFile {
                path: self.reports[i].path.clone(),
                records: self.reports[i].records.len(),
                reason: reason.clone(),
            })
            .collect()
    }

    /// One `update_processable_reports` call over the alive files.
    fn select(&mut self) -> (Option<Vec<usize>>, Vec<DroppedFile>) {
        let min = self.config.min_observations;
        let mut p: Vec<usize> = Vec::new();
        let mut dropped = Vec::new();
        let mut deleted: HashSet<usize> = HashSet::new();
        let mut cursor = 0;
        while self.obs_count(&p) < min && cursor < self.alive.len() {
            let r = self.alive[cursor];
            cursor += 1;
            if let Some(&p0) = p.first()
                && self.reports[r].host() != self.reports[p0].host()
            {
                let reason = DropReason::HostChanged {
                    from: self.reports[p0].host().to_string(),
                    to: self.reports[r].host().to_string(),
                };
                dropped.extend(self.dropped(&p, reason));
                deleted.extend(p.drain(..));
            }
            p.push(r);
            if self.obs_count(&p) > min {
                let (before, after, gap) = self.divide_by_gap(&p);
                if self.obs_count(&before) < min {
                    dropped.extend(self.dropped(&before, DropReason::Gap { seconds: gap }));
                    deleted.extend(before);
                    p = after;
                } else {
                    p = before;
                }
            }
        }
        self.alive.retain(|i| !deleted.contains(i));
        if p.is_empty() || self.obs_count(&p) < min { (None, dropped) } else { (Some(p), dropped) }
    }
}

impl Iterator for Batches<'_> {
    type Item = Selection;

    fn next(&mut self) -> Option<Selection> {
        if self.end.is_some() {
            return None;
        }
        let (p, dropped) = self.select();
        let Some(p) = p else {
            let remaining = self.alive.iter().map(|&i| self.reports[i].path.clone()).collect();
            self.end = Some(SelectionEnd { dropped, remaining });
            return None;
        };
        let observation_count = self.obs_count(&p);
        // The reference deletes len/2 files; a one-file batch would then loop forever.
        let k = (p.len() / 2).max(1);
        let consumed_idx: HashSet<usize> = p[..k].iter().copied().collect();
        let consumed = p[..k].iter().map(|&i| self.reports[i].path.clone()).collect();
        self.alive.retain(|i| !consumed_idx.contains(i));
        let batch = Batch::from_reports(p.iter().map(|&i| &self.reports[i]))?;
        let index = self.index;
        self.index += 1;
        Some(Selection { index, batch, observation_count, dropped, consumed })
    }
}
