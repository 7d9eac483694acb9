//! Column shapes shared by the migrations, so that a money or time column is the
//! same type everywhere.
//!
//! These helpers are part of the migrations' history: changing one changes what a
//! fresh database gets for every migration that uses it, so treat them as frozen.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

/// An exact decimal amount of money.
///
/// PostgreSQL: `NUMERIC` without a fixed scale, so "0.10" stays "0.10" and JPY "1999"
/// stays "1999". SQLite has no decimal type and would turn a `NUMERIC` or `REAL`
/// column into binary floating point, so there the amount is `TEXT` holding the
/// decimal string.
pub fn money(backend: DatabaseBackend, name: impl IntoIden) -> ColumnDef {
    let mut col = ColumnDef::new(name);
    match backend {
        DatabaseBackend::Sqlite => col.custom(Alias::new("TEXT")),
        _ => col.custom(Alias::new("NUMERIC")),
    };
    col
}

/// A point in time, always UTC with time zone.
pub fn timestamp(name: impl IntoIden) -> ColumnDef {
    let mut col = ColumnDef::new(name);
    col.timestamp_with_time_zone();
    col
}

/// `created_at`/`updated_at` style column that defaults to now.
pub fn timestamp_now(name: impl IntoIden) -> ColumnDef {
    let mut col = timestamp(name);
    col.not_null().default(Expr::current_timestamp());
    col
}

/// A JSON document: `jsonb` on PostgreSQL, text on SQLite.
pub fn json(name: impl IntoIden) -> ColumnDef {
    let mut col = ColumnDef::new(name);
    col.json_binary();
    col
}

/// A 64-bit auto-incrementing primary key.
pub fn id(name: impl IntoIden) -> ColumnDef {
    let mut col = ColumnDef::new(name);
    col.big_integer().not_null().auto_increment().primary_key();
    col
}

/// Adds columns one statement at a time (SQLite accepts one change per `ALTER TABLE`).
pub async fn add_columns(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    columns: Vec<ColumnDef>,
) -> Result<(), DbErr> {
    let table = table.into_iden();
    for mut col in columns {
        manager
            .alter_table(
                Table::alter()
                    .table(table.clone())
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

/// Drops columns one statement at a time, in reverse order of their addition.
pub async fn drop_columns(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    columns: Vec<DynIden>,
) -> Result<(), DbErr> {
    let table = table.into_iden();
    for col in columns.into_iter().rev() {
        manager
            .alter_table(
                Table::alter()
                    .table(table.clone())
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}
