//! The closed sets of values the schema's CHECK constraints allow, as Rust enums.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What a signed-in user may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Role {
    /// Everything, including credentials and syncs. The first registered user.
    #[sea_orm(string_value = "owner")]
    Owner,
    /// Read-only.
    #[sea_orm(string_value = "viewer")]
    Viewer,
}

/// The SP-API region a seller account lives in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Region {
    /// North America.
    #[sea_orm(string_value = "NA")]
    Na,
    /// Europe, Middle East, India and Africa.
    #[sea_orm(string_value = "EU")]
    Eu,
    /// Far East.
    #[sea_orm(string_value = "FE")]
    Fe,
}

/// Which Orders API the sync speaks.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    Default,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum OrdersApiVersion {
    /// `searchOrders`, items inline. The default.
    #[default]
    #[sea_orm(string_value = "2026-01-01")]
    V2026_01_01,
    /// `getOrders` + `getOrderItems`; deprecated, removed by Amazon on 2027-03-27.
    #[sea_orm(string_value = "v0")]
    V0,
}

/// Which dataset a sync run brought in (`sync_runs.kind`). Each dataset that
/// plugs into the sync framework adds its variant here.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SyncKind {
    /// Orders and their items.
    #[sea_orm(string_value = "orders")]
    Orders,
    /// FBA inventory summaries.
    #[sea_orm(string_value = "inventory")]
    Inventory,
}

impl SyncKind {
    /// The stored spelling, e.g. `orders`, also used in logs and messages.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Orders => "orders",
            Self::Inventory => "inventory",
        }
    }
}

/// What started a sync run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SyncTrigger {
    /// A person, through the API.
    #[sea_orm(string_value = "manual")]
    Manual,
    /// The worker's schedule.
    #[sea_orm(string_value = "schedule")]
    Schedule,
    /// `worker sync` on the command line.
    #[sea_orm(string_value = "cli")]
    Cli,
    /// Demo mode against the local simulator.
    #[sea_orm(string_value = "demo")]
    Demo,
}

/// Where a sync run stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SyncStatus {
    /// Started and not yet finished.
    #[sea_orm(string_value = "running")]
    Running,
    /// Finished; everything it read is committed.
    #[sea_orm(string_value = "succeeded")]
    Succeeded,
    /// Stopped on an error (see `error`).
    #[sea_orm(string_value = "failed")]
    Failed,
    /// Cancelled or cut short by shutdown; resumes from the watermark next time.
    #[sea_orm(string_value = "interrupted")]
    Interrupted,
}

impl OrdersApiVersion {
    /// The stored spelling (`2026-01-01` or `v0`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2026_01_01 => "2026-01-01",
            Self::V0 => "v0",
        }
    }
}

impl SyncStatus {
    /// The stored spelling (`running`, `succeeded`, `failed`, `interrupted`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }
}
