//! Orders committed by any process, as they commit: one [`OrdersChanged`] per page
//! an orders run wrote, for readers that show new orders without a reload.
//!
//! The api and the worker share the database, not memory, so the news travels
//! through it. On PostgreSQL the page's transaction sends a `NOTIFY` on
//! [`CHANNEL`] ([`publish`]), delivered to every listener when it commits and
//! never for a page rolled back. SQLite has no notifications: [`Changes`] polls
//! instead, and only while an orders run is running or has just ended does it read
//! the orders written since its last look. A page's rows share their `updated_at`
//! (the instant the page was written), and a new row's `created_at` equals it, so
//! a page and its counts are found again from the rows themselves.

use chrono::{DateTime, Utc};
use entity::enums::{SyncKind, SyncStatus};
use entity::{amazon_order, sync_runs};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::broadcast;

/// The PostgreSQL notification channel of committed orders pages.
pub const CHANNEL: &str = "orders_changed";

/// How often SQLite is looked at.
const POLL: Duration = Duration::from_millis(500);

/// Events a slow subscriber may fall behind by before it misses some.
const BACKLOG: usize = 256;

/// One committed page of an orders run: what it inserted and updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrdersChanged {
    /// The `sync_runs` row that wrote the page (0 when it cannot be told).
    pub run_id: i64,
    /// Orders new to us.
    pub inserted: u64,
    /// Orders that changed.
    pub updated: u64,
    /// Amazon's ids of the orders inserted or updated.
    pub amazon_order_ids: Vec<String>,
}

/// Sends `event` to PostgreSQL listeners when `txn` commits (nothing on SQLite,
/// whose readers poll). Called inside the page's transaction.
///
/// # Errors
/// The database error.
pub async fn publish<C: ConnectionTrait>(txn: &C, event: &OrdersChanged) -> Result<(), DbErr> {
    if txn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    // A notification carries at most 8000 bytes: a page of 100 ids fits easily.
    let payload = serde_json::to_string(event).map_err(|e| DbErr::Custom(e.to_string()))?;
    txn.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), payload.into()],
    ))
    .await?;
    Ok(())
}

/// The committed orders pages of every process, for this process's subscribers:
/// one listener (PostgreSQL) or poller (SQLite), started by the first subscriber.
#[derive(Clone, Default)]
pub struct Changes {
    sender: Arc<Mutex<Option<broadcast::Sender<OrdersChanged>>>>,
}

impl std::fmt::Debug for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Changes").finish_non_exhaustive()
    }
}

impl Changes {
    /// A receiver of every page committed from now on.
    #[must_use]
    pub fn subscribe(&self, db: &DatabaseConnection) -> broadcast::Receiver<OrdersChanged> {
        let mut slot = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(tx) = slot.as_ref() {
            return tx.subscribe();
        }
        let (tx, rx) = broadcast::channel(BACKLOG);
        *slot = Some(tx.clone());
        let db = db.clone();
        let sender = Arc::clone(&self.sender);
        tokio::spawn(async move {
            match db.get_database_backend() {
                DatabaseBackend::Postgres => listen(&db, &tx).await,
                _ => poll(&db, &tx).await,
            }
            // Whoever subscribes next starts a new one.
            sender.lock().unwrap_or_else(PoisonError::into_inner).take();
        });
        rx
    }
}

/// Forwards the notifications of [`CHANNEL`] until nobody listens. The listener
/// reconnects on its own after a lost connection (pages committed meanwhile are
/// not told).
async fn listen(db: &DatabaseConnection, tx: &broadcast::Sender<OrdersChanged>) {
    use sea_orm::sqlx::postgres::PgListener;
    let mut listener = match PgListener::connect_with(db.get_postgres_connection_pool()).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for committed orders");
            return;
        }
    };
    if let Err(e) = listener.listen(CHANNEL).await {
        tracing::warn!(error = %e, "cannot listen for committed orders");
        return;
    }
    loop {
        tokio::select! {
            n = listener.recv() => match n {
                Ok(n) => match serde_json::from_str::<OrdersChanged>(n.payload()) {
                    Ok(event) => {
                        if tx.send(event).is_err() {
                            return;
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "an orders_changed notification does not decode"),
                },
                Err(e) => {
                    tracing::warn!(error = %e, "listening for committed orders failed; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            },
            () = tokio::time::sleep(Duration::from_secs(5)) => {
                if tx.receiver_count() == 0 {
                    return;
                }
            }
        }
    }
}

/// Polls until nobody listens: while an orders run runs or has ended since the
/// last look, the orders written since then, one event per page.
async fn poll(db: &DatabaseConnection, tx: &broadcast::Sender<OrdersChanged>) {
    let mut seen = match newest_write(db).await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "cannot follow committed orders");
            return;
        }
    };
    let mut looked = Utc::now();
    loop {
        tokio::time::sleep(POLL).await;
        if tx.receiver_count() == 0 {
            return;
        }
        let now = Utc::now();
        match pages_since(db, seen, looked).await {
            Ok((pages, newest)) => {
                looked = now;
                seen = newest.or(seen);
                for event in pages {
                    if tx.send(event).is_err() {
                        return;
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not read the committed orders"),
        }
    }
}

/// When the newest order was written, if any.
async fn newest_write(db: &DatabaseConnection) -> Result<Option<DateTime<Utc>>, DbErr> {
    amazon_order::Entity::find()
        .select_only()
        .column(amazon_order::Column::UpdatedAt)
        .order_by_desc(amazon_order::Column::UpdatedAt)
        .into_tuple::<DateTime<Utc>>()
        .one(db)
        .await
}

/// The pages written after `seen`, when an orders run ran since `looked`; and the
/// newest write among them.
async fn pages_since(
    db: &DatabaseConnection,
    seen: Option<DateTime<Utc>>,
    looked: DateTime<Utc>,
) -> Result<(Vec<OrdersChanged>, Option<DateTime<Utc>>), DbErr> {
    let runs = sync_runs::Entity::find()
        .filter(sync_runs::Column::Kind.eq(SyncKind::Orders))
        .filter(
            Condition::any()
                .add(sync_runs::Column::Status.eq(SyncStatus::Running))
                .add(sync_runs::Column::FinishedAt.gte(looked - chrono::Duration::seconds(5))),
        )
        .order_by_asc(sync_runs::Column::Id)
        .all(db)
        .await?;
    if runs.is_empty() {
        return Ok((Vec::new(), None));
    }
    let mut q = amazon_order::Entity::find()
        .select_only()
        .columns([
            amazon_order::Column::AmazonOrderId,
            amazon_order::Column::CreatedAt,
            amazon_order::Column::UpdatedAt,
        ])
        .order_by_asc(amazon_order::Column::UpdatedAt)
        .order_by_asc(amazon_order::Column::Id);
    if let Some(seen) = seen {
        q = q.filter(amazon_order::Column::UpdatedAt.gt(seen));
    }
    let rows: Vec<(String, DateTime<Utc>, DateTime<Utc>)> = q.into_tuple().all(db).await?;
    let newest = rows.last().map(|r| r.2);
    Ok((pages(rows, &runs), newest))
}

/// Rows (id, created, updated) in order of `updated` grouped into pages, each told
/// to the run that was running when it was written.
fn pages(
    rows: Vec<(String, DateTime<Utc>, DateTime<Utc>)>,
    runs: &[sync_runs::Model],
) -> Vec<OrdersChanged> {
    let mut out: Vec<(DateTime<Utc>, OrdersChanged)> = Vec::new();
    for (id, created, updated) in rows {
        if out.last().is_none_or(|(at, _)| *at != updated) {
            let run_id = runs
                .iter()
                .rev()
                .find(|r| r.started_at <= updated && r.finished_at.is_none_or(|f| f >= updated))
                .map_or(0, |r| r.id);
            out.push((
                updated,
                OrdersChanged {
                    run_id,
                    inserted: 0,
                    updated: 0,
                    amazon_order_ids: Vec::new(),
                },
            ));
        }
        if let Some((_, page)) = out.last_mut() {
            if created == updated {
                page.inserted += 1;
            } else {
                page.updated += 1;
            }
            page.amazon_order_ids.push(id);
        }
    }
    out.into_iter().map(|(_, page)| page).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap_or_default()
    }

    #[test]
    fn rows_written_together_are_one_page_of_the_run_that_wrote_them() {
        let run = |id, start, end: Option<i64>| sync_runs::Model {
            id,
            kind: SyncKind::Orders,
            trigger: entity::enums::SyncTrigger::Schedule,
            status: SyncStatus::Running,
            dry_run: false,
            include_items: true,
            api_version: None,
            window_start: None,
            window_end: None,
            pages: 0,
            api_calls: 0,
            throttled: 0,
            found: 0,
            inserted: 0,
            updated: 0,
            unchanged: 0,
            items_upserted: 0,
            error: None,
            metadata: None,
            started_at: t(start),
            finished_at: end.map(t),
        };
        let runs = [run(1, 0, Some(10)), run(2, 20, None)];
        let rows = vec![
            ("A".to_owned(), t(5), t(5)),
            ("B".to_owned(), t(1), t(5)),
            ("C".to_owned(), t(21), t(21)),
        ];
        assert_eq!(
            pages(rows, &runs),
            vec![
                OrdersChanged {
                    run_id: 1,
                    inserted: 1,
                    updated: 1,
                    amazon_order_ids: vec!["A".into(), "B".into()],
                },
                OrdersChanged {
                    run_id: 2,
                    inserted: 1,
                    updated: 0,
                    amazon_order_ids: vec!["C".into()],
                },
            ]
        );
    }

    #[test]
    fn the_event_travels_as_camel_case_json() {
        let e = OrdersChanged {
            run_id: 7,
            inserted: 1,
            updated: 0,
            amazon_order_ids: vec!["902-1".into()],
        };
        let json = serde_json::to_string(&e).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"runId":7,"inserted":1,"updated":0,"amazonOrderIds":["902-1"]}"#
        );
    }
}
