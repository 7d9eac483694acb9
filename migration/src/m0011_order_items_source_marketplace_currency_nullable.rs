//! Phase 11 (design 10.4.1): unified `order_items` rows remember which channel line
//! they mirror (`source`, `source_order_item_id`, unique where set), and
//! `marketplaces.currency` becomes nullable (a marketplace may be known before its
//! currency is).

use crate::columns::id;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OrderItems {
    Table,
    Source,
    SourceOrderItemId,
}

#[derive(DeriveIden)]
enum Marketplaces {
    Table,
    Id,
    MarketplaceId,
    Region,
    CountryCode,
    Name,
    Currency,
}

const UNIQUE_SOURCE_ITEM: &str = "CREATE UNIQUE INDEX order_items_source_item_key \
     ON order_items (source, source_order_item_id) WHERE source_order_item_id IS NOT NULL";

/// The marketplaces table as phase 2 made it, with `currency` nullable or not.
fn marketplaces_table(name: impl IntoIden, currency_nullable: bool) -> TableCreateStatement {
    let mut currency = ColumnDef::new(Marketplaces::Currency);
    currency.string();
    if !currency_nullable {
        currency.not_null();
    }
    Table::create()
        .table(name)
        .col(id(Marketplaces::Id))
        .col(
            ColumnDef::new(Marketplaces::MarketplaceId)
                .string()
                .not_null()
                .unique_key(),
        )
        .col(
            ColumnDef::new(Marketplaces::Region)
                .string()
                .not_null()
                .check(Expr::col(Marketplaces::Region).is_in(["NA", "EU", "FE"])),
        )
        .col(
            ColumnDef::new(Marketplaces::CountryCode)
                .string()
                .not_null(),
        )
        .col(ColumnDef::new(Marketplaces::Name).string().not_null())
        .col(currency)
        .to_owned()
}

/// SQLite cannot change a column's nullability in place: rebuild the table, keeping
/// every row and id.
async fn rebuild_marketplaces_sqlite(
    manager: &SchemaManager<'_>,
    currency_nullable: bool,
    null_currency_becomes: Option<&str>,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    manager
        .create_table(marketplaces_table(
            Alias::new("marketplaces_rebuild"),
            currency_nullable,
        ))
        .await?;
    let currency = match null_currency_becomes {
        Some(fallback) => format!("COALESCE(currency, '{fallback}')"),
        None => "currency".to_owned(),
    };
    db.execute_unprepared(&format!(
        "INSERT INTO marketplaces_rebuild (id, marketplace_id, region, country_code, name, currency) \
         SELECT id, marketplace_id, region, country_code, name, {currency} FROM marketplaces"
    ))
    .await?;
    manager
        .drop_table(Table::drop().table(Marketplaces::Table).to_owned())
        .await?;
    manager
        .rename_table(
            Table::rename()
                .table(Alias::new("marketplaces_rebuild"), Marketplaces::Table)
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::columns::add_columns(
            manager,
            OrderItems::Table,
            vec![
                ColumnDef::new(OrderItems::Source).string().to_owned(),
                ColumnDef::new(OrderItems::SourceOrderItemId)
                    .string()
                    .to_owned(),
            ],
        )
        .await?;
        let db = manager.get_connection();
        db.execute_unprepared(UNIQUE_SOURCE_ITEM).await?;
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => rebuild_marketplaces_sqlite(manager, true, None).await,
            _ => {
                db.execute_unprepared(
                    "ALTER TABLE marketplaces ALTER COLUMN currency DROP NOT NULL",
                )
                .await?;
                Ok(())
            }
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A marketplace stored without a currency gets ISO 4217 "XXX" (no currency)
        // so the NOT NULL of phase 2 can come back without losing the row.
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                rebuild_marketplaces_sqlite(manager, false, Some("XXX")).await?
            }
            _ => {
                let db = manager.get_connection();
                db.execute_unprepared(
                    "UPDATE marketplaces SET currency = 'XXX' WHERE currency IS NULL",
                )
                .await?;
                db.execute_unprepared(
                    "ALTER TABLE marketplaces ALTER COLUMN currency SET NOT NULL",
                )
                .await?;
            }
        }
        manager
            .drop_index(
                Index::drop()
                    .name("order_items_source_item_key")
                    .table(OrderItems::Table)
                    .to_owned(),
            )
            .await?;
        crate::columns::drop_columns(
            manager,
            OrderItems::Table,
            vec![
                OrderItems::Source.into_iden(),
                OrderItems::SourceOrderItemId.into_iden(),
            ],
        )
        .await
    }
}
