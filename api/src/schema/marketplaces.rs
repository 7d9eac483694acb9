//! The marketplaces Amazon has, for choosing the connection's `marketplaceIds`.

use super::connection::Region;
use super::{ApiError, SignedIn, api_context};
use async_graphql::{Context, Object, SimpleObject};
use entity::marketplaces;
use sea_orm::{EntityTrait, QueryOrder};

/// An Amazon marketplace.
#[derive(SimpleObject, Debug)]
pub struct Marketplace {
    /// Amazon's id, e.g. ATVPDKIKX0DER (amazon.com).
    pub marketplace_id: String,
    /// The SP-API region that serves it.
    pub region: Option<Region>,
    /// ISO 3166 country code.
    pub country_code: String,
    /// Its name, e.g. "Amazon.com".
    pub name: String,
    /// ISO 4217 code of its default currency.
    pub currency: Option<String>,
    /// The Seller Central site for it, e.g. `https://sellercentral.amazon.com`;
    /// an order is at `<url>/orders-v3/order/<amazonOrderId>`.
    pub seller_central_url: Option<String>,
}

/// Reading the marketplaces.
#[derive(Default)]
pub struct MarketplacesQuery;

#[Object]
impl MarketplacesQuery {
    /// Every marketplace, by region and country.
    #[graphql(
        guard = "SignedIn",
        complexity = "super::rows_cost(1, child_complexity)"
    )]
    async fn marketplaces(&self, ctx: &Context<'_>) -> Result<Vec<Marketplace>, ApiError> {
        let db = &api_context(ctx)?.db;
        let rows = marketplaces::Entity::find()
            .order_by_asc(marketplaces::Column::Region)
            .order_by_asc(marketplaces::Column::CountryCode)
            .order_by_asc(marketplaces::Column::MarketplaceId)
            .all(db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|m| Marketplace {
                region: match m.region.as_str() {
                    "NA" => Some(Region::Na),
                    "EU" => Some(Region::Eu),
                    "FE" => Some(Region::Fe),
                    _ => None,
                },
                marketplace_id: m.marketplace_id,
                seller_central_url: service::marketplaces::seller_central(&m.country_code)
                    .map(str::to_owned),
                country_code: m.country_code,
                name: m.name,
                currency: m.currency,
            })
            .collect())
    }
}
