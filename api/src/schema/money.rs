//! Exact amounts with their currency, as every type that shows money answers them.

use async_graphql::SimpleObject;
use entity::Amount;
use rust_decimal::Decimal;

/// An exact amount of money.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct Money {
    /// The amount as a decimal string, exactly as Amazon reported it (e.g. "19.90").
    pub amount: Decimal,
    /// ISO 4217 currency code.
    pub currency_code: String,
}

pub(crate) fn money(amount: Option<Amount>, currency: Option<&String>) -> Option<Money> {
    Some(Money {
        amount: amount?.decimal(),
        currency_code: currency?.clone(),
    })
}
