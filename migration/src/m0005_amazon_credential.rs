//! Phase 5: the LWA credentials of the connection, sealed at rest.
//!
//! The client secret and refresh token are stored only as ChaCha20-Poly1305
//! ciphertext with their own nonces; `key_id` names the key that sealed them so keys
//! can be rotated.

use crate::columns::{id, timestamp_now};
use crate::m0004_amazon_connection::AmazonConnection;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AmazonCredential {
    Table,
    Id,
    ConnectionId,
    LwaClientId,
    ClientSecretCiphertext,
    ClientSecretNonce,
    RefreshTokenCiphertext,
    RefreshTokenNonce,
    KeyId,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AmazonCredential::Table)
                    .col(id(AmazonCredential::Id))
                    .col(
                        ColumnDef::new(AmazonCredential::ConnectionId)
                            .integer()
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(AmazonCredential::LwaClientId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AmazonCredential::ClientSecretCiphertext)
                            .binary()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AmazonCredential::ClientSecretNonce)
                            .binary()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AmazonCredential::RefreshTokenCiphertext)
                            .binary()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AmazonCredential::RefreshTokenNonce)
                            .binary()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AmazonCredential::KeyId).string().not_null())
                    .col(timestamp_now(AmazonCredential::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("amazon_credential_connection_id_fkey")
                            .from(AmazonCredential::Table, AmazonCredential::ConnectionId)
                            .to(AmazonConnection::Table, AmazonConnection::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AmazonCredential::Table).to_owned())
            .await
    }
}
