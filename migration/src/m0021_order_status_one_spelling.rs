//! Phase 21: one stored spelling per order status.
//!
//! Statuses are stored in the Orders v0 spelling (`PartiallyShipped`, `Canceled`);
//! rows written in the 2026-01-01 spelling (`PARTIALLY_SHIPPED`) or the British
//! `Cancelled` are rewritten, in `amazon_order.order_status` and `orders.status`, so
//! a status filter is one equality on the status index. Statuses this version does
//! not know stay as they are. `down` leaves the rows in the one spelling: every
//! spelling meant the same status, and the code of every phase reads it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (stored spelling, the other spellings it replaces).
const SPELLINGS: [(&str, &[&str]); 8] = [
    ("PendingAvailability", &["PENDING_AVAILABILITY"]),
    ("Pending", &["PENDING"]),
    ("Unshipped", &["UNSHIPPED"]),
    ("PartiallyShipped", &["PARTIALLY_SHIPPED"]),
    ("Shipped", &["SHIPPED"]),
    ("Canceled", &["CANCELED", "Cancelled", "CANCELLED"]),
    ("InvoiceUnconfirmed", &["INVOICE_UNCONFIRMED"]),
    ("Unfulfillable", &["UNFULFILLABLE"]),
];

#[derive(DeriveIden)]
enum AmazonOrder {
    Table,
    OrderStatus,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Status,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (one, others) in SPELLINGS {
            manager
                .exec_stmt(
                    Query::update()
                        .table(AmazonOrder::Table)
                        .value(AmazonOrder::OrderStatus, one)
                        .and_where(
                            Expr::col(AmazonOrder::OrderStatus).is_in(others.iter().copied()),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .exec_stmt(
                    Query::update()
                        .table(Orders::Table)
                        .value(Orders::Status, one)
                        .and_where(Expr::col(Orders::Status).is_in(others.iter().copied()))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
