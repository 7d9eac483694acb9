//! Orders as Amazon reports them: `amazonOrders` (newest purchase first, keyset
//! paged, filtered) and `amazonOrder`. Amounts are exact decimals with currency.

use super::paging::{PageInfo, decode_time_id, encode_time_id, page_rows, page_size};
use super::{ApiError, SignedIn, api_context};
use async_graphql::indexmap::IndexMap;
use async_graphql::{ComplexObject, Context, Enum, InputObject, Name, Object, SimpleObject, Value};
use chrono::{DateTime, Utc};
use entity::{Amount, amazon_order, amazon_order_item};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait as _, Query};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DerivePartialModel, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select,
};
use std::borrow::Cow;
use std::collections::HashMap;

/// Most orders one page may hold.
pub const MAX_PAGE: i32 = 200;
const CURSOR_KIND: &str = "order";

/// Where an order stands, whichever Orders API it was read through.
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
}

impl OrderStatus {
    /// Reads a stored status in either API's spelling (`PartiallyShipped` in v0,
    /// `PARTIALLY_SHIPPED` in 2026-01-01; `Canceled` and `CANCELLED`).
    #[must_use]
    pub fn parse(stored: &str) -> Option<Self> {
        let key: String = stored
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect();
        Some(match key.as_str() {
            "PENDINGAVAILABILITY" => Self::PendingAvailability,
            "PENDING" => Self::Pending,
            "UNSHIPPED" => Self::Unshipped,
            "PARTIALLYSHIPPED" => Self::PartiallyShipped,
            "SHIPPED" => Self::Shipped,
            "CANCELED" | "CANCELLED" => Self::Canceled,
            "INVOICEUNCONFIRMED" => Self::InvoiceUnconfirmed,
            "UNFULFILLABLE" => Self::Unfulfillable,
            _ => return None,
        })
    }

    /// Every spelling the database may hold for this status.
    fn spellings(self) -> &'static [&'static str] {
        match self {
            Self::PendingAvailability => &["PendingAvailability", "PENDING_AVAILABILITY"],
            Self::Pending => &["Pending", "PENDING"],
            Self::Unshipped => &["Unshipped", "UNSHIPPED"],
            Self::PartiallyShipped => &["PartiallyShipped", "PARTIALLY_SHIPPED"],
            Self::Shipped => &["Shipped", "SHIPPED"],
            Self::Canceled => &["Canceled", "CANCELED", "Cancelled", "CANCELLED"],
            Self::InvoiceUnconfirmed => &["InvoiceUnconfirmed", "INVOICE_UNCONFIRMED"],
            Self::Unfulfillable => &["Unfulfillable", "UNFULFILLABLE"],
        }
    }
}

/// An exact amount of money.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct Money {
    /// The amount as a decimal string, exactly as Amazon reported it (e.g. "19.90").
    pub amount: Decimal,
    /// ISO 4217 currency code.
    pub currency_code: String,
}

fn money(amount: Option<Amount>, currency: Option<&String>) -> Option<Money> {
    Some(Money {
        amount: amount?.decimal(),
        currency_code: currency?.clone(),
    })
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

/// One line of an order.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct AmazonOrderItem {
    /// Amazon's id of the line.
    pub order_item_id: String,
    /// The seller's SKU.
    pub seller_sku: Option<String>,
    /// The product's ASIN.
    pub asin: Option<String>,
    /// The product title.
    pub title: Option<String>,
    /// Units ordered.
    pub quantity_ordered: i32,
    /// Units shipped.
    pub quantity_shipped: i32,
    /// The line total as v0's `ItemPrice` means it: unit price times quantity
    /// ordered, shipping and tax excluded. Null while the order is pending.
    pub item_price: Option<Money>,
}

#[ComplexObject]
impl AmazonOrderItem {
    /// The price of one unit: `itemPrice` divided by `quantityOrdered`.
    async fn unit_price(&self) -> Option<Money> {
        self.unit_price_value()
    }
}

impl AmazonOrderItem {
    /// `itemPrice / quantityOrdered`, at the line's scale when that is exact.
    fn unit_price_value(&self) -> Option<Money> {
        let line = self.item_price.as_ref()?;
        let qty = Decimal::from(self.quantity_ordered);
        if qty.is_zero() {
            return None;
        }
        let exact = line.amount.checked_div(qty)?;
        let rounded = exact.round_dp(line.amount.scale());
        let amount = if rounded * qty == line.amount {
            rounded
        } else {
            exact.normalize()
        };
        Some(Money {
            amount,
            currency_code: line.currency_code.clone(),
        })
    }
}

/// The columns of `amazon_order_item` the API shows: everything but the raw
/// payload, which is several times the size of the rest and never shown.
#[derive(Debug, DerivePartialModel)]
#[sea_orm(entity = "amazon_order_item::Entity")]
struct ItemRow {
    order_item_id: String,
    amazon_order_id: String,
    marketplace_id: String,
    seller_sku: Option<String>,
    asin: Option<String>,
    title: Option<String>,
    quantity_ordered: i32,
    quantity_shipped: i32,
    item_price_currency: Option<String>,
    item_price_amount: Option<Amount>,
}

impl From<ItemRow> for AmazonOrderItem {
    fn from(i: ItemRow) -> Self {
        Self {
            item_price: money(i.item_price_amount, i.item_price_currency.as_ref()),
            order_item_id: i.order_item_id,
            seller_sku: i.seller_sku,
            asin: i.asin,
            title: i.title,
            quantity_ordered: i.quantity_ordered,
            quantity_shipped: i.quantity_shipped,
        }
    }
}

/// The columns of `amazon_order` the API shows: everything but the raw payload
/// (a few KiB an order, which a page of 50 would read and parse for nothing).
#[derive(Debug, DerivePartialModel)]
#[sea_orm(entity = "amazon_order::Entity")]
struct OrderRow {
    id: i64,
    amazon_order_id: String,
    marketplace_id: String,
    purchase_date: DateTime<Utc>,
    last_update_date: DateTime<Utc>,
    order_status: String,
    fulfillment_channel: Option<String>,
    order_total_currency: Option<String>,
    order_total_amount: Option<Amount>,
    number_of_items_shipped: Option<i32>,
    number_of_items_unshipped: Option<i32>,
    is_prime: bool,
    is_business_order: bool,
}

/// An order as Amazon reports it.
pub struct AmazonOrder {
    model: OrderRow,
    /// Items loaded with the page, when the query asked for them.
    items: Option<Vec<AmazonOrderItem>>,
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
    /// Where it stands.
    async fn order_status(&self) -> Result<OrderStatus, ApiError> {
        OrderStatus::parse(&self.model.order_status).ok_or_else(|| {
            tracing::error!(
                status = %self.model.order_status,
                order = %self.model.amazon_order_id,
                "stored order status is not one the API knows"
            );
            ApiError::Internal
        })
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
        let selection = item_selection(ctx.field().selection_set())?;
        if let Some(items) = &self.items {
            return Ok(ItemList::resolved(&selection, items));
        }
        let db = &api_context(ctx)?.db;
        let mut by_order = load_items(db, std::slice::from_ref(&self.model)).await?;
        let items = by_order
            .remove(&(
                self.model.amazon_order_id.clone(),
                self.model.marketplace_id.clone(),
            ))
            .unwrap_or_default();
        Ok(ItemList::resolved(&selection, &items))
    }
}

/// An order's items, resolved in one pass over the selection instead of a future
/// per field.
///
/// A page of 50 orders has 150 items; with the load test's selection that is 900
/// item fields, which async-graphql's generic path resolves as one boxed future
/// each, inserted one by one: more than half of the api's CPU for such a page
/// (`page-bench`, docs/PERFORMANCE.md). Every field of `AmazonOrderItem` and
/// `Money` is a plain value that cannot fail, so the list is built here from the
/// selection (aliases, fragments, `__typename`, repeated fields merged) exactly as
/// the generic path would build it. The schema is unchanged: to GraphQL this is
/// `[AmazonOrderItem!]!`, whose type `AmazonOrderItem` still defines the fields.
pub struct ItemList(std::sync::Mutex<Option<Value>>);

impl ItemList {
    fn resolved(selection: &[Selected<ItemPart>], items: &[AmazonOrderItem]) -> Self {
        let list = items
            .iter()
            .map(|item| item_value(selection, item))
            .collect();
        Self(std::sync::Mutex::new(Some(Value::List(list))))
    }
}

impl async_graphql::OutputType for ItemList {
    fn type_name() -> Cow<'static, str> {
        <Vec<AmazonOrderItem> as async_graphql::OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<AmazonOrderItem> as async_graphql::OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
        <Vec<AmazonOrderItem> as async_graphql::OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        _ctx: &async_graphql::ContextSelectionSet<'_>,
        _field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
    ) -> async_graphql::ServerResult<Value> {
        // Resolved once per field: the value moves out instead of being copied.
        let mut built = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(built.take().unwrap_or_default())
    }
}

/// One selected field: its response key (the alias, else the name) and what it is.
struct Selected<T> {
    key: Name,
    part: T,
}

/// A field of `AmazonOrderItem`.
enum ItemPart {
    Typename,
    OrderItemId,
    SellerSku,
    Asin,
    Title,
    QuantityOrdered,
    QuantityShipped,
    ItemPrice(Vec<Selected<MoneyPart>>),
    UnitPrice(Vec<Selected<MoneyPart>>),
}

/// A field of `Money`.
enum MoneyPart {
    Typename,
    Amount,
    CurrencyCode,
}

fn key_of(field: &async_graphql::SelectionField<'_>) -> Name {
    Name::new(field.alias().unwrap_or_else(|| field.name()))
}

/// A field the validated document selected that this resolver does not know:
/// only possible if `AmazonOrderItem` or `Money` gained a field that
/// `item_selection` was not taught.
fn unknown_field(on: &str, name: &str) -> ApiError {
    tracing::error!(
        field = name,
        on,
        "the items resolver does not know this field"
    );
    ApiError::Internal
}

fn item_selection<'a>(
    fields: impl Iterator<Item = async_graphql::SelectionField<'a>>,
) -> Result<Vec<Selected<ItemPart>>, ApiError> {
    fields
        .map(|f| {
            let part = match f.name() {
                "__typename" => ItemPart::Typename,
                "orderItemId" => ItemPart::OrderItemId,
                "sellerSku" => ItemPart::SellerSku,
                "asin" => ItemPart::Asin,
                "title" => ItemPart::Title,
                "quantityOrdered" => ItemPart::QuantityOrdered,
                "quantityShipped" => ItemPart::QuantityShipped,
                "itemPrice" => ItemPart::ItemPrice(money_selection(f.selection_set())?),
                "unitPrice" => ItemPart::UnitPrice(money_selection(f.selection_set())?),
                other => return Err(unknown_field("AmazonOrderItem", other)),
            };
            Ok(Selected {
                key: key_of(&f),
                part,
            })
        })
        .collect()
}

fn money_selection<'a>(
    fields: impl Iterator<Item = async_graphql::SelectionField<'a>>,
) -> Result<Vec<Selected<MoneyPart>>, ApiError> {
    fields
        .map(|f| {
            let part = match f.name() {
                "__typename" => MoneyPart::Typename,
                "amount" => MoneyPart::Amount,
                "currencyCode" => MoneyPart::CurrencyCode,
                other => return Err(unknown_field("Money", other)),
            };
            Ok(Selected {
                key: key_of(&f),
                part,
            })
        })
        .collect()
}

/// Inserts a field's value as the generic path does: a response key selected
/// twice (say, once in a fragment) keeps its first place and value, and two
/// selections of one object field merge their fields.
fn insert_merged(object: &mut IndexMap<Name, Value>, key: Name, value: Value) {
    match (object.get_mut(&key), value) {
        (Some(Value::Object(existing)), Value::Object(more)) => {
            for (k, v) in more {
                insert_merged(existing, k, v);
            }
        }
        // The same leaf twice has the same value: the first stays.
        (Some(_), _) => {}
        (None, value) => {
            object.insert(key, value);
        }
    }
}

fn text(value: Option<&String>) -> Value {
    value.map_or(Value::Null, |v| Value::String(v.clone()))
}

fn item_value(selection: &[Selected<ItemPart>], item: &AmazonOrderItem) -> Value {
    use async_graphql::ScalarType as _;
    let mut object = IndexMap::with_capacity(selection.len());
    for Selected { key, part } in selection {
        let value = match part {
            ItemPart::Typename => Value::String("AmazonOrderItem".to_owned()),
            ItemPart::OrderItemId => Value::String(item.order_item_id.clone()),
            ItemPart::SellerSku => text(item.seller_sku.as_ref()),
            ItemPart::Asin => text(item.asin.as_ref()),
            ItemPart::Title => text(item.title.as_ref()),
            ItemPart::QuantityOrdered => item.quantity_ordered.to_value(),
            ItemPart::QuantityShipped => item.quantity_shipped.to_value(),
            ItemPart::ItemPrice(money) => money_value(money, item.item_price.as_ref()),
            ItemPart::UnitPrice(money) => money_value(money, item.unit_price_value().as_ref()),
        };
        insert_merged(&mut object, key.clone(), value);
    }
    Value::Object(object)
}

fn money_value(selection: &[Selected<MoneyPart>], money: Option<&Money>) -> Value {
    use async_graphql::ScalarType as _;
    let Some(money) = money else {
        return Value::Null;
    };
    let mut object = IndexMap::with_capacity(selection.len());
    for Selected { key, part } in selection {
        let value = match part {
            MoneyPart::Typename => Value::String("Money".to_owned()),
            MoneyPart::Amount => money.amount.to_value(),
            MoneyPart::CurrencyCode => Value::String(money.currency_code.clone()),
        };
        insert_merged(&mut object, key.clone(), value);
    }
    Value::Object(object)
}

type OrderKey = (String, String);

/// The items of `orders`, by (order id, marketplace id), in a stable order.
async fn load_items(
    db: &DatabaseConnection,
    orders: &[OrderRow],
) -> Result<HashMap<OrderKey, Vec<AmazonOrderItem>>, ApiError> {
    let mut by_order: HashMap<OrderKey, Vec<AmazonOrderItem>> = HashMap::new();
    if orders.is_empty() {
        return Ok(by_order);
    }
    let ids: Vec<String> = orders.iter().map(|o| o.amazon_order_id.clone()).collect();
    let items = amazon_order_item::Entity::find()
        .filter(amazon_order_item::Column::AmazonOrderId.is_in(ids))
        .order_by_asc(amazon_order_item::Column::Id)
        .into_partial_model::<ItemRow>()
        .all(db)
        .await?;
    for item in items {
        let key = (item.amazon_order_id.clone(), item.marketplace_id.clone());
        by_order.entry(key).or_default().push(item.into());
    }
    Ok(by_order)
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

/// Every stored spelling the filter's statuses match; none when it has no statuses.
fn status_spellings(filter: &AmazonOrderFilter) -> Vec<&'static str> {
    let mut spellings: Vec<&'static str> = filter
        .statuses
        .iter()
        .flatten()
        .flat_map(|s| s.spellings())
        .copied()
        .collect();
    spellings.sort_unstable();
    spellings.dedup();
    spellings
}

/// The orders `filter` selects (all of its conditions).
fn filtered(filter: &AmazonOrderFilter) -> Select<amazon_order::Entity> {
    let spellings = status_spellings(filter);
    let q = filtered_but_status(filter);
    if spellings.is_empty() {
        q
    } else {
        q.filter(amazon_order::Column::OrderStatus.is_in(spellings))
    }
}

/// The orders `filter` selects, leaving its statuses out.
fn filtered_but_status(filter: &AmazonOrderFilter) -> Select<amazon_order::Entity> {
    let mut q = amazon_order::Entity::find();
    if let Some(m) = &filter.marketplace_id {
        q = q.filter(amazon_order::Column::MarketplaceId.eq(m.trim()));
    }
    if let Some(from) = filter.purchased_from {
        q = q.filter(amazon_order::Column::PurchaseDate.gte(from));
    }
    if let Some(to) = filter.purchased_to {
        q = q.filter(amazon_order::Column::PurchaseDate.lt(to));
    }
    let item_conditions = [
        (amazon_order_item::Column::SellerSku, filter.sku.as_deref()),
        (amazon_order_item::Column::Asin, filter.asin.as_deref()),
    ];
    for (column, value) in item_conditions {
        if let Some(value) = value {
            q = q.filter(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(amazon_order_item::Entity)
                    .and_where(
                        Expr::col((
                            amazon_order_item::Entity,
                            amazon_order_item::Column::AmazonOrderId,
                        ))
                        .equals((amazon_order::Entity, amazon_order::Column::AmazonOrderId)),
                    )
                    .and_where(
                        Expr::col((
                            amazon_order_item::Entity,
                            amazon_order_item::Column::MarketplaceId,
                        ))
                        .equals((amazon_order::Entity, amazon_order::Column::MarketplaceId)),
                    )
                    // Always equal (the sync keeps it so); it makes the probe one
                    // lookup of the (column, order_purchase_date, order) index.
                    .and_where(
                        Expr::col((
                            amazon_order_item::Entity,
                            amazon_order_item::Column::OrderPurchaseDate,
                        ))
                        .equals((amazon_order::Entity, amazon_order::Column::PurchaseDate)),
                    )
                    .and_where(Expr::col((amazon_order_item::Entity, column)).eq(value.trim()))
                    .to_owned(),
            ));
        }
    }
    q
}

/// The orders of `q` after the keyset cursor `after` (all of them without one).
fn after_cursor(
    q: Select<amazon_order::Entity>,
    after: Option<(DateTime<Utc>, i64)>,
) -> Select<amazon_order::Entity> {
    let Some((at, id)) = after else {
        return q;
    };
    // `purchase_date <= at` is implied by the OR below, but only it can bound the
    // index scan: without it a page deep in the list walks every newer entry of
    // the (purchase_date, id) index first.
    q.filter(amazon_order::Column::PurchaseDate.lte(at)).filter(
        Condition::any()
            .add(amazon_order::Column::PurchaseDate.lt(at))
            .add(
                Condition::all()
                    .add(amazon_order::Column::PurchaseDate.eq(at))
                    .add(amazon_order::Column::Id.lt(id)),
            ),
    )
}

/// Up to `limit + 1` orders of `q` after the keyset cursor `after`, newest first.
async fn page_of(
    db: &DatabaseConnection,
    q: Select<amazon_order::Entity>,
    after: Option<(DateTime<Utc>, i64)>,
    limit: u64,
) -> Result<Vec<OrderRow>, ApiError> {
    Ok(after_cursor(q, after)
        .order_by_desc(amazon_order::Column::PurchaseDate)
        .order_by_desc(amazon_order::Column::Id)
        .limit(limit + 1)
        .into_partial_model::<OrderRow>()
        .all(db)
        .await?)
}

/// An item field a filter can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemField {
    Sku,
    Asin,
}

impl ItemField {
    fn column(self) -> amazon_order_item::Column {
        match self {
            Self::Sku => amazon_order_item::Column::SellerSku,
            Self::Asin => amazon_order_item::Column::Asin,
        }
    }
}

/// The item condition a page is found through, when the filter has one: the SKU,
/// else the ASIN.
fn item_condition(filter: &AmazonOrderFilter) -> Option<(ItemField, &str)> {
    match (&filter.sku, &filter.asin) {
        (Some(sku), _) => Some((ItemField::Sku, sku.trim())),
        (None, Some(asin)) => Some((ItemField::Asin, asin.trim())),
        (None, None) => None,
    }
}

/// An entry of the items' (column, order_purchase_date, order) indexes.
#[derive(Debug, DerivePartialModel)]
#[sea_orm(entity = "amazon_order_item::Entity")]
struct ItemOrder {
    amazon_order_id: String,
    marketplace_id: String,
    order_purchase_date: DateTime<Utc>,
}

/// The most index entries one round of [`page_by_item`] reads.
const MAX_ITEM_CHUNK: u64 = 4096;

/// Up to `limit + 1` orders of `filter` after `after`, newest first, found through
/// their items with `column = value`.
///
/// The (column, order_purchase_date, order) index lists the orders of a SKU or
/// ASIN newest first, so the page reads that list from the top in growing chunks
/// (a page's worth first) and keeps the orders that meet the rest of the filter,
/// until no later entry can be newer than the page's last order. A page costs
/// what it shows, where a semi-join from the newest orders probed every order
/// until it found enough with the SKU (20,000 probes when the newest orders sell
/// other things) or fetched and sorted every order of a rare SKU.
async fn page_by_item(
    db: &DatabaseConnection,
    filter: &AmazonOrderFilter,
    (field, value): (ItemField, &str),
    after: Option<(DateTime<Utc>, i64)>,
    limit: u64,
) -> Result<Vec<OrderRow>, ApiError> {
    use amazon_order_item::Column as I;
    let want = usize::try_from(limit + 1).unwrap_or(usize::MAX);
    // The conditions the index does not answer, checked on the orders themselves.
    let mut rest = filter.clone();
    match field {
        ItemField::Sku => rest.sku = None,
        ItemField::Asin => rest.asin = None,
    }
    let column = field.column();
    let mut chunk = Ord::min(limit + 1 + limit.div_ceil(4), MAX_ITEM_CHUNK);
    let mut below: Option<ItemOrder> = None;
    let mut found: Vec<OrderRow> = Vec::new();
    loop {
        let mut q = amazon_order_item::Entity::find().filter(column.eq(value));
        if let Some(m) = &filter.marketplace_id {
            q = q.filter(I::MarketplaceId.eq(m.trim()));
        }
        if let Some(from) = filter.purchased_from {
            q = q.filter(I::OrderPurchaseDate.gte(from));
        }
        if let Some(to) = filter.purchased_to {
            q = q.filter(I::OrderPurchaseDate.lt(to));
        }
        if let Some((at, _)) = after {
            q = q.filter(I::OrderPurchaseDate.lte(at));
        }
        if let Some(last) = &below {
            q = q.filter(
                Expr::tuple([
                    Expr::col(I::OrderPurchaseDate),
                    Expr::col(I::AmazonOrderId),
                    Expr::col(I::MarketplaceId),
                ])
                .lt(Expr::tuple([
                    Expr::val(last.order_purchase_date),
                    Expr::val(last.amazon_order_id.clone()),
                    Expr::val(last.marketplace_id.clone()),
                ])),
            );
        }
        let mut entries = q
            .order_by_desc(I::OrderPurchaseDate)
            .order_by_desc(I::AmazonOrderId)
            .order_by_desc(I::MarketplaceId)
            .limit(chunk)
            .into_partial_model::<ItemOrder>()
            .all(db)
            .await?;
        let exhausted = (entries.len() as u64) < chunk;
        let keys: std::collections::HashSet<OrderKey> = entries
            .iter()
            .map(|e| (e.amazon_order_id.clone(), e.marketplace_id.clone()))
            .collect();
        if !keys.is_empty() {
            let mut ids: Vec<&String> = keys.iter().map(|(id, _)| id).collect();
            ids.sort_unstable();
            ids.dedup();
            let orders = after_cursor(filtered(&rest), after)
                .filter(amazon_order::Column::AmazonOrderId.is_in(ids.into_iter().cloned()))
                .into_partial_model::<OrderRow>()
                .all(db)
                .await?;
            found.extend(
                orders.into_iter().filter(|o| {
                    keys.contains(&(o.amazon_order_id.clone(), o.marketplace_id.clone()))
                }),
            );
            // Two items of one order may fall in two chunks.
            found.sort_by_key(|o| std::cmp::Reverse((o.purchase_date, o.id)));
            found.dedup_by_key(|o| o.id);
            // The page is the newest `want` of everything found: later chunks
            // bring only orders at most as new, so what is past it now stays past.
            found.truncate(want);
        }
        let Some(last) = entries.pop() else { break };
        // Later entries are at most as new as `last`: once it is older than the
        // page's last order, none of them can be on the page.
        if exhausted
            || found
                .get(want - 1)
                .is_some_and(|o| last.order_purchase_date < o.purchase_date)
        {
            break;
        }
        below = Some(last);
        chunk = Ord::min(chunk * 4, MAX_ITEM_CHUNK);
    }
    Ok(found)
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
        let filter = filter.unwrap_or_default();
        // Counting every match costs a scan of all of them (tens of milliseconds at
        // a million orders), so only a query that asks for the count pays for it.
        let total_count = if ctx.look_ahead().field("totalCount").exists() {
            filtered(&filter).count(db).await?
        } else {
            0
        };

        let after = match &after {
            Some(cursor) => Some(decode_time_id(CURSOR_KIND, cursor)?),
            None => None,
        };
        let spellings = status_spellings(&filter);
        let mut rows = if let Some(item) = item_condition(&filter) {
            page_by_item(db, &filter, item, after, limit).await?
        } else if spellings.is_empty() {
            page_of(db, filtered_but_status(&filter), after, limit).await?
        } else {
            // One bounded scan of the (order_status, purchase_date, id) index per
            // stored spelling, merged here: `order_status IN (…)` cannot be read
            // from that index in order, so PostgreSQL would either sort every
            // match or walk the whole list filtering (10,000 rows for a page of a
            // rare status at a million orders). The scans run at once, each on a
            // connection of its own.
            let scans = spellings.into_iter().map(|spelling| {
                let q = filtered_but_status(&filter)
                    .filter(amazon_order::Column::OrderStatus.eq(spelling));
                page_of(db, q, after, limit)
            });
            let mut rows: Vec<OrderRow> = futures_util::future::try_join_all(scans)
                .await?
                .into_iter()
                .flatten()
                .collect();
            rows.sort_by_key(|o| std::cmp::Reverse((o.purchase_date, o.id)));
            rows.truncate(usize::try_from(limit + 1).unwrap_or(usize::MAX));
            rows
        };
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
        let edges: Vec<AmazonOrderEdge> = rows
            .into_iter()
            .map(|model| {
                let cursor = encode_time_id(CURSOR_KIND, model.purchase_date, model.id);
                let key = (model.amazon_order_id.clone(), model.marketplace_id.clone());
                let items = items
                    .as_mut()
                    .map(|by_order| by_order.remove(&key).unwrap_or_default());
                AmazonOrderEdge {
                    node: AmazonOrder { model, items },
                    cursor,
                }
            })
            .collect();
        Ok(AmazonOrderConnection {
            page_info: PageInfo {
                has_next_page,
                has_previous_page: after.is_some(),
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
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
        let model = amazon_order::Entity::find()
            .filter(amazon_order::Column::AmazonOrderId.eq(amazon_order_id.trim()))
            .order_by_asc(amazon_order::Column::Id)
            .into_partial_model::<OrderRow>()
            .one(db)
            .await?
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "no order {:?} has been synced",
                    amazon_order_id.trim()
                ))
            })?;
        Ok(Some(AmazonOrder { model, items: None }))
    }
}
