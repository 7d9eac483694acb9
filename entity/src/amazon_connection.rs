//! `amazon_connection`: the one seller account this installation syncs (at most one
//! row, id 1, enforced by the schema).

use crate::enums::{OrdersApiVersion, Region};
use sea_orm::entity::prelude::*;

/// The only id the schema allows for the connection row.
pub const SINGLETON_ID: i32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "amazon_connection")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub seller_id: String,
    pub region: Region,
    pub sandbox: bool,
    /// JSON array of marketplace id strings.
    #[sea_orm(column_type = "JsonBinary")]
    pub marketplace_ids: Json,
    pub orders_api_version: OrdersApiVersion,
    /// SP-API base URL override (sandbox, local simulator).
    pub endpoint: Option<String>,
    /// LWA token URL override.
    pub token_url: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_check_at: Option<DateTimeUtc>,
    pub last_check_ok: Option<bool>,
    pub last_check_error: Option<String>,
    pub last_orders_sync_at: Option<DateTimeUtc>,
    pub last_orders_sync_status: Option<String>,
    pub last_orders_sync_error: Option<String>,
    pub last_orders_sync_orders_count: Option<i64>,
    pub last_orders_sync_items_count: Option<i64>,
    /// IANA time zone of daily reports; None: the first marketplace's (phase 15).
    pub timezone: Option<String>,
}

impl Model {
    /// The marketplace ids as strings (entries that are not strings are skipped).
    #[must_use]
    pub fn marketplace_id_list(&self) -> Vec<String> {
        self.marketplace_ids
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_one = "super::amazon_credential::Entity")]
    AmazonCredential,
}

impl Related<super::amazon_credential::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AmazonCredential.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
