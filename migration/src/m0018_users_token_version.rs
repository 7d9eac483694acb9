//! Phase 18: a per-user token version, so sign-in tokens can be revoked.
//!
//! Every token carries the version its user had when it was signed (`ver`);
//! a token whose version is not the user's current one is refused. Changing the
//! password and signing out everywhere add one, which ends every token issued
//! before. Existing users start at 0.

use crate::columns::{add_columns, drop_columns};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
}

#[derive(DeriveIden)]
enum Cols {
    TokenVersion,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            Users::Table,
            vec![
                ColumnDef::new(Cols::TokenVersion)
                    .integer()
                    .not_null()
                    .default(0)
                    .to_owned(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(manager, Users::Table, vec![Cols::TokenVersion.into_iden()]).await
    }
}
