//! `amazon_credential`: the connection's LWA credentials, sealed.
//!
//! Only ciphertext and nonces are stored; `service::credentials` seals and opens
//! them. The `Debug` output of this model therefore shows no secret.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "amazon_credential")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub connection_id: i32,
    /// The LWA client id is not a secret (it appears in Seller Central's app list).
    pub lwa_client_id: String,
    pub client_secret_ciphertext: Vec<u8>,
    pub client_secret_nonce: Vec<u8>,
    pub refresh_token_ciphertext: Vec<u8>,
    pub refresh_token_nonce: Vec<u8>,
    /// Which encryption key sealed the values.
    pub key_id: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::amazon_connection::Entity",
        from = "Column::ConnectionId",
        to = "super::amazon_connection::Column::Id",
        on_delete = "Cascade"
    )]
    AmazonConnection,
}

impl Related<super::amazon_connection::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AmazonConnection.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
