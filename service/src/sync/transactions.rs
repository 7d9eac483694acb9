//! The transactions dataset: Amazon's financial transactions (Finances
//! 2024-06-19 `listTransactions`) into `amazon_transaction`, its breakdown tree
//! and its related identifiers.
//!
//! A run reads windows of `postedDate`: from the watermark minus an overlap of at
//! least 48 hours (Amazon posts transactions up to 48 hours late), or from `since`
//! (the worker's weekly re-pull of the last 30 days, which catches status changes
//! such as DEFERRED to RELEASED), or, the first time, from the look-back; it stops
//! at Amazon's now minus its two-minute lag and a margin. No window is longer than
//! 30 days (Amazon answers nothing for one longer than 180). Each window is
//! committed, and the watermark moved, as one unit; every write is an upsert by
//! `transactionId`, so a run that stops resumes from the watermark and a window
//! read twice changes nothing.

use super::cursor::Cursor;
use super::runner::{self, Dataset, RunState};
use super::windows;
use super::{SyncConfig, SyncError, SyncOptions};
use crate::finances::flatten;
use crate::lease;
use crate::spapi::{
    ClientStats, RemoteBreakdown, RemoteTransaction, TransactionsApi, TransactionsQuery,
    finances::MAX_WINDOW_DAYS,
};
use chrono::{DateTime, Utc};
use entity::enums::SyncKind;
use entity::{
    amazon_connection, amazon_transaction, amazon_transaction_breakdown, amazon_transaction_related,
};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, DerivePartialModel,
    EntityTrait, QueryFilter, TransactionTrait,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Amazon may post a transaction this late; every run reads again at least this far
/// before the watermark.
pub const LATE_ARRIVALS: Duration = Duration::from_secs(48 * 3600);

/// Longest window committed as one unit.
pub const MAX_WINDOW: Duration = Duration::from_secs(30 * 86_400);

/// Rows per multi-row insert (well under SQLite's and PostgreSQL's parameter limits).
const INSERT_CHUNK: usize = 500;

const CURSOR: Cursor<'static> = Cursor {
    kind: SyncKind::Transactions,
    scope: "",
};

struct Transactions<'a> {
    api: &'a dyn TransactionsApi,
    conn: &'a amazon_connection::Model,
    settings: &'a SyncConfig,
}

#[async_trait::async_trait]
impl Dataset for Transactions<'_> {
    const KIND: SyncKind = SyncKind::Transactions;
    const LEASE: &'static str = lease::TRANSACTIONS_SYNC;

    fn stats(&self) -> ClientStats {
        self.api.stats()
    }

    async fn sync(
        &self,
        db: &DatabaseConnection,
        options: &SyncOptions,
        lost: &CancellationToken,
        state: &mut RunState,
    ) -> Result<(), SyncError> {
        let marketplace_ids = runner::marketplaces(self.conn, self.api).await?;
        let stored = CURSOR.stored(db, &marketplace_ids).await?;
        let watermark = match options.since {
            Some(_) => None,
            None => stored,
        };
        // A run from `since` moves the watermark only if it read from no later than
        // it: a re-pull of 30 days after 40 days of failures must not skip the 10.
        let moves_watermark = match (options.since, stored) {
            (Some(since), Some(mark)) => since <= mark,
            _ => true,
        };
        state.scan = Some(match (options.since, watermark) {
            (Some(_), _) => "since",
            (None, Some(_)) => "incremental",
            (None, None) => "first",
        });
        let span = windows::span(
            self.api.amazon_now(),
            options.since,
            watermark,
            windows::Reach {
                overlap: self.settings.overlap.max(LATE_ARRIVALS),
                first_lookback: self.settings.first_lookback,
                end_margin: self.settings.end_margin,
            },
        );
        state.window_start = span.start;
        state.window_end = span.end;
        let max_window = MAX_WINDOW.min(Duration::from_secs(
            u64::try_from(MAX_WINDOW_DAYS).unwrap_or(180) * 86_400,
        ));
        let plan = windows::windows(span, max_window);
        state.progress.windows_total = u32::try_from(plan.len()).unwrap_or(u32::MAX);
        let stats_base = self.api.stats();
        for (from, to) in plan {
            let query = TransactionsQuery {
                posted_after: from,
                posted_before: to,
            };
            let mut token: Option<String> = None;
            let mut seen_tokens = HashSet::new();
            let mut pages = 0u32;
            loop {
                state.check(options, lost)?;
                pages += 1;
                if pages > self.settings.max_pages_per_window {
                    return Err(SyncError::TooManyPages {
                        window_start: from,
                        window_end: to,
                        max: self.settings.max_pages_per_window,
                    });
                }
                let page = tokio::select! {
                    page = self.api.transactions_page(&query, token.as_deref()) => page?,
                    () = options.cancel.cancelled() => return Err(SyncError::Cancelled),
                };
                state.progress.pages += 1;
                apply_page(db, page.transactions, options, state).await?;
                state.report(options, &self.api.stats().since(&stats_base));
                match page.next_token {
                    Some(t) if !seen_tokens.insert(t.clone()) => {
                        return Err(SyncError::RepeatingToken {
                            window_start: from,
                            window_end: to,
                        });
                    }
                    Some(t) => token = Some(t),
                    None => break,
                }
            }
            if !options.dry_run && moves_watermark {
                CURSOR.advance(db, &marketplace_ids, to).await?;
            }
            state.progress.windows_done += 1;
        }
        Ok(())
    }
}

/// What the sync compares to tell whether Amazon's copy changed.
#[derive(Debug, DerivePartialModel)]
#[sea_orm(entity = "amazon_transaction::Entity")]
struct Stored {
    transaction_id: String,
    raw: serde_json::Value,
}

/// Writes one page in one database transaction (or, dry, only counts what it
/// would write).
async fn apply_page(
    db: &DatabaseConnection,
    page: Vec<RemoteTransaction>,
    options: &SyncOptions,
    state: &mut RunState,
) -> Result<(), SyncError> {
    // A transaction Amazon repeats within a page counts once, as last listed.
    let mut latest: BTreeMap<String, RemoteTransaction> = BTreeMap::new();
    for t in page {
        state.progress.found += 1;
        latest.insert(t.transaction_id.clone(), t);
    }
    if latest.is_empty() {
        return Ok(());
    }
    let stored: HashMap<String, serde_json::Value> = amazon_transaction::Entity::find()
        .filter(amazon_transaction::Column::TransactionId.is_in(latest.keys().cloned()))
        .into_partial_model::<Stored>()
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.transaction_id, s.raw))
        .collect();
    let mut writes = Vec::new();
    for (id, t) in latest {
        match stored.get(&id) {
            Some(raw) if *raw == t.raw => state.progress.unchanged += 1,
            Some(_) => {
                state.progress.updated += 1;
                writes.push(t);
            }
            None => {
                state.progress.inserted += 1;
                writes.push(t);
            }
        }
    }
    if options.dry_run || writes.is_empty() {
        return Ok(());
    }
    let txn = db.begin().await?;
    write(&txn, &writes, Utc::now()).await?;
    txn.commit().await?;
    Ok(())
}

/// Upserts the transactions and replaces their breakdown rows and related
/// identifiers.
async fn write(
    txn: &DatabaseTransaction,
    writes: &[RemoteTransaction],
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let ids: Vec<String> = writes.iter().map(|t| t.transaction_id.clone()).collect();
    let rows: Vec<amazon_transaction::ActiveModel> = writes
        .iter()
        .map(|t| amazon_transaction::ActiveModel {
            transaction_id: Set(t.transaction_id.clone()),
            transaction_type: Set(t.transaction_type.clone()),
            transaction_status: Set(t.transaction_status.clone()),
            posted_date: Set(t.posted_date),
            marketplace_id: Set(t.marketplace_id.clone()),
            description: Set(t.description.clone()),
            total_currency: Set(t.total_currency.clone()),
            total_amount: Set(t.total_amount),
            raw: Set(t.raw.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    // Rows carry 11 values each: 500 stay well under SQLite's parameter limit.
    for chunk in rows.chunks(INSERT_CHUNK) {
        amazon_transaction::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::column(amazon_transaction::Column::TransactionId)
                    .update_columns([
                        amazon_transaction::Column::TransactionType,
                        amazon_transaction::Column::TransactionStatus,
                        amazon_transaction::Column::PostedDate,
                        amazon_transaction::Column::MarketplaceId,
                        amazon_transaction::Column::Description,
                        amazon_transaction::Column::TotalCurrency,
                        amazon_transaction::Column::TotalAmount,
                        amazon_transaction::Column::Raw,
                        amazon_transaction::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    for chunk in ids.chunks(INSERT_CHUNK) {
        amazon_transaction_breakdown::Entity::delete_many()
            .filter(amazon_transaction_breakdown::Column::TransactionId.is_in(chunk.to_vec()))
            .exec(txn)
            .await?;
        amazon_transaction_related::Entity::delete_many()
            .filter(amazon_transaction_related::Column::TransactionId.is_in(chunk.to_vec()))
            .exec(txn)
            .await?;
    }

    let mut nodes = Vec::new();
    let mut related = Vec::new();
    for t in writes {
        // A transaction without a breakdown still counts: one leaf of its total,
        // named by its type.
        let whole;
        let tree = if t.breakdowns.is_empty() {
            whole = [RemoteBreakdown {
                breakdown_type: t.transaction_type.clone(),
                amount: t.total_amount,
                currency: t.total_currency.clone(),
                breakdowns: Vec::new(),
            }];
            &whole[..]
        } else {
            &t.breakdowns[..]
        };
        for f in flatten(&t.transaction_type, tree) {
            nodes.push(amazon_transaction_breakdown::ActiveModel {
                transaction_id: Set(t.transaction_id.clone()),
                position: Set(f.position),
                parent_position: Set(f.parent_position),
                depth: Set(f.depth),
                breakdown_type: Set(f.node.breakdown_type.clone()),
                currency: Set(f.node.currency.clone()),
                amount: Set(f.node.amount),
                category: Set(f.category),
                posted_date: Set(t.posted_date),
                transaction_type: Set(t.transaction_type.clone()),
                marketplace_id: Set(t.marketplace_id.clone()),
                ..Default::default()
            });
        }
        let mut seen = HashSet::new();
        for (name, value) in &t.related {
            if seen.insert((name, value)) {
                related.push(amazon_transaction_related::ActiveModel {
                    transaction_id: Set(t.transaction_id.clone()),
                    name: Set(name.clone()),
                    value: Set(value.clone()),
                    ..Default::default()
                });
            }
        }
    }
    while !nodes.is_empty() {
        let rest = nodes.split_off(nodes.len().min(INSERT_CHUNK));
        amazon_transaction_breakdown::Entity::insert_many(std::mem::replace(&mut nodes, rest))
            .exec_without_returning(txn)
            .await?;
    }
    while !related.is_empty() {
        let rest = related.split_off(related.len().min(INSERT_CHUNK));
        amazon_transaction_related::Entity::insert_many(std::mem::replace(&mut related, rest))
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Runs one transactions sync for the stored connection with the given client.
///
/// # Errors
/// [`SyncError::AlreadyRunning`] when another transactions sync holds the lease (no
/// run row is written); a database error when even the run row cannot be written.
/// Every other failure ends the run as failed or interrupted and is returned in
/// the outcome.
#[tracing::instrument(skip_all, fields(dry_run = options.dry_run, trigger = ?options.trigger))]
pub async fn run_transactions_sync_with(
    db: &DatabaseConnection,
    api: &dyn TransactionsApi,
    conn: &amazon_connection::Model,
    settings: &SyncConfig,
    options: SyncOptions,
) -> Result<super::SyncOutcome, SyncError> {
    let transactions = Transactions {
        api,
        conn,
        settings,
    };
    runner::run(db, &transactions, settings.lease_ttl, options).await
}
