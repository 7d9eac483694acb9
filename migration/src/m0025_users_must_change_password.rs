//! Phase 25: a one-time password must be changed before anything else.
//!
//! `worker reset-password EMAIL` sets a random password and this flag; the holder
//! may sign in, read who they are and change the password, and nothing else until
//! they do. Existing users start without it.

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
    MustChangePassword,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            Users::Table,
            vec![
                ColumnDef::new(Cols::MustChangePassword)
                    .boolean()
                    .not_null()
                    .default(false)
                    .to_owned(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            manager,
            Users::Table,
            vec![Cols::MustChangePassword.into_iden()],
        )
        .await
    }
}
