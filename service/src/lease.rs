//! One sync of a dataset at a time across processes: a lease row in `sync_lease`.
//!
//! Whoever holds an unexpired lease may run the job; the holder renews it while it
//! runs and deletes it when done. A holder that dies (kill -9) blocks others only
//! until the lease expires. Works the same on PostgreSQL and SQLite: acquisition is
//! a conditional UPDATE of an expired row or an INSERT that does nothing on conflict,
//! both atomic in either database.

use chrono::{DateTime, Utc};
use entity::sync_lease;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use std::time::Duration;

/// The lease of the orders sync.
pub const ORDERS_SYNC: &str = "orders_sync";

/// The lease of the inventory sync (its own quota, so it may run beside orders).
pub const INVENTORY_SYNC: &str = "inventory_sync";

/// The lease of the transactions sync (the Finances quota is its own too).
pub const TRANSACTIONS_SYNC: &str = "transactions_sync";

/// The listings catalog sync.
pub const LISTINGS_SYNC: &str = "listings_sync";

/// The push of listing changes (one pass at a time moves the queue).
pub const LISTINGS_PUSH: &str = "listings_push";

/// Why the lease is not ours.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// Someone else holds it.
    #[error("held by {holder} until {expires_at}")]
    Held {
        /// The holder's identity.
        holder: String,
        /// The `sync_runs` row the holder is running.
        run_id: Option<i64>,
        /// When it expires unless renewed.
        expires_at: DateTime<Utc>,
    },
    /// It expired and another process took it over.
    #[error("the lease expired and was taken over by another process")]
    Lost,
    /// The database failed.
    #[error("lease: {0}")]
    Database(#[from] DbErr),
}

/// This process's identity as a lease holder: host, pid and a random suffix.
#[must_use]
pub fn holder_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "host".to_owned());
    format!(
        "{host}:{}:{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// A lease this process holds.
#[derive(Debug, Clone)]
pub struct Lease {
    db: DatabaseConnection,
    name: String,
    holder: String,
    ttl: Duration,
    taken_over_run: Option<i64>,
}

fn expiry(ttl: Duration) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(60))
}

impl Lease {
    /// Takes the lease `name` for `ttl` if nobody holds it or the holder's expired.
    ///
    /// # Errors
    /// [`LeaseError::Held`] with the current holder, or a database error.
    pub async fn acquire(
        db: &DatabaseConnection,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Self, LeaseError> {
        let now = Utc::now();
        let previous = sync_lease::Entity::find_by_id(name.to_owned())
            .one(db)
            .await?;
        let taken_over = sync_lease::Entity::update_many()
            .col_expr(sync_lease::Column::Holder, Expr::value(holder))
            .col_expr(sync_lease::Column::RunId, Expr::value(Option::<i64>::None))
            .col_expr(sync_lease::Column::AcquiredAt, Expr::value(now))
            .col_expr(sync_lease::Column::ExpiresAt, Expr::value(expiry(ttl)))
            .filter(sync_lease::Column::Name.eq(name))
            .filter(sync_lease::Column::ExpiresAt.lt(now))
            .exec(db)
            .await?;
        let mut lease = Self {
            db: db.clone(),
            name: name.to_owned(),
            holder: holder.to_owned(),
            ttl,
            taken_over_run: None,
        };
        if taken_over.rows_affected == 1 {
            lease.taken_over_run = previous.and_then(|p| p.run_id);
            return Ok(lease);
        }
        let inserted = sync_lease::Entity::insert(sync_lease::ActiveModel {
            name: Set(name.to_owned()),
            holder: Set(holder.to_owned()),
            run_id: Set(None),
            acquired_at: Set(now),
            expires_at: Set(expiry(ttl)),
        })
        .on_conflict(
            OnConflict::column(sync_lease::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        if inserted == 1 {
            return Ok(lease);
        }
        match sync_lease::Entity::find_by_id(name.to_owned())
            .one(db)
            .await?
        {
            Some(row) => Err(LeaseError::Held {
                holder: row.holder,
                run_id: row.run_id,
                expires_at: row.expires_at,
            }),
            // Released between our two statements: the caller may simply try again.
            None => Err(LeaseError::Lost),
        }
    }

    /// Records the run the holder is executing (shown to refused callers).
    ///
    /// # Errors
    /// [`LeaseError::Lost`] if the lease is no longer ours.
    pub async fn set_run(&self, run_id: i64) -> Result<(), LeaseError> {
        self.update(Some(run_id)).await
    }

    /// Extends the lease by its time to live.
    ///
    /// # Errors
    /// [`LeaseError::Lost`] if it expired and was taken over.
    pub async fn renew(&self) -> Result<(), LeaseError> {
        self.update(None).await
    }

    async fn update(&self, run_id: Option<i64>) -> Result<(), LeaseError> {
        let mut q = sync_lease::Entity::update_many()
            .col_expr(sync_lease::Column::ExpiresAt, Expr::value(expiry(self.ttl)));
        if let Some(id) = run_id {
            q = q.col_expr(sync_lease::Column::RunId, Expr::value(id));
        }
        let res = q
            .filter(sync_lease::Column::Name.eq(&self.name))
            .filter(sync_lease::Column::Holder.eq(&self.holder))
            .exec(&self.db)
            .await?;
        if res.rows_affected == 1 {
            Ok(())
        } else {
            Err(LeaseError::Lost)
        }
    }

    /// Gives the lease up.
    ///
    /// # Errors
    /// A database error (the lease then expires on its own).
    pub async fn release(&self) -> Result<(), LeaseError> {
        sync_lease::Entity::delete_many()
            .filter(sync_lease::Column::Name.eq(&self.name))
            .filter(sync_lease::Column::Holder.eq(&self.holder))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// The time to live.
    #[must_use]
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The run of a holder whose lease expired and was taken over: that process
    /// stopped (or was killed) without finishing it.
    #[must_use]
    pub fn taken_over_run(&self) -> Option<i64> {
        self.taken_over_run
    }
}
