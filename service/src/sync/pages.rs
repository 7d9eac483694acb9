//! Reading every page of one scan, the same way for every dataset that pages with
//! a token it sends back (FBA inventory, listings): cancellation between pages,
//! the page cap, a token Amazon repeats, and a token Amazon refuses (they expire,
//! or live only with their first page's parameters) starting the scan again, a
//! few times at most. Every write is an upsert, so a scan read twice changes
//! nothing.

use super::runner::RunState;
use super::{SyncConfig, SyncError, SyncOptions};
use crate::spapi::{ClientStats, SpApiError};
use std::collections::HashSet;
use tokio_util::sync::CancellationToken;

/// How often one scan may start again after refused page tokens before the run
/// gives up.
const MAX_RESTARTS: u32 = 3;

/// One scan's pages: how to fetch one and what to do with it.
#[async_trait::async_trait]
pub(crate) trait Pages: Sync {
    /// What a page holds.
    type Page: Send;

    /// The operation, for messages.
    const OPERATION: &'static str;

    /// The page `token` names (the first without one), and the next token.
    async fn fetch(&self, token: Option<&str>) -> Result<(Self::Page, Option<String>), SpApiError>;

    /// Writes (or, dry, counts) one page.
    async fn apply(&self, page: Self::Page, state: &mut RunState) -> Result<(), SyncError>;

    /// The client's counters (the progress reports what the scan spent).
    fn stats(&self) -> ClientStats;
}

/// How a scan ended.
#[derive(Debug)]
pub(crate) enum Scanned {
    /// Every page was read and applied.
    All,
    /// Amazon refused the first, well-formed request as invalid input: what that
    /// means is the dataset's to say (no FBA inventory there, for one).
    FirstPageRefused(SpApiError),
}

/// The run's context a scan needs.
pub(crate) struct Scan<'a> {
    pub settings: &'a SyncConfig,
    pub options: &'a SyncOptions,
    pub lost: &'a CancellationToken,
    /// The client's counters when the run began.
    pub stats_base: &'a ClientStats,
    /// What is scanned, for messages (a marketplace id).
    pub scope: &'a str,
}

impl Scan<'_> {
    /// Reads and applies every page.
    ///
    /// # Errors
    /// Cancellation, a lost lease, too many pages, a repeated token, tokens refused
    /// more than [`MAX_RESTARTS`] times, or any other failure of a fetch or a write.
    pub async fn read_all<P: Pages>(
        &self,
        pages: &P,
        state: &mut RunState,
    ) -> Result<Scanned, SyncError> {
        let mut restarts = 0u32;
        'scan: loop {
            let mut token: Option<String> = None;
            let mut seen_tokens = HashSet::new();
            let mut count = 0u32;
            loop {
                state.check(self.options, self.lost)?;
                count += 1;
                if count > self.settings.max_pages_per_window {
                    return Err(SyncError::TooManyPages {
                        window_start: state.window_start,
                        window_end: state.window_end,
                        max: self.settings.max_pages_per_window,
                    });
                }
                let answer = tokio::select! {
                    page = pages.fetch(token.as_deref()) => page,
                    () = self.options.cancel.cancelled() => return Err(SyncError::Cancelled),
                };
                let (page, next) = match answer {
                    Ok(answer) => answer,
                    Err(e @ SpApiError::InvalidInput { .. }) if token.is_none() => {
                        return Ok(Scanned::FirstPageRefused(e));
                    }
                    Err(SpApiError::InvalidInput { message, .. }) => {
                        restarts += 1;
                        state.restarts += 1;
                        if restarts > MAX_RESTARTS {
                            return Err(SyncError::Api(SpApiError::Upstream {
                                operation: P::OPERATION,
                                attempts: restarts,
                                last: format!(
                                    "page tokens kept being refused ({message}); the scan of {} started again {MAX_RESTARTS} times",
                                    self.scope
                                ),
                            }));
                        }
                        tracing::warn!(operation = P::OPERATION, scope = self.scope, %message, restarts, "a page token was refused; scanning again");
                        continue 'scan;
                    }
                    Err(e) => return Err(e.into()),
                };
                state.progress.pages += 1;
                pages.apply(page, state).await?;
                state.report(self.options, &pages.stats().since(self.stats_base));
                match next {
                    Some(t) if !seen_tokens.insert(t.clone()) => {
                        return Err(SyncError::RepeatingToken {
                            window_start: state.window_start,
                            window_end: state.window_end,
                        });
                    }
                    Some(t) => token = Some(t),
                    None => return Ok(Scanned::All),
                }
            }
        }
    }
}
