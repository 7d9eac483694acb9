//! How `worker sync` shows a long back-fill: a progress bar on a terminal (pages,
//! orders, ETA, time spent waiting for Amazon's quota), plain log lines otherwise.

use indicatif::{ProgressBar, ProgressStyle};
use service::sync::{ProgressFn, SyncProgress};
use std::io::IsTerminal as _;
use std::sync::Arc;
use std::time::Duration;

/// Shows a run's progress where the operator is looking.
pub struct Reporter {
    bar: Option<ProgressBar>,
}

impl Reporter {
    /// A bar when standard error is a terminal, log lines otherwise.
    pub fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            let style = ProgressStyle::with_template(
                "{spinner} {elapsed_precise} [{bar:24}] {pos}/{len} windows  {msg}  ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_message("asking Amazon…");
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self { bar }
    }

    /// The callback the sync calls after each page.
    pub fn callback(&self) -> ProgressFn {
        match self.bar.clone() {
            Some(bar) => Arc::new(move |p: &SyncProgress| {
                bar.set_length(u64::from(p.windows_total));
                bar.set_position(u64::from(p.windows_done));
                bar.set_message(describe(p));
            }),
            None => Arc::new(|p: &SyncProgress| {
                tracing::info!(
                    pages = p.pages,
                    found = p.found,
                    inserted = p.inserted,
                    updated = p.updated,
                    windows = format!("{}/{}", p.windows_done, p.windows_total),
                    api_calls = p.api_calls,
                    quota_wait_s = p.quota_wait_ms / 1000,
                    "sync progress"
                );
            }),
        }
    }

    /// Clears the bar before the summary is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The bar's message: what the run has done so far.
fn describe(p: &SyncProgress) -> String {
    format!(
        "{} pages, {} orders ({} new, {} changed), {} API calls, {}s waiting for quota",
        p.pages,
        p.found,
        p.inserted,
        p.updated,
        p.api_calls,
        p.quota_wait_ms / 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_says_pages_orders_calls_and_quota_waits() {
        let p = SyncProgress {
            pages: 3,
            found: 250,
            inserted: 200,
            updated: 10,
            api_calls: 4,
            quota_wait_ms: 61_500,
            ..SyncProgress::default()
        };
        assert_eq!(
            describe(&p),
            "3 pages, 250 orders (200 new, 10 changed), 4 API calls, 61s waiting for quota"
        );
    }
}
