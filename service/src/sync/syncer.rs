//! [`Syncer`]: the one way a process starts syncs.
//!
//! Built once from the database, the key and the configuration. [`Syncer::run`]
//! runs a sync on the caller's task (the worker, the CLI); [`Syncer::start`] runs
//! it in the background and answers as soon as the run is recorded, with its id,
//! its progress and a handle on its outcome (the api).
//!
//! Background syncs run on a thread of their own, beside the runtime that answers
//! requests. A sync decodes Amazon's pages and builds its writes between one await
//! and the next, for milliseconds at a time; on the requests' runtime every page
//! request that became ready meanwhile waited for it, which the operating system
//! cannot preempt (a sync beside the load test put 2.3 ms on a page's p99 that the
//! same sync in the worker's process did not: docs/PERFORMANCE.md). On its own
//! thread it is scheduled against the requests by the kernel. The thread starts
//! with the first background sync and lives as long as the process.
//!
//! Orders runs share one client per process while the stored connection stays
//! the same: Amazon's clock, learnt from each answer's `Date`, and the rates it
//! reported carry over from run to run, so a run every few minutes costs no clock
//! probe. Before each run its buckets are lowered to what the recorded runs of
//! every process left. A requested orders sync that finds the schedule's run
//! holding the lease waits for it and runs next ([`freshness::manual`]).

use super::freshness::{self, Manual};
use super::{
    InventoryScan, ListingsScan, SyncConfig, SyncError, SyncOptions, SyncOutcome, SyncProgress,
    budget, run_inventory_sync, run_listings_sync, run_transactions_sync,
};
use crate::amazon_account::seal::EncryptionKey;
use crate::spapi::{ClientConfig, Operation, SpApiClient};
use entity::enums::SyncTrigger;
use sea_orm::DatabaseConnection;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Which dataset to sync, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncRequest {
    /// Orders and items (then the stock of the FBA SKUs they sold).
    Orders,
    /// FBA inventory.
    Inventory(InventoryScan),
    /// Financial transactions (`options.since` for a re-pull or a back-fill).
    Transactions,
    /// The listings catalog.
    Listings(ListingsScan),
}

/// Progress of the runs this process is executing, by run id.
#[derive(Clone, Default)]
struct LiveRuns(Arc<Mutex<HashMap<i64, watch::Receiver<SyncProgress>>>>);

impl LiveRuns {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, watch::Receiver<SyncProgress>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A background run that has been recorded.
#[derive(Debug)]
pub struct Started {
    /// Its `sync_runs` id.
    pub run_id: i64,
    /// Its counters, after every page.
    pub progress: watch::Receiver<SyncProgress>,
    /// How it ends.
    pub outcome: tokio::task::JoinHandle<Result<SyncOutcome, SyncError>>,
}

/// Why a background run did not start or its outcome is unknown.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The sync refused to run (another run holds the lease, nothing to sync with…).
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// The sync thread could not be started, or the run's task panicked.
    #[error("the sync thread failed: {0}")]
    Thread(String),
}

/// Starts and follows this process's syncs.
#[derive(Clone)]
pub struct Syncer {
    db: DatabaseConnection,
    key: Arc<EncryptionKey>,
    config: SyncConfig,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    live: LiveRuns,
    /// The background work of [`Self::spawn_background`] running now, by name.
    background: Arc<Mutex<std::collections::HashSet<&'static str>>>,
    /// The orders client kept across runs, with the fingerprint of its configuration.
    orders_client: Arc<tokio::sync::Mutex<Option<KeptClient>>>,
    /// The orders pages any process commits, for this process's subscribers.
    changes: super::changes::Changes,
}

/// A client kept across runs: the fingerprint of its configuration, and itself.
type KeptClient = (u64, Arc<SpApiClient>);

/// What makes a client another client: where it calls and with which credentials.
fn fingerprint(config: &ClientConfig) -> u64 {
    use secrecy::ExposeSecret as _;
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    config.endpoint.hash(&mut h);
    config.token_url.hash(&mut h);
    config.default_marketplace.hash(&mut h);
    config.credentials.client_id.hash(&mut h);
    config
        .credentials
        .client_secret
        .expose_secret()
        .hash(&mut h);
    config
        .credentials
        .refresh_token
        .expose_secret()
        .hash(&mut h);
    h.finish()
}

/// The operations of an orders run, whose buckets other processes share.
const ORDERS_OPERATIONS: [Operation; 3] = [
    Operation::SearchOrders,
    Operation::GetOrders,
    Operation::GetOrderItems,
];

impl std::fmt::Debug for Syncer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syncer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Syncer {
    /// A syncer for this database, key and configuration.
    #[must_use]
    pub fn new(db: DatabaseConnection, key: Arc<EncryptionKey>, config: SyncConfig) -> Self {
        Self {
            db,
            key,
            config,
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            live: LiveRuns::default(),
            background: Arc::default(),
            orders_client: Arc::default(),
            changes: super::changes::Changes::default(),
        }
    }

    /// Every orders page committed from now on, by this process or another one.
    #[must_use]
    pub fn orders_changed(
        &self,
    ) -> tokio::sync::broadcast::Receiver<super::changes::OrdersChanged> {
        self.changes.subscribe(&self.db)
    }

    /// The stored connection and the orders client of this process: the one kept
    /// from earlier runs while the connection's endpoint and credentials are the
    /// same, its buckets lowered to what the recorded runs left; else a new one.
    async fn orders_client(
        &self,
    ) -> Result<(entity::amazon_connection::Model, Arc<SpApiClient>), SyncError> {
        let (conn, config) =
            crate::amazon_account::client_config(&self.db, &self.key, self.config.endpoints)
                .await?;
        let print = fingerprint(&config);
        let mut slot = self.orders_client.lock().await;
        if let Some((kept, client)) = slot.as_ref()
            && *kept == print
        {
            match budget::estimate_all(&self.db, &ORDERS_OPERATIONS, chrono::Utc::now()).await {
                Ok(left) => {
                    for b in left {
                        // A rate other than the plan's is one Amazon told a run.
                        let (plan_rate, _) = b.operation.usage_plan();
                        let told = (b.rate - plan_rate).abs() > f64::EPSILON;
                        client.align_bucket(b.operation, told.then_some(b.rate), b.tokens);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the quota other runs left; the client keeps its own count");
                }
            }
            return Ok((conn, Arc::clone(client)));
        }
        let client = Arc::new(super::build_client(&self.db, &self.config, config).await?);
        *slot = Some((print, Arc::clone(&client)));
        Ok((conn, client))
    }

    /// An orders sync (then the stock refresh) through the process's orders client.
    /// A requested run that finds the schedule's run holding the lease waits for it
    /// to end, up to [`freshness::Plan::join_wait`], and runs next.
    async fn run_orders(&self, options: SyncOptions) -> Result<SyncOutcome, SyncError> {
        let (conn, client) = self.orders_client().await?;
        let first =
            super::orders_then_stock(&self.db, &client, &conn, &self.config, options.clone()).await;
        let Err(SyncError::AlreadyRunning { .. }) = &first else {
            return first;
        };
        if options.trigger == SyncTrigger::Schedule || !self.after_scheduled(&options).await {
            return first;
        }
        tracing::info!("the scheduled orders run ended; the requested one runs now");
        super::orders_then_stock(&self.db, &client, &conn, &self.config, options).await
    }

    /// Waits while the schedule's run holds the orders lease: true once it is free,
    /// false when a requested run holds it or the wait is over.
    async fn after_scheduled(&self, options: &SyncOptions) -> bool {
        let plan = freshness::Plan::default();
        let deadline = tokio::time::Instant::now() + plan.join_wait;
        loop {
            match freshness::holder(&self.db, chrono::Utc::now()).await {
                Ok(h) => match freshness::manual(h) {
                    Manual::Run => return true,
                    Manual::Refuse => return false,
                    Manual::AfterScheduled => {}
                },
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the orders lease");
                    return false;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::select! {
                () = options.cancel.cancelled() => return false,
                () = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
            }
        }
    }

    /// The configuration it syncs with.
    #[must_use]
    pub fn config(&self) -> &SyncConfig {
        &self.config
    }

    /// Runs one sync on the caller's task.
    ///
    /// # Errors
    /// See [`super::run_orders_sync`], [`run_inventory_sync`] and
    /// [`run_transactions_sync`].
    pub async fn run(
        &self,
        request: SyncRequest,
        options: SyncOptions,
    ) -> Result<SyncOutcome, SyncError> {
        match request {
            SyncRequest::Orders => self.run_orders(options).await,
            SyncRequest::Inventory(scan) => {
                run_inventory_sync(&self.db, &self.key, &self.config, scan, options).await
            }
            SyncRequest::Transactions => {
                run_transactions_sync(&self.db, &self.key, &self.config, options).await
            }
            SyncRequest::Listings(scan) => {
                run_listings_sync(&self.db, &self.key, &self.config, scan, options).await
            }
        }
    }

    /// Starts one sync in the background (cancelled by [`Self::shut_down`]) and
    /// answers once it is recorded. `options.progress`, `cancel` and `on_start` are
    /// the syncer's own.
    ///
    /// # Errors
    /// The sync's error when it ended before it was recorded (another run holds
    /// the lease, Amazon is not configured…); [`StartError::Thread`].
    pub async fn start(
        &self,
        request: SyncRequest,
        mut options: SyncOptions,
    ) -> Result<Started, StartError> {
        let runtime = sync_runtime().map_err(StartError::Thread)?;
        let (started_tx, started_rx) = oneshot::channel::<i64>();
        let started_tx = Mutex::new(Some(started_tx));
        let (progress_tx, progress_rx) = watch::channel(SyncProgress::default());
        let publish = self.live.clone();
        let published = progress_rx.clone();
        options.cancel = self.shutdown.child_token();
        options.progress = Some(Arc::new(move |p: &SyncProgress| {
            progress_tx.send_replace(p.clone());
        }));
        options.on_start = Some(Arc::new(move |id| {
            publish.lock().insert(id, published.clone());
            if let Some(tx) = started_tx
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
            {
                let _ = tx.send(id);
            }
        }));
        let this = self.clone();
        let mut task = self.tasks.spawn_on(
            async move {
                let result = this.run(request, options).await;
                if let Ok(outcome) = &result {
                    this.live.lock().remove(&outcome.run_id);
                }
                result
            },
            runtime,
        );
        let joined = |j: Result<Result<SyncOutcome, SyncError>, tokio::task::JoinError>| match j {
            Ok(result) => result.map_err(StartError::from),
            Err(e) => Err(StartError::Thread(e.to_string())),
        };
        tokio::select! {
            started = started_rx => match started {
                Ok(run_id) => Ok(Started { run_id, progress: progress_rx, outcome: task }),
                // The run ended before it was recorded: the task has the reason.
                Err(_) => {
                    let outcome = joined(task.await)?;
                    Ok(Started { run_id: outcome.run_id, progress: progress_rx, outcome: finished(outcome) })
                }
            },
            j = &mut task => {
                let outcome = joined(j)?;
                Ok(Started { run_id: outcome.run_id, progress: progress_rx, outcome: finished(outcome) })
            }
        }
    }

    /// The database, the key and the configuration it syncs with, for work that
    /// runs beside the syncs (the push of listing changes).
    #[must_use]
    pub fn parts(&self) -> (DatabaseConnection, Arc<EncryptionKey>, SyncConfig) {
        (self.db.clone(), Arc::clone(&self.key), self.config.clone())
    }

    /// Runs `work` in the background on the sync thread, tracked like the
    /// background syncs (waited for by [`Self::shut_down`]) and handed the
    /// shutdown token to stop at, unless work of the same `name` started by this
    /// syncer still runs. False when it did not start (already running, or the
    /// sync thread cannot run it).
    pub fn spawn_background<F, Fut>(&self, name: &'static str, work: F) -> bool
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let Ok(runtime) = sync_runtime() else {
            return false;
        };
        if !self
            .background
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name)
        {
            return false;
        }
        let running = Arc::clone(&self.background);
        let work = work(self.shutdown.child_token());
        self.tasks.spawn_on(
            async move {
                work.await;
                running
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(name);
            },
            runtime,
        );
        true
    }

    /// The progress of a run this process is executing, while it runs.
    #[must_use]
    pub fn progress_of(&self, run_id: i64) -> Option<watch::Receiver<SyncProgress>> {
        self.live.lock().get(&run_id).cloned()
    }

    /// Cancels the background runs: each stops after its current page and is
    /// recorded as interrupted. Later starts are cancelled at once.
    pub fn cancel(&self) {
        self.shutdown.cancel();
    }

    /// Cancels the background runs and waits for them up to `grace`. False when
    /// some did not finish in time.
    pub async fn shut_down(&self, grace: std::time::Duration) -> bool {
        self.shutdown.cancel();
        self.tasks.close();
        tokio::time::timeout(grace, self.tasks.wait()).await.is_ok()
    }
}

/// A join handle on an outcome already known.
fn finished(outcome: SyncOutcome) -> tokio::task::JoinHandle<Result<SyncOutcome, SyncError>> {
    tokio::spawn(async move { Ok(outcome) })
}

/// The runtime background syncs run on: one thread of its own.
fn sync_runtime() -> Result<&'static tokio::runtime::Handle, String> {
    static RUNTIME: std::sync::LazyLock<Result<tokio::runtime::Handle, String>> =
        std::sync::LazyLock::new(start_sync_runtime);
    RUNTIME.as_ref().map_err(|e| {
        tracing::error!(error = %e, "the sync runtime could not be started");
        e.clone()
    })
}

fn start_sync_runtime() -> Result<tokio::runtime::Handle, String> {
    let (started, handle) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("sync".to_owned())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => {
                    let _ = started.send(Ok(runtime.handle().clone()));
                    runtime.block_on(std::future::pending::<()>());
                }
                Err(e) => {
                    let _ = started.send(Err(e));
                }
            }
        })
        .map_err(|e| format!("cannot start its thread: {e}"))?;
    handle
        .recv()
        .map_err(|e| format!("its thread ended: {e}"))?
        .map_err(|e| format!("cannot build it: {e}"))
}
