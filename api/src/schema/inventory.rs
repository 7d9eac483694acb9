//! `amazonInventory`: FBA stock per SKU and marketplace, with units sold per day,
//! days of cover and whether it is low. The reading and judging live in
//! `service::inventory`; this maps them to GraphQL.

use super::paging::{
    PageInfo, decode_marketplace_key, encode_marketplace_key, page_rows, page_size,
};
use super::{ApiError, SignedIn, api_context};
use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use service::inventory::{InventoryFilter as Filter, StockRow};

const CURSOR_KIND: &str = "inventory";
const MAX_PAGE: i32 = 200;

/// One FBA SKU's stock in one marketplace.
#[derive(SimpleObject, Debug)]
pub struct InventoryItem {
    /// The marketplace.
    pub marketplace_id: String,
    /// The seller's SKU.
    pub seller_sku: String,
    /// The ASIN.
    pub asin: Option<String>,
    /// Amazon's fulfillment network SKU.
    pub fn_sku: Option<String>,
    /// The product title.
    pub product_name: Option<String>,
    /// Amazon's item condition, e.g. `NewItem`.
    pub condition: Option<String>,
    /// Units that can be picked and shipped now.
    pub fulfillable_quantity: i64,
    /// Units in shipments the seller is still preparing.
    pub inbound_working_quantity: i64,
    /// Units in shipments on their way.
    pub inbound_shipped_quantity: i64,
    /// Units being received at a fulfillment centre.
    pub inbound_receiving_quantity: i64,
    /// Units reserved (customer orders, transfers, processing).
    pub reserved_quantity: i64,
    /// Units that cannot be sold (damaged, defective, expired).
    pub unfulfillable_quantity: i64,
    /// Units Amazon is looking for.
    pub researching_quantity: i64,
    /// Amazon's total.
    pub total_quantity: i64,
    /// When Amazon last changed this stock.
    pub last_updated_time: Option<DateTime<Utc>>,
    /// When a sync last saw it.
    pub seen_at: DateTime<Utc>,
    /// When a full scan stopped finding it; null while Amazon lists it.
    pub gone_at: Option<DateTime<Utc>>,
    /// Units sold per day over the last `STOCK_VELOCITY_DAYS` (canceled orders excluded).
    pub units_sold_per_day: f64,
    /// Fulfillable units divided by units sold per day; null when nothing sold.
    pub days_of_cover: Option<f64>,
    /// Under `ALERT_STOCK_DAYS` of cover or `ALERT_STOCK_UNITS` fulfillable units.
    pub low_stock: bool,
}

impl From<StockRow> for InventoryItem {
    fn from(s: StockRow) -> Self {
        let r = s.row;
        Self {
            marketplace_id: r.marketplace_id,
            seller_sku: r.seller_sku,
            asin: r.asin,
            fn_sku: r.fn_sku,
            product_name: r.product_name,
            condition: r.condition,
            fulfillable_quantity: r.fulfillable_quantity,
            inbound_working_quantity: r.inbound_working_quantity,
            inbound_shipped_quantity: r.inbound_shipped_quantity,
            inbound_receiving_quantity: r.inbound_receiving_quantity,
            reserved_quantity: r.reserved_quantity,
            unfulfillable_quantity: r.unfulfillable_quantity,
            researching_quantity: r.researching_quantity,
            total_quantity: r.total_quantity,
            last_updated_time: r.last_updated_time,
            seen_at: r.seen_at,
            gone_at: r.gone_at,
            units_sold_per_day: s.units_sold_per_day,
            days_of_cover: s.days_of_cover,
            low_stock: s.low_stock,
        }
    }
}

/// Which stock to list; all given conditions must hold.
#[derive(InputObject, Debug, Default)]
pub struct InventoryFilter {
    /// This marketplace only.
    pub marketplace_id: Option<String>,
    /// This seller SKU only.
    pub seller_sku: Option<String>,
    /// Only SKUs low on stock.
    #[graphql(default = false)]
    pub low_stock_only: bool,
    /// Also SKUs Amazon no longer lists (gone).
    #[graphql(default = false)]
    pub include_gone: bool,
}

/// One SKU in a page, with its cursor.
#[derive(SimpleObject)]
pub struct InventoryItemEdge {
    /// The SKU's stock.
    pub node: InventoryItem,
    /// Pass as `after` to continue after this SKU.
    pub cursor: String,
}

/// A page of stock.
#[derive(SimpleObject)]
pub struct InventoryItemConnection {
    /// The SKUs of this page, by marketplace and SKU.
    pub edges: Vec<InventoryItemEdge>,
    /// Where the page stands.
    pub page_info: PageInfo,
    /// How many SKUs the filter matches in all.
    pub total_count: u64,
}

/// Reading FBA stock.
#[derive(Default)]
pub struct InventoryQuery;

#[Object]
impl InventoryQuery {
    /// FBA stock by marketplace and seller SKU, `first` at a time (at most 200).
    #[graphql(
        guard = "SignedIn",
        complexity = "super::rows_cost(page_rows(first, MAX_PAGE), child_complexity)"
    )]
    async fn amazon_inventory(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
        filter: Option<InventoryFilter>,
    ) -> Result<InventoryItemConnection, ApiError> {
        let api = api_context(ctx)?;
        let limit = page_size(first, MAX_PAGE)?;
        let after_key = after
            .as_deref()
            .map(|c| decode_marketplace_key(CURSOR_KIND, c))
            .transpose()?;
        let f = filter.unwrap_or_default();
        let filter = Filter {
            marketplace_id: f.marketplace_id,
            seller_sku: f.seller_sku,
            low_stock_only: f.low_stock_only,
            include_gone: f.include_gone,
        };
        let now = Utc::now();
        let stock = &api.alerts.stock;
        let total_count = service::inventory::count(&api.db, &filter, stock, now).await?;
        let mut rows =
            service::inventory::page(&api.db, &filter, after_key.as_ref(), limit, stock, now)
                .await?;
        let has_next_page = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let edges: Vec<InventoryItemEdge> = rows
            .into_iter()
            .map(|r| InventoryItemEdge {
                cursor: encode_marketplace_key(
                    CURSOR_KIND,
                    &r.row.marketplace_id,
                    &r.row.seller_sku,
                ),
                node: r.into(),
            })
            .collect();
        Ok(InventoryItemConnection {
            page_info: PageInfo::of(
                has_next_page,
                after.is_some(),
                edges.iter().map(|e| &e.cursor),
            ),
            edges,
            total_count,
        })
    }
}
