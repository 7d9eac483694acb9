//! Which Orders API a connection speaks and a run spoke: shared by the connection
//! and the sync-run roots, so neither imports the other.

use async_graphql::Enum;
use entity::enums;

/// Which Orders API the sync speaks.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum OrdersApiVersion {
    /// `searchOrders` with items inline (the default).
    #[default]
    #[graphql(name = "V2026_01_01")]
    V2026_01_01,
    /// `getOrders` and `getOrderItems`; deprecated by Amazon.
    #[graphql(name = "V0")]
    V0,
}

impl From<enums::OrdersApiVersion> for OrdersApiVersion {
    fn from(v: enums::OrdersApiVersion) -> Self {
        match v {
            enums::OrdersApiVersion::V2026_01_01 => Self::V2026_01_01,
            enums::OrdersApiVersion::V0 => Self::V0,
        }
    }
}

impl From<OrdersApiVersion> for enums::OrdersApiVersion {
    fn from(v: OrdersApiVersion) -> Self {
        match v {
            OrdersApiVersion::V2026_01_01 => Self::V2026_01_01,
            OrdersApiVersion::V0 => Self::V0,
        }
    }
}
