//! A progress bar for runs (hidden when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressStyle};
use maestro_core::{RunObserver, Scope, ScopeOutcome, ScopeReport};
use uuid::Uuid;

/// Shows items processed and scopes done.
pub struct ProgressObserver {
    bar: ProgressBar,
}

impl ProgressObserver {
    /// A spinner-style bar labelled `label`.
    pub fn new(label: &str) -> Self {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} {pos} items, {msg} [{elapsed}]").expect("valid template"),
        );
        bar.set_prefix(label.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Self { bar }
    }

    /// Stop drawing.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl RunObserver for ProgressObserver {
    fn run_started(&self, _run_id: Uuid, scopes: &[Scope]) {
        self.bar.set_length(0);
        self.bar.set_message(format!("0/{} scopes", scopes.len()));
    }
    fn page_done(&self, _scope: &Scope, items: usize) {
        self.bar.inc(items as u64);
    }
    fn scope_done(&self, report: &ScopeReport) {
        if report.outcome != ScopeOutcome::Complete {
            self.bar.println(format!(
                "scope {} ended {:?}: {}",
                report.scope,
                report.outcome,
                report.error.clone().unwrap_or_else(|| format!("{} item error(s)", report.item_error_count))
            ));
        }
        self.bar.set_message(format!("last scope {}", report.scope.local_key()));
    }
}
