//! `marketplaces`: Amazon marketplaces (reference data).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "marketplaces")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub marketplace_id: String,
    /// SP-API region: NA, EU or FE.
    pub region: String,
    pub country_code: String,
    pub name: String,
    /// ISO 4217 code; nullable since phase 11.
    pub currency: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
