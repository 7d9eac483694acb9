//! An order's lines: the `AmazonOrderItem` type, and the list `AmazonOrder.items`
//! builds as one value in one pass over the selection (see [`ItemList`]).

use super::ApiError;
use super::money::{Money, money};
use async_graphql::indexmap::IndexMap;
use async_graphql::{ComplexObject, SimpleObject};
use async_graphql::{Name, Value};
use rust_decimal::Decimal;
use service::orders::ItemRow;
use std::borrow::Cow;

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
    pub(crate) fn unit_price_value(&self) -> Option<Money> {
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
    /// The list `items` makes for `field` (an `items` field), as its selection asks.
    ///
    /// # Errors
    /// [`ApiError::Internal`] for a selected field this resolver was not taught.
    pub(crate) fn of(
        field: async_graphql::SelectionField<'_>,
        items: &[AmazonOrderItem],
    ) -> Result<Self, ApiError> {
        let selection = item_selection(field.selection_set())?;
        Ok(Self::resolved(&selection, items))
    }
}

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
