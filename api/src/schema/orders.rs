//! Orders as Amazon reports them: `amazonOrders` (newest purchase first, keyset
//! paged, filtered) and `amazonOrder`. Amounts are exact decimals with currency.

use super::money::{Money, money};
use super::order_items::{AmazonOrderItem, ItemList};
use super::paging::{PageInfo, decode_time_id, encode_time_id, page_rows, page_size};
use super::{ApiError, SignedIn, api_context};
use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::enums;
use sea_orm::DatabaseConnection;
use service::orders::{self, OrderKey, OrderRow};
use std::collections::HashMap;

/// Most orders one page may hold.
pub const MAX_PAGE: i32 = 200;
const CURSOR_KIND: &str = "order";

/// Where an order stands, whichever Orders API it was read through: one to one
/// with `entity::enums::OrderStatus`.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum OrderStatus {
    /// Not yet available for purchase (pre-orders).
    #[graphql(name = "PENDING_AVAILABILITY")]
    PendingAvailability,
    /// Placed, payment not yet authorized.
    #[graphql(name = "PENDING")]
    Pending,
    /// Paid, nothing shipped yet.
    #[graphql(name = "UNSHIPPED")]
    Unshipped,
    /// Some items shipped.
    #[graphql(name = "PARTIALLY_SHIPPED")]
    PartiallyShipped,
    /// Everything shipped.
    #[graphql(name = "SHIPPED")]
    Shipped,
    /// Canceled.
    #[graphql(name = "CANCELED")]
    Canceled,
    /// Shipped, invoice not yet confirmed (some marketplaces).
    #[graphql(name = "INVOICE_UNCONFIRMED")]
    InvoiceUnconfirmed,
    /// Cannot be fulfilled (multi-channel fulfillment).
    #[graphql(name = "UNFULFILLABLE")]
    Unfulfillable,
    /// A status Amazon added that this version does not know: `orderStatusText`
    /// has it as Amazon sent it. Not a filter value.
    #[graphql(name = "OTHER")]
    Other,
}

impl From<&enums::OrderStatus> for OrderStatus {
    fn from(s: &enums::OrderStatus) -> Self {
        match s {
            enums::OrderStatus::PendingAvailability => Self::PendingAvailability,
            enums::OrderStatus::Pending => Self::Pending,
            enums::OrderStatus::Unshipped => Self::Unshipped,
            enums::OrderStatus::PartiallyShipped => Self::PartiallyShipped,
            enums::OrderStatus::Shipped => Self::Shipped,
            enums::OrderStatus::Canceled => Self::Canceled,
            enums::OrderStatus::InvoiceUnconfirmed => Self::InvoiceUnconfirmed,
            enums::OrderStatus::Unfulfillable => Self::Unfulfillable,
            enums::OrderStatus::Other(_) => Self::Other,
        }
    }
}

impl OrderStatus {
    /// The status to filter by; `None` for `OTHER`, which names no one status.
    fn known(self) -> Option<enums::OrderStatus> {
        Some(match self {
            Self::PendingAvailability => enums::OrderStatus::PendingAvailability,
            Self::Pending => enums::OrderStatus::Pending,
            Self::Unshipped => enums::OrderStatus::Unshipped,
            Self::PartiallyShipped => enums::OrderStatus::PartiallyShipped,
            Self::Shipped => enums::OrderStatus::Shipped,
            Self::Canceled => enums::OrderStatus::Canceled,
            Self::InvoiceUnconfirmed => enums::OrderStatus::InvoiceUnconfirmed,
            Self::Unfulfillable => enums::OrderStatus::Unfulfillable,
            Self::Other => return None,
        })
    }
}

/// Which orders to list. All given conditions must hold.
#[derive(InputObject, Debug, Default, Clone)]
pub struct AmazonOrderFilter {
    /// Any of these statuses.
    pub statuses: Option<Vec<OrderStatus>>,
    /// This marketplace only.
    pub marketplace_id: Option<String>,
    /// Purchased at or after this instant.
    pub purchased_from: Option<DateTime<Utc>>,
    /// Purchased before this instant (exclusive).
    pub purchased_to: Option<DateTime<Utc>>,
    /// With an item of this seller SKU.
    pub sku: Option<String>,
    /// With an item of this ASIN.
    pub asin: Option<String>,
}

/// An order as Amazon reports it.
pub struct AmazonOrder {
    model: OrderRow,
    /// Items loaded with the page, when the query asked for them.
    items: Option<Vec<AmazonOrderItem>>,
    /// Financials loaded with the page, when the query asked for them (`Some(None)`:
    /// the order has no transactions).
    financials: Option<Option<service::finances::views::OrderFinancials>>,
}

#[Object]
impl AmazonOrder {
    /// Amazon's order id, e.g. 113-1234567-1234567.
    async fn amazon_order_id(&self) -> &str {
        &self.model.amazon_order_id
    }
    /// The marketplace it was placed in.
    async fn marketplace_id(&self) -> &str {
        &self.model.marketplace_id
    }
    /// When it was placed.
    async fn purchase_date(&self) -> DateTime<Utc> {
        self.model.purchase_date
    }
    /// When Amazon last changed it.
    async fn last_update_date(&self) -> DateTime<Utc> {
        self.model.last_update_date
    }
    /// Where it stands (`OTHER` for a status this version does not know).
    async fn order_status(&self) -> OrderStatus {
        OrderStatus::from(&self.model.order_status)
    }
    /// The status as stored: Orders v0's spelling (`PartiallyShipped`), or Amazon's
    /// own text for an `OTHER` status.
    async fn order_status_text(&self) -> &str {
        self.model.order_status.as_str()
    }
    /// AFN (fulfilled by Amazon) or MFN (by the seller).
    async fn fulfillment_channel(&self) -> Option<&str> {
        self.model.fulfillment_channel.as_deref()
    }
    /// The order total; null while the order is pending.
    async fn order_total(&self) -> Option<Money> {
        money(
            self.model.order_total_amount,
            self.model.order_total_currency.as_ref(),
        )
    }
    /// Units shipped so far.
    async fn number_of_items_shipped(&self) -> Option<i32> {
        self.model.number_of_items_shipped
    }
    /// Units not yet shipped.
    async fn number_of_items_unshipped(&self) -> Option<i32> {
        self.model.number_of_items_unshipped
    }
    /// A Prime order.
    async fn is_prime(&self) -> bool {
        self.model.is_prime
    }
    /// A business (B2B) order.
    async fn is_business_order(&self) -> bool {
        self.model.is_business_order
    }
    /// The order's lines.
    async fn items(&self, ctx: &Context<'_>) -> Result<ItemList, ApiError> {
        if let Some(items) = &self.items {
            return ItemList::of(ctx.field(), items);
        }
        let db = &api_context(ctx)?.db;
        let mut by_order = load_items(db, std::slice::from_ref(&self.model)).await?;
        let items = by_order
            .remove(&(
                self.model.amazon_order_id.clone(),
                self.model.marketplace_id.clone(),
            ))
            .unwrap_or_default();
        ItemList::of(ctx.field(), &items)
    }
    /// What Amazon's financial transactions say about the order: sales, tax,
    /// promotions, fees (also by type), refunds and net proceeds per currency, and
    /// whether Amazon has released the money. Null until a transaction names it.
    async fn financials(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<super::finances::OrderFinancials>, ApiError> {
        if let Some(f) = &self.financials {
            return Ok(f.as_ref().map(Into::into));
        }
        let db = &api_context(ctx)?.db;
        let id = self.model.amazon_order_id.clone();
        let by_order =
            service::finances::views::order_financials(db, std::slice::from_ref(&id)).await?;
        Ok(by_order.get(&id).map(Into::into))
    }
}

/// The items of `orders` as the API shows them, by order.
async fn load_items(
    db: &DatabaseConnection,
    orders: &[OrderRow],
) -> Result<HashMap<OrderKey, Vec<AmazonOrderItem>>, ApiError> {
    Ok(orders::items_of(db, orders)
        .await?
        .into_iter()
        .map(|(key, items)| (key, items.into_iter().map(Into::into).collect()))
        .collect())
}

impl TryFrom<&AmazonOrderFilter> for orders::OrderFilter {
    type Error = ApiError;

    fn try_from(f: &AmazonOrderFilter) -> Result<Self, ApiError> {
        Ok(Self {
            statuses: f
                .statuses
                .iter()
                .flatten()
                .map(|s| {
                    s.known().ok_or_else(|| {
                        ApiError::BadUserInput(
                            "statuses: OTHER names no one status; filter by the known ones"
                                .to_owned(),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
            marketplace_id: f.marketplace_id.clone(),
            purchased_from: f.purchased_from,
            purchased_to: f.purchased_to,
            sku: f.sku.clone(),
            asin: f.asin.clone(),
        })
    }
}

/// One order in a page, with its cursor.
#[derive(SimpleObject)]
pub struct AmazonOrderEdge {
    /// The order.
    pub node: AmazonOrder,
    /// Pass as `after` to continue after this order.
    pub cursor: String,
}

/// A page of orders.
#[derive(SimpleObject)]
pub struct AmazonOrderConnection {
    /// The orders of this page, newest purchase first.
    pub edges: Vec<AmazonOrderEdge>,
    /// Where the page stands.
    pub page_info: PageInfo,
    /// How many orders match the filter in all.
    pub total_count: u64,
}

/// Reading orders.
#[derive(Default)]
pub struct OrdersQuery;

#[Object]
impl OrdersQuery {
    /// Orders, newest purchase first, `first` at a time (at most 200); pass the
    /// last page's `pageInfo.endCursor` as `after` for the next page. Against the
    /// request's complexity limit it counts its selection once per order of `first`.
    #[graphql(
        guard = "SignedIn",
        complexity = "super::rows_cost(page_rows(first, MAX_PAGE), child_complexity)"
    )]
    async fn amazon_orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
        filter: Option<AmazonOrderFilter>,
    ) -> Result<AmazonOrderConnection, ApiError> {
        let db = &api_context(ctx)?.db;
        let limit = page_size(first, MAX_PAGE)?;
        let filter = orders::OrderFilter::try_from(&filter.unwrap_or_default())?;
        // Counting every match costs a scan of all of them (tens of milliseconds at
        // a million orders), so only a query that asks for the count pays for it.
        let total_count = if ctx.look_ahead().field("totalCount").exists() {
            orders::count(db, &filter).await?
        } else {
            0
        };
        let after = match &after {
            Some(cursor) => Some(decode_time_id(CURSOR_KIND, cursor)?),
            None => None,
        };
        let mut rows = orders::page(db, &filter, after, limit).await?;
        let has_next_page = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));

        let wants_items = ctx
            .look_ahead()
            .field("edges")
            .field("node")
            .field("items")
            .exists();
        let mut items = if wants_items {
            Some(load_items(db, &rows).await?)
        } else {
            None
        };
        let mut financials = if ctx
            .look_ahead()
            .field("edges")
            .field("node")
            .field("financials")
            .exists()
        {
            let ids: Vec<String> = rows.iter().map(|r| r.amazon_order_id.clone()).collect();
            Some(service::finances::views::order_financials(db, &ids).await?)
        } else {
            None
        };
        let edges: Vec<AmazonOrderEdge> = rows
            .into_iter()
            .map(|model| {
                let cursor = encode_time_id(CURSOR_KIND, model.purchase_date, model.id);
                let key = (model.amazon_order_id.clone(), model.marketplace_id.clone());
                let items = items
                    .as_mut()
                    .map(|by_order| by_order.remove(&key).unwrap_or_default());
                AmazonOrderEdge {
                    node: AmazonOrder {
                        financials: financials
                            .as_mut()
                            .map(|f| f.remove(&model.amazon_order_id)),
                        model,
                        items,
                    },
                    cursor,
                }
            })
            .collect();
        Ok(AmazonOrderConnection {
            page_info: PageInfo::of(
                has_next_page,
                after.is_some(),
                edges.iter().map(|e| &e.cursor),
            ),
            edges,
            total_count,
        })
    }

    /// One order by Amazon's order id, with its items. `NOT_FOUND` when unknown.
    #[graphql(
        guard = "SignedIn",
        complexity = "super::rows_cost(1, child_complexity)"
    )]
    async fn amazon_order(
        &self,
        ctx: &Context<'_>,
        amazon_order_id: String,
    ) -> Result<Option<AmazonOrder>, ApiError> {
        let db = &api_context(ctx)?.db;
        let model = orders::find(db, &amazon_order_id).await?.ok_or_else(|| {
            ApiError::NotFound(format!(
                "no order {:?} has been synced",
                amazon_order_id.trim()
            ))
        })?;
        Ok(Some(AmazonOrder {
            model,
            items: None,
            financials: None,
        }))
    }
}
